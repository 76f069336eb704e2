"""民主评议 and 公示: the unit's appraisal with minutes, and the public posting of the list."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidValue, RuleViolated
from domain.household import HouseholdFile
from domain.values import Material, Status

from .given import (
    PUBLICITY_END,
    VERIFIED_ON,
    appraising,
    approving,
    given,
    history,
    record,
    then,
    then_refused,
    verifying,
    when,
)


class TestAnAppraisal:
    def test_records_the_appraisal_and_the_publicity(self):
        file = given(*history(Status.VERIFIED))

        outcome = when(file, appraising(objections=2, objections_resolved=2))

        then(
            outcome,
            HouseholdFile.Appraised,
            appraised_on=date(2026, 3, 12),
            publicity_start=date(2026, 3, 13),
            publicity_end=PUBLICITY_END,
            objections=2,
            objections_resolved=2,
            minutes_on_file=True,
        )

    def test_puts_the_minutes_and_the_publicity_list_on_file(self):
        file = given(*history(Status.VERIFIED))

        when(file, appraising())

        assert {Material.APPRAISAL_MINUTES, Material.PUBLICITY_LIST} <= file.materials

    def test_is_refused_without_minutes(self):
        file = given(*history(Status.VERIFIED))

        outcome = when(file, appraising(minutes_on_file=False))

        then_refused(outcome, RuleViolated, rule="appraisal_minutes")

    def test_is_not_dated_before_the_investigation(self):
        file = given(*history(Status.VERIFIED))

        outcome = when(file, appraising(appraised_on=date(2026, 3, 8)))

        then_refused(outcome, InvalidValue, field="appraised_on")

    def test_may_be_dated_the_day_of_the_investigation(self):
        file = given(*history(Status.VERIFIED))

        outcome = when(file, appraising(appraised_on=VERIFIED_ON))

        then(outcome, HouseholdFile.Appraised, appraised_on=VERIFIED_ON)


class TestThePublicity:
    def test_does_not_start_before_the_appraisal(self):
        file = given(*history(Status.VERIFIED))

        outcome = when(file, appraising(publicity_start=date(2026, 3, 11)))

        then_refused(outcome, InvalidValue, field="publicity_start")

    def test_does_not_end_before_it_starts(self):
        file = given(*history(Status.VERIFIED))

        outcome = when(file, appraising(publicity_end=date(2026, 3, 12)))

        then_refused(outcome, InvalidValue, field="publicity_end")

    def test_does_not_end_after_today(self):
        file = given(*history(Status.VERIFIED))

        outcome = when(file, appraising(publicity_end=date(2026, 11, 22)))

        then_refused(outcome, InvalidValue, field="publicity_end")

    @pytest.mark.parametrize(("raised", "resolved"), [(-1, 0), (1, 2), (True, 0), (1, -1)])
    def test_counts_objections_as_whole_numbers_with_no_more_resolved_than_raised(
        self, raised, resolved
    ):
        file = given(*history(Status.VERIFIED))

        outcome = when(file, appraising(objections=raised, objections_resolved=resolved))

        then_refused(outcome, InvalidValue, field="objections")


class TestAnOpenObjection:
    def test_prevents_approval(self):
        file = given(*record(verifying(), appraising(objections=3, objections_resolved=2)))

        outcome = when(file, approving())

        then_refused(outcome, RuleViolated, rule="publicity_without_open_objection")

    def test_resolved_no_longer_prevents_approval(self):
        file = given(*record(verifying(), appraising(objections=3, objections_resolved=3)))

        outcome = when(file, approving())

        then(outcome, HouseholdFile.Approved)
