"""A reader tailing the log while many writers commit out of order never skips and never repeats.

The same scenario is run against the store's reader and against a naive `position > cursor`
reader: the naive one demonstrably skips events that commit late, which is what the store's
(xid, position) order below the snapshot's xmin prevents (docs/decisions/0003-commit-safe-log.md).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg

from adapters.pg.integrity import GENESIS
from adapters.pg.store import START, Cursor, PostgresEventStore, StreamHead, Wakeups, chain

WRITERS = 8
EVENTS_PER_WRITER = 25

Reader = Callable[[object, int], Awaitable[tuple[list[int], object]]]


@dataclass
class Scenario:
    written: list[int] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    reads: int = 0


def make_store_reader(store: PostgresEventStore) -> Reader:
    async def read(cursor: object, limit: int) -> tuple[list[int], object]:
        batch = await store.read_log(cursor, limit)  # type: ignore[arg-type]
        return [e.position for e in batch], (batch[-1].cursor if batch else cursor)

    return read


def make_naive_reader(pool: asyncpg.Pool) -> Reader:
    async def read(cursor: object, limit: int) -> tuple[list[int], object]:
        rows = await pool.fetch(
            "SELECT position FROM events WHERE position > $1 ORDER BY position LIMIT $2",
            cursor,
            limit,
        )
        positions = [r["position"] for r in rows]
        return positions, (positions[-1] if positions else cursor)

    return read


async def run(store: PostgresEventStore, reader: Reader, start: object, *, seed: int) -> Scenario:
    """Writers commit with random delays (and one forced late commit); a reader tails throughout."""
    rng = random.Random(seed)
    pool = store.pool
    scenario = Scenario()
    writers_done = asyncio.Event()
    early_committed = asyncio.Event()

    async def append_one(
        stream: UUID, version: int, previous: bytes, hold: Callable[[], Awaitable[None]]
    ) -> bytes:
        row = chain(previous, stream, version, "test.happened", b"{}", datetime.now(UTC), None)
        heads = [StreamHead(stream, version - 1, previous)] if version > 1 else []
        async with pool.acquire() as conn, conn.transaction():
            await store.append([row], heads, conn=conn)
            position = await conn.fetchval(
                "SELECT position FROM events WHERE stream_id = $1 AND version = $2", stream, version
            )
            await hold()
        scenario.written.append(position)
        return row.hash

    async def late_writer() -> None:
        """Inserts first, then commits only after a later insert has committed and been polled."""

        async def hold() -> None:
            await early_committed.wait()
            reads_then = scenario.reads
            while scenario.reads < reads_then + 2:  # noqa: ASYNC110 — polls the reader's counter
                await asyncio.sleep(0.001)

        await append_one(uuid4(), 1, GENESIS, hold)

    async def early_writer() -> None:
        await asyncio.sleep(0.05)  # let the late writer insert first

        async def hold() -> None:
            return None

        await append_one(uuid4(), 1, GENESIS, hold)
        early_committed.set()

    async def writer() -> None:
        stream, previous = uuid4(), GENESIS
        for version in range(1, EVENTS_PER_WRITER + 1):
            delay = rng.choice([0, 0, 0.001, 0.005, 0.02])

            async def hold(delay: float = delay) -> None:
                await asyncio.sleep(delay)

            previous = await append_one(stream, version, previous, hold)

    async def tail() -> None:
        cursor = start
        while True:
            finished = writers_done.is_set()
            positions, cursor = await reader(cursor, 7)
            scenario.reads += 1
            scenario.seen.extend(positions)
            if not positions:
                if finished:
                    return
                await asyncio.sleep(0.001)

    tailing = asyncio.create_task(tail())
    await asyncio.gather(late_writer(), early_writer(), *(writer() for _ in range(WRITERS)))
    writers_done.set()
    await tailing
    return scenario


def missed_and_repeated(scenario: Scenario) -> tuple[set[int], int]:
    return set(scenario.written) - set(scenario.seen), len(scenario.seen) - len(set(scenario.seen))


class TestTailingTheLogUnderConcurrentWriters:
    async def test_the_store_reader_never_skips_and_never_repeats(self, store):
        scenario = await run(store, make_store_reader(store), START, seed=1)

        missed, repeated = missed_and_repeated(scenario)

        assert len(scenario.written) == WRITERS * EVENTS_PER_WRITER + 2
        assert missed == set()
        assert repeated == 0

    async def test_a_naive_position_reader_skips_late_commits_in_the_same_scenario(
        self, store, pool
    ):
        scenario = await run(store, make_naive_reader(pool), 0, seed=1)

        missed, _ = missed_and_repeated(scenario)

        assert missed, "the naive reader should have skipped the late commit"

    async def test_each_streams_events_arrive_in_version_order(self, store):
        writer_store = store
        await run(writer_store, make_store_reader(store), START, seed=2)

        events = await store.read_log(START, limit=10_000)

        last: dict[UUID, int] = {}
        for event in events:
            assert event.version == last.get(event.stream_id, 0) + 1
            last[event.stream_id] = event.version

    async def test_an_open_transaction_holds_readers_back_instead_of_being_skipped(
        self, store, pool
    ):
        early = chain(GENESIS, uuid4(), 1, "test.happened", b"{}", datetime.now(UTC), None)
        later = chain(GENESIS, uuid4(), 1, "test.happened", b"{}", datetime.now(UTC), None)
        async with pool.acquire() as slow:
            transaction = slow.transaction()
            await transaction.start()
            await store.append([early], conn=slow)
            await store.append([later])

            while_open = await store.read_log(START)
            await transaction.commit()
        after_commit = await store.read_log(START)

        assert while_open == []
        assert [e.stream_id for e in after_commit] == [early.stream_id, later.stream_id]
        assert after_commit[-1].cursor > Cursor(0, 0)


class TestWakeups:
    async def test_a_listener_in_another_pool_is_woken_after_an_append(self, database_url):
        writer_pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        reader_pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        assert writer_pool is not None
        assert reader_pool is not None
        writer_side, reader_side = Wakeups(writer_pool), Wakeups(reader_pool)
        await writer_side.start(listen=False)
        await reader_side.start(listen=True)
        store = PostgresEventStore(writer_pool, on_append=writer_side.poke)
        try:
            reader_side.changed.clear()

            await store.append(
                [chain(GENESIS, uuid4(), 1, "test.happened", b"{}", datetime.now(UTC), None)]
            )

            assert await reader_side.wait(timeout=10)
        finally:
            await writer_side.stop()
            await reader_side.stop()
            await writer_pool.close()
            await reader_pool.close()

    async def test_the_append_itself_sends_no_notification(self, database_url):
        """NOTIFY inside the writing transaction would serialise commits; it is sent afterwards."""
        writer_pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        reader_pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        assert writer_pool is not None
        assert reader_pool is not None
        reader_side = Wakeups(reader_pool)
        await reader_side.start(listen=True)
        store = PostgresEventStore(writer_pool)  # no wake-up hook: nothing should be heard
        try:
            reader_side.changed.clear()

            await store.append(
                [chain(GENESIS, uuid4(), 1, "test.happened", b"{}", datetime.now(UTC), None)]
            )

            assert not await reader_side.wait(timeout=0.5)
        finally:
            await reader_side.stop()
            await writer_pool.close()
            await reader_pool.close()
