"""A district's and a base union's ledger pages read their own files in the sort's order
(migration 0023, adapters/pg/reads.py `LedgerFilter.where`): the same rows in the same order as
the subtree's code range gives, every match exactly once through the cursors, and off the
indexes that lead with the district or the unit — so a page's cost does not grow with the
province (docs/benchmarks.md, "Growth")."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from adapters.pg import reads
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from tests.builders import TODAY, approved_file
from tests.integration.test_projections import runner
from tests.integration.test_reads_in_pages import appraised, province

DISTRICT, BASE = "130306", "130306001"
# beside the demo's units: a base union whose code continues its sibling's, and an industry
# union's base union under the district
OTHERS = (BASE, "1303060011", "130306C01001", "130302001")

FILTERS: dict[str, dict[str, Any]] = {
    "none": {},
    "q": {"name": "王"},
    "category": {"categories": ("deep",)},
    "file_level": {"file_levels": ("district",)},
    "worker_kind": {"worker_kinds": ("migrant",)},
    "status": {"statuses": ("approved",)},
}


async def every_page(
    pool: asyncpg.Pool, where: reads.LedgerFilter, sort: str, descending: bool
) -> list[Any]:
    seen: list[Any] = []
    after = None
    while True:
        rows, after = await reads.ledger_page(
            pool, where, sort=sort, descending=descending, after=after, limit=7
        )
        seen += [r["file_id"] for r in rows]
        if after is None:
            return seen


async def by_code_range(
    pool: asyncpg.Pool, root: str, where: reads.LedgerFilter, sort: str, descending: bool
) -> list[Any]:
    """The subtree's matches in order, as the owner reads them: the code range, no policy."""
    params: list[Any] = []
    condition = reads.LedgerFilter("13", **{k: getattr(where, k) for k in where_fields()}).where(
        params
    )
    params.append(root)
    direction = "DESC" if descending else "ASC"
    rows = await pool.fetch(
        f"SELECT l.file_id FROM ledger l WHERE {condition}"
        f" AND l.unit ~>=~ ${len(params)} AND l.unit ~<~ bangfu_subtree_end(${len(params)})"
        f" ORDER BY {reads.SORTS[sort].expression} {direction}, l.file_id {direction}",
        *params,
    )
    return [r["file_id"] for r in rows]


def where_fields() -> list[str]:
    return [f for f in reads.LedgerFilter.__dataclass_fields__ if f != "root"]


@pytest.fixture
async def ledger(store: PostgresEventStore, files: PgFileRepository) -> asyncpg.Pool:
    await province(store, files, count=60)
    await files.save(*(appraised(unit) for unit in OTHERS * 2))
    await runner(store).catch_up()
    return store.pool


class TestADistrictsAndABaseUnionsPages:
    async def test_hold_the_subtrees_matches_in_order_each_once_through_the_cursors(
        self, ledger: asyncpg.Pool
    ):
        checked = 0
        for root in (DISTRICT, BASE, "1303060011"):
            for name, fields in FILTERS.items():
                where = reads.LedgerFilter(root, **fields)
                for sort in reads.SORTS:
                    for descending in (False, True):
                        paged = await every_page(ledger, where, sort, descending)

                        expected = await by_code_range(ledger, root, where, sort, descending)
                        assert paged == expected, (root, name, sort, descending)
                        checked += len(paged)
        district = await by_code_range(
            ledger, DISTRICT, reads.LedgerFilter(DISTRICT), "applied_on", False
        )
        assert {r["unit"] for r in await ledger.fetch(
            "SELECT unit FROM ledger WHERE file_id = ANY($1)", district
        )} >= {BASE, "1303060011", "130306C01001"}  # fmt: skip
        assert len(district) > 2 * 7  # pages of 7: the cursors were walked
        assert checked > 200


async def recorded(
    pool: asyncpg.Pool, read: Callable[[Any], Awaitable[object]]
) -> tuple[list[str], list[tuple[str, tuple[Any, ...]]]]:
    """Run a read of `adapters.pg.reads` through `pool`, recording what it sends: the opening of
    its transaction (BEGIN, role, scope, planner settings; then COMMIT) and its statements."""
    statements: list[tuple[str, tuple[Any, ...]]] = []
    opening: list[str] = []

    class Recording:
        def __init__(self, conn: asyncpg.Connection) -> None:
            self.conn = conn

        async def execute(self, sql: str, *args: Any) -> Any:
            opening.append(sql)
            return await self.conn.execute(sql, *args)

        async def fetch(self, sql: str, *args: Any) -> Any:
            statements.append((sql, args))
            return await self.conn.fetch(sql, *args)

        async def fetchval(self, sql: str, *args: Any) -> Any:
            statements.append((sql, args))
            return await self.conn.fetchval(sql, *args)

    class Pool:
        def acquire(self) -> Any:
            outer = pool.acquire()

            class Acquired:
                async def __aenter__(self) -> Recording:
                    return Recording(await outer.__aenter__())

                async def __aexit__(self, *exc: Any) -> None:
                    await outer.__aexit__(*exc)

            return Acquired()

    await read(Pool())
    return opening, statements


async def generic_plan_indexes(
    pool: asyncpg.Pool, opening: str, sql: str, args: tuple[Any, ...]
) -> str:
    """The ledger indexes (with their conditions) a statement reads in a generic plan, run in
    the transaction a read opened (`opening`: BEGIN, the role, the scope, the settings)."""
    async with pool.acquire() as conn:
        await conn.execute(opening)
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        found = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
        await conn.execute("ROLLBACK")
    indexes: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if str(node.get("Index Name", "")).startswith("ledger"):
            indexes.append(f"{node['Index Name']}: {node.get('Index Cond', '')}")
        for child in node.get("Plans", []):
            walk(child)

    walk((json.loads(found) if isinstance(found, str) else found)[0]["Plan"])
    return ",".join(sorted(set(indexes)))


async def plan(
    pool: asyncpg.Pool,
    where: reads.LedgerFilter,
    sort: str,
    desc: bool,
    after: reads.Cursor | None = None,
) -> str:
    """The ledger index the page's statement reads, in a generic plan (as a prepared statement
    is run after five executions), in the transaction `ledger_page` opens (reader role,
    row-level security, its planner settings)."""
    opening, statements = await recorded(
        pool,
        lambda recording: reads.ledger_page(
            recording, where, sort=sort, descending=desc, after=after
        ),
    )
    (sql, args) = statements[-1]  # the page (a name search counts its characters first)
    return await generic_plan_indexes(pool, opening[0], sql, args)


class TestThePagesReadTheirOwnIndexes:
    async def test_a_district_walks_its_own_entries_of_the_sorts_index(
        self, ledger: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
    ):
        await ledger.execute("ANALYZE ledger")
        # 王 walked as at a province's scale, not read by its characters (migration 0025)
        monkeypatch.setattr(reads, "NAME_CANDIDATES", -1)

        for sort in reads.SORTS:
            for desc in (False, True):
                for fields in ({}, {"name": "王"}, {"statuses": ("approved",)}):
                    where = reads.LedgerFilter(DISTRICT, **fields)

                    used = await plan(ledger, where, sort, desc)

                    # (a name in the default order reads its character's holders in that order,
                    # off the district index of migration 0027)
                    index = f"ledger_district_by_{sort}: "
                    if "name" in fields and sort == "applied_on":
                        index = "ledger_name_chars_by_district_applied_on: "
                    assert used.startswith(index), (sort, desc, fields)

    async def test_a_base_union_walks_its_own_entries_of_the_sorts_index(
        self, ledger: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
    ):
        await ledger.execute("ANALYZE ledger")
        monkeypatch.setattr(reads, "NAME_CANDIDATES", -1)  # 王 walked (migration 0025)

        for sort in reads.SORTS:
            for desc in (False, True):
                for fields in ({}, {"name": "王"}, {"categories": ("deep",)}):
                    where = reads.LedgerFilter(BASE, **fields)

                    used = await plan(ledger, where, sort, desc)

                    # (a name in the default order reads its character's holders in that order,
                    # off the unit index of migration 0027)
                    index = f"ledger_unit_by_{sort}: "
                    if "name" in fields and sort == "applied_on":
                        index = "ledger_name_chars_by_unit_applied_on: "
                    assert used.startswith(index), (sort, desc, fields)

    async def test_a_later_page_starts_its_walk_at_the_cursor(self, ledger: asyncpg.Pool):
        await ledger.execute("ANALYZE ledger")
        _, after = await reads.ledger_page(ledger, reads.LedgerFilter(DISTRICT), limit=3)
        assert after is not None

        used = await plan(ledger, reads.LedgerFilter(DISTRICT), "applied_on", False, after)

        assert used.startswith("ledger_district_by_applied_on: ")
        assert "ROW(district, applied_on, file_id) > ROW(" in used


async def queue_by_code_range(pool: asyncpg.Pool, root: str) -> list[Any]:
    """The subtree's approval queue in order, as the owner reads it: the code range, no policy."""
    rows = await pool.fetch(
        "SELECT l.file_id FROM ledger l"
        " WHERE (l.status = 'appraised' OR l.category_pending IS NOT NULL)"
        " AND l.unit ~>=~ $1 AND l.unit ~<~ bangfu_subtree_end($1)"
        " ORDER BY l.updated_at, l.file_id",
        root,
    )
    return [r["file_id"] for r in rows]


async def queue_plan(pool: asyncpg.Pool, root: str, after: reads.Cursor | None = None) -> str:
    """The ledger indexes the queue's page reads, in a generic plan, in its own transaction."""
    opening, statements = await recorded(
        pool, lambda recording: reads.approval_queue(recording, root, limit=2, after=after)
    )
    sql, args = statements[0]  # the page; the total follows
    return await generic_plan_indexes(pool, opening[0], sql, args)


class TestThePagesPlans:
    """A district's or base union's page in its index's order is planned once a connection:
    left to PostgreSQL, its unfiltered page was planned again at every request, and its
    filtered pages once the log was large (0.6–0.9 ms a request, adapters/pg/reads.py
    `scoped`)."""

    async def test_are_planned_once_a_connection_and_a_provinces_as_postgresql_sees_fit(
        self, ledger: asyncpg.Pool, database_url: str
    ):
        one = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
        pages = {
            "district": reads.LedgerFilter(DISTRICT),
            "district deep": reads.LedgerFilter(DISTRICT, categories=("deep",)),
            "district 王": reads.LedgerFilter(DISTRICT, name="王"),
            "base": reads.LedgerFilter(BASE, statuses=("approved",)),
        }

        for where in (*pages.values(), reads.LedgerFilter("13")):
            for _ in range(8):
                await reads.ledger_page(one, where, limit=5)
        async with one.acquire() as conn:
            plans = await conn.fetch(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%FROM ledger%ORDER BY%'"
                " AND statement NOT LIKE '%pg_prepared_statements%'"
            )
        await one.close()

        own = [p for p in plans if "l.district = ANY" in p[0] or "l.unit = ANY" in p[0]]
        assert len(own) == len(pages)
        assert [(p["generic_plans"], p["custom_plans"]) for p in own] == [(8, 0)] * len(own)
        province = [p for p in plans if p not in own]
        assert len(province) == 1
        assert province[0]["custom_plans"] >= 5  # auto: the first five are custom


class TestTheApprovalQueue:
    """The queue's page in order off its own partial index (migration 0026): a district's and a
    base union's entries by their own column, the province's off the whole queue's."""

    async def test_holds_the_subtrees_files_in_order_each_once_through_the_cursors(
        self, ledger: asyncpg.Pool
    ):
        for root in ("13", DISTRICT, BASE, "1303060011", "13C01"):
            seen: list[Any] = []
            after = None
            while True:
                rows, total, after = await reads.approval_queue(ledger, root, limit=2, after=after)
                seen += [r["file_id"] for r in rows]
                if after is None:
                    break

            expected = await queue_by_code_range(ledger, root)
            assert seen == expected, root
            assert total == len(expected), root
        assert len(await queue_by_code_range(ledger, DISTRICT)) > 4  # the cursors were walked

    @pytest.mark.parametrize(
        ("root", "index"),
        [(DISTRICT, "ledger_queue_by_district"), (BASE, "ledger_queue_by_unit")],
    )
    async def test_a_district_and_a_base_union_walk_their_own_entries(
        self, ledger: asyncpg.Pool, root: str, index: str
    ):
        await ledger.execute("ANALYZE ledger")
        _, _, after = await reads.approval_queue(ledger, root, limit=1)
        assert after is not None

        first = await queue_plan(ledger, root)
        later = await queue_plan(ledger, root, after)

        assert first.startswith(f"{index}: ")
        assert later.startswith(f"{index}: ")
        assert ", updated_at, file_id) > ROW(" in later  # the walk starts at the cursor


async def due_by_code_range(pool: asyncpg.Pool, root: str, kind: str, as_of: date) -> list[Any]:
    """The subtree's due list in order, as the owner reads it: the code range, no policy."""
    spec = reads.due_list(kind, as_of=as_of, visit_days=90, follow_up_months=12)
    rows = await pool.fetch(
        "SELECT l.file_id FROM ledger l WHERE l.unit ~>=~ $1 AND l.unit ~<~ bangfu_subtree_end($1)"
        f" AND {spec.condition} ORDER BY {spec.key}, l.file_id",
        root,
        *spec.bounds,  # the list's conditions bind from $2
    )
    return [r["file_id"] for r in rows]


class TestABaseUnionsDueLists:
    """A base union's due lists in order off its own entries of each list's index (migration
    0026); every other unit's off the list's index as before."""

    async def test_hold_the_subtrees_files_in_order_each_once_through_the_cursors(
        self, ledger: asyncpg.Pool, store: PostgresEventStore, files: PgFileRepository
    ):
        # approved files of their own (the demo's few in the district are mostly in review)
        await files.save(*(approved_file("130306002") for _ in range(5)))
        await runner(store).catch_up()
        busiest = await ledger.fetchval(
            "SELECT unit FROM ledger WHERE unit LIKE '130306___' AND status = 'approved'"
            " GROUP BY unit ORDER BY count(*) DESC LIMIT 1"
        )
        followed = 0  # cursors of the base union's lists followed to a next page
        for kind in reads.DUE_KINDS:
            for as_of in (TODAY, TODAY + timedelta(days=400)):
                for root in (busiest, BASE, "1303060011", DISTRICT, "13"):
                    seen: list[Any] = []
                    after = None
                    while True:
                        rows, total, after = await reads.due(
                            ledger, root, kind, as_of=as_of, limit=2, after=after
                        )
                        seen += [r["file_id"] for r in rows]
                        if after is None:
                            break
                        followed += root == busiest

                    expected = await due_by_code_range(ledger, root, kind, as_of)
                    assert seen == expected, (kind, as_of, root)
                    assert total == len(expected), (kind, as_of, root)
        assert followed >= 2  # a base union's lists were read through their cursors

    async def test_walk_their_own_entries_of_each_lists_index(self, ledger: asyncpg.Pool):
        await ledger.execute("ANALYZE ledger")
        later = TODAY + timedelta(days=400)
        busiest = await ledger.fetchval(
            "SELECT unit FROM ledger WHERE unit LIKE '130306___' AND status = 'approved'"
            " GROUP BY unit ORDER BY count(*) DESC LIMIT 1"
        )

        for kind in reads.DUE_KINDS:
            opening, statements = await recorded(
                ledger,
                lambda rec, kind=kind: reads.due(rec, busiest, kind, as_of=later, limit=2),
            )
            sql, args = statements[0]  # the page; the total follows
            async with ledger.acquire() as conn:
                await conn.execute(opening[0])
                await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                found = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
                await conn.execute("ROLLBACK")

            assert f'"Index Name": "ledger_unit_{kind}_due"' in (
                found if isinstance(found, str) else json.dumps(found)
            ), kind
