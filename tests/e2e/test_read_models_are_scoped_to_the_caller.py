"""Every read model answers for the caller's subtree only: a district sees its own files in the
ledger, its export, its statistics, queue, due lists and duplicates; a unit outside is 404; a
base-level union whose code starts with another's sees nothing of the other's."""

from __future__ import annotations

from collections import Counter
from typing import Any

import asyncpg
import pytest

from adapters.pg.repository import PgFileRepository
from tests.builders import person_id
from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    CITY,
    DISTRICT,
    JSON,
    OTHER_DISTRICT,
    PREFIX_SIBLING,
    PROBLEM,
    PROVINCE,
    application,
    doer,
)
from tests.e2e.read_model_helpers import (
    all_pages,
    build_province,
    household_in,
    plant_duplicate,
    projected,
    read_every_model,
    workbook_rows,
)

pytestmark = pytest.mark.slow

# Wide enough that each due list holds files of several districts.
DUE = {
    "visits": "kind=visits&as_of=2026-11-21&visit_days=1",
    "rechecks": "kind=rechecks&as_of=2030-01-01",
    "follow_up": "kind=follow_up&as_of=2026-11-21&follow_up_months=120",
}
DUE_SQL = {
    "visits": "status = 'approved'",
    "rechecks": "status = 'approved'",
    "follow_up": "status IN ('out_of_hardship', 'relieved')",
}


async def one_person_in_two_files(
    api: Api, files: PgFileRepository, first_unit: str, second_unit: str
) -> list[str]:
    """Two open files: one headed by a person, the other with that person as a member — the
    second stored as a pull stores it, since the API refuses it (一户一档)."""
    number = person_id()
    head = {"name": "赵重复", "id_number": number, "phone": "13912345678"}
    first = await api.client.post(
        f"{API}/files",
        json=application(first_unit, head=head),
        headers=doer(api, "apply", first_unit),
    )
    assert first.status_code == 201, first.text
    second = await plant_duplicate(files, second_unit, member_id=number)
    return [first.json()["id"], second]


@pytest.fixture
async def province(api: Api, files: PgFileRepository) -> Api:
    await build_province(files, count=140, seed=5)
    for unit in (BASE, "130306002", "130302001"):
        await household_in(api, "appraised", unit)
    await one_person_in_two_files(api, files, BASE, "130302001")
    await one_person_in_two_files(api, files, "130302001", "130102001")
    await projected(api)
    return api


async def count_by_unit(pool: asyncpg.Pool, where: str, *args: Any) -> Counter[str]:
    rows = await pool.fetch(f"SELECT unit FROM ledger WHERE {where}", *args)
    return Counter(r["unit"] for r in rows)


class TestADistrict:
    async def test_reads_exactly_its_subtree_in_the_ledger(self, province: Api, pool: asyncpg.Pool):
        items = await all_pages(province, province.auth(DISTRICT, "approver"), limit=40)

        got = Counter(i["unit"] for i in items)
        assert got == await count_by_unit(pool, "district = $1", DISTRICT)
        assert len(items) < await pool.fetchval("SELECT count(*) FROM ledger")

    async def test_exports_exactly_its_subtree(self, province: Api, pool: asyncpg.Pool):
        exported = await province.client.get(
            f"{API}/ledger.xlsx", headers=province.auth(DISTRICT, "approver")
        )

        _, *rows = workbook_rows(exported.content)
        expected = await pool.fetch("SELECT id_masked FROM ledger WHERE district = $1", DISTRICT)
        assert Counter(r[3] for r in rows) == Counter(r["id_masked"] for r in expected)

    async def test_reads_the_statistics_of_its_subtree_only(
        self, province: Api, pool: asyncpg.Pool
    ):
        stats = await province.client.get(
            f"{API}/stats?level=base", headers=province.auth(DISTRICT, "approver")
        )

        body = stats.json()
        assert body["figures"]["unit"] == DISTRICT
        by_unit = {c["unit"]: sum(f["count"] for f in status_figures(c)) for c in body["children"]}
        assert {u: n for u, n in by_unit.items() if n} == dict(
            await count_by_unit(pool, "district = $1", DISTRICT)
        )
        assert all(u.startswith(DISTRICT) and len(u) >= 9 for u in by_unit)

    async def test_sees_only_its_approval_queue(self, province: Api, pool: asyncpg.Pool):
        queue = await province.client.get(
            f"{API}/queues/approvals", headers=province.auth(DISTRICT, "approver")
        )

        got = Counter(i["unit"] for i in queue.json()["items"])
        assert got == await count_by_unit(pool, "district = $1 AND status = 'appraised'", DISTRICT)
        assert await count_by_unit(
            pool, "district <> $1 AND status = 'appraised'", DISTRICT
        )  # there are others to hide

    @pytest.mark.parametrize("kind", list(DUE))
    async def test_sees_only_its_due_lists(self, province: Api, pool: asyncpg.Pool, kind: str):
        due = await province.client.get(
            f"{API}/due?{DUE[kind]}", headers=province.auth(DISTRICT, "approver")
        )

        assert due.status_code == 200, due.text
        got = Counter(i["unit"] for i in due.json()["items"])
        assert got == await count_by_unit(pool, f"district = $1 AND {DUE_SQL[kind]}", DISTRICT)
        assert got
        assert await count_by_unit(pool, f"district <> $1 AND {DUE_SQL[kind]}", DISTRICT)

    async def test_sees_only_duplicates_touching_its_subtree_and_only_its_own_files(
        self, province: Api
    ):
        found = await province.client.get(
            f"{API}/duplicates", headers=province.auth(DISTRICT, "approver")
        )
        everywhere = await province.client.get(
            f"{API}/duplicates", headers=province.auth(PROVINCE, "inspector")
        )

        items = found.json()["items"]
        assert len(items) == 1
        assert [f["unit"] for f in items[0]["files"]] == [BASE]
        assert items[0]["other_files"] == 1
        assert len(everywhere.json()["items"]) == 2


class TestAUnitOutsideTheCallersSubtree:
    @pytest.mark.parametrize("outside", [OTHER_DISTRICT, CITY, "130402001"])
    async def test_does_not_exist_on_any_read_model(self, province: Api, outside: str):
        approver = province.auth(DISTRICT, "approver")

        got = await read_every_model(province, approver, unit=outside)

        assert {n: r.status_code for n, r in got.items()} == dict.fromkeys(got, 404)
        assert {r.headers["content-type"] for r in got.values()} == {PROBLEM}

    async def test_is_404_like_a_unit_that_is_not_registered(self, api: Api):
        approver = api.auth(DISTRICT, "approver")

        got = await read_every_model(api, approver, unit="130306099")

        assert {n: r.status_code for n, r in got.items()} == dict.fromkeys(got, 404)

    async def test_within_it_may_be_asked_for(self, province: Api):
        inspector = province.auth(CITY, "inspector")

        got = await read_every_model(province, inspector, unit=DISTRICT)

        assert {n: r.status_code for n, r in got.items()} == dict.fromkeys(got, 200)


class TestWhoMayRead:
    @pytest.mark.parametrize(
        ("unit", "role"),
        [(BASE, "clerk"), (DISTRICT, "approver"), (CITY, "inspector"), (PROVINCE, "admin")],
    )
    async def test_every_reading_role_may(self, api: Api, unit: str, role: str):
        headers = api.auth(unit, role)

        got = await read_every_model(api, headers)

        assert {n: r.status_code for n, r in got.items()} == dict.fromkeys(got, 200)

    async def test_a_machine_account_for_sync_may_not(self, api: Api):
        headers = api.auth(PROVINCE, "sync")

        got = await read_every_model(api, headers)

        assert {n: (r.status_code, r.json().get("rule")) for n, r in got.items()} == dict.fromkeys(
            got, (403, "role")
        )

    async def test_a_stranger_may_not(self, api: Api):
        got = await read_every_model(api, {})

        assert {n: r.status_code for n, r in got.items()} == dict.fromkeys(got, 401)


class TestABaseUnionWhoseCodeExtendsAnother:
    """'1303060011' starts with '130306001': neither sees the other's rows anywhere."""

    @pytest.fixture
    async def both(self, api: Api, files: PgFileRepository) -> dict[str, dict[str, Any]]:
        repository = files
        created = await api.client.post(
            f"{API}/units",
            json={"code": PREFIX_SIBLING, "name": "抚宁区某某公司工会"},
            headers=api.auth(DISTRICT, "admin", **JSON),
        )
        assert created.status_code == 201, created.text
        made: dict[str, dict[str, Any]] = {}
        for unit in (BASE, PREFIX_SIBLING):
            made[unit] = {
                "appraised": await household_in(api, "appraised", unit),
                "approved": await household_in(api, "approved", unit),
                "exited": await household_in(api, "out_of_hardship", unit),
            }
        made[BASE]["shared"], made[PREFIX_SIBLING]["shared"] = await one_person_in_two_files(
            api, repository, BASE, PREFIX_SIBLING
        )
        await projected(api)
        return made

    @pytest.mark.parametrize(("mine", "theirs"), [(BASE, PREFIX_SIBLING), (PREFIX_SIBLING, BASE)])
    async def test_sees_none_of_the_other_s_rows_in_any_read_model(
        self, api: Api, both: dict[str, dict[str, Any]], mine: str, theirs: str
    ):
        clerk = api.auth(mine, "clerk")

        ledger = await all_pages(api, clerk)
        queue = (await api.client.get(f"{API}/queues/approvals", headers=clerk)).json()
        due = {
            kind: (await api.client.get(f"{API}/due?{query}", headers=clerk)).json()
            for kind, query in DUE.items()
        }
        duplicates = (await api.client.get(f"{API}/duplicates", headers=clerk)).json()
        stats = (await api.client.get(f"{API}/stats", headers=clerk)).json()
        _, *rows = workbook_rows(
            (await api.client.get(f"{API}/ledger.xlsx", headers=clerk)).content
        )

        own = both[mine]
        assert {i["file_id"] for i in ledger} == set(own.values())
        assert [i["file_id"] for i in queue["items"]] == [own["appraised"]]
        assert [i["file_id"] for i in due["visits"]["items"]] == [own["approved"]]
        assert [i["file_id"] for i in due["rechecks"]["items"]] == [own["approved"]]
        assert [i["file_id"] for i in due["follow_up"]["items"]] == [own["exited"]]
        (duplicate,) = duplicates["items"]
        assert [f["file_id"] for f in duplicate["files"]] == [own["shared"]]
        assert duplicate["other_files"] == 1
        assert sum(f["count"] for f in status_figures(stats["figures"])) == len(own)
        assert len(rows) == len(own)
        assert not {i["unit"] for i in ledger} & {theirs}


def status_figures(figures: dict[str, Any]) -> list[dict[str, Any]]:
    (group,) = [g for g in figures["stock"] if g["dimension"] == "status"]
    return list(group["figures"])
