"""The duplicates list (`GET /duplicates`) against the list it replaced, at two sizes of province.

    git archive <base commit> | tar -x -C /tmp/base     # the code before (for its rebuild)
    BANGFU_DATA_DIR=/tmp/d5k  .venv/bin/bangfu demo --files 5000 --bulk
    BANGFU_DATA_DIR=/tmp/d20k .venv/bin/bangfu demo --files 20000 --bulk
    nice -n 10 .venv/bin/python bench/duplicates.py --data /tmp/d5k /tmp/d20k --before /tmp/base

For each data folder (the embedded PostgreSQL of a `bangfu demo`), in a process of its own:

  plant      the demo plants no duplicate (一户一档), so `--people` people (300 by default, the
             same number at every size: what grows is the province, not the duplicates) are
             filed again as a sync pull stores a downstream's files — through the file
             repository without the hash key, which keeps no claims — each in another base union
             chosen at random, every fifth a third time; the projection runner then takes them
             in. Done once: a folder that holds them already is measured as it is.
  before     the list as it was (migrations 0014, 0017): `ledger_duplicates` (person → files)
             under a policy calling `bangfu_person_in_scope(id_hash)` for each row, joined with
             every person and file of the subtree, every duplicate of it at once. Made here
             from the read models as those migrations made it, with its policy and grants.
  after      `adapters.pg.reads.duplicates`: a page of 50 people and the total, from
             `ledger_duplicate_files` (migration 0024).

Both read as the API reads (`reads.scoped`: the reader role, the scope set), at the province
(13), a district (130306) and a base union (130306001), `--rounds` rounds of `--requests`
reads each: the median of the rounds' medians (ms). Then EXPLAIN (ANALYZE, BUFFERS) of each
statement at each level (execution time, shared buffers, rows), the plans written into the
folder (`duplicates-explain.txt`); and a rebuild of the ledger read model (which keeps the
duplicates) by the code before (`--before`, a checkout of the base commit) and by this code, each
`--rebuilds` times in a fresh process: the median seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROOTS = {"province": "13", "district": "130306", "base": "130306001"}
HOLDING = ["applied", "verified", "appraised", "approved", "sent_back", "returned", "relieved"]

# The list before migration 0024 (adapters/pg/reads.py at the base commit), word for word.
BEFORE_SQL = (
    "SELECT p.id_hash, p.role, l.file_id, l.unit, u.name AS unit_name, l.status,"
    " l.head_name, l.id_masked, l.applied_on, d.files AS open_files"
    " FROM ledger_duplicates d JOIN ledger_people p ON p.id_hash = d.id_hash"
    " JOIN ledger l ON l.file_id = p.file_id LEFT JOIN units u ON u.code = l.unit"
    " WHERE l.status = ANY($2::text[])"
    " AND (l.unit ~>=~ $1::text AND l.unit ~<~ bangfu_subtree_end($1::text))"
    " ORDER BY p.id_hash, l.applied_on, l.file_id"
)
# Its table, policy and grants as migrations 0014 and 0017 left them.
BEFORE_TABLE = """
CREATE TABLE IF NOT EXISTS ledger_duplicates (id_hash bytea PRIMARY KEY, files integer NOT NULL);
TRUNCATE ledger_duplicates;
INSERT INTO ledger_duplicates (id_hash, files)
SELECT p.id_hash, count(DISTINCT p.file_id) FROM ledger_people p JOIN ledger l USING (file_id)
WHERE l.status IN ('applied', 'verified', 'appraised', 'approved', 'sent_back', 'returned',
                   'relieved')
GROUP BY p.id_hash HAVING count(DISTINCT p.file_id) > 1;
CREATE OR REPLACE FUNCTION bangfu_person_in_scope(hash bytea) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM ledger_people WHERE id_hash = hash)
$$;
ALTER TABLE ledger_duplicates ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON ledger_duplicates TO bangfu_reader;
DROP POLICY IF EXISTS in_scope ON ledger_duplicates;
CREATE POLICY in_scope ON ledger_duplicates USING (bangfu_person_in_scope(id_hash));
ANALYZE ledger_duplicates;
"""

REBUILD = """
import asyncio, json, time
from adapters.pg.projector import rebuild
from adapters.runtime.bootstrap import read_models, runtime
from adapters.runtime.settings import Settings

async def main():
    async with runtime(Settings.from_env()) as rt:
        (ledger,) = [p for p in read_models(rt.hasher) if p.name == "ledger"]
        started = time.perf_counter()
        await rebuild(rt.store, rt.codec, ledger)
        print(json.dumps(time.perf_counter() - started))

asyncio.run(main())
"""


class Recorder:
    """A pool for `reads.duplicates` that keeps each statement it runs (for EXPLAIN)."""

    def __init__(self, pool: Any) -> None:
        self.pool, self.statements = pool, []

    def acquire(self) -> Any:
        recorder = self

        class Acquired:
            async def __aenter__(self) -> Any:
                self.holder = recorder.pool.acquire()
                conn = await self.holder.__aenter__()

                class Conn:
                    async def execute(self, sql: str, *args: Any) -> Any:
                        return await conn.execute(sql, *args)

                    async def fetch(self, sql: str, *args: Any) -> Any:
                        recorder.statements.append((sql, args))
                        return await conn.fetch(sql, *args)

                    async def fetchval(self, sql: str, *args: Any) -> Any:
                        recorder.statements.append((sql, args))
                        return await conn.fetchval(sql, *args)

                return Conn()

            async def __aexit__(self, *exc: Any) -> None:
                await self.holder.__aexit__(*exc)

        return Acquired()


async def plant(rt: Any, people: int) -> int:
    """File `people` people again in other base unions, as a pull stores them; return how many
    people the duplicates list holds."""
    from adapters.pg.repository import PgFileRepository  # noqa: PLC0415
    from domain.household import HouseholdFile  # noqa: PLC0415
    from domain.values import Actor, Role  # noqa: PLC0415

    await rt.projections.catch_up()  # a demo stores its log only: its read models come here
    held = await rt.pool.fetchval("SELECT count(DISTINCT id_hash) FROM ledger_duplicate_files")
    if held >= people:
        return int(held)
    bases = [
        r["code"]
        for r in await rt.pool.fetch("SELECT code FROM units WHERE level = 'base' ORDER BY code")
    ]
    chosen = await rt.pool.fetch(
        "SELECT file_id, unit FROM ledger WHERE status = ANY($1::text[]) AND id_hash <> ''::bytea"
        " ORDER BY md5(file_id::text) LIMIT $2",
        HOLDING,
        people,
    )
    pulled = PgFileRepository(rt.store, rt.codec)  # no hash key: no claims, as a pull stores
    draw = random.Random(7)
    copies = []
    for n, row in enumerate(chosen):
        household = await pulled.get(row["file_id"])
        for _ in range(2 if n % 5 == 0 else 1):
            unit = draw.choice([b for b in bases if b != row["unit"]])
            copies.append(
                HouseholdFile.receive_application(
                    actor=Actor("clerk-pulled", unit, Role.CLERK),
                    establishing_unit=unit,
                    worker_kind=household.worker_kind,
                    head=household.head,
                    applied_on=date(2026, 6, 1),
                    authorisation_signed=True,
                    statement="下级节点同步上报",
                    today=date(2026, 6, 1),
                )
            )
    for start in range(0, len(copies), 100):
        await pulled.save(*copies[start : start + 100])
    await rt.projections.catch_up()
    return int(await rt.pool.fetchval("SELECT count(DISTINCT id_hash) FROM ledger_duplicate_files"))


async def timed(read: Any, rounds: int, requests: int) -> float:
    medians = []
    for _ in range(rounds):
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            await read()
            times.append(time.perf_counter() - started)
        medians.append(statistics.median(times))
    return statistics.median(medians) * 1000


def summary(plan: list[str]) -> dict[str, Any]:
    text = "\n".join(plan)
    hit = re.search(r"Buffers: shared hit=(\d+)", text)
    read = re.search(r"Buffers: shared(?: hit=\d+)? read=(\d+)", text)
    rows = re.search(r"actual time=[\d.]+\.\.[\d.]+ rows=(\d+)", text)
    ms = re.search(r"Execution Time: ([\d.]+) ms", text)
    return {
        "ms": float(ms[1]) if ms else None,
        "buffers": int(hit[1] if hit else 0) + int(read[1] if read else 0),
        "rows": int(rows[1]) if rows else None,
    }


async def explain(pool: Any, root: str, sql: str, args: tuple[Any, ...]) -> list[str]:
    from adapters.pg import reads  # noqa: PLC0415

    async with reads.scoped(pool, root) as conn:
        await conn.fetch(sql, *args)  # warm
        rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
    return [r[0] for r in rows]


async def one(args: argparse.Namespace) -> dict[str, Any]:
    """Plant, then measure before and after in this folder's database."""
    from adapters.pg import reads  # noqa: PLC0415
    from adapters.runtime.bootstrap import runtime  # noqa: PLC0415
    from adapters.runtime.settings import Settings  # noqa: PLC0415

    result: dict[str, Any] = {"folder": args.one}
    async with runtime(Settings.from_env()) as rt:
        result["people"] = await plant(rt, args.people)
        result["files"] = await rt.pool.fetchval("SELECT count(*) FROM ledger")
        result["events"] = await rt.pool.fetchval("SELECT count(*) FROM events")
        await rt.pool.execute(BEFORE_TABLE)
        plans: list[str] = []
        for level, root in ROOTS.items():

            async def before(root: str = root) -> Any:
                async with reads.scoped(rt.pool, root) as conn:
                    return await conn.fetch(BEFORE_SQL, root, HOLDING)

            async def after(root: str = root) -> Any:
                return await reads.duplicates(rt.pool, root, limit=50)

            shown = len({bytes(r["id_hash"]) for r in await before()})
            _, total, _ = await after()
            recorder = Recorder(rt.pool)
            await reads.duplicates(recorder, root, limit=50)  # type: ignore[arg-type]
            entry: dict[str, Any] = {
                "people": total,
                "before_people": shown,
                "before_ms": await timed(before, args.rounds, args.requests),
                "after_ms": await timed(after, args.rounds, args.requests),
            }
            old = await explain(rt.pool, root, BEFORE_SQL, (root, HOLDING))
            entry["before_plan"] = summary(old)
            plans += [f"== {level} {root} before", BEFORE_SQL, *old]
            entry["after_plans"] = []
            for sql, params in recorder.statements:
                new = await explain(rt.pool, root, sql, params)
                entry["after_plans"].append(summary(new))
                plans += [f"== {level} {root} after", sql, *new]
            result[level] = entry
        result["plans"] = plans
    return result


def rebuild_seconds(code: Path, folder: str, times: int) -> float:
    env = {**os.environ, "BANGFU_DATA_DIR": folder, "BANGFU_LOG_JSON": "1"}
    seconds = []
    for _ in range(times):
        done = subprocess.run(
            [sys.executable, "-c", REBUILD],
            cwd=code,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", help="data folders of `bangfu demo` (smallest first)")
    parser.add_argument("--before", type=Path, help="a checkout of the code before (rebuild)")
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(one(args)), default=str))
        return
    results = []
    for folder in args.data:
        env = {**os.environ, "BANGFU_DATA_DIR": folder, "BANGFU_LOG_JSON": "1"}
        done = subprocess.run(
            [sys.executable, __file__, "--one", folder, *_passed(args)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        (Path(folder) / "duplicates-explain.txt").write_text("\n".join(result.pop("plans")))
        if args.before is not None:
            result["rebuild_before_s"] = rebuild_seconds(args.before, folder, args.rebuilds)
        result["rebuild_after_s"] = rebuild_seconds(ROOT, folder, args.rebuilds)
        results.append(result)
        print(json.dumps(result, indent=1))
    report(results)


def _passed(args: argparse.Namespace) -> list[str]:
    return [
        f"--people={args.people}",
        f"--rounds={args.rounds}",
        f"--requests={args.requests}",
    ]


def report(results: list[dict[str, Any]]) -> None:
    print("\n| files | level | people | before ms | after ms | before buffers | after buffers |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        for level in ROOTS:
            e = r[level]
            after_buffers = sum(p["buffers"] for p in e["after_plans"])
            print(
                f"| {r['files']:,} | {level} | {e['people']} | {e['before_ms']:.2f}"
                f" | {e['after_ms']:.2f} | {e['before_plan']['buffers']:,} | {after_buffers:,} |"
            )
    for r in results:
        print(
            f"rebuild of the ledger at {r['files']:,} files ({r['events']:,} events):"
            f" before {r.get('rebuild_before_s', float('nan')):.2f} s,"
            f" after {r['rebuild_after_s']:.2f} s"
        )


if __name__ == "__main__":
    main()
