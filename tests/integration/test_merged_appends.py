"""Concurrent single-event appends are merged into one statement without changing what each
writer is told: stored, or refused with the stream's current version."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

from adapters.pg.integrity import GENESIS
from adapters.pg.store import NewEvent, PostgresEventStore, StreamHead, chain
from domain.errors import ConcurrencyError


def first_event(stream=None) -> NewEvent:
    return chain(GENESIS, stream or uuid4(), 1, "test.happened", b"{}", datetime.now(UTC), None)


def next_event(previous: NewEvent, payload: bytes = b"{}") -> tuple[NewEvent, StreamHead]:
    event = chain(
        previous.hash,
        previous.stream_id,
        previous.version + 1,
        "test.happened",
        payload,
        datetime.now(UTC),
        None,
    )
    return event, StreamHead(previous.stream_id, previous.version, previous.hash)


async def test_many_concurrent_appends_are_merged_and_all_stored(
    store: PostgresEventStore, pool: asyncpg.Pool
):
    events = [first_event() for _ in range(200)]

    await asyncio.gather(*(store.append([e]) for e in events))

    assert store._merger is not None
    assert store._merger.merged_statements > 0
    assert await pool.fetchval("SELECT count(*) FROM events") == 200
    assert (await store.verify()).ok


async def test_racing_appends_of_one_version_give_one_winner_the_rest_the_current_version(
    store: PostgresEventStore, pool: asyncpg.Pool
):
    base = first_event()
    await store.append([base])
    racers = [next_event(base, f'{{"n":{i}}}'.encode()) for i in range(40)]
    noise = [first_event() for _ in range(40)]  # keep the store busy so that racers get merged

    results = await asyncio.gather(
        *(store.append([e], [h]) for e, h in racers),
        *(store.append([e]) for e in noise),
        return_exceptions=True,
    )

    outcomes = results[:40]
    assert sum(r is None for r in outcomes) == 1
    assert all(isinstance(r, ConcurrencyError) and r.actual == 2 for r in outcomes if r)
    assert (
        await pool.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", base.stream_id) == 2
    )


async def test_a_forged_head_in_a_merged_batch_is_refused_alone(
    store: PostgresEventStore, pool: asyncpg.Pool
):
    bases = [first_event() for _ in range(30)]
    await asyncio.gather(*(store.append([b]) for b in bases))
    pairs = [next_event(b) for b in bases]
    forged_event, forged_head = pairs[7]
    pairs[7] = (forged_event, replace(forged_head, hash=bytes(32)))

    results = await asyncio.gather(
        *(store.append([e], [h]) for e, h in pairs), return_exceptions=True
    )

    assert [i for i, r in enumerate(results) if r is not None] == [7]
    assert isinstance(results[7], ConcurrencyError)
    assert await pool.fetchval("SELECT count(*) FROM events") == 30 + 29


async def test_a_row_the_database_refuses_does_not_fail_its_neighbours(
    store: PostgresEventStore, pool: asyncpg.Pool
):
    events = [first_event() for _ in range(60)]
    events[13] = replace(events[13], hash=b"short")  # violates the CHECK on the hash length

    results = await asyncio.gather(*(store.append([e]) for e in events), return_exceptions=True)

    assert [i for i, r in enumerate(results) if r is not None] == [13]
    assert isinstance(results[13], asyncpg.CheckViolationError)
    assert await pool.fetchval("SELECT count(*) FROM events") == 59


async def test_a_store_without_merging_stores_the_same(pool: asyncpg.Pool):
    store = PostgresEventStore(pool, merge=False)
    events = [first_event() for _ in range(50)]

    await asyncio.gather(*(store.append([e]) for e in events))

    assert await pool.fetchval("SELECT count(*) FROM events") == 50


@pytest.mark.parametrize("count", [1, 3])
async def test_a_lone_writer_is_never_merged(store: PostgresEventStore, count: int):
    for _ in range(count):
        await store.append([first_event()])

    assert store._merger is not None
    assert store._merger.merged_statements == 0
