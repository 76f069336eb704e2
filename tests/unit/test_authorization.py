"""Who may do what: the role first, then the subtree, then the level rule for decisions."""

from __future__ import annotations

import pytest

from domain.authorization import DISTRICT_ACTS, Act, authorise
from domain.errors import NotPermitted, OutOfScope
from domain.units import UnitCode
from domain.values import Actor, Role

FILE_UNIT = UnitCode("130306001")
DECISIONS = sorted(DISTRICT_ACTS)
BASE_WORK = [
    Act.APPLY,
    Act.VERIFY,
    Act.APPRAISE,
    Act.REJECT,
    Act.ASSIST,
    Act.PLAN,
    Act.VISIT,
    Act.REVISE,
    Act.RECHECK,
    Act.EXIT,
    Act.RETURN,
    Act.TRANSFER,
]


class TestTheDecisionsTable:
    def test_names_approval_send_back_rejection_at_review_and_deletion(self):
        assert {Act.APPROVE, Act.SEND_BACK, Act.REJECT_AT_REVIEW, Act.DELETE} == DISTRICT_ACTS


class TestADecision:
    @pytest.mark.parametrize("act", DECISIONS)
    def test_is_refused_to_a_base_level_approver(self, act):
        with pytest.raises(NotPermitted) as refused:
            authorise(Actor("a", "130306001", Role.APPROVER), act, FILE_UNIT)

        assert refused.value.rule == "district_or_above"

    @pytest.mark.parametrize("act", DECISIONS)
    def test_is_refused_to_a_district_clerk(self, act):
        with pytest.raises(NotPermitted) as refused:
            authorise(Actor("c", "130306", Role.CLERK), act, FILE_UNIT)

        assert refused.value.rule == "role"

    @pytest.mark.parametrize("unit", ["130306", "1303", "13"])
    @pytest.mark.parametrize("act", DECISIONS)
    def test_is_permitted_to_an_approver_at_the_district_or_above(self, act, unit):
        authorise(Actor("a", unit, Role.APPROVER), act, FILE_UNIT)


class TestBaseLevelWork:
    @pytest.mark.parametrize("act", BASE_WORK)
    def test_is_permitted_to_the_clerk_of_the_file(self, act):
        authorise(Actor("c", "130306001", Role.CLERK), act, FILE_UNIT)

    @pytest.mark.parametrize("act", BASE_WORK)
    def test_is_refused_to_an_inspector(self, act):
        with pytest.raises(NotPermitted):
            authorise(Actor("i", "130306", Role.INSPECTOR), act, FILE_UNIT)

    @pytest.mark.parametrize("role", [Role.ADMIN, Role.SYNC])
    def test_is_refused_to_an_admin_or_a_machine_account(self, role):
        with pytest.raises(NotPermitted):
            authorise(Actor("x", "13", role), Act.VERIFY, FILE_UNIT)


class TestErasingPersonalData:
    @pytest.mark.parametrize("unit", ["130306", "1303", "13"])
    def test_is_permitted_to_an_admin_at_the_district_or_above(self, unit):
        authorise(Actor("x", unit, Role.ADMIN), Act.ERASE, FILE_UNIT)

    def test_is_refused_to_an_admin_of_a_base_level_union(self):
        with pytest.raises(NotPermitted) as refused:
            authorise(Actor("x", "130306001", Role.ADMIN), Act.ERASE, FILE_UNIT)

        assert refused.value.rule == "district_or_above"

    @pytest.mark.parametrize("role", [Role.CLERK, Role.APPROVER, Role.INSPECTOR, Role.SYNC])
    def test_is_refused_to_every_other_role(self, role):
        with pytest.raises(NotPermitted) as refused:
            authorise(Actor("x", "130306", role), Act.ERASE, FILE_UNIT)

        assert refused.value.rule == "role"


class TestAFileOutsideTheSubtree:
    @pytest.mark.parametrize("unit", ["130306002", "130302", "1302", "14"])
    def test_is_out_of_scope(self, unit):
        with pytest.raises(OutOfScope):
            authorise(Actor("a", unit, Role.APPROVER), Act.READ, FILE_UNIT)

    def test_is_out_of_scope_before_the_role_is_considered(self):
        with pytest.raises(OutOfScope):
            authorise(Actor("s", "130302", Role.SYNC), Act.APPROVE, FILE_UNIT)
