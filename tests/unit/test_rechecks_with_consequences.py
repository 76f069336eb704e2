"""Re-checks with consequences (seeds 000, 003): a category a clerk's re-check finds takes effect
when an approver confirms it; a file due to exit (a newly found exclusion, a re-check above the
standard) takes no new regular aid — emergency aid still, recorded as such — until it exits or
an approver keeps it with a reason; the ledger shows both (approvals queue, due list)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from adapters.pg.codec import EventCodec
from domain.errors import InvalidValue, NotPermitted, RuleViolated
from domain.household import HouseholdFile
from domain.privacy import keyed_hash
from domain.values import Category, ExitKind, ExitReason, RecheckResult, Status
from projections.ledger import Ledger

from .given import (
    APPROVER,
    BASE_APPROVER,
    CLERK,
    TODAY,
    assisting,
    category_changed,
    due_to_exit,
    exiting,
    given,
    history,
    in_force,
    then,
    then_refused,
    when,
)
from .test_ledger_civil_affairs import Rows, changes


def confirming(**overrides: Any) -> Any:
    fields = {"actor": APPROVER, "confirmed_on": date(2026, 10, 8), "today": TODAY}
    return lambda f: f.confirm_category(**(fields | overrides))


def keeping(**overrides: Any) -> Any:
    fields = {
        "actor": APPROVER,
        "kept_on": date(2026, 8, 1),
        "reason": "车辆为残疾人代步车，不属于不予建档情形",
        "today": TODAY,
    }
    return lambda f: f.keep(**(fields | overrides))


class TestACategoryFoundByARecheck:
    def test_waits_for_an_approver(self):
        file = given(*category_changed())

        assert file.category is Category.DEEP
        assert file.category_pending is Category.RELATIVE

    def test_takes_effect_when_an_approver_confirms_it(self):
        file = given(*category_changed())

        outcome = when(file, confirming())

        then(
            outcome,
            HouseholdFile.CategoryConfirmed,
            category=Category.RELATIVE,
            previous=Category.DEEP,
        )
        assert file.category is Category.RELATIVE
        assert file.category_pending is None

    def test_is_not_confirmed_by_a_base_level_approver(self):
        file = given(*category_changed())

        outcome = when(file, confirming(actor=BASE_APPROVER))

        then_refused(outcome, NotPermitted, rule="district_or_above")

    def test_cannot_be_confirmed_when_no_recheck_found_one(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, confirming())

        then_refused(outcome, RuleViolated, rule="category_change_to_confirm")


class TestAFileDueToExit:
    def test_after_a_recheck_above_the_standard_is_flagged_and_keeps_its_status(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file,
            lambda f: f.recheck(
                actor=CLERK,
                rechecked_on=date(2026, 10, 1),
                parameters=in_force(poverty_line=Decimal("150")),
                today=TODAY,
            ),
        )

        then(outcome, HouseholdFile.Rechecked, result=RecheckResult.EXIT_DUE)
        assert file.exit_due is not None
        assert file.status is Status.APPROVED

    def test_takes_no_new_regular_aid(self):
        file = given(*due_to_exit())

        outcome = when(file, assisting(assisted_on=date(2026, 7, 15)))

        then_refused(outcome, RuleViolated, rule="exit_due_no_regular_aid")

    def test_takes_emergency_aid_recorded_as_such(self):
        file = given(*due_to_exit())

        outcome = when(file, assisting(assisted_on=date(2026, 7, 15), emergency=True))

        then(outcome, HouseholdFile.Assisted, emergency=True)

    def test_kept_by_an_approver_with_a_reason_takes_regular_aid_again(self):
        file = given(*due_to_exit())
        kept = when(file, keeping())

        outcome = when(file, assisting(assisted_on=date(2026, 8, 15)))

        then(kept, HouseholdFile.KeptOnRecord, exit_due="exclusion: car_or_luxury")
        then(outcome, HouseholdFile.Assisted)

    def test_is_not_kept_without_a_reason(self):
        file = given(*due_to_exit())

        outcome = when(file, keeping(reason=""))

        then_refused(outcome, InvalidValue, field="reason")

    def test_is_not_kept_by_a_clerk(self):
        file = given(*due_to_exit())

        outcome = when(file, keeping(actor=CLERK))

        then_refused(outcome, NotPermitted, rule="role")

    def test_that_is_not_due_cannot_be_kept(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, keeping())

        then_refused(outcome, RuleViolated, rule="exit_due_to_keep")

    def test_is_no_longer_due_once_it_exits(self):
        file = given(*due_to_exit())

        when(file, exiting(ExitKind.CANCELLED, reason=ExitReason.INELIGIBLE))

        assert file.exit_due is None


class TestTheLedger:
    async def test_shows_the_category_to_confirm_and_then_the_confirmed_one(self):
        file = given(*category_changed())
        rows, ledger = Rows(), Ledger(lambda number: keyed_hash(b"k" * 32, number))
        await ledger.apply(list(_changes(category_changed())), rows)
        row = rows.rows[file.id]
        pending = (row.category, row.category_pending)
        file.confirm_category(actor=APPROVER, confirmed_on=date(2026, 10, 8), today=TODAY)

        await ledger.apply(changes(file), rows)

        assert pending == ("deep", "relative")
        assert (row.category, row.category_pending) == ("relative", None)

    async def test_shows_a_file_due_to_exit_until_it_is_kept(self):
        file = given(*due_to_exit())
        rows, ledger = Rows(), Ledger(lambda number: keyed_hash(b"k" * 32, number))
        await ledger.apply(list(_changes(due_to_exit())), rows)
        row = rows.rows[file.id]
        due = (row.exit_due, row.exit_due_on)
        file.keep(actor=APPROVER, kept_on=date(2026, 8, 1), reason="核实后保留", today=TODAY)

        await ledger.apply(changes(file), rows)

        assert due == ("exclusion: car_or_luxury", date(2026, 7, 1))
        assert (row.exit_due, row.exit_due_on) == (None, None)


class TestAnEventStoredBeforeItsNewFields:
    def test_decodes_with_their_defaults(self):
        codec = EventCodec()
        approved = next(
            e for e in history(Status.APPROVED) if isinstance(e, HouseholdFile.Approved)
        )
        name, payload = codec.encode(approved)
        older = json.loads(payload)
        del older["parameters_effective_on"], older["accidental_loss_ratio"]

        event = codec.decode(
            name, json.dumps(older).encode(), stream_id=uuid4(), version=4, recorded_at=NOW
        )

        assert event.category is Category.DEEP
        assert event.parameters_effective_on is None


NOW = datetime(2026, 11, 21, tzinfo=UTC)


def _changes(events: Any) -> Any:
    """The events of a history as the runner hands them to a projection."""
    holder = type("Holder", (), {"collect_events": lambda self: list(events)})()
    return changes(holder)


class TestTheStatistics:
    async def test_count_the_category_once_an_approver_confirms_it(self):
        from projections.statistics import Statistics  # noqa: PLC0415

        from .test_regular_aid import _Facts  # noqa: PLC0415

        file = given(*category_changed())
        storage = _Facts()
        await Statistics().apply(list(_changes(category_changed())), storage)
        before = storage.stock.get(("130306001", "category", "relative"), 0)
        file.confirm_category(actor=APPROVER, confirmed_on=date(2026, 10, 8), today=TODAY)

        await Statistics().apply(changes(file), storage)

        assert before == 0
        assert storage.stock[("130306001", "category", "relative")] == 1
        assert storage.stock[("130306001", "category", "deep")] == 0
