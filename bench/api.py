"""HTTP benchmark: a command (record assistance) and a read (file by id) with 50 clients.

    .venv/bin/python bench/api.py [--quick] [--seconds S] [--workers N]

Starts a private PostgreSQL (pgserver) unless BANGFU_BENCH_DATABASE_URL is set, builds a demo
province through the bulk path, starts `bangfu serve` as a separate process and drives it with
50 keep-alive connections from a light raw-socket HTTP/1.1 client (so the load generator takes as
little of this 2-core machine as possible).

- command: open-loop at a fixed rate (200 requests/s), latency measured from each request's
  scheduled time, so queueing is not hidden (no coordinated omission);
- read: closed loop, 50 clients as fast as the server answers;
- baselines in the same run: `GET /health/live` on the same server (the framework's floor) and
  raw asyncpg reads of the same streams (the database's floor).

Targets: command p99 ≤ 30 ms at 200 requests/s; reads ≥ 2,000 requests/s.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# standard library's `http` package (which uvicorn and PyJWT import): drop the folder first.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import asyncio
import random
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import pgserver

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.http.auth import Tokens
from adapters.pg.codec import EventCodec
from adapters.pg.migrations import migrate
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.pii.keyring import Keyring
from adapters.runtime.secrets import load_pii_keys
from adapters.services import demo
from domain.values import Role

SECRET = "bench-secret-" + "y" * 40
CLIENTS = 50


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class Connection:
    """A keep-alive HTTP/1.1 connection that sends prepared requests and reads whole responses."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def request(method: str, path: str, token: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {token}"]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def closed_loop(name: str, port: int, requests: list[bytes], seconds: float) -> Result:
    result = Result(name)
    connections = [await Connection.open(port) for _ in range(CLIENTS)]
    deadline = time.perf_counter() + seconds

    async def client(conn: Connection, offset: int) -> None:
        i = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status = await conn.send(requests[i % len(requests)])
            i += CLIENTS
            if status == 200:
                result.latencies.append(time.perf_counter() - started)
            else:
                result.errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(c, k) for k, c in enumerate(connections)))
    result.seconds = time.perf_counter() - started
    for conn in connections:
        conn.close()
    return result


async def open_loop(
    name: str, port: int, requests: list[list[bytes]], rate: float, seconds: float
) -> Result:
    """Send at `rate` per second; each connection owns its own file (its own request list)."""
    result = Result(name)
    connections = [await Connection.open(port) for _ in range(len(requests))]
    idle: asyncio.Queue[int] = asyncio.Queue()
    for k in range(len(connections)):
        idle.put_nowait(k)
    sent = [0] * len(connections)
    tasks = []

    async def fire(k: int, scheduled: float) -> None:
        conn = connections[k]
        status = await conn.send(requests[k][sent[k] % len(requests[k])])
        sent[k] += 1
        finished = time.perf_counter()
        if status == 200:
            result.latencies.append(finished - scheduled)
        else:
            result.errors += 1
        idle.put_nowait(k)

    start = time.perf_counter()
    total = int(rate * seconds)
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        k = await idle.get()
        tasks.append(asyncio.create_task(fire(k, scheduled)))
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - start
    for conn in connections:
        conn.close()
    return result


async def raw_reads(url: str, ids: list, seconds: float) -> Result:
    """The database floor: 50 concurrent asyncpg reads of whole streams, no HTTP, no replay."""
    result = Result("raw asyncpg stream read")
    pool = await asyncpg.create_pool(url, min_size=CLIENTS, max_size=CLIENTS)
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        i = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await pool.fetch(
                "SELECT version, type, payload, recorded_at, hash FROM events"
                " WHERE stream_id = $1 ORDER BY version",
                ids[i % len(ids)],
            )
            i += CLIENTS
            result.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(CLIENTS)))
    result.seconds = time.perf_counter() - started
    await pool.close()
    return result


async def prepare(url: str, files: int, data_dir: str) -> tuple[list, list]:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    async with pool.acquire() as conn:
        await migrate(conn)
    await PgUnitDirectory(pool).load(demo.units())

    class Clock:
        def today(self):

            return date(2026, 11, 21)

    # written with the keys the server will find in its data folder: personal data encrypted
    keyring = Keyring(pool, load_pii_keys(None, Path(data_dir)))
    repo = PgFileRepository(PostgresEventStore(pool, keyring=keyring), EventCodec(keyring=keyring))
    await demo.build(files=repo, clock=Clock(), count=files, seed=3, bulk=True)
    rows = await pool.fetch(
        "SELECT e.stream_id, e.unit, max(e.version) AS version FROM events e"
        " WHERE e.type LIKE 'household.%' GROUP BY e.stream_id, e.unit"
    )
    status = {}
    for row in await pool.fetch(
        "SELECT DISTINCT ON (stream_id) stream_id, type FROM events"
        " WHERE type LIKE 'household.%' ORDER BY stream_id, version DESC"
    ):
        status[row["stream_id"]] = row["type"]
    approved = [
        r
        for r in rows
        if status[r["stream_id"]]
        in (
            "household.approved",
            "household.assisted",
            "household.visited",
            "household.plan_agreed",
            "household.rechecked",
            "household.revised",
        )
    ]
    await pool.close()
    return rows, approved


def start_server(url: str, port: int, workers: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BANGFU_DATABASE_URL": url,
        "BANGFU_SECRET": SECRET,
        "BANGFU_DATA_DIR": data_dir,
        "BANGFU_LOG_JSON": "1",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "adapters.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_ready(port: int) -> None:
    for _ in range(300):
        try:
            conn = await Connection.open(port)
            status = await conn.send(b"GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n")
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not become ready")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rate", type=float, default=200.0, help="command requests per second")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else args.seconds
    files = 200 if args.quick else args.files

    server = None
    folder = tempfile.mkdtemp(prefix="bfhttp-")
    url = os.environ.get("BANGFU_BENCH_DATABASE_URL")
    if url is None:
        server = pgserver.get_server(Path(folder) / "pg", cleanup_mode="stop")
        url = f"postgresql://postgres@/postgres?host={Path(folder) / 'pg'}"
    rows, approved = await prepare(url, files, folder)
    print(
        f"province: {len(rows)} files, {len(approved)} approved; "
        f"{sum(r['version'] for r in rows)} events"
    )

    port = free_port()
    process = start_server(url, port, args.workers, folder)
    try:
        await wait_ready(port)
        tokens = Tokens(SECRET)
        inspector = tokens.mint(
            user="bench-inspector", unit="13", role=Role.INSPECTOR, ttl=timedelta(hours=1)
        )
        reads = [request("GET", f"/api/v1/files/{r['stream_id']}", inspector) for r in rows]
        random.Random(1).shuffle(reads)
        owners = random.Random(2).sample(approved, min(CLIENTS, len(approved)))
        body = (
            b'{"assisted_on":"2026-11-20","kind":"living_aid","amount":"500.00",'
            b'"department":"union","helper":"bench"}'
        )
        commands = []
        for r in owners:
            clerk = tokens.mint(
                user="bench-clerk", unit=r["unit"], role=Role.CLERK, ttl=timedelta(hours=1)
            )
            commands.append(
                [request("POST", f"/api/v1/files/{r['stream_id']}/assistance", clerk, body)]
            )
        live = [b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"]

        await closed_loop("warm-up", port, reads, 1.0)
        floor = await closed_loop("GET /health/live (framework floor)", port, live, seconds)
        read = await closed_loop("GET /api/v1/files/{id}", port, reads, seconds)
        command = await open_loop(
            f"POST /files/{{id}}/assistance at {args.rate:.0f}/s",
            port,
            commands,
            args.rate,
            seconds,
        )
        raw = await raw_reads(url, [r["stream_id"] for r in rows], seconds)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        if server is not None:
            server.cleanup()

    report(floor, read, command, raw, rate=args.rate, workers=args.workers, seconds=seconds)


def report(
    floor: Result,
    read: Result,
    command: Result,
    raw: Result,
    *,
    rate: float,
    workers: int,
    seconds: float,
) -> None:
    print(f"\n{'measurement':48} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in (floor, read, command, raw):
        print(f"{r.name:48} {r.rate:9.0f} {r.pct(0.5):8.2f} {r.pct(0.99):8.2f} {r.errors:7d}")
    print(
        f"\nread / framework floor: {read.rate / floor.rate:.2f}; "
        f"read / raw asyncpg read: {read.rate / raw.rate:.2f}"
    )
    ok_cmd = command.pct(0.99) <= 30 and command.rate >= 0.95 * rate and not command.errors
    ok_read = read.rate >= 2000 and not read.errors
    print(
        f"target command p99 ≤ 30 ms at {rate:.0f}/s: "
        f"{'MET' if ok_cmd else 'MISSED'} ({command.pct(0.99):.1f} ms, {command.rate:.0f}/s)"
    )
    print(f"target reads ≥ 2,000/s: {'MET' if ok_read else 'MISSED'} ({read.rate:.0f}/s)")
    print(f"workers: {workers}; machine: {os.cpu_count()} cores; {seconds:.0f} s each")


if __name__ == "__main__":
    asyncio.run(main())
