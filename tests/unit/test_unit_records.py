"""A union's own records: its 民主评议 meetings, which an appraisal cites, and its 考核表."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.errors import DomainError, InvalidValue, OutOfScope, RuleViolated
from domain.household import HouseholdFile
from domain.unit_records import (
    AssessmentItem,
    Meeting,
    UnitRecords,
    Vote,
    unit_records_id,
)
from domain.values import Status

from .given import (
    APPRAISED_ON,
    BASE,
    CLERK,
    DISTRICT,
    DISTRICT_CLERK,
    OTHER_BASE,
    OTHER_CLERK,
    TODAY,
    appraising,
    given,
    history,
    then,
    then_refused,
    when,
)

FILE = history(Status.VERIFIED)
PEOPLE = ("刘建国", "陈丽", "王海燕", "孙志刚", "周春梅")
MEETING = UUID("3d1f4b6a-0c2e-4f8a-9b7d-5e6f70819203")


def verified() -> HouseholdFile:
    return given(*FILE)


def records(unit: str = BASE) -> UnitRecords:
    """A union's records with nothing recorded yet but their opening."""
    opened = UnitRecords.open(actor=CLERK if unit == BASE else DISTRICT_CLERK, unit=unit)
    opened.collect_events()
    return opened


def meeting_args(file_id: UUID, **overrides: Any) -> dict[str, Any]:
    return {
        "actor": CLERK,
        "meeting_id": MEETING,
        "held_on": APPRAISED_ON,
        "place": "机械厂工会会议室",
        "chair": PEOPLE[0],
        "recorder": PEOPLE[1],
        "attendees": PEOPLE,
        "expected": 7,
        "summary": "评议申请建档职工家庭困难情况，逐户无记名表决",
        "votes": [Vote(file_id, 4, 1, 0)],
        "file_units": {file_id: BASE},
        "today": TODAY,
        **overrides,
    }


def holding(file_id: UUID, **overrides: Any) -> Any:
    return lambda r: r.hold_meeting(**meeting_args(file_id, **overrides))


def held(file: HouseholdFile, **overrides: Any) -> Meeting:
    book = records()
    return book.hold_meeting(**meeting_args(file.id, **overrides))


def unchanged_by(book: UnitRecords, command: Any) -> Exception:
    """Run a refused command: it raises, and the records are as before."""
    before = (book.version, len(book.pending_events), book.meetings, book.assessments)
    with pytest.raises(DomainError) as refused:
        command(book)
    assert (book.version, len(book.pending_events), book.meetings, book.assessments) == before
    return refused.value


class TestAMeeting:
    def test_records_the_meeting_then_one_vote_per_file_each_referring_to_it(self):
        book, file = records(), verified()

        book.hold_meeting(**meeting_args(file.id))

        held_event, vote = book.collect_events()
        assert isinstance(held_event, UnitRecords.MeetingHeld)
        assert (held_event.meeting_id, held_event.held_on, held_event.attendees) == (
            MEETING,
            APPRAISED_ON,
            PEOPLE,
        )
        assert isinstance(vote, UnitRecords.FileVoted)
        assert (vote.file_id, vote.in_favour, vote.against, vote.abstaining) == (file.id, 4, 1, 0)
        assert book.meeting(MEETING).vote_of(file.id) == Vote(file.id, 4, 1, 0)

    def test_lives_in_the_unions_own_stream(self):
        assert records().id == unit_records_id(BASE) != unit_records_id(OTHER_BASE)

    @pytest.mark.parametrize(
        ("overrides", "error", "field"),
        [
            ({"attendees": ()}, InvalidValue, "attendees"),
            ({"attendees": (*PEOPLE, PEOPLE[0])}, InvalidValue, "attendees"),
            ({"expected": 3}, InvalidValue, "expected"),
            ({"summary": " "}, InvalidValue, "summary"),
            ({"chair": ""}, InvalidValue, "chair"),
            ({"votes": []}, InvalidValue, "votes"),
            ({"held_on": TODAY + timedelta(days=1)}, InvalidValue, "held_on"),
        ],
    )
    def test_is_refused_with_bad_input_recording_nothing(
        self, overrides: dict[str, Any], error: type[Exception], field: str
    ):
        book, file = records(), verified()

        refused = unchanged_by(book, holding(file.id, **overrides))

        assert isinstance(refused, error)
        assert getattr(refused, "field", None) == field

    def test_is_refused_when_votes_exceed_those_present(self):
        book, file = records(), verified()

        refused = unchanged_by(book, holding(file.id, votes=[Vote(file.id, 4, 1, 1)]))

        assert isinstance(refused, InvalidValue)

    def test_is_refused_for_a_file_of_another_union_or_none(self):
        book, file = records(), verified()

        elsewhere = unchanged_by(book, holding(file.id, file_units={file.id: OTHER_BASE}))
        unknown = unchanged_by(book, holding(file.id, file_units={}))

        assert isinstance(elsewhere, RuleViolated)
        assert elsewhere.rule == "voted_file_of_the_union"
        assert isinstance(unknown, RuleViolated)
        assert str(unknown) != ""
        assert unknown.rule == elsewhere.rule

    def test_is_refused_above_a_base_union(self):
        book, file = records(DISTRICT), verified()

        refused = unchanged_by(
            book, holding(file.id, actor=DISTRICT_CLERK, file_units={file.id: DISTRICT})
        )

        assert isinstance(refused, RuleViolated)
        assert refused.rule == "meeting_of_a_base_union"

    def test_is_refused_to_a_clerk_of_another_union(self):
        book, file = records(), verified()

        refused = unchanged_by(book, holding(file.id, actor=OTHER_CLERK))

        assert isinstance(refused, OutOfScope)

    def test_is_recorded_once(self):
        book, file = records(), verified()
        book.hold_meeting(**meeting_args(file.id))
        book.collect_events()

        refused = unchanged_by(book, holding(file.id))

        assert isinstance(refused, RuleViolated)
        assert refused.rule == "meeting_recorded"


class TestAnAppraisalCitingAMeeting:
    def test_records_the_meeting_and_the_minutes_on_file(self):
        file = verified()
        meeting = held(file)

        outcome = when(file, appraising(meeting_id=MEETING, meeting=meeting))

        then(outcome, HouseholdFile.Appraised, meeting_id=MEETING, minutes_on_file=True)
        assert file.appraisal_meeting == MEETING

    def test_without_a_meeting_records_none(self):
        file = verified()

        outcome = when(file, appraising())

        then(outcome, HouseholdFile.Appraised, meeting_id=None)

    def test_is_refused_when_the_union_recorded_no_such_meeting(self):
        file = verified()

        outcome = when(file, appraising(meeting_id=uuid4(), meeting=None))

        then_refused(outcome, RuleViolated, rule="meeting_recorded", field="meeting_id")

    def test_is_refused_when_the_meeting_did_not_vote_on_the_file(self):
        file, stranger = verified(), uuid4()
        meeting = held(file, votes=[Vote(stranger, 5, 0, 0)], file_units={stranger: BASE})

        outcome = when(file, appraising(meeting_id=MEETING, meeting=meeting))

        then_refused(outcome, RuleViolated, rule="file_voted_at_meeting")

    def test_is_refused_when_the_meeting_is_another_unions(self):
        file = verified()
        meeting = held(file)
        elsewhere = Meeting(**{**_fields(meeting), "unit": OTHER_BASE})

        outcome = when(file, appraising(meeting_id=MEETING, meeting=elsewhere))

        then_refused(outcome, RuleViolated, rule="meeting_of_the_union")

    def test_is_refused_when_not_more_than_half_voted_for(self):
        file = verified()
        meeting = held(file, votes=[Vote(file.id, 2, 2, 1)])

        outcome = when(file, appraising(meeting_id=MEETING, meeting=meeting))

        then_refused(outcome, RuleViolated, rule="appraisal_passed")

    def test_is_refused_on_another_day_than_the_meetings(self):
        file = verified()
        meeting = held(file)

        outcome = when(
            file,
            appraising(
                meeting_id=MEETING, meeting=meeting, appraised_on=APPRAISED_ON - timedelta(days=1)
            ),
        )

        then_refused(outcome, RuleViolated, rule="appraised_on_meeting_day")

    def test_is_refused_when_it_says_the_minutes_are_missing(self):
        file = verified()
        meeting = held(file)

        outcome = when(file, appraising(meeting_id=MEETING, meeting=meeting, minutes_on_file=False))

        then_refused(outcome, RuleViolated, rule="appraisal_minutes")


def _fields(meeting: Meeting) -> dict[str, Any]:
    return {name: getattr(meeting, name) for name in Meeting.__slots__}


ITEMS = (
    AssessmentItem("帮助2户困难职工解困脱困", "一户一策，落实医保和就业帮扶", "已完成2户"),
    AssessmentItem("走访全覆盖", "每季度入户走访", "完成"),
)


class TestAnAssessment:
    def test_records_the_goals_measures_and_completion_of_the_period(self):
        book = records()

        book.assess(
            actor=CLERK,
            period="2026",
            recorded_on=TODAY,
            items=ITEMS,
            opinion="目标完成",
            responsible="刘建国",
            liaison="陈丽",
            today=TODAY,
        )

        (recorded,) = book.collect_events()
        assert isinstance(recorded, UnitRecords.AssessmentRecorded)
        assert (recorded.period, recorded.items, recorded.responsible) == ("2026", ITEMS, "刘建国")
        found = book.assessment("2026")
        assert found is not None
        assert found.items == ITEMS

    def test_a_later_one_for_the_period_is_in_force(self):
        book = records()
        book.assess(actor=CLERK, period="2026", recorded_on=TODAY, items=ITEMS, today=TODAY)

        book.assess(actor=CLERK, period="2026", recorded_on=TODAY, items=ITEMS[:1], today=TODAY)

        found = book.assessment("2026")
        assert found is not None
        assert found.items == ITEMS[:1]
        assert book.assessment("2025") is None

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"period": "2026-13"}, "period"),
            ({"period": "26"}, "period"),
            ({"items": ()}, "items"),
            ({"items": (AssessmentItem(" ", "措施", ""),)}, "items[0].goal"),
            ({"recorded_on": TODAY + timedelta(days=1)}, "recorded_on"),
        ],
    )
    def test_is_refused_with_bad_input_recording_nothing(
        self, overrides: dict[str, Any], field: str
    ):
        book = records()
        args: dict[str, Any] = {
            "actor": CLERK,
            "period": "2026",
            "recorded_on": TODAY,
            "items": ITEMS,
            "today": TODAY,
        }

        refused = unchanged_by(book, lambda r: r.assess(**{**args, **overrides}))

        assert isinstance(refused, InvalidValue)
        assert refused.field == field

    def test_is_refused_to_a_clerk_of_another_union(self):
        book = records()

        refused = unchanged_by(
            book,
            lambda r: r.assess(
                actor=OTHER_CLERK, period="2026", recorded_on=TODAY, items=ITEMS, today=TODAY
            ),
        )

        assert isinstance(refused, OutOfScope)


def test_a_meeting_passes_a_file_with_more_than_half_of_those_present():
    assert Vote(uuid4(), 3, 2, 0).passed(5)
    assert not Vote(uuid4(), 3, 0, 0).passed(6)
