"""How the ledger page's cost grows with the files: the same reads on two demo provinces.

    .venv/bin/python bench/ledger_growth.py /tmp/a /tmp/b [--runs 30] [--explain FILE]

Each argument is a `BANGFU_DATA_DIR` built by `bangfu demo --files N --bulk` (its embedded
PostgreSQL is started if it is not running). For the province (13), the district (130306) and
the district's largest base union: the ledger page (limit 50) in every sort, with `q=` a common
surname (王), a rare character of the demo's names (𠀀), a full name (the commonest full name of
the district), and the base-level filters of issue 18. Each read runs as `adapters.pg.reads`
runs it — its statements captured through `bench/growth.py`'s recording pool, then run by raw
asyncpg in the same scoped read-only transaction (reader role, row-level security) `--runs`
times: p50 and p99 in ms; and once under `EXPLAIN (ANALYZE, BUFFERS)`: the ledger rows its scans
read, which do not depend on the machine's load. The last columns: how each grew from the first
province to the last. Results: docs/benchmarks.md, "Growth".
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, _HERE)

from growth import Recorder, pct, plan_summary, scoped_run

SORTS = [
    "applied_on", "-applied_on", "approved_on", "-approved_on", "head_name", "-head_name",
    "assistance_total", "-assistance_total", "updated_at", "-updated_at",
]  # fmt: skip
BASE_FILTERS = {
    "category=deep": {"category": ["deep"]},
    "file_level=district": {"file_level": ["district"]},
    "worker_kind=migrant": {"worker_kind": ["migrant"]},
    "status=approved&sort=head_name": {"status": ["approved"], "sort": "head_name"},
}


def cases(full_name: str) -> list[tuple[str, dict[str, object]]]:
    found: list[tuple[str, dict[str, object]]] = [(f"sort={s}", {"sort": s}) for s in SORTS]
    for label, q in (("王", "王"), ("rare 𠀀", "𠀀"), (f"full {full_name}", full_name)):
        found.append((f"q={label}", {"q": q}))
        found.append((f"q={label}&sort=-updated_at", {"q": q, "sort": "-updated_at"}))
    return found


def ledger_rows(node: dict[str, Any]) -> int:
    """The ledger rows a plan's scans read: returned and removed by filter, times loops (the
    rows of the units beside them are the units', not the files')."""
    own = 0
    if node.get("Relation Name") == "ledger" and node["Node Type"] != "Bitmap Index Scan":
        own = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
    return int(own) + sum(ledger_rows(child) for child in node.get("Plans", []))


def capture(params: dict[str, object]) -> Callable[[Recorder, str], Awaitable[object]]:
    from adapters.http.readmodels import STATS_PAGE, ledger_filter  # noqa: PLC0415
    from adapters.pg import reads  # noqa: PLC0415
    from domain.units import UnitCode  # noqa: PLC0415
    from domain.values import Category, FileLevel, Level, Status, WorkerKind  # noqa: PLC0415

    enums = {"status": Status, "category": Category, "file_level": FileLevel,
             "worker_kind": WorkerKind}  # fmt: skip

    async def run(rec: Recorder, root: str) -> object:
        if params.get("stats"):  # `GET /stats?unit=…&level=base`, the API's default page
            period = str(datetime.now(UTC).year)
            children, _ = await reads.children_figures(
                rec,  # type: ignore[arg-type]
                root,
                Level.BASE,
                period,
                limit=STATS_PAGE,
            )
            await reads.unit_names(rec, [root, *children])  # type: ignore[arg-type]
            return await reads.unit_figures(rec, root, period)  # type: ignore[arg-type]
        sort = str(params.get("sort", "applied_on"))
        filters = {
            k: ([enums[k](x) for x in v] if isinstance(v, list) else v)
            for k, v in params.items() if k != "sort"
        }  # fmt: skip
        where = ledger_filter(UnitCode(root), **filters)  # type: ignore[arg-type]
        return await reads.ledger_page(
            rec,  # type: ignore[arg-type]
            where,
            sort=sort.lstrip("-"),
            descending=sort.startswith("-"),
            limit=50,
        )

    return run


async def measure(folder: Path, runs: int, plans: list[str]) -> tuple[int, dict[str, dict]]:
    from adapters.runtime.embedded import start  # noqa: PLC0415

    url, _server = start(folder)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    files = int(await pool.fetchval("SELECT count(*) FROM ledger"))
    base = str(
        await pool.fetchval(
            "SELECT unit FROM ledger WHERE unit LIKE '130306%' AND length(unit) = 9"
            " GROUP BY unit ORDER BY count(*) DESC, unit LIMIT 1"
        )
    )
    full_name = str(
        await pool.fetchval(
            "SELECT head_name FROM ledger WHERE district = '130306' AND length(head_name) = 3"
            " GROUP BY head_name ORDER BY count(*) DESC, head_name LIMIT 1"
        )
    )
    levels = {"province": "13", "district": "130306", "base": base}
    todo = [(level, name, params) for level in levels for name, params in cases(full_name)]
    todo += [("base", name, params) for name, params in BASE_FILTERS.items()]
    todo += [(level, "stats level=base", {"stats": True}) for level in ("province", "district")]
    results: dict[str, dict] = {}
    for level, name, params in todo:
        rec = Recorder(pool)
        root = levels[level]
        await capture(params)(rec, root)
        async with pool.acquire() as conn:
            await scoped_run(conn, root, rec.statements)  # warm
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                await scoped_run(conn, root, rec.statements)
                times.append(time.perf_counter() - began)  # s: `pct` gives ms
            text = await scoped_run(conn, root, rec.statements, "EXPLAIN (ANALYZE, BUFFERS) ")
            js = await scoped_run(
                conn, root, rec.statements, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
            )
        data = js[0][0][0]
        tree = (json.loads(data) if isinstance(data, str) else data)[0]
        summary = {**plan_summary(tree), "rows_read": ledger_rows(tree["Plan"])}
        key = f"{level} · {name.replace(full_name, 'NAME')}"
        results[key] = {
            "p50": pct(times, 0.5), "p99": pct(times, 0.99), **summary,
        }  # fmt: skip
        query = next(sql for sql, _ in rec.statements if not sql.startswith("SET "))
        settings = "".join(f"{sql};\n" for sql, _ in rec.statements if sql.startswith("SET "))
        plans.append(f"## {files:,} files · {key}\n\n{settings}{query}\n")
        plans.append("\n".join(r[0] for r in text[0]) + "\n")
    await pool.close()
    return files, results


async def main(args: argparse.Namespace) -> None:
    sizes: list[tuple[int, dict[str, dict]]] = []
    plans: list[str] = []
    for folder in args.data:
        sizes.append(await measure(Path(folder), args.runs, plans))
    head = " | ".join(f"{files:,} files: p50 / p99 ms, rows read" for files, _ in sizes)
    print(f"| read | {head} | growth rows | growth p50 |")
    print("|---|" + "---:|" * (len(sizes) + 2))
    for key in sizes[0][1]:
        cells = [
            f"{r[key]['p50']:.1f} / {r[key]['p99']:.1f}, {r[key]['rows_read']:,}" for _, r in sizes
        ]
        first, last = sizes[0][1][key], sizes[-1][1][key]
        rows = last["rows_read"] / max(first["rows_read"], 1)
        print(f"| {key} | {' | '.join(cells)} | {rows:.2f}× | {last['p50'] / first['p50']:.2f}× |")
    if args.explain:
        Path(args.explain).write_text("\n".join(plans))  # noqa: ASYNC240 — after the timings


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="+", help="BANGFU_DATA_DIR of each demo province")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--explain", help="write the text plans here")
    asyncio.run(main(parser.parse_args()))
