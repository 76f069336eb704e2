"""The whole-province ledger.xlsx, written as the export writes it, beside its two baselines.

    .venv/bin/python bench/xlsx.py [--size 3m] [--unit 13] [--rounds 5] [--data FOLDER]

On a size of `bench/growth.py`'s cache (default `3m`: the 200,000-file province of issue 18;
its cluster is started if it is not running), in one process, rounds alternating:

  raw          every row of the export's statement through the same server-side cursor in
               batches of 2,000 (`reads.ledger_rows`), nothing written: the floor
  cells        `write_ledger` with each row's cells made one by one, `_cell` of each of
               `ledger_cells` (labels cached): the writer before its per-column fast path
               (`_row_xml`); this replaces `uncached` (`labelled` unwrapped), which the
               fast path's cached cells made a no-op
  export       `write_ledger` as it is (the per-column fast path, finished cells cached)
  overlapped   the next batch read while the last is written (tried on 2026-12-03, kept here
               as the measurement that turned it down)

Each to a temporary file; the median seconds of the rounds and each's ratio to the raw read.
The HTTP export (`GET /ledger.xlsx`, the server's memory) is `bench/growth.py`'s. Results:
docs/benchmarks.md, "Growth".
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, _HERE)

from growth import Cache


async def main(args: argparse.Namespace) -> int:
    from adapters.pg import reads  # noqa: PLC0415
    from adapters.sheets import ledger as exports  # noqa: PLC0415

    cache = Cache(Path(args.data))
    cache.start()
    try:
        pool = await asyncpg.create_pool(cache.db_url(args.size), min_size=1, max_size=2)
        try:
            return await measured(args, pool, reads, exports)
        finally:
            await pool.close()
    finally:
        cache.stop()


async def measured(args: argparse.Namespace, pool: asyncpg.Pool, reads: Any, exports: Any) -> int:
    where = reads.LedgerFilter(root=args.unit)

    def rows() -> object:
        return reads.ledger_rows(pool, where)

    async def raw() -> int:
        return sum([len(batch) async for batch in rows()])  # type: ignore[attr-defined]

    async def export() -> int:
        with tempfile.TemporaryFile() as out:
            return int(await exports.write_ledger(rows(), out))

    async def cells() -> int:  # each row's cells one by one through `_cell`
        fast = exports._row_xml
        exports._row_xml = lambda number, row: "".join(
            map(exports._cell, exports.ledger_cells(number, row))
        )
        try:
            return await export()
        finally:
            exports._row_xml = fast

    async def overlapped() -> int:  # the next batch read while the last is written
        with tempfile.TemporaryFile() as out:
            book = exports.LedgerWorkbook(out)
            writing = None
            async for batch in rows():  # type: ignore[attr-defined]
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(asyncio.to_thread(book.append, batch))
            if writing is not None:
                await writing
            await asyncio.to_thread(book.close)
            return int(book.rows)

    ways: dict[str, Callable[[], Awaitable[int]]] = {
        "raw": raw, "cells": cells, "export": export, "overlapped": overlapped,
    }  # fmt: skip
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    counted = dict.fromkeys(ways, 0)
    await raw()  # warm the cache
    for r in range(args.rounds):
        order = list(ways) if r % 2 == 0 else list(reversed(ways))
        for name in order:
            started = time.perf_counter()
            counted[name] = await ways[name]()
            seconds[name].append(time.perf_counter() - started)
        print(f"round {r + 1}: " + ", ".join(f"{n} {seconds[n][-1]:.2f} s" for n in ways),
              flush=True)  # fmt: skip
    floor = statistics.median(seconds["raw"])
    print(f"\n{counted['raw']:,} rows of {args.unit} at {args.size}, median of {args.rounds}:")
    for name in ways:
        median = statistics.median(seconds[name])
        print(
            f"  {name:<11} {median:6.2f} s  {counted[name] / median:9,.0f} rows/s"
            f"  {median / floor:5.2f}× raw"
        )
    now = statistics.median(seconds["export"])
    for other in ("cells", "overlapped"):
        print(f"  export / {other}: {now / statistics.median(seconds[other]):.2f}× the time")
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="3m", help="a size of bench/growth.py's cache")
    parser.add_argument("--unit", default="13", help="the subtree exported")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--data", default=os.environ.get("BANGFU_GROWTH_DATA", "/work/growthdata"),
        help="bench/growth.py's cache folder",
    )  # fmt: skip
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
