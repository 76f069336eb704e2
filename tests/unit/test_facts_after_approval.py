"""Facts found after approval (seeds 000, 003, 004): exclusions, causes, the accidental flag and
the household's assets are revised; a newly found exclusion makes the file exit due; a clerk
records the check of a civil-affairs finding; a 回头看 follow-up records what it found."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.eligibility import Exclusions
from domain.errors import InvalidValue, WrongState
from domain.household import HouseholdFile
from domain.privacy import keyed_hash
from domain.values import Cause, FindingCheck, FollowUpOutcome, Status
from projections.ledger import Ledger

from .given import CLERK, TODAY, given, history, then, then_refused, when
from .test_ledger_civil_affairs import Record, Rows, approved, changes, match_run


def revising(**overrides: Any) -> Any:
    fields = {
        "actor": CLERK,
        "effective_on": date(2026, 7, 1),
        "reason": "入户核实",
        "today": TODAY,
    }
    return lambda f: f.revise(**(fields | overrides))


class TestARevisionOfFactsFoundAfterApproval:
    def test_records_a_newly_found_car_and_makes_the_file_exit_due(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, revising(exclusions=Exclusions(car_or_luxury=True)))

        then(
            outcome,
            HouseholdFile.Revised,
            exclusions=Exclusions(car_or_luxury=True),
            exit_due="exclusion: car_or_luxury",
        )
        assert file.status is Status.APPROVED
        assert file.exit_due == "exclusion: car_or_luxury"

    def test_makes_a_relieved_file_exit_due_too(self):
        file = given(*history(Status.RELIEVED))

        outcome = when(file, revising(exclusions=Exclusions(two_or_more_homes=True)))

        then(outcome, HouseholdFile.Revised, exit_due="exclusion: two_or_more_homes")
        assert file.status is Status.RELIEVED

    def test_without_a_new_exclusion_leaves_the_file_as_it_was(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, revising(exclusions=Exclusions()))

        then(outcome, HouseholdFile.Revised, exclusions=Exclusions(), exit_due=None)
        assert file.exit_due is None

    def test_records_new_causes(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file,
            revising(primary_cause=Cause.DISABILITY, secondary_causes=(Cause.ILLNESS,)),
        )

        then(
            outcome,
            HouseholdFile.Revised,
            primary_cause=Cause.DISABILITY,
            secondary_causes=(Cause.ILLNESS,),
        )
        assert file.primary_cause is Cause.DISABILITY

    def test_refuses_a_cause_given_twice(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file, revising(primary_cause=Cause.ILLNESS, secondary_causes=(Cause.ILLNESS,))
        )

        then_refused(outcome, InvalidValue, field="secondary_causes")

    def test_records_the_accidental_flag(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, revising(accidental_event=True))

        then(outcome, HouseholdFile.Revised, accidental_event=True)
        assert file.accidental_event is True


class TestTheCheckOfACivilAffairsFinding:
    def _checking(self, **overrides: Any) -> Any:
        fields = {
            "actor": CLERK,
            "checked_on": date(2026, 7, 1),
            "finding": "vehicle_not_declared",
            "result": FindingCheck.UNFOUNDED,
            "reason": "车辆登记人为同名他人，身份证号码不同",
            "today": TODAY,
        }
        return lambda f: f.check_finding(**(fields | overrides))

    def test_records_an_unfounded_finding_with_its_reason(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, self._checking())

        then(
            outcome,
            HouseholdFile.FindingChecked,
            finding="vehicle_not_declared",
            result=FindingCheck.UNFOUNDED,
            reason="车辆登记人为同名他人，身份证号码不同",
        )

    def test_records_a_confirmed_finding_and_what_was_done(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file,
            self._checking(result=FindingCheck.CONFIRMED, reason="已动态调整，档案待退出"),
        )

        then(outcome, HouseholdFile.FindingChecked, result=FindingCheck.CONFIRMED)

    def test_refuses_a_finding_that_needs_no_action(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, self._checking(finding="dibao_recipient"))

        then_refused(outcome, InvalidValue, field="finding")

    def test_refuses_no_reason(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, self._checking(reason=" "))

        then_refused(outcome, InvalidValue, field="reason")

    async def test_clears_the_finding_from_the_ledger(self):
        household = approved()
        rows, ledger = Rows(), Ledger(lambda number: keyed_hash(b"k" * 32, number))
        await ledger.apply(changes(household), rows)
        await ledger.apply(match_run(household, Record.VEHICLE, Record.PROPERTY), rows)
        household.check_finding(
            actor=CLERK,
            checked_on=date(2026, 7, 1),
            finding="vehicle_not_declared",
            result=FindingCheck.UNFOUNDED,
            reason="车辆登记人为同名他人",
            today=TODAY,
        )

        await ledger.apply(changes(household), rows)

        assert rows.rows[household.id].civil_affairs_to_act == ("property_not_declared",)


class TestAFollowUp:
    def _following_up(self, **overrides: Any) -> Any:
        fields = {
            "actor": CLERK,
            "followed_up_on": date(2026, 10, 10),
            "cadre": "周海燕",
            "result": FollowUpOutcome.STABLE,
            "note": "就业稳定",
            "today": TODAY,
        }
        return lambda f: f.follow_up(**(fields | overrides))

    @pytest.mark.parametrize("status", [Status.OUT_OF_HARDSHIP, Status.RELIEVED])
    def test_of_an_exited_household_records_its_outcome(self, status):
        file = given(*history(status))

        outcome = when(file, self._following_up(result=FollowUpOutcome.AT_RISK))

        then(outcome, HouseholdFile.FollowedUp, result=FollowUpOutcome.AT_RISK, cadre="周海燕")
        assert file.status is status

    def test_back_in_hardship_opens_the_return_flow(self):
        file = given(*history(Status.OUT_OF_HARDSHIP))

        outcome = when(
            file,
            self._following_up(
                result=FollowUpOutcome.BACK_IN_HARDSHIP,
                cause=Cause.ILLNESS,
                note="配偶突发重病",
            ),
        )

        assert [type(e).__name__ for e in outcome.events] == ["FollowedUp", "Returned"]
        assert file.status is Status.RETURNED
        assert file.primary_cause is Cause.ILLNESS

    def test_back_in_hardship_needs_the_cause(self):
        file = given(*history(Status.OUT_OF_HARDSHIP))

        outcome = when(file, self._following_up(result=FollowUpOutcome.BACK_IN_HARDSHIP))

        then_refused(outcome, InvalidValue, field="cause")

    def test_is_refused_on_a_file_still_on_record(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, self._following_up())

        then_refused(outcome, WrongState, command="follow_up")

    def test_is_not_dated_before_the_exit(self):
        file = given(*history(Status.OUT_OF_HARDSHIP))

        outcome = when(file, self._following_up(followed_up_on=date(2026, 9, 1)))

        then_refused(outcome, InvalidValue, field="followed_up_on")
