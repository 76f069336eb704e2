"""Routes for a union's own records (`domain.unit_records`): its 民主评议 meetings and 考核表.

    POST /api/v1/units/{code}/meetings              record a base union's appraisal meeting
    GET  /api/v1/units/{code}/meetings?period=P     the meetings of the unions within `code`
    POST /api/v1/units/{code}/assessments           record the unit's 考核表 for a period
    GET  /api/v1/units/{code}/assessments/{period}  the 考核表 in force for the period

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

from typing import Annotated, Any
from uuid import UUID, uuid4

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery

from adapters.forms.unit import period_bounds
from adapters.http.schemas import EXAMPLES, AssessmentIn, MeetingIn
from adapters.pg.unit_records import PgUnitRecords
from adapters.runtime.bootstrap import Runtime
from domain.unit_records import Assessment, AssessmentItem, Meeting, Vote
from domain.values import Actor

API = "/api/v1"


class VoteOut(msgspec.Struct, kw_only=True):
    file_id: UUID
    in_favour: int
    against: int
    abstaining: int
    passed: bool


class MeetingOut(msgspec.Struct, kw_only=True):
    meeting_id: UUID
    unit: str
    held_on: str
    place: str
    chair: str
    recorder: str
    attendees: list[str]
    expected: int
    present: int
    summary: str
    votes: list[VoteOut]


class AssessmentItemOut(msgspec.Struct, kw_only=True):
    goal: str
    measures: str
    completion: str


class AssessmentOut(msgspec.Struct, kw_only=True):
    unit: str
    period: str
    recorded_on: str
    items: list[AssessmentItemOut]
    opinion: str
    responsible: str
    liaison: str
    reviewer_opinion: str


def meeting_out(m: Meeting) -> MeetingOut:
    return MeetingOut(
        meeting_id=m.meeting_id,
        unit=m.unit,
        held_on=m.held_on.isoformat(),
        place=m.place,
        chair=m.chair,
        recorder=m.recorder,
        attendees=list(m.attendees),
        expected=m.expected,
        present=m.present,
        summary=m.summary,
        votes=[
            VoteOut(
                file_id=v.file_id,
                in_favour=v.in_favour,
                against=v.against,
                abstaining=v.abstaining,
                passed=v.passed(m.present),
            )
            for v in m.votes
        ],
    )


def assessment_out(unit: str, a: Assessment) -> AssessmentOut:
    return AssessmentOut(
        unit=unit,
        period=a.period,
        recorded_on=a.recorded_on.isoformat(),
        items=[
            AssessmentItemOut(goal=i.goal, measures=i.measures, completion=i.completion)
            for i in a.items
        ],
        opinion=a.opinion,
        responsible=a.responsible,
        liaison=a.liaison,
        reviewer_opinion=a.reviewer_opinion,
    )


def _body(body: type) -> Any:
    return Annotated[
        body,
        Body(
            media_type=RequestEncodingType.JSON,
            examples=[Example(summary="example", value=EXAMPLES[body])],
        ),
    ]


def routes(problems: dict[int, ResponseSpec]) -> list[Any]:
    """The route handlers of unit records."""

    @post(
        f"{API}/units/{{code:str}}/meetings",
        status_code=201,
        responses=problems,
        tags=["units"],
        summary="民主评议会议记录 — record a base union's appraisal meeting",
        description="The meeting (date, place, chair, recorder, attendees, how many were "
        "expected), what it discussed, and for each file put to it the votes for, against and "
        "abstaining. Only a base-level union's clerk or approver; every file must be that "
        "union's. An appraisal then cites the meeting by `meeting_id`.",
    )
    async def record_meeting(
        code: FromPath[str],
        data: _body(MeetingIn),  # type: ignore[valid-type]  # litestar reads the annotation
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> MeetingOut:
        body: MeetingIn = data
        held = await PgUnitRecords(rt.store, rt.codec).record_meeting(
            actor=actor,
            clock=rt.clock,
            files=rt.files,
            unit=code,
            meeting_id=body.meeting_id or uuid4(),
            held_on=body.held_on,
            place=body.place,
            chair=body.chair,
            recorder=body.recorder,
            attendees=body.attendees,
            expected=body.expected,
            summary=body.summary,
            votes=[Vote(v.file_id, v.in_favour, v.against, v.abstaining) for v in body.votes],
        )
        return meeting_out(held)

    @get(
        f"{API}/units/{{code:str}}/meetings",
        responses=problems,
        tags=["units"],
        summary="民主评议会议 — the meetings of the unions within a unit",
        description="Oldest first; `period` (`2026`, `2026-Q2`, `2026-05`) keeps those held in it.",
    )
    async def list_meetings(
        code: FromPath[str],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        period: FromQuery[str | None] = None,
    ) -> list[MeetingOut]:
        start, end = period_bounds(period) if period else (None, None)
        found = await PgUnitRecords(rt.store, rt.codec).meetings(
            actor=actor, unit=code, start=start, end=end
        )
        return [meeting_out(m) for m in found]

    @post(
        f"{API}/units/{{code:str}}/assessments",
        status_code=201,
        responses=problems,
        tags=["units"],
        summary="解困脱困考核表 — record a unit's goals, measures and completion",
        description="For a period (`2026`, `2026-Q2`, `2026-05`): each expected goal with its "
        "measures and how far it was completed, and the opinions. A later one for the same "
        "period corrects it (the latest is printed).",
    )
    async def record_assessment(
        code: FromPath[str],
        data: _body(AssessmentIn),  # type: ignore[valid-type]  # litestar reads the annotation
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> AssessmentOut:
        body: AssessmentIn = data
        recorded = await PgUnitRecords(rt.store, rt.codec).assess(
            actor=actor,
            clock=rt.clock,
            unit=code,
            period=body.period,
            recorded_on=body.recorded_on,
            items=[AssessmentItem(i.goal, i.measures, i.completion) for i in body.items],
            opinion=body.opinion,
            responsible=body.responsible,
            liaison=body.liaison,
            reviewer_opinion=body.reviewer_opinion,
        )
        return assessment_out(code, recorded)

    @get(
        f"{API}/units/{{code:str}}/assessments/{{period:str}}",
        responses=problems,
        tags=["units"],
        summary="解困脱困考核表 — a unit's assessment for a period",
    )
    async def read_assessment(
        code: FromPath[str],
        period: FromPath[str],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> AssessmentOut:
        found = await PgUnitRecords(rt.store, rt.codec).assessment(
            actor=actor, unit=code, period=period
        )
        return assessment_out(code, found)

    return [record_meeting, list_meetings, record_assessment, read_assessment]
