"""A province node pulls a district node over HTTP on loopback: two PostgreSQL servers, two apps.

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
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from pgserver._commands import POSTGRES_BIN_PATH

from adapters.pg.codec import EventCodec
from adapters.pg.integrity import GENESIS
from adapters.pg.projector import ProjectionRunner
from adapters.pg.store import NewEvent, PostgresEventStore, StreamHead, chain
from adapters.runtime.bootstrap import read_models
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
    server_of,
    stock_of,
    sync_token,
    tamper,
    write_district_files,
)

URLS: dict[int, str] = {}  # pool → its database URL
COPIES: list[str] = []  # backups made by tests, dropped by `pools`

DISTRICT_NODE = NodeSettings(code=DISTRICT, subtree=DISTRICT)
PROVINCE_NODE = NodeSettings(code=PROVINCE, subtree=PROVINCE)


@pytest.fixture
async def pools(
    node_database: Callable[[int], str], server_url: str
) -> AsyncIterator[dict[str, asyncpg.Pool]]:
    """The district, province and national nodes' databases, each on a server of its own."""
    made = {}
    try:
        for server, name in enumerate(("district", "province", "national")):
            url = node_database(server)
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
    async def test_each_node_has_a_postgresql_server_of_its_own(
        self, pools: dict[str, asyncpg.Pool]
    ) -> None:
        servers = {name: await server_of(pool) for name, pool in pools.items()}

        assert len(set(servers.values())) == 3, servers

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


class TestThePull:
    async def test_reads_the_next_page_while_it_stores_this_one(
        self, pools: dict[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        district, province = pools["district"], pools["province"]
        await write_district_files(district, count=6, seed=19)
        seen: list[str] = []

        async def requested(request: httpx.Request) -> None:
            if request.url.path.endswith("/sync/feed"):
                seen.append("read " + request.url.params["after"])

        async with (
            served(URLS[id(district)], tmp_path / "d", DISTRICT_NODE) as url,
            httpx.AsyncClient(event_hooks={"request": [requested]}) as client,
        ):
            pulling = Puller(
                province,
                Downstream(DISTRICT, url, sync_token(DISTRICT)),
                client=client,
                limit=20,
                on_stored=lambda: seen.append("stored"),
            )
            pulled = await pulling.catch_up()

        assert pulled.pages > 2
        reads = [i for i, what in enumerate(seen) if what.startswith("read")]
        stores = [i for i, what in enumerate(seen) if what == "stored"]
        assert len(stores) == pulled.pages
        # page 2 was asked for before page 1 was stored, page 3 before page 2 was, …
        assert all(reads[k + 1] < stores[k] for k in range(len(stores) - 1)), seen
        assert await log_of(province) == await log_of(district)

    async def test_two_pullers_of_one_district_store_each_page_once(
        self, pools: dict[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        # `bangfu serve` pulling while an operator runs `bangfu sync pull` by hand: the stored
        # cursor decides, and a page read ahead from a cursor that moved on is dropped
        district, province = pools["district"], pools["province"]
        await write_district_files(district, count=10, seed=20)
        async with served(URLS[id(district)], tmp_path / "d", DISTRICT_NODE) as url:
            pullers = [puller(province, url, limit=15) for _ in range(2)]
            results = await asyncio.gather(*(p.catch_up() for p in pullers))
            for p in pullers:
                await p.close()

        held = await log_of(province)
        assert held == await log_of(district)
        assert sum(r.added for r in results) == len(held)
        received = await province.fetchval("SELECT received FROM sync_downstreams")
        assert received == len(held)


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
            await tamper(
                district,
                "UPDATE events SET hash = sha256(hash) WHERE stream_id = $1 AND version = 1",
                stream,
            )
            # altered before it was pulled: the hash no longer matches the content
            await write_district_files(district, count=2, seed=5)
            fresh = await district.fetchval(
                "SELECT stream_id FROM events ORDER BY position DESC LIMIT 1"
            )
            await tamper(
                district,
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

    async def test_an_event_altered_at_the_province_is_found_when_its_stream_grows(
        self, pools: dict[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        district, province = pools["district"], pools["province"]
        await write_district_files(district, count=4, seed=14)
        async with served(URLS[id(district)], tmp_path / "d", DISTRICT_NODE) as url:
            pulling = puller(province, url)
            await pulling.catch_up()
            # someone with database access changes the province's copy of a stream's last event,
            # leaving its stored hash as it was: hash comparisons alone would never notice
            stream, version = await province.fetchrow(
                "SELECT stream_id, max(version) FROM events GROUP BY stream_id LIMIT 1"
            )
            await tamper(
                province,
                "UPDATE events SET payload = payload || ' '::bytea"
                " WHERE stream_id = $1 AND version = $2",
                stream,
                version,
            )
            grown = await _grow(district, stream)  # the district writes on, as it may
            await write_district_files(district, count=1, seed=15)
            await pulling.catch_up()
            await pulling.close()

        alerts = await province.fetch(
            "SELECT stream_id, version FROM sync_alerts WHERE kind = 'held_event_altered'"
        )
        assert [tuple(r) for r in alerts] == [(stream, version)]
        quarantined = await province.fetch("SELECT stream_id, version, hash FROM sync_quarantine")
        assert [tuple(r) for r in quarantined] == [(stream, grown.version, grown.hash)]
        assert not await province.fetchval(
            "SELECT count(*) FROM events WHERE stream_id = $1 AND version = $2",
            stream,
            grown.version,
        )
        # everything else of the district arrived as usual
        assert await log_of(province) >= {e for e in await log_of(district) if e[0] != stream}


class TestRestores:
    async def test_a_district_restored_from_a_backup_is_read_again_without_duplicates(
        self, pools: dict[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        district, province = pools["district"], pools["province"]
        await write_district_files(district, count=6, seed=7)
        async with served(URLS[id(district)], tmp_path / "d", DISTRICT_NODE) as url:
            pulling = puller(province, url)
            await pulling.catch_up()
            await pulling.close()
        dump = tmp_path / "district.dump"
        await _pg("pg_dump", "--format=custom", f"--file={dump}", f"--dbname={URLS[id(district)]}")
        await write_district_files(district, count=6, seed=8)  # lost by the restore
        async with served(URLS[id(district)], tmp_path / "d", DISTRICT_NODE) as url:
            pulling = puller(province, url)
            await pulling.catch_up()
            await pulling.close()

        backup = await _restore_copy(URLS[id(district)], dump)  # restored beside the original
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
        alerts = await province.fetch(
            "SELECT detail FROM sync_alerts WHERE kind = 'downstream_restored'"
        )
        assert ["epoch changed" in a["detail"] for a in alerts] == [True]
        assert await province.fetchval("SELECT count(*) FROM sync_quarantine") == 0

    async def test_a_district_restored_from_a_dump_without_a_new_epoch_is_noticed(
        self, pools: dict[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        district, province = pools["district"], pools["province"]
        url = URLS[id(district)]
        await write_district_files(district, count=5, seed=16)
        dump = tmp_path / "district.dump"
        await _pg("pg_dump", "--format=custom", f"--file={dump}", f"--dbname={url}")
        await write_district_files(district, count=5, seed=17)  # lost by the restore
        async with served(url, tmp_path / "d", DISTRICT_NODE) as served_url:
            pulling = puller(province, served_url)
            await pulling.catch_up()
            await pulling.close()
        before = await log_of(province)

        # the district's database is lost and restored from the dump; nobody runs new-epoch
        await district.close()
        await _recreate(url)
        await _pg("pg_restore", "--no-owner", f"--dbname={url}", str(dump))
        restored = await asyncpg.create_pool(url, min_size=1, max_size=6)
        try:
            await write_district_files(restored, count=5, seed=18)  # and it keeps writing
            async with served(url, tmp_path / "d", DISTRICT_NODE) as served_url:
                pulling = puller(province, served_url)
                pulled = await pulling.catch_up()
                await pulling.close()
            after_restore = await log_of(restored)
            head = await restored.fetchval(
                "SELECT xid::text || '.' || position FROM events"
                " ORDER BY xid DESC, position DESC LIMIT 1"
            )
        finally:
            await restored.close()

        alerts = await province.fetch(
            "SELECT detail FROM sync_alerts WHERE kind = 'downstream_restored'"
        )
        assert len(alerts) == 1
        assert "no longer in its log" in alerts[0]["detail"]
        assert pulled.restarts == 1
        assert pulled.skipped > 0  # read again from the start: what was held is skipped …
        held = await log_of(province)
        assert held == before | after_restore  # … and only the missing events are added
        assert len(held) == await province.fetchval("SELECT count(*) FROM events")
        assert pulled.added == len(after_restore - before) > 0
        assert await province.fetchval("SELECT count(*) FROM sync_quarantine") == 0
        assert await province.fetchval("SELECT cursor FROM sync_downstreams") == head


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


async def _grow(pool: asyncpg.Pool, stream: UUID) -> NewEvent:
    """The next event of a stream, appended on the district (a visit note on the file)."""
    row = await pool.fetchrow(
        "SELECT version, hash, unit FROM events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1",
        stream,
    )
    event = chain(
        bytes(row["hash"]), stream, row["version"] + 1, "household.visited", b"{}", _now(),
        row["unit"],
    )  # fmt: skip
    await PostgresEventStore(pool).append(
        [event], [StreamHead(stream, row["version"], bytes(row["hash"]))]
    )
    return event


async def _pg(tool: str, *args: str) -> None:
    """Run one of PostgreSQL's own tools (those pgserver ships) and insist it succeeds."""
    process = await asyncio.create_subprocess_exec(
        str(Path(POSTGRES_BIN_PATH) / tool), *args, stderr=asyncio.subprocess.PIPE
    )
    _, error = await process.communicate()
    assert process.returncode == 0, error.decode()


async def _recreate(url: str) -> None:
    """Drop a database and create it again, empty (a server rebuilt before a restore)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = await asyncpg.connect(
        urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))
    )
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        await admin.close()


def _now():
    from datetime import UTC, datetime, time  # noqa: PLC0415

    return datetime.combine(TODAY, time(12), tzinfo=UTC)


async def _restore_copy(url: str, dump: Path) -> str:
    """A new database on the server of `url`, restored from `dump`: a backup brought back."""
    parts = urlsplit(url)
    name = "bangfu_backup_" + uuid4().hex[:10]
    admin = await asyncpg.connect(
        urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        await admin.close()
    COPIES.append(name)
    copy = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    await _pg("pg_restore", "--no-owner", f"--dbname={copy}", str(dump))
    return copy
