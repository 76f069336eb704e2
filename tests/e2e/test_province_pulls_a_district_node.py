"""A province node pulls a district node over HTTP on loopback: two databases, two apps.

Every event arrives once, hash for hash, while the district keeps writing; the province's own
read models then count the district's files as the district does. A tampered event is
quarantined, an event for another district's file refuses its page, a district restored from a
backup is read again without duplicates, and the province passes it all on to a national node.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg
import httpx
import pytest

from adapters.bootstrap import read_models
from adapters.codec import EventCodec
from adapters.integrity import GENESIS
from adapters.pg.projector import ProjectionRunner
from adapters.pg.store import PostgresEventStore, chain
from adapters.sync.node import Downstream, NodeSettings, new_epoch
from adapters.sync.pull import PageRefused, Puller
from domain.privacy import keyed_hash
from tests.builders import TODAY
from tests.e2e.sync_helpers import (
    DISTRICT,
    HASH_KEY,
    OTHER_DISTRICT,
    PROVINCE,
    admin_token,
    load_units,
    log_of,
    served,
    stock_of,
    sync_token,
    write_district_files,
)

URLS: dict[int, str] = {}  # pool → its database URL
COPIES: list[str] = []  # backups made by tests, dropped by `pools`

DISTRICT_NODE = NodeSettings(code=DISTRICT, subtree=DISTRICT)
PROVINCE_NODE = NodeSettings(code=PROVINCE, subtree=PROVINCE)


@pytest.fixture
async def pools(
    make_database: Callable[[], str], server_url: str
) -> AsyncIterator[dict[str, asyncpg.Pool]]:
    made = {}
    try:
        for name in ("district", "province", "national"):
            url = make_database()
            made[name] = await asyncpg.create_pool(url, min_size=1, max_size=6)
            URLS[id(made[name])] = url
            await load_units(made[name])
        yield made
    finally:
        for pool in made.values():
            await pool.close()
        if COPIES:
            admin = await asyncpg.connect(server_url)
            try:
                while COPIES:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{COPIES.pop()}" WITH (FORCE)')
            finally:
                await admin.close()


def puller(pool: asyncpg.Pool, url: str, code: str = DISTRICT, limit: int = 50) -> Puller:
    return Puller(pool, Downstream(code, url, sync_token(code)), limit=limit)


async def project(pool: asyncpg.Pool) -> None:
    runner = ProjectionRunner(
        PostgresEventStore(pool),
        EventCodec(),
        read_models(lambda number: keyed_hash(HASH_KEY.encode(), number)),
    )
    await runner.catch_up()


class TestTheProvincePullsADistrict:
    async def test_holds_every_event_with_its_hash_and_counts_as_the_district_does(
        self, pools: dict[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        district, province = pools["district"], pools["province"]
        await write_district_files(district, count=20, seed=1)

        async with served(URLS[id(district)], tmp_path / "d", DISTRICT_NODE) as url:
            pulling = puller(province, url)
            writing = asyncio.create_task(write_district_files(district, count=20, seed=2))
            while not writing.done():
                await pulling.catch_up()
            await writing
            await pulling.catch_up()
            await pulling.close()
        await project(district)
        await project(province)

        assert await log_of(province) == await log_of(district)
        assert len(await log_of(province)) > 200
        assert await stock_of(province, DISTRICT) == await stock_of(district, DISTRICT)
        assert await stock_of(province, DISTRICT) != []

    async def test_pulls_each_configured_downstream_in_the_background_and_shows_its_status(
        self, pools: dict[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        district, province = pools["district"], pools["province"]
        written = await write_district_files(district, count=3, seed=3)
        admin = {"Authorization": f"Bearer {admin_token(PROVINCE)}"}

        async with served(URLS[id(district)], tmp_path / "d", DISTRICT_NODE) as url:
            downstream = Downstream(DISTRICT, url, sync_token(DISTRICT))
            node = NodeSettings(code=PROVINCE, subtree=PROVINCE, downstreams=(downstream,))
            async with (
                served(URLS[id(province)], tmp_path / "p", node) as purl,
                httpx.AsyncClient(base_url=purl) as client,
            ):
                for _ in range(300):  # `serve` pulls every configured downstream by itself
                    response = await client.get("/api/v1/sync/status", headers=admin)
                    [status] = response.json()["downstreams"]
                    if status["received"] and not status["behind"]:
                        break
                    await asyncio.sleep(0.05)
                node_body = (await client.get("/api/v1/node", headers=admin)).json()

        assert response.status_code == 200, response.text
        assert status["code"] == DISTRICT
        assert status["received"] == written > 0
        assert status["behind"] == 0
        assert status["last_success"] is not None
        assert status["last_error"] is None
        assert node_body["code"] == PROVINCE
        assert node_body["downstreams"] == [{"code": DISTRICT, "url": url}]


class TestTheFeed:
    async def test_refuses_a_token_that_is_not_a_sync_account(
        self, pools: dict[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        async with (
            served(URLS[id(pools["district"])], tmp_path / "d", DISTRICT_NODE) as url,
            httpx.AsyncClient(base_url=url) as client,
        ):
            admin = await client.get(
                "/api/v1/sync/feed", headers={"Authorization": f"Bearer {admin_token(DISTRICT)}"}
            )
            elsewhere = await client.get(
                "/api/v1/sync/feed",
                headers={"Authorization": f"Bearer {sync_token(OTHER_DISTRICT)}"},
            )

        assert admin.status_code == 403
        assert elsewhere.status_code == 403
        assert elsewhere.json()["rule"] == "sync_scope"


class TestIntegrity:
    async def test_an_event_altered_on_the_district_is_quarantined_and_alerted(
        self, pools: dict[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        district, province = pools["district"], pools["province"]
        await write_district_files(district, count=5, seed=4)
        async with served(URLS[id(district)], tmp_path / "d", DISTRICT_NODE) as url:
            pulling = puller(province, url)
            await pulling.catch_up()
            # altered after it was pulled, hash recomputed to look intact, then read again
            stream = await district.fetchval("SELECT stream_id FROM events LIMIT 1")
            await district.execute(
                "UPDATE events SET hash = sha256(hash) WHERE stream_id = $1 AND version = 1",
                stream,
            )
            # altered before it was pulled: the hash no longer matches the content
            await write_district_files(district, count=2, seed=5)
            fresh = await district.fetchval(
                "SELECT stream_id FROM events ORDER BY position DESC LIMIT 1"
            )
            await district.execute(
                "UPDATE events SET payload = payload || ' '::bytea WHERE stream_id = $1"
                " AND version = 1",
                fresh,
            )
            await province.execute("UPDATE sync_downstreams SET cursor = ''")
            await pulling.catch_up()
            await pulling.close()

        quarantined = await province.fetch(
            "SELECT stream_id, version, reason FROM sync_quarantine ORDER BY stream_id, version"
        )
        assert {(r["stream_id"], r["version"]) for r in quarantined} >= {(stream, 1), (fresh, 1)}
        assert (
            await province.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", fresh) == 0
        )
        held = await province.fetchval(
            "SELECT hash FROM events WHERE stream_id = $1 AND version = 1", stream
        )
        assert held != await district.fetchval(
            "SELECT hash FROM events WHERE stream_id = $1 AND version = 1", stream
        )
        kinds = {r["kind"] for r in await province.fetch("SELECT kind FROM sync_alerts")}
        assert "event_quarantined" in kinds

    async def test_an_event_for_a_file_outside_the_district_refuses_the_page(
        self, pools: dict[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        district, province = pools["district"], pools["province"]
        await write_district_files(district, count=2, seed=6)
        foreign = chain(
            GENESIS, uuid4(), 1, "household.applied", b"{}", _now(), OTHER_DISTRICT + "001"
        )
        await PostgresEventStore(district).append([foreign])

        # a district node that serves more than it owns: misconfigured, or not to be trusted
        careless = NodeSettings(code=DISTRICT, subtree=DISTRICT[:4])

        async with served(URLS[id(district)], tmp_path / "d", careless) as url:
            pulling = Puller(
                province, Downstream(DISTRICT, url, sync_token(DISTRICT[:4])), limit=10_000
            )
            try:
                with pytest.raises(PageRefused, match=str(foreign.stream_id)):
                    await pulling.catch_up()
            finally:
                await pulling.close()

        assert await province.fetchval("SELECT count(*) FROM events") == 0


class TestRestores:
    async def test_a_district_restored_from_a_backup_is_read_again_without_duplicates(
        self, pools: dict[str, asyncpg.Pool], server_url: str, tmp_path: Path
    ) -> None:
        district, province = pools["district"], pools["province"]
        await write_district_files(district, count=6, seed=7)
        async with served(URLS[id(district)], tmp_path / "d", DISTRICT_NODE) as url:
            pulling = puller(province, url)
            await pulling.catch_up()
            await pulling.close()
        backup = await _copy(server_url, district)
        await write_district_files(district, count=6, seed=8)  # lost by the restore
        async with served(URLS[id(district)], tmp_path / "d", DISTRICT_NODE) as url:
            pulling = puller(province, url)
            await pulling.catch_up()
            await pulling.close()

        restored = await asyncpg.create_pool(backup, min_size=1, max_size=6)
        try:
            await new_epoch(restored)
            await write_district_files(restored, count=6, seed=9)
            # a node is restored with its keys (its data folder): the database alone would not
            # start under other keys (docs/operations.md, "Backup and restore")
            async with served(backup, tmp_path / "d", DISTRICT_NODE) as url:
                pulling = puller(province, url)
                await pulling.catch_up()
                await pulling.close()
            after_restore = await log_of(restored)
        finally:
            await restored.close()

        held = await log_of(province)
        assert after_restore <= held
        assert len(held) == await province.fetchval("SELECT count(*) FROM events")
        kinds = {r["kind"] for r in await province.fetch("SELECT kind FROM sync_alerts")}
        assert "downstream_restored" in kinds
        assert await province.fetchval("SELECT count(*) FROM sync_quarantine") == 0


class TestThreeTiers:
    async def test_the_national_node_holds_the_district_events_through_the_province(
        self, pools: dict[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        district, province, national = pools["district"], pools["province"], pools["national"]
        await write_district_files(district, count=8, seed=10)

        async with served(URLS[id(district)], tmp_path / "d", DISTRICT_NODE) as url:
            pulling = puller(province, url)
            await pulling.catch_up()
            await pulling.close()
        async with served(URLS[id(province)], tmp_path / "p", PROVINCE_NODE) as url:
            pulling = puller(national, url, code=PROVINCE)
            await pulling.catch_up()
            await pulling.close()
        await project(district)
        await project(national)

        assert await log_of(national) == await log_of(district)
        origins = await national.fetch("SELECT DISTINCT node, downstream FROM sync_origins")
        assert [tuple(r) for r in origins] == [(DISTRICT, PROVINCE)]
        assert await stock_of(national, DISTRICT) == await stock_of(district, DISTRICT)


def _now():
    from datetime import UTC, datetime, time  # noqa: PLC0415

    return datetime.combine(TODAY, time(12), tzinfo=UTC)


async def _copy(server_url: str, pool: asyncpg.Pool) -> str:
    """A copy of the pool's database (CREATE DATABASE … TEMPLATE): a backup, taken now."""
    parts = urlsplit(URLS[id(pool)])
    template, name = parts.path.lstrip("/"), "bangfu_backup_" + uuid4().hex[:10]
    await pool.expire_connections()
    admin = await asyncpg.connect(server_url)
    try:
        # the source may have no other session while it is copied: the pool reconnects to
        # keep its floor, so new connections are refused while the copy is taken, and a
        # terminated backend takes a moment to leave (pg_terminate_backend only signals it)
        await admin.execute(f'ALTER DATABASE "{template}" ALLOW_CONNECTIONS false')
        try:
            for _ in range(100):
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    template,
                )
                if not await admin.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", template
                ):
                    break
                await asyncio.sleep(0.05)
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await admin.execute(f'ALTER DATABASE "{template}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()
    COPIES.append(name)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
