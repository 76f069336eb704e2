"""Bulk import speed: `adapters.importer.import_files` of an xlsx of valid files, beside raw COPY
of the same event rows — in one run, on one server.

    .venv/bin/python bench/import.py             # 100,000 files (400,000 events), 3 rounds
    .venv/bin/python bench/import.py --quick     # 10,000 files, 1 round

Starts a private PostgreSQL (pgserver) in a fresh folder under /tmp, or uses the server of
BANGFU_BENCH_DATABASE_URL (a superuser URL: two databases are created and dropped on it).

The sheet is made once (untimed): two title lines, the importer's headers, `--files` valid rows,
each a distinct person with the whole history (application, investigation, appraisal with its
publicity, approval: four events a file). Each round:

  import   a fresh database (migrated, the region's poverty line set), then `import_files` of the
           sheet's bytes, timed from the bytes to the last batch saved: reading the xlsx, building
           every file through the domain's commands (in worker processes, one per CPU, as the
           importer does for a sheet this large; `--workers N` to choose), the existence check,
           COPY (`append_bulk`), the worker processes' start included.
  raw      a second fresh database, then the very event rows the import wrote (read back: same
           ids, types, payloads, hashes) COPYed with `adapters.pg.store.copy_events`, in batches
           of the importer's size (`SAVE_BATCH` files' events), one transaction each.

Target: import ≥ 20,000 events/s. Figures are medians of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import structlog
from common import admin, encrypting, server, with_database
from openpyxl import Workbook

from adapters.pg.migrations import migrate
from adapters.pg.policies import PgPolicies
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import NewEvent, copy_events
from adapters.runtime.bootstrap import open_pool
from adapters.services import importer
from domain.idnumber import make_id_number
from domain.policy import Parameters
from domain.values import Actor, Role

DATABASE = "bfbench_import"
RAW_DATABASE = "bfbench_import_raw"
NAME = ["files.xlsx"]
TODAY = date(2026, 6, 30)
TARGET = 20_000
BASE = "130306001"
APPROVER = Actor("bench-approver", "130306", Role.APPROVER)
HEADERS = [
    "户主姓名", "身份证号码", "联系电话", "工作单位", "家庭地址", "申请时间", "入户调查时间",
    "调查人", "家庭年收入", "刚性支出", "致困原因", "评议时间", "公示开始", "公示结束",
    "审批时间", "档案级别",
]  # fmt: skip


class _CsvSheet:
    def __init__(self, writer: Any) -> None:
        self.append = writer.writerow


def sheet(files: int, *, as_csv: bool = False) -> bytes:
    """An xlsx (openpyxl's write-only mode: inline strings) or a UTF-8 csv of `files` valid rows
    under two title lines and the importer's headers."""
    if as_csv:
        text = io.StringIO()
        ws: Any = _CsvSheet(csv.writer(text))
    else:
        book = Workbook(write_only=True)
        ws = book.create_sheet("档案")
    ws.append(["抚宁区困难职工档案（导入）"])
    ws.append([f"填报单位：{BASE}"])
    ws.append(HEADERS)
    first = date(1960, 1, 1)
    for i in range(files):
        number = make_id_number("130306", first + timedelta(days=i // 997), i % 997).value
        ws.append([
            f"王{i}", number, "13912345678", "抚宁区机械厂", f"骊城大街{i % 500 + 1}号",
            "2023-03-02", "2023-03-09", "赵一、钱二", "9600", "1200", "因病、因残",
            "2023-03-12", "2023-03-13", "2023-03-20", "2023-03-25", "区县级",
        ])  # fmt: skip
    if as_csv:
        return text.getvalue().encode()
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def fresh(url: str, name: str) -> asyncpg.Pool:
    await admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin(url, f'CREATE DATABASE "{name}"')
    pool = await open_pool(with_database(url, name), size=4)
    async with pool.acquire() as conn:
        await migrate(conn)
    return pool


@dataclass
class Round:
    import_s: float
    events: int
    created: int
    refused: int
    raw_s: float
    raw_events: int

    @property
    def import_rate(self) -> float:
        return self.events / self.import_s

    @property
    def raw_rate(self) -> float:
        return self.raw_events / self.raw_s


async def one_round(url: str, data: bytes, profile: bool, workers: int | None) -> Round:
    pool = await fresh(url, DATABASE)
    try:
        store, codec = encrypting(pool)
        policies = PgPolicies(store, codec)
        await policies.set_parameters(
            actor=Actor("bench-admin", "13", Role.ADMIN),
            region="130300",
            parameters=Parameters(date(2015, 1, 1), Decimal("550")),
            reason="bench",
        )
        book = await policies.book()
        profiler = None
        if profile:
            import cProfile  # noqa: PLC0415

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        result = await importer.import_files(
            files=PgFileRepository(store, codec),
            codec=codec,
            book=book,
            actor=APPROVER,
            unit=BASE,
            data=data,
            name=NAME[0],
            today=TODAY,
            workers=workers,
        )
        import_s = time.perf_counter() - started
        if result.refused:
            print("refused, e.g.:", result.refused[:3], flush=True)
        if profiler is not None:
            import pstats  # noqa: PLC0415

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        rows = await pool.fetch(
            "SELECT stream_id, version, type, payload, recorded_at, unit, hash, refers_to"
            " FROM events WHERE type LIKE 'household.%' ORDER BY position"
        )
    finally:
        await pool.close()
    events = [NewEvent(*r) for r in rows]
    per_batch = importer.SAVE_BATCH * 4
    raw_pool = await fresh(url, RAW_DATABASE)
    try:
        started = time.perf_counter()
        for i in range(0, len(events), per_batch):
            async with raw_pool.acquire() as conn, conn.transaction():
                await copy_events(conn, events[i : i + per_batch])
        raw_s = time.perf_counter() - started
    finally:
        await raw_pool.close()
    return Round(import_s, result.events, result.created, len(result.refused), raw_s, len(events))


def report(rounds: list[Round], *, files: int, sheet_s: float, size: int, version: str) -> bool:
    def each(values: list[float], fmt: str = ",.0f") -> str:
        return ", ".join(format(v, fmt) for v in values)

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = "?"
    print()
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {commit}; {os.cpu_count()} CPUs;"
        f" Python {platform.python_version()}; {version}"
    )
    print(
        f"sheet: {files:,} rows, {size / 1e6:.1f} MB {NAME[0]},"
        f" written in {sheet_s:.1f} s (untimed);"
        f" created {rounds[0].created:,} files, {rounds[0].events:,} events,"
        f" refused {rounds[0].refused}; rounds: {len(rounds)}"
    )
    imp = [r.import_rate for r in rounds]
    raw = [r.raw_rate for r in rounds]
    ratio = [r.import_rate / r.raw_rate for r in rounds]
    print()
    print("| measurement | events/s (median) | seconds (median) | each round (events/s) |")
    print("|---|---:|---:|---|")
    print(f"| import_files (xlsx → domain → save_many) | {statistics.median(imp):,.0f}"
          f" | {statistics.median(r.import_s for r in rounds):.1f} | {each(imp)} |")  # fmt: skip
    print(f"| raw: copy_events of the same rows | {statistics.median(raw):,.0f}"
          f" | {statistics.median(r.raw_s for r in rounds):.1f} | {each(raw)} |")  # fmt: skip
    print(f"| import / raw (context) | {statistics.median(ratio):.3f} | | {each(ratio, '.3f')} |")
    met = statistics.median(imp) >= TARGET
    print()
    print("| target | measured (median) | required | met |")
    print("|---|---:|---:|---|")
    print(
        f"| import ≥ {TARGET:,} events/s | {statistics.median(imp):,.0f} | {TARGET:,}"
        f" | {'MET' if met else 'MISSED'} |"
    )
    return met


async def run(args: argparse.Namespace, url: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        version = str(await conn.fetchval("SELECT version()")).split(" on ")[0]
    finally:
        await conn.close()
    print(f"server: {version}; writing a sheet of {args.files:,} files", flush=True)
    started = time.perf_counter()
    data = sheet(args.files, as_csv=args.csv)
    sheet_s = time.perf_counter() - started
    print(f"sheet written in {sheet_s:.1f} s ({len(data) / 1e6:.1f} MB)", flush=True)
    rounds = []
    try:
        for n in range(args.rounds):
            result = await one_round(url, data, args.profile and n == 0, args.workers)
            print(
                f"round {n + 1}: import {result.import_s:.1f} s ({result.import_rate:,.0f}"
                f" events/s), raw {result.raw_s:.1f} s ({result.raw_rate:,.0f} events/s)",
                flush=True,
            )
            rounds.append(result)
    finally:
        await admin(url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin(url, f'DROP DATABASE IF EXISTS "{RAW_DATABASE}" WITH (FORCE)')
    return report(rounds, files=args.files, sheet_s=sheet_s, size=len(data), version=version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 files, 1 round")
    parser.add_argument("--files", type=int, help="rows of the sheet (default 100,000)")
    parser.add_argument("--rounds", type=int, help="rounds (default 3; 1 with --quick)")
    parser.add_argument("--csv", action="store_true", help="a UTF-8 csv instead of an xlsx")
    parser.add_argument("--profile", action="store_true", help="cProfile the first import")
    parser.add_argument(
        "--workers", type=int, help="processes building the files (default: the importer's)"
    )
    args = parser.parse_args(argv)
    args.files = args.files or (10_000 if args.quick else 100_000)
    args.rounds = args.rounds or (1 if args.quick else 3)
    NAME[0] = "files.csv" if args.csv else "files.xlsx"

    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with server() as url:
        met = asyncio.run(run(args, url))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
