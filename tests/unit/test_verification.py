"""入户调查: at least two investigators record members, means and answers; eligibility is judged."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal

import pytest

from domain.eligibility import Exclusions, Means
from domain.errors import InvalidIdNumber, InvalidValue, NotEligible, RuleViolated
from domain.household import HouseholdFile
from domain.values import Category, CategoryScheme, Cause, Status, WorkerKind

from .given import (
    APPLIED_ON,
    CHILD_ID,
    CLERK,
    HEAD_ID,
    LINE,
    SENT_BACK_ON,
    SPOUSE_ID,
    TODAY,
    appraising,
    child,
    given,
    head,
    history,
    record,
    sending_back,
    spouse,
    then,
    then_refused,
    verifying,
    when,
)

EXCLUSIONS = [f.name for f in fields(Exclusions)]


class TestTheInvestigators:
    def test_are_recorded_when_two_different_people(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(investigators=("赵一", "钱二")))

        then(outcome, HouseholdFile.Verified, investigators=("赵一", "钱二"))

    def test_cannot_be_a_single_person(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(investigators=("赵一",)))

        then_refused(outcome, RuleViolated, rule="two_investigators")

    def test_count_one_name_given_twice_once(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(investigators=("赵一", "赵一")))

        then_refused(outcome, RuleViolated, rule="two_investigators")

    def test_count_one_name_with_surrounding_spaces_once(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(investigators=("赵一", " 赵一 ")))

        then_refused(outcome, RuleViolated, rule="two_investigators")

    def test_are_recorded_once_each_when_a_name_repeats(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(investigators=("赵一", "钱二", "赵一")))

        then(outcome, HouseholdFile.Verified, investigators=("赵一", "钱二"))


class TestTheMembers:
    def test_are_refused_when_an_id_number_is_invalid(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(members=(spouse(id_number=SPOUSE_ID[:-1] + "9"),)))

        then_refused(outcome, InvalidIdNumber, field="members[0].id_number")

    def test_name_the_member_whose_id_number_is_invalid(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(members=(spouse(), child(id_number="123"))))

        then_refused(outcome, InvalidIdNumber, field="members[1].id_number")

    def test_cannot_include_the_head_again(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(members=(spouse(id_number=HEAD_ID),)))

        then_refused(outcome, RuleViolated, rule="one_person_once", field="members[0].id_number")

    def test_cannot_include_one_person_twice(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(members=(spouse(), child(id_number=SPOUSE_ID))))

        then_refused(outcome, RuleViolated, rule="one_person_once", field="members[1].id_number")

    def test_are_recorded_with_normalised_id_numbers(self):
        file = given(*history(Status.APPLIED))
        spaced = f"{CHILD_ID[:6]} {CHILD_ID[6:14]} {CHILD_ID[14:]}"

        outcome = when(file, verifying(members=(spouse(), child(id_number=spaced))))

        event = then(outcome, HouseholdFile.Verified)
        assert event.members[1].id_number == CHILD_ID

    def test_count_only_those_living_together_with_the_head(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(members=(spouse(), child(lives_together=False))))

        event = then(outcome, HouseholdFile.Verified)
        assert event.means.members_living_together == 2

    def test_refuse_a_negative_income(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(members=(spouse(annual_income=Decimal("-1")),)))

        then_refused(outcome, InvalidValue, field="members[0].annual_income")


class TestTheMeans:
    def test_are_recorded_in_yuan_to_the_fen(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(annual_income="9600.456", rigid_expenses=1200))

        then(
            outcome,
            HouseholdFile.Verified,
            means=Means(
                annual_income=Decimal("9600.46"),
                rigid_expenses=Decimal("1200.00"),
                members_living_together=2,
                hardship_losses=Decimal("0.00"),
                head_income=Decimal("9600.46"),
                members_income=Decimal("0.00"),
            ),
        )

    @pytest.mark.parametrize("field", ["annual_income", "rigid_expenses", "hardship_losses"])
    def test_refuse_a_negative_amount(self, field):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(**{field: Decimal("-0.01")}))

        then_refused(outcome, InvalidValue, field=field)

    @pytest.mark.parametrize("field", ["annual_income", "rigid_expenses", "hardship_losses"])
    def test_refuse_a_float(self, field):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(**{field: 9600.0}))

        then_refused(outcome, InvalidValue, field=field)

    @pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN"])
    def test_refuse_a_non_finite_amount(self, value):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(annual_income=Decimal(value)))

        then_refused(outcome, InvalidValue, field="annual_income")


class TestEligibilityAtVerification:
    def test_records_a_deep_hardship_below_the_line(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying())

        then(outcome, HouseholdFile.Verified, category=Category.DEEP, poverty_line=LINE)

    def test_records_a_relative_hardship_below_twice_the_line(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(annual_income=Decimal("15600")))  # 600 a head a month

        then(outcome, HouseholdFile.Verified, category=Category.RELATIVE)

    def test_refuses_a_household_at_twice_the_line(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(annual_income=Decimal("27600")))  # exactly 1100

        then_refused(outcome, NotEligible)

    def test_records_an_accidental_hardship_with_heavy_losses(self):
        file = given(*history(Status.APPLIED))

        outcome = when(
            file,
            verifying(
                annual_income=Decimal("40000"),
                rigid_expenses=0,
                accidental_event=True,
                hardship_losses=Decimal("32001"),
                primary_cause=Cause.ACCIDENT,
            ),
        )

        then(outcome, HouseholdFile.Verified, category=Category.ACCIDENTAL, accidental_event=True)

    def test_judges_a_2016_file_under_the_2016_scheme(self):
        file = given(*record(scheme=CategoryScheme.V2016))

        outcome = when(file, verifying(annual_income=Decimal("21000")))  # 825 = 1.5 × 550

        then(outcome, HouseholdFile.Verified, category=Category.MARGINAL)

    @pytest.mark.parametrize("criterion", EXCLUSIONS)
    def test_refuses_a_household_meeting_one_exclusion_criterion(self, criterion):
        file = given(*history(Status.APPLIED))

        outcome = when(
            file, verifying(exclusions=Exclusions(**{criterion: True}), annual_income=Decimal("0"))
        )

        error = then_refused(outcome, NotEligible)
        assert any(criterion in reason for reason in error.reasons)


class TestTheCauses:
    def test_allow_three_secondary_causes(self):
        file = given(*history(Status.APPLIED))
        three = (Cause.DISABILITY, Cause.EDUCATION, Cause.LOW_WAGE)

        outcome = when(file, verifying(secondary_causes=three))

        then(outcome, HouseholdFile.Verified, primary_cause=Cause.ILLNESS, secondary_causes=three)

    def test_allow_no_more_than_three_secondary_causes(self):
        file = given(*history(Status.APPLIED))
        four = (Cause.DISABILITY, Cause.EDUCATION, Cause.LOW_WAGE, Cause.HOUSING)

        outcome = when(file, verifying(secondary_causes=four))

        then_refused(outcome, InvalidValue, field="secondary_causes")

    def test_do_not_repeat_the_primary_cause(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(secondary_causes=(Cause.ILLNESS,)))

        then_refused(outcome, InvalidValue, field="secondary_causes")


class TestTheVerificationDate:
    def test_cannot_be_after_today(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(verified_on=date(2026, 11, 22)))

        then_refused(outcome, InvalidValue, field="verified_on")

    def test_cannot_be_before_the_application(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(verified_on=date(2026, 3, 1)))

        then_refused(outcome, InvalidValue, field="verified_on")

    def test_may_be_the_day_of_the_application(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(verified_on=APPLIED_ON))

        then(outcome, HouseholdFile.Verified, verified_on=APPLIED_ON)

    def test_cannot_be_before_a_send_back(self):
        file = given(*record(verifying(), appraising(), sending_back()))

        outcome = when(file, verifying(verified_on=date(2026, 3, 25)))

        then_refused(outcome, InvalidValue, field="verified_on")

    def test_may_follow_a_send_back(self):
        file = given(*record(verifying(), appraising(), sending_back()))

        outcome = when(file, verifying(verified_on=SENT_BACK_ON))

        then(outcome, HouseholdFile.Verified, verified_on=SENT_BACK_ON)


class TestAMigrantWorker:
    def test_is_refused_with_less_than_a_year_of_labour_relation(self):
        file = given(
            *record(
                worker_kind=WorkerKind.MIGRANT, head=head(labour_relation_since=date(2025, 3, 10))
            )
        )

        outcome = when(file, verifying())

        then_refused(outcome, RuleViolated, rule="migrant_conditions")

    def test_is_refused_without_a_labour_relation_date(self):
        file = given(*record(worker_kind=WorkerKind.MIGRANT, head=head()))

        outcome = when(file, verifying())

        then_refused(outcome, RuleViolated, rule="migrant_conditions")

    def test_is_refused_when_not_a_union_member(self):
        file = given(
            *record(
                worker_kind=WorkerKind.MIGRANT,
                head=head(union_member=False, labour_relation_since=date(2020, 1, 1)),
            )
        )

        outcome = when(file, verifying())

        then_refused(outcome, RuleViolated, rule="migrant_conditions")

    def test_is_verified_after_exactly_a_year_of_labour_relation(self):
        file = given(
            *record(
                worker_kind=WorkerKind.MIGRANT, head=head(labour_relation_since=date(2025, 3, 9))
            )
        )

        outcome = when(file, verifying())

        then(outcome, HouseholdFile.Verified, verified_on=date(2026, 3, 9))


class TestTheHouseholdMeans:
    """`annual_income` is the head's own; the household's total adds every member's income."""

    def test_add_every_member_s_income_to_the_head_s(self):
        file = given(*history(Status.APPLIED))

        outcome = when(
            file,
            verifying(
                annual_income=Decimal("6000"),
                members=(spouse(annual_income=Decimal("3000")), child()),
            ),
        )

        then(
            outcome,
            HouseholdFile.Verified,
            means=Means(
                annual_income=Decimal("9000.00"),
                rigid_expenses=Decimal("1200.00"),
                members_living_together=3,
                hardship_losses=Decimal("0.00"),
                head_income=Decimal("6000.00"),
                members_income=Decimal("3000.00"),
            ),
            adjusted_per_capita=Decimal("216.67"),  # (9000 − 1200) / 12 / 3
        )

    def test_keep_a_household_with_a_well_paid_member_out_of_deep_hardship(self):
        # the head earns 6,000; the spouse 120,000: (126,000 − 1,200) / 12 / 2 = 5,200 a month
        file = given(*history(Status.APPLIED))

        outcome = when(
            file,
            verifying(
                annual_income=Decimal("6000"), members=(spouse(annual_income=Decimal("120000")),)
            ),
        )

        then_refused(outcome, NotEligible)

    def test_count_a_member_s_income_when_the_facts_are_revised(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file,
            lambda f: f.revise(
                actor=CLERK,
                effective_on=date(2026, 7, 1),
                reason="配偶就业",
                members=(spouse(annual_income=Decimal("120000")),),
                today=TODAY,
            ),
        )

        event = then(outcome, HouseholdFile.Revised)
        assert event.means.annual_income == Decimal("129600.00")
        assert event.means.head_income == Decimal("9600.00")
        assert event.means.members_income == Decimal("120000.00")
