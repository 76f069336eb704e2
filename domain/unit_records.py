"""A union's own records: its 民主评议 meetings and its 解困脱困考核表, in a stream of the unit.

The base union appraises its candidates in a meeting (民主评议, seed 003's template 4 "民主评议
会议记录"): who attended, and for each file put to the meeting the votes for, against and
abstaining. Each file's appraisal then cites the meeting (`HouseholdFile.appraise(meeting=…)`),
which must be of the file's own union, list the file, and have passed it; the 困难职工名单公示 of
the meeting is its files. The unit's 考核表 (seed 002 表六) holds, for a period, the expected
goals, the measures and how far each was completed, with the unit's and the assessing office's
opinions.

One stream per unit (`unit_records_id`), derived from its code so that anyone finds it. A meeting
is recorded whole: `MeetingHeld`, then one `FileVoted` per file, each referring to its file (the
file's trail shows the vote). The events are filed under the unit, so a node's sync feed carries
them upstream with its files (adapters/sync/feed.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.authorization import Act, authorise
from domain.errors import InvalidValue, NotFound, RuleViolated
from domain.units import UnitCode
from domain.values import Actor, Level, business_date

_NAMESPACE = UUID("2f0c8e5a-1b7d-4c3e-9a6f-756e69747265")  # fixed: unit stream ids are derived
MAX_NAME = 64
MAX_TEXT = 2000
MAX_ATTENDEES = 500
MAX_VOTES = 1000
MAX_ITEMS = 50


def unit_records_id(unit: str) -> UUID:
    """The stream of a unit's own records: derived from its code."""
    return uuid5(_NAMESPACE, f"unit-records:{unit}")


def _text(value: object, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise InvalidValue(field, "must be text", zh="须为文本")
    stripped = value.strip()
    if required and not stripped:
        raise InvalidValue(field, "must not be empty", zh="不能为空")
    if len(stripped) > limit:
        raise InvalidValue(field, f"longer than {limit} characters", zh=f"不能超过{limit}个字符")
    if "\x00" in stripped:
        raise InvalidValue(field, "contains a NUL character", zh="含有非法字符")
    return stripped


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        raise InvalidValue(field, "a whole number from 0", zh="须为非负整数")
    return value


@dataclass(frozen=True, slots=True)
class Vote:
    """The votes on one file at a meeting (表决结果)."""

    file_id: UUID
    in_favour: int
    against: int
    abstaining: int

    def passed(self, present: int) -> bool:
        """More than half of those present voted for (民主评议: 过半数同意)."""
        return self.in_favour * 2 > present


@dataclass(frozen=True, slots=True)
class Meeting:
    """A 民主评议 meeting as recorded: what the appraisal of a file cites."""

    meeting_id: UUID
    unit: str
    held_on: date
    place: str
    chair: str  # 主持人
    recorder: str  # 记录人
    attendees: tuple[str, ...]  # 参会人员
    expected: int  # 应到人数
    summary: str  # 会议内容及评议情况
    votes: tuple[Vote, ...] = ()

    @property
    def present(self) -> int:
        return len(self.attendees)

    def vote_of(self, file_id: UUID) -> Vote | None:
        return next((v for v in self.votes if v.file_id == file_id), None)

    @property
    def file_ids(self) -> tuple[UUID, ...]:
        return tuple(v.file_id for v in self.votes)


@dataclass(frozen=True, slots=True)
class AssessmentItem:
    """One row of the 考核表: an expected goal, its measures, and how far it was completed."""

    goal: str  # 预期目标
    measures: str  # 措施
    completion: str  # 目标完成情况


@dataclass(frozen=True, slots=True)
class Assessment:
    """A unit's 解困脱困考核表 for a period, as recorded (the latest of a period is in force)."""

    period: str
    recorded_on: date
    items: tuple[AssessmentItem, ...]
    opinion: str  # 帮扶单位（组长单位）意见
    responsible: str  # 负责人
    liaison: str  # 联络人
    reviewer_opinion: str  # 考核单位（“双联”办）意见


def _period(value: object) -> str:
    """A year (2026), quarter (2026-Q2) or month (2026-05), as the unit forms' periods."""
    text = value if isinstance(value, str) else ""
    year = len(text) >= 4 and text[:4].isdigit()
    quarter = len(text) == 7 and text[4:6] == "-Q" and text[6] in "1234"
    month = len(text) == 7 and text[4] == "-" and text[5:].isdigit() and 1 <= int(text[5:]) <= 12
    ok = year and (len(text) == 4 or quarter or month)
    if not ok:
        raise InvalidValue(
            "period",
            "a year (2026), quarter (2026-Q2) or month (2026-05)",
            zh="期间格式应为2026、2026-Q2或2026-05",
        )
    return text


class UnitRecords(Aggregate):
    """The records a union keeps of its own work: meetings and assessments."""

    class Opened(Aggregate.Created):
        actor: Actor
        unit: str

    class MeetingHeld(Aggregate.Event):
        actor: Actor
        meeting_id: UUID
        held_on: date
        place: str
        chair: str
        recorder: str
        attendees: tuple[str, ...]
        expected: int
        summary: str

    class FileVoted(Aggregate.Event):
        actor: Actor
        meeting_id: UUID
        file_id: UUID
        in_favour: int
        against: int
        abstaining: int

    class AssessmentRecorded(Aggregate.Event):
        actor: Actor
        period: str
        recorded_on: date
        items: tuple[AssessmentItem, ...]
        opinion: str
        responsible: str
        liaison: str
        reviewer_opinion: str

    @classmethod
    def open(cls, *, actor: Actor, unit: str) -> UnitRecords:
        """The stream of `unit`'s records (opened by its first record)."""
        code = UnitCode(unit)
        authorise(actor, Act.READ, code)
        return cls._create(cls.Opened, id=unit_records_id(code.value), actor=actor, unit=code.value)

    @event(Opened)
    def __init__(self, *, actor: Actor, unit: str) -> None:
        self.unit = unit
        self.meetings: tuple[Meeting, ...] = ()
        self.assessments: tuple[Assessment, ...] = ()

    # ------------------------------------------------------------------ 民主评议会议

    def hold_meeting(
        self,
        *,
        actor: Actor,
        meeting_id: UUID,
        held_on: date,
        place: str,
        chair: str,
        recorder: str,
        attendees: Sequence[str],
        expected: int,
        summary: str,
        votes: Sequence[Vote],
        file_units: Mapping[UUID, str],
        today: date,
    ) -> Meeting:
        """Record a 民主评议 meeting of this base union and its votes, one per file put to it.

        `file_units`: the establishing unit of each voted file as stored (the use case looks
        them up); a file not there does not exist for the caller."""
        authorise(actor, Act.RECORD_MEETING, UnitCode(self.unit))
        if UnitCode(self.unit).level is not Level.BASE:
            raise RuleViolated(
                "meeting_of_a_base_union",
                f"a 民主评议 meeting is held by a base-level union; {self.unit} is not one",
                zh="民主评议会议由基层工会召开",
                field="unit",
            )
        if any(m.meeting_id == meeting_id for m in self.meetings):
            raise RuleViolated(
                "meeting_recorded",
                f"meeting {meeting_id} is already recorded",
                zh="该会议已记录",
                field="meeting_id",
            )
        on = business_date(held_on, today=today, field="held_on")
        names = tuple(_text(a, "attendees", limit=MAX_NAME) for a in attendees)
        if not names or len(names) > MAX_ATTENDEES:
            raise InvalidValue(
                "attendees",
                f"name the attendees (1 to {MAX_ATTENDEES})",
                zh=f"须列出参会人员（1至{MAX_ATTENDEES}人）",
            )
        if len(set(names)) != len(names):
            raise InvalidValue("attendees", "an attendee is named twice", zh="参会人员有重复")
        due = _count(expected, "expected")
        if due < len(names):
            raise InvalidValue(
                "expected",
                f"{due} expected but {len(names)} attended",
                zh=f"应到{due}人，少于实到{len(names)}人",
            )
        if not votes or len(votes) > MAX_VOTES:
            raise InvalidValue(
                "votes",
                f"a meeting votes on 1 to {MAX_VOTES} files",
                zh=f"须有评议对象（1至{MAX_VOTES}户）",
            )
        seen: set[UUID] = set()
        for i, v in enumerate(votes):
            field = f"votes[{i}]"
            if not isinstance(v, Vote) or not isinstance(v.file_id, UUID):
                raise InvalidValue(field, "a file and its votes", zh="须为档案及表决票数")
            if v.file_id in seen:
                raise InvalidValue(field, "a file is voted on twice", zh="同一档案重复评议")
            seen.add(v.file_id)
            if file_units.get(v.file_id) != self.unit:
                raise RuleViolated(
                    "voted_file_of_the_union",
                    f"file {v.file_id} is not a file of union {self.unit}",
                    zh="评议对象须为本工会的档案",
                    field=f"{field}.file_id",
                )
            cast = sum(
                _count(n, f"{field}.{name}")
                for n, name in (
                    (v.in_favour, "in_favour"),
                    (v.against, "against"),
                    (v.abstaining, "abstaining"),
                )
            )
            if cast > len(names):
                raise InvalidValue(
                    field,
                    f"{cast} votes cast but {len(names)} attended",
                    zh=f"表决票数{cast}超过实到人数{len(names)}",
                )
        self._meeting_held(
            actor=actor,
            meeting_id=meeting_id,
            held_on=on,
            place=_text(place, "place", limit=200),
            chair=_text(chair, "chair", limit=MAX_NAME),
            recorder=_text(recorder, "recorder", limit=MAX_NAME),
            attendees=names,
            expected=due,
            summary=_text(summary, "summary"),
        )
        for v in votes:
            self._file_voted(
                actor=actor,
                meeting_id=meeting_id,
                file_id=v.file_id,
                in_favour=v.in_favour,
                against=v.against,
                abstaining=v.abstaining,
            )
        return self.meeting(meeting_id)

    @event(MeetingHeld)
    def _meeting_held(
        self,
        *,
        actor: Actor,
        meeting_id: UUID,
        held_on: date,
        place: str,
        chair: str,
        recorder: str,
        attendees: tuple[str, ...],
        expected: int,
        summary: str,
    ) -> None:
        held = Meeting(
            meeting_id, self.unit, held_on, place, chair, recorder, attendees, expected, summary
        )
        self.meetings = (*self.meetings, held)

    @event(FileVoted)
    def _file_voted(
        self,
        *,
        actor: Actor,
        meeting_id: UUID,
        file_id: UUID,
        in_favour: int,
        against: int,
        abstaining: int,
    ) -> None:
        vote = Vote(file_id, in_favour, against, abstaining)
        self.meetings = tuple(
            Meeting(
                m.meeting_id,
                m.unit,
                m.held_on,
                m.place,
                m.chair,
                m.recorder,
                m.attendees,
                m.expected,
                m.summary,
                (*m.votes, vote),
            )
            if m.meeting_id == meeting_id
            else m
            for m in self.meetings
        )

    def meeting(self, meeting_id: UUID) -> Meeting:
        found = next((m for m in self.meetings if m.meeting_id == meeting_id), None)
        if found is None:
            raise NotFound(
                f"no meeting {meeting_id} of unit {self.unit}", zh="未找到该民主评议会议"
            )
        return found

    # ------------------------------------------------------------------ 考核表

    def assess(
        self,
        *,
        actor: Actor,
        period: str,
        recorded_on: date,
        items: Sequence[AssessmentItem],
        opinion: str = "",
        responsible: str = "",
        liaison: str = "",
        reviewer_opinion: str = "",
        today: date,
    ) -> Assessment:
        """Record the unit's 考核表 for `period` (a later one for the same period corrects it)."""
        authorise(actor, Act.RECORD_ASSESSMENT, UnitCode(self.unit))
        stated = _period(period)
        on = business_date(recorded_on, today=today, field="recorded_on")
        if not items or len(items) > MAX_ITEMS:
            raise InvalidValue(
                "items",
                f"1 to {MAX_ITEMS} goals with their measures",
                zh=f"须填写预期目标及措施（1至{MAX_ITEMS}项）",
            )
        rows: list[AssessmentItem] = []
        for i, item in enumerate(items):
            if not isinstance(item, AssessmentItem):
                raise InvalidValue(f"items[{i}]", "a goal, measures, completion", zh="考核项无效")
            rows.append(
                AssessmentItem(
                    goal=_text(item.goal, f"items[{i}].goal"),
                    measures=_text(item.measures, f"items[{i}].measures"),
                    completion=_text(item.completion, f"items[{i}].completion", required=False),
                )
            )
        self._assessment_recorded(
            actor=actor,
            period=stated,
            recorded_on=on,
            items=tuple(rows),
            opinion=_text(opinion, "opinion", required=False),
            responsible=_text(responsible, "responsible", required=False, limit=MAX_NAME),
            liaison=_text(liaison, "liaison", required=False, limit=MAX_NAME),
            reviewer_opinion=_text(reviewer_opinion, "reviewer_opinion", required=False),
        )
        found = self.assessment(stated)
        assert found is not None  # noqa: S101 — just recorded
        return found

    @event(AssessmentRecorded)
    def _assessment_recorded(
        self,
        *,
        actor: Actor,
        period: str,
        recorded_on: date,
        items: tuple[AssessmentItem, ...],
        opinion: str,
        responsible: str,
        liaison: str,
        reviewer_opinion: str,
    ) -> None:
        recorded = Assessment(
            period, recorded_on, items, opinion, responsible, liaison, reviewer_opinion
        )
        self.assessments = (*self.assessments, recorded)

    def assessment(self, period: str) -> Assessment | None:
        """The 考核表 in force for `period`: the latest recorded for it."""
        found = [a for a in self.assessments if a.period == period]
        return found[-1] if found else None
