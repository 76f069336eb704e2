"""解困 households keep their regular aid (常态化帮扶, seeds 001 and 004): they are assisted,
visited and re-checked, their status stays `relieved`, and the ledger and the statistics show
them as relieved under regular aid."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from domain.household import HouseholdFile
from domain.privacy import keyed_hash
from domain.values import AssistanceKind, Department, ExitKind, ExitReason, RecheckResult, Status
from projections.ledger import Ledger, LedgerRow
from projections.statistics import FileFacts, Statistics

from .given import (
    CLERK,
    PARAMETERS,
    TODAY,
    assisting,
    given,
    history,
    then,
    when,
)
from .test_ledger_civil_affairs import Rows, approved, changes


class TestARelievedHousehold:
    def test_is_assisted_and_stays_relieved(self):
        file = given(*history(Status.RELIEVED))

        outcome = when(file, assisting(assisted_on=date(2026, 7, 15)))

        then(outcome, HouseholdFile.Assisted, amount=Decimal("500.00"))
        assert file.status is Status.RELIEVED

    def test_is_visited(self):
        file = given(*history(Status.RELIEVED))

        outcome = when(
            file,
            lambda f: f.visit(
                actor=CLERK,
                visited_on=date(2026, 8, 1),
                cadre="周五",
                content="常态化帮扶走访",
                parameters=PARAMETERS,
                today=TODAY,
            ),
        )

        then(outcome, HouseholdFile.Visited, visit_period_days=90)
        assert file.status is Status.RELIEVED

    def test_is_rechecked_and_stays_relieved(self):
        file = given(*history(Status.RELIEVED))

        outcome = when(
            file,
            lambda f: f.recheck(
                actor=CLERK, rechecked_on=date(2026, 10, 1), parameters=PARAMETERS, today=TODAY
            ),
        )

        then(outcome, HouseholdFile.Rechecked, result=RecheckResult.STILL_ELIGIBLE)
        assert file.status is Status.RELIEVED


class _Facts:
    def __init__(self) -> None:
        self.facts: dict[UUID, FileFacts] = {}
        self.stock: dict[tuple[str, str, str], int] = {}
        self.flows: dict[tuple[str, str, str, str], tuple[int, Decimal]] = {}

    async def load(self, ids: set[UUID]) -> dict[UUID, FileFacts]:
        return {i: self.facts[i] for i in ids if i in self.facts}

    async def save(
        self,
        facts: list[FileFacts],
        stock: dict[tuple[str, str, str], int],
        flows: dict[tuple[str, str, str, str], tuple[int, Decimal]],
    ) -> None:
        for f in facts:
            self.facts[f.file_id] = f
        for key, delta in stock.items():
            self.stock[key] = self.stock.get(key, 0) + delta
        for key, (count, amount) in flows.items():
            was = self.flows.get(key, (0, Decimal(0)))
            self.flows[key] = (was[0] + count, was[1] + amount)


def _relieved_and_assisted() -> HouseholdFile:
    household = approved()
    household.exit(
        actor=CLERK,
        exited_on=date(2026, 6, 30),
        kind=ExitKind.RELIEVED,
        reason=ExitReason.SAFETY_NET,
        explanation="纳入低保",
        evidence=("低保证",),
        today=TODAY,
    )
    household.assist(
        actor=CLERK,
        assisted_on=date(2026, 7, 15),
        kind=AssistanceKind.LIVING_AID,
        amount=Decimal("800"),
        department=Department.UNION,
        today=TODAY,
    )
    return household


class TestTheLedger:
    async def test_shows_a_relieved_household_under_regular_aid_with_its_assistance(self):
        household = _relieved_and_assisted()
        rows, ledger = Rows(), Ledger(lambda number: keyed_hash(b"k" * 32, number))

        await ledger.apply(changes(household), rows)

        row: LedgerRow = rows.rows[household.id]
        assert row.status == "relieved"
        assert row.regular_aid
        assert row.assistance_count == 1
        assert row.last_assisted_on == date(2026, 7, 15)


class TestTheStatistics:
    async def test_count_a_relieved_household_under_regular_aid_and_its_assistance(self):
        household = _relieved_and_assisted()
        storage = _Facts()

        await Statistics().apply(changes(household), storage)

        assert storage.stock[("130306001", "regular_aid", "relieved")] == 1
        assert storage.stock.get(("130306001", "regular_aid", "approved"), 0) == 0
        assert storage.flows[("130306001", "2026-07", "assistance_by_status", "relieved")] == (
            1,
            Decimal("800.00"),
        )
