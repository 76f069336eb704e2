"""一户一档 over HTTP: a second open file for a person is refused with 409 — naming the other file
inside the caller's subtree, and only "another unit" outside it — and a district cancels a
duplicate that came in past the rule as 重复建档, naming the file kept."""

from __future__ import annotations

import asyncpg
import pytest

from adapters.pg.repository import PgFileRepository
from tests.builders import person_id
from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    DISTRICT,
    JSON,
    OTHER_BASE,
    application,
    assert_problem,
    doer,
    open_file,
    verification,
)
from tests.e2e.read_model_helpers import plant_duplicate

pytestmark = pytest.mark.slow

OUTSIDE_ZH = "一户一档：该户主已在其他单位建档，不能重复建档；请由双方共同的上级工会核实处理"
OUTSIDE_EN = (
    "one household, one file (一户一档): the head already has an open file in another unit;"
    " a union above both must resolve it"
)


def headed_by(person: str) -> dict[str, object]:
    return {"name": "孙𠀀", "id_number": person, "phone": "13912345678"}


async def events_in(pool: asyncpg.Pool, unit: str) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events WHERE unit = $1", unit))


class TestASecondFileForOnePerson:
    async def test_inside_the_callers_subtree_is_refused_naming_the_other_file_and_unit(
        self, api: Api, pool: asyncpg.Pool
    ):
        person = person_id()
        held = await open_file(api, BASE, head=headed_by(person))
        district = api.auth(DISTRICT, "approver", **JSON)

        answered = await api.client.post(
            f"{API}/files", json=application(OTHER_BASE, head=headed_by(person)), headers=district
        )

        body = assert_problem(answered, 409)
        assert (body["code"], body["rule"]) == ("already_filed", "one_file_per_person")
        assert body["errors"][0]["field"] == "head.id_number"
        assert body["detail"] == (
            f"一户一档：该户主已在本辖区单位{BASE}的档案{held}中建档，不能重复建档"
        )
        assert await events_in(pool, OTHER_BASE) == 0

    async def test_outside_the_callers_subtree_says_only_that_another_unit_has_one(
        self, api: Api, pool: asyncpg.Pool
    ):
        person = person_id()
        held = await open_file(api, BASE, head=headed_by(person))
        body = application(OTHER_BASE, head=headed_by(person))

        chinese = await api.client.post(
            f"{API}/files", json=body, headers=doer(api, "apply", OTHER_BASE)
        )
        english = await api.client.post(
            f"{API}/files",
            json=body,
            headers={**doer(api, "apply", OTHER_BASE), "Accept-Language": "en"},
        )

        assert assert_problem(chinese, 409)["detail"] == OUTSIDE_ZH
        assert assert_problem(english, 409)["detail"] == OUTSIDE_EN
        for answer in (chinese, english):
            assert held not in answer.text
            assert BASE not in answer.text
            assert answer.json()["errors"][0]["field"] == "head.id_number"
        assert await events_in(pool, OTHER_BASE) == 0

    async def test_as_a_member_at_verification_is_refused_writing_nothing(self, api: Api):
        person = person_id()
        await open_file(api, BASE, head=headed_by(person))
        other = await open_file(api, OTHER_BASE)
        members = [
            {"name": "孙二", "relation": "sibling", "id_number": person, "status": "employed"}
        ]

        answered = await api.client.post(
            f"{API}/files/{other}/verification",
            json=verification(members=members),
            headers=doer(api, "verification", OTHER_BASE),
        )
        after = await api.client.get(f"{API}/files/{other}", headers=doer(api, "read", OTHER_BASE))

        body = assert_problem(answered, 409)
        assert body["errors"][0]["field"] == "members[0].id_number"
        assert "其他单位" in body["detail"]
        assert BASE not in answered.text
        assert (after.json()["status"], after.headers["etag"]) == ("applied", '"1"')


class TestADuplicateThatCameInPastTheRule:
    async def test_is_cancelled_by_the_district_as_duplicate_naming_the_file_kept(
        self, api: Api, files: PgFileRepository
    ):
        person = person_id()
        kept = await open_file(api, BASE, head=headed_by(person))
        duplicate = await plant_duplicate(files, OTHER_BASE, member_id=person)
        cancel = {
            "exited_on": "2026-11-01",
            "kind": "cancelled",
            "reason": "duplicate",
            "explanation": "与本区另一档案重复",
            "evidence": ["核查记录"],
        }
        district = api.auth(DISTRICT, "approver", **JSON)

        by_a_clerk = await api.client.post(
            f"{API}/files/{duplicate}/exit",
            json={**cancel, "kept_file_id": kept},
            headers=doer(api, "exit", OTHER_BASE),
        )
        without_kept = await api.client.post(
            f"{API}/files/{duplicate}/exit", json=cancel, headers=district
        )
        cancelled = await api.client.post(
            f"{API}/files/{duplicate}/exit", json={**cancel, "kept_file_id": kept}, headers=district
        )

        assert assert_problem(by_a_clerk, 403)["rule"] == "role"
        assert assert_problem(without_kept, 422)["errors"][0]["field"] == "kept_file_id"
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
