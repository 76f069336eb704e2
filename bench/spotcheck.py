"""Spot-check speed: replaying one 30-event file, and spot-checking 1,000 files of a province,
beside the raw time to read the same files' events — in one run, on one server.

    .venv/bin/python bench/spotcheck.py            # 5,000-file province, 3 rounds (~2 minutes)
    .venv/bin/python bench/spotcheck.py --quick    # 1,500-file province, 1 round

Starts a private PostgreSQL (pgserver) in a fresh folder under /tmp, or uses the server of
BANGFU_BENCH_DATABASE_URL (a superuser URL: one database is created and dropped on it). Builds a
demo province through the domain's commands and the bulk path (`adapters.demo.build(bulk=True)`),
seeds the demo regions' parameters (`seed_demo_policies`) and brings the ledger up to date
(`ProjectionRunner.catch_up`); then measures:

  replay    one file of exactly 30 events, built with the domain's commands and stored: its
            events read once, then, `--reps` times each (after a warm-up), timed one by one:
              decode + history_of + check         the target: p99 ≤ 1 ms
              + hash chain + drift                what a spot-check does per file (context)
              + read_stream from the database     the same, reading the file each time (context)
  spot-check `--rounds` times, back to back, order alternating: `run_spot_check` of a 1,000-file
            sample of the province (a new seed each round: frame, policies, people, events,
            every rule, drift, and the spot-check's own events written), beside raw
            `store.read_stream` of the same 1,000 files one by one. Target: ≤ 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

import structlog
from common import FixedClock, admin, cold, encrypting, server, with_database

from adapters.pg.codec import EventCodec
from adapters.pg.migrations import migrate
from adapters.pg.policies import PgPolicies, seed_demo_policies
from adapters.pg.projector import ProjectionRunner
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore, StoredEvent
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.bootstrap import open_pool, read_models
from adapters.services import demo
from adapters.services.spotcheck import Request, check_file, run_spot_check
from domain.eligibility import Exclusions
from domain.household import Head, HouseholdFile, Member
from domain.idnumber import make_id_number
from domain.policy import Parameters
from domain.privacy import keyed_hash
from domain.rules import Context, check, history_of
from domain.spotcheck import FrameRow, Strata, draw
from domain.values import (
    Actor,
    AssistanceKind,
    Cause,
    Department,
    FileLevel,
    Material,
    MemberStatus,
    Relation,
    Role,
    WorkerKind,
)

DATABASE = "bfbench_spotcheck"
TODAY = date(2026, 6, 30)
HASH_KEY = b"bench-spotcheck-hash-key-" + b"h" * 16
SAMPLE = 1_000
EVENTS = 30
TARGET_P99_MS = 1.0
TARGET_CHECK_S = 2.0
CLERK = Actor("bench-clerk", "130306001", Role.CLERK)
APPROVER = Actor("bench-approver", "130306", Role.APPROVER)
INSPECTOR = Actor("bench-inspector", "13", Role.INSPECTOR)

# the regional parameters in force, as the use case would hand them to the commands
IN_FORCE = Parameters(date(2015, 1, 1), Decimal("735"))


# ---------------------------------------------------------------------------- the data


async def province(store: PostgresEventStore, codec: EventCodec, files: int) -> tuple[int, float]:
    """The demo province, its regions' parameters and its ledger; (events, seconds)."""
    started = time.perf_counter()
    await PgUnitDirectory(store.pool).load(demo.units())
    events = await demo.build(
        files=PgFileRepository(store, codec), clock=FixedClock(TODAY), count=files, bulk=True
    )
    await seed_demo_policies(PgPolicies(store, codec))
    runner = ProjectionRunner(
        store, codec, read_models(lambda n: keyed_hash(HASH_KEY, n)), batch=10_000
    )
    await runner.catch_up()
    await store.pool.execute("VACUUM (ANALYZE)")
    return events, time.perf_counter() - started


def thirty_events() -> HouseholdFile:
    """A file of exactly 30 events, made by the domain's commands: the review, a plan, then a
    year and a half of assistance, visits and re-checks."""
    head = Head(name="张𠀀", id_number=make_id_number("130306", date(1975, 3, 4), 901).value)
    f = HouseholdFile.receive_application(
        actor=CLERK,
        establishing_unit="130306001",
        worker_kind=WorkerKind.URBAN,
        head=head,
        applied_on=date(2024, 11, 2),
        authorisation_signed=True,
        today=TODAY,
    )
    f.verify(
        actor=CLERK,
        verified_on=date(2024, 11, 9),
        investigators=("赵立新", "钱丽华"),
        members=(
            Member(
                "王𪚥",
                Relation.SPOUSE,
                make_id_number("130306", date(1977, 1, 1), 902).value,
                MemberStatus.UNEMPLOYED,
            ),
        ),
        annual_income=Decimal("9600"),
        rigid_expenses=Decimal("1200"),
        exclusions=Exclusions(),
        primary_cause=Cause.ILLNESS,
        parameters=IN_FORCE,
        materials=(Material.DIAGNOSIS, Material.MEDICAL_BILLS),
        today=TODAY,
    )
    f.appraise(
        actor=CLERK,
        appraised_on=date(2024, 11, 12),
        minutes_on_file=True,
        publicity_start=date(2024, 11, 13),
        publicity_end=date(2024, 11, 20),
        parameters=IN_FORCE,
        today=TODAY,
    )
    f.approve(
        actor=APPROVER,
        approved_on=date(2024, 11, 25),
        file_level=FileLevel.DISTRICT,
        parameters=IN_FORCE,
        today=TODAY,
    )
    f.agree_plan(
        actor=CLERK,
        agreed_on=date(2024, 12, 1),
        helper="孙志刚",
        measures=("推荐就业",),
        goals="稳定就业",
        deadline=date(2026, 12, 1),
        signed_by_worker=True,
        today=TODAY,
    )
    day = date(2024, 12, 10)
    while f.version < EVENTS:
        step = f.version % 3
        if step == 0:
            f.assist(
                actor=CLERK,
                assisted_on=day,
                kind=AssistanceKind.LIVING_AID,
                amount=Decimal("500"),
                department=Department.UNION,
                today=TODAY,
            )
        elif step == 1:
            f.visit(actor=CLERK, visited_on=day, cadre="周海燕", content="走访", today=TODAY)
        elif day >= f.approved_on + timedelta(days=300):  # type: ignore[operator]
            f.recheck(actor=CLERK, rechecked_on=day, parameters=IN_FORCE, today=TODAY)
        else:
            f.visit(actor=CLERK, visited_on=day, cadre="周海燕", content="走访", today=TODAY)
        day += timedelta(days=20)
    return f


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Latency:
    name: str
    samples_ms: list[float]  # wall clock (time.perf_counter)
    cpu_ms: list[float]  # this thread's CPU time (time.thread_time): the work, without waits

    @property
    def p50(self) -> float:
        return percentile(self.samples_ms, 0.5)

    @property
    def p99(self) -> float:
        return percentile(self.samples_ms, 0.99)

    @property
    def cpu_p50(self) -> float:
        return percentile(self.cpu_ms, 0.5)

    @property
    def cpu_p99(self) -> float:
        return percentile(self.cpu_ms, 0.99)


async def replay_latency(
    store: PostgresEventStore, codec: EventCodec, reps: int
) -> tuple[list[Latency], int]:
    household = thirty_events()
    await PgFileRepository(store, codec).save(household)
    file_id = household.id
    rows = await store.read_stream(file_id)
    assert len(rows) == EVENTS, len(rows)  # noqa: S101 — the bench measures what it says
    context = Context(policies=await PgPolicies(store, codec).book(), as_of=TODAY)
    ledger_row: dict[str, Any] = {}

    def replay_and_check(events: list[StoredEvent]) -> None:
        decoded = [
            codec.decode(
                e.type,
                e.payload,
                stream_id=e.stream_id,
                version=e.version,
                recorded_at=e.recorded_at,
            )
            for e in events
        ]
        check(history_of(cast(Any, decoded)), context)

    def per_file(events: list[StoredEvent]) -> None:
        check_file(file_id, events, ledger_row, codec=codec, context=context)

    results = []
    for name, body in (
        ("decode + history_of + check (30 events)", replay_and_check),
        ("+ hash chain + drift: a spot-check's work per file", per_file),
    ):
        for _ in range(max(reps // 10, 50)):  # warm-up
            body(rows)
        samples, cpu = [], []
        for _ in range(reps):
            started, started_cpu = time.perf_counter(), time.thread_time()
            body(rows)
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
        results.append(Latency(name, samples, cpu))
    samples, cpu = [], []
    for i in range(reps + max(reps // 10, 50)):
        started, started_cpu = time.perf_counter(), time.thread_time()
        per_file(await store.read_stream(file_id))
        if i >= max(reps // 10, 50):
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
    results.append(Latency("+ read_stream from the database", samples, cpu))
    return results, len(await store.read_stream(file_id))


@dataclass
class Round:
    check_s: float
    raw_s: float
    batched_s: float
    files: int
    findings: int


async def spot_check_round(
    store: PostgresEventStore, codec: EventCodec, seed: int, *, check_first: bool
) -> Round:
    async def checked() -> tuple[float, list[UUID], int]:
        cold(store)  # the check unwraps its sample's data keys, as in a fresh process
        started = time.perf_counter()
        spot = await run_spot_check(
            store=store,
            codec=codec,
            actor=INSPECTOR,
            request=Request(scope="13", as_of=TODAY, seed=seed, sample=SAMPLE),
        )
        elapsed = time.perf_counter() - started
        assert spot.summary is not None  # noqa: S101
        return elapsed, list(spot.sample), spot.summary.findings

    async def raw(ids: list[UUID]) -> float:
        cold(store)
        started = time.perf_counter()
        for file_id in ids:
            await store.read_stream(file_id)
        return time.perf_counter() - started

    async def batched(ids: list[UUID]) -> float:
        cold(store)
        started = time.perf_counter()
        for i in range(0, len(ids), 500):
            await store.read_streams(ids[i : i + 500])
        return time.perf_counter() - started

    if check_first:
        seconds, ids, findings = await checked()
        raw_s = await raw(ids)
    else:
        # the same sample the check will draw: rank the frame as the check will
        ids = await sample_of(store, seed)
        raw_s = await raw(ids)
        seconds, drawn, findings = await checked()
        assert drawn == ids  # noqa: S101 — the raw read read exactly the checked files
    batched_s = await batched(ids)
    return Round(seconds, raw_s, batched_s, len(ids), findings)


async def sample_of(store: PostgresEventStore, seed: int) -> list[UUID]:
    rows = await store.pool.fetch("SELECT file_id, unit, status, version FROM ledger")
    frame = [FrameRow(r[0], r[1], r[2], r[3]) for r in rows]
    return list(draw(frame, Strata(), n=min(SAMPLE, len(frame)), seed=seed))


# ---------------------------------------------------------------------------- report


def report(
    latencies: list[Latency],
    rounds: list[Round],
    *,
    version: str,
    files: int,
    events: int,
    build_s: float,
    reps: int,
) -> bool:
    def each(values: list[float], fmt: str = ".3f") -> str:
        return ", ".join(format(v, fmt) for v in values)

    print()
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs;"
        f" Python {platform.python_version()}; {version}"
    )
    print(
        f"province: {files:,} files, {events:,} events (built, seeded and projected in"
        f" {build_s:.0f} s); replay repetitions: {reps:,}; spot-check rounds: {len(rounds)}"
    )
    print()
    print("| replay of one 30-event file | p50 (ms) | p99 (ms) | CPU p50 (ms) | CPU p99 (ms) |")
    print("|---|---:|---:|---:|---:|")
    for lat in latencies:
        print(
            f"| {lat.name} | {lat.p50:.3f} | {lat.p99:.3f} | {lat.cpu_p50:.3f}"
            f" | {lat.cpu_p99:.3f} |"
        )
    print()
    print(f"| spot-check of {SAMPLE:,} files | seconds (median) | each round |")
    print("|---|---:|---|")
    check_s = [r.check_s for r in rounds]
    raw_s = [r.raw_s for r in rounds]
    batched_s = [r.batched_s for r in rounds]
    ratio = [r.check_s / r.raw_s for r in rounds]
    print(f"| run_spot_check (whole: frame … events written) | {statistics.median(check_s):.3f}"
          f" | {each(check_s)} |")  # fmt: skip
    print(f"| raw: store.read_stream of the same files, one by one | {statistics.median(raw_s):.3f}"
          f" | {each(raw_s)} |")  # fmt: skip
    print(f"| context: store.read_streams, 500 files a query | {statistics.median(batched_s):.3f}"
          f" | {each(batched_s)} |")  # fmt: skip
    print(f"| spot-check / raw read (context) | {statistics.median(ratio):.2f}× | "
          f"{each(ratio, '.2f')} |")  # fmt: skip
    print(f"findings per round: {', '.join(str(r.findings) for r in rounds)}")
    print()
    print("| target | measured | required | met |")
    print("|---|---:|---:|---|")
    p99 = latencies[0].p99
    median_check = statistics.median(check_s)
    verdicts = [
        ("replay p99, decode + history_of + check", f"{p99:.3f} ms", p99 <= TARGET_P99_MS,
         f"≤ {TARGET_P99_MS:.0f} ms"),
        (f"spot-check of {SAMPLE:,} files (median)", f"{median_check:.2f} s",
         median_check <= TARGET_CHECK_S, f"≤ {TARGET_CHECK_S:.0f} s"),
    ]  # fmt: skip
    for name, measured, met, required in verdicts:
        print(f"| {name} | {measured} | {required} | {'MET' if met else 'MISSED'} |")
    all_met = all(met for _, _, met, _ in verdicts)
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
            print(f"server: {version}; building a province of {args.files:,} files", flush=True)
            events, build_s = await province(store, codec, args.files)
            print(f"  {events:,} events in {build_s:.0f} s", flush=True)
            latencies, length = await replay_latency(store, codec, args.reps)
            for lat in latencies:
                print(f"replay {length} events  {lat.name:<52} p50 {lat.p50:.3f} ms"
                      f"  p99 {lat.p99:.3f} ms  (CPU p99 {lat.cpu_p99:.3f} ms)")  # fmt: skip
            rounds = []
            for number in range(1, args.rounds + 1):
                result = await spot_check_round(
                    store, codec, seed=number, check_first=number % 2 == 1
                )
                rounds.append(result)
                print(
                    f"round {number}/{args.rounds}  spot-check {result.check_s:.3f} s,"
                    f" raw read {result.raw_s:.3f} s, batched read {result.batched_s:.3f} s"
                    f" ({result.files} files, {result.findings} findings)"
                )
        finally:
            await pool.close()
    finally:
        await admin(url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return report(
        latencies,
        rounds,
        version=version,
        files=args.files,
        events=events,
        build_s=build_s,
        reps=args.reps,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,500 files, 1 round")
    parser.add_argument("--files", type=int, help="files in the province (default 5,000)")
    parser.add_argument("--rounds", type=int, help="spot-check rounds (default 3)")
    parser.add_argument("--reps", type=int, help="replay repetitions (default 5,000)")
    args = parser.parse_args(argv)
    args.files = args.files or (1_500 if args.quick else 5_000)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.reps = args.reps or (1_000 if args.quick else 5_000)
    if args.files < SAMPLE:
        parser.error(f"--files must be at least {SAMPLE}")

    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress as it comes
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with server() as url:
        met = asyncio.run(run(args, url))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
