"""The union tree: unit codes as paths from the nation down, parents, ancestors, "within the
subtree of", and the levels the registry stores."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidValue, NotFound, NotPermitted, OutOfScope, RuleViolated
from domain.household import HouseholdFile
from domain.units import NATION, UnitCode, UnitEntry, Units, entry_for, path_of
from domain.values import Actor, Level, Role, Status, UnitKind

from . import given as story

U = UnitCode
FUNING_BASE = U("130306001")


class TestTheLevel:
    @pytest.mark.parametrize(
        ("code", "level"),
        [
            ("13", Level.PROVINCE),
            ("1303", Level.CITY),
            ("130306", Level.DISTRICT),
            ("130306001", Level.BASE),
            ("1303060012", Level.BASE),
            ("13030600123", Level.BASE),
            ("130306001234", Level.BASE),
        ],
    )
    def test_is_read_off_the_length_of_the_code(self, code, level):
        assert U(code).level is level


class TestTheParent:
    @pytest.mark.parametrize(
        ("code", "parent"),
        [("1303", "13"), ("130306", "1303"), ("130306001", "130306"), ("130306001234", "130306")],
    )
    def test_is_the_unit_one_level_up(self, code, parent):
        assert U(code).parent == U(parent)

    def test_of_a_province_is_none(self):
        assert U("13").parent is None


class TestTheAncestors:
    def test_of_a_base_level_union_run_from_the_province_down(self):
        assert FUNING_BASE.ancestors() == (U("13"), U("1303"), U("130306"))

    def test_of_a_province_are_none(self):
        assert U("13").ancestors() == ()


class TestTheUnitAtALevel:
    @pytest.mark.parametrize(
        ("level", "code"),
        [
            (Level.PROVINCE, "13"),
            (Level.CITY, "1303"),
            (Level.DISTRICT, "130306"),
            (Level.BASE, "130306001"),
        ],
    )
    def test_is_the_ancestor_or_the_unit_itself(self, level, code):
        assert FUNING_BASE.at(level) == U(code)

    def test_is_none_below_the_unit(self):
        assert U("1303").at(Level.DISTRICT) is None


class TestWithin:
    @pytest.mark.parametrize("above", ["13", "1303", "130306", "130306001"])
    def test_a_base_level_union_lies_within_itself_and_every_ancestor(self, above):
        assert FUNING_BASE.is_within(U(above))

    @pytest.mark.parametrize("other", ["14", "1302", "130302", "130306002"])
    def test_a_base_level_union_does_not_lie_within_another_branch(self, other):
        assert not FUNING_BASE.is_within(U(other))

    def test_a_district_does_not_lie_within_its_base_level_union(self):
        assert not U("130306").is_within(FUNING_BASE)

    def test_a_base_level_union_does_not_lie_within_a_sibling_whose_code_is_its_prefix(self):
        assert not U("1303060011").is_within(U("130306001"))

    @settings(max_examples=200, deadline=None)
    @given(
        one=st.from_regex(r"1[1-3](0[1-3](0[1-3]([0-9]{3})?)?)?", fullmatch=True),
        other=st.from_regex(r"1[1-3](0[1-3](0[1-3]([0-9]{3})?)?)?", fullmatch=True),
    )
    def test_agrees_with_the_ancestors(self, one, other):
        a, b = U(one), U(other)

        assert a.is_within(b) == (a == b or b in a.ancestors())


class TestAUnitCode:
    @pytest.mark.parametrize(
        "code",
        [
            "",
            "1",
            "130",
            "13030",
            "1303060",
            "13030600",
            "1303060012345",
            "13a306",
            "１３",
            "13 03",
            "1300",
            "130006",
            "130300",
            "130300001",
            "-13",
        ],
    )
    def test_that_is_malformed_is_refused(self, code):
        with pytest.raises(InvalidValue):
            U(code)

    def test_that_is_not_text_is_refused(self):
        with pytest.raises(InvalidValue):
            U(13)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("code", "region"),
        [("130306001", "130306"), ("130306", "130306"), ("1303", "130300"), ("13", "130000")],
    )
    def test_gives_its_region_code(self, code, region):
        assert U(code).region == region


class TestScopeThroughTheFile:
    def test_a_clerk_cannot_act_on_a_file_of_a_sibling_whose_code_extends_its_own(self):
        events = story.record(
            establishing_unit="1303060011", actor=Actor("clerk-a", "1303060011", Role.CLERK)
        )
        file = story.given(*events)

        outcome = story.when(file, story.verifying(actor=story.CLERK))

        story.then_refused(outcome, OutOfScope)

    def test_the_clerk_of_the_establishing_unit_acts_on_the_file(self):
        file = story.given(*story.history(Status.APPLIED))

        outcome = story.when(file, story.verifying(actor=story.CLERK))

        story.then(outcome, HouseholdFile.Verified, actor=story.CLERK)


# ------------------------------------------------------------- the tree that reaches the nation
# docs/decisions/0014-a-tree-that-reaches-the-nation.md

INDUSTRY = U("13C01")  # a provincial industry union (产业工会)
SCHOOL = U("13C01001")  # a base-level union below it
REGISTRY = Units.of(
    [
        UnitEntry("13C01", Level.DISTRICT, UnitKind.INDUSTRY, approves=True),
        UnitEntry("130306X01", Level.DISTRICT, UnitKind.SYSTEM, approves=False),
    ]
)


class TestTheNation:
    def test_holds_every_unit(self):
        assert all(U(c).is_within(U(NATION)) for c in ("13", "1303", "130306001", "13C01001"))

    def test_lies_within_no_province(self):
        assert not U(NATION).is_within(U("13"))

    def test_is_the_level_above_the_provinces(self):
        assert U(NATION).level is Level.NATION
        assert Level.NATION.rank < Level.PROVINCE.rank

    def test_is_every_units_ancestor_at_its_level(self):
        assert FUNING_BASE.at(Level.NATION) == U(NATION)


class TestANonGeographicUnion:
    @pytest.mark.parametrize(
        ("code", "kind", "parent"),
        [
            ("13C01", UnitKind.INDUSTRY, "13"),
            ("1303X02", UnitKind.SYSTEM, "1303"),
            ("130306Q01", UnitKind.ENTERPRISE, "130306"),
            ("13C01Q01", UnitKind.ENTERPRISE, "13C01"),
            ("13C01001", UnitKind.BASE, "13C01"),
            ("13C01Q01001234", UnitKind.BASE, "13C01Q01"),
        ],
    )
    def test_is_a_path_below_its_parent_with_its_kind_in_the_code(self, code, kind, parent):
        assert (U(code).kind, U(code).parent) == (kind, U(parent))

    def test_holds_its_base_level_unions_and_enterprise_unions(self):
        assert SCHOOL.is_within(INDUSTRY)
        assert U("13C01Q01001").is_within(INDUSTRY)

    def test_holds_nothing_of_its_siblings_or_of_the_districts(self):
        assert not U("13C02001").is_within(INDUSTRY)
        assert not FUNING_BASE.is_within(INDUSTRY)
        assert not SCHOOL.is_within(U("1303"))

    def test_a_base_level_union_below_it_holds_only_itself(self):
        assert not U("13C010011").is_within(SCHOOL)

    def test_lies_in_its_province_and_region(self):
        assert SCHOOL.is_within(U("13"))
        assert (SCHOOL.region, SCHOOL.regions()) == ("130000", ("13", "13", "13"))
        assert path_of("13C01001") == ("13", "13C01", "13C01001")

    def test_has_no_level_in_its_code(self):
        assert INDUSTRY.implied_level is None

    def test_asked_for_a_level_by_its_code_refers_to_the_registry_in_chinese(self):
        with pytest.raises(InvalidValue) as refused:
            _ = INDUSTRY.level

        assert "以单位登记为准" in refused.value.zh

    @pytest.mark.parametrize(
        ("code", "zh"),
        [
            ("13C00", "非地域工会编号应从01起"),
            ("1303C1", "单位代码应为2、4、6位数字"),
            ("13K01", "单位代码应为2、4、6位数字"),
            ("13c01", "单位代码应为2、4、6位数字"),
            ("1303001", "单位代码应为2、4、6位（省、市、区县）或9至12位（基层工会）"),
            ("13C01001Q01", "单位代码应为2、4、6位数字"),
            ("0013C01", "行政区划代码"),
        ],
    )
    def test_with_a_bad_code_is_refused_in_chinese(self, code, zh):
        with pytest.raises(InvalidValue) as refused:
            U(code)

        assert zh in refused.value.zh


class TestANationalNonGeographicUnion:
    """全国产业工会 and the like: "00C01" below the nation (decision 14)."""

    @pytest.mark.parametrize(
        ("code", "kind", "parent"),
        [
            ("00C01", UnitKind.INDUSTRY, NATION),
            ("00X02", UnitKind.SYSTEM, NATION),
            ("00C01Q01", UnitKind.ENTERPRISE, "00C01"),
            ("00C01001", UnitKind.BASE, "00C01"),
        ],
    )
    def test_is_a_path_below_the_nation_with_its_kind_in_the_code(self, code, kind, parent):
        assert (U(code).kind, U(code).parent) == (kind, U(parent))

    def test_lies_within_the_nation_and_no_province(self):
        assert U("00C01001").is_within(U(NATION))
        assert not U("00C01001").is_within(U("13"))
        assert path_of("00C01001") == (NATION, "00C01", "00C01001")

    def test_holds_its_subtree_and_nothing_of_the_provinces_or_its_siblings(self):
        assert U("00C01Q01001").is_within(U("00C01"))
        assert not U("00C02001").is_within(U("00C01"))
        assert not FUNING_BASE.is_within(U("00C01"))
        assert not U("13C01001").is_within(U("00C01"))

    def test_takes_the_nations_region(self):
        assert (U("00C01001").region, U("00C01001").regions()) == ("000000", ("00", "00", "00"))

    def test_stands_beside_the_provinces_by_default(self):
        assert entry_for("00C01", parent=Level.NATION, approves=True) == UnitEntry(
            "00C01", Level.PROVINCE, UnitKind.INDUSTRY, approves=True
        )

    def test_at_the_nations_own_level_is_refused_in_chinese(self):
        with pytest.raises(InvalidValue) as refused:
            entry_for("00C01", level=Level.NATION, parent=Level.NATION)

        assert "层级应为省、市或区县级" in refused.value.zh

    @pytest.mark.parametrize(
        ("code", "zh"),
        [
            ("00001", "9至12位（基层工会）"),  # a base-level union lies below a union
            ("0000C01", "行政区划代码"),
            ("00C00", "非地域工会编号应从01起"),
        ],
    )
    def test_with_a_bad_code_is_refused_in_chinese(self, code, zh):
        with pytest.raises(InvalidValue) as refused:
            U(code)

        assert zh in refused.value.zh


class TestTheStoredLevel:
    def test_of_a_registered_non_geographic_union_is_the_registrys(self):
        assert REGISTRY.level("13C01") is Level.DISTRICT
        assert REGISTRY.approves("13C01")

    def test_of_a_region_or_base_level_union_not_registered_is_its_codes(self):
        assert (REGISTRY.level("1303"), REGISTRY.level("130306001")) == (Level.CITY, Level.BASE)
        assert REGISTRY.approves("130306")
        assert not REGISTRY.approves("130306001")

    def test_of_a_non_geographic_union_not_registered_is_refused_in_chinese(self):
        with pytest.raises(NotFound) as refused:
            REGISTRY.level("13C02")

        assert "未登记" in refused.value.zh

    def test_of_a_union_that_does_not_approve_acts_as_a_base_level_unions(self):
        assert REGISTRY.acting_level("130306X01") is Level.BASE

    @pytest.mark.parametrize(
        ("code", "level", "parent", "zh"),
        [
            ("1303", Level.DISTRICT, Level.PROVINCE, "按代码为市总工会，不能登记为区县总工会"),
            ("1303X01", Level.PROVINCE, Level.CITY, "且不高于上级单位"),
            ("13C01", Level.BASE, Level.PROVINCE, "层级应为省、市或区县级"),
            ("13C01", Level.NATION, Level.PROVINCE, "层级应为省、市或区县级"),
        ],
    )
    def test_that_disagrees_with_the_code_or_the_parent_is_refused_in_chinese(
        self, code, level, parent, zh
    ):
        with pytest.raises(InvalidValue) as refused:
            entry_for(code, level=level, parent=parent)

        assert zh in refused.value.zh

    def test_sent_to_another_process_keeps_only_what_the_codes_do_not_say(self):
        stored = Units.of([*REGISTRY.entries.values(), entry_for("1303", parent=Level.PROVINCE)])

        sent = pickle.loads(pickle.dumps(stored.stored_only()))  # noqa: S301 — our own bytes

        assert sorted(sent.entries) == ["130306X01", "13C01"]
        for code in ("13C01", "130306X01", "1303", "130306001", "00"):
            assert sent.entry(code) == stored.entry(code)

    def test_of_a_non_geographic_union_defaults_to_a_district_that_does_not_approve(self):
        assert entry_for("13C01", parent=Level.PROVINCE) == UnitEntry(
            "13C01", Level.DISTRICT, UnitKind.INDUSTRY, approves=False
        )


class TestWhoApproves:
    def file_of(self, unit: str) -> HouseholdFile:
        return story.given(
            *story.record(
                story.verifying(actor=Actor("clerk", unit, Role.CLERK)),
                story.appraising(actor=Actor("clerk", unit, Role.CLERK)),
                establishing_unit=unit,
                actor=Actor("clerk", unit, Role.CLERK),
            )
        )

    def test_an_industry_union_registered_as_approving_approves_its_subtrees_file(self):
        file = self.file_of("13C01001")
        approver = Actor("approver", "13C01", Role.APPROVER)

        outcome = story.when(file, story.approving(actor=approver, units=REGISTRY))

        story.then(outcome, HouseholdFile.Approved, actor=approver)

    def test_an_industry_union_is_refused_a_file_outside_its_subtree(self):
        file = self.file_of("130306001")
        approver = Actor("approver", "13C01", Role.APPROVER)

        outcome = story.when(file, story.approving(actor=approver, units=REGISTRY))

        story.then_refused(outcome, OutOfScope)

    def test_a_union_registered_as_not_approving_is_refused_at_its_level(self):
        file = self.file_of("130306X01001")
        approver = Actor("approver", "130306X01", Role.APPROVER)

        outcome = story.when(file, story.approving(actor=approver, units=REGISTRY))

        story.then_refused(outcome, NotPermitted)

    def test_without_the_registry_a_non_geographic_approver_is_never_let_through(self):
        file = self.file_of("13C01001")
        approver = Actor("approver", "13C01", Role.APPROVER)

        outcome = story.when(file, story.approving(actor=approver))

        story.then_refused(outcome, NotFound)

    def test_the_nation_approves_any_file(self):
        file = self.file_of("13C01001")
        approver = Actor("approver", NATION, Role.APPROVER)

        outcome = story.when(file, story.approving(actor=approver))

        story.then(outcome, HouseholdFile.Approved, actor=approver)


class TestAFileOpenedAboveABaseLevelUnion:
    @pytest.mark.parametrize("unit", ["13C01", "00C01", "130306"])
    def test_is_refused_in_chinese_whatever_the_kind_of_union(self, unit):
        clerk = Actor("clerk", unit, Role.CLERK)

        outcome = story.when(
            None,
            lambda _: HouseholdFile.receive_application(
                **story.application(establishing_unit=unit, actor=clerk)
            ),
        )

        story.then_refused(outcome, RuleViolated, rule="establishing_unit_is_base")
