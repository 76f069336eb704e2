"""帮扶: assistance is delivered only to an approved file, in Decimal yuan, dated after approval."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import InvalidValue, OutOfScope, WrongState
from domain.household import HouseholdFile
from domain.values import AssistanceKind, Department, Status

from .given import (
    APPROVED_ON,
    CITY_APPROVER,
    OTHER_CLERK,
    assisting,
    given,
    history,
    then,
    then_refused,
    when,
)


class TestAssistance:
    def test_is_recorded_on_an_approved_file(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting())

        then(
            outcome,
            HouseholdFile.Assisted,
            kind=AssistanceKind.LIVING_AID,
            amount=Decimal("500.00"),
            department=Department.UNION,
            helper="孙三",
            assisted_on=date(2026, 4, 1),
        )

    @pytest.mark.parametrize(
        "status", [s for s in Status if s not in {Status.APPROVED, Status.RELIEVED}]
    )
    def test_is_refused_on_a_file_neither_approved_nor_relieved(self, status):
        file = given(*history(status))

        outcome = when(file, assisting(assisted_on=date(2026, 11, 1)))

        then_refused(outcome, WrongState, command="assist")

    def test_adds_up_on_the_file(self):
        file = given(*history(Status.APPROVED))

        when(file, assisting(amount=Decimal("500")))
        when(file, assisting(amount=Decimal("120.50")))

        assert (file.assistance_count, file.assistance_total) == (2, Decimal("620.50"))

    def test_keeps_the_latest_date_whatever_the_order_recorded(self):
        file = given(*history(Status.APPROVED))

        when(file, assisting(assisted_on=date(2026, 5, 1)))
        when(file, assisting(assisted_on=date(2026, 4, 1)))

        assert file.last_assisted_on == date(2026, 5, 1)

    def test_is_recorded_by_a_union_above_the_file(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting(actor=CITY_APPROVER))

        then(outcome, HouseholdFile.Assisted, actor=CITY_APPROVER)

    def test_is_refused_to_a_clerk_of_another_union(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting(actor=OTHER_CLERK))

        then_refused(outcome, OutOfScope)

    def test_is_not_dated_before_the_approval(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting(assisted_on=date(2026, 3, 24)))

        then_refused(outcome, InvalidValue, field="assisted_on")

    def test_may_be_dated_the_day_of_the_approval(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting(assisted_on=APPROVED_ON))

        then(outcome, HouseholdFile.Assisted, assisted_on=APPROVED_ON)

    def test_is_not_dated_after_today(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting(assisted_on=date(2026, 11, 22)))

        then_refused(outcome, InvalidValue, field="assisted_on")

    def test_refuses_an_unknown_kind(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting(kind="cash"))

        then_refused(outcome, InvalidValue, field="kind")


class TestTheAmountOfAssistance:
    @pytest.mark.parametrize(
        ("given_amount", "recorded"),
        [
            (Decimal("500"), Decimal("500.00")),
            (500, Decimal("500.00")),
            ("500.5", Decimal("500.50")),
            ("0.005", Decimal("0.01")),
            (0, Decimal("0.00")),
        ],
    )
    def test_is_recorded_in_yuan_to_the_fen(self, given_amount, recorded):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting(amount=given_amount))

        then(outcome, HouseholdFile.Assisted, amount=recorded)

    def test_refuses_a_float(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting(amount=500.0))

        then_refused(outcome, InvalidValue, field="amount")

    def test_refuses_a_negative_amount(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting(amount=Decimal("-0.01")))

        then_refused(outcome, InvalidValue, field="amount")

    @pytest.mark.parametrize("amount", ["NaN", "Infinity", "sNaN", "-Infinity"])
    def test_refuses_a_non_finite_amount(self, amount):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting(amount=Decimal(amount)))

        then_refused(outcome, InvalidValue, field="amount")

    def test_refuses_text_that_is_not_a_number(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting(amount="五百"))

        then_refused(outcome, InvalidValue, field="amount")
