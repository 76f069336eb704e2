"""审核认定, 退回, 不予建档, 删除: the decisions that need a district (county) union or above."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.eligibility import Means
from domain.errors import InvalidValue, NotEligible, NotPermitted, OutOfScope, WrongState
from domain.household import HouseholdFile
from domain.values import (
    Actor,
    Category,
    CategoryScheme,
    ExitKind,
    FileLevel,
    Role,
    Status,
)

from .given import (
    APPRAISED_ON,
    APPROVER,
    BASE_APPROVER,
    CITY_APPROVER,
    CLERK,
    DISTRICT_CLERK,
    OTHER_DISTRICT_APPROVER,
    PROVINCE_APPROVER,
    PUBLICITY_END,
    appraising,
    approving,
    exiting,
    given,
    history,
    in_force,
    record,
    rejecting,
    sending_back,
    then,
    then_refused,
    verifying,
    when,
)

INSPECTOR = Actor("inspector-he", "130306", Role.INSPECTOR)

D0 = Decimal("0.00")


class TestApproval:
    def test_is_refused_to_a_base_level_union(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, approving(actor=BASE_APPROVER))

        then_refused(outcome, NotPermitted, rule="district_or_above")

    def test_is_refused_to_a_clerk(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, approving(actor=DISTRICT_CLERK))

        then_refused(outcome, NotPermitted, rule="role")

    def test_is_refused_to_an_inspector(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, approving(actor=INSPECTOR))

        then_refused(outcome, NotPermitted, rule="role")

    def test_is_refused_to_a_district_the_file_does_not_lie_in(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, approving(actor=OTHER_DISTRICT_APPROVER))

        then_refused(outcome, OutOfScope)

    @pytest.mark.parametrize(
        "approver",
        [APPROVER, CITY_APPROVER, PROVINCE_APPROVER],
        ids=["district", "city", "province"],
    )
    def test_is_granted_to_the_district_and_every_union_above_it(self, approver):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, approving(actor=approver))

        then(outcome, HouseholdFile.Approved, actor=approver)

    def test_records_category_level_line_and_means(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, approving(file_level=FileLevel.CITY))

        then(
            outcome,
            HouseholdFile.Approved,
            category=Category.DEEP,
            file_level=FileLevel.CITY,
            poverty_line=Decimal("550.00"),
            scheme=CategoryScheme.V2019,
            region="130306",
            means=Means(Decimal("9600.00"), Decimal("1200.00"), 2, D0, Decimal("9600.00"), D0),
            adjusted_per_capita=Decimal("350.00"),
        )

    def test_judges_the_means_against_the_line_given_at_approval(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(
            file, approving(parameters=in_force(poverty_line=Decimal("300")))
        )  # 350 is below 2 × 300

        then(
            outcome,
            HouseholdFile.Approved,
            category=Category.RELATIVE,
            poverty_line=Decimal("300.00"),
        )

    def test_refuses_a_household_above_the_standard_for_the_line_given(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(
            file, approving(parameters=in_force(poverty_line=Decimal("175")))
        )  # 350 is exactly 2 × 175

        then_refused(outcome, NotEligible)

    def test_leaves_the_file_approved(self):
        file = given(*history(Status.APPRAISED))

        when(file, approving())

        assert (file.status, file.category, file.approved_on) == (
            Status.APPROVED,
            Category.DEEP,
            date(2026, 3, 25),
        )

    def test_is_not_dated_before_the_publicity_ends(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, approving(approved_on=date(2026, 3, 19)))

        then_refused(outcome, InvalidValue, field="approved_on")

    def test_may_be_dated_the_day_the_publicity_ends(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, approving(approved_on=PUBLICITY_END))

        then(outcome, HouseholdFile.Approved, approved_on=PUBLICITY_END)

    def test_is_not_dated_after_today(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, approving(approved_on=date(2026, 11, 22)))

        then_refused(outcome, InvalidValue, field="approved_on")

    def test_refuses_an_unknown_file_level(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, approving(file_level="district"))

        then_refused(outcome, InvalidValue, field="file_level")


class TestSendingBack:
    def test_is_refused_to_a_base_level_union(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, sending_back(actor=BASE_APPROVER))

        then_refused(outcome, NotPermitted, rule="district_or_above")

    def test_is_refused_to_a_clerk(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, sending_back(actor=CLERK))

        then_refused(outcome, NotPermitted, rule="role")

    def test_is_refused_to_a_district_the_file_does_not_lie_in(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, sending_back(actor=OTHER_DISTRICT_APPROVER))

        then_refused(outcome, OutOfScope)

    def test_is_recorded_with_its_reason_by_the_district(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, sending_back())

        then(outcome, HouseholdFile.SentBack, reason="收入证明不全", sent_back_on=date(2026, 3, 26))

    def test_is_not_dated_before_the_appraisal(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, sending_back(sent_back_on=date(2026, 3, 11)))

        then_refused(outcome, InvalidValue, field="sent_back_on")

    def test_needs_a_reason(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, sending_back(reason=" "))

        then_refused(outcome, InvalidValue, field="reason")


class TestRejectionAtReview:
    def test_is_refused_to_a_base_level_union(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, rejecting(actor=BASE_APPROVER, rejected_on=APPRAISED_ON))

        then_refused(outcome, NotPermitted, rule="district_or_above")

    def test_is_refused_to_a_base_level_clerk(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, rejecting(actor=CLERK, rejected_on=APPRAISED_ON))

        then_refused(outcome, NotPermitted, rule="role")

    @pytest.mark.parametrize("approver", [APPROVER, CITY_APPROVER])
    def test_is_recorded_by_the_district_or_above(self, approver):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, rejecting(actor=approver, rejected_on=APPRAISED_ON))

        then(outcome, HouseholdFile.Rejected, reason="家庭收入超过标准", actor=approver)

    def test_is_not_dated_before_the_appraisal(self):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, rejecting(actor=APPROVER, rejected_on=date(2026, 3, 10)))

        then_refused(outcome, InvalidValue, field="rejected_on")


class TestRejectionBeforeReview:
    @pytest.mark.parametrize("status", [Status.APPLIED, Status.VERIFIED])
    def test_is_recorded_by_the_base_level_clerk(self, status):
        file = given(*history(status))

        outcome = when(file, rejecting(actor=CLERK, rejected_on=date(2026, 3, 10)))

        then(outcome, HouseholdFile.Rejected, actor=CLERK, rejected_on=date(2026, 3, 10))

    def test_leaves_the_file_rejected(self):
        file = given(*history(Status.APPLIED))

        when(file, rejecting())

        assert file.status is Status.REJECTED

    def test_is_not_dated_before_the_application(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, rejecting(rejected_on=date(2026, 3, 1)))

        then_refused(outcome, InvalidValue, field="rejected_on")

    def test_is_refused_to_a_clerk_of_another_union(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, rejecting(actor=Actor("clerk-x", "130306002", Role.CLERK)))

        then_refused(outcome, OutOfScope)

    def test_is_not_dated_before_the_investigation(self):
        file = given(*history(Status.VERIFIED))

        outcome = when(file, rejecting(rejected_on=date(2026, 3, 5)))

        then_refused(outcome, InvalidValue, field="rejected_on")


class TestDeletion:
    def test_is_refused_to_a_base_level_union(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.DELETED, actor=BASE_APPROVER))

        then_refused(outcome, NotPermitted, rule="district_or_above")

    def test_is_refused_to_a_clerk(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.DELETED, actor=CLERK))

        then_refused(outcome, NotPermitted, rule="role")

    def test_is_refused_to_a_district_the_file_does_not_lie_in(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.DELETED, actor=OTHER_DISTRICT_APPROVER))

        then_refused(outcome, OutOfScope)

    def test_is_recorded_by_the_district(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.DELETED))

        then(outcome, HouseholdFile.Exited, kind=ExitKind.DELETED, actor=APPROVER)

    def test_leaves_the_file_deleted(self):
        file = given(*history(Status.APPROVED))

        when(file, exiting(ExitKind.DELETED))

        assert file.status is Status.DELETED

    def test_of_a_file_never_approved_is_dated_from_its_application(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, exiting(ExitKind.DELETED, exited_on=date(2026, 3, 2)))

        then(outcome, HouseholdFile.Exited, kind=ExitKind.DELETED, exited_on=date(2026, 3, 2))

    def test_of_a_deleted_file_is_refused(self):
        file = given(*history(Status.DELETED))

        outcome = when(file, exiting(ExitKind.DELETED))

        then_refused(outcome, WrongState, status="deleted")


class TestAFileSentBack:
    def test_is_investigated_again(self):
        file = given(*record(verifying(), appraising(), sending_back()))

        outcome = when(file, verifying(verified_on=date(2026, 3, 27)))

        then(outcome, HouseholdFile.Verified, verified_on=date(2026, 3, 27))

    def test_cannot_be_approved_before_it_is_appraised_again(self):
        file = given(*record(verifying(), appraising(), sending_back()))

        outcome = when(file, approving())

        then_refused(outcome, WrongState, status="sent_back")
