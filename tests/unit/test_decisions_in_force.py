"""Every decision is judged by the regional parameters in force on its date (docs/rules.md).

The use case looks the parameters up for the file's region on the decision's business date and
hands them to the command; the command judges by them and records the values it used. A poverty
line sent with the request is no longer the request's to choose: it must be the line in force.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain import usecases
from domain.commands import Approve
from domain.errors import InvalidValue, NotEligible, RuleViolated
from domain.household import HouseholdFile
from domain.policy import Parameters, PolicyBook, RegionalPolicy
from domain.values import Actor, Category, ExitKind, FileLevel, Role, Status

from .given import (
    APPROVED_ON,
    APPROVER,
    CLERK,
    LINE,
    PARAMETERS,
    TODAY,
    above_the_line,
    appraising,
    exiting,
    given,
    history,
    in_force,
    record,
    then,
    then_refused,
    verifying,
    when,
)


class TestAnApproval:
    def test_is_judged_by_the_line_in_force_when_none_is_sent(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, lambda f: f.approve(**_approval(parameters=PARAMETERS)))

        then(
            outcome,
            HouseholdFile.Approved,
            category=Category.DEEP,
            poverty_line=Decimal("550.00"),
            parameters_effective_on=date(2015, 1, 1),
            accidental_loss_ratio=Decimal("0.8"),
        )

    def test_is_refused_with_a_line_other_than_the_one_in_force(self):
        # the household's adjusted income is 350; with a typed line of 5000 it would be 深度
        file = given(*history(Status.APPRAISED))

        outcome = when(
            file,
            lambda f: f.approve(**_approval(poverty_line=Decimal("5000"), parameters=PARAMETERS)),
        )

        error = then_refused(
            outcome, RuleViolated, rule="poverty_line_in_force", field="poverty_line"
        )
        assert "550.00" in error.message
        assert "550.00" in error.zh

    def test_is_accepted_with_the_line_in_force_sent(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(
            file,
            lambda f: f.approve(**_approval(poverty_line=Decimal("550"), parameters=PARAMETERS)),
        )

        then(outcome, HouseholdFile.Approved, poverty_line=Decimal("550.00"))

    def test_is_refused_in_a_region_with_no_parameters(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, lambda f: f.approve(**_approval(parameters=None)))

        error = then_refused(outcome, RuleViolated, rule="regional_parameters_in_force")
        assert "130306" in error.message
        assert "/api/v1/policies/130306" in error.message
        assert "130306" in error.zh

    def test_is_refused_with_parameters_that_take_effect_after_it(self):
        file = given(*history(Status.APPRAISED))
        later = Parameters(APPROVED_ON + timedelta(days=1), LINE)

        outcome = when(file, lambda f: f.approve(**_approval(parameters=later)))

        then_refused(outcome, InvalidValue, field="parameters")


class TestTheAccidentalLossRatio:
    def _verifying_an_accident(self, ratio: str) -> Any:
        # 2 people, 60,000 a year: above twice the line; losses of 36,000 are 60% of income
        return verifying(
            annual_income=Decimal("60000"),
            rigid_expenses=Decimal("0"),
            accidental_event=True,
            hardship_losses=Decimal("36000"),
            parameters=in_force(accidental_loss_ratio=Decimal(ratio)),
        )

    def test_is_the_region_s(self):
        file = given(*record())

        outcome = when(file, self._verifying_an_accident("0.5"))

        then(
            outcome,
            HouseholdFile.Verified,
            category=Category.ACCIDENTAL,
            accidental_loss_ratio=Decimal("0.5"),
        )

    def test_refuses_losses_below_the_region_s_ratio(self):
        file = given(*record())

        outcome = when(file, self._verifying_an_accident("0.8"))

        then_refused(outcome, NotEligible)


class TestAVerification:
    def test_is_refused_with_a_line_other_than_the_one_in_force(self):
        file = given(*record())

        outcome = when(file, verifying(poverty_line=Decimal("5000")))

        then_refused(outcome, RuleViolated, rule="poverty_line_in_force")

    def test_records_the_parameters_it_used(self):
        file = given(*record())

        outcome = when(file, verifying())

        then(
            outcome,
            HouseholdFile.Verified,
            poverty_line=Decimal("550.00"),
            parameters_effective_on=date(2015, 1, 1),
        )


class TestThePublicity:
    def test_of_one_day_is_refused(self):
        file = given(*record(verifying()))

        outcome = when(
            file, appraising(publicity_start=date(2026, 3, 13), publicity_end=date(2026, 3, 13))
        )

        then_refused(outcome, RuleViolated, rule="publicity_days", field="publicity_end")

    def test_of_the_region_s_length_is_accepted_and_recorded(self):
        file = given(*record(verifying()))

        outcome = when(
            file,
            appraising(
                publicity_start=date(2026, 3, 13),
                publicity_end=date(2026, 3, 19),
                parameters=in_force(publicity_days=7),
            ),
        )

        then(outcome, HouseholdFile.Appraised, publicity_days=7)

    def test_shorter_than_a_stricter_region_s_is_refused(self):
        file = given(*record(verifying()))

        outcome = when(file, appraising(parameters=in_force(publicity_days=10)))  # 8 days

        then_refused(outcome, RuleViolated, rule="publicity_days")


class TestARecheck:
    def test_is_refused_with_a_line_other_than_the_one_in_force(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file,
            lambda f: f.recheck(
                actor=CLERK,
                rechecked_on=date(2026, 10, 1),
                poverty_line=Decimal("300"),
                parameters=PARAMETERS,
                today=TODAY,
            ),
        )

        then_refused(outcome, RuleViolated, rule="poverty_line_in_force")

    def test_records_the_parameters_it_used(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file,
            lambda f: f.recheck(
                actor=CLERK,
                rechecked_on=date(2026, 10, 1),
                parameters=in_force(accidental_loss_ratio=Decimal("0.6")),
                today=TODAY,
            ),
        )

        then(
            outcome,
            HouseholdFile.Rechecked,
            parameters_effective_on=date(2015, 1, 1),
            accidental_loss_ratio=Decimal("0.6"),
        )


class TestAnExitFromHardship:
    def test_needs_the_region_s_months(self):
        file = given(*above_the_line())

        outcome = when(
            file,
            exiting(
                ExitKind.OUT_OF_HARDSHIP,
                months_above_line=6,
                parameters=in_force(exit_months_above_line=12),
            ),
        )

        then_refused(outcome, RuleViolated, rule="months_above_line")


class TestAVisit:
    def test_records_the_region_s_period_and_the_next_visit_due(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file,
            lambda f: f.visit(
                actor=CLERK,
                visited_on=date(2026, 7, 1),
                cadre="周五",
                content="季度走访",
                parameters=in_force(visit_period_days=30),
                today=TODAY,
            ),
        )

        then(
            outcome,
            HouseholdFile.Visited,
            visit_period_days=30,
            next_visit_due=date(2026, 7, 31),
        )


# ---------------------------------------------------------------------- through the use case


@dataclass
class _Files:
    """The file repository port in memory."""

    stored: dict[UUID, list[Any]] = field(default_factory=dict)

    async def get(self, file_id: UUID, **_: Any) -> HouseholdFile:
        return given(*self.stored[file_id])

    async def save(self, *files: HouseholdFile) -> None:
        for f in files:
            self.stored.setdefault(f.id, []).extend(f.collect_events())

    async def save_many(self, files: Any) -> None:
        await self.save(*files)


@dataclass
class _Policies:
    policy_book: PolicyBook

    async def book(self) -> PolicyBook:
        return self.policy_book


class _Clock:
    def today(self) -> date:
        return TODAY


ADMIN = Actor("admin", "13", Role.ADMIN)


def _book(region: str, *changes: tuple[date, str]) -> PolicyBook:
    policy = RegionalPolicy.open(actor=ADMIN, region=region)
    for effective_on, line in changes:
        policy.set(actor=ADMIN, parameters=Parameters(effective_on, Decimal(line)), reason="通知")
    return PolicyBook({region: policy})


def _approve_through_the_use_case(book: PolicyBook, **fields: Any) -> HouseholdFile:
    files = _Files()
    events = history(Status.APPRAISED)
    files.stored[events[0].originator_id] = list(events)
    command = Approve(**({"approved_on": APPROVED_ON, "file_level": FileLevel.DISTRICT} | fields))
    return asyncio.run(
        usecases.act_on_file(
            files=files,
            clock=_Clock(),
            actor=APPROVER,
            file_id=events[0].originator_id,
            command=command,
            policies=_Policies(book),
        )
    )


class TestTheUseCase:
    def test_hands_the_command_the_parameters_in_force_on_the_decision_s_date(self):
        # the city's line rose from 300 to 550 the day after the approval: 300 decides (350 is
        # below twice 300: relative hardship)
        book = _book("130300", (date(2015, 1, 1), "300"), (APPROVED_ON + timedelta(days=1), "550"))

        approved = _approve_through_the_use_case(book)

        assert approved.category is Category.RELATIVE
        assert approved.poverty_line == Decimal("300.00")

    def test_takes_the_district_s_own_parameters_before_its_city_s(self):
        book = PolicyBook(
            _book("130300", (date(2015, 1, 1), "300")).policies
            | _book("130306", (date(2015, 1, 1), "550")).policies
        )

        approved = _approve_through_the_use_case(book)

        assert approved.poverty_line == Decimal("550.00")

    def test_refuses_a_region_with_no_parameters_naming_it_and_how_to_set_them(self):
        with pytest.raises(RuleViolated) as refused:
            _approve_through_the_use_case(_book("130200", (date(2015, 1, 1), "550")))

        assert refused.value.rule == "regional_parameters_in_force"
        assert "POST /api/v1/policies/130306" in refused.value.message

    def test_refuses_parameters_set_only_after_the_decision(self):
        with pytest.raises(RuleViolated) as refused:
            _approve_through_the_use_case(_book("130306", (APPROVED_ON + timedelta(days=1), "550")))

        assert refused.value.rule == "regional_parameters_in_force"


def _approval(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": APPROVER,
        "approved_on": APPROVED_ON,
        "file_level": FileLevel.DISTRICT,
        "today": TODAY,
    }
    return fields | overrides
