"""The sync feed streams its pages: a page of 10,000 events (megabytes) is never built whole.

Its events are read from PostgreSQL through a server-side cursor, a chunk at a time, and each
chunk is encoded and sent before the next is read: the first bytes reach the reader while the
node is still inside the page's snapshot, and the node's memory is bounded by the chunk, not the
page. What arrives is, byte for byte, the page the puller has always read.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from adapters.pg.store import START
from adapters.sync import feed
from adapters.sync.feed import MSGPACK, decode_page
from adapters.sync.node import NodeSettings
from tests.e2e.sync_helpers import DISTRICT, fill_log, served, sync_token, tamper

EVENTS = 10_000
PAYLOAD = 1500  # bytes: a page of all of them is about 16 MB
NODE = NodeSettings(code=DISTRICT, subtree=DISTRICT)


@pytest.fixture
async def district(node_database: Callable[[int], str]) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    url = node_database(0)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    try:
        await fill_log(pool, events=EVENTS, payload_bytes=PAYLOAD)
        yield url, pool
    finally:
        await pool.close()


async def in_snapshot(pool: asyncpg.Pool) -> int:
    """Sessions of the pool's database reading a page's events, inside their snapshot.

    Only those: other sessions open transactions of their own — autovacuum analyses `events` soon
    after the test's COPY of 10,000 rows, for one — and counting every session in a transaction
    made the test fail now and then (`done` was 1 when the node had closed its snapshot)."""
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND query = $1 AND xact_start IS NOT NULL",
            feed._EVENTS,
        )
    )


async def plan(pool: asyncpg.Pool, limit: int = EVENTS) -> feed.Plan:
    async with pool.acquire() as conn:
        return await feed.plan_page(conn, node=DISTRICT, subtree=DISTRICT, after=START, limit=limit)


class TestOverHttp:
    async def test_a_large_page_arrives_in_chunks_before_it_is_all_read(
        self, district: tuple[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        url, pool = district
        headers = {"Authorization": f"Bearer {sync_token(DISTRICT)}", "Accept": MSGPACK}
        async with (
            served(url, tmp_path, NODE) as base,
            httpx.AsyncClient(base_url=base, timeout=30) as client,
            client.stream(
                "GET", "/api/v1/sync/feed", params={"limit": EVENTS}, headers=headers
            ) as response,
        ):
            pieces = response.aiter_raw()
            first = await anext(pieces)
            # the reader pauses after the first bytes: the node is still reading the page
            for _ in range(100):
                reading = await in_snapshot(pool)
                if reading:
                    break
                await asyncio.sleep(0.05)
            rest = [piece async for piece in pieces]
            done = await in_snapshot(pool)

        assert response.status_code == 200
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
        assert reading == 1
        assert done == 0  # and leaves its snapshot once the page is sent
        assert len(rest) > 10
        body = first + b"".join(rest)
        assert len(body) > 15_000_000
        page = decode_page(body, response.headers["content-type"])
        held = await pool.fetch(
            "SELECT stream_id, version, hash FROM events ORDER BY xid, position"
        )
        assert [(e.stream_id, e.version, e.hash) for e in page.events] == [tuple(r) for r in held]
        assert page.after_in_log

    async def test_json_and_msgpack_carry_the_same_documented_page(
        self, district: tuple[str, asyncpg.Pool], tmp_path: Path
    ) -> None:
        url, _ = district
        auth = {"Authorization": f"Bearer {sync_token(DISTRICT)}"}
        async with (
            served(url, tmp_path, NODE) as base,
            httpx.AsyncClient(base_url=base, timeout=30) as client,
        ):
            params = {"limit": 1234}
            packed = await client.get(
                "/api/v1/sync/feed", params=params, headers={**auth, "Accept": MSGPACK}
            )
            text = await client.get("/api/v1/sync/feed", params=params, headers=auth)
            schema = (await client.get("/schema/openapi.json")).json()

        assert text.headers["content-type"].startswith("application/json")
        assert packed.headers["content-type"] == MSGPACK
        as_json = decode_page(text.content, "application/json")
        assert as_json == decode_page(packed.content, MSGPACK)
        assert len(as_json.events) == 1234
        assert as_json.more
        # and the API's documentation still says what a page is, streamed or not
        ok = schema["paths"]["/api/v1/sync/feed"]["get"]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Page"}


class TestTheStream:
    async def test_holds_a_chunk_in_memory_not_the_page(
        self, district: tuple[str, asyncpg.Pool]
    ) -> None:
        _, pool = district
        planned = await plan(pool)
        sent = largest = 0
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            async for piece in feed.stream_page(pool, planned, MSGPACK, chunk=200):
                sent += len(piece)
                largest = max(largest, len(piece))
                del piece
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        assert planned.count == EVENTS
        assert sent > 15_000_000
        assert largest < 200 * 2 * PAYLOAD  # a chunk is 200 events of ~1.6 kB each
        assert peak < sent / 5, f"peak {peak:,} bytes for a page of {sent:,}"

    async def test_gives_up_on_a_reader_that_stopped_reading(
        self, district: tuple[str, asyncpg.Pool]
    ) -> None:
        _, pool = district
        pieces = feed.stream_page(pool, await plan(pool), MSGPACK, chunk=100, stall=0.5)
        await anext(pieces)  # the envelope
        await anext(pieces)  # the first hundred events
        assert await in_snapshot(pool) == 1

        await asyncio.sleep(1.5)

        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError)):
            async for _ in pieces:
                pass
        assert await in_snapshot(pool) == 0

    async def test_breaks_off_when_the_log_was_rewritten_between_plan_and_stream(
        self, district: tuple[str, asyncpg.Pool]
    ) -> None:
        _, pool = district
        planned = await plan(pool, limit=300)
        await tamper(
            pool,
            "UPDATE events SET unit = '130302001' WHERE (xid, position) IN"
            " (SELECT xid, position FROM events ORDER BY xid, position LIMIT 1)",
        )

        with pytest.raises(feed.FeedChanged, match="299 of the 300"):
            async for _ in feed.stream_page(pool, planned, MSGPACK):
                pass
