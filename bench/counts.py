"""The due lists' and the approval queue's totals: the old `count(*)` beside the maintained counts
(`ledger_counts`) summed by day (migration 0022) and by day and month (migration 0028), at two
sizes, with what the counts cost the writes.

    BANGFU_DATA_DIR=/tmp/c5k .venv/bin/python -m adapters.cli demo --files 5000 --bulk
    BANGFU_DATA_DIR=/tmp/c20k .venv/bin/python -m adapters.cli demo --files 20000 --bulk
    .venv/bin/python bench/counts.py /tmp/c5k /tmp/c20k [--rounds 5] [--rebuilds 3]
    .venv/bin/python bench/counts.py --growth 1m,10m --parts totals,writes   # bench/growth.py's

For each data folder (its embedded PostgreSQL), in the reader's scoped transaction (role
`bangfu_reader`, row-level security, as `adapters.pg.reads` reads):

  totals    for each list (visits, rechecks, follow_up, exit, approvals) at the province (13), a
            district (130306) and that district's largest base union: `EXPLAIN (ANALYZE,
            BUFFERS)` of the old `SELECT count(*) FROM ledger l WHERE <subtree> AND <condition>`
            the sum of the range's day rows (migration 0022) and the sum of its whole months' rows
            and its ends' day rows (`reads.counted`, migration 0028), `--rounds` times after a
            warm run; the median execution time and the buffers of each. All answer the same
            number (checked).
  rebuild   `rebuild_all` of the ledger projection without the counts step (the baseline: the
            branch's rebuild with `counts` left out of its group — the log gives the same rows,
            so the counts stay right) and with it, alternating, `--rebuilds` times each; the
            median seconds; and the counts' GROUP BY alone.
  writes    the projection's write of 1,000 approved files' ledger rows (a batch of the runner)
            each moved in the visits list: before (one statement a row, as up to migration
            0021, no counts), a statement a row with the counts' triggers, one statement for
            the batch (`LiveLedger.save`) with the triggers counting by day alone (migration
            0022's function put back for the round), after (the same, counting by day and by
            month, migration 0028), and that with the triggers disabled; in transactions rolled
            back; median of `--rounds`.
  fill      the counts' fill of a rebuild alone, by day (0022) and by day and month (0028),
            alternating, `--rebuilds` times each, rolled back; the median seconds and the rows.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from adapters.pg import projector, reads
from adapters.pg.migrations import APP_ROLE
from adapters.pg.readmodels import LEDGER_COLUMNS, LiveLedger, ledger_record
from adapters.pg.units import subtree_sql
from adapters.runtime.bootstrap import runtime
from adapters.runtime.settings import Settings
from projections.ledger import Ledger

AS_OF = date(2026, 12, 1)
KINDS = ("visits", "rechecks", "follow_up", "exit", "approvals")
QUEUE = "(l.status = 'appraised' OR l.category_pending IS NOT NULL)"


# the total of migration 0022: the day rows of the whole range
BY_DAY = (
    "SELECT coalesce(sum(c.n), 0) FROM ledger_counts c"
    " WHERE c.scope = $1 AND c.kind = $2 AND c.day >= $3::date AND c.day < $4::date"
)


def statements(root: str, kind: str) -> dict[str, tuple[str, list[Any]]]:
    """The old total, the sum of day rows (0022), and the new one (`reads.counted`'s, days and
    months, 0028), each with its parameters."""
    if kind == "approvals":
        old = f"SELECT count(*) FROM ledger l WHERE {subtree_sql('l.unit', '$1')} AND {QUEUE}"
        new, params = reads.counted_sql(kind, None)
        return {"old": (old, [root]), "days": (new, [root, *params]), "new": (new, [root, *params])}
    spec = reads.due_list(kind, as_of=AS_OF, visit_days=90, follow_up_months=12)
    old = f"SELECT count(*) FROM ledger l WHERE {subtree_sql('l.unit', '$1')} AND {spec.condition}"
    new, params = reads.counted_sql(kind, spec.days)
    since, until = spec.days
    return {
        "old": (old, [root, *spec.bounds]),
        "days": (BY_DAY, [root, kind, since or reads.EVER, until]),
        "new": (new, [root, *params]),
    }


async def explain(conn: Any, sql: str, params: list[Any], rounds: int) -> tuple[float, int]:
    await conn.fetch(sql, *params)  # warm
    times, hits = [], 0
    for _ in range(rounds):
        raw = await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *params)
        plan = json.loads(raw)[0]
        times.append(plan["Execution Time"])
        node = plan["Plan"]
        hits = node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0)
    return statistics.median(times), hits


async def totals(rt: Any, base: str, rounds: int) -> list[dict[str, Any]]:
    rows = []
    for root in ("13", "130306", base):
        for kind in KINDS:
            row: dict[str, Any] = {"root": root, "kind": kind}
            async with reads.scoped(rt.pool, root) as conn:
                for name, (sql, params) in statements(root, kind).items():
                    total = await conn.fetchval(sql, *params)
                    assert row.setdefault("total", total) == total, (root, kind, name)  # noqa: S101
                    row[f"{name}_ms"], row[f"{name}_buffers"] = await explain(
                        conn, sql, params, rounds
                    )
            rows.append(row)
    return rows


async def rebuilds(rt: Any, times: int) -> dict[str, float]:
    ledger = [p for p in rt.projections.projections if isinstance(p, Ledger)]
    with_counts = projector.GROUPS["ledger"]
    without = tuple(a for a in with_counts if a != "counts")
    seconds: dict[str, list[float]] = {"without counts": [], "with counts": []}
    try:
        for _ in range(times):
            for name, group in (("without counts", without), ("with counts", with_counts)):
                projector.GROUPS["ledger"] = group
                started = time.perf_counter()
                await projector.rebuild_all(rt.store, rt.codec, ledger)
                seconds[name].append(time.perf_counter() - started)
    finally:
        projector.GROUPS["ledger"] = with_counts
    async with rt.pool.acquire() as conn, conn.transaction():
        await conn.execute("CREATE TEMP TABLE scratch (LIKE ledger_counts) ON COMMIT DROP")
        started = time.perf_counter()
        await conn.execute("SELECT bangfu_ledger_counts_fill('ledger', 'scratch')")
        fill = time.perf_counter() - started
    result = {name: statistics.median(s) for name, s in seconds.items()}
    result["counts' GROUP BY alone"] = fill
    return result


@functools.cache
def _count_days_of_0022() -> str:
    sql = (Path(__file__).parent.parent / "infra/migrations/0022_ledger_counts.sql").read_text()
    start = sql.index("CREATE OR REPLACE FUNCTION bangfu_ledger_count_days(")
    return sql[start : sql.index("$$;", start) + 3]


async def count_by_day_alone(conn: Any) -> None:
    """Put back migration 0022's `bangfu_ledger_count_days` (day rows only) in `conn`'s open
    transaction, to be rolled back: the baseline of the month rows of migration 0028. As the
    function's owner — the login of a growth cache's URL (`--growth`), then the app role again."""
    await conn.execute(f"SET ROLE NONE; {_count_days_of_0022()}; SET ROLE {APP_ROLE}")


async def fills(rt: Any, times: int) -> dict[str, float | int]:
    """The counts' fill of a rebuild alone (`bangfu_ledger_counts_fill` into a scratch table),
    counting by day alone (0022's function put back for the round) and by day and month (0028),
    alternating, in transactions rolled back; the median seconds and the rows each wrote."""
    seconds: dict[str, list[float]] = {"by day (0022)": [], "by day and month (0028)": []}
    written: dict[str, int] = {}
    for _ in range(times):
        for name, taken in seconds.items():
            async with rt.pool.acquire() as conn:
                tx = conn.transaction()
                await tx.start()
                try:
                    if name.startswith("by day ("):
                        await count_by_day_alone(conn)
                    await conn.execute("CREATE TEMP TABLE scratch (LIKE ledger_counts)")
                    started = time.perf_counter()
                    await conn.execute("SELECT bangfu_ledger_counts_fill('ledger', 'scratch')")
                    taken.append(time.perf_counter() - started)
                    written[f"{name} rows"] = await conn.fetchval("SELECT count(*) FROM scratch")
                finally:
                    await tx.rollback()
    return {**{name: statistics.median(s) for name, s in seconds.items()}, **written}


async def one_statement_a_row(conn: Any, rows: list[Any]) -> None:
    """The ledger's write before this branch (`LiveLedger.save` up to migration 0021): one
    INSERT … ON CONFLICT a row, by `executemany`."""
    columns = ", ".join(LEDGER_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in LEDGER_COLUMNS[1:])
    values = ", ".join(f"${i}" for i in range(1, len(LEDGER_COLUMNS) + 1))
    await conn.executemany(
        f"INSERT INTO ledger ({columns}) VALUES ({values})"
        f" ON CONFLICT (file_id) DO UPDATE SET {updates}",
        [ledger_record(r) for r in rows],
    )


# (the write, the counts' triggers on, the counts by day alone as up to migration 0027)
WRITES = {
    "before: a statement a row, no counts": (one_statement_a_row, False, False),
    "a statement a row, with the counts' triggers": (one_statement_a_row, True, False),
    "one statement a batch, with the triggers, by day alone (0022)": (None, True, True),
    "after: one statement a batch, with the triggers (by day and month, 0028)": (
        None,
        True,
        False,
    ),
    "one statement a batch, triggers disabled": (None, False, False),
}


async def writes(rt: Any, rounds: int) -> dict[str, float]:
    ids = [
        r["file_id"]
        for r in await rt.pool.fetch(
            "SELECT file_id FROM ledger WHERE status = 'approved' ORDER BY file_id LIMIT 1000"
        )
    ]
    seconds: dict[str, list[float]] = {name: [] for name in WRITES}
    for _ in range(rounds):
        for name, (write, triggers, by_day) in WRITES.items():
            async with rt.pool.acquire() as conn:
                tx = conn.transaction()
                await tx.start()
                try:
                    if not triggers:
                        await conn.execute("ALTER TABLE ledger DISABLE TRIGGER USER")
                    if by_day:
                        await count_by_day_alone(conn)
                    live = LiveLedger(conn)
                    rows = list((await live.load(set(ids))).values())
                    for row in rows:  # moved in a list: a visit
                        row.last_visited_on = AS_OF
                    started = time.perf_counter()
                    if write is None:
                        await live.save(rows, set())
                    else:
                        await write(conn, rows)
                    seconds[name].append(time.perf_counter() - started)
                finally:
                    await tx.rollback()
    return {name: statistics.median(s) for name, s in seconds.items()}


async def measure(folder: Path, rounds: int, times: int, parts: set[str]) -> dict[str, Any]:
    settings = Settings(database_url=None, data_dir=folder, log_json=True)
    return await measured(settings, str(folder), rounds, times, parts)


async def measure_growth(data: Path, size: str, rounds: int, times: int, parts: set[str]) -> Any:
    """A size of `bench/growth.py`'s cache (its cluster started for the run)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from growth import Cache  # noqa: PLC0415 — a sibling script, only for this option

    cache = Cache(data)
    cache.start()
    try:
        settings = Settings(database_url=cache.db_url(size), data_dir=cache.keys, log_json=True)
        return await measured(settings, f"{data} {size}", rounds, times, parts)
    finally:
        cache.stop()


async def measured(
    settings: Settings, folder: str, rounds: int, times: int, parts: set[str]
) -> dict[str, Any]:
    async with runtime(settings) as rt:
        files = await rt.pool.fetchval("SELECT count(*) FROM ledger")
        events = await rt.pool.fetchval("SELECT count(*) FROM events")
        counts = await rt.pool.fetchval("SELECT count(*) FROM ledger_counts")
        base = await rt.pool.fetchval(
            "SELECT unit FROM ledger WHERE district = '130306' AND length(unit) >= 9"
            " GROUP BY unit ORDER BY count(*) DESC LIMIT 1"
        )
        return {
            "folder": str(folder),
            "files": files,
            "events": events,
            "count_rows": counts,
            "base": base,
            "totals": await totals(rt, base, rounds) if "totals" in parts else [],
            "writes": await writes(rt, rounds) if "writes" in parts else {},
            "rebuild": await rebuilds(rt, times) if "rebuild" in parts else {},
            "fill": await fills(rt, times) if "fill" in parts else {},
        }


def report(results: list[dict[str, Any]]) -> None:
    print(
        "| root | list | "
        + " | ".join(
            f"{r['files']:,} files: total, count(*) ms (buf) → days → days and months"
            for r in results
        )
        + " |"
    )
    print("|---|---|" + "---:|" * len(results))
    for i, row in enumerate(results[0]["totals"] if all(r["totals"] for r in results) else []):
        cells = []
        for r in results:
            t = r["totals"][i]
            cells.append(
                f"{t['total']:,}: {t['old_ms']:.2f} ({t['old_buffers']}) → "
                f"{t['days_ms']:.3f} ({t['days_buffers']}) → {t['new_ms']:.3f} ({t['new_buffers']})"
            )
        root = "base" if row["root"] == results[0]["base"] else row["root"]
        print(f"| {root} | {row['kind']} | " + " | ".join(cells) + " |")
    for r in results:
        print(
            f"\n{r['files']:,} files, {r['events']:,} events, {r['count_rows']:,} count rows"
            f" (base {r['base']}): rebuild "
            + ", ".join(f"{k} {v:.2f} s" for k, v in r["rebuild"].items())
            + "; 1,000 rows written: "
            + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in r["writes"].items())
            + "; the counts' fill alone: "
            + ", ".join(
                f"{k} {v:,}" if k.endswith(" rows") else f"{k} {v:.2f} s"
                for k, v in r["fill"].items()
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=lambda f: Path(f).resolve())
    parser.add_argument(
        "--growth",
        default="",
        help="sizes of bench/growth.py's cache to measure too, e.g. 1m,10m (its --data: --data)",
    )
    parser.add_argument("--data", type=Path, default=Path("/work/growthdata"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--parts", default="totals,writes,rebuild,fill")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    results = [asyncio.run(measure(f, args.rounds, args.rebuilds, parts)) for f in args.folders]
    results += [
        asyncio.run(measure_growth(args.data, size, args.rounds, args.rebuilds, parts))
        for size in filter(None, args.growth.split(","))
    ]
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
