"""The union tree: unit codes of four levels, parents, ancestors and "within the subtree of"."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidValue, OutOfScope
from domain.household import HouseholdFile
from domain.units import UnitCode
from domain.values import Actor, Level, Role, Status

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
