"""What lets the planner read the ledger's filters and due totals off their own indexes
(migration 0021) survives a rebuild, whose shadow tables are copied from the live ones: the
partial and covering indexes under their names, and statistics on both civil-affairs counts."""

from __future__ import annotations

import asyncpg

from adapters.pg.codec import EventCodec
from adapters.pg.projector import rebuild
from adapters.pg.store import PostgresEventStore
from adapters.runtime.bootstrap import read_models
from domain.privacy import keyed_hash

INDEXES = {
    "ledger_civil_affairs",
    "ledger_civil_affairs_to_act",
    "ledger_visits_due",
    "ledger_rechecks_due",
    "ledger_follow_up_due",
}


async def planner_aids(pool: asyncpg.Pool) -> tuple[dict[str, str], set[str]]:
    indexes = {
        r["indexname"]: r["indexdef"].split(" USING ", 1)[1]
        for r in await pool.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'ledger'"
        )
        if r["indexname"] in INDEXES
    }
    expressions = {
        e
        for r in await pool.fetch(
            "SELECT pg_get_statisticsobjdef(oid) AS d FROM pg_statistic_ext"
            " WHERE stxrelid = 'ledger'::regclass"
        )
        for e in ("cardinality(civil_affairs)", "cardinality(civil_affairs_to_act)")
        if e in r["d"]
    }
    return indexes, expressions


class TestARebuildKeepsTheLedgersPlannerAids:
    async def test_indexes_and_statistics_are_the_same_after_a_rebuild(
        self, store: PostgresEventStore, pool: asyncpg.Pool
    ):
        before = await planner_aids(pool)

        for projection in read_models(lambda n: keyed_hash(b"k" * 32, n)):
            await rebuild(store, EventCodec(keyring=store.keyring), projection, batch=100)

        after = await planner_aids(pool)
        assert set(before[0]) == INDEXES
        assert "INCLUDE (unit)" in before[0]["ledger_follow_up_due"]
        assert before[1] == {"cardinality(civil_affairs)", "cardinality(civil_affairs_to_act)"}
        assert after == before
