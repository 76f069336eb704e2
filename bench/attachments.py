"""Attachment benchmark: upload and download of a 5 MB scan, beside raw asyncpg, and the server's
peak memory during a 50 MB upload.

    .venv/bin/python bench/attachments.py [--quick] [--rounds N]

Starts a private PostgreSQL (pgserver) unless BANGFU_BENCH_DATABASE_URL is set, opens a few demo
files, starts `bangfu serve` (one process) with the attachment limit raised to 60 MB, and:

- uploads a 5 MB scan (a PNG of noise: it does not compress, as a photographed page barely does)
  `--rounds` times, one after the other, and downloads it as often: p50/p99 and MB/s, as a
  client on loopback sees them (sealing, chunking, type check by content, the event, the
  unmasking record — all of it);
- in the same run, the database's floor: the same bytes written raw with asyncpg (one `bytea`
  row, in a transaction) and read back, as often;
- the server's resident memory (VmRSS of its process, sampled every 5 ms from /proc) before and at
  its peak during one 50 MB upload: the upload is streamed in chunks, so the peak should stay a
  few MB above the idle process, not 50.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image

from adapters.http.auth import Tokens
from adapters.pg.codec import EventCodec
from adapters.pg.migrations import migrate
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.pii.keyring import Keyring
from adapters.runtime.secrets import load_pii_keys
from adapters.services import demo
from domain.values import Role, Status

SECRET = "bench-secret-" + "a" * 40
MB = 1024 * 1024
PURPOSE = "bench: read the scan back"


def noise_png(megabytes: float, seed: int) -> bytes:
    """A PNG of random pixels of about `megabytes` (noise does not compress)."""
    side = int((megabytes * MB / 3) ** 0.5)
    pixels = random.Random(seed).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def check(ok: bool, what: object) -> None:
    if not ok:
        raise RuntimeError(str(what))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def line(name: str, seconds: list[float], size: int) -> str:
    rate = size * len(seconds) / sum(seconds) / MB
    return (
        f"{name:<28} p50 {pct(seconds, 0.5):7.1f} ms   p99 {pct(seconds, 0.99):7.1f} ms"
        f"   {rate:6.1f} MB/s"
    )


class Clock:
    def today(self) -> date:
        return date(2026, 11, 21)


async def prepare(url: str, data_dir: str) -> tuple[str, str]:
    """A few demo files; returns (file id, its unit) of an approved one."""
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    async with pool.acquire() as conn:
        await migrate(conn)
    await PgUnitDirectory(pool).load(demo.units())
    keyring = Keyring(pool, load_pii_keys(None, Path(data_dir)))
    files = PgFileRepository(PostgresEventStore(pool, keyring=keyring), EventCodec(keyring=keyring))
    planner = demo.Planner(today=Clock().today(), seed=7)
    try:
        for _ in range(50):
            plan = planner.plan()
            await demo.run_plan(plan, files=files, clock=Clock())
            household = await files.get(plan.file_id)
            if household.status is Status.APPROVED:
                return str(plan.file_id), household.establishing_unit
        raise RuntimeError("no approved demo file")
    finally:
        await pool.close()


def start_server(url: str, port: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BANGFU_DATABASE_URL": url,
        "BANGFU_SECRET": SECRET,
        "BANGFU_DATA_DIR": data_dir,
        "BANGFU_LOG_JSON": "1",
        "BANGFU_ATTACHMENT_MAX_BYTES": str(60 * MB),
        "BANGFU_HOUSEHOLD_ATTACHMENTS_MAX_BYTES": str(4096 * MB),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def rss(pid: int) -> int:
    """Resident memory of a process, in bytes (Linux /proc)."""
    for text in Path(f"/proc/{pid}/status").read_text().splitlines():
        if text.startswith("VmRSS:"):
            return int(text.split()[1]) * 1024
    return 0


def server_pid(process: subprocess.Popen[bytes]) -> int:
    """The process serving requests: `bangfu serve` itself, or its one child if it spawned one."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    found = children.read_text().split() if children.exists() else []
    return int(found[0]) if found else process.pid


async def upload(
    client: httpx.AsyncClient, file_id: str, token: str, content: bytes, n: int
) -> httpx.Response:
    return await client.post(
        f"/api/v1/files/{file_id}/attachments",
        params={"kind": "diagnosis", "name": f"scan-{n}.png"},
        content=content,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "image/png"},
    )


async def raw_floor(url: str, content: bytes, rounds: int) -> tuple[list[float], list[float]]:
    """The same bytes written and read raw with asyncpg, as often."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_blobs (id int PRIMARY KEY, b bytea)")
        await conn.execute("ALTER TABLE bench_blobs ALTER COLUMN b SET STORAGE EXTERNAL")
        writes, reads = [], []
        for i in range(rounds):
            started = time.perf_counter()
            async with conn.transaction():
                await conn.execute("INSERT INTO bench_blobs VALUES ($1, $2)", i, content)
            writes.append(time.perf_counter() - started)
        for i in range(rounds):
            started = time.perf_counter()
            got = await conn.fetchval("SELECT b FROM bench_blobs WHERE id = $1", i)
            reads.append(time.perf_counter() - started)
            check(len(got) == len(content), "raw read")
        await conn.execute("DROP TABLE bench_blobs")
        return writes, reads
    finally:
        await conn.close()


async def main() -> None:  # noqa: PLR0915 — one run, told in order
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (5 rounds)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--big", type=float, default=50.0, help="MB of the memory probe upload")
    args = parser.parse_args()
    rounds = 5 if args.quick else args.rounds

    import pgserver  # noqa: PLC0415

    folder = tempfile.mkdtemp(prefix="bfattach-")
    server = None
    url = os.environ.get("BANGFU_BENCH_DATABASE_URL")
    if url is None:
        server = pgserver.get_server(Path(folder) / "pg", cleanup_mode="stop")
        url = f"postgresql://postgres@/postgres?host={Path(folder) / 'pg'}"
    file_id, unit = await prepare(url, folder)
    scan = noise_png(5, seed=1)
    big = noise_png(args.big, seed=2)
    print(f"scan {len(scan) / MB:.2f} MB, probe {len(big) / MB:.1f} MB, {rounds} rounds")

    port = 18000 + os.getpid() % 1000
    process = start_server(url, port, folder)
    try:
        clerk = Tokens(SECRET).mint(
            user="bench-clerk", unit=unit, role=Role.CLERK, ttl=timedelta(hours=1)
        )
        # one reader per download: unmasking is rate-limited per user (20 a minute)
        approvers = [
            Tokens(SECRET).mint(
                user=f"bench-approver-{n}",
                unit=unit[:6],
                role=Role.APPROVER,
                ttl=timedelta(hours=1),
            )
            for n in range(rounds)
        ]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for _ in range(300):
                try:
                    if (await client.get("/health/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            ups, downs, ids = [], [], []
            for n in range(rounds):
                started = time.perf_counter()
                response = await upload(client, file_id, clerk, scan, n)
                ups.append(time.perf_counter() - started)
                check(response.status_code == 201, response.text)
                ids.append(response.json()["id"])
            for attachment_id, approver in zip(ids, approvers, strict=True):
                started = time.perf_counter()
                response = await client.get(
                    f"/api/v1/files/{file_id}/attachments/{attachment_id}/content",
                    headers={"Authorization": f"Bearer {approver}", "X-Bangfu-Purpose": PURPOSE},
                )
                downs.append(time.perf_counter() - started)
                check(response.status_code == 200, response.text)
                check(response.content == scan, "downloaded content differs")

            pid = server_pid(process)
            idle = rss(pid)
            peak = idle
            sending = asyncio.create_task(upload(client, file_id, clerk, big, rounds))
            while not sending.done():
                peak = max(peak, rss(pid))
                await asyncio.sleep(0.005)
            response = await sending
            check(response.status_code == 201, response.text)
        raw_writes, raw_reads = await raw_floor(url, scan, rounds)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if server is not None:
            server.cleanup()

    print(line("upload 5 MB (HTTP)", ups, len(scan)))
    print(line("raw asyncpg write", raw_writes, len(scan)))
    print(line("download 5 MB (HTTP)", downs, len(scan)))
    print(line("raw asyncpg read", raw_reads, len(scan)))
    print(
        f"server RSS: idle {idle / MB:.0f} MB, peak during a {len(big) / MB:.0f} MB upload"
        f" {peak / MB:.0f} MB (+{(peak - idle) / MB:.0f} MB)"
    )


if __name__ == "__main__":
    asyncio.run(main())
