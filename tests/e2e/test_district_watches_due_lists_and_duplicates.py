"""A district's aid centre watches what falls due — visits overdue, annual re-checks, exits due
for the 回头看 review — and the people filed twice (一户一档)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from adapters.pg.repository import PgFileRepository
from adapters.pg.units import PgUnitDirectory
from domain.household import HouseholdFile
from domain.values import Actor, ExitKind, ExitReason, Role
from tests.builders import PARAMETERS, TODAY, approved_file, person_id
from tests.conftest import Api
from tests.e2e.http_helpers import API, BASE, DISTRICT, PROVINCE, application, doer, run
from tests.e2e.read_model_helpers import ID_MASKED, household_in, plant_duplicate, projected

pytestmark = pytest.mark.slow

UNIT = "130306077"  # a base-level union of its own: only this test's files are in it
CLERK = Actor("clerk-zhou", UNIT, Role.CLERK)
APPROVED_ON = date(2026, 3, 25)  # every file below is approved on this day (tests.builders)


def visit(household: HouseholdFile, day: date) -> None:
    household.visit(actor=CLERK, visited_on=day, cadre="周海燕", content="季度走访", today=TODAY)


def leave(household: HouseholdFile, day: date, kind: ExitKind) -> None:
    reason = {
        ExitKind.OUT_OF_HARDSHIP: ExitReason.INCOME_ABOVE_LINE,
        ExitKind.RELIEVED: ExitReason.SAFETY_NET,
        ExitKind.CANCELLED: ExitReason.DEATH,
    }[kind]
    parameters = PARAMETERS
    if kind is ExitKind.OUT_OF_HARDSHIP:
        # a 脱困 rests on recorded means above the line for the region's months: a revision
        # the day of approval, and (to leave early in the year) a region asking for one month
        household.revise(
            actor=CLERK,
            effective_on=APPROVED_ON,
            reason="妻子再就业",
            annual_income=Decimal("20000"),
            today=TODAY,
        )
        parameters = replace(PARAMETERS, exit_months_above_line=1)
    household.exit(
        actor=CLERK,
        exited_on=day,
        kind=kind,
        reason=reason,
        explanation="按规定办理退出",
        evidence=("入户核查记录",),
        parameters=parameters,
        today=TODAY,
    )


@pytest.fixture
async def households(api: Api, files: PgFileRepository, pool: asyncpg.Pool) -> dict[str, str]:
    """Files approved on 2026-03-25 (re-check due 2027-03-25) with different histories."""
    await PgUnitDirectory(pool).create(UNIT, "抚宁区到期测试工会")
    made: dict[str, HouseholdFile] = {name: approved_file(UNIT) for name in "ABCDEFG"}
    # A: never visited.
    visit(made["B"], date(2026, 8, 1))
    visit(made["C"], date(2026, 6, 10))
    made["D"].recheck(
        actor=CLERK, rechecked_on=date(2026, 6, 1), parameters=PARAMETERS, today=TODAY
    )
    visit(made["D"], date(2026, 9, 1))
    leave(made["E"], date(2026, 5, 10), ExitKind.OUT_OF_HARDSHIP)
    leave(made["F"], date(2026, 10, 1), ExitKind.RELIEVED)
    leave(made["G"], date(2026, 6, 1), ExitKind.CANCELLED)
    for household in made.values():
        await files.save(household)
    await projected(api)
    return {name: str(h.id) for name, h in made.items()}


async def due(api: Api, **params: Any) -> dict[str, Any]:
    answered = await api.client.get(
        f"{API}/due", params={"unit": UNIT, **params}, headers=api.auth(DISTRICT, "approver")
    )
    assert answered.status_code == 200, answered.text
    return dict(answered.json())


def named(households: dict[str, str], body: dict[str, Any]) -> list[str]:
    names = {file_id: name for name, file_id in households.items()}
    return [names[i["file_id"]] for i in body["items"]]


class TestVisitsOverdue:
    async def test_are_approved_files_not_visited_within_90_days(
        self, households: dict[str, str], api: Api
    ):
        body = await due(api, kind="visits", as_of="2026-09-15")

        assert named(households, body) == ["A", "C"]  # most overdue first
        assert [i["due_on"] for i in body["items"]] == ["2026-06-23", "2026-09-08"]
        assert (body["total"], body["visit_days"]) == (2, 90)

    async def test_follow_the_period_asked_for(self, households: dict[str, str], api: Api):
        body = await due(api, kind="visits", as_of="2026-09-15", visit_days=30)

        assert named(households, body) == ["A", "C", "B"]

    async def test_count_from_the_approval_when_never_visited(
        self, households: dict[str, str], api: Api
    ):
        on_the_day = await due(api, kind="visits", as_of="2026-06-23")
        a_day_later = await due(api, kind="visits", as_of="2026-06-24")

        assert named(households, on_the_day) == []
        assert named(households, a_day_later) == ["A"]


class TestRechecksDue:
    async def test_are_approved_files_whose_year_is_up_on_the_day_asked(
        self, households: dict[str, str], api: Api
    ):
        before = await due(api, kind="rechecks", as_of="2027-03-24")
        on_the_day = await due(api, kind="rechecks", as_of="2027-03-25")
        after_d = await due(api, kind="rechecks", as_of="2027-06-01")

        assert named(households, before) == []
        assert sorted(named(households, on_the_day)) == ["A", "B", "C"]
        assert sorted(named(households, after_d)) == ["A", "B", "C", "D"]
        assert {i["due_on"] for i in on_the_day["items"]} == {"2027-03-25"}


class TestFollowUpReviews:
    async def test_are_exits_from_hardship_within_the_last_12_months(
        self, households: dict[str, str], api: Api
    ):
        body = await due(api, kind="follow_up", as_of="2026-11-21")

        assert named(households, body) == ["E", "F"]  # not G: a cancelled file needs none
        assert [i["exit_kind_label"] for i in body["items"]] == ["脱困", "解困"]
        assert [i["due_on"] for i in body["items"]] == ["2027-05-10", "2027-10-01"]

    async def test_follow_the_months_asked_for(self, households: dict[str, str], api: Api):
        body = await due(api, kind="follow_up", as_of="2026-11-21", follow_up_months=6)

        assert named(households, body) == ["F"]

    async def test_leave_out_exits_after_the_day_asked(self, households: dict[str, str], api: Api):
        body = await due(api, kind="follow_up", as_of="2026-09-30")

        assert named(households, body) == ["E"]


class TestTheDueListParameters:
    async def test_refuse_an_unknown_kind(self, api: Api):
        answered = await api.client.get(
            f"{API}/due?kind=birthdays", headers=api.auth(DISTRICT, "approver")
        )

        assert answered.status_code == 400

    async def test_refuse_a_period_of_zero_days(self, api: Api):
        answered = await api.client.get(
            f"{API}/due?kind=visits&visit_days=0", headers=api.auth(DISTRICT, "approver")
        )

        assert answered.status_code == 400


# ------------------------------------------------------------------------------ duplicates


async def open_with(api: Api, unit: str, head_id: str, member_id: str | None = None) -> str:
    head = {"name": "孙𠀀", "id_number": head_id, "phone": "13912345678"}
    created = await api.client.post(
        f"{API}/files", json=application(unit, head=head), headers=doer(api, "apply", unit)
    )
    assert created.status_code == 201, created.text
    file_id = str(created.json()["id"])
    if member_id is not None:
        member = {
            "name": "孙二",
            "relation": "sibling",
            "id_number": member_id,
            "status": "employed",
        }
        await run(api, file_id, "verification", unit, members=[member])
    return file_id


async def duplicates(api: Api, unit: str, role: str) -> list[dict[str, Any]]:
    answered = await api.client.get(f"{API}/duplicates", headers=api.auth(unit, role))
    assert answered.status_code == 200, answered.text
    return list(answered.json()["items"])


class TestDuplicates:
    # 一户一档 refuses a second open file for a person (tests/e2e/test_one_file_per_person.py):
    # the second file of each person below comes as a pull stores it (`plant_duplicate`)
    async def test_find_a_person_in_open_files_of_two_districts(
        self, api: Api, files: PgFileRepository
    ):
        person = person_id()
        here = await open_with(api, BASE, person)
        there = await plant_duplicate(
            files, "130302001", head_id=person_id(region="130302"), member_id=person
        )
        await household_in(api, "approved")  # someone filed once
        await projected(api)

        district = await duplicates(api, DISTRICT, "approver")
        other = await duplicates(api, "130302", "approver")
        province = await duplicates(api, PROVINCE, "inspector")
        elsewhere = await duplicates(api, "1301", "inspector")

        (found,) = district
        assert [(f["file_id"], f["role"], f["role_label"]) for f in found["files"]] == [
            (here, "head", "户主")
        ]
        assert found["other_files"] == 1
        assert found["id_masked"] == person[:6] + "*" * 8 + person[-4:]
        assert re.match(ID_MASKED, found["id_masked"])
        (seen_there,) = other
        assert [f["file_id"] for f in seen_there["files"]] == [there]
        assert seen_there["id_masked"] is None  # a member there: the head's number is not shown
        assert seen_there["other_files"] == 1
        (whole,) = province
        assert {f["file_id"] for f in whole["files"]} == {here, there}
        assert whole["other_files"] == 0
        assert elsewhere == []

    async def test_find_a_person_in_a_relieved_file_and_an_open_one(
        self, api: Api, files: PgFileRepository, households: dict[str, str]
    ):
        relieved = await files.get(UUID(households["F"]))  # 解困: still holds its people
        person = relieved.head.id_number
        planted = await plant_duplicate(files, "130306002", member_id=person)
        await projected(api)

        found = await duplicates(api, DISTRICT, "approver")

        assert [{f["file_id"] for f in d["files"]} for d in found] == [{households["F"], planted}]

    async def test_ignore_a_file_that_is_closed(self, api: Api, files: PgFileRepository):
        person = person_id()
        await open_with(api, BASE, person)
        closed = await plant_duplicate(files, "130306002", member_id=person)
        rejected = await api.client.post(
            f"{API}/files/{closed}/rejection",
            json={"rejected_on": "2026-03-12", "reason": "不符合条件"},  # after its investigation
            headers=doer(api, "rejection", "130306002"),
        )
        await projected(api)

        assert rejected.status_code == 200, rejected.text
        assert await duplicates(api, DISTRICT, "approver") == []

    async def test_do_not_reveal_files_outside_the_subtree(self, api: Api, files: PgFileRepository):
        person = person_id()
        await open_with(api, BASE, person)
        hidden = await plant_duplicate(
            files, "130302001", head_id=person_id(region="130302"), member_id=person
        )
        await projected(api)

        answered = await api.client.get(f"{API}/duplicates", headers=api.auth(DISTRICT, "approver"))

        assert hidden not in answered.text
        assert "130302001" not in answered.text
        assert answered.json()["items"][0]["other_files"] == 1

    async def test_come_in_pages_of_whole_people_with_a_total_and_a_cursor(
        self, api: Api, files: PgFileRepository
    ):
        planted = {}
        for _ in range(3):
            person = person_id()
            here = await open_with(api, BASE, person)
            planted[here] = await plant_duplicate(files, "130306002", member_id=person)
        await projected(api)
        headers = api.auth(DISTRICT, "approver")

        pages, cursor = [], None
        while True:
            query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
            answered = await api.client.get(f"{API}/duplicates?{query}", headers=headers)
            assert answered.status_code == 200, answered.text
            pages.append(answered.json())
            cursor = pages[-1]["next"]
            if cursor is None:
                break
        refused = await api.client.get(f"{API}/duplicates?cursor=bm90IGEgY3Vyc29y", headers=headers)

        assert [len(p["items"]) for p in pages] == [2, 1]
        assert {p["total"] for p in pages} == {3}
        people = [{f["file_id"] for f in d["files"]} for p in pages for d in p["items"]]
        assert sorted(map(sorted, people)) == sorted(sorted(pair) for pair in planted.items())
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "cursor"
