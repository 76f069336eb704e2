"""Upstream sync: a full pull of a district's log, and the steady-state lag while it writes.

    .venv/bin/python bench/sync.py                      # 1,000,000 events, 30 s of lag
    .venv/bin/python bench/sync.py --events 100000 --lag-seconds 15
    .venv/bin/python bench/sync.py --quick              # 100,000 events, 10 s of lag
    .venv/bin/python bench/sync.py --events 100000 --attachments 1000   # scans: in flight 1 vs 8
    .venv/bin/python bench/sync.py --events 100000 --attachments 16500 --scan-kb 1-5 --per-chunk

Starts a private PostgreSQL (pgserver) in a fresh folder under /tmp, or uses the server of
BANGFU_BENCH_DATABASE_URL (a superuser URL; two databases are created and dropped on it).
Fills the district database with `--events` hash-chained events (streams of 20 events, payloads
of ~300 bytes, units in district 130306) by COPY, then serves it — `bangfu serve`, in its own
process, over HTTP on loopback — and measures, in this process:

  full pull   `Puller.catch_up` from an empty province, pages of `--page` events, MessagePack:
              events/s (target ≥ 30,000);
  lag         while a writer appends 200 events/s to the district (one event per append, as
              commands do), the province's pull loop (`Puller.run`, polling every 0.1 s when
              caught up) stores them; lag = the province's storing transaction time minus the
              event's recorded time: p50 and p99 (target p99 ≤ 2 s).

With `--attachments N`, N `household.attachment_added` events are spread evenly over the
streams (at versions 2, 3, … of each; up to 19 a stream), each with a scan — `--scan-kb`, by
default 100–300 KB, of random bytes (as incompressible as a JPEG; the demo's scans are 0.5–4.5
KB: `--scan-kb 1-5`), sealed with a key of its own — stored as the store stores sealed
content (`adapters.pg.attachments.store_sealed`), one 1 MiB chunk each. Instead of the full pull
and the lag, it then measures full pulls into a fresh province database, `--rounds` times each,
interleaved: `attachments_in_flight=1` (one attachment after another, as before) against
`--in-flight` (the default): events/s and attachments/s, medians of rounds. With `--per-chunk`:
one chunk per request (`GET …/chunks/{seq}`, the older protocol) against many chunks to a request
(`POST /api/v1/sync/attachments/chunks`), both `--in-flight` requests at a time. The province has no
sync key here, so the content is stored as received, unverified (no decryption or re-hash on the
puller: that costs ≈ 1 ms per MB of CPU either way). `--latency-ms` puts a proxy between the
two that holds each request that long, as a WAN's round trip would (bandwidth not limited). It
prints the CPU seconds the puller and the served district spent in each pull.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# a script's own folder comes first on sys.path: import from the project root instead
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.http.auth import Tokens
from adapters.pg.attachments import seal_chunk, store_sealed
from adapters.pg.integrity import GENESIS
from adapters.pg.migrations import migrate
from adapters.pg.store import PostgresEventStore, StreamHead, chain
from adapters.sync.node import Downstream
from adapters.sync.pull import ATTACHMENTS_IN_FLIGHT, Puller
from domain.values import Role

SECRET = "bench-sync-secret-" + "b" * 40
DISTRICT = "130306"
PAYLOAD = json.dumps({"note": "走访记录" * 20, "amount": "1234.50", "n": 0}).encode()


def _server() -> tuple[str, object]:
    given = os.environ.get("BANGFU_BENCH_DATABASE_URL")
    if given:
        return given, None
    import pgserver  # noqa: PLC0415 — only without a given server

    folder = Path(tempfile.mkdtemp(prefix="bfsync-"))
    server = pgserver.get_server(folder / "pg", cleanup_mode="stop")
    return f"postgresql://postgres@/postgres?host={folder / 'pg'}", (server, folder)


def _db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def fill(
    pool: asyncpg.Pool, events: int, attachments: int = 0, scan_kb: str = "100-300"
) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    done = 0
    total_streams = max(1, events // 20)
    streams = 0
    rng = random.Random(7)
    low, high = (int(kb) * 1000 for kb in scan_kb.split("-"))
    async with pool.acquire() as conn:
        while done < events:
            records = []
            scans: list[tuple[uuid.UUID, uuid.UUID, bytes]] = []
            for _ in range(min(50_000, events - done) // 20 or 1):
                stream, previous = uuid.uuid4(), GENESIS
                unit = f"{DISTRICT}{(done % 7) + 1:03d}"
                # the scans spread evenly over the streams, at versions 2, 3, … of theirs
                here = min(
                    19,
                    (streams + 1) * attachments // total_streams
                    - streams * attachments // total_streams,
                )
                streams += 1
                for version in range(1, 21):
                    kind, payload = "household.visited", PAYLOAD
                    if 2 <= version < 2 + here:
                        attachment = uuid.uuid4()
                        content = rng.randbytes(rng.randint(low, high))
                        kind, payload = "household.attachment_added", json.dumps({
                            "attachment_id": str(attachment), "size": len(content),
                            "sha256": hashlib.sha256(content).hexdigest(), "kind": "other",
                            "media_type": "image/jpeg", "attached_on": "2024-01-01",
                        }).encode()  # fmt: skip
                        scans.append((stream, attachment, content))
                    event = chain(
                        previous, stream, version, kind, payload,
                        start + timedelta(seconds=done), unit,
                    )  # fmt: skip
                    previous = event.hash
                    records.append(
                        (stream, version, event.type, event.payload, event.recorded_at, unit,
                         event.hash, None)
                    )  # fmt: skip
                    done += 1
            await conn.copy_records_to_table(
                "events",
                columns=("stream_id", "version", "type", "payload", "recorded_at", "unit",
                         "hash", "refers_to"),
                records=records,
            )  # fmt: skip
            for stream, attachment, content in scans:
                aead = AESGCM(os.urandom(32))
                async with conn.transaction():
                    await store_sealed(
                        conn, attachment_id=attachment, stream_id=stream, size=len(content),
                        sha256=hashlib.sha256(content).hexdigest(),
                        sealed=[seal_chunk(aead, stream, attachment, 0, True, content)],
                    )  # fmt: skip
        await conn.execute("VACUUM ANALYZE events")


async def writer(pool: asyncpg.Pool, stop: asyncio.Event, rate: int) -> int:
    store = PostgresEventStore(pool)
    written, started = 0, time.perf_counter()
    heads: dict[uuid.UUID, tuple[int, bytes]] = {}
    streams = [uuid.uuid4() for _ in range(50)]
    while not stop.is_set():
        stream = streams[written % len(streams)]
        version, previous = heads.get(stream, (0, GENESIS))
        event = chain(
            previous, stream, version + 1, "household.visited", PAYLOAD, datetime.now(UTC),
            f"{DISTRICT}001",
        )  # fmt: skip
        head = [StreamHead(stream, version, previous)] if version else []
        await store.append([event], head)
        heads[stream] = (version + 1, event.hash)
        written += 1
        delay = started + written / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    return written


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def delayed(port: int, delay: float) -> asyncio.Server:
    """A TCP proxy to `port` on loopback that holds each piece a client sends for `delay` s
    before passing it on: every request waits a round trip, as across a WAN (bandwidth is not
    limited). The answers come back at once."""

    async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, wait: float) -> None:
        try:
            while data := await src.read(65536):
                if wait:
                    await asyncio.sleep(wait)
                dst.write(data)
                await dst.drain()
        except OSError:
            pass
        finally:
            dst.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(pipe(reader, up_writer, delay), pipe(up_reader, writer, 0))

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def compare_in_flight(
    args: argparse.Namespace,
    server_url: str,
    admin: asyncpg.Connection,
    downstream: Downstream,
    served: int,
) -> None:
    """Full pulls into a fresh province, one attachment at a time against `args.in_flight` — or,
    with `--per-chunk`, one chunk per request against many to a request (the batch route), both
    `args.in_flight` at a time; CPU seconds of the puller (this process) and of the served
    district (`served`, its pid)."""
    if args.per_chunk:
        settings = [("one chunk per request", args.in_flight, False),
                    ("batched", args.in_flight, True)]  # fmt: skip
    else:
        settings = [("in flight 1", 1, None), (f"in flight {args.in_flight}", args.in_flight, None)]
    rates: dict[str, list[tuple[float, float, float]]] = {label: [] for label, _, _ in settings}
    for round_ in range(args.rounds):
        for label, n, batched in settings if round_ % 2 == 0 else settings[::-1]:
            name = f"bench_sync_province_{uuid.uuid4().hex[:6]}"
            await admin.execute(f'CREATE DATABASE "{name}"')
            pool = await asyncpg.create_pool(_db(server_url, name), min_size=1, max_size=8)
            try:
                async with pool.acquire() as conn:
                    await migrate(conn)
                puller = Puller(
                    pool, downstream, limit=args.page, attachments_in_flight=n, batched=batched
                )
                t0, cpu0, served0 = time.perf_counter(), time.process_time(), _cpu_of(served)
                added = (await puller.catch_up()).added
                seconds = time.perf_counter() - t0
                cpu, served_cpu = time.process_time() - cpu0, _cpu_of(served) - served0
                await puller.close()
                held = await pool.fetchval("SELECT count(*) FROM attachments")
            finally:
                await pool.close()
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            rates[label].append((seconds, added / seconds, held / seconds))
            print(f"round {round_ + 1}, {label}: {added:,} events and {held:,} scans in"
                  f" {seconds:.1f} s = {added / seconds:,.0f} events/s,"
                  f" {held / seconds:,.1f} scans/s; CPU: puller {cpu:.1f} s, district"
                  f" {served_cpu:.1f} s", flush=True)  # fmt: skip
    median = {
        label: [statistics.median(r[i] for r in rates[label]) for i in range(3)]
        for label, _, _ in settings
    }
    for label, _, _ in settings:
        seconds, events, scans = median[label]
        print(f"{label}: median {seconds:.1f} s, {events:,.0f} events/s,"
              f" {scans:,.1f} scans/s", flush=True)  # fmt: skip
    (base, _, _), (new, _, _) = settings
    print(f"{new} / {base}: {median[new][1] / median[base][1]:.2f}×"
          f" the events/s (medians of {args.rounds} rounds)", flush=True)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def main(args: argparse.Namespace) -> None:  # noqa: PLR0915 — one linear script
    server_url, owned = _server()
    names = [f"bench_sync_{p}_{uuid.uuid4().hex[:6]}" for p in ("district", "province")]
    admin = await asyncpg.connect(server_url)
    for name in names:
        await admin.execute(f'CREATE DATABASE "{name}"')
    urls = [_db(server_url, n) for n in names]
    pools = [await asyncpg.create_pool(u, min_size=1, max_size=8) for u in urls]
    served = None
    data_dir = tempfile.mkdtemp(prefix="bfsync-data-")  # the served node's keys
    try:
        for pool in pools:
            async with pool.acquire() as conn:
                await migrate(conn)
        district, province = pools
        t0 = time.perf_counter()
        await fill(district, args.events, args.attachments, args.scan_kb)
        events = await district.fetchval("SELECT count(*) FROM events")
        scans, scan_bytes = await district.fetchrow(
            "SELECT count(*), coalesce(sum(size), 0)::bigint FROM attachments"
        )
        print(f"filled {events:,} events, {scans:,} scans of {scan_bytes / 1e6:,.0f} MB in"
              f" {time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip

        port = _free_port()
        env = {**os.environ, "BANGFU_DATABASE_URL": urls[0], "BANGFU_SECRET": SECRET,
               "BANGFU_NODE_CODE": DISTRICT, "BANGFU_PROJECTIONS": "off",
               "BANGFU_DATA_DIR": data_dir}  # fmt: skip
        served = subprocess.Popen(  # noqa: ASYNC220 — started once, before any timing
            [sys.executable, "-m", "adapters.cli", "serve", "--host", "127.0.0.1", "--port",
             str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                try:
                    await client.get(base + "/health/live")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        token = Tokens(SECRET).mint(
            user="bench", unit=DISTRICT, role=Role.SYNC, ttl=timedelta(hours=4)
        )
        if args.attachments:
            if args.latency_ms:
                proxy = await delayed(port, args.latency_ms / 1000)
                base = f"http://127.0.0.1:{proxy.sockets[0].getsockname()[1]}"
                print(f"every request waits {args.latency_ms} ms (a WAN's round trip)")
            downstream = Downstream(DISTRICT, base, token)
            await compare_in_flight(args, server_url, admin, downstream, served.pid)
            return
        puller = Puller(province, Downstream(DISTRICT, base, token), limit=args.page)

        t0 = time.perf_counter()
        added = (await puller.catch_up()).added
        seconds = time.perf_counter() - t0
        rate = added / seconds
        verdict = "met" if rate >= 30_000 else "NOT met"
        print(f"full pull: {added:,} events in {seconds:.1f} s = {rate:,.0f} events/s"
              f" (target ≥ 30,000: {verdict})", flush=True)  # fmt: skip

        mark = datetime.now(UTC)
        stop = asyncio.Event()
        pulling = asyncio.create_task(puller.run(stop, interval=0.1))
        writing = asyncio.create_task(writer(district, stop, args.rate))
        await asyncio.sleep(args.lag_seconds)
        stop.set()
        written = await writing
        await pulling
        await puller.catch_up()
        await puller.close()
        lags = [
            float(r[0])
            for r in await province.fetch(
                "SELECT extract(epoch FROM o.received_at - e.recorded_at) FROM events e"
                " JOIN sync_origins o USING (stream_id, version) WHERE e.recorded_at >= $1",
                mark,
            )
        ]
        lags.sort()
        p50 = statistics.median(lags)
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        print(f"lag at {args.rate} events/s ({written:,} written, {len(lags):,} pulled):"
              f" p50 {p50:.3f} s, p99 {p99:.3f} s, max {lags[-1]:.3f} s"
              f" (target p99 ≤ 2 s: {'met' if p99 <= 2 else 'NOT met'})", flush=True)  # fmt: skip
    finally:
        if served is not None:
            served.kill()
            served.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
        for pool in pools:
            await pool.close()
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if owned is not None:
            server, folder = owned  # type: ignore[misc]
            server.cleanup()
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--page", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=200, help="district writes per second")
    parser.add_argument("--lag-seconds", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="100,000 events, 10 s of lag")
    parser.add_argument(
        "--attachments",
        type=int,
        default=0,
        help="streams with a 100–300 KB scan: compare attachments in flight",
    )
    parser.add_argument(
        "--in-flight",
        type=int,
        default=ATTACHMENTS_IN_FLIGHT,
        help="attachments in flight compared with 1",
    )
    parser.add_argument("--scan-kb", default="100-300", help="the scans' sizes, KB: LOW-HIGH")
    parser.add_argument("--latency-ms", type=float, default=0, help="a round trip added")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--per-chunk",
        action="store_true",
        help="with --attachments: one chunk per request (the old route) against the batch route",
    )
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.events, arguments.lag_seconds = 100_000, 10.0
    asyncio.run(main(arguments))
