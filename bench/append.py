"""Append throughput of the event store, beside baselines measured in the same run.

    .venv/bin/python bench/append.py            # full run (a few minutes)
    .venv/bin/python bench/append.py --quick    # smoke test (well under a minute)

Starts a private PostgreSQL (pgserver) in a fresh folder under /tmp, or uses the server of
BANGFU_BENCH_DATABASE_URL (a superuser URL: databases are created and dropped on it). Every
measurement runs in its own fresh database (CREATE DATABASE). The rounds are interleaved — round
1 of every measurement, then round 2, ... — and within a round the two sides of each target run
back to back, the first alternating between rounds, so a noisy neighbour on the shared machine
hits both sides alike. Each absolute figure is the median of its rounds; each target's verdict
is the median of its per-round ratios.

Measured:
  full      bangfu's whole write path: a domain command (`HouseholdFile.assist`) on a file held
            in memory, then `PgFileRepository.save` — one event, one round trip, 1/4/16 writers
            on different files (pool of 20, as `adapters.bootstrap.runtime` opens it).
  library   the eventsourcing library's PostgreSQL application recorder: an `Application` with
            PERSISTENCE_MODULE=eventsourcing.postgres and a small aggregate whose command records
            the same fields; `app.save` per event; 1/4/16 writer threads.
  raw       asyncpg, one `INSERT ... VALUES` of a pre-built row per event into the same `events`
            table (autocommit), 1/4/16 connections each held by one writer.
  bulk      `PostgresEventStore.append_bulk` of pre-built `NewEvent` rows; `save_many` of new files
            built by the domain commands (encoding and hashing timed, the commands not); raw
            `copy_records_to_table` of the same rows — all `--batch` events a call.

Targets: full 1 writer ≥ 2× library 1 writer; full 16 writers ≥ 60% of raw 16 connections;
bulk (append_bulk) ≥ 50% of raw COPY. (save_many against COPY is printed for context.)
Knobs: --seconds (timed seconds per single-event case), --events (events per bulk
measurement), --batch (events per bulk call, default 1,000), --rounds (default 3).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit
from uuid import UUID, uuid4

import asyncpg
import structlog
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder, Transcoding

from adapters.pg.codec import EventCodec
from adapters.pg.integrity import GENESIS
from adapters.pg.migrations import migrate
from adapters.pg.repository import prepare_rows
from adapters.pg.store import NewEvent, chain
from adapters.runtime.bootstrap import runtime
from adapters.runtime.settings import Settings
from domain.eligibility import Exclusions
from domain.household import Head, HouseholdFile, Member
from domain.idnumber import make_id_number
from domain.policy import Parameters
from domain.values import (
    Actor,
    AssistanceKind,
    Cause,
    Department,
    FileLevel,
    MemberStatus,
    Relation,
    Role,
    WorkerKind,
)

WRITERS = (1, 4, 16)
TODAY = date(2025, 6, 30)
UNIT = "130306001"
CLERK = Actor(user="bench-clerk", unit=UNIT, role=Role.CLERK)
APPROVER = Actor(user="bench-approver", unit="130306", role=Role.APPROVER)
NOTE = (
    "走访后发放生活救助金，用于支付子女学费和家庭日常开支；经办人已核对银行卡信息并由户主签字确认。"
)
# The raw baselines write the columns the store writes: one per `NewEvent` field.
COLUMNS = tuple(f.name for f in dataclasses.fields(NewEvent))
RAW_INSERT = (
    f"INSERT INTO events ({', '.join(COLUMNS)})"
    f" VALUES ({', '.join(f'${i}' for i in range(1, len(COLUMNS) + 1))})"
)

# the regional parameters in force, as the use case would hand them to the commands
IN_FORCE = Parameters(date(2015, 1, 1), Decimal("800"))


# ---------------------------------------------------------------------------- the server


@dataclass
class Server:
    """Where the fresh databases are created: a URL per database, and the admin URL."""

    admin_url: str
    scratch: Path  # the bench's own folder (bangfu's data_dir), removed at the end
    _counter: int = 0

    def url(self, database: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path="/" + database))

    def psycopg_env(self, database: str) -> dict[str, str]:
        """The eventsourcing library's POSTGRES_* settings for `database` on this server."""
        parts = urlsplit(self.admin_url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return {
            "POSTGRES_DBNAME": database,
            # a Unix socket folder works as host for libpq (pgserver listens on one only)
            "POSTGRES_HOST": query.get("host") or parts.hostname or "localhost",
            "POSTGRES_PORT": str(query.get("port") or parts.port or 5432),
            "POSTGRES_USER": parts.username or "postgres",
            # must be set (None is refused); an empty password passes through to libpq as ''
            "POSTGRES_PASSWORD": parts.password or "",
        }

    @asynccontextmanager
    async def database(self, label: str) -> Any:
        """A fresh database for one measurement, dropped afterwards; yields its name."""
        self._counter += 1
        name = f"bfbench_{self._counter:03d}_{label}"
        admin = await asyncpg.connect(self.admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        try:
            yield name
        finally:
            admin = await asyncpg.connect(self.admin_url)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()

    @asynccontextmanager
    async def bangfu(self, label: str) -> Any:
        """A fresh database wired as in production (`adapters.bootstrap.runtime`: pool of 20,
        migrations, wake-ups); yields the `Runtime`."""
        async with self.database(label) as db:
            env = {"BANGFU_DATABASE_URL": self.url(db), "BANGFU_DATA_DIR": str(self.scratch)}
            async with runtime(Settings.from_env(env)) as rt:
                yield rt


@contextmanager
def server() -> Iterator[Server]:
    """The server of BANGFU_BENCH_DATABASE_URL, or a private pgserver in a fresh /tmp folder."""
    folder = Path(tempfile.mkdtemp(prefix="bfbench-"))
    try:
        url = os.environ.get("BANGFU_BENCH_DATABASE_URL")
        if url:
            yield Server(url, folder)
            return
        import pgserver  # noqa: PLC0415 — only when no server is given

        handle = pgserver.get_server(folder / "pg", cleanup_mode="stop")
        try:
            yield Server(handle.get_uri(), folder)
        finally:
            handle.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------- bangfu domain data


def person(born: date, serial: int) -> str:
    """The `serial`th person born from `born` on: one ID number each (一户一档 refuses a second
    open file holding a person), the birth day moving on every 1,000 sequence numbers."""
    return make_id_number("130306", born + timedelta(days=serial // 1000), serial % 1000).value


def new_file(serial: int) -> HouseholdFile:
    """A household file taken from application to approval (four pending events)."""
    household = HouseholdFile.receive_application(
        actor=CLERK,
        establishing_unit=UNIT,
        worker_kind=WorkerKind.URBAN,
        head=Head(
            name="张建国",
            id_number=person(date(1975, 3, 1), serial),
            phone="13800138000",
            employer="秦皇岛市某机械厂",
            address="抚宁区城关镇建设路12号",
        ),
        applied_on=date(2025, 1, 10),
        authorisation_signed=True,
        statement="本人患病，家庭收入低，申请建档。",
        today=TODAY,
    )
    household.verify(
        actor=CLERK,
        verified_on=date(2025, 1, 20),
        investigators=("李明", "王芳"),
        members=(
            Member(
                name="张小明",
                relation=Relation.CHILD,
                id_number=person(date(2010, 5, 2), serial),
                status=MemberStatus.STUDENT,
            ),
        ),
        annual_income=Decimal("12000"),
        rigid_expenses=Decimal("3000"),
        exclusions=Exclusions(),
        primary_cause=Cause.ILLNESS,
        parameters=IN_FORCE,
        narrative="户主长期患病，子女在读。",
        today=TODAY,
    )
    household.appraise(
        actor=CLERK,
        appraised_on=date(2025, 2, 1),
        minutes_on_file=True,
        publicity_start=date(2025, 2, 2),
        publicity_end=date(2025, 2, 9),
        parameters=IN_FORCE,
        today=TODAY,
    )
    household.approve(
        actor=APPROVER,
        approved_on=date(2025, 2, 15),
        file_level=FileLevel.DISTRICT,
        parameters=IN_FORCE,
        today=TODAY,
    )
    return household


def assist(household: HouseholdFile) -> None:
    """The command each full-path writer repeats: one `Assisted` event."""
    household.assist(
        actor=CLERK,
        assisted_on=date(2025, 3, 1),
        kind=AssistanceKind.LIVING_AID,
        amount=Decimal("500.00"),
        department=Department.UNION,
        helper="赵丽",
        note=NOTE,
        today=TODAY,
    )


def assisted_row(codec: EventCodec) -> tuple[str, bytes]:
    """The stored type and payload of one `Assisted` event (the raw baselines insert it)."""
    household = new_file(0)
    household.collect_events()
    assist(household)
    (pending,) = household.collect_events()
    return codec.encode(pending)


# ---------------------------------------------------------------------------- the library baseline


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class LibHousehold(Aggregate):
    """The library-side twin: a command recording the same fields as `HouseholdFile.assist`."""

    @event("Opened")
    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.assistance_total = Decimal("0.00")

    @event("Assisted")
    def assist(
        self,
        actor: dict[str, str],
        assisted_on: date,
        kind: str,
        amount: Decimal,
        department: str,
        helper: str,
        note: str,
    ) -> None:
        self.assistance_total += amount


class LibApp(Application[UUID]):
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def lib_assist(household: LibHousehold) -> None:
    household.assist(
        actor={"user": CLERK.user, "unit": CLERK.unit, "role": CLERK.role.value},
        assisted_on=date(2025, 3, 1),
        kind=AssistanceKind.LIVING_AID.value,
        amount=Decimal("500.00"),
        department=Department.UNION.value,
        helper="赵丽",
        note=NOTE,
    )


def run_library(env: dict[str, str], writers: int, seconds: float, warmup: float) -> float:
    """events/s of `writers` threads, each saving one event a call on its own aggregate."""
    app = LibApp(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_POOL_SIZE": str(writers),
            "POSTGRES_MAX_OVERFLOW": "0",
            **env,
        }
    )
    try:
        households = [LibHousehold(unit=UNIT) for _ in range(writers)]
        app.save(*households)
        counts = [0] * writers

        def work(i: int, until: float, count: bool) -> None:
            household = households[i]
            while time.perf_counter() < until:
                lib_assist(household)
                app.save(household)
                if count:
                    counts[i] += 1

        def phase(length: float, *, count: bool) -> float:
            until = time.perf_counter() + length
            threads = [
                threading.Thread(target=work, args=(i, until, count)) for i in range(writers)
            ]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return time.perf_counter() - start

        phase(warmup, count=False)
        elapsed = phase(seconds, count=True)
        return sum(counts) / elapsed
    finally:
        app.close()


# ---------------------------------------------------------------------------- timing helpers


async def concurrently(
    writers: int, step: Callable[[int], Awaitable[None]], seconds: float, warmup: float
) -> float:
    """events/s of `writers` tasks each repeating `step(i)` (one event) for `seconds`."""
    counts = [0] * writers

    async def work(i: int, until: float, count: bool) -> None:
        while time.perf_counter() < until:
            await step(i)
            if count:
                counts[i] += 1

    async def phase(length: float, *, count: bool) -> float:
        until = time.perf_counter() + length
        start = time.perf_counter()
        await asyncio.gather(*(work(i, until, count) for i in range(writers)))
        return time.perf_counter() - start

    await phase(warmup, count=False)
    elapsed = await phase(seconds, count=True)
    return sum(counts) / elapsed


# ---------------------------------------------------------------------------- the measurements


@dataclass
class Bench:
    server: Server
    seconds: float
    warmup: float
    batch: int
    batches: int
    codec: EventCodec = field(default_factory=EventCodec)
    rows: list[list[NewEvent]] = field(default_factory=list)

    async def full(self, writers: int) -> float:
        async with self.server.bangfu(f"full{writers}") as rt:
            files = [new_file(i) for i in range(writers)]
            await rt.files.save(*files)

            async def step(i: int) -> None:
                assist(files[i])
                await rt.files.save(files[i])

            return await concurrently(writers, step, self.seconds, self.warmup)

    async def library(self, writers: int) -> float:
        async with self.server.database(f"library{writers}") as db:
            return await asyncio.to_thread(
                run_library, self.server.psycopg_env(db), writers, self.seconds, self.warmup
            )

    async def raw(self, writers: int) -> float:
        async with self.server.database(f"raw{writers}") as db:
            conns = [await asyncpg.connect(self.server.url(db)) for _ in range(writers)]
            try:
                await migrate(conns[0])
                type_name, payload = assisted_row(self.codec)
                template = chain(GENESIS, uuid4(), 0, type_name, payload, datetime.now(UTC), UNIT)
                version, recorded = COLUMNS.index("version"), COLUMNS.index("recorded_at")
                rows = [
                    [uuid4() if c == "stream_id" else getattr(template, c) for c in COLUMNS]
                    for _ in range(writers)
                ]

                async def step(i: int) -> None:
                    row = rows[i]
                    row[version] += 1
                    row[recorded] = datetime.now(UTC)
                    await conns[i].execute(RAW_INSERT, *row)

                return await concurrently(writers, step, self.seconds, self.warmup)
            finally:
                for conn in conns:
                    await conn.close()

    def prebuilt(self) -> list[list[NewEvent]]:
        """`batches` + 1 (warm-up) batches of rows of new files, built once for the whole run."""
        if not self.rows:
            for files in self.new_files():
                rows, heads, _ = prepare_rows(self.codec, files)
                assert not heads  # noqa: S101 — new files rest on no head
                self.rows.append(rows)
        return self.rows

    def new_files(self) -> list[list[HouseholdFile]]:
        per_call = max(1, self.batch // 4)  # four events a new approved file
        return [
            [new_file(b * per_call + i) for i in range(per_call)] for b in range(self.batches + 1)
        ]

    async def bulk_store(self) -> float:
        batches = self.prebuilt()
        async with self.server.bangfu("bulkstore") as rt:
            await rt.store.append_bulk(batches[0])
            start = time.perf_counter()
            for rows in batches[1:]:
                await rt.store.append_bulk(rows)
            return sum(map(len, batches[1:])) / (time.perf_counter() - start)

    async def bulk_save_many(self) -> float:
        batches = await asyncio.to_thread(self.new_files)  # the domain commands: not timed
        events = sum(len(f.pending_events) for files in batches[1:] for f in files)
        async with self.server.bangfu("savemany") as rt:
            await rt.files.save_many(batches[0])
            start = time.perf_counter()
            for files in batches[1:]:
                await rt.files.save_many(files)
            return events / (time.perf_counter() - start)

    async def bulk_raw(self) -> float:
        batches = [[dataclasses.astuple(e) for e in rows] for rows in self.prebuilt()]
        async with self.server.database("rawcopy") as db:
            conn = await asyncpg.connect(self.server.url(db))
            try:
                await migrate(conn)
                await conn.copy_records_to_table("events", columns=COLUMNS, records=batches[0])
                start = time.perf_counter()
                for records in batches[1:]:
                    await conn.copy_records_to_table("events", columns=COLUMNS, records=records)
                return sum(map(len, batches[1:])) / (time.perf_counter() - start)
            finally:
                await conn.close()


# ---------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Target:
    name: str
    numerator: str
    denominator: str
    required: float


TARGETS = (
    Target("full path, 1 writer ≥ 2× library recorder, 1 writer", "full 1", "library 1", 2.0),
    Target("full path, 16 writers ≥ 60% of raw INSERT, 16 connections", "full 16", "raw 16", 0.6),
    Target("bulk append_bulk ≥ 50% of raw COPY", "bulk append_bulk", "bulk raw COPY", 0.5),
    Target("bulk save_many ≥ 50% of raw COPY (context)", "bulk save_many", "bulk raw COPY", 0.5),
)

LABELS = {
    "full": "bangfu full path (assist + PgFileRepository.save)",
    "library": "eventsourcing PostgreSQL recorder (Application.save)",
    "raw": "raw asyncpg INSERT, autocommit",
    "bulk append_bulk": "PostgresEventStore.append_bulk (pre-built rows)",
    "bulk save_many": "PgFileRepository.save_many (encode + hash + append_bulk)",
    "bulk raw COPY": "raw asyncpg copy_records_to_table",
}


# Measured in this order within a round: each target's pair back to back (the first of a pair
# alternating between rounds), then the context figures.
ORDER = (
    ("full 1", "library 1"),
    ("full 16", "raw 16"),
    ("bulk append_bulk", "bulk raw COPY"),
    ("bulk save_many",),
    ("full 4", "raw 4"),
    ("library 4", "library 16", "raw 1"),
)
TABLE_ORDER = tuple(
    [f"full {n}" for n in WRITERS]
    + [f"library {n}" for n in WRITERS]
    + [f"raw {n}" for n in WRITERS]
    + ["bulk append_bulk", "bulk save_many", "bulk raw COPY"]
)


def report(
    results: dict[str, list[float]], args: argparse.Namespace, version: str, sizes: dict[str, int]
) -> bool:
    """Print the figures as Markdown; True when every target is met.

    A target's verdict is the median of its per-round ratios: the two sides of a ratio are
    measured back to back, so a neighbour's load on the shared machine hits both alike.
    """
    median = {key: statistics.median(values) for key, values in results.items()}
    print()
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs;"
        f" Python {platform.python_version()}; {version}"
    )
    print(
        f"rounds: {args.rounds}; {args.seconds:g} s per single-event measurement"
        f" (+{args.warmup:g} s warm-up); bulk {args.events} events in calls of {args.batch}"
    )
    print("payload bytes: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    print()
    print("| measurement | writers | events/s (median) | each round |")
    print("|---|---:|---:|---|")
    for key in TABLE_ORDER:
        kind, _, count = key.partition(" ")
        label = LABELS.get(key) or LABELS[kind]
        writers = count if count.isdigit() else "1"
        rounds = ", ".join(f"{v:,.0f}" for v in results[key])
        print(f"| {label} | {writers} | {median[key]:,.0f} | {rounds} |")
    print()
    print("| target | ratio (median of rounds) | each round | required | met |")
    print("|---|---:|---|---:|---|")
    all_met = True
    for target in TARGETS:
        ratios = [
            a / b
            for a, b in zip(results[target.numerator], results[target.denominator], strict=True)
        ]
        ratio = statistics.median(ratios)
        met = ratio >= target.required
        all_met &= met or "context" in target.name
        each = ", ".join(f"{r:.2f}" for r in ratios)
        print(
            f"| {target.name} | {ratio:.2f}× | {each} | {target.required:.2f}× |"
            f" {'MET' if met else 'MISSED'} |"
        )
    print()
    print("all targets met" if all_met else "SOME TARGETS MISSED")
    return all_met


async def measure(args: argparse.Namespace, pg: Server) -> dict[str, list[float]]:
    bench = Bench(pg, args.seconds, args.warmup, args.batch, max(1, args.events // args.batch))
    cases: dict[str, Callable[[], Awaitable[float]]] = {
        "bulk append_bulk": bench.bulk_store,
        "bulk save_many": bench.bulk_save_many,
        "bulk raw COPY": bench.bulk_raw,
    }
    for n in WRITERS:
        cases[f"full {n}"] = functools.partial(bench.full, n)
        cases[f"library {n}"] = functools.partial(bench.library, n)
        cases[f"raw {n}"] = functools.partial(bench.raw, n)
    results: dict[str, list[float]] = {key: [] for key in cases}
    for round_ in range(1, args.rounds + 1):
        for group in ORDER:
            for key in group if round_ % 2 else reversed(group):
                rate = await cases[key]()
                results[key].append(rate)
                print(f"round {round_}/{args.rounds}  {key:<18} {rate:>10,.0f} events/s")
    return results


async def server_version(pg: Server) -> str:
    conn = await asyncpg.connect(pg.admin_url)
    try:
        return str(await conn.fetchval("SELECT version()")).split(" on ")[0]
    finally:
        await conn.close()


def payload_sizes() -> dict[str, int]:
    codec = EventCodec()
    _, payload = assisted_row(codec)
    household = LibHousehold(unit=UNIT)
    household.collect_events()
    lib_assist(household)
    app = LibApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    (stored,) = [app.mapper.to_stored_event(e) for e in household.collect_events()]
    return {"bangfu Assisted": len(payload), "library Assisted state": len(stored.state)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (1 round)")
    parser.add_argument("--seconds", type=float, help="timed seconds per single-event case")
    parser.add_argument("--events", type=int, help="events per bulk measurement")
    parser.add_argument("--batch", type=int, default=1000, help="events per bulk call")
    parser.add_argument("--rounds", type=int, help="rounds of every measurement (median)")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (0.5 if args.quick else 4.0)
    args.warmup = min(1.0, args.seconds / 4)
    args.events = args.events or (2 * args.batch if args.quick else 30 * args.batch)
    args.rounds = args.rounds or (1 if args.quick else 3)

    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress as it comes
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    sizes = payload_sizes()
    with server() as pg:
        version = asyncio.run(server_version(pg))
        print(
            f"server: {version}; "
            + (
                "BANGFU_BENCH_DATABASE_URL"
                if os.environ.get("BANGFU_BENCH_DATABASE_URL")
                else "pgserver, private"
            ),
            flush=True,
        )
        results = asyncio.run(measure(args, pg))
    report(results, args, version, sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
