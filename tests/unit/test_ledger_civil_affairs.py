"""The ledger folds civil-affairs matches (民政比对) into the rows of the files they name: what
civil affairs matched, the day of the latest run, and the findings a clerk must still act on —
settled by the file's own events that act on them, and by nothing else."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from adapters.pg.codec import EventCodec
from domain.civil_affairs import CivilAffairsMatch, Match, Record, assess
from domain.eligibility import Exclusions
from domain.household import HouseholdFile
from domain.privacy import keyed_hash
from domain.values import Actor, ExitKind, ExitReason, Role
from projections.base import Change
from projections.ledger import Ledger, LedgerRow
from tests.builders import APPRAISAL, APPROVAL, APPROVER, CLERK, TODAY, application, verification

CODEC = EventCodec()
MATCHER = Actor("approver-wang", "130306", Role.APPROVER)
RUN_AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


class Rows:
    """The ledger's storage port over a dict (as a rebuild keeps it)."""

    def __init__(self) -> None:
        self.rows: dict[UUID, LedgerRow] = {}
        self.saved: list[UUID] = []

    async def load(self, ids: set[UUID]) -> dict[UUID, LedgerRow]:
        return {i: self.rows[i] for i in ids if i in self.rows}

    async def save(self, rows: list[LedgerRow], people_changed: set[UUID]) -> None:
        for row in rows:
            self.rows[row.file_id] = row
            self.saved.append(row.file_id)


def changes(aggregate: Aggregate, at: datetime | None = None) -> list[Change]:
    """The aggregate's pending events as the runner hands them to a projection."""
    found = []
    for event in aggregate.collect_events():
        name, payload = CODEC.encode(event)
        found.append(
            Change(
                event.originator_id,
                event.originator_version,
                name,
                CODEC.decode_fields(name, payload),
                at or event.timestamp,
                None,
            )
        )
    return found


def match_run(
    household: HouseholdFile,
    *entries: Record | tuple[Record, str],
    at: datetime = RUN_AT,
) -> list[Change]:
    """A matching run naming the household once per entry (a record, whose number matched: the
    head unless said), assessed as `run_matching` assesses it."""
    run = CivilAffairsMatch.start(actor=MATCHER, scope="130306", source="民政.xlsx", list_rows=9)
    for row, entry in enumerate(entries, start=4):
        record, role = entry if isinstance(entry, tuple) else (entry, "head")
        run.record(
            Match(
                row,
                household.id,
                household.establishing_unit,
                role,
                record,
                date(2026, 5, 20),
                assess(record, household, role),
            )
        )
    run.complete()
    return changes(run, at)


def applied() -> HouseholdFile:
    return HouseholdFile.receive_application(actor=CLERK, today=TODAY, **application())


def appraised() -> HouseholdFile:
    """A file whose survey answered no to every exclusion (no vehicle, no second home, no
    business)."""
    household = applied()
    household.verify(actor=CLERK, today=TODAY, **verification(exclusions=Exclusions()))
    household.appraise(actor=CLERK, today=TODAY, **APPRAISAL)
    return household


def approved() -> HouseholdFile:
    household = appraised()
    household.approve(actor=APPROVER, today=TODAY, **APPROVAL)
    return household


async def ledger_of(*batches: list[Change]) -> tuple[Rows, Ledger]:
    """The ledger after applying each batch in turn."""
    rows, ledger = Rows(), Ledger(lambda number: keyed_hash(b"k" * 32, number))
    for batch in batches:
        await ledger.apply(batch, rows)
    return rows, ledger


def flags(
    rows: Rows, household: HouseholdFile
) -> tuple[tuple[str, ...], date | None, tuple[str, ...]]:
    row = rows.rows[household.id]
    return row.civil_affairs, row.civil_affairs_on, row.civil_affairs_to_act


class TestAMatch:
    async def test_marks_the_kind_the_day_and_the_finding_on_the_row_of_the_file_it_names(self):
        household = approved()  # its survey answered: no vehicle

        rows, _ = await ledger_of(changes(household), match_run(household, Record.VEHICLE))

        assert flags(rows, household) == (
            ("vehicle",),
            date(2026, 6, 1),
            ("vehicle_not_declared",),
        )

    async def test_for_information_adds_the_kind_and_nothing_to_act_on(self):
        household = approved()

        rows, _ = await ledger_of(changes(household), match_run(household, Record.DIBAO))

        assert flags(rows, household) == (("dibao",), date(2026, 6, 1), ())

    async def test_keeps_the_kinds_in_the_order_of_the_records_and_each_once(self):
        household = approved()

        rows, _ = await ledger_of(
            changes(household),
            match_run(household, Record.DEATH, (Record.DIBAO, "member")),
            match_run(household, Record.PROPERTY, Record.DIBAO),
        )

        assert flags(rows, household)[0] == ("dibao", "property", "death")
        assert flags(rows, household)[2] == ("death_on_open_file", "property_not_declared")

    async def test_is_dated_by_the_run_s_day_in_beijing(self):
        household = approved()
        evening_utc = datetime(2026, 6, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 June in Beijing

        rows, _ = await ledger_of(
            changes(household), match_run(household, Record.DIBAO, at=evening_utc)
        )

        assert flags(rows, household)[1] == date(2026, 6, 2)

    async def test_keeps_the_latest_day_whatever_order_the_runs_arrive_in(self):
        household = approved()

        rows, _ = await ledger_of(
            changes(household),
            match_run(household, Record.DIBAO, at=datetime(2026, 8, 1, 2, tzinfo=UTC)),
            match_run(household, Record.VEHICLE, at=datetime(2026, 7, 1, 2, tzinfo=UTC)),
        )

        assert flags(rows, household)[1] == date(2026, 8, 1)

    async def test_folded_twice_leaves_the_row_as_folded_once(self):
        household = approved()
        own = changes(household)
        run = match_run(household, Record.VEHICLE, Record.DEATH)
        once, _ = await ledger_of(own, run)

        twice, _ = await ledger_of(own, run, run)

        assert flags(twice, household) == flags(once, household)

    async def test_leaves_the_file_s_version_and_updated_at_alone(self):
        household = approved()
        own = changes(household)
        rows, ledger = await ledger_of(own)
        before = replace(rows.rows[household.id])

        await ledger.apply(match_run(household, Record.VEHICLE), rows)

        after = rows.rows[household.id]
        assert (after.version, after.updated_at) == (before.version, before.updated_at)
        assert (after.status, after.people) == (before.status, before.people)

    async def test_for_a_file_the_ledger_has_no_row_for_is_skipped(self):
        household = approved()
        elsewhere = approved()

        rows, _ = await ledger_of(
            changes(household), match_run(elsewhere, Record.DEATH, Record.VEHICLE)
        )

        assert elsewhere.id not in rows.rows
        assert flags(rows, household) == ((), None, ())

    async def test_and_its_file_in_one_batch_are_folded_in_log_order(self):
        household = approved()

        rows, _ = await ledger_of([*changes(household), *match_run(household, Record.DEATH)])

        assert flags(rows, household)[2] == ("death_on_open_file",)

    def test_is_wanted_by_the_ledger_and_the_run_s_other_events_are_not(self):
        ledger = Ledger(lambda number: number.encode())

        assert ledger.wants("civil_affairs.matched")
        assert not ledger.wants("civil_affairs.started")
        assert not ledger.wants("civil_affairs.completed")


class TestAFindingToActOn:
    async def test_is_settled_when_the_file_exits(self):
        household = approved()
        rows, ledger = await ledger_of(
            changes(household), match_run(household, Record.DEATH, Record.VEHICLE)
        )
        household.exit(
            actor=CLERK,
            exited_on=date(2026, 7, 1),
            kind=ExitKind.CANCELLED,
            reason=ExitReason.DEATH,
            explanation="户主去世",
            evidence=("死亡证明",),
            today=TODAY,
        )

        await ledger.apply(changes(household), rows)

        assert flags(rows, household) == (("vehicle", "death"), date(2026, 6, 1), ())

    async def test_is_settled_when_the_file_is_rejected(self):
        household = applied()
        rows, ledger = await ledger_of(changes(household), match_run(household, Record.DEATH))
        household.reject(actor=CLERK, rejected_on=date(2026, 6, 2), reason="户主死亡", today=TODAY)

        await ledger.apply(changes(household), rows)

        assert flags(rows, household)[2] == ()

    async def test_against_a_survey_answer_is_settled_by_surveying_the_household_again(self):
        household = appraised()
        rows, ledger = await ledger_of(
            changes(household), match_run(household, Record.VEHICLE, Record.BUSINESS)
        )
        household.send_back(
            actor=APPROVER, sent_back_on=date(2026, 3, 26), reason="民政比对有车辆", today=TODAY
        )
        household.verify(
            actor=CLERK,
            today=TODAY,
            **verification(verified_on=date(2026, 3, 27)),
        )

        await ledger.apply(changes(household), rows)

        assert flags(rows, household) == (("vehicle", "business"), date(2026, 6, 1), ())

    async def test_of_a_death_is_not_settled_by_surveying_the_household_again(self):
        household = appraised()
        rows, ledger = await ledger_of(
            changes(household), match_run(household, Record.DEATH, Record.VEHICLE)
        )
        household.send_back(
            actor=APPROVER, sent_back_on=date(2026, 3, 26), reason="户主死亡", today=TODAY
        )
        household.verify(actor=CLERK, today=TODAY, **verification(verified_on=date(2026, 3, 27)))

        await ledger.apply(changes(household), rows)

        assert flags(rows, household)[2] == ("death_on_open_file",)

    async def test_is_not_settled_by_the_annual_recheck(self):
        household = approved()
        rows, ledger = await ledger_of(changes(household), match_run(household, Record.PROPERTY))
        household.recheck(
            actor=CLERK,
            rechecked_on=date(2026, 10, 1),
            parameters=APPROVAL["parameters"],
            today=TODAY,
        )

        await ledger.apply(changes(household), rows)

        assert flags(rows, household)[2] == ("property_not_declared",)

    async def test_found_after_the_file_exited_is_information_only(self):
        household = approved()
        household.exit(
            actor=CLERK,
            exited_on=date(2026, 7, 1),
            kind=ExitKind.CANCELLED,
            reason=ExitReason.DEATH,
            explanation="户主去世",
            evidence=("死亡证明",),
            today=TODAY,
        )

        rows, _ = await ledger_of(changes(household), match_run(household, Record.DEATH))

        assert flags(rows, household) == (("death",), date(2026, 6, 1), ())
