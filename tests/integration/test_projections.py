"""The read models: maintained incrementally they equal a rebuild from zero, row for row, and
every level's statistics are the sum of the level below."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.pg import projector
from adapters.pg.codec import EventCodec
from adapters.pg.projector import ProjectionRunner, rebuild
from adapters.pg.readmodels import MemoryLedger
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.runtime.bootstrap import read_models
from adapters.services import demo
from domain.household import Head, HouseholdFile
from domain.privacy import keyed_hash
from domain.values import Actor, Role
from projections.ledger import Ledger
from tests.builders import (
    ASSISTANCE,
    BASE,
    CLERK,
    OTHER_BASE,
    TODAY,
    FixedClock,
    application,
    approved_file,
    person_id,
)

KEY = b"k" * 32
TABLES = {
    "ledger": "SELECT * FROM ledger ORDER BY file_id",
    "ledger_people": "SELECT * FROM ledger_people ORDER BY file_id, id_hash",
    "stats_facts": "SELECT * FROM stats_facts ORDER BY file_id",
    "stats_stock": "SELECT * FROM stats_stock WHERE count <> 0 ORDER BY unit, dimension, key",
    "stats_flow": "SELECT * FROM stats_flow ORDER BY unit, period, metric, key",
    "ledger_counts": "SELECT * FROM ledger_counts ORDER BY scope, kind, day",
    "ledger_name_chars": "SELECT * FROM ledger_name_chars ORDER BY ch, unit, file_id",
    "ledger_duplicate_files": "SELECT * FROM ledger_duplicate_files ORDER BY id_hash, file_id",
}


def runner(store: PostgresEventStore, batch: int = 97) -> ProjectionRunner:
    return ProjectionRunner(
        store,
        EventCodec(keyring=store.keyring),
        read_models(lambda n: keyed_hash(KEY, n)),
        batch=batch,
    )


async def snapshot(pool: asyncpg.Pool) -> dict[str, list[tuple]]:
    return {name: [tuple(r) for r in await pool.fetch(sql)] for name, sql in TABLES.items()}


async def rebuild_all(store: PostgresEventStore) -> None:
    # a few files a batch: every rebuild of these tests is written in several batches
    for projection in read_models(lambda n: keyed_hash(KEY, n)):
        await rebuild(store, EventCodec(keyring=store.keyring), projection, batch=211, files=7)


def counting(written: list[int], *, fail_at: int = 0) -> type[MemoryLedger]:
    """The rebuild's ledger storage, noting how many files each batch it writes holds (and
    failing instead of writing the batch `fail_at`, counted from 1)."""

    class Counting(MemoryLedger):
        async def flush(self, conn, tables):  # type: ignore[no-untyped-def]
            if len(written) + 1 == fail_at:
                raise RuntimeError("a bug in a late batch")
            written.append(len(self.rows))
            await super().flush(conn, tables)

    return Counting


async def two_files_for_one_person(files: PgFileRepository) -> None:
    """A person heading two open files (as a sync pull or data stored before 一户一档 leaves
    them): a duplicate. This repository keeps no claims, so nothing refuses the second."""
    person = person_id(date(1969, 3, 14))
    for unit in (BASE, OTHER_BASE):
        fields = application(unit)
        fields["head"] = Head("甲", person, fields["head"].phone)
        clerk = Actor(f"clerk-{unit}", unit, Role.CLERK)
        await files.save(HouseholdFile.receive_application(actor=clerk, today=TODAY, **fields))


class TestIncrementalAgainstRebuild:
    async def test_tables_kept_up_batch_by_batch_equal_a_rebuild_from_zero(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        live = runner(store)
        planner = demo.Planner(today=TODAY, seed=21)
        for _ in range(3):  # the log grows while the runner keeps up
            for _ in range(40):
                await demo.run_plan(planner.plan(), files=files, clock=FixedClock())
            await live.catch_up()
        incremental = await snapshot(pool)

        await rebuild_all(store)
        rebuilt = await snapshot(pool)

        assert len(incremental["ledger"]) == 120
        assert incremental == rebuilt

    async def test_a_rebuild_while_the_runner_is_ahead_catches_up_before_swapping(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await demo.build(files=files, clock=FixedClock(), count=50, seed=4, bulk=True)
        live = runner(store)
        await live.catch_up()
        before = await snapshot(pool)

        await rebuild_all(store)
        await live.catch_up()

        assert await snapshot(pool) == before

    async def test_new_events_after_a_rebuild_are_applied_to_the_new_tables(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await demo.build(files=files, clock=FixedClock(), count=30, seed=5, bulk=True)
        household = approved_file()
        await files.save(household)
        await rebuild_all(store)
        household.assist(actor=CLERK, today=TODAY, **ASSISTANCE)
        await files.save(household)

        await runner(store).catch_up()

        row = await pool.fetchrow(
            "SELECT assistance_count, version FROM ledger WHERE file_id = $1", household.id
        )
        assert (row["assistance_count"], row["version"]) == (1, 5)


class TestRebuildInBatches:
    async def test_a_few_files_at_a_time_it_writes_several_batches_equal_to_the_tables_kept_up(
        self,
        store: PostgresEventStore,
        files: PgFileRepository,
        pool: asyncpg.Pool,
        monkeypatch: pytest.MonkeyPatch,
    ):
        await demo.build(files=files, clock=FixedClock(), count=40, seed=11, bulk=True)
        await two_files_for_one_person(files)
        await runner(store).catch_up()
        incremental = await snapshot(pool)
        written: list[int] = []
        monkeypatch.setitem(projector.REBUILD_STORAGE, "ledger", counting(written))

        await projector.rebuild_all(
            store,
            EventCodec(keyring=store.keyring),
            read_models(lambda n: keyed_hash(KEY, n)),
            batch=50,
            files=6,
        )

        assert len(written) >= 7
        assert max(written) <= 6
        assert sum(written) == len(incremental["ledger"]) == 42
        assert len(incremental["ledger_duplicate_files"]) == 2  # one person, in two files
        assert await snapshot(pool) == incremental

    async def test_a_failure_in_a_late_batch_leaves_the_old_tables_and_positions_as_they_were(
        self,
        store: PostgresEventStore,
        files: PgFileRepository,
        pool: asyncpg.Pool,
        monkeypatch: pytest.MonkeyPatch,
    ):
        await demo.build(files=files, clock=FixedClock(), count=30, seed=12, bulk=True)
        await runner(store).catch_up()
        before = await snapshot(pool)
        positions = await pool.fetch("SELECT * FROM consumer_positions ORDER BY name")
        written: list[int] = []
        monkeypatch.setitem(projector.REBUILD_STORAGE, "ledger", counting(written, fail_at=3))

        with pytest.raises(RuntimeError, match="late batch"):
            await projector.rebuild_all(
                store,
                EventCodec(keyring=store.keyring),
                read_models(lambda n: keyed_hash(KEY, n)),
                files=5,
            )

        assert len(written) == 2  # two batches were written before the third failed
        assert (
            await pool.fetchval("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\\_\\_r%'")
            == 0
        )
        assert await snapshot(pool) == before
        assert await pool.fetch("SELECT * FROM consumer_positions ORDER BY name") == positions


class TestStatisticsAddUp:
    @settings(
        max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(seed=st.integers(0, 10_000), count=st.integers(20, 80))
    async def test_every_unit_equals_the_sum_of_its_children(
        self, make_database, seed: int, count: int
    ):
        pool = await asyncpg.create_pool(make_database(), min_size=1, max_size=4)
        assert pool is not None
        try:
            store = PostgresEventStore(pool)
            await demo.build(
                files=PgFileRepository(store, EventCodec(keyring=store.keyring)),
                clock=FixedClock(),
                count=count,
                seed=seed,
                bulk=True,
            )
            await runner(store, batch=500).catch_up()
            stock = await pool.fetch("SELECT unit, dimension, key, count FROM stats_stock")
            flow = await pool.fetch(
                "SELECT unit, period, metric, key, count, amount FROM stats_flow"
            )
        finally:
            await pool.close()

        for parent_len, child_len in ((2, 4), (4, 6), (6, 9)):
            parents: dict[tuple, int] = defaultdict(int)
            children: dict[tuple, int] = defaultdict(int)
            for unit, dimension, key, n in stock:
                if len(unit) == parent_len:
                    parents[(unit, dimension, key)] += n
                elif len(unit) == child_len:
                    children[(unit[:parent_len], dimension, key)] += n
            assert {k: v for k, v in parents.items() if v} == {
                k: v for k, v in children.items() if v
            }
            flows_up: dict[tuple, tuple] = defaultdict(lambda: (0, 0))
            flows_down: dict[tuple, tuple] = defaultdict(lambda: (0, 0))
            for unit, period, metric, key, n, amount in flow:
                target = (
                    flows_up
                    if len(unit) == parent_len
                    else (flows_down if len(unit) == child_len else None)
                )
                if target is None:
                    continue
                k = (unit[:parent_len], period, metric, key)
                target[k] = (target[k][0] + n, target[k][1] + amount)
            assert flows_up == flows_down
        assert sum(n for unit, d, _, n in stock if len(unit) == 2 and d == "status") == count


class TestRebuildHousekeeping:
    INDEXES = (
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        " AND (tablename LIKE 'ledger%' OR tablename LIKE 'stats%') ORDER BY 1"
    )

    async def test_the_swapped_in_tables_keep_the_index_names_migrations_gave_them(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await demo.build(files=files, clock=FixedClock(), count=10, seed=8, bulk=True)
        before = [r[0] for r in await pool.fetch(self.INDEXES)]

        await rebuild_all(store)

        assert [r[0] for r in await pool.fetch(self.INDEXES)] == before

    async def test_a_failed_rebuild_leaves_no_shadow_table_and_the_old_tables_answering(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await demo.build(files=files, clock=FixedClock(), count=10, seed=8, bulk=True)
        await runner(store).catch_up()
        rows = await pool.fetchval("SELECT count(*) FROM ledger")

        class Failing(Ledger):
            async def apply(self, changes, storage):  # type: ignore[no-untyped-def]
                raise RuntimeError("a bug in a projection")

        with pytest.raises(RuntimeError):
            await rebuild(
                store, EventCodec(keyring=store.keyring), Failing(lambda n: keyed_hash(KEY, n))
            )

        assert (
            await pool.fetchval("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\\_\\_r%'")
            == 0
        )
        assert await pool.fetchval("SELECT count(*) FROM ledger") == rows
