"""The process's file cache never shows a stale or half-applied file."""

from __future__ import annotations

import pytest

from adapters.pg.codec import EventCodec
from adapters.pg.repository import FileCache, PgFileRepository, replay
from adapters.pg.store import PostgresEventStore
from adapters.services import demo
from domain.errors import ConcurrencyError
from tests.builders import ASSISTANCE, CLERK, TODAY, FixedClock, approved_file


def cached_repository(store: PostgresEventStore, size: int = 100) -> PgFileRepository:
    return PgFileRepository(store, EventCodec(keyring=store.keyring), cache=FileCache(size))


class TestTheFileCache:
    async def test_a_command_on_a_file_read_from_the_cache_does_not_change_the_cached_file(
        self, store: PostgresEventStore
    ):
        files = cached_repository(store)
        household = approved_file()
        await files.save(household)
        first = await files.get(household.id)

        first.assist(actor=CLERK, today=TODAY, **ASSISTANCE)
        again = await files.get(household.id)

        assert (again.version, again.assistance_count) == (4, 0)

    async def test_a_write_by_another_process_is_seen_on_the_next_read(
        self, store: PostgresEventStore
    ):
        here, elsewhere = cached_repository(store), cached_repository(store)
        household = approved_file()
        await here.save(household)
        await here.get(household.id)
        theirs = await elsewhere.get(household.id)
        theirs.assist(actor=CLERK, today=TODAY, **ASSISTANCE)
        await elsewhere.save(theirs)

        seen = await here.get(household.id)

        assert (seen.version, seen.assistance_count) == (5, 1)

    async def test_a_failed_save_leaves_the_cache_as_the_store_has_it(
        self, store: PostgresEventStore
    ):
        here, elsewhere = cached_repository(store), cached_repository(store)
        household = approved_file()
        await here.save(household)
        stale = await here.get(household.id)
        winner = await elsewhere.get(household.id)
        winner.assist(actor=CLERK, today=TODAY, **ASSISTANCE)
        await elsewhere.save(winner)
        stale.assist(actor=CLERK, today=TODAY, **{**ASSISTANCE, "amount": "9999"})

        with pytest.raises(ConcurrencyError):
            await here.save(stale)
        seen = await here.get(household.id)

        assert (seen.version, seen.assistance_total) == (5, winner.assistance_total)

    async def test_files_read_through_the_cache_equal_a_fresh_replay(
        self, store: PostgresEventStore
    ):
        files = cached_repository(store, size=30)
        await demo.build(
            files=PgFileRepository(store, EventCodec(keyring=store.keyring)),
            clock=FixedClock(),
            count=60,
            seed=9,
            bulk=True,
        )
        ids = [
            r["stream_id"] for r in await store.pool.fetch("SELECT DISTINCT stream_id FROM events")
        ]

        for _ in range(2):  # the second pass reads through the (partly evicted) cache
            for file_id in ids:
                through_cache = await files.get(file_id)
                fresh = replay(EventCodec(keyring=store.keyring), await store.read_stream(file_id))
                assert vars(through_cache) | {"_pending_events": []} == vars(fresh) | {
                    "_pending_events": []
                }

    async def test_the_cache_keeps_at_most_its_size(self, store: PostgresEventStore):
        files = cached_repository(store, size=3)
        saved = [approved_file() for _ in range(5)]
        await files.save(*saved)

        for household in saved:
            await files.get(household.id)

        assert len(files.cache._files) == 3  # type: ignore[union-attr]
