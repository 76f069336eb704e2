"""Reconciliation speed: a province's exported ledger (台账) reconciled against its electronic
files, beside raw reads of the same files' events — in one run, on one server.

    .venv/bin/python bench/reconcile.py            # 100,000-file province, 3 rounds
    .venv/bin/python bench/reconcile.py --quick    # 10,000 files, 1 round

Starts a private PostgreSQL (pgserver) in a fresh folder under /tmp, or uses the server of
BANGFU_BENCH_DATABASE_URL (a superuser URL: one database is created and dropped on it). Builds a
demo province of `--files` files through the domain's commands and the bulk path
(`adapters.demo.build(bulk=True)`), brings the ledger up to date, and exports the province's
ledger as the system writes it (`adapters.exports.write_ledger`: masked ID numbers, Chinese
labels). Then, each round:

  reconcile  `adapters.reconcile.reconcile` of that xlsx for scope 13 on the build date: reading
             the sheet, keying its rows, folding every file as it stood at the end of the
             ledger's date from the events that change a compared field
             (`projections.as_of`, read once in stream-then-version order), comparing, and
             recording the run and its findings.
  raw        `store.read_streams` of every file of the province, 2,000 a query: every event,
             every column, no decoding (what replaying every file had to read).
  fold read  the reconciliation's own reads without the fold (`reconcile.candidates` and
             `reconcile.folded_events`): only the folded types, recorded before the cutoff,
             the columns the fold reads, no decoding — the database's floor for the fold.

The machine's load average (1 minute) is printed before and after the rounds: the benchmark
measures wall time, so other work on the machine shows in it.

Target: reconcile ≤ 20 s. Figures are medians of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog
from common import FixedClock, admin, encrypting, server, with_database

from adapters.pg import reads
from adapters.pg.codec import EventCodec
from adapters.pg.migrations import migrate
from adapters.pg.projector import ProjectionRunner
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.bootstrap import open_pool, read_models
from adapters.services import demo, reconcile
from adapters.sheets import ledger as exports
from domain.privacy import keyed_hash
from domain.units import UnitCode
from domain.values import Actor, Role

DATABASE = "bfbench_reconcile"
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # events are recorded now: today's state
HASH_KEY = b"bench-reconcile-hash-key-" + b"h" * 16
TARGET_S = 20.0
CHUNK = 10_000
INSPECTOR = Actor("bench-inspector", "13", Role.INSPECTOR)


def hasher(number: str) -> bytes:
    return keyed_hash(HASH_KEY, number)


async def province(store: PostgresEventStore, codec: EventCodec, files: int) -> int:
    await PgUnitDirectory(store.pool).load(demo.units())
    repository = PgFileRepository(store, codec)
    events, seed = 0, 2020
    for start in range(0, files, CHUNK):
        events += await demo.build(
            files=repository,
            clock=FixedClock(TODAY),
            count=min(CHUNK, files - start),
            seed=seed,
            bulk=True,
        )
        seed += 1
        print(f"  built {min(start + CHUNK, files):,} files, {events:,} events", flush=True)
    await ProjectionRunner(store, codec, read_models(hasher), batch=10_000).catch_up()
    await store.pool.execute("VACUUM (ANALYZE)")
    return events


async def ledger(store: PostgresEventStore) -> tuple[bytes, int]:
    out = io.BytesIO()
    rows = await exports.write_ledger(
        reads.ledger_rows(store.pool, reads.LedgerFilter(root="13")), out
    )
    return out.getvalue(), rows


async def fold_read(store: PostgresEventStore) -> int:
    """The reconciliation's reads of the province on TODAY without folding; the events read."""
    cutoff, read = reconcile.end_of_day(TODAY), 0
    async with (
        store.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        ids = await reconcile.candidates(conn, UnitCode("13"), cutoff)
        async for batch in reconcile.folded_events(conn, ids, cutoff):
            read += len(batch)
    return read


async def run(args: argparse.Namespace, url: str) -> bool:  # noqa: PLR0915 — one script
    await admin(url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    await admin(url, f'CREATE DATABASE "{DATABASE}"')
    recon_s: list[float] = []
    raw_s: list[float] = []
    fold_s: list[float] = []
    try:
        pool = await open_pool(with_database(url, DATABASE), size=4)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
                version = str(await conn.fetchval("SELECT version()")).split(" on ")[0]
            store, codec = encrypting(pool)
            print(f"server: {version}; building {args.files:,} files", flush=True)
            started = time.perf_counter()
            events = await province(store, codec, args.files)
            build_s = time.perf_counter() - started
            started = time.perf_counter()
            data, rows = await ledger(store)
            export_s = time.perf_counter() - started
            print(f"ledger: {rows:,} rows, {len(data) / 1e6:.1f} MB, {export_s:.1f} s", flush=True)
            ids = [
                r[0]
                for r in await pool.fetch(
                    "SELECT DISTINCT stream_id FROM events WHERE type LIKE 'household.%'"
                )
            ]
            profiler = None
            load_before = os.getloadavg()[0]
            for n in range(args.rounds):
                if args.profile and n == 0:
                    import cProfile  # noqa: PLC0415

                    profiler = cProfile.Profile()
                    profiler.enable()
                started = time.perf_counter()
                result = await reconcile.reconcile(
                    store=store,
                    codec=codec,
                    hasher=hasher,
                    actor=INSPECTOR,
                    scope="13",
                    ledger_date=TODAY,
                    data=data,
                    name="ledger.xlsx",
                )
                recon_s.append(time.perf_counter() - started)
                if profiler is not None:
                    import pstats  # noqa: PLC0415

                    profiler.disable()
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
                    profiler = None
                started = time.perf_counter()
                for i in range(0, len(ids), 2000):
                    await store.read_streams(ids[i : i + 2000])
                raw_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                folded = await fold_read(store)
                fold_s.append(time.perf_counter() - started)
                summary = result.summary
                print(
                    f"round {n + 1}: reconcile {recon_s[-1]:.1f} s, raw read {raw_s[-1]:.1f} s,"
                    f" fold read {fold_s[-1]:.1f} s ({folded:,} events);"
                    f" matched {summary.matched if summary else 0:,} of {rows:,},"
                    f" findings {len(result.findings):,}",
                    flush=True,
                )
            load_after = os.getloadavg()[0]
        finally:
            await pool.close()
    finally:
        await admin(url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    commit = subprocess.run(  # noqa: ASYNC221 — once, after the measurements
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print()
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {commit}; {os.cpu_count()} CPUs;"
        f" Python {platform.python_version()}; {version}"
    )
    print(
        f"province: {args.files:,} files, {events:,} events (built and projected in"
        f" {build_s:.0f} s); ledger {rows:,} rows exported in {export_s:.1f} s"
    )
    print(f"load average (1 min): {load_before:.1f} before the rounds, {load_after:.1f} after")
    print()
    print("| measurement | seconds (median) | each round |")
    print("|---|---:|---|")
    each = ", ".join(f"{s:.1f}" for s in recon_s)
    median = statistics.median(recon_s)
    print(f"| reconcile (read xlsx … findings recorded) | {median:.1f} | {each} |")
    each = ", ".join(f"{s:.1f}" for s in raw_s)
    print(f"| raw: read_streams of every file | {statistics.median(raw_s):.1f} | {each} |")
    each = ", ".join(f"{s:.1f}" for s in fold_s)
    print(
        f"| fold read: the folded events, no decoding | {statistics.median(fold_s):.1f} | {each} |"
    )
    met = statistics.median(recon_s) <= TARGET_S
    print()
    print("| target | measured (median) | required | met |")
    print("|---|---:|---:|---|")
    print(
        f"| reconcile of a {rows:,}-row ledger | {statistics.median(recon_s):.1f} s"
        f" | ≤ {TARGET_S:.0f} s | {'MET' if met else 'MISSED'} |"
    )
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 files, 1 round")
    parser.add_argument("--files", type=int, help="files of the province (default 100,000)")
    parser.add_argument("--rounds", type=int, help="rounds (default 3; 1 with --quick)")
    parser.add_argument("--profile", action="store_true", help="cProfile the first reconcile")
    args = parser.parse_args(argv)
    args.files = args.files or (10_000 if args.quick else 100_000)
    args.rounds = args.rounds or (1 if args.quick else 3)

    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with server() as url:
        met = asyncio.run(run(args, url))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
