"""A writer stuck inside its transaction holds back the log's readers only until the bound.

Readers of the log never pass an open writing transaction (docs/decisions/0003-commit-safe-log.md),
so a writer that appends and then stalls — idle, or busy in one long statement — would stall
every read model and the sync feed for as long as it stays. The store bounds each transaction
that writes events (`adapters.pg.store.bound`): PostgreSQL ends the stalled transaction after
the bound, its event never appears, and the tailing reader moves on past the later commits.

The bound here is 3 s; the reader gets the bound plus a generous slack for a slow machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest

from adapters.pg.integrity import GENESIS
from adapters.pg.store import (
    START,
    Cursor,
    NewEvent,
    PostgresEventStore,
    StoredEvent,
    chain,
    copy_events,
)
from adapters.runtime.settings import Settings

BOUND = 3.0
SLACK = 15.0  # for a loaded 2-core machine: the stall must end well before a bound of ~minutes


def new_event(stream: UUID | None = None) -> NewEvent:
    return chain(GENESIS, stream or uuid4(), 1, "test.happened", b"{}", datetime.now(UTC), None)


async def read_all_after(store: PostgresEventStore, cursor: Cursor) -> list[StoredEvent]:
    return await store.read_log(cursor, 1000)


async def tail_until(
    store: PostgresEventStore, cursor: Cursor, stream: UUID, *, seconds: float
) -> tuple[list[StoredEvent], float]:
    """Tail the log from `cursor` until an event of `stream` is read; return what was read and
    how long it took."""
    started = time.monotonic()
    seen: list[StoredEvent] = []
    while time.monotonic() - started < seconds:
        batch = await store.read_log(cursor, 1000)
        seen += batch
        if batch:
            cursor = batch[-1].cursor
        if any(e.stream_id == stream for e in seen):
            return seen, time.monotonic() - started
        await asyncio.sleep(0.05)
    pytest.fail(f"the reader was still held back after {seconds} s")


async def session_ends(pool: asyncpg.Pool, pid: int, *, seconds: float) -> bool:
    """Whether the server session `pid` is gone within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            return True
        await asyncio.sleep(0.05)
    return False


Write = Callable[[PostgresEventStore, asyncpg.Connection, NewEvent], Awaitable[None]]


async def by_append(store: PostgresEventStore, conn: asyncpg.Connection, event: NewEvent) -> None:
    await store.append([event], conn=conn)  # a command through a bound repository


async def by_bulk(store: PostgresEventStore, conn: asyncpg.Connection, event: NewEvent) -> None:
    await store.append_bulk([event], conn=conn)  # an import batch


async def by_copy(store: PostgresEventStore, conn: asyncpg.Connection, event: NewEvent) -> None:
    await copy_events(conn, [event], bounded=store.transaction_bound)  # a sync page


@asynccontextmanager
async def stuck_writer(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction; closed at the end whatever happened (a connection left
    inside a transaction would keep the pool from closing)."""
    conn = await pool.acquire()
    try:
        await conn.execute("BEGIN")
        yield conn
    finally:
        with contextlib.suppress(asyncpg.InterfaceError):  # detached: PostgreSQL ended it already
            conn.terminate()
        await pool.release(conn)


@pytest.fixture
async def reader_at_head(store: PostgresEventStore) -> Cursor:
    """A reader that has read one committed event and is at the head of the log."""
    await store.append([new_event()])
    (first,) = await store.read_log(START)
    return first.cursor


class TestAWriterThatSitsIdleInsideItsTransaction:
    @pytest.mark.parametrize("write", [by_append, by_bulk, by_copy], ids=["append", "bulk", "copy"])
    async def test_is_ended_after_the_bound_and_the_reader_moves_past_later_commits(
        self, pool: asyncpg.Pool, reader_at_head: Cursor, write: Write
    ):
        bounded = PostgresEventStore(pool, transaction_bound=BOUND)
        stalled, later = new_event(), new_event()
        async with stuck_writer(pool) as stuck:
            session = stuck.get_server_pid()
            await write(bounded, stuck, stalled)
            await bounded.append([later])  # committed after the stuck writer began
            held_back = await read_all_after(bounded, reader_at_head)

            seen, waited = await tail_until(
                bounded, reader_at_head, later.stream_id, seconds=BOUND + SLACK
            )

            ended = await session_ends(pool, session, seconds=SLACK)
        assert ended, "PostgreSQL should have ended the stalled writer's session"
        assert held_back == []
        assert [e.stream_id for e in seen] == [later.stream_id]
        assert await bounded.read_stream(stalled.stream_id) == []
        assert waited < BOUND + SLACK


class TestAWriterBusyInsideItsTransaction:
    async def test_has_its_long_statement_cancelled_after_the_bound_and_the_reader_moves_on(
        self, pool: asyncpg.Pool, reader_at_head: Cursor
    ):
        bounded = PostgresEventStore(pool, transaction_bound=BOUND)
        stalled, later = new_event(), new_event()
        async with stuck_writer(pool) as stuck:
            await bounded.append([stalled], conn=stuck)
            busy = asyncio.create_task(stuck.execute("SELECT pg_sleep(600)"))
            await bounded.append([later])

            seen, _ = await tail_until(
                bounded, reader_at_head, later.stream_id, seconds=BOUND + SLACK
            )

            with pytest.raises(asyncpg.QueryCanceledError):
                await asyncio.wait_for(busy, SLACK)
        assert [e.stream_id for e in seen] == [later.stream_id]
        assert await bounded.read_stream(stalled.stream_id) == []


class TestTheBound:
    async def test_lasts_only_as_long_as_the_writing_transaction(self, pool: asyncpg.Pool):
        bounded = PostgresEventStore(pool, transaction_bound=BOUND)

        async with pool.acquire() as conn:
            async with conn.transaction():
                await bounded.append([new_event()], conn=conn)
                inside = await conn.fetchval("SHOW statement_timeout")
            after = await conn.fetchval("SHOW statement_timeout")

        assert (inside, after) == ("3s", "0")

    async def test_of_zero_leaves_the_transaction_unbounded(self, pool: asyncpg.Pool):
        unbounded = PostgresEventStore(pool, transaction_bound=0)

        async with pool.acquire() as conn, conn.transaction():
            await unbounded.append_bulk([new_event()], conn=conn)
            idle = await conn.fetchval("SHOW idle_in_transaction_session_timeout")

        assert idle == "0"

    async def test_is_thirty_seconds_unless_configured(self, pool: asyncpg.Pool):
        assert Settings.from_env({}).transaction_bound == 30.0
        assert Settings.from_env({"BANGFU_TRANSACTION_BOUND": "2.5"}).transaction_bound == 2.5
        assert PostgresEventStore(pool).transaction_bound == 30.0

    @pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
    def test_refuses_a_value_that_is_not_a_duration(self, value: str):
        with pytest.raises(ValueError, match="BANGFU_TRANSACTION_BOUND"):
            Settings.from_env({"BANGFU_TRANSACTION_BOUND": value})
