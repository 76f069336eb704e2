"""The totals beside the due lists and the approval queue are read from maintained counts
(migration 0022, `ledger_counts`): after a history of real commands moving files in and out of
every list — approved, visited, re-checked, exited, returned, a category to confirm, erased —
projected batch by batch, and after a rebuild, each total equals the `count(*)` of the list's
own condition, at the nation, a province, a city, a district, base-level unions (one whose code
is a prefix of a sibling's) and a non-geographic union's subtree, on the exact boundary days of
every list; and a reader sees only the counts of its own subtree."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from adapters.pg import reads
from adapters.pg.migrations import available
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory, subtree_sql
from adapters.services.erasure import erase_personal_data
from domain.household import HouseholdFile
from domain.policy import Parameters
from domain.values import Actor, ExitKind, ExitReason, Level, Role
from tests.builders import APPRAISAL, APPROVAL, TODAY, FixedClock, application, verification
from tests.integration.test_projections import rebuild_all, runner
from tests.integration.test_reads_in_pages import province

INDUSTRY = "13C01"  # a provincial industry union that approves
INDUSTRY_BASE = "13C01001"
BASE = "130306001"
PREFIX_SIBLING = "1303060011"  # a base-level union whose code starts with BASE's
NATIONAL_BASE = "00C01001"  # a base-level union below a national industry union, 00C01
ROOTS = (
    "00",
    "13",
    "1303",
    "130306",
    BASE,
    PREFIX_SIBLING,
    INDUSTRY,
    INDUSTRY_BASE,
    "00C01",
    NATIONAL_BASE,
)
DUE_KINDS = ("visits", "rechecks", "follow_up", "exit")
QUEUE = "(l.status = 'appraised' OR l.category_pending IS NOT NULL)"
SAMPLED = 8  # key days per list whose boundaries are tried (each with the day before and after)
RECHECK_LINES = {2: "200", 3: "100"}  # for the demo's means: "relative", then above the line
KEYS = {
    "visits": "COALESCE(l.last_visited_on, l.approved_on)",
    "rechecks": "l.next_recheck_due",
    "follow_up": "l.exited_on",
    "exit": "l.exit_due_on",
}


async def counted_the_old_way(pool: asyncpg.Pool, kind: str, **when: Any) -> dict[str, int]:
    """The list's `count(*)` at every root, as the totals were read before migration 0022 (as
    the owner, with no row-level security)."""
    if kind == "approvals":
        condition, bounds = QUEUE, ()
    else:
        spec = reads.due_list(kind, **when)
        condition, bounds = spec.condition, spec.bounds
    rows = await pool.fetch(
        "SELECT r.root, (SELECT count(*) FROM ledger l"
        f" WHERE {subtree_sql('l.unit', 'r.root')} AND {condition}) AS n"
        " FROM unnest($1::text[]) AS r (root)",  # the list's bounds from $2 on
        list(ROOTS),
        *bounds,
    )
    return {r["root"]: int(r["n"]) for r in rows}


def add_months(day: date, months: int) -> date:
    """A day whose `months_before(…, months)` is `day` (the follow-up's lower end)."""
    for later in range(months * 31 - 10, months * 31 + 5):
        candidate = day + timedelta(days=later)
        if reads.months_before(candidate, months) == day:
            return candidate
    return day + timedelta(days=months * 30)


async def boundaries(
    pool: asyncpg.Pool, kind: str, visit_days: int, months: int, *, month_edges: bool = False
) -> set[date]:
    """The days `as_of` on which a file enters or leaves the list, and the days beside them."""
    keys = [
        r["day"]
        for r in await pool.fetch(
            f"SELECT DISTINCT {KEYS[kind]} AS day FROM ledger l WHERE {KEYS[kind]} IS NOT NULL"
            " ORDER BY 1"
        )
    ]
    keys = keys[:: max(1, len(keys) // SAMPLED)]  # the first, the last and some between
    keys = keys + [k for k in (keys[-1:] if keys else []) if k not in keys]
    if month_edges:  # and the first days of their months and of the next: where a total's
        # range starts or ends on a month's edge, its counts are read by month (migration 0028)
        keys = [*keys, *(reads.first_of_month(k) for k in keys)]
        keys = [*keys, *(reads.first_of_next_month(k) for k in keys)]
    if kind == "visits":
        edges = {k + timedelta(days=visit_days) for k in keys}
    elif kind == "follow_up":
        edges = {*keys, *(add_months(k, months) for k in keys)}
    else:
        edges = set(keys)
    return {e + timedelta(days=d) for e in edges for d in (-1, 0, 1)}


async def disagreements(
    pool: asyncpg.Pool, *, month_edges: bool = False
) -> dict[tuple[Any, ...], tuple[int, int]]:
    """Every (root, kind, as_of, period) whose total differs from the old `count(*)` (with
    `month_edges`, on the months' edges around the keys too: four times the days)."""
    wrong: dict[tuple[Any, ...], tuple[int, int]] = {}
    old = await counted_the_old_way(pool, "approvals")
    for root in ROOTS:
        _, total, _ = await reads.approval_queue(pool, root, limit=1)
        if total != old[root]:
            wrong[(root, "approvals")] = (total, old[root])
    for visit_days, months in ((90, 12), (30, 6)):
        for kind in DUE_KINDS:
            edges = await boundaries(pool, kind, visit_days, months, month_edges=month_edges)
            for as_of in sorted(edges):
                when = {"as_of": as_of, "visit_days": visit_days, "follow_up_months": months}
                old = await counted_the_old_way(pool, kind, **when)
                for root in ROOTS:
                    _, total, _ = await reads.due(pool, root, kind, limit=1, **when)
                    if total != old[root]:
                        wrong[(root, kind, as_of, visit_days, months)] = (total, old[root])
    return wrong


async def work_list_disagreements(pool: asyncpg.Pool) -> dict[str, Any]:
    """The console's work-list counts (`reads.work_counts`) against the old `count(*)`s."""
    wrong: dict[str, Any] = {}
    as_of = date(2026, 12, 1)
    when = {"as_of": as_of, "visit_days": 90, "follow_up_months": 12}  # work_counts' defaults
    for root in ROOTS:
        work = await reads.work_counts(pool, root, now=datetime.now(UTC), as_of=as_of)
        waiting = await pool.fetchrow(
            "SELECT count(*) FILTER (WHERE l.category_pending IS NOT NULL) AS changes,"
            f" min(l.updated_at) AS oldest FROM ledger l WHERE {subtree_sql('l.unit', '$1')}"
            f" AND {QUEUE}",
            root,
        )
        expected = {
            "counts": {
                kind: (await counted_the_old_way(pool, kind, **when))[root]
                for kind in (*DUE_KINDS, "approvals")
            },
            "changes": waiting["changes"],
            "oldest": waiting["oldest"],
        }
        found = {
            "counts": {k: work.counts[k] for k in expected["counts"]},
            "changes": work.category_changes,
            "oldest": work.oldest_waiting,
        }
        if found != expected:
            wrong[root] = (found, expected)
    return wrong


def counts_read(plan: dict[str, Any]) -> int:
    """The rows of `ledger_counts` a plan read, in all its scans."""
    own = plan.get("Actual Rows", 0) if plan.get("Relation Name") == "ledger_counts" else 0
    return own + sum(counts_read(p) for p in plan.get("Plans", ()))


async def counts_from_scratch(pool: asyncpg.Pool) -> list[tuple[Any, ...]]:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "CREATE TEMP TABLE scratch (LIKE ledger_counts INCLUDING ALL) ON COMMIT DROP"
        )
        await conn.execute("SELECT bangfu_ledger_counts_fill('ledger', 'scratch')")
        rows = await conn.fetch("SELECT * FROM scratch ORDER BY 1, 2, 3")
    return [tuple(r) for r in rows]


async def kept_counts(pool: asyncpg.Pool) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await pool.fetch("SELECT * FROM ledger_counts ORDER BY 1, 2, 3")]


async def industry_files(store: PostgresEventStore, files: PgFileRepository) -> None:
    """Files of a non-geographic union's base-level union, by real commands: appraised (the
    queue), approved by the industry union (visits, re-checks), re-checked into another
    category (the queue again) or above the standard (exit), and one cancelled after."""
    directory = PgUnitDirectory(store.pool)
    await directory.create(INDUSTRY, "河北省教育工会", level=Level.DISTRICT, approves=True)
    await directory.create(INDUSTRY_BASE, "某中学工会")
    units = await directory.registry(INDUSTRY, INDUSTRY_BASE)
    clerk = Actor("clerk", INDUSTRY_BASE, Role.CLERK)
    approver = Actor("approver", INDUSTRY, Role.APPROVER)
    made = []
    for step in range(5):
        household = HouseholdFile.receive_application(
            actor=clerk, today=TODAY, **application(INDUSTRY_BASE)
        )
        household.verify(actor=clerk, today=TODAY, units=units, **verification())
        household.appraise(actor=clerk, today=TODAY, units=units, **APPRAISAL)
        if step >= 1:
            household.approve(actor=approver, today=TODAY, units=units, **APPROVAL)
        if step in RECHECK_LINES:  # a lower line: another category to confirm, or above it
            household.recheck(
                actor=clerk,
                units=units,
                rechecked_on=TODAY - timedelta(days=step),
                parameters=Parameters(date(2015, 1, 1), Decimal(RECHECK_LINES[step])),
                today=TODAY,
            )
        if step == 4:
            household.exit(
                actor=approver,
                units=units,
                exited_on=TODAY - timedelta(days=3),
                kind=ExitKind.CANCELLED,
                reason=ExitReason.MOVED,
                explanation="迁出本地",
                evidence=("户口迁移证明",),
                today=TODAY,
            )
        made.append(household)
    await files.save(*made)


async def a_history(
    store: PostgresEventStore, files: PgFileRepository, *, by_hand: bool = True
) -> None:
    """A demo province (every step of the files' lifecycles, through the use cases), files of a
    non-geographic union, erasures — projected batch by batch, so rows move in and out of the
    lists across many statements — and (`by_hand`) rows the projection did not write."""
    await province(store, files, count=60)
    await industry_files(store, files)
    await runner(store, batch=23).catch_up()
    closed = await store.pool.fetch(
        "SELECT file_id FROM ledger WHERE status IN ('out_of_hardship', 'cancelled')"
        " ORDER BY file_id LIMIT 3"
    )
    admin = Actor("admin", "13", Role.ADMIN)
    for row in closed:
        await erase_personal_data(
            files=files, clock=FixedClock(), actor=admin, file_id=row["file_id"], reason="本人申请"
        )
    await runner(store, batch=23).catch_up()
    if not by_hand:
        return
    # rows written by hand, not by the projection: the triggers count whoever writes — of a
    # base-level union, of one whose code extends its code, of the industry union's and of a
    # national industry union's
    for unit in (BASE, PREFIX_SIBLING, INDUSTRY_BASE, NATIONAL_BASE):
        async with store.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "CREATE TEMP TABLE copied ON COMMIT DROP AS SELECT * FROM ledger"
                " WHERE unit LIKE '130306%' AND status IN ('approved', 'out_of_hardship')"
            )
            await conn.execute("UPDATE copied SET file_id = gen_random_uuid(), unit = $1", unit)
            await conn.execute("INSERT INTO ledger SELECT * FROM copied")


EVERY_KIND = {*DUE_KINDS, *(f"{k}/month" for k in DUE_KINDS), "approvals", "category_changes"}


class TestTheTotals:
    async def test_equal_the_lists_counts_everywhere_on_every_boundary_day(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await a_history(store, files)

        wrong = await disagreements(pool, month_edges=True)

        assert wrong == {}
        assert await work_list_disagreements(pool) == {}
        kept = await kept_counts(pool)
        assert kept == await counts_from_scratch(pool)
        assert {r[1] for r in kept if r[0] == "13"} == EVERY_KIND  # every list was filled
        assert {r[1] for r in kept if r[0] == INDUSTRY_BASE} == EVERY_KIND
        assert {r[1] for r in kept if r[0] == PREFIX_SIBLING} >= {"visits", "follow_up/month"}
        assert {r[1] for r in kept if r[0] == "00C01"} >= {"visits", "follow_up"}
        assert sum(r[3] for r in kept if r[0] == BASE) < sum(r[3] for r in kept if r[0] == "130306")

    async def test_read_a_row_for_each_whole_month_not_one_for_each_day(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await a_history(store, files)
        as_of = date(TODAY.year + 3, 1, 1) + timedelta(days=90)  # every approved file is due
        spec = reads.due_list("visits", as_of=as_of, visit_days=90, follow_up_months=12)
        sql, params = reads.counted_sql("visits", spec.days)

        async with reads.scoped(pool, "13") as conn:
            total = await conn.fetchval(sql, "13", *params)
            plan = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", "13", *params)

        read = counts_read(json.loads(plan)[0]["Plan"])
        days, months = await pool.fetchrow(
            "SELECT count(*) FILTER (WHERE kind = 'visits'),"
            " count(*) FILTER (WHERE kind = 'visits/month')"
            " FROM ledger_counts WHERE scope = '13'"
        )
        assert (
            total
            == (
                await counted_the_old_way(
                    pool, "visits", as_of=as_of, visit_days=90, follow_up_months=12
                )
            )["13"]
        )
        assert read == months < days  # before migration 0028 a total read one row a day

    async def test_follow_rows_moved_in_and_out_of_the_lists_and_deleted(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await a_history(store, files)
        before = await kept_counts(pool)

        await pool.execute(
            "UPDATE ledger SET status = 'appraised' WHERE file_id IN"
            " (SELECT file_id FROM ledger WHERE status = 'approved' ORDER BY file_id LIMIT 5)"
        )
        moved = await kept_counts(pool)
        moved_from_scratch = await counts_from_scratch(pool)
        await pool.execute("DELETE FROM ledger WHERE unit = $1", PREFIX_SIBLING)

        assert moved != before
        assert moved == moved_from_scratch
        assert not [r for r in await kept_counts(pool) if r[0] == PREFIX_SIBLING]  # no zeros
        assert not [r for r in await kept_counts(pool) if r[3] <= 0]
        assert await kept_counts(pool) == await counts_from_scratch(pool)
        assert await disagreements(pool) == {}

    async def test_are_rebuilt_with_the_ledger_and_kept_after(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await a_history(store, files, by_hand=False)
        kept = await kept_counts(pool)

        await rebuild_all(store)
        rebuilt = await kept_counts(pool)
        await pool.execute(
            "UPDATE ledger SET exited_on = exited_on - 1 WHERE status = 'out_of_hardship'"
        )  # the rebuilt ledger keeps its counts too: the swap gave it the triggers

        assert rebuilt == kept
        assert await kept_counts(pool) != rebuilt
        assert await kept_counts(pool) == await counts_from_scratch(pool)
        assert await disagreements(pool) == {}


class TestTheMigration:
    async def test_fills_the_counts_from_the_ledger_as_it_stands(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await a_history(store, files)
        kept = await kept_counts(pool)
        await pool.execute("TRUNCATE ledger_counts")
        counts = next(m for m in available() if m.name == "ledger_counts_by_month")

        await pool.execute(counts.sql)

        assert await kept_counts(pool) == kept
        assert kept


class TestAReader:
    async def test_sees_only_the_counts_of_its_own_subtree(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await a_history(store, files)
        seen, within, wider = {}, {}, {}

        for root in ("130306", BASE, PREFIX_SIBLING, INDUSTRY, "00C01"):
            async with reads.scoped(pool, root) as conn:
                rows = await conn.fetch("SELECT DISTINCT scope FROM ledger_counts")
                seen[root] = {r["scope"] for r in rows}
                wider[root] = await conn.fetchval(
                    "SELECT coalesce(sum(n), 0) FROM ledger_counts WHERE scope IN ('00', '13')"
                )
            rows = await pool.fetch(
                f"SELECT DISTINCT scope FROM ledger_counts WHERE {subtree_sql('scope', '$1')}",
                root,
            )
            within[root] = {r["scope"] for r in rows}

        assert seen == within
        assert all(root in seen[root] for root in seen)
        assert (seen[BASE], seen[PREFIX_SIBLING]) == ({BASE}, {PREFIX_SIBLING})
        assert wider == dict.fromkeys(seen, 0)
        assert await pool.fetchval("SELECT sum(n) FROM ledger_counts WHERE scope = '13'") > 0


class TestTheListsPages:
    """A due list's and the queue's page are planned for each request's own subtree and days:
    from its sixth execution a prepared statement may keep a generic plan that sees neither
    (131 ms instead of 3 at 200,000 files, adapters/pg/reads.py `scoped`)."""

    async def test_are_never_read_by_a_generic_plan(
        self, store: PostgresEventStore, files: PgFileRepository, database_url: str
    ):
        await a_history(store, files, by_hand=False)
        one = await asyncpg.create_pool(database_url, min_size=1, max_size=1)

        for kind in (*DUE_KINDS, "approvals"):
            for _ in range(8):
                if kind == "approvals":
                    await reads.approval_queue(one, "13", limit=2)
                else:
                    await reads.due(one, "13", kind, as_of=TODAY, limit=2)

        async with one.acquire() as conn:
            plans = await conn.fetch(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%FROM ledger l%ORDER BY%'"
                " AND statement NOT LIKE '%pg_prepared_statements%'"
            )
        await one.close()
        assert len(plans) == len(DUE_KINDS) + 1
        assert [p["generic_plans"] for p in plans] == [0] * len(plans)
        assert [p["custom_plans"] for p in plans] == [8] * len(plans)
