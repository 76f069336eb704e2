"""How read, write, export, rebuild and sync costs grow with the log (issue 18).

    .venv/bin/python bench/growth.py --sizes 1m,3m --reuse      # the cached logs, measured
    .venv/bin/python bench/growth.py --sizes 3m --build-only --reuse [--stop-at HH:MM]
                                     [--defer-read-models]      # build (or extend) one log
    .venv/bin/python bench/growth.py --explain --sizes 3m       # EXPLAIN (ANALYZE, BUFFERS) plans
    .venv/bin/python bench/growth.py --sizes 1m,10m --reuse --paired [--same-rows 1m]
                                     # two measured sizes' reads again, round by round
    .venv/bin/python bench/growth.py --sizes 1m,3m --report     # the table again, from the cache
    .venv/bin/python bench/growth.py --quick                    # smoke run, 8,000 events, ~30 s

Sizes: `1m` (≥ 1,000,000 events), `3m` (the 200,000-file province: about 3.5 million events),
`10m` (≥ 10,000,000). The logs are built by `bangfu demo --files N --bulk` (the demo's lifecycle
mix, through the domain's commands and the store's bulk path), under `nice -n 15`, one chunk of
files after another, each with its own seed, until the size is reached; a larger size starts as
a copy (`CREATE DATABASE … TEMPLATE`) of the largest smaller one. The read models are then
rebuilt (`bangfu projections rebuild`), or, with `--defer-read-models`, by the measurement's
timed rebuild. Everything is cached in one PostgreSQL cluster (pgserver) under `--data` (default
/work/growthdata, outside the repository; the personal-data keys beside it): `--reuse` takes a
built size as it is and resumes a stopped build; without it a size is rebuilt from nothing.
`--quick` builds its log in a scratch folder and removes it.

At each size, against a real `bangfu serve` process over loopback, medians of `--rounds` rounds
of `--requests` sequential requests each (at least 100 for a real run):

  every read      the ledger (each sort and filter, `q`), stats (children at base level), due
                  lists of each kind, the approval queue, duplicates, and the xlsx of a base unit,
                  at province (13), district (130306) and base level — each beside the same
                  statements (captured from `adapters.pg.reads`) run by raw asyncpg in the same
                  scoped transaction
  append          `POST /files/{id}/assistance`, the full write path, beside a raw INSERT
  file read       `GET /files/{id}`, beside a raw read of the stream
  xlsx            the whole-province and a district workbook: seconds and the server's peak
                  memory growth (VmHWM of the serve process, reset before each)
  spot-check      `POST /spot-checks` of 1,000 files, beside a raw read of 1,000 streams
  sync            a `Puller` from an empty database for `--sync-seconds`, or with 0 to the end
                  of the log (a full pull, attachments and all: `--only sync --sync-seconds 0`)
  rebuild         `bangfu projections rebuild` (its peak RSS too), beside raw `read_log` + decode

It prints each cost at each size and how it grows from the smallest size to the largest.
Targets (printed, not asserted): every read p99 ≤ 50 ms at 200,000 files at every level (the
exports apart: theirs is the xlsx target); per-request latency at the largest size ≤ 1.25× the
smallest, as the API's default pages and for the same rows — a page that fills only in the
larger log measured again for the rows it held in the smaller (`--same-rows SIZE`, after a run
that recorded them); whole-province xlsx of 200,000 rows ≤ 15 s with the server's memory
growth ≤ 200 MB; rebuild at the largest size ≥ 0.8× its rate at the smallest and ≥ 0.2× raw
read + decode. `--paired` measures two measured sizes' reads again with their rounds
interleaved, so that a host whose speed drifts over minutes weighs on both alike. Results:
docs/benchmarks.md, "Growth".
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on sys.path and its name would shadow
# nothing here, but the project's root must be importable: put it first.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import asyncio
import functools
import json
import math
import re
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# a size: the events its log holds at least, or (the province of issue 18) the files
SIZES = {"quick": 8_000, "1m": 1_000_000, "3m": 3_000_000, "10m": 10_000_000}
FILES = {"3m": 200_000}  # "3m" is the 200,000-file province: about 3.5 million events
DATA = os.environ.get("BANGFU_GROWTH_DATA", "/work/growthdata")
FILES_PER_CHUNK = 10_000
QUICK_CHUNK = 500
EVENTS_PER_FILE = 17.5  # the demo's lifecycle mix, measured on its logs
SECRET = "growth-bench-secret-" + "g" * 40


# ---------------------------------------------------------------------------- the cache


class Cache:
    """One PostgreSQL cluster under `folder`, a database per size, and what each holds."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.keys = folder / "keys"  # BANGFU_DATA_DIR of every size: one set of keys
        self.manifest_path = folder / "manifest.json"
        self.server: object | None = None
        self.url = ""

    def start(self) -> str:
        import pgserver  # noqa: PLC0415 — only when the bench runs

        self.folder.mkdir(parents=True, exist_ok=True)
        self.keys.mkdir(exist_ok=True)
        self.server = pgserver.get_server(self.folder / "pg", cleanup_mode="stop")
        self.url = f"postgresql://postgres@/postgres?host={self.folder / 'pg'}"
        return self.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.cleanup()  # type: ignore[attr-defined]

    def manifest(self) -> dict[str, dict[str, object]]:
        if self.manifest_path.exists():
            return dict(json.loads(self.manifest_path.read_text()))
        return {}

    def record(self, size: str, entry: dict[str, object]) -> None:
        manifest = self.manifest()
        manifest[size] = entry
        self.manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))

    def db_url(self, size: str) -> str:
        return with_database(self.url, database(size))

    def env(self, size: str) -> dict[str, str]:
        return {
            **os.environ,
            "BANGFU_DATABASE_URL": self.db_url(size),
            "BANGFU_DATA_DIR": str(self.keys),
            "BANGFU_SECRET": SECRET,
            "BANGFU_LOG_JSON": "1",
        }


def database(size: str) -> str:
    return f"growth_{size}"


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def bangfu(cache: Cache, size: str, *args: str, nice: int = 15) -> None:
    """Run one `bangfu` command on a size's database, niced, its output kept in the cache."""
    log = cache.folder / f"{size}.log"
    with log.open("a") as out:
        subprocess.run(
            ["nice", "-n", str(nice), sys.executable, "-m", "adapters.cli", *args],
            env=cache.env(size),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )


async def events_in(url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("SELECT to_regclass('events')") is None:
            return 0, 0  # a new database, not migrated yet
        events = int(await conn.fetchval("SELECT count(*) FROM events"))
        files = int(
            await conn.fetchval(
                "SELECT count(*) FROM events WHERE version = 1 AND type = 'household.applied'"
            )
        )
    finally:
        await conn.close()
    return events, files


def late(stop_at: str | None) -> bool:
    """Whether the UTC time of day `HH:MM` has passed (never, without one)."""
    return stop_at is not None and datetime.now(UTC).strftime("%H:%M") >= stop_at


async def build(  # noqa: PLR0915 — one linear build
    cache: Cache, size: str, *, reuse: bool, stop_at: str | None = None, defer: bool = False
) -> dict[str, object]:
    """The size's database, built or extended until it holds its events; its manifest entry."""
    target = SIZES[size]
    manifest = cache.manifest()
    entry = manifest.get(size)
    if reuse and entry and entry.get("complete"):
        print(f"[{size}] reusing {entry['events']:,} events, {entry['files']:,} files", flush=True)
        return entry
    admin = await asyncpg.connect(cache.url)
    try:
        exists = await admin.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", database(size)
        )
        if exists and not (reuse and entry):
            await admin.execute(f'DROP DATABASE "{database(size)}"')
            exists = False
            entry = None
        if not exists:
            smaller = (
                [
                    s
                    for s, e in manifest.items()
                    if s != size and e.get("complete") and int(e["events"]) < target  # type: ignore[call-overload]
                ]
                if reuse
                else []
            )
            if smaller:
                base = max(smaller, key=lambda s: int(manifest[s]["events"]))  # type: ignore[call-overload]
                started = time.perf_counter()
                await admin.execute(
                    f'CREATE DATABASE "{database(size)}" TEMPLATE "{database(base)}"'
                )
                print(f"[{size}] copied {base} in {time.perf_counter() - started:.0f} s")
                entry = {**manifest[base], "complete": False, "from": base}
            else:
                await admin.execute(f'CREATE DATABASE "{database(size)}"')
                entry = {"events": 0, "files": 0, "chunks": 0, "build_seconds": 0.0}
            cache.record(size, entry)
    finally:
        await admin.close()
    assert entry is not None  # noqa: S101
    chunk = QUICK_CHUNK if size == "quick" else FILES_PER_CHUNK
    # counted afresh: a build stopped in a chunk keeps the batches it committed
    events, count = await events_in(cache.db_url(size))
    entry = {**entry, "events": events, "files": count}
    while ((count < FILES[size]) if size in FILES else (events < target)) and not late(stop_at):
        wanted = (
            FILES[size] - count if size in FILES else int((target - events) / EVENTS_PER_FILE) + 1
        )
        files = min(chunk, max(100, wanted))
        seed = 100_000 + count  # a new seed for every chunk, even after a stopped one
        started = time.perf_counter()
        bangfu(cache, size, "demo", "--files", str(files), "--bulk", "--seed", str(seed))
        seconds = time.perf_counter() - started
        events, count = await events_in(cache.db_url(size))
        added = events - int(entry["events"])  # type: ignore[call-overload]
        entry = {
            **entry,
            "events": events,
            "files": count,
            "chunks": int(entry["chunks"]) + 1,  # type: ignore[call-overload]
            "build_seconds": float(entry["build_seconds"]) + seconds,  # type: ignore[arg-type]
        }
        cache.record(size, entry)
        print(
            f"[{size}] +{files:,} files = {added:,} events in {seconds:.0f} s"
            f" ({added / seconds:,.0f} events/s); {events:,} events, {count:,} files",
            flush=True,
        )
    if late(stop_at):
        print(f"[{size}] stopped at {count:,} files, {events:,} events (--stop-at {stop_at})")
        entry["stopped"] = stop_at
    if defer:  # the measurement's timed rebuild makes the read models
        entry = {**entry, "read_models": False, "complete": True}
        conn = await asyncpg.connect(cache.db_url(size))
        try:
            await conn.execute("ANALYZE events")
            entry["bytes"] = int(await conn.fetchval("SELECT pg_database_size(current_database())"))
        finally:
            await conn.close()
        cache.record(size, entry)
        return entry
    started = time.perf_counter()
    bangfu(cache, size, "projections", "rebuild")
    entry = {**entry, "read_models_seconds": time.perf_counter() - started, "complete": True}
    entry["read_models"] = True
    conn = await asyncpg.connect(cache.db_url(size))
    try:
        await conn.execute("VACUUM ANALYZE")
        entry["bytes"] = int(await conn.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await conn.close()
    cache.record(size, entry)
    print(
        f"[{size}] read models rebuilt in {entry['read_models_seconds']:.0f} s;"
        f" database {int(entry['bytes']) / 1e9:.2f} GB",  # type: ignore[call-overload]
        flush=True,
    )
    return entry


# ---------------------------------------------------------------------------- HTTP


class Connection:
    """A keep-alive HTTP/1.1 connection: sends a prepared request, reads the whole answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
        return cls(reader, writer)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked = 0, False
        for line in head.split(b"\r\n"):
            lower = line.lower()
            if lower.startswith(b"content-length:"):
                length = int(line[15:])
            elif lower.startswith(b"transfer-encoding:") and b"chunked" in lower:
                chunked = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            return status, b"".join(p[:-2] for p in parts)
        return status, (await self.reader.readexactly(length)) if length else b""

    def close(self) -> None:
        self.writer.close()


def request(method: str, path: str, token: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {token}"]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """`bangfu serve` on a size's database, its own process, over loopback."""

    def __init__(self, cache: Cache, size: str) -> None:
        self.port, self.size = free_port(), size
        env = {**cache.env(size), "BANGFU_NODE_CODE": "13"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--host", "127.0.0.1",
             "--port", str(self.port)],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    async def ready(self) -> None:
        for _ in range(600):
            try:
                conn = await Connection.open(self.port)
                status, _ = await conn.send(b"GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n")
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError("the server did not become ready")

    def reset_peak(self) -> int:
        """Reset the process's peak RSS (Linux clear_refs 5); its RSS now, in bytes."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        return self._kb("VmRSS") * 1024

    def peak(self) -> int:
        return self._kb("VmHWM") * 1024

    def _kb(self, field: str) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ---------------------------------------------------------------------------- statements


class Recorder:
    """A pool for `adapters.pg.reads`: runs what it is given and keeps each statement, so the
    raw baseline (and EXPLAIN) can run exactly the statements a read runs."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.statements: list[tuple[str, tuple[object, ...]]] = []

    def acquire(self) -> _Acquired:
        return _Acquired(self)

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        self.statements.append((sql, args))
        return list(await self.pool.fetch(sql, *args))


class _Acquired:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.holder: object = None

    async def __aenter__(self) -> _Recording:
        self.holder = self.recorder.pool.acquire()
        conn = await self.holder.__aenter__()  # type: ignore[attr-defined]
        return _Recording(conn, self.recorder)

    async def __aexit__(self, *exc: object) -> None:
        await self.holder.__aexit__(*exc)  # type: ignore[attr-defined]


class _Recording:
    def __init__(self, conn: asyncpg.Connection, recorder: Recorder) -> None:
        self.conn, self.recorder = conn, recorder

    async def execute(self, sql: str, *args: object) -> str:
        # the planner settings `reads.scoped` opens a transaction with (`in_index_order`,
        # `custom_plans`)
        parts = [part.strip() for part in sql.split(";")]
        planner = ("SET LOCAL enable_", "SET LOCAL plan_cache_mode")
        self.recorder.statements += [(p, ()) for p in parts if p.startswith(planner)]
        return str(await self.conn.execute(sql, *args))

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        self.recorder.statements.append((sql, args))
        return list(await self.conn.fetch(sql, *args))

    async def fetchval(self, sql: str, *args: object) -> object:
        self.recorder.statements.append((sql, args))
        return await self.conn.fetchval(sql, *args)

    async def fetchrow(self, sql: str, *args: object) -> object:
        self.recorder.statements.append((sql, args))
        return await self.conn.fetchrow(sql, *args)

    async def cursor(self, sql: str, *args: object) -> object:
        self.recorder.statements.append((sql, args))
        return await self.conn.cursor(sql, *args)


async def scoped_run(
    conn: asyncpg.Connection, root: str, statements: list, explain: str = ""
) -> list:
    """The statements as `reads.scoped` runs them: one read-only transaction as the reader role,
    scoped to `root`, with the planner settings the read opened it with (recorded as `SET`s)."""
    from adapters.pg.reads import READER_ROLE, SCOPE  # noqa: PLC0415

    settings = "".join(f"; {sql}" for sql, _ in statements if sql.startswith("SET "))
    await conn.execute(
        f"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;"
        f" SET LOCAL ROLE {READER_ROLE}; SET LOCAL {SCOPE} = '{root}'{settings}"
    )
    out = []
    try:
        for sql, args in statements:
            if not sql.startswith("SET "):
                out.append(await conn.fetch(explain + sql, *args))
    finally:
        await conn.execute("COMMIT")
    return out


# ---------------------------------------------------------------------------- the read cases


LEDGER_SORTS = [
    "applied_on", "-applied_on", "approved_on", "-approved_on", "head_name", "-head_name",
    "assistance_total", "-assistance_total", "updated_at", "-updated_at",
]  # fmt: skip
LEDGER_FILTERS = {
    "status=approved&sort=head_name": {"status": ["approved"], "sort": "head_name"},
    "category=deep": {"category": ["deep"]},
    "file_level=district": {"file_level": ["district"]},
    "cause=illness": {"cause": ["illness"]},
    "worker_kind=migrant": {"worker_kind": ["migrant"]},
    "civil_affairs=dibao": {"civil_affairs": ["dibao"]},
    "civil_affairs_to_act=true": {"civil_affairs_to_act": True},
    "q=王": {"q": "王"},
}
DUE_KINDS = ["visits", "rechecks", "follow_up", "exit"]
PAGE = 50  # the page every paged case asks for (the ledger's limit=50, the API's defaults)


@dataclass
class Case:
    name: str  # e.g. "ledger sort=-head_name"
    level: str  # province, district, base
    path: str
    capture: Callable[[Recorder, str], Awaitable[object]]  # runs the read's statements
    # a paged read: its capture for a page of k rows (`--same-rows`)
    limited: Callable[[int], Callable[[Recorder, str], Awaitable[object]]] | None = None


def rows_of(result: object) -> int | None:
    """How many rows a read returned: a page's (the first of what a paged read returns), an
    export's count; None for a figure."""
    if isinstance(result, tuple):
        result = result[0]
    if isinstance(result, list):
        return len(result)
    return result if isinstance(result, int) else None


def read_cases(  # noqa: PLR0915 — one case builder after another
    levels: dict[str, str], today: date, limits: dict[str, int] | None = None
) -> list[Case]:
    """Every read case at every level; with `limits` (`--same-rows`), only the paged cases
    named in it, each asking for that many rows (`limit=k` in the request and in the raw
    read), named `… limit=k`."""
    from urllib.parse import quote  # noqa: PLC0415

    from adapters.http.readmodels import (  # noqa: PLC0415
        DUE_PAGE,
        DUPLICATES_PAGE,
        QUEUE_PAGE,
        STATS_PAGE,
        ledger_filter,
    )
    from adapters.pg import reads  # noqa: PLC0415
    from domain.civil_affairs import Record  # noqa: PLC0415
    from domain.units import UnitCode  # noqa: PLC0415
    from domain.values import Category, Cause, FileLevel, Level, Status, WorkerKind  # noqa: PLC0415

    enums = {"status": Status, "category": Category, "file_level": FileLevel, "cause": Cause,
             "worker_kind": WorkerKind, "civil_affairs": Record}  # fmt: skip

    def ledger(
        params: dict[str, object], sort: str, limit: int = 50
    ) -> Callable[[Recorder, str], Awaitable[object]]:
        async def run(rec: Recorder, root: str) -> object:
            filters = {
                k: ([enums[k](x) for x in v] if isinstance(v, list) else v)
                for k, v in params.items() if k != "sort"
            }  # fmt: skip
            where = ledger_filter(UnitCode(root), **filters)  # type: ignore[arg-type]
            return await reads.ledger_page(
                rec,
                where,
                sort=sort.lstrip("-"),
                descending=sort.startswith("-"),
                after=None,
                limit=limit,
            )  # type: ignore[arg-type]

        return run

    def xlsx(rec_sort: str = "applied_on") -> Callable[[Recorder, str], Awaitable[object]]:
        async def run(rec: Recorder, root: str) -> object:
            where = ledger_filter(UnitCode(root))
            n = 0
            async for batch in reads.ledger_rows(rec, where, sort=rec_sort):  # type: ignore[arg-type]
                n += len(batch)
            return n

        return run

    def stats(level: bool) -> Callable[[Recorder, str], Awaitable[object]]:
        async def run(rec: Recorder, root: str) -> object:
            period = str(today.year)
            children: dict[str, object] = {}
            if level:
                children, _ = await reads.children_figures(
                    rec,
                    root,
                    Level.BASE,
                    period,
                    after=None,
                    limit=STATS_PAGE,  # type: ignore[arg-type]  # the API's default page
                )
            await reads.unit_names(rec, [root, *children])  # type: ignore[arg-type]
            return await reads.unit_figures(rec, root, period)  # type: ignore[arg-type]

        return run

    def due(kind: str, limit: int = DUE_PAGE) -> Callable[[Recorder, str], Awaitable[object]]:
        async def run(rec: Recorder, root: str) -> object:
            return await reads.due(
                rec,
                root,
                kind,
                as_of=today,
                visit_days=90,
                follow_up_months=12,
                limit=limit,  # the API's default page, unless `limits` says
                after=None,
            )  # type: ignore[arg-type]

        return run

    def queue(limit: int = QUEUE_PAGE) -> Callable[[Recorder, str], Awaitable[object]]:
        async def run(rec: Recorder, root: str) -> object:
            return await reads.approval_queue(rec, root, limit=limit, after=None)  # type: ignore[arg-type]

        return run

    def duplicates(limit: int = DUPLICATES_PAGE) -> Callable[[Recorder, str], Awaitable[object]]:
        async def run(rec: Recorder, root: str) -> object:
            return await reads.duplicates(rec, root, limit=limit, after=None)  # type: ignore[arg-type]

        return run

    if limits is not None:  # the paged cases again, each for the rows `limits` gives it
        again: list[Case] = []
        for case in read_cases(levels, today):
            k = limits.get(f"{case.level} · {case.name}")
            if k is None or case.limited is None:
                continue
            path = re.sub(r"([?&])limit=[0-9]+&?", r"\1", case.path).rstrip("?&")
            path += ("&" if "?" in path else "?") + f"limit={k}"
            again.append(Case(f"{case.name} limit={k}", case.level, path, case.limited(k)))
        return again

    cases = []
    for level in levels:
        for sort in LEDGER_SORTS:
            cases.append(Case(f"ledger sort={sort}", level, f"/api/v1/ledger?limit=50&sort={sort}",
                              ledger({}, sort), functools.partial(ledger, {}, sort)))  # fmt: skip
        for name, params in LEDGER_FILTERS.items():
            query = "&".join(
                f"{k}={quote(str(x).lower() if isinstance(x, bool) else str(x))}"
                for k, v in params.items() for x in (v if isinstance(v, list) else [v])
            )  # fmt: skip
            sort = str(params.get("sort", "applied_on"))
            cases.append(Case(f"ledger {name}", level, f"/api/v1/ledger?limit=50&{query}",
                              ledger(params, sort),
                              functools.partial(ledger, params, sort)))  # fmt: skip
        if level != "base":
            cases.append(Case("stats level=base", level, "/api/v1/stats?level=base", stats(True)))
        else:
            cases.append(Case("stats", level, "/api/v1/stats", stats(False)))
        for kind in DUE_KINDS:
            cases.append(Case(f"due kind={kind}", level, f"/api/v1/due?kind={kind}", due(kind),
                              functools.partial(due, kind)))  # fmt: skip
        cases.append(Case("queues/approvals", level, "/api/v1/queues/approvals", queue(), queue))
        cases.append(Case("duplicates", level, "/api/v1/duplicates", duplicates(), duplicates))
        if level == "base":
            cases.append(Case("ledger.xlsx", level, "/api/v1/ledger.xlsx", xlsx()))
    return cases


# ---------------------------------------------------------------------------- measuring


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else math.nan


@dataclass
class Timing:
    """Rounds of one measurement: each round's p50 and p99 (ms)."""

    p50s: list[float] = field(default_factory=list)
    p99s: list[float] = field(default_factory=list)
    errors: int = 0
    body: int = 0

    def add(self, latencies: list[float]) -> None:
        self.p50s.append(pct(latencies, 0.5))
        self.p99s.append(pct(latencies, 0.99))

    def as_dict(self) -> dict[str, object]:
        return {
            "p50": statistics.median(self.p50s) if self.p50s else math.nan,
            "p99": statistics.median(self.p99s) if self.p99s else math.nan,
            "rounds_p99": self.p99s, "errors": self.errors, "body": self.body,
        }  # fmt: skip


async def once(port: int, req: bytes) -> tuple[int, bytes]:
    """One request on a connection of its own."""
    conn = await Connection.open(port)
    try:
        return await conn.send(req)
    finally:
        conn.close()


async def http_round(port: int, requests: list[bytes], timing: Timing) -> None:
    """The requests one after another on one new keep-alive connection (the server closes an
    idle one after a few seconds)."""
    conn = await Connection.open(port)
    latencies = []
    for req in requests:
        started = time.perf_counter()
        status, body = await conn.send(req)
        latencies.append(time.perf_counter() - started)
        if status >= 300:
            timing.errors += 1
            if timing.errors == 1:
                print(f"    {status}: {body[:300]!r}", flush=True)
        timing.body = len(body)
    conn.close()
    timing.add(latencies)


async def raw_round(
    pool: asyncpg.Pool, root: str, statements: list, n: int, timing: Timing
) -> None:
    latencies = []
    async with pool.acquire() as conn:
        for _ in range(n):
            started = time.perf_counter()
            await scoped_run(conn, root, statements)
            latencies.append(time.perf_counter() - started)
    timing.add(latencies)


@dataclass
class Reader:
    """One size's reading end: a pool, the three units read (the province, district 130306 and
    its largest base union), a token for each, and how much the log holds."""

    size: str
    pool: asyncpg.Pool
    levels: dict[str, str]
    token: dict[str, str]
    files: int
    events: int

    @classmethod
    async def open(cls, cache: Cache, size: str, base: str | None = None) -> Reader:
        """`base`: the base union read (by default the district's largest at this size)."""
        from datetime import timedelta  # noqa: PLC0415

        from adapters.http.auth import Tokens  # noqa: PLC0415
        from domain.values import Role  # noqa: PLC0415

        pool = await asyncpg.create_pool(cache.db_url(size), min_size=2, max_size=4)
        base = base or await pool.fetchval(
            "SELECT unit FROM ledger WHERE unit LIKE '130306%' AND length(unit) = 9"
            " GROUP BY unit ORDER BY count(*) DESC, unit LIMIT 1"
        )
        levels = {"province": "13", "district": "130306", "base": str(base)}
        roles = {"province": Role.INSPECTOR, "district": Role.APPROVER, "base": Role.CLERK}
        files = int(await pool.fetchval("SELECT count(*) FROM ledger"))
        events = int(await pool.fetchval("SELECT count(*) FROM events"))
        print(f"[{size}] {events:,} events, {files:,} files; base unit {base}", flush=True)
        tokens = Tokens(SECRET)
        token = {
            level: tokens.mint(user=f"growth-{level}", unit=unit, role=roles[level],
                               ttl=timedelta(hours=6))
            for level, unit in levels.items()
        }  # fmt: skip
        return cls(size, pool, levels, token, files, events)


@dataclass
class Measured:
    """One read case at one size: its request, the statements it runs (for the raw side), and
    the rounds measured so far on both sides."""

    key: str  # "level · name"
    port: int
    pool: asyncpg.Pool
    root: str
    statements: list[tuple[str, tuple[object, ...]]]
    req: bytes
    rows: int | None
    web: Timing = field(default_factory=Timing)
    raw: Timing = field(default_factory=Timing)

    @classmethod
    async def prepare(cls, end: Reader, served: Served, case: Case) -> Measured:
        rec = Recorder(end.pool)
        root = end.levels[case.level]
        # capture once as the reader would run it (in a scoped transaction of its own)
        found = rows_of(await case.capture(rec, root))
        req = request("GET", case.path, end.token[case.level])
        await http_round(served.port, [req] * 3, Timing())  # warm
        return cls(f"{case.level} · {case.name}", served.port, end.pool, root, rec.statements,
                   req, found)  # fmt: skip

    async def round(self, r: int, n: int) -> None:
        """A round of `n` requests and `n` raw runs, the side going first alternating."""
        if r % 2:
            await raw_round(self.pool, self.root, self.statements, n, self.raw)
            await http_round(self.port, [self.req] * n, self.web)
        else:
            await http_round(self.port, [self.req] * n, self.web)
            await raw_round(self.pool, self.root, self.statements, n, self.raw)

    def entry(self, n: int) -> dict[str, object]:
        return {"http": self.web.as_dict(), "raw": self.raw.as_dict(), "requests": n,
                "rows": self.rows}  # fmt: skip

    def show(self, size: str) -> None:
        web, raw = self.web, self.raw
        print(
            f"[{size}] {self.key:<48} p50 {statistics.median(web.p50s):7.1f} p99"
            f" {statistics.median(web.p99s):7.1f} ms | raw p50"
            f" {statistics.median(raw.p50s):6.1f}"
            f" p99 {statistics.median(raw.p99s):6.1f} | {web.body / 1024:7.0f} KB"
            f"{' ERRORS ' + str(web.errors) if web.errors else ''}",
            flush=True,
        )


def merged(
    cache: Cache,
    size: str,
    part: dict[str, object],
    *,
    reads: bool = False,
    fresh: dict[str, object] | None = None,
) -> dict[str, object]:
    """The size's cached results with `part` written into them (into their reads with
    `reads`), saved; `fresh` stands for results not measured yet."""
    path = cache.folder / f"results-{size}.json"
    whole = json.loads(path.read_text()) if path.exists() else dict(fresh or {})
    (whole["reads"] if reads else whole).update(part)
    path.write_text(json.dumps(whole, indent=2, default=str))
    return dict(whole)


async def paired(cache: Cache, sizes: list[str], args: argparse.Namespace) -> None:
    """The read cases of two measured sizes, measured together: each case's rounds alternate
    between the sizes (the first named first in even rounds, the other in odd), both served
    at once. On a shared host whose speed drifts over minutes — steal time, other tenants — a
    size measured half an hour after the other can differ by 2× for nothing in the code;
    rounds taken side by side see the same machine. The figures replace the sizes' reads in
    their results (`--same-rows` too: its `… limit=k` twins), marked `paired`."""
    first = await Reader.open(cache, sizes[0])
    # the same base union at both sizes (the largest of the first): the same request
    ends = [first, await Reader.open(cache, sizes[1], base=first.levels["base"])]
    served = [Served(cache, size) for size in sizes]
    today = datetime.now(UTC).date()
    limits = same_rows(cache, args.same_rows) if args.same_rows else None
    if limits is not None:
        print(f"[{'+'.join(sizes)}] same rows as {args.same_rows}: {limits}", flush=True)
    found: list[dict[str, dict[str, object]]] = [{} for _ in sizes]
    try:
        await asyncio.gather(*(s.ready() for s in served))
        by_key = [
            {f"{c.level} · {c.name}": c for c in read_cases(end.levels, today, limits)
             if wanted(c, args.only)}
            for end in ends
        ]  # fmt: skip
        for key in [k for k in by_key[0] if k in by_key[1]]:
            both = [
                await Measured.prepare(end, s, cases[key])
                for end, s, cases in zip(ends, served, by_key, strict=True)
            ]
            for r in range(args.rounds):
                for one in both if r % 2 == 0 else both[::-1]:
                    await one.round(r, args.requests)
            for size, one, out in zip(sizes, both, found, strict=True):
                out[key] = {**one.entry(args.requests), "paired": "+".join(sizes)}
                one.show(size)
    finally:
        for s in served:
            s.stop()
        for end in ends:
            await end.pool.close()
    for size, out in zip(sizes, found, strict=True):
        merged(cache, size, dict(out), reads=True)


async def measure(
    cache: Cache, size: str, args: argparse.Namespace, *, read_models: bool = True
) -> dict[str, object]:
    made: dict[str, object] = {}
    if not read_models:  # a deferred build: the timed rebuild makes them, before anything else
        made = await rebuild_and_raw(cache, size, args)
        cache.record(size, {**cache.manifest()[size], "read_models": True})
    end = await Reader.open(cache, size)
    pool, levels, token, files, events = end.pool, end.levels, end.token, end.files, end.events
    today = datetime.now(UTC).date()
    result: dict[str, object] = {
        "relations": await relation_sizes(pool),"size": size, "events": events, "files": files,
                                 "levels": levels, "reads": {}}  # fmt: skip
    reads_out: dict[str, object] = result["reads"]  # type: ignore[assignment]

    result.update(made)
    if args.only == "rebuild":  # the rebuild and its raw baseline alone
        result.update(await rebuild_and_raw(cache, size, args))
        await pool.close()
        (cache.folder / f"results-{size}-rebuild.json").write_text(json.dumps(result, default=str))
        return result
    served = Served(cache, size)
    try:
        await served.ready()
        if args.only == "xlsx":  # the exports alone, into the size's results
            made_now = await workbooks(size, served, pool, token, levels, args)
            await pool.close()  # (before the cluster stops, or its floor is reconnected)
            return merged(cache, size, made_now, fresh=result)
        if args.only == "sync":  # the pull alone
            result.update(await sync_pull(cache, served, pool, args))
            await pool.close()
            (cache.folder / f"results-{size}-sync.json").write_text(json.dumps(result, default=str))
            return result
        limits = None
        if args.same_rows:  # the pages that did not fill at that size, for its rows
            limits = same_rows(cache, args.same_rows)
            print(f"[{size}] same rows as {args.same_rows}: {limits}", flush=True)
        cases = [c for c in read_cases(levels, today, limits) if wanted(c, args.only)]
        for case in cases:
            one = await Measured.prepare(end, served, case)
            for r in range(args.rounds):
                await one.round(r, args.requests)
            reads_out[one.key] = one.entry(args.requests)
            partial = cache.folder / f"results-{size}-partial.json"
            partial.write_text(json.dumps(result, default=str))
            one.show(size)
        if not args.only:
            result.update(await writes_and_heavy(cache, size, served, pool, token, levels, args))
    finally:
        served.stop()
    if not args.only and not args.no_heavy and not made:
        result.update(await rebuild_and_raw(cache, size, args))
    await pool.close()
    if args.same_rows:  # added to the size's results beside the default pages
        return merged(cache, size, reads_out, reads=True)
    name = f"results-{size}.json" if not args.only else f"results-{size}-only.json"
    (cache.folder / name).write_text(json.dumps(result, indent=2, default=str))
    return result


def same_rows(cache: Cache, size: str) -> dict[str, int]:
    """The paged reads that returned fewer rows than their page at `size` (its results' "rows"),
    and that many: a larger log fills more of the page, so the same request returns more, and
    measuring it again for those rows compares the same work."""
    reads = json.loads((cache.folder / f"results-{size}.json").read_text())["reads"]
    return {
        key: int(entry["rows"])
        for key, entry in reads.items()
        if " limit=" not in key and entry.get("rows") and int(entry["rows"]) < PAGE
    }


async def relation_sizes(pool: asyncpg.Pool) -> dict[str, int]:
    """Bytes on disk of each table with its indexes and TOAST (the largest 20), and the whole
    database."""
    rows = await pool.fetch(
        "SELECT c.relname, pg_total_relation_size(c.oid) AS bytes FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY bytes DESC LIMIT 20"
    )
    sizes = {str(r["relname"]): int(r["bytes"]) for r in rows}
    sizes["(database)"] = int(await pool.fetchval("SELECT pg_database_size(current_database())"))
    return sizes


async def workbooks(
    size: str, served: Served, pool: asyncpg.Pool, token: dict[str, str],
    levels: dict[str, str], args: argparse.Namespace,
) -> dict[str, object]:  # fmt: skip
    """The whole-province and the district's `ledger.xlsx` through HTTP, `--heavy-rounds` each:
    seconds (the median run) and the serve process's peak memory growth, beside a raw cursor
    over the same rows (`--only xlsx`: these alone, into the size's results)."""
    out: dict[str, object] = {}
    for level in ("province", "district"):
        runs = []
        for _ in range(args.heavy_rounds):
            before = served.reset_peak()
            started = time.perf_counter()
            status, data = await once(
                served.port, request("GET", "/api/v1/ledger.xlsx", token[level])
            )
            seconds = time.perf_counter() - started
            runs.append({"seconds": seconds, "bytes": len(data), "status": status,
                         "peak_growth": served.peak() - before, "rss_before": before})  # fmt: skip
        # raw: every row of the same statement through a cursor
        started = time.perf_counter()
        async with pool.acquire() as c, c.transaction():
            rows = 0
            async for _ in c.cursor(
                "SELECT * FROM ledger l LEFT JOIN units u ON u.code = l.unit"
                " WHERE l.unit LIKE $1 ORDER BY l.applied_on, l.file_id", levels[level] + "%",
            ):  # fmt: skip
                rows += 1
        raw_s = time.perf_counter() - started
        best = sorted(runs, key=lambda x: float(x["seconds"]))[len(runs) // 2]
        out[f"xlsx {level}"] = {**best, "rows": rows, "raw_seconds": raw_s, "runs": runs}
        print(f"[{size}] xlsx {level}: {best['seconds']:.1f} s, {int(best['bytes']) / 1e6:.1f} MB,"
              f" status {best['status']}, server peak growth"
              f" {int(best['peak_growth']) / 1e6:.0f} MB; raw cursor of {rows:,} rows"
              f" {raw_s:.1f} s", flush=True)  # fmt: skip
    return out


async def writes_and_heavy(  # noqa: PLR0915
    cache: Cache, size: str, served: Served, pool: asyncpg.Pool,
    token: dict[str, str], levels: dict[str, str], args: argparse.Namespace,
) -> dict[str, object]:  # fmt: skip
    import uuid  # noqa: PLC0415
    from datetime import timedelta  # noqa: PLC0415

    from adapters.http.auth import Tokens  # noqa: PLC0415
    from domain.values import Role  # noqa: PLC0415

    out: dict[str, object] = {}
    rounds, n = args.rounds, args.requests
    tokens = Tokens(SECRET)
    # the full append path: a clerk records assistance on an approved file of its unit
    approved = await pool.fetch(
        "SELECT file_id, unit FROM ledger WHERE status = 'approved' ORDER BY file_id LIMIT $1",
        n,
    )
    # dated today: a fixed day was refused (422) for the files the demo approved after it
    body = (
        b'{"assisted_on":"' + datetime.now(UTC).date().isoformat().encode() + b'",'
        b'"kind":"living_aid","amount":"500.00","department":"union","helper":"growth bench"}'
    )
    appends = [
        request("POST", f"/api/v1/files/{r['file_id']}/assistance",
                tokens.mint(user="growth-clerk", unit=r["unit"], role=Role.CLERK,
                            ttl=timedelta(hours=6)), body)
        for r in approved
    ]  # fmt: skip
    sample = [r["file_id"] for r in approved]
    row = await pool.fetchrow(
        "SELECT stream_id, version, type, payload, recorded_at, unit, hash FROM events"
        " WHERE type = 'household.assisted' LIMIT 1"
    )
    await pool.execute("DROP TABLE IF EXISTS growth_raw_append")
    await pool.execute("CREATE TABLE growth_raw_append (LIKE events INCLUDING ALL)")
    web, raw = Timing(), Timing()
    for r in range(rounds):

        async def raw_append() -> None:
            latencies = []
            for _ in range(n):
                started = time.perf_counter()
                await pool.execute(
                    "INSERT INTO growth_raw_append (stream_id, version, type, payload,"
                    " recorded_at, unit, hash) VALUES ($1, 1, $2, $3, $4, $5, $6)",
                    uuid.uuid4(), row["type"], row["payload"], row["recorded_at"],
                    row["unit"], row["hash"],
                )  # fmt: skip
                latencies.append(time.perf_counter() - started)
            raw.add(latencies)

        if r % 2:
            await raw_append()
            await http_round(served.port, appends, web)
        else:
            await http_round(served.port, appends, web)
            await raw_append()
    await pool.execute("DROP TABLE growth_raw_append")
    out["append"] = {"http": web.as_dict(), "raw": raw.as_dict(), "requests": n}
    print(f"[{size}] append (POST assistance)  p50 {web.as_dict()['p50']:.1f}"
          f" p99 {web.as_dict()['p99']:.1f} ms | raw INSERT p50 {raw.as_dict()['p50']:.1f}"
          f" p99 {raw.as_dict()['p99']:.1f}", flush=True)  # fmt: skip

    # a file read, beside a raw read of its stream
    reads = [request("GET", f"/api/v1/files/{i}", token["province"]) for i in sample]
    web, raw = Timing(), Timing()
    for r in range(rounds):

        async def raw_file() -> None:
            latencies = []
            for i in sample:
                started = time.perf_counter()
                await pool.fetch(
                    "SELECT version, type, payload, recorded_at, hash FROM events"
                    " WHERE stream_id = $1 ORDER BY version", i,
                )  # fmt: skip
                latencies.append(time.perf_counter() - started)
            raw.add(latencies)

        if r % 2:
            await raw_file()
            await http_round(served.port, reads, web)
        else:
            await http_round(served.port, reads, web)
            await raw_file()
    out["file read"] = {"http": web.as_dict(), "raw": raw.as_dict(), "requests": n}
    print(f"[{size}] file read (GET /files/id)  p50 {web.as_dict()['p50']:.1f}"
          f" p99 {web.as_dict()['p99']:.1f} ms | raw p50 {raw.as_dict()['p50']:.1f}"
          f" p99 {raw.as_dict()['p99']:.1f}", flush=True)  # fmt: skip

    out.update(await workbooks(size, served, pool, token, levels, args))

    # a 1,000-file spot-check, beside a raw read of 1,000 files' streams
    spot_body = json.dumps({"unit": "13", "sample": 1000, "seed": 18}).encode()
    runs = []
    for _ in range(args.heavy_rounds):
        started = time.perf_counter()
        status, data = await once(
            served.port, request("POST", "/api/v1/spot-checks", token["province"], spot_body)
        )
        runs.append(time.perf_counter() - started)
        if status != 201:
            print(f"    spot-check {status}: {data[:300]!r}", flush=True)
    ids = [r["file_id"] for r in await pool.fetch(
        "SELECT file_id FROM ledger ORDER BY md5(file_id::text) LIMIT 1000")]  # fmt: skip
    started = time.perf_counter()
    for i in ids:
        await pool.fetch("SELECT version, type, payload, recorded_at, hash FROM events"
                         " WHERE stream_id = $1 ORDER BY version", i)  # fmt: skip
    raw_s = time.perf_counter() - started
    out["spot-check 1,000"] = {"seconds": statistics.median(runs), "runs": runs,
                               "raw_seconds": raw_s}  # fmt: skip
    print(f"[{size}] spot-check of 1,000 files: {statistics.median(runs):.2f} s;"
          f" raw read of 1,000 streams {raw_s:.2f} s", flush=True)  # fmt: skip

    if args.no_heavy:
        return out
    out.update(await sync_pull(cache, served, pool, args))
    return out


async def sync_pull(
    cache: Cache, served: Served, pool: asyncpg.Pool,
    args: argparse.Namespace,
) -> dict[str, object]:  # fmt: skip
    """A pull of the node's log from its start into an empty database, for `--sync-seconds` or
    to the end (`--only sync --sync-seconds 0`: the whole log)."""
    import random  # noqa: PLC0415
    from datetime import timedelta  # noqa: PLC0415

    from adapters.http.auth import Tokens  # noqa: PLC0415
    from domain.values import Role  # noqa: PLC0415

    out: dict[str, object] = {}
    size = served.size
    tokens = Tokens(SECRET)
    # a full sync pull of the node's log into an empty database
    import httpx  # noqa: PLC0415

    from adapters.pg.migrations import migrate  # noqa: PLC0415
    from adapters.sync.node import Downstream  # noqa: PLC0415
    from adapters.sync.pull import Puller  # noqa: PLC0415

    target = f"growth_pull_{random.randrange(1 << 30)}"
    await pool.execute(f'CREATE DATABASE "{target}"')
    try:
        upstream = await asyncpg.create_pool(
            with_database(cache.url, target), min_size=1, max_size=4
        )
        async with upstream.acquire() as c:
            await migrate(c)
        sync_token = tokens.mint(user="growth-sync", unit="13", role=Role.SYNC,
                                 ttl=timedelta(hours=6))  # fmt: skip
        puller = Puller(upstream, Downstream("13", f"http://127.0.0.1:{served.port}", sync_token),
                        limit=5000, client=httpx.AsyncClient(timeout=120))  # fmt: skip
        # the pull from the start of the log for `--sync-seconds` (a full pull of a log whose
        # demo files carry scans runs at about 1,000 events/s here: hours at these sizes)
        started = time.perf_counter()
        added = 0
        while not args.sync_seconds or time.perf_counter() - started < args.sync_seconds:
            page, stored = await puller.step()
            added += stored.accepted
            if not page.more:
                break
        seconds = time.perf_counter() - started
        await puller.client.aclose()
        await upstream.close()
        out["sync pull"] = {"events": added, "seconds": seconds, "rate": added / seconds,
                            "full": not page.more}  # fmt: skip
        print(f"[{size}] sync pull from the start: {added:,} events in {seconds:.0f} s"
              f" = {added / seconds:,.0f} events/s", flush=True)  # fmt: skip
    finally:
        await pool.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    return out


async def rebuild_and_raw(cache: Cache, size: str, args: argparse.Namespace) -> dict[str, object]:
    """`bangfu projections rebuild` (every read model, its own process) beside raw read_log +
    decode of the same log in this process."""
    from adapters.pg.codec import EventCodec  # noqa: PLC0415
    from adapters.pg.store import START, PostgresEventStore  # noqa: PLC0415
    from adapters.pii.keyring import Keyring  # noqa: PLC0415
    from adapters.runtime.secrets import load_pii_keys  # noqa: PLC0415

    pool = await asyncpg.create_pool(cache.db_url(size), min_size=1, max_size=2)
    keyring = Keyring(pool, load_pii_keys(None, cache.keys))
    store, codec = PostgresEventStore(pool, keyring=keyring), EventCodec(keyring=keyring)
    out: dict[str, object] = {}
    events = int(await pool.fetchval("SELECT count(*) FROM events"))
    raws, rebuilds = [], []
    for r in range(args.heavy_rounds):

        async def raw() -> None:
            keyring.clear()
            started = time.perf_counter()
            cursor, read = START, 0
            async with pool.acquire() as conn:
                while batch := await store.read_log(cursor, 10_000, conn=conn):
                    for event in batch:
                        codec.decode_fields(event.type, event.payload, event.stream_id)
                    read += len(batch)
                    cursor = batch[-1].cursor
            raws.append(read / (time.perf_counter() - started))

        def rebuild() -> None:
            import resource  # noqa: PLC0415

            started = time.perf_counter()
            bangfu(cache, size, "projections", "rebuild", nice=0)
            rebuilds.append(events / (time.perf_counter() - started))
            # the largest child waited for so far: the rebuild process, the largest of them
            out["rebuild_max_rss"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024

        if r % 2:
            rebuild()
            await raw()
        else:
            await raw()
            rebuild()
        print(f"[{size}] rebuild every read model {rebuilds[-1]:,.0f} events/s;"
              f" raw read_log + decode {raws[-1]:,.0f} events/s", flush=True)  # fmt: skip
    await pool.close()
    out["rebuild"] = {"rate": statistics.median(rebuilds), "raw_rate": statistics.median(raws),
                      "rounds": rebuilds, "raw_rounds": raws}  # fmt: skip
    return out


# ---------------------------------------------------------------------------- EXPLAIN


def plan_summary(plan: dict[str, object]) -> dict[str, object]:
    """Of one JSON plan: the indexes and sequential scans used, rows the scans read (returned +
    removed by filter, times loops), buffers, and the execution time."""
    indexes: list[str] = []
    seq: list[str] = []
    read = 0

    def walk(node: dict[str, object]) -> None:
        nonlocal read
        kind = str(node.get("Node Type"))
        loops = int(node.get("Actual Loops", 1))  # type: ignore[call-overload]
        if "Scan" in kind and kind != "Bitmap Index Scan":  # its rows are its heap scan's
            read += (
                int(node.get("Actual Rows", 0)) + int(node.get("Rows Removed by Filter", 0))
            ) * loops  # type: ignore[call-overload]
        if "Scan" in kind:
            if "Index Name" in node:
                indexes.append(f"{kind.replace(' Scan', '')}:{node['Index Name']}")
            elif kind == "Seq Scan":
                seq.append(str(node.get("Relation Name")))
        for child in node.get("Plans", []):  # type: ignore[attr-defined]
            walk(child)

    top = plan["Plan"]  # type: ignore[index]
    walk(top)  # type: ignore[arg-type]
    return {
        "indexes": sorted(set(indexes)), "seq_scans": sorted(set(seq)), "rows_read": read,
        "rows_out": top.get("Actual Rows"),  # type: ignore[attr-defined]
        "buffers": int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0)),  # type: ignore[attr-defined, call-overload]
        "ms": plan.get("Execution Time"),
    }  # fmt: skip


def wanted(case: Case, only: str) -> bool:
    """Whether `--only` (comma-separated parts of names, `level · name`) keeps the case."""
    return not only or any(p in f"{case.level} · {case.name}" for p in only.split(","))


async def explain(cache: Cache, size: str, folder: Path, only: str = "") -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement of every read case: the plans in
    `folder/<size>.txt`, a summary table printed and in `folder/<size>-summary.md`."""
    pool = await asyncpg.create_pool(cache.db_url(size), min_size=1, max_size=2)
    base = await pool.fetchval(
        "SELECT unit FROM ledger WHERE unit LIKE '130306%' AND length(unit) = 9"
        " GROUP BY unit ORDER BY count(*) DESC, unit LIMIT 1"
    )
    files = int(await pool.fetchval("SELECT count(*) FROM ledger"))
    levels = {"province": "13", "district": "130306", "base": str(base)}
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 — once, before any timing
    plans, lines = (
        [],
        [
            f"# EXPLAIN (ANALYZE, BUFFERS), {files:,} files ({size}), `bench/growth.py --explain`",
            "",
            "| level | read | statement | indexes | seq scans | rows read | rows out | buffers"
            " | ms |",
            "|---|---|---:|---|---|---:|---:|---:|---:|",
        ],
    )
    for case in read_cases(levels, datetime.now(UTC).date()):
        if not wanted(case, only):
            continue
        rec = Recorder(pool)
        root = levels[case.level]
        await case.capture(rec, root)
        async with pool.acquire() as conn:
            await scoped_run(conn, root, rec.statements)  # warm, as a served read is
            texts = await scoped_run(conn, root, rec.statements, "EXPLAIN (ANALYZE, BUFFERS) ")
            jsons = await scoped_run(
                conn, root, rec.statements, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
            )
        queries = [(sql, args) for sql, args in rec.statements if not sql.startswith("SET ")]
        for k, ((sql, args), text, js) in enumerate(zip(queries, texts, jsons, strict=True)):
            plans.append(
                f"## {case.level} | {case.name} | statement {k + 1}\n\n{sql}\n-- {args!r}\n"
            )
            plans.append("\n".join(r[0] for r in text) + "\n")
            data = js[0][0]
            summary = plan_summary((json.loads(data) if isinstance(data, str) else data)[0])
            lines.append(
                f"| {case.level} | {case.name} | {k + 1} | {', '.join(summary['indexes']) or '—'}"  # type: ignore[arg-type]
                f" | {', '.join(summary['seq_scans']) or '—'} | {summary['rows_read']:,}"  # type: ignore[arg-type]
                f" | {summary['rows_out']:,} | {summary['buffers']:,} | {summary['ms']:.2f} |"
            )
    await pool.close()
    (folder / f"{size}.txt").write_text("\n".join(plans))
    (folder / f"{size}-summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


# ---------------------------------------------------------------------------- report


def report(cache: Cache, sizes: list[str]) -> None:
    """Each cost at each size, and its growth from the smallest size to the largest."""
    results = {}
    for size in sizes:
        path = cache.folder / f"results-{size}.json"
        if path.exists():
            results[size] = json.loads(path.read_text())
    if not results:
        return
    order = sorted(results, key=lambda s: int(results[s]["events"]))
    first, last = order[0], order[-1]
    head = " | ".join(
        f"{s} ({int(results[s]['events']) / 1e6:.2f}M ev, {int(results[s]['files']):,} files)"
        for s in order
    )
    print(f"\n| measurement | {head} | growth {last}/{first} |")
    print("|---|" + "---:|" * (len(order) + 1))
    worst: list[tuple[float, str]] = []
    keys = [*results[last].get("reads", {}), "append", "file read"]
    for key in keys:
        cells, values = [], []
        for s in order:
            entry = (
                results[s]["reads"].get(key)
                if key in results[s].get("reads", {})
                else results[s].get(key)
            )
            if not entry:
                cells.append("—")
                values.append(math.nan)
                continue
            web, raw = entry["http"], entry["raw"]
            cells.append(
                f"p50 {web['p50']:.1f} / p99 {web['p99']:.1f}"
                f" (raw {raw['p50']:.1f}/{raw['p99']:.1f})"
            )
            values.append(float(web["p50"]))
        growth = values[-1] / values[0] if values[0] == values[0] and values[0] else math.nan
        worst.append((growth, key))
        print(f"| {key} | {' | '.join(cells)} | {growth:.2f}× |")
    for key in ("xlsx province", "xlsx district", "spot-check 1,000"):
        vals = [results[s].get(key) for s in order]
        cells = [
            f"{v['seconds']:.2f} s"
            + (f", peak +{int(v['peak_growth']) / 1e6:.0f} MB" if "peak_growth" in v else "")
            if v
            else "—"
            for v in vals
        ]
        growth = vals[-1]["seconds"] / vals[0]["seconds"] if vals[0] and vals[-1] else math.nan
        print(f"| {key} | {' | '.join(cells)} | {growth:.2f}× |")
    for key, field_ in (("rebuild", "rate"), ("sync pull", "rate")):
        vals = [results[s].get(key) for s in order]
        cells = [
            f"{v[field_]:,.0f} events/s"
            + (f" (raw {v['raw_rate']:,.0f})" if "raw_rate" in v else "")
            if v
            else "—"
            for v in vals
        ]
        growth = vals[-1][field_] / vals[0][field_] if vals[0] and vals[-1] else math.nan
        print(f"| {key} | {' | '.join(cells)} | {growth:.2f}× (rate) |")
    # targets
    print("\ntargets (the largest size measured is " + last + "):")
    judge_reads(results, order, {k: g for g, k in worst})
    province = a_province(results, order)
    x = results[province].get("xlsx province") if province else None
    measured = "; ".join(
        f"{s}: {v['seconds']:.1f} s, +{v['peak_growth'] / 1e6:.0f} MB for {v['rows']:,} rows"
        f" ({v['seconds'] / v['rows'] * 1e6:.0f} µs a row)"
        for s in order
        if (v := results[s].get("xlsx province"))
    )
    if x:  # the target names 200,000 rows: judged at the size that holds about that many
        ok = x["seconds"] <= 15 and x["peak_growth"] <= 200e6
        print(
            f"  whole-province xlsx of ≈ 200,000 rows ≤ 15 s, memory growth ≤ 200 MB:"
            f" {'MET' if ok else 'MISSED'} at {province}; {measured}"
        )
    elif measured:
        print(
            f"  whole-province xlsx of ≈ 200,000 rows: no size of this run holds that; {measured}"
        )
    rb = [results[s].get("rebuild") for s in order]
    if rb[0] and rb[-1]:
        ratio, share = rb[-1]["rate"] / rb[0]["rate"], rb[-1]["rate"] / rb[-1]["raw_rate"]
        print(
            f"  rebuild at {last} ≥ 0.8× {first} ({ratio:.2f}×) and ≥ 0.2× raw ({share:.2f}×): "
            f"{'MET' if ratio >= 0.8 and share >= 0.2 else 'MISSED'}"
        )


def a_province(results: dict[str, dict], order: list[str]) -> str | None:
    """The size that holds about the 200,000 files of the issue's province (within 20 %)."""
    near = [s for s in order if 160_000 <= int(results[s]["files"]) <= 240_000]
    return near[0] if near else None


def judge_reads(results: dict[str, dict], order: list[str], growth: dict[str, float]) -> None:
    """The read targets: every read's p99 at the size nearest a 200,000-file province (and the
    largest), the exports apart — their target is the xlsx one; and p50 growth from the
    smallest size to the largest, as requested (the API's default pages) and for the same rows
    (a page that filled only in the larger log compared through its `limit=k` twin)."""
    first, last = order[0], order[-1]

    def rows(size: str, key: str) -> int | None:
        found = results[size].get("reads", {}).get(key, {}).get("rows")
        return None if found is None else int(found)

    def export(key: str) -> bool:
        return key.endswith("ledger.xlsx")

    province = a_province(results, order)
    if province is None:
        print("  (no size of this run holds a 200,000-file province: the p99s at the largest)")
    for size in dict.fromkeys([province or last, last]):
        measured = results[size].get("reads", {})
        over = [(k, v["http"]["p99"]) for k, v in measured.items()
                if v["http"]["p99"] > 50 and not export(k)]  # fmt: skip
        highest = max(((v["http"]["p99"], k) for k, v in measured.items() if not export(k)),
                      default=(math.nan, "—"))  # fmt: skip
        print(
            f"  every read p99 ≤ 50 ms at {int(results[size]['files']):,} files ({size}): "
            + ("MET" if not over else "MISSED: " + ", ".join(f"{k} {p:.0f} ms" for k, p in over))
            + f" (highest {highest[0]:.1f} ms, {highest[1]})"
            + "".join(
                f"; export {k}: p99 {v['http']['p99']:.0f} ms for {v.get('rows')} rows"
                for k, v in measured.items()
                if export(k)
            )
        )
    grown = sorted(((g, k) for k, g in growth.items() if g > 1.25 and " limit=" not in k),
                   reverse=True)  # fmt: skip
    print(
        f"  per-request p50 at {last} ≤ 1.25× {first}, the default requests: "
        + ("MET" if not grown else "MISSED: " + ", ".join(f"{k} {g:.2f}×" for g, k in grown))
    )
    same, apart = [], []
    for key, g in growth.items():
        if " limit=" in key or math.isnan(g):
            continue
        a, b = rows(first, key), rows(last, key)
        if a is None or b is None or a == b:
            same.append((g, key))
        elif (twin := f"{key} limit={a}") in growth and not math.isnan(growth[twin]):
            same.append((growth[twin], twin))
        elif a == 0:
            apart.append(f"{key} (empty at {first}, {b:,} rows at {last})")
        else:
            apart.append(f"{key} ({a:,} → {b:,} rows, {g * a / b:.2f}× a row)")
    missed = sorted(((g, k) for g, k in same if g > 1.25), reverse=True)
    print(
        f"  per-request p50 at {last} ≤ 1.25× {first}, the same rows ({len(same)} reads): "
        + ("MET" if not missed else "MISSED: " + ", ".join(f"{k} {g:.2f}×" for g, k in missed))
        + (
            f"; not comparable (every row of a growing subtree): {', '.join(apart)}"
            if apart
            else ""
        )
    )


# ---------------------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> int:
    import shutil  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    scratch = None
    if args.quick and args.data is None:  # a smoke run builds its small log afresh, then drops it
        scratch = tempfile.mkdtemp(prefix="bfgrowth-")
    cache = Cache(Path(scratch or args.data or DATA))
    if args.report:  # the cached results only, no server
        report(cache, args.sizes.split(","))
        return 0
    cache.start()
    try:
        sizes = ["quick"] if args.quick else args.sizes.split(",")
        if args.quick:  # a smoke run: every measurement, few requests
            args.rounds, args.requests, args.sync_seconds = 1, 10, 2.0
        if args.paired:  # the reads of two measured sizes, round by round
            if len(sizes) != 2 or not all(
                (cache.folder / f"results-{size}.json").exists() for size in sizes
            ):
                print("--paired: two sizes, each measured before", file=sys.stderr)
                return 2
            await paired(cache, sizes, args)
            report(cache, sizes)
            return 0
        for size in sizes:
            entry = await build(
                cache,
                size,
                reuse=args.reuse or args.quick,
                stop_at=args.stop_at,
                defer=args.defer_read_models,
            )
            if args.build_only:
                continue
            if args.explain:
                await explain(cache, size, Path(args.explain_to), args.only)
                continue
            await measure(cache, size, args, read_models=bool(entry.get("read_models", True)))
        if not args.build_only and not args.explain:
            report(cache, sizes)
    finally:
        cache.stop()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1m,3m,10m", help="of " + ", ".join(SIZES))
    parser.add_argument("--reuse", action="store_true", help="take cached sizes as they are")
    parser.add_argument("--data", default=None, help=f"the cache folder (default {DATA})")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--report", action="store_true", help="print the cached results' table")
    parser.add_argument("--stop-at", help="UTC HH:MM: add no chunk after it, keep what is built")
    parser.add_argument(
        "--defer-read-models",
        action="store_true",
        help="leave the read models to the measurement's timed rebuild",
    )
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--sync-seconds", type=float, default=60.0, help="pull this long")
    parser.add_argument("--heavy-rounds", type=int, default=1, help="xlsx, spot-check, rebuild")
    parser.add_argument("--no-heavy", action="store_true", help="skip sync pull and rebuild")
    parser.add_argument(
        "--only",
        default="",
        help="only the read cases whose name has this; rebuild, sync or xlsx: that alone",
    )
    parser.add_argument(
        "--same-rows",
        default="",
        help="SIZE: measure again, as `… limit=k`, each paged read whose page at SIZE held"
        " k < 50 rows (after a measurement of SIZE that recorded its rows)",
    )
    parser.add_argument(
        "--paired",
        action="store_true",
        help="two measured sizes' reads again, their rounds alternating between the sizes",
    )
    parser.add_argument("--explain-to", default=str(ROOT / "docs" / "explain"))
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
