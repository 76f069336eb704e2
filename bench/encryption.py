"""What encrypting personal data costs the read paths: the same province stored encrypted and in
clear, measured side by side in one process.

    .venv/bin/python bench/encryption.py --quick     # 2,000 files (~27,000 events), 3 rounds
    .venv/bin/python bench/encryption.py             # 8,000 files, 5 rounds

Builds one demo province twice from the same seed (`adapters.demo.build(..., bulk=True)`), in two
fresh databases of one server: once through an encrypting store and codec (`common.encrypting`,
as the service writes), once in clear (as before decision 10). Both are VACUUM ANALYZEd and their
ledgers built. Then, each round, every measurement runs on both databases back to back (which
goes first alternates), each encrypted pass starting with no data key unwrapped
(`common.cold`, as a freshly started process):

  raw        `read_log` in batches of 10,000 + `decode_fields` of every event;
  rebuild    `rebuild_all` of every read model (one read of the log);
  reads      500 files read through a repository without a file cache (`read_stream` + replay,
             what an HTTP read of a file not yet cached does), one after another;
  spot-check `run_spot_check` of 500 files.

Reported: the median of the per-round ratios encrypted / clear (rates) — 1.0 means free. Target:
every ratio ≥ 0.8. The machine is shared and noisy; absolute figures are context only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import time
import warnings
from datetime import date

import structlog
from common import FixedClock, admin, cold, encrypting, server, with_database

from adapters.pg import projector
from adapters.pg.codec import EventCodec
from adapters.pg.migrations import migrate
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import START, PostgresEventStore
from adapters.runtime.bootstrap import open_pool, read_models
from adapters.services import demo
from adapters.services.spotcheck import Request, run_spot_check
from domain.privacy import keyed_hash
from domain.values import Actor, Role

TODAY = date(2026, 6, 30)
HASH_KEY = b"bench-encryption-hash-key-" + b"h" * 16
INSPECTOR = Actor("bench-inspector", "13", Role.INSPECTOR)
TARGET = 0.8


def models():  # type: ignore[no-untyped-def]
    return read_models(lambda number: keyed_hash(HASH_KEY, number))


async def raw(store: PostgresEventStore, codec: EventCodec) -> float:
    decode, read, cursor = codec.decode_fields, 0, START
    started = time.perf_counter()
    async with store.pool.acquire() as conn:
        while events := await store.read_log(cursor, 10_000, conn=conn):
            for e in events:
                decode(e.type, e.payload, e.stream_id)
            read, cursor = read + len(events), events[-1].cursor
    return read / (time.perf_counter() - started)


async def rebuild(store: PostgresEventStore, codec: EventCodec) -> float:
    started = time.perf_counter()
    read = await projector.rebuild_all(store, codec, models(), batch=10_000)
    return read / (time.perf_counter() - started)


async def reads(store: PostgresEventStore, codec: EventCodec, ids: list) -> float:  # type: ignore[type-arg]
    files = PgFileRepository(store, codec)
    started = time.perf_counter()
    for file_id in ids:
        await files.get(file_id)
    return len(ids) / (time.perf_counter() - started)


async def spot_check(store: PostgresEventStore, codec: EventCodec, sample: int) -> float:
    started = time.perf_counter()
    spot = await run_spot_check(
        store=store,
        codec=codec,
        actor=INSPECTOR,
        request=Request(scope="13", as_of=TODAY, seed=7, sample=sample),
    )
    return len(spot.sample) / (time.perf_counter() - started)


async def run(args: argparse.Namespace, url: str) -> bool:
    sides: dict[str, tuple[PostgresEventStore, EventCodec]] = {}
    names = {"encrypted": "bfbench_enc_sealed", "clear": "bfbench_enc_clear"}
    try:
        for side, database in names.items():
            await admin(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            await admin(url, f'CREATE DATABASE "{database}"')
            pool = await open_pool(with_database(url, database), size=4)
            async with pool.acquire() as conn:
                await migrate(conn)
            store, codec = (
                encrypting(pool)
                if side == "encrypted"
                else (PostgresEventStore(pool), EventCodec())
            )
            files = PgFileRepository(store, codec)
            events = await demo.build(
                files=files, clock=FixedClock(TODAY), count=args.files, seed=2020, bulk=True
            )
            await pool.execute("VACUUM (ANALYZE) events")
            await projector.rebuild_all(store, codec, models())
            print(f"{side}: {args.files:,} files, {events:,} events", flush=True)
            sides[side] = (store, codec)
        ids = [
            r[0]
            for r in await sides["clear"][0].pool.fetch(
                "SELECT stream_id FROM events WHERE type = 'household.applied'"
            )
        ]
        sample = random.Random(1).sample(ids, min(500, len(ids)))
        measures = {
            "raw read + decode (events/s)": raw,
            "rebuild_all (events/s)": rebuild,
            "file reads, no file cache (files/s)": lambda s, c: reads(s, c, sample),
            "spot-check of 500 files (files/s)": lambda s, c: spot_check(s, c, 500),
        }
        ratios: dict[str, list[float]] = {name: [] for name in measures}
        rates: dict[str, dict[str, list[float]]] = {
            name: {"encrypted": [], "clear": []} for name in measures
        }
        for number in range(args.rounds):
            order = ["encrypted", "clear"] if number % 2 == 0 else ["clear", "encrypted"]
            for name, measure in measures.items():
                got = {}
                for side in order:
                    store, codec = sides[side]
                    cold(store)
                    got[side] = await measure(store, codec)
                    rates[name][side].append(got[side])
                ratios[name].append(got["encrypted"] / got["clear"])
                print(
                    f"round {number + 1}/{args.rounds}  {name:<38} encrypted"
                    f" {got['encrypted']:>9,.0f}  clear {got['clear']:>9,.0f}"
                    f"  ratio {ratios[name][-1]:.2f}",
                    flush=True,
                )
    finally:
        for store, _ in sides.values():
            await store.pool.close()
        for database in names.values():
            await admin(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    print()
    print(f"{args.files:,} files; {args.rounds} rounds; medians")
    print()
    print("| measurement | encrypted | clear | encrypted / clear (median of rounds) | each round |")
    print("|---|---:|---:|---:|---|")
    met = True
    for name, each in ratios.items():
        ratio = statistics.median(each)
        met = met and ratio >= TARGET
        print(
            f"| {name} | {statistics.median(rates[name]['encrypted']):,.0f}"
            f" | {statistics.median(rates[name]['clear']):,.0f} | {ratio:.2f}"
            f" | {', '.join(f'{r:.2f}' for r in each)} |"
        )
    print()
    print(f"target every ratio ≥ {TARGET}: {'MET' if met else 'MISSED'}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 files, 3 rounds")
    parser.add_argument("--files", type=int, help="files in the province (default 8,000)")
    parser.add_argument("--rounds", type=int, help="rounds (default 5)")
    args = parser.parse_args(argv)
    args.files = args.files or (2_000 if args.quick else 8_000)
    args.rounds = args.rounds or (3 if args.quick else 5)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with server() as url:
        return 0 if asyncio.run(run(args, url)) else 1


if __name__ == "__main__":
    sys.exit(main())
