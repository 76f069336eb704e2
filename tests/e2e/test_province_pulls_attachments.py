"""A province pulls a district's attachments with their events: district and province each on a
PostgreSQL server of its own, the district served over HTTP on loopback.

The content travels sealed, as stored, read beside the feed one chunk at a time; the province
opens it with the data key the feed carries wrapped under the shared sync key, re-hashes it
against the event and stores it in the page's transaction. Once pulled, the province serves the
scans with the district offline. Content altered or missing at the district is quarantined like
a tampered event: the event and the stream's later events wait in `sync_quarantine`, alerted,
and nothing of that content is stored. A page's scans are read several at a time (at most
`attachments_in_flight`); one that cannot be read cancels the others, closes every spool and
stores nothing of the page. Many chunks travel in one request (the batch route), a page's small
scans a few requests in all; a district without that route (an older bangfu, 404) is read one
chunk per request, as before.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
import structlog
import structlog.testing

from adapters.http.auth import Tokens
from adapters.pg.attachments import PgContentStore
from adapters.pg.store import PostgresEventStore
from adapters.pii.keyring import Keyring
from adapters.runtime.secrets import load_pii_keys
from adapters.services import attachments
from adapters.sync import feed
from adapters.sync import pull as pulling_module
from adapters.sync.node import Downstream, NodeSettings
from adapters.sync.pull import Puller, PullError
from domain.values import Role
from tests.e2e.sync_helpers import (
    DISTRICT,
    PROVINCE,
    SECRET,
    load_units,
    log_of,
    served,
    server_of,
    sync_token,
    write_district_files,
)

pytestmark = pytest.mark.slow

SYNC_KEY = os.urandom(32)
DISTRICT_NODE = NodeSettings(code=DISTRICT, subtree=DISTRICT, upstream_key=SYNC_KEY)
PROVINCE_NODE = NodeSettings(code=PROVINCE, subtree=PROVINCE)
API = "/api/v1"
PURPOSE = {"X-Bangfu-Purpose": "spot check of the proof"}


@pytest.fixture
async def nodes(
    node_database: Callable[[int], str],
) -> AsyncIterator[dict[str, tuple[str, asyncpg.Pool]]]:
    """The district's and the province's databases, each on a PostgreSQL server of its own."""
    made: dict[str, tuple[str, asyncpg.Pool]] = {}
    try:
        for server, name in enumerate(("district", "province")):
            url = node_database(server)
            pool = await asyncpg.create_pool(url, min_size=1, max_size=6)
            assert pool is not None
            await load_units(pool)
            made[name] = (url, pool)
        yield made
    finally:
        for _, pool in made.values():
            await pool.close()


def keyring_of(pool: asyncpg.Pool, data_dir: Path) -> Keyring:
    return Keyring(pool, load_pii_keys(None, data_dir))


async def pull(
    pool: asyncpg.Pool,
    keyring: Keyring,
    url: str,
    *,
    limit: int = 40,
    in_flight: int = 8,
    batched: bool | None = None,
) -> None:
    pulling = Puller(
        pool,
        Downstream(DISTRICT, url, sync_token(DISTRICT), SYNC_KEY),
        keyring=keyring,
        limit=limit,
        attachments_in_flight=in_flight,
        batched=batched,
    )
    try:
        await pulling.catch_up()
    finally:
        await pulling.close()


async def attachments_of(pool: asyncpg.Pool) -> dict[UUID, tuple[UUID, int, str]]:
    rows = await pool.fetch("SELECT attachment_id, stream_id, size, sha256 FROM attachments")
    return {r[0]: (r[1], r[2], bytes(r[3]).hex()) for r in rows}


async def written(tmp_path: Path, district: asyncpg.Pool) -> Keyring:
    keys = keyring_of(district, tmp_path / "d")
    await write_district_files(district, count=6, seed=31, keyring=keys, scans=True)
    return keys


Scope = MutableMapping[str, Any]
Asgi = Callable[[Scope, Any, Any], Awaitable[None]]
CHUNKS = "/api/v1/sync/attachments/"
BATCH = "/api/v1/sync/attachments/chunks"


class SlowLink:
    """An ASGI middleware around the district's app: each chunk request waits `delay` s before
    it is served (a slow link), counting the chunk requests being served at the same time; the
    chunks of the `fail`-th attachment asked for (through the batch route: the `fail`-th batch)
    are answered 500 at once. `old`: the batch route is answered 404, as by an older district."""

    def __init__(
        self, delay: float, *, fail: int | None = None, crowd: int = 2, old: bool = False
    ) -> None:
        self.delay = delay
        self.fail = fail
        self.old = old
        self.now = self.most = 0
        self.crowd = crowd
        self.crowded = asyncio.Event()  # set once `crowd` chunk requests are served at once
        self.asked: list[str] = []  # attachment ids (or batches), in the order first asked for
        self.batches = 0  # requests to the batch route served
        self.refused = 0  # requests to the batch route answered 404 (`old`)

    def __call__(self, app: Asgi) -> Asgi:
        async def slowed(scope: Scope, receive: Any, send: Any) -> None:
            path = scope.get("path", "")
            if scope["type"] != "http" or not path.startswith(CHUNKS):
                await app(scope, receive, send)
                return
            if path == BATCH and self.old:
                self.refused += 1
                await send({"type": "http.response.start", "status": 404, "headers": []})
                await send({"type": "http.response.body", "body": b"Not Found"})
                return
            if path == BATCH:
                self.batches += 1
                attachment = f"batch {self.batches}"
            else:
                attachment = path.removeprefix(CHUNKS).split("/")[0]
            if attachment not in self.asked:
                self.asked.append(attachment)
            if self.fail is not None and self.asked.index(attachment) == self.fail:
                await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"disk on fire"})
                return
            self.now += 1
            self.most = max(self.most, self.now)
            if self.now >= self.crowd:
                self.crowded.set()
            try:
                await asyncio.sleep(self.delay)
                await app(scope, receive, send)
            finally:
                self.now -= 1

        return slowed


class Spools:
    """Every spool the puller opens, to see they are all closed again."""

    def __init__(self) -> None:
        self.opened: list[Any] = []
        real = tempfile.SpooledTemporaryFile

        def recording(*args: Any, **kwargs: Any) -> Any:
            spool = real(*args, **kwargs)
            self.opened.append(spool)
            return spool

        self.recording = recording

    def still_open(self) -> int:
        return sum(not spool.closed for spool in self.opened)


def fetches_running() -> list[asyncio.Task[Any]]:
    """The puller's tasks still running: its fetches of scans, its page read ahead."""
    return [
        t
        for t in asyncio.all_tasks()
        if not t.done() and getattr(t.get_coro(), "__qualname__", "").startswith("Puller.")
    ]


class TestTheProvincePullsAttachments:
    async def test_holds_every_scan_and_serves_it_with_the_district_offline(
        self, nodes: dict[str, Any], tmp_path: Path
    ) -> None:
        (d_url, district), (p_url, province) = nodes["district"], nodes["province"]
        await written(tmp_path, district)
        p_keys = keyring_of(province, tmp_path / "p")

        async with served(d_url, tmp_path / "d", DISTRICT_NODE) as url:
            await pull(province, p_keys, url)
        # the district is offline from here on
        held = await attachments_of(province)
        report = await attachments.verify_all(
            PostgresEventStore(province, keyring=p_keys), PgContentStore(province, p_keys)
        )
        (file_id, size, sha256), attachment_id = next(iter(held.values())), next(iter(held))
        inspector = Tokens(SECRET).mint(
            user="inspector", unit=PROVINCE, role=Role.INSPECTOR, ttl=timedelta(hours=1)
        )
        async with served(p_url, tmp_path / "p", PROVINCE_NODE) as purl, httpx.AsyncClient() as c:
            content = await c.get(
                f"{purl}{API}/files/{file_id}/attachments/{attachment_id}/content",
                headers={"Authorization": f"Bearer {inspector}", **PURPOSE},
            )

        assert await server_of(district) != await server_of(province)
        assert await log_of(province, DISTRICT) == await log_of(district, DISTRICT)
        assert held == await attachments_of(district)
        assert len(held) > 10
        assert report.ok
        assert report.count("ok") == len(held)
        assert content.status_code == 200, content.text
        assert len(content.content) == size
        assert hashlib.sha256(content.content).hexdigest() == sha256
        # stored as the district sealed it: the same data key travelled, wrapped
        assert await province.fetch(
            "SELECT attachment_id, seq, sealed FROM attachment_chunks ORDER BY 1, 2"
        ) == await district.fetch(
            "SELECT attachment_id, seq, sealed FROM attachment_chunks ORDER BY 1, 2"
        )

    async def test_an_altered_or_missing_scan_is_quarantined_with_its_event(
        self, nodes: dict[str, Any], tmp_path: Path
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        await written(tmp_path, district)
        p_keys = keyring_of(province, tmp_path / "p")
        rows = await district.fetch(
            "SELECT a.attachment_id, a.stream_id FROM attachments a ORDER BY a.stored_at"
        )
        streams = {}
        for attachment_id, stream_id in rows:
            streams.setdefault(stream_id, attachment_id)
        (altered_file, altered), (missing_file, missing) = list(streams.items())[:2]
        await district.execute(
            "UPDATE attachment_chunks SET sealed = set_byte(sealed, 19, get_byte(sealed, 19) # 255)"
            " WHERE attachment_id = $1",
            altered,
        )
        await district.execute("DELETE FROM attachments WHERE attachment_id = $1", missing)

        async with served(d_url, tmp_path / "d", DISTRICT_NODE) as url:
            await pull(province, p_keys, url)

        quarantined = await province.fetch(
            "SELECT stream_id, version, type, reason FROM sync_quarantine ORDER BY 1, 2"
        )
        first = {}  # the first quarantined event of each stream
        for r in quarantined:
            first.setdefault(r["stream_id"], r)
        alerts = await province.fetchval(
            "SELECT count(*) FROM sync_alerts WHERE kind = 'event_quarantined'"
        )
        held = await attachments_of(province)
        district_log = await log_of(district)
        assert set(first) == {altered_file, missing_file}
        assert first[altered_file]["type"] == "household.attachment_added"
        assert "altered" in first[altered_file]["reason"]
        assert "missing" in first[missing_file]["reason"]
        assert alerts == len(quarantined)
        assert altered not in held
        assert missing not in held
        # every other file arrived whole, its scans with it
        spoiled = {altered_file, missing_file}
        assert {e for e in district_log if e[0] not in spoiled} <= await log_of(province)
        assert {a: v for a, v in held.items() if v[0] not in spoiled} == {
            a: v for a, v in (await attachments_of(district)).items() if v[0] not in spoiled
        }
        assert (await PostgresEventStore(province).verify()).ok

    @pytest.mark.parametrize("in_flight", [1, 3])
    async def test_reads_a_pages_scans_at_the_same_time_up_to_the_bound(
        self, nodes: dict[str, Any], tmp_path: Path, in_flight: int
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        await written(tmp_path, district)
        p_keys = keyring_of(province, tmp_path / "p")
        link = SlowLink(0.05)

        async with served(d_url, tmp_path / "d", DISTRICT_NODE, wrap=link) as url:
            await pull(province, p_keys, url, limit=2000, in_flight=in_flight, batched=False)

        assert link.most == in_flight  # 1: one after another, as before; 3: three at a time
        assert len(link.asked) > 10
        assert await attachments_of(province) == await attachments_of(district)
        assert await log_of(province, DISTRICT) == await log_of(district, DISTRICT)
        assert await province.fetch(
            "SELECT attachment_id, seq, sealed FROM attachment_chunks ORDER BY 1, 2"
        ) == await district.fetch(
            "SELECT attachment_id, seq, sealed FROM attachment_chunks ORDER BY 1, 2"
        )

    @pytest.mark.parametrize("batched", [False, True])
    async def test_one_scan_that_cannot_be_read_stores_nothing_and_closes_every_spool(
        self, nodes: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batched: bool
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        await written(tmp_path, district)
        p_keys = keyring_of(province, tmp_path / "p")
        link = SlowLink(0.3, fail=2)  # the third scan (batch) fails while two are being read
        spools = Spools()
        monkeypatch.setattr(tempfile, "SpooledTemporaryFile", spools.recording)
        monkeypatch.setattr(pulling_module, "BATCH_PAIRS", 3)  # several batches to a page

        async with served(d_url, tmp_path / "d", DISTRICT_NODE, wrap=link) as url:
            with pytest.raises(PullError, match="answered 500"):
                await pull(province, p_keys, url, limit=2000, in_flight=4, batched=batched)
            running = fetches_running()

        assert link.most > 1  # others were in flight when it failed
        assert len(spools.opened) >= 3
        assert spools.still_open() == 0
        assert running == []
        assert await province.fetchval("SELECT count(*) FROM events") == 0
        assert await province.fetchval("SELECT count(*) FROM attachments") == 0
        assert await province.fetchval("SELECT count(*) FROM attachment_chunks") == 0
        assert await province.fetchval("SELECT count(*) FROM sync_quarantine") == 0
        assert (
            await province.fetchval("SELECT count(*) FROM sync_downstreams WHERE cursor <> ''") == 0
        )

    @pytest.mark.parametrize("batched", [False, True])
    async def test_a_pull_cancelled_while_scans_are_read_closes_every_spool(
        self, nodes: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batched: bool
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        await written(tmp_path, district)
        p_keys = keyring_of(province, tmp_path / "p")
        link = SlowLink(0.5, crowd=4)
        spools = Spools()
        monkeypatch.setattr(tempfile, "SpooledTemporaryFile", spools.recording)
        monkeypatch.setattr(pulling_module, "BATCH_PAIRS", 3)  # several batches to a page

        async with served(d_url, tmp_path / "d", DISTRICT_NODE, wrap=link) as url:
            pulling = asyncio.create_task(
                pull(province, p_keys, url, limit=2000, in_flight=4, batched=batched)
            )
            await asyncio.wait_for(link.crowded.wait(), 60)
            reading = fetches_running()
            pulling.cancel()
            with pytest.raises(asyncio.CancelledError):
                await pulling
            running = fetches_running()

        assert len(reading) >= 4  # the four fetches of scans in flight, at least
        assert len(spools.opened) >= 4
        assert spools.still_open() == 0
        assert running == []
        assert await province.fetchval("SELECT count(*) FROM events") == 0
        assert await province.fetchval("SELECT count(*) FROM attachments") == 0


async def same_content(province: asyncpg.Pool, district: asyncpg.Pool) -> None:
    assert await attachments_of(province) == await attachments_of(district)
    assert await log_of(province, DISTRICT) == await log_of(district, DISTRICT)
    assert await province.fetch(
        "SELECT attachment_id, seq, sealed FROM attachment_chunks ORDER BY 1, 2"
    ) == await district.fetch(
        "SELECT attachment_id, seq, sealed FROM attachment_chunks ORDER BY 1, 2"
    )
    assert await province.fetchval("SELECT count(*) FROM sync_quarantine") == 0


class TestManyChunksTravelInOneRequest:
    async def test_a_page_of_small_scans_takes_one_request_per_batch_of_pairs(
        self, nodes: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        await written(tmp_path, district)
        scans = await district.fetchval("SELECT count(*) FROM attachments")
        p_keys = keyring_of(province, tmp_path / "p")
        link = SlowLink(0.0)
        monkeypatch.setattr(pulling_module, "BATCH_PAIRS", 4)

        async with served(d_url, tmp_path / "d", DISTRICT_NODE, wrap=link) as url:
            await pull(province, p_keys, url, limit=2000, in_flight=2)

        assert scans > 10
        assert await district.fetchval("SELECT max(chunks) FROM attachments") == 1
        assert link.batches <= math.ceil(scans / 4)  # one page: its scans, 4 to a request
        assert link.asked == [f"batch {n}" for n in range(1, link.batches + 1)]  # no single chunk
        assert link.most <= 2
        await same_content(province, district)

    async def test_an_answer_cut_at_the_byte_bound_is_asked_for_again(
        self, nodes: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        await written(tmp_path, district)
        scans = await district.fetchval("SELECT count(*) FROM attachments")
        p_keys = keyring_of(province, tmp_path / "p")
        link = SlowLink(0.0)
        monkeypatch.setattr(feed, "BATCH_BYTES", 1)  # every answer holds one chunk

        async with served(d_url, tmp_path / "d", DISTRICT_NODE, wrap=link) as url:
            await pull(province, p_keys, url, limit=2000)

        assert link.batches == scans
        await same_content(province, district)

    async def test_the_district_stops_adding_chunks_past_the_byte_bound(
        self, nodes: dict[str, Any], tmp_path: Path
    ) -> None:
        (_, district) = nodes["district"]
        await written(tmp_path, district)
        rows = await district.fetch(
            "SELECT attachment_id, octet_length(sealed) AS n FROM attachment_chunks"
            " ORDER BY attachment_id LIMIT 5"
        )
        wanted = [feed.ChunkRef(UUID(int=7), 0)] + [feed.ChunkRef(r[0], 0) for r in rows]
        bound = rows[0]["n"] + rows[1]["n"] + rows[2]["n"] - 1

        batch = await feed.sealed_chunks(district, wanted, subtree=DISTRICT, bound=bound)
        tiny = await feed.sealed_chunks(district, wanted, subtree=DISTRICT, bound=1)
        whole = await feed.sealed_chunks(district, wanted, subtree=DISTRICT)
        elsewhere = await feed.sealed_chunks(district, wanted, subtree="130302")

        assert [a.found for a in batch.answers] == [False, True, True]  # the third would pass it
        assert batch.more
        assert [a.found for a in tiny.answers] == [False, True]  # one chunk at least
        assert tiny.more
        assert [a.found for a in whole.answers] == [False] + [True] * 5
        assert not whole.more
        assert [len(a.sealed) for a in whole.answers[1:]] == [r["n"] for r in rows]
        assert [a.found for a in elsewhere.answers] == [False] * 6  # another district's subtree
        assert not any(a.sealed for a in elsewhere.answers)

    async def test_a_district_without_the_batch_route_is_read_one_chunk_at_a_time(
        self, nodes: dict[str, Any], tmp_path: Path
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        await written(tmp_path, district)
        p_keys = keyring_of(province, tmp_path / "p")
        link = SlowLink(0.0, old=True)

        async with served(d_url, tmp_path / "d", DISTRICT_NODE, wrap=link) as url:
            with structlog.testing.capture_logs() as logs:
                await pull(province, p_keys, url, limit=40)  # several pages of scans

        scans = await province.fetchval("SELECT count(*) FROM attachments")
        assert link.refused == 1  # asked once, remembered for the puller's life
        slow = [e for e in logs if e["event"] == "sync.chunks_one_by_one"]
        assert [e["log_level"] for e in slow] == ["warning"]  # the operator is told, once
        assert link.batches == 0
        assert len(link.asked) == scans  # every scan by the single-chunk route
        await same_content(province, district)

    @pytest.mark.parametrize("batched", [False, True])
    async def test_an_altered_or_missing_scan_is_judged_alike(
        self, nodes: dict[str, Any], tmp_path: Path, batched: bool
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        await written(tmp_path, district)
        p_keys = keyring_of(province, tmp_path / "p")
        rows = await district.fetch(
            "SELECT attachment_id, stream_id FROM attachments ORDER BY stored_at"
        )
        firsts: dict[UUID, UUID] = {}
        for attachment_id, stream_id in rows:
            firsts.setdefault(stream_id, attachment_id)
        altered, missing = list(firsts.values())[:2]
        await district.execute(
            "UPDATE attachment_chunks SET sealed = set_byte(sealed, 19, get_byte(sealed, 19) # 255)"
            " WHERE attachment_id = $1",
            altered,
        )
        await district.execute("DELETE FROM attachment_chunks WHERE attachment_id = $1", missing)

        async with served(d_url, tmp_path / "d", DISTRICT_NODE) as url:
            await pull(province, p_keys, url, limit=2000, batched=batched)

        reasons = [
            r[0]
            for r in await province.fetch(
                "SELECT reason FROM sync_quarantine WHERE type = 'household.attachment_added'"
                " ORDER BY reason"
            )
        ]
        held = await attachments_of(province)
        assert altered not in held
        assert missing not in held
        assert 0 < len(held) <= len(rows) - 2
        assert len(reasons) >= 2
        assert any(f"chunk 0 of the attachment {altered} does not open" in r for r in reasons)
        assert any(f"attachment {missing}'s content is missing downstream" in r for r in reasons)
