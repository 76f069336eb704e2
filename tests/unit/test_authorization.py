"""Who may do what: the role first, then the subtree, then the level rule for decisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.authorization import (
    AUTHORISATION,
    DISTRICT_ACTS,
    Act,
    Order,
    Scope,
    authorise,
    may,
    sync_feed_scope,
)
from domain.errors import InvalidValue, NotPermitted, OutOfScope
from domain.units import UnitCode, Units, entry_for
from domain.values import Actor, Level, Role

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
    Act.CHECK_FINDING,
    Act.FOLLOW_UP,
]


class TestTheDecisionsTable:
    def test_names_approval_send_back_rejection_at_review_and_deletion(self):
        assert {
            Act.APPROVE,
            Act.SEND_BACK,
            Act.REJECT_AT_REVIEW,
            Act.DELETE,
            Act.CONFIRM_CATEGORY,
            Act.KEEP,
            Act.CANCEL_DUPLICATE,
        } == DISTRICT_ACTS


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


# ------------------------------------------------------------------------------ the whole table

# What the table must answer, written out again here on purpose: a change to who may do what
# changes both, and a new act fails `TestTheTable` until it has a row in each.
CLERK, APPROVER, INSPECTOR, ADMIN, SYNC = (
    Role.CLERK,
    Role.APPROVER,
    Role.INSPECTOR,
    Role.ADMIN,
    Role.SYNC,
)
ANY_LEVEL = frozenset(Level)
DISTRICT_UP = frozenset({Level.NATION, Level.PROVINCE, Level.CITY, Level.DISTRICT})
FILE_WORK = ({CLERK, APPROVER}, ANY_LEVEL)
DECIDING = ({APPROVER}, DISTRICT_UP)
EXPECTED: dict[Act, tuple[set[Role], frozenset[Level]]] = {
    Act.APPLY: FILE_WORK,
    Act.VERIFY: FILE_WORK,
    Act.APPRAISE: FILE_WORK,
    Act.APPROVE: DECIDING,
    Act.SEND_BACK: DECIDING,
    Act.REJECT: FILE_WORK,
    Act.REJECT_AT_REVIEW: DECIDING,
    Act.ASSIST: FILE_WORK,
    Act.PLAN: FILE_WORK,
    Act.VISIT: FILE_WORK,
    Act.REVISE: FILE_WORK,
    Act.RECHECK: FILE_WORK,
    Act.EXIT: FILE_WORK,
    Act.DELETE: DECIDING,
    Act.RETURN: FILE_WORK,
    Act.TRANSFER: FILE_WORK,
    Act.READ: ({CLERK, APPROVER, INSPECTOR, ADMIN}, ANY_LEVEL),
    Act.UNMASK: ({APPROVER, INSPECTOR}, ANY_LEVEL),
    Act.ERASE: ({ADMIN}, DISTRICT_UP),
    Act.CHECK_FINDING: FILE_WORK,
    Act.FOLLOW_UP: FILE_WORK,
    Act.CONFIRM_CATEGORY: DECIDING,
    Act.KEEP: DECIDING,
    Act.CANCEL_DUPLICATE: DECIDING,
    Act.PRINT: ({CLERK, APPROVER, INSPECTOR}, ANY_LEVEL),
    Act.ATTACH: FILE_WORK,
    Act.RECORD_MEETING: FILE_WORK,
    Act.RECORD_ASSESSMENT: FILE_WORK,
    Act.SPOT_CHECK: ({INSPECTOR, APPROVER}, DISTRICT_UP),
    Act.READ_SPOT_CHECK: ({CLERK, APPROVER, INSPECTOR, ADMIN}, ANY_LEVEL),
    Act.RECONCILE: ({CLERK, APPROVER, INSPECTOR}, ANY_LEVEL),
    Act.READ_RECONCILIATION: (set(Role), ANY_LEVEL),
    Act.MATCH_CIVIL_AFFAIRS: ({CLERK, APPROVER, INSPECTOR}, ANY_LEVEL),
    Act.SET_POLICY: ({ADMIN}, ANY_LEVEL),
    Act.READ_POLICY: ({CLERK, APPROVER, INSPECTOR, ADMIN}, ANY_LEVEL),
    Act.READ_UNITS: (set(Role), ANY_LEVEL),
    Act.MANAGE_UNITS: ({ADMIN}, ANY_LEVEL),
    Act.MINT_TOKEN: ({ADMIN}, ANY_LEVEL),
    Act.MANAGE_ACCOUNTS: ({ADMIN}, ANY_LEVEL),
    Act.READ_SYNC_FEED: ({SYNC}, ANY_LEVEL),
    Act.READ_SYNC_STATUS: ({ADMIN, INSPECTOR, SYNC}, ANY_LEVEL),
}
ROLE_FIRST = {Act.SET_POLICY, Act.MANAGE_UNITS, Act.MINT_TOKEN, Act.MANAGE_ACCOUNTS}
NOT_ABOUT_A_UNIT = {Act.READ_POLICY, Act.READ_SYNC_FEED, Act.READ_SYNC_STATUS}
# An acting unit at each level, and a base-level union in its subtree (the target).
UNIT_AT = {
    Level.NATION: "00",
    Level.PROVINCE: "13",
    Level.CITY: "1303",
    Level.DISTRICT: "130306",
    Level.BASE: "130306001",
}


class TestTheTable:
    def test_has_a_row_for_every_act(self):
        assert set(AUTHORISATION) == set(Act)

    def test_is_restated_in_these_tests_for_every_act(self):
        # a new `Act` fails here until its expected answers are written into EXPECTED
        assert set(EXPECTED) == set(Act)

    def test_restricts_levels_only_to_a_district_or_above(self):
        # the level refusal names the rule `district_or_above`
        assert {rule.levels for rule in AUTHORISATION.values()} == {ANY_LEVEL, DISTRICT_UP}

    def test_orders_the_role_first_only_for_an_admins_acts_on_the_tree_its_parameters_and_tokens(
        self,
    ):
        first = {act for act, rule in AUTHORISATION.items() if rule.first is Order.ROLE_FIRST}
        assert first - NOT_ABOUT_A_UNIT == ROLE_FIRST

    def test_asks_for_a_target_in_the_subtree_for_every_act_about_a_unit(self):
        none = {act for act, rule in AUTHORISATION.items() if rule.scope is Scope.NONE}
        assert none == NOT_ABOUT_A_UNIT

    def test_names_every_act_in_chinese(self):
        assert all(rule.zh.strip() for rule in AUTHORISATION.values())


@pytest.mark.parametrize("level", list(Level))
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("act", list(Act))
class TestEveryRoleAtEveryLevel:
    def test_is_answered_by_the_table_as_stated(self, act, role, level):
        roles, levels = EXPECTED[act]

        assert may(role, level, act) is (role in roles and level in levels)

    def test_is_permitted_or_refused_with_the_rule_named(self, act, role, level):
        roles, levels = EXPECTED[act]
        actor = Actor("x", UNIT_AT[level], role)
        target = None if act in NOT_ABOUT_A_UNIT else UnitCode("130306001")

        if role not in roles:
            with pytest.raises(NotPermitted) as refused:
                authorise(actor, act, target)
            assert refused.value.rule == "role"
        elif level not in levels:
            with pytest.raises(NotPermitted) as refused:
                authorise(actor, act, target)
            assert refused.value.rule == "district_or_above"
        else:
            authorise(actor, act, target)


@pytest.mark.parametrize("act", sorted(set(Act) - NOT_ABOUT_A_UNIT))
class TestATargetOutsideTheSubtree:
    def test_is_out_of_scope_for_a_role_that_may_act(self, act):
        role = sorted(EXPECTED[act][0])[0]

        with pytest.raises(OutOfScope) as refused:
            authorise(Actor("x", "1302", role), act, UnitCode("130306001"))

        assert refused.value.message
        assert refused.value.zh


@pytest.mark.parametrize(
    "act", sorted(a for a in set(Act) - NOT_ABOUT_A_UNIT if set(Role) - EXPECTED[a][0])
)
class TestATargetOutsideTheSubtreeAskedForByARoleThatMayNotAct:
    def test_is_refused_by_role_only_for_an_admins_acts(self, act):
        role = sorted(set(Role) - EXPECTED[act][0])[0]

        with pytest.raises((NotPermitted, OutOfScope)) as refused:
            authorise(Actor("x", "1302", role), act, UnitCode("130306001"))

        assert isinstance(refused.value, NotPermitted) is (act in ROLE_FIRST)


class TestTheTargetAsText:
    def test_is_parsed_after_the_role_for_an_admins_act(self):
        with pytest.raises(NotPermitted) as refused:
            authorise(Actor("c", "13", Role.CLERK), Act.MINT_TOKEN, "not-a-unit")

        assert refused.value.rule == "role"

    def test_is_refused_as_an_invalid_value_for_an_admin(self):
        with pytest.raises(InvalidValue):
            authorise(Actor("a", "13", Role.ADMIN), Act.MINT_TOKEN, "not-a-unit")

    def test_is_required_for_an_act_about_a_unit(self):
        with pytest.raises(TypeError):
            authorise(Actor("a", "13", Role.ADMIN), Act.MINT_TOKEN)


class TestTheRefusalsWords:
    """The words the API and the CLI have always answered with, in both languages."""

    def test_of_a_spot_check_below_a_district(self):
        with pytest.raises(NotPermitted) as refused:
            authorise(Actor("i", "130306001", Role.INSPECTOR), Act.SPOT_CHECK, FILE_UNIT)

        assert refused.value.zh == "抽查须由区县级及以上工会组织"
        assert refused.value.message == (
            "only a district (county) union or above spot-checks; 130306001 is a base union"
        )

    def test_of_a_decision_below_a_district(self):
        with pytest.raises(NotPermitted) as refused:
            authorise(Actor("a", "130306001", Role.APPROVER), Act.SEND_BACK, FILE_UNIT)

        assert refused.value.message == (
            "only a district (county) union or above, or an industry or system union registered"
            " as approving, may send back; 130306001 is a base union"
        )
        assert refused.value.zh == (
            "审批、退回、审核不予建档、删除和销毁个人信息须由区县级及以上工会"
            "或登记为审批单位的产业、系统工会办理"
        )

    def test_of_an_approval_by_a_system_union_not_registered_as_approving(self):
        # seed 003: "县级或县级以上工会（省有关产业工会）" — the words name both who may
        units = Units.of([entry_for("130306X01", parent=Level.DISTRICT)])

        with pytest.raises(NotPermitted) as refused:
            authorise(
                Actor("a", "130306X01", Role.APPROVER),
                Act.APPROVE,
                "130306X01001",
                units=units,
            )

        assert refused.value.message == (
            "only a district (county) union or above, or an industry or system union registered"
            " as approving, may approve; 130306X01 is a non-approving system union"
        )
        assert refused.value.zh == (
            "审批、退回、审核不予建档、删除和销毁个人信息须由区县级及以上工会"
            "或登记为审批单位的产业、系统工会办理"
        )

    def test_of_a_file_act_by_a_role_that_may_not(self):
        with pytest.raises(NotPermitted) as refused:
            authorise(Actor("i", "130306", Role.INSPECTOR), Act.REJECT_AT_REVIEW, FILE_UNIT)

        assert refused.value.message == "role 'inspector' may not reject at review"
        assert refused.value.zh == "「抽查人员」无权办理「审核不予建档」"

    @pytest.mark.parametrize(
        ("act", "zh"),
        [
            (Act.MINT_TOKEN, "只有管理员可以签发令牌"),
            (Act.MANAGE_UNITS, "只有管理员可以维护工会组织"),
            (Act.SET_POLICY, "只有管理员可以设置地区参数"),
            (Act.RECONCILE, "无权核对台账"),
            (Act.MATCH_CIVIL_AFFAIRS, "无权进行民政比对"),
            (Act.READ_SPOT_CHECK, "无权查看"),
        ],
    )
    def test_of_a_sync_account(self, act, zh):
        with pytest.raises(NotPermitted) as refused:
            authorise(Actor("s", "13", Role.SYNC), act, FILE_UNIT)

        assert refused.value.zh == zh

    @pytest.mark.parametrize(
        ("act", "zh"),
        [
            (Act.READ_SYNC_STATUS, "无权查看同步状态"),
            (Act.READ_SYNC_FEED, "仅同步账号可读取数据流"),
        ],
    )
    def test_of_a_clerk_reading_the_sync_feed_or_status(self, act, zh):
        with pytest.raises(NotPermitted) as refused:
            authorise(Actor("c", "130306001", Role.CLERK), act)

        assert refused.value.zh == zh

    def test_of_a_sync_account_reading_parameters(self):
        with pytest.raises(NotPermitted) as refused:
            authorise(Actor("s", "13", Role.SYNC), Act.READ_POLICY)

        assert refused.value.message == "role 'sync' may not read"
        assert refused.value.zh == "「上级节点同步账户」无权查看"

    def test_of_a_file_outside_the_subtree(self):
        with pytest.raises(OutOfScope) as refused:
            authorise(Actor("c", "130306002", Role.CLERK), Act.VISIT, FILE_UNIT)

        assert refused.value.message == "file is not within unit 130306002"
        assert refused.value.zh == "档案不在本单位管辖范围内"


class TestTheSyncFeed:
    def test_is_the_tokens_unit_inside_the_nodes_subtree(self):
        actor = Actor("s", "130306", Role.SYNC)

        assert sync_feed_scope(actor, UnitCode("1303")) == UnitCode("130306")

    def test_is_the_nodes_subtree_for_a_token_of_a_unit_above_it(self):
        actor = Actor("s", "13", Role.SYNC)

        assert sync_feed_scope(actor, UnitCode("1303")) == UnitCode("1303")

    def test_is_the_tokens_unit_on_a_node_serving_every_unit(self):
        assert sync_feed_scope(Actor("s", "1303", Role.SYNC), None) == UnitCode("1303")

    def test_is_refused_to_a_token_for_another_nodes_units(self):
        with pytest.raises(NotPermitted) as refused:
            sync_feed_scope(Actor("s", "1302", Role.SYNC), UnitCode("1303"))

        assert refused.value.rule == "sync_scope"

    @pytest.mark.parametrize("role", [r for r in Role if r is not Role.SYNC])
    def test_is_refused_to_every_role_but_sync(self, role):
        with pytest.raises(NotPermitted) as refused:
            sync_feed_scope(Actor("x", "13", role), UnitCode("1303"))

        assert refused.value.rule == "role"
        assert refused.value.zh == "仅同步账号可读取数据流"


LEVELS_STATED = {"any 各级": ANY_LEVEL, "district+ 区县级及以上": DISTRICT_UP}
SCOPE_STATED = {"subtree 本单位辖区": Scope.SUBTREE, "— 不涉及单位": Scope.NONE}
ORDER_STATED = {"scope 先范围": Order.SCOPE_FIRST, "role 先角色": Order.ROLE_FIRST}


class TestTheDocumentedTable:
    """docs/authorisation.md shows the table in both languages: it must say what the code does."""

    @staticmethod
    def documented() -> dict[str, list[str]]:
        page = Path(__file__).parents[2] / "docs" / "authorisation.md"
        rows = [line for line in page.read_text().splitlines() if line.startswith("| `")]
        cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
        return {row[0].strip("`"): row[1:] for row in cells}

    def test_has_a_row_for_every_act(self):
        assert set(self.documented()) == {act.value for act in Act}

    @pytest.mark.parametrize("act", list(Act))
    def test_states_each_acts_roles_levels_scope_and_order(self, act):
        name, roles, levels, scope, first = self.documented()[act.value]
        rule = AUTHORISATION[act]
        stated_roles = (
            set(Role)
            if roles == "any 各角色"
            else {Role(part.split()[0]) for part in roles.split("、")}
        )

        assert name == rule.zh
        assert stated_roles == rule.roles
        assert LEVELS_STATED[levels] == rule.levels
        assert SCOPE_STATED[scope] is rule.scope
        assert ORDER_STATED[first] is rule.first
