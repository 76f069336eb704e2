"""A rebuild's peak memory and rate on demo data folders of two (or more) sizes, beside the raw
rate of reading and decoding the same log in the same run.

    BANGFU_DATA_DIR=/tmp/rb-5k  .venv/bin/bangfu demo --files 5000 --bulk     # the folders
    BANGFU_DATA_DIR=/tmp/rb-40k .venv/bin/bangfu demo --files 40000 --bulk
    .venv/bin/python bench/rebuild_memory.py /tmp/rb-5k /tmp/rb-40k --rounds 3
    .venv/bin/python bench/rebuild_memory.py /tmp/rb-5k --code ../main   # another tree's rebuild
    .venv/bin/python bench/rebuild_memory.py /tmp/rb-5k /tmp/rb-40k --files 2500   # its batches

For each folder (its embedded PostgreSQL joined, its keys read), `--rounds` times, alternating
which goes first:

  raw       `PostgresEventStore.read_log` in batches of 10,000 + `EventCodec.decode_fields` of
            every event, with no data key unwrapped at the start (as bench/growth.py's baseline);
  rebuild   `bangfu projections rebuild` (every read model) in its own process: events/s over
            the process's whole run, and its peak resident memory (its VmHWM, read every 0.1 s
            until it exits; the last 0.1 s of a run may be missed).

It prints medians per folder, the rebuild's share of raw, its peak RSS and that per file, and
how the peak grows from the smallest folder to the largest: bounded memory is a flat peak.
Results: docs/benchmarks.md ("Growth", rebuild memory).
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import time
import warnings
from pathlib import Path

import asyncpg

from adapters.pg.codec import EventCodec
from adapters.pg.store import START, PostgresEventStore
from adapters.pii.keyring import Keyring
from adapters.runtime.secrets import load_pii_keys

ROOT = Path(__file__).resolve().parent.parent


def rebuild(folder: Path, code: Path, files: int | None) -> tuple[float, int]:
    """`bangfu projections rebuild` (of the tree `code`) on the folder: seconds and peak RSS in
    bytes."""
    env = {**os.environ, "BANGFU_DATA_DIR": str(folder), "BANGFU_LOG_JSON": "1"}
    env.pop("BANGFU_DATABASE_URL", None)
    started = time.perf_counter()
    log = (folder / "rebuild.log").open("ab")  # the CLI's output, kept beside its data
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "adapters.cli",
            "projections",
            "rebuild",
            *(() if files is None else ("--files", str(files))),
        ],
        cwd=code,  # `-m` imports from the working directory first: that tree's code
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # The process's own high-water mark (VmHWM only grows), read until it exits, once it runs
    # the CLI: until its exec the child is a fork of this process, whose pages it counts
    # (`ru_maxrss` of wait4 keeps that fork's peak across the exec: this process's size).
    peak = 0
    proc = Path(f"/proc/{child.pid}")
    while child.poll() is None:
        with contextlib.suppress(OSError, IndexError):  # gone, or a zombie
            if b"adapters.cli" in (proc / "cmdline").read_bytes():
                status = (proc / "status").read_text()
                peak = max(peak, int(status.split("VmHWM:")[1].split()[0]) * 1024)
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    log.close()
    if child.returncode:
        raise RuntimeError(f"rebuild failed with {child.returncode}: see {log.name}")
    return seconds, peak


async def raw(store: PostgresEventStore, codec: EventCodec, keyring: Keyring) -> tuple[int, float]:
    keyring.clear()
    started = time.perf_counter()
    cursor, read = START, 0
    async with store.pool.acquire() as conn:
        while batch := await store.read_log(cursor, 10_000, conn=conn):
            for event in batch:
                codec.decode_fields(event.type, event.payload, event.stream_id)
            read += len(batch)
            cursor = batch[-1].cursor
    return read, time.perf_counter() - started


async def measure(folder: Path, rounds: int, code: Path, files: int | None) -> dict[str, float]:
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    from pgserver.postgres_server import get_server  # noqa: PLC0415

    server = get_server(folder / "pg", cleanup_mode="stop")
    try:
        pool = await asyncpg.create_pool(
            f"postgresql://postgres@/postgres?host={folder / 'pg'}", min_size=1, max_size=2
        )
        keyring = Keyring(pool, load_pii_keys(None, folder))
        store, codec = PostgresEventStore(pool, keyring=keyring), EventCodec(keyring=keyring)
        events = int(await pool.fetchval("SELECT count(*) FROM events"))
        households = int(
            await pool.fetchval(
                "SELECT count(*) FROM events WHERE version = 1 AND type = 'household.applied'"
            )
        )
        raws, rates, peaks = [], [], []
        for r in range(rounds):
            order = ("raw", "rebuild") if r % 2 == 0 else ("rebuild", "raw")
            for what in order:
                if what == "raw":
                    read, seconds = await raw(store, codec, keyring)
                    raws.append(read / seconds)
                else:
                    seconds, peak = rebuild(folder, code, files)
                    rates.append(events / seconds)
                    peaks.append(peak)
            print(
                f"{folder.name}: round {r + 1}: rebuild {rates[-1]:,.0f} events/s,"
                f" peak {peaks[-1] / 2**20:,.0f} MB; raw {raws[-1]:,.0f} events/s",
                flush=True,
            )
        await pool.close()
    finally:
        server.cleanup()
    return {
        "files": households,
        "events": events,
        "rate": statistics.median(rates),
        "raw": statistics.median(raws),
        "peak": statistics.median(peaks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="demo data folders, smallest first")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="the tree whose rebuild runs (before/after)"
    )
    parser.add_argument(
        "--files", type=int, default=None, help="the rebuild's files per batch (its default)"
    )
    args = parser.parse_args()
    results = [asyncio.run(measure(f, args.rounds, args.code, args.files)) for f in args.folders]
    print(
        "\n| files | events | rebuild events/s | raw events/s | share of raw | peak RSS |"
        " per file |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for m in results:
        print(
            f"| {m['files']:,.0f} | {m['events']:,.0f} | {m['rate']:,.0f} | {m['raw']:,.0f} |"
            f" {m['rate'] / m['raw']:.2f}× | {m['peak'] / 2**20:,.0f} MB |"
            f" {m['peak'] / m['files'] / 1024:.1f} KB |"
        )
    first, last = results[0], results[-1]
    print(
        f"\nfrom {first['files']:,.0f} to {last['files']:,.0f} files: rate"
        f" {last['rate'] / first['rate']:.2f}×, peak RSS {last['peak'] / first['peak']:.2f}×"
        f" (medians of {args.rounds} rounds; a shared, noisy machine)"
    )


if __name__ == "__main__":
    main()
