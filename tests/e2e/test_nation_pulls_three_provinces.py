"""The national tier: three province nodes, each on a PostgreSQL server of its own, serve their
feeds over HTTP on loopback, and a national node (code and subtree "00", on a fourth server) pulls
them all. Its reads are scoped by its root: a national inspector sees every province in the
ledger and the statistics, a province's inspector on the national node only its own province
(docs/decisions/0014-a-tree-that-reaches-the-nation.md). Small data: three files a province.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from adapters.http.auth import Tokens
from adapters.pg.codec import EventCodec
from adapters.pg.projector import ProjectionRunner
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.bootstrap import read_models
from adapters.sync.node import Downstream, NodeSettings
from adapters.sync.pull import Puller
from domain.privacy import keyed_hash
from domain.units import NATION
from domain.values import Role
from tests.builders import approved_file
from tests.e2e.conftest import Servers
from tests.e2e.sync_helpers import HASH_KEY, SECRET, log_of, served, sync_token

# each province: its name and one district with two base-level unions (3 files between them)
PROVINCES = {
    "13": ("河北省总工会", "130306", "抚宁区总工会"),
    "14": ("山西省总工会", "140105", "小店区总工会"),
    "15": ("内蒙古自治区总工会", "150102", "新城区总工会"),
}
FILES_PER_PROVINCE = 3
SHARED = pytest.mark.asyncio(loop_scope="module")


def tree(province: str) -> dict[str, str]:
    name, district, district_name = PROVINCES[province]
    return {
        province: name,
        district[:4]: name.replace("总工会", "") + "某市总工会",
        district: district_name,
        f"{district}001": district_name.replace("总工会", "") + "机械厂工会",
        f"{district}002": district_name.replace("总工会", "") + "纺织厂工会",
    }


@pytest.fixture(scope="module")
def nodes(servers: Servers, module_database_url: str) -> Iterator[dict[str, str]]:
    """Node name → database URL: the national node's on the session's server, each province's
    on a server of its own (dropped after the module)."""
    urls = {NATION: module_database_url}
    for server, province in enumerate(PROVINCES, start=1):
        urls[province] = servers.create(server)
    yield urls
    for server, province in enumerate(PROVINCES, start=1):
        servers.drop(server, urls[province])


async def fill(urls: dict[str, str]) -> None:
    """The trees of the nodes, and each province's files written through the domain."""
    pools = {
        code: await asyncpg.create_pool(url, min_size=1, max_size=2) for code, url in urls.items()
    }
    try:
        national = PgUnitDirectory(pools[NATION])
        await national.load({NATION: "中华全国总工会"})
        for province in PROVINCES:
            await national.load(tree(province))
            await PgUnitDirectory(pools[province]).load(tree(province))
            files = PgFileRepository(PostgresEventStore(pools[province]), EventCodec())
            district = PROVINCES[province][1]
            for i in range(FILES_PER_PROVINCE):
                await files.save(approved_file(f"{district}00{1 + i % 2}"))
    finally:
        for pool in pools.values():
            await pool.close()


async def pull_every_province(urls: dict[str, str], tmp_path: Path) -> None:
    national = await asyncpg.create_pool(urls[NATION], min_size=1, max_size=4)
    try:
        for province in PROVINCES:
            node = NodeSettings(code=province, subtree=province)
            async with served(urls[province], tmp_path / province, node) as url:
                pulling = Puller(national, Downstream(province, url, sync_token(province)))
                await pulling.catch_up()
                await pulling.close()
        await ProjectionRunner(
            PostgresEventStore(national),
            EventCodec(),
            read_models(lambda number: keyed_hash(HASH_KEY.encode(), number)),
        ).catch_up()
    finally:
        await national.close()


def auth(unit: str, role: Role = Role.INSPECTOR) -> dict[str, str]:
    token = Tokens(SECRET).mint(user=f"{role}-{unit}", unit=unit, role=role, ttl=timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def approved(figures: dict[str, Any]) -> int:
    [status] = [g for g in figures["stock"] if g["dimension"] == "status"]
    return sum(f["count"] for f in status["figures"] if f["key"] == "approved")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def national(
    nodes: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """The national node after pulling every province once (one setup for the module: the
    tests only read), served over HTTP."""
    tmp_path = tmp_path_factory.mktemp("nation")
    await fill(nodes)
    await pull_every_province(nodes, tmp_path)
    node = NodeSettings(code=NATION, subtree=NATION)
    async with (
        served(nodes[NATION], tmp_path / "n", node) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield client


@SHARED
class TestTheNationalNode:
    async def test_holds_every_provinces_events_hash_for_hash(
        self, nodes: dict[str, str], national: httpx.AsyncClient
    ):
        pools = {c: await asyncpg.create_pool(u, min_size=1, max_size=1) for c, u in nodes.items()}
        try:
            held = await log_of(pools[NATION])
            sent = [await log_of(pools[p]) for p in PROVINCES]
            servers = {await p.fetchval("SELECT system_identifier FROM pg_control_system()")
                       for p in pools.values()}  # fmt: skip
        finally:
            for pool in pools.values():
                await pool.close()

        assert held == set().union(*sent)
        assert all(len(s) == FILES_PER_PROVINCE * 4 for s in sent)
        assert len(servers) == 4

    async def test_shows_a_national_inspector_every_provinces_files(
        self, national: httpx.AsyncClient
    ):
        response = await national.get("/api/v1/ledger", params={"limit": 50}, headers=auth(NATION))

        assert response.status_code == 200, response.text
        units = sorted(item["unit"][:2] for item in response.json()["items"])
        assert units == sorted(list(PROVINCES) * FILES_PER_PROVINCE)

    async def test_counts_the_nation_as_the_sum_of_its_provinces(self, national: httpx.AsyncClient):
        response = await national.get(
            "/api/v1/stats", params={"level": "province"}, headers=auth(NATION)
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["figures"]["unit"], body["figures"]["level"]) == (NATION, "nation")
        assert approved(body["figures"]) == FILES_PER_PROVINCE * len(PROVINCES)
        assert {c["unit"]: approved(c) for c in body["children"]} == dict.fromkeys(
            PROVINCES, FILES_PER_PROVINCE
        )

    async def test_shows_a_provinces_inspector_only_its_province(self, national: httpx.AsyncClient):
        ledger = await national.get("/api/v1/ledger", params={"limit": 50}, headers=auth("14"))
        stats = await national.get("/api/v1/stats", headers=auth("14"))

        assert ledger.status_code == 200, ledger.text
        assert [item["unit"][:2] for item in ledger.json()["items"]] == ["14"] * FILES_PER_PROVINCE
        assert approved(stats.json()["figures"]) == FILES_PER_PROVINCE

    @pytest.mark.parametrize(
        ("path", "unit"), [("/api/v1/ledger", NATION), ("/api/v1/stats", "13")]
    )
    async def test_the_nation_and_other_provinces_do_not_exist_for_a_provinces_inspector(
        self, national: httpx.AsyncClient, path: str, unit: str
    ):
        response = await national.get(path, params={"unit": unit}, headers=auth("14"))

        assert response.status_code == 404, response.text
