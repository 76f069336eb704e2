"""Rebuild rate of every read model, beside the raw rate of reading and decoding the same log.

    .venv/bin/python bench/rebuild.py                 # 1,000,000 events (the build takes minutes)
    .venv/bin/python bench/rebuild.py --quick         # about 50,000 events, 1 round
    .venv/bin/python bench/rebuild.py --events 200000 --rounds 2

Starts a private PostgreSQL (pgserver) in a fresh folder under /tmp, or uses the server of
BANGFU_BENCH_DATABASE_URL (a superuser URL: one database is created and dropped on it). Builds a
demo province of at least `--events` events through the domain's commands and the store's bulk
COPY path (`adapters.demo.build(..., bulk=True)`), VACUUM ANALYZEs the log and reads it once to
warm the cache; then, `--rounds` times, back to back:

  raw       `PostgresEventStore.read_log` in batches of 10,000 (the commit-safe order every
            projection reads in) + `EventCodec.decode_fields` of every event: the floor a
            projection pass cannot beat in this process;

Personal data is encrypted as the service stores it (`common.encrypting`); every timed pass but
the floor starts with no data key unwrapped (`common.cold`), as a freshly started process.
  floor     (context, no target) the same rows through one server-side cursor in the log's
            index order (`ORDER BY events.xid, events.position`) + `decode_fields`: what
            PostgreSQL and the codec can deliver when nothing but the order is asked for;
  rebuild   `adapters.pg.projector.rebuild` of each read model of `adapters.bootstrap.read_models`
            in turn (shadow tables filled in memory, COPYed out, indexed, swapped in);
  one read  only if the projector offers `rebuild_all` (every read model from ONE read of the
            log): that, for all read models at once.

`rebuild` reads the whole log once per read model, so two rates are reported:
  per pass      events read by all passes / their total seconds (each pass against raw);
  whole log     log events / seconds to rebuild every read model: how fast the log becomes all
                its read models — by `rebuild_all` when the projector has it, else by the
                `rebuild` passes one after another.
Targets (both rates; absolute and ratio on the medians of the rounds): ≥ 40,000 events/s, and
≥ 1/5 of raw.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import math
import os
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import structlog
from common import FixedClock, admin, cold, encrypting, server, with_database

from adapters.pg import projector
from adapters.pg.codec import EventCodec
from adapters.pg.migrations import migrate
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import START, PostgresEventStore
from adapters.runtime.bootstrap import open_pool, read_models
from adapters.services import demo
from domain.privacy import keyed_hash

DATABASE = "bfbench_rebuild"
TODAY = date(2026, 6, 30)
HASH_KEY = b"bench-rebuild-hash-key-" + b"h" * 16
READ_BATCH = 10_000
EVENTS_PER_FILE = 13.5  # the demo's lifecycles average about 14 events a file
FILES_PER_CHUNK = 10_000
TARGET_RATE = 40_000.0
TARGET_SHARE = 0.2


# ---------------------------------------------------------------------------- the province


async def build(store: PostgresEventStore, codec: EventCodec, events: int) -> int:
    """Demo files in chunks (a seed each) until the log holds at least `events` events."""
    files = PgFileRepository(store, codec)
    written, seed, started = 0, 2020, time.perf_counter()
    while written < events:
        count = min(FILES_PER_CHUNK, max(100, math.ceil((events - written) / EVENTS_PER_FILE)))
        written += await demo.build(
            files=files, clock=FixedClock(TODAY), count=count, seed=seed, bulk=True
        )
        seed += 1
        elapsed = time.perf_counter() - started
        print(
            f"  built {written:>10,} events ({written / elapsed:,.0f} events/s, {elapsed:.0f} s)",
            flush=True,
        )
    return written


# ---------------------------------------------------------------------------- the measurements


async def read_and_decode(store: PostgresEventStore, codec: EventCodec) -> tuple[int, float]:
    """The raw pass: the whole log in commit-safe order, every payload decoded; (events, s)."""
    decode = codec.decode_fields
    read, cursor = 0, START
    started = time.perf_counter()
    async with store.pool.acquire() as conn:
        while events := await store.read_log(cursor, READ_BATCH, conn=conn):
            for event in events:
                decode(event.type, event.payload, event.stream_id)
            read += len(events)
            cursor = events[-1].cursor
    return read, time.perf_counter() - started


FLOOR = (
    "SELECT position, xid::text::bigint, stream_id, version, type, payload, recorded_at, unit,"
    " hash, refers_to FROM events ORDER BY events.xid, events.position"
)


async def cursor_and_decode(store: PostgresEventStore, codec: EventCodec) -> tuple[int, float]:
    """The floor: every event through one server-side cursor in log order, decoded; (events, s)."""
    decode = codec.decode_fields
    read = 0
    started = time.perf_counter()
    async with store.pool.acquire() as conn, conn.transaction(readonly=True):
        async for row in conn.cursor(FLOOR, prefetch=READ_BATCH):
            decode(row[4], row[5], row[2])  # the data keys: loaded by the raw pass before
            read += 1
    return read, time.perf_counter() - started


@dataclass
class Round:
    raw_events: int
    raw_seconds: float
    floor: float = 0.0
    passes: dict[str, tuple[int, float]] = field(default_factory=dict)  # name → (events, s)
    one_read: float | None = None  # seconds of `rebuild_all`, when the projector has it

    @property
    def raw(self) -> float:
        return self.raw_events / self.raw_seconds

    @property
    def per_pass(self) -> float:
        return sum(n for n, _ in self.passes.values()) / sum(s for _, s in self.passes.values())

    @property
    def passes_whole_log(self) -> float:
        return self.raw_events / sum(s for _, s in self.passes.values())

    @property
    def whole_log(self) -> float:
        if self.one_read is not None:
            return self.raw_events / self.one_read
        return self.passes_whole_log


async def measure(store: PostgresEventStore, codec: EventCodec, rounds: int) -> list[Round]:
    hasher = lambda number: keyed_hash(HASH_KEY, number)  # noqa: E731 — the bootstrap's shape
    rebuild_all = getattr(projector, "rebuild_all", None)
    results = []
    for number in range(1, rounds + 1):
        say = functools.partial(print, f"round {number}/{rounds} ")
        cold(store)  # each pass below starts without a data key, as a fresh process does
        read, seconds = await read_and_decode(store, codec)
        result = Round(read, seconds)
        say(f"raw read + decode        {result.raw:>10,.0f} events/s")
        read, seconds = await cursor_and_decode(store, codec)
        result.floor = read / seconds
        say(f"floor cursor + decode    {result.floor:>10,.0f} events/s")
        for model in read_models(hasher):
            cold(store)
            started = time.perf_counter()
            events = await projector.rebuild(store, codec, model, batch=READ_BATCH)
            elapsed = time.perf_counter() - started
            result.passes[model.name] = (events, elapsed)
            say(f"rebuild {model.name:<16} {events / elapsed:>10,.0f} events/s ({elapsed:.1f} s)")
        say(f"rebuild passes, whole log {result.passes_whole_log:>9,.0f} events/s")
        if rebuild_all is not None:
            cold(store)
            started = time.perf_counter()
            await rebuild_all(store, codec, read_models(hasher), batch=READ_BATCH)
            result.one_read = time.perf_counter() - started
            say(f"rebuild_all, whole log   {result.whole_log:>10,.0f} events/s")
        results.append(result)
    return results


# ---------------------------------------------------------------------------- report


def report(results: list[Round], version: str, build_seconds: float) -> bool:
    """Print the figures as Markdown; True when every target is met."""
    first = results[0]
    names = list(first.passes)

    def med(values: list[float]) -> float:
        return statistics.median(values)

    def each(values: list[float], fmt: str = ",.0f") -> str:
        return ", ".join(format(v, fmt) for v in values)

    print()
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs;"
        f" Python {platform.python_version()}; {version}"
    )
    print(
        f"log: {first.raw_events:,} events (built in {build_seconds:.0f} s);"
        f" rounds: {len(results)}; read batches of {READ_BATCH:,}"
    )
    print()
    print("| measurement | events/s (median) | each round |")
    print("|---|---:|---|")
    raw = [r.raw for r in results]
    print(f"| raw: read_log + decode_fields | {med(raw):,.0f} | {each(raw)} |")
    floor = [r.floor for r in results]
    print(
        f"| context: one cursor in log order + decode_fields | {med(floor):,.0f} | {each(floor)} |"
    )
    for name in names:
        rates = [r.passes[name][0] / r.passes[name][1] for r in results]
        print(f"| rebuild `{name}` (one pass over the log) | {med(rates):,.0f} | {each(rates)} |")
    per_pass = [r.per_pass for r in results]
    print(
        f"| `rebuild` passes: events of all passes / their total s | {med(per_pass):,.0f}"
        f" | {each(per_pass)} |"
    )
    passes_whole = [r.passes_whole_log for r in results]
    print(
        f"| `rebuild` passes: log events / their total s | {med(passes_whole):,.0f}"
        f" | {each(passes_whole)} |"
    )
    whole = [r.whole_log for r in results]
    if first.one_read is not None:
        print(
            f"| `rebuild_all`, one read of the log: log events / s | {med(whole):,.0f}"
            f" | {each(whole)} |"
        )
    print()
    print("| target | measured (median) | each round | required | met |")
    print("|---|---:|---|---:|---|")
    all_met = True
    whole_label = "whole log (rebuild_all)" if first.one_read is not None else "whole log"
    for label, rates in (("per pass", per_pass), (whole_label, whole)):
        shares = [rate / r.raw for rate, r in zip(rates, results, strict=True)]
        for name, value, values, required, fmt in (
            (f"rebuild {label} ≥ 40,000 events/s", med(rates), rates, TARGET_RATE, ",.0f"),
            (f"rebuild {label} ≥ 1/5 of raw", med(shares), shares, TARGET_SHARE, ".2f"),
        ):
            met = value >= required
            all_met &= met
            print(
                f"| {name} | {value:{fmt}} | {each(values, fmt)} | {required:{fmt}} |"
                f" {'MET' if met else 'MISSED'} |"
            )
    print()
    print("all targets met" if all_met else "SOME TARGETS MISSED")
    return all_met


async def run(args: argparse.Namespace, url: str) -> bool:
    await admin(url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    await admin(url, f'CREATE DATABASE "{DATABASE}"')
    try:
        pool = await open_pool(with_database(url, DATABASE), size=4)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
                version = str(await conn.fetchval("SELECT version()")).split(" on ")[0]
            store, codec = encrypting(pool)
            print(f"server: {version}; building a province of ≥ {args.events:,} events", flush=True)
            started = time.perf_counter()
            await build(store, codec, args.events)
            build_seconds = time.perf_counter() - started
            await pool.execute("VACUUM (ANALYZE) events")
            await read_and_decode(store, codec)  # warm-up: the cache, hint bits, the codec
            results = await measure(store, codec, args.rounds)
        finally:
            await pool.close()
    finally:
        await admin(url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return report(results, version, build_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 50,000 events, 1 round")
    parser.add_argument("--events", type=int, help="at least this many events (default 1,000,000)")
    parser.add_argument("--rounds", type=int, help="rounds of every measurement (default 3)")
    args = parser.parse_args(argv)
    args.events = args.events or (50_000 if args.quick else 1_000_000)
    args.rounds = args.rounds or (1 if args.quick else 3)

    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress as it comes
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with server() as url:
        met = asyncio.run(run(args, url))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
