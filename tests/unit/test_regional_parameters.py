"""Regional parameters: who may set them (the authorisation table), and which are in force."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from domain import usecases
from domain.errors import InvalidValue, NotFound, NotPermitted, OutOfScope, RuleViolated
from domain.policy import Parameters, PolicyBook, RegionalPolicy
from domain.values import Actor, Role

from . import given as story

PROVINCE_ADMIN = Actor("admin", "13", Role.ADMIN)


def policy(region: str, *lines: tuple[date, str]) -> RegionalPolicy:
    opened = RegionalPolicy.open(actor=PROVINCE_ADMIN, region=region)
    for effective_on, line in lines:
        opened.set(
            actor=PROVINCE_ADMIN,
            parameters=Parameters(effective_on, Decimal(line)),
            reason="低保标准调整通知",
        )
    return opened


BOOK = PolicyBook(
    {
        "130000": policy("130000", (date(2020, 1, 1), "500")),
        "130300": policy("130300", (date(2024, 1, 1), "600")),
        "130306": policy("130306", (date(2025, 7, 1), "700")),
    }
)


@dataclass
class _Policies:
    policy_book: PolicyBook

    async def book(self) -> PolicyBook:
        return self.policy_book


def own(region: str) -> Parameters:
    return BOOK.policies[region].history[0]


class TestTheParametersInForce:
    def test_are_the_districts_own_once_it_has_some(self):
        found = BOOK.source("130306", date(2025, 7, 1))

        assert found == ("130306", own("130306"))

    def test_are_the_citys_before_the_district_sets_its_own(self):
        found = BOOK.source("130306", date(2025, 6, 30))

        assert found == ("130300", own("130300"))

    def test_are_the_provinces_for_a_district_of_a_city_without_its_own(self):
        found = BOOK.source("130102", date(2026, 1, 1))

        assert found == ("130000", own("130000"))

    def test_are_none_before_any_effective_date(self):
        assert BOOK.source("130306", date(2019, 12, 31)) is None

    def test_are_not_found_by_in_force_before_any_effective_date(self):
        with pytest.raises(NotFound):
            BOOK.in_force("130306", date(2019, 12, 31))

    def test_are_the_same_parameters_in_force_gives(self):
        on = date(2025, 6, 30)

        assert BOOK.source("130306", on) == ("130300", BOOK.in_force("130306", on))


class TestSettingParameters:
    def test_is_refused_to_a_role_other_than_admin_before_the_region_is_considered(self):
        with pytest.raises(NotPermitted) as refused:
            RegionalPolicy.open(actor=Actor("a", "1302", Role.APPROVER), region="130306")

        assert refused.value.rule == "role"

    def test_is_out_of_scope_for_an_admin_of_another_city(self):
        with pytest.raises(OutOfScope):
            RegionalPolicy.open(actor=Actor("a", "1302", Role.ADMIN), region="130306")

    def test_is_out_of_scope_for_a_city_admin_setting_its_provinces(self):
        with pytest.raises(OutOfScope):
            RegionalPolicy.open(actor=Actor("a", "1303", Role.ADMIN), region="130000")

    def test_is_permitted_to_a_city_admin_for_its_city(self):
        assert RegionalPolicy.open(actor=Actor("a", "1303", Role.ADMIN), region="130300")

    def test_refuses_a_region_code_that_is_no_unit(self):
        with pytest.raises(InvalidValue):
            RegionalPolicy.open(actor=PROVINCE_ADMIN, region="130006")


NATION_ADMIN = Actor("admin", "00", Role.ADMIN)
NATIONAL = RegionalPolicy.open(actor=NATION_ADMIN, region="000000")
NATIONAL.set(
    actor=NATION_ADMIN, parameters=Parameters(date(2020, 1, 1), Decimal("450")), reason="全国参数"
)
WITH_THE_NATION = PolicyBook({**BOOK.policies, "000000": NATIONAL})


def region_of_a_file_of(unit: str) -> str:
    """The region a file opened by `unit` (a real application) is judged by."""
    clerk = Actor("clerk", unit, Role.CLERK)
    return story.given(*story.record(establishing_unit=unit, actor=clerk)).region


def in_force_for(unit: str, on: date, book: PolicyBook = WITH_THE_NATION) -> Parameters | None:
    """What the use case hands a decision on `on` about a file of `unit`."""
    region = region_of_a_file_of(unit)
    return asyncio.run(usecases.parameters_in_force(_Policies(book), region, on, required=True))


class TestTheParametersOfANonGeographicUnionsFile:
    """The nearest region above the unit's code (docs/rules.md, "Regional parameters")."""

    def test_of_a_district_system_unions_base_are_the_districts(self):
        assert region_of_a_file_of("130306X01001") == "130306"
        assert in_force_for("130306X01001", date(2025, 7, 1)) == own("130306")

    def test_of_a_district_system_unions_base_are_the_citys_before_the_district_has_any(self):
        assert in_force_for("130306X01001", date(2025, 6, 30)) == own("130300")

    def test_of_a_provincial_industry_unions_base_are_the_provinces_not_a_citys(self):
        # the city 1303 and its district 130306 have their own; the school's union is in neither
        assert region_of_a_file_of("13C01001") == "130000"
        assert in_force_for("13C01001", date(2026, 1, 1)) == own("130000")

    def test_of_a_national_industry_unions_base_are_the_nations(self):
        assert region_of_a_file_of("00C01001") == "000000"
        assert in_force_for("00C01001", date(2026, 1, 1)) == NATIONAL.history[0]

    def test_of_a_national_industry_unions_base_without_the_nations_are_refused_naming_it(self):
        with pytest.raises(RuleViolated) as refused:
            in_force_for("00C01001", date(2026, 1, 1), BOOK)

        assert "地区000000" in refused.value.zh
