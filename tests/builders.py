"""Builders for tests: valid households and the actors who handle them, with a fixed 'today'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from domain.eligibility import Exclusions
from domain.household import Head, HouseholdFile, Member
from domain.idnumber import make_id_number
from domain.policy import Parameters, PolicyBook, RegionalPolicy
from domain.values import (
    Actor,
    AssistanceKind,
    Cause,
    Department,
    FileLevel,
    MemberStatus,
    Relation,
    Role,
    WorkerKind,
)

TODAY = date(2026, 11, 21)
BASE = "130306001"  # a base-level union in Funing district, Qinhuangdao, Hebei
OTHER_BASE = "130306002"
CLERK = Actor("clerk-li", BASE, Role.CLERK)
APPROVER = Actor("approver-wang", "130306", Role.APPROVER)
LINE = Decimal("550")
# the parameters in force for the builders' region (handed in as the use case does)
PARAMETERS = Parameters(date(2015, 1, 1), LINE)

_sequence = count(1)


class ProvincePolicies:
    """The `Policies` port with `PARAMETERS` in force for the whole province (130000)."""

    def __init__(self, parameters: Parameters = PARAMETERS) -> None:
        admin = Actor("test-admin", "13", Role.ADMIN)
        policy = RegionalPolicy.open(actor=admin, region="130000")
        policy.set(actor=admin, parameters=parameters, reason="测试数据")
        self._book = PolicyBook({"130000": policy})

    async def book(self) -> PolicyBook:
        return self._book


@dataclass(frozen=True)
class FixedClock:
    day: date = TODAY

    def today(self) -> date:
        return self.day


def person_id(born: date = date(1978, 5, 6), region: str = "130306") -> str:
    """A new person's ID number each call (一户一档 refuses a second open file for one person):
    past 1,000 sequence numbers, the birth day moves on."""
    n = next(_sequence)
    return make_id_number(region, born + timedelta(days=n // 1000), n % 1000).value


def application(unit: str = BASE, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "establishing_unit": unit,
        "worker_kind": WorkerKind.URBAN,
        "head": Head(
            name="张𠀀",
            id_number=person_id(),
            phone="13912345678",
            employer="抚宁区某机械厂",
            address="抚宁区骊城大街1号",
        ),
        "applied_on": date(2026, 3, 2),
        "authorisation_signed": True,
        "statement": "妻子患病，收入低",
    }
    fields.update(overrides)
    return fields


def verification(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "verified_on": date(2026, 3, 9),
        "investigators": ("赵一", "钱二"),
        "members": (
            Member("王𪚥", Relation.SPOUSE, person_id(date(1980, 2, 3)), MemberStatus.UNEMPLOYED),
        ),
        "annual_income": Decimal("9600"),
        "rigid_expenses": Decimal("1200"),
        "exclusions": Exclusions(),
        "primary_cause": Cause.ILLNESS,
        "parameters": PARAMETERS,
    }
    fields.update(overrides)
    return fields


APPRAISAL = {
    "appraised_on": date(2026, 3, 12),
    "minutes_on_file": True,
    "publicity_start": date(2026, 3, 13),
    "publicity_end": date(2026, 3, 20),
    "parameters": PARAMETERS,
}
APPROVAL = {
    "approved_on": date(2026, 3, 25),
    "file_level": FileLevel.DISTRICT,
    "parameters": PARAMETERS,
}
ASSISTANCE = {
    "assisted_on": date(2026, 4, 1),
    "kind": AssistanceKind.LIVING_AID,
    "amount": Decimal("500.00"),
    "department": Department.UNION,
    "helper": "孙三",
}


def approved_file(unit: str = BASE) -> HouseholdFile:
    """A file taken through application, investigation, appraisal and approval (events pending)."""
    household = HouseholdFile.receive_application(
        actor=Actor("clerk", unit, Role.CLERK), today=TODAY, **application(unit)
    )
    clerk = Actor("clerk", unit, Role.CLERK)
    household.verify(actor=clerk, today=TODAY, **verification())
    household.appraise(actor=clerk, today=TODAY, **APPRAISAL)
    household.approve(actor=Actor("approver", unit[:6], Role.APPROVER), today=TODAY, **APPROVAL)
    return household
