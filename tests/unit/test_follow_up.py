"""After approval: the plan, visits, revisions, re-checks, and moving the file to another union."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.eligibility import Means
from domain.errors import InvalidValue, OutOfScope, RuleViolated
from domain.household import HouseholdFile
from domain.idnumber import make_id_number
from domain.values import Category, Material, RecheckResult, Status

from .given import (
    APPROVER,
    BASE,
    CLERK,
    DISTRICT,
    OTHER_BASE,
    OTHER_CLERK,
    OTHER_DISTRICT_BASE,
    PARAMETERS,
    TODAY,
    child,
    given,
    head,
    history,
    in_force,
    spouse,
    then,
    then_refused,
    when,
)

D0 = Decimal("0.00")


def plan(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": CLERK,
        "agreed_on": date(2026, 4, 2),
        "helper": "孙三",
        "measures": ("技能培训", "推荐就业"),
        "goals": "一年内再就业",
        "deadline": date(2027, 4, 1),
        "signed_by_worker": True,
        "today": TODAY,
    }
    return fields | overrides


def visit(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": CLERK,
        "visited_on": date(2026, 6, 1),
        "cadre": "孙三",
        "content": "季度走访，了解就医情况",
        "today": TODAY,
    }
    return fields | overrides


def revision(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": CLERK,
        "effective_on": date(2026, 7, 1),
        "reason": "家庭情况变化",
        "today": TODAY,
    }
    return fields | overrides


def recheck(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": CLERK,
        "rechecked_on": date(2026, 10, 1),
        "parameters": PARAMETERS,
        "today": TODAY,
    }
    return fields | overrides


def transfer(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": CLERK,
        "transferred_on": date(2026, 8, 1),
        "to_unit": OTHER_BASE,
        "reason": "调换工作单位",
        "today": TODAY,
    }
    return fields | overrides


class TestAPlan:
    def test_records_the_named_helper_measures_and_deadline(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.agree_plan(**plan()))

        then(
            outcome,
            HouseholdFile.PlanAgreed,
            helper="孙三",
            measures=("技能培训", "推荐就业"),
            deadline=date(2027, 4, 1),
            signed_by_worker=True,
        )

    def test_names_the_helper_on_the_file(self):
        file = given(*history(Status.APPROVED))

        when(file, lambda f: f.agree_plan(**plan()))

        assert file.helper == "孙三"

    def test_must_be_signed_by_the_worker(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.agree_plan(**plan(signed_by_worker=False)))

        then_refused(outcome, RuleViolated, rule="plan_signed")

    def test_needs_a_named_helper(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.agree_plan(**plan(helper="")))

        then_refused(outcome, InvalidValue, field="helper")

    def test_needs_at_least_one_measure(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.agree_plan(**plan(measures=())))

        then_refused(outcome, InvalidValue, field="measures")

    def test_has_no_deadline_before_its_agreement(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.agree_plan(**plan(deadline=date(2026, 4, 1))))

        then_refused(outcome, InvalidValue, field="deadline")

    def test_is_not_agreed_before_the_approval(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.agree_plan(**plan(agreed_on=date(2026, 3, 24))))

        then_refused(outcome, InvalidValue, field="agreed_on")


class TestAVisit:
    def test_records_the_cadre_and_what_was_found(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.visit(**visit()))

        then(
            outcome,
            HouseholdFile.Visited,
            cadre="孙三",
            content="季度走访，了解就医情况",
            quarter_income=None,
            quarter_costs=None,
        )

    def test_records_the_quarter_income_and_costs_in_yuan(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file, lambda f: f.visit(**visit(quarter_income="2400", quarter_costs=Decimal("310.5")))
        )

        then(
            outcome,
            HouseholdFile.Visited,
            quarter_income=Decimal("2400.00"),
            quarter_costs=Decimal("310.50"),
        )

    def test_refuses_a_float_quarter_income(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.visit(**visit(quarter_income=2400.0)))

        then_refused(outcome, InvalidValue, field="quarter_income")

    def test_refuses_negative_quarter_costs(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.visit(**visit(quarter_costs=Decimal("-1"))))

        then_refused(outcome, InvalidValue, field="quarter_costs")

    def test_keeps_the_latest_visit_date(self):
        file = given(*history(Status.APPROVED))

        when(file, lambda f: f.visit(**visit(visited_on=date(2026, 6, 1))))
        when(file, lambda f: f.visit(**visit(visited_on=date(2026, 5, 1))))

        assert file.last_visited_on == date(2026, 6, 1)


class TestARevision:
    def test_recounts_the_members_living_together(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.revise(**revision(members=(spouse(), child()))))

        then(
            outcome,
            HouseholdFile.Revised,
            means=Means(Decimal("9600.00"), Decimal("1200.00"), 3, D0, Decimal("9600.00"), D0),
        )

    def test_changes_only_the_figures_given(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.revise(**revision(annual_income=Decimal("12000"))))

        then(
            outcome,
            HouseholdFile.Revised,
            means=Means(Decimal("12000.00"), Decimal("1200.00"), 2, D0, Decimal("12000.00"), D0),
            members=None,
            head=None,
        )

    def test_updates_the_means_on_the_file(self):
        file = given(*history(Status.APPROVED))

        when(file, lambda f: f.revise(**revision(rigid_expenses=Decimal("3000"))))

        assert file.means == Means(
            Decimal("9600.00"), Decimal("3000.00"), 2, D0, Decimal("9600.00"), D0
        )

    def test_cannot_change_the_heads_id_number(self):
        file = given(*history(Status.APPROVED))
        other = make_id_number("130306", date(1978, 5, 6), 31).value

        outcome = when(file, lambda f: f.revise(**revision(head=head(id_number=other))))

        then_refused(outcome, RuleViolated, rule="head_identity")

    def test_may_change_the_heads_address(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.revise(**revision(head=head(address="抚宁区新村2号"))))

        event = then(outcome, HouseholdFile.Revised)
        assert event.head.address == "抚宁区新村2号"

    def test_validates_the_members_id_numbers(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file,
            lambda f: f.revise(
                **revision(members=(spouse(), child(id_number="110105194912310021")))
            ),
        )

        then_refused(outcome, InvalidValue, field="members[1].id_number")

    def test_changes_at_least_one_fact(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.revise(**revision()))

        then_refused(outcome, InvalidValue, field="revision")

    def test_may_only_add_materials(self):
        file = given(*history(Status.APPROVED))

        when(file, lambda f: f.revise(**revision(materials=(Material.DIAGNOSIS,))))

        assert Material.DIAGNOSIS in file.materials


class TestARecheck:
    def test_finds_a_household_still_eligible(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.recheck(**recheck()))

        then(
            outcome,
            HouseholdFile.Rechecked,
            result=RecheckResult.STILL_ELIGIBLE,
            category=Category.DEEP,
            poverty_line=Decimal("550.00"),
        )

    def test_finds_a_change_of_category(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file, lambda f: f.recheck(**recheck(parameters=in_force(poverty_line=Decimal("300"))))
        )

        then(
            outcome,
            HouseholdFile.Rechecked,
            result=RecheckResult.CATEGORY_CHANGED,
            category=Category.RELATIVE,
        )

    def test_leaves_the_new_category_to_an_approver_s_confirmation(self):
        file = given(*history(Status.APPROVED))

        when(file, lambda f: f.recheck(**recheck(parameters=in_force(poverty_line=Decimal("300")))))

        assert file.category is Category.DEEP
        assert file.category_pending is Category.RELATIVE

    def test_finds_an_exit_due_above_the_standard(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file, lambda f: f.recheck(**recheck(parameters=in_force(poverty_line=Decimal("150"))))
        )

        then(outcome, HouseholdFile.Rechecked, result=RecheckResult.EXIT_DUE, category=None)

    def test_judges_revised_figures(self):
        file = given(*history(Status.APPROVED))
        when(file, lambda f: f.revise(**revision(annual_income=Decimal("40000"))))

        outcome = when(file, lambda f: f.recheck(**recheck()))

        then(outcome, HouseholdFile.Rechecked, result=RecheckResult.EXIT_DUE)

    def test_keeps_the_category_when_an_exit_is_due(self):
        file = given(*history(Status.APPROVED))

        when(file, lambda f: f.recheck(**recheck(parameters=in_force(poverty_line=Decimal("150")))))

        assert file.category is Category.DEEP


class TestATransfer:
    def test_moves_the_file_to_the_new_base_level_union(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.transfer(**transfer()))

        then(outcome, HouseholdFile.Transferred, from_unit=BASE, to_unit=OTHER_BASE)

    def test_hands_the_file_to_the_new_unions_clerk(self):
        file = given(*history(Status.APPROVED))
        when(file, lambda f: f.transfer(**transfer()))

        outcome = when(file, lambda f: f.visit(**visit(actor=OTHER_CLERK, visited_on=TODAY)))

        then(outcome, HouseholdFile.Visited, actor=OTHER_CLERK)

    def test_takes_the_file_away_from_the_old_unions_clerk(self):
        file = given(*history(Status.APPROVED))
        when(file, lambda f: f.transfer(**transfer()))

        outcome = when(file, lambda f: f.visit(**visit(visited_on=TODAY)))

        then_refused(outcome, OutOfScope)

    def test_to_another_district_takes_it_out_of_the_old_districts_scope(self):
        file = given(*history(Status.APPROVED))
        when(file, lambda f: f.transfer(**transfer(to_unit=OTHER_DISTRICT_BASE)))

        outcome = when(file, lambda f: f.recheck(**recheck(actor=APPROVER)))

        then_refused(outcome, OutOfScope)

    def test_goes_only_to_a_base_level_union(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.transfer(**transfer(to_unit=DISTRICT)))

        then_refused(outcome, RuleViolated, rule="transfer_to_base")

    def test_is_not_made_to_the_union_that_holds_the_file(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.transfer(**transfer(to_unit=BASE)))

        then_refused(outcome, InvalidValue, field="to_unit")

    def test_refuses_an_invalid_unit_code(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.transfer(**transfer(to_unit="13030600X")))

        then_refused(outcome, InvalidValue, field="unit")
