"""Console benchmark: the file page, the work list (home) and a ledger page, each beside the JSON
API's answer to the same question, in the same run.

    .venv/bin/python bench/console.py [--quick] [--files N] [--rounds R] [--per-round K]

Builds a demo province (2,000 files by default) through the bulk path as `bench/api.py` does,
starts `bangfu serve` (1 worker) as a separate process, signs an approver of the province (13) in
to the console, and asks one request at a time (no concurrency: the server's own time per page,
plus a loopback round trip) over a keep-alive connection, `rounds` × `per-round` times each:

| console page                | the API's answer to the same question                          |
|-----------------------------|----------------------------------------------------------------|
| `GET /console/files/{id}`   | `GET /api/v1/files/{id}` + `…/events` + `…/attachments`        |
| `GET /console/` (work list) | `GET /api/v1/queues/approvals` + `GET /api/v1/due` × 3 kinds   |
| `GET /console/ledger`       | `GET /api/v1/ledger?limit=50`                                  |

For the pairs the API's time is the sum of its requests, as a client building the same screen
would wait. Also the file page's transfer size (the largest of the files asked). Targets: console
p99 ≤ 100 ms; the file page ≤ 300 KB.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on sys.path, where its neighbours' names could
# shadow installed modules: drop the folder first (as bench/api.py does).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import asyncio
import importlib.util
import random
import re
import signal
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pgserver

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.http.auth import Tokens
from adapters.pg.accounts import PgAccounts
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.settings import Settings
from adapters.services.accounts import AccountService
from domain.values import Role

_spec = importlib.util.spec_from_file_location("bench_api", Path(_HERE) / "api.py")
if _spec is None or _spec.loader is None:
    raise SystemExit("bench/api.py not found beside bench/console.py")
bench_api = importlib.util.module_from_spec(_spec)
sys.modules["bench_api"] = bench_api  # its dataclasses look themselves up there
_spec.loader.exec_module(bench_api)

PASSWORD = "Bench-console-47"  # noqa: S105 — the benchmark's own throwaway account
USER = "bench-approver"
UNIT = "13"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def account(url: str, folder: str) -> None:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        service = AccountService.from_settings(
            Settings(database_url=url, data_dir=Path(folder), log_json=True),
            PgAccounts(pool),
            PgUnitDirectory(pool),
        )
        await service.create(
            None, user=USER, unit=UNIT, role=Role.APPROVER, password=PASSWORD, must_change=False
        )
    finally:
        await pool.close()


def session_cookie(port: int) -> str:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        page = client.get("/console/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if csrf is None:
            raise RuntimeError("no sign-in form")
        signed = client.post(
            "/console/sign-in", data={"csrf": csrf[1], "user": USER, "password": PASSWORD}
        )
        if signed.status_code != 303:
            raise RuntimeError(f"sign-in refused: {signed.status_code}")
        return str(signed.cookies["bangfu_session"])


def get(path: str, *, token: str = "", cookie: str = "") -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if cookie:
        lines.append(f"Cookie: bangfu_session={cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Measured(bench_api.Connection):  # type: ignore[name-defined,misc]  # a module loaded from its path: its classes are unknown to mypy
    """A keep-alive connection that also tells each response's body size."""

    async def ask(self, request: bytes) -> tuple[int, int]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status, length


async def timed(conn: Measured, requests: list[bytes]) -> tuple[float, int]:
    """The time to ask `requests` one after the other, and the first answer's size."""
    started = time.perf_counter()
    size = 0
    for i, request in enumerate(requests):
        status, length = await conn.ask(request)
        if status != 200:
            raise RuntimeError(f"{request.splitlines()[0]!r} answered {status}")
        if i == 0:
            size = length
    return time.perf_counter() - started, size


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=40)
    args = parser.parse_args()
    files = 200 if args.quick else args.files
    rounds = 2 if args.quick else args.rounds
    per_round = 10 if args.quick else args.per_round

    server = None
    folder = tempfile.mkdtemp(prefix="bfconsole-")
    url = os.environ.get("BANGFU_BENCH_DATABASE_URL")
    if url is None:
        server = pgserver.get_server(Path(folder) / "pg", cleanup_mode="stop")
        url = f"postgresql://postgres@/postgres?host={Path(folder) / 'pg'}"
    rows, _ = await bench_api.prepare(url, files, folder)
    await account(url, folder)
    print(f"province: {len(rows)} files; {sum(r['version'] for r in rows)} events")

    port = bench_api.free_port()
    process = bench_api.start_server(url, port, 1, folder)
    try:
        await bench_api.wait_ready(port)
        cookie = session_cookie(port)
        token = Tokens(bench_api.SECRET).mint(
            user=USER, unit=UNIT, role=Role.APPROVER, ttl=timedelta(hours=1)
        )
        ids = [str(r["stream_id"]) for r in rows]
        random.Random(4).shuffle(ids)
        questions = {
            "file page": (
                lambda i: [get(f"/console/files/{ids[i % len(ids)]}", cookie=cookie)],
                lambda i: [
                    get(f"/api/v1/files/{ids[i % len(ids)]}", token=token),
                    get(f"/api/v1/files/{ids[i % len(ids)]}/events", token=token),
                    get(f"/api/v1/files/{ids[i % len(ids)]}/attachments", token=token),
                ],
            ),
            "work list": (
                lambda i: [get("/console/", cookie=cookie)],
                lambda i: [
                    get("/api/v1/queues/approvals?limit=1", token=token),
                    *(
                        get(f"/api/v1/due?kind={kind}&limit=1", token=token)
                        for kind in ("visits", "rechecks", "follow_up")
                    ),
                ],
            ),
            "ledger page": (
                lambda i: [get("/console/ledger", cookie=cookie)],
                lambda i: [get("/api/v1/ledger?limit=50", token=token)],
            ),
        }
        conn = await Measured.open(port)
        for i in range(20):  # warm-up: templates compiled, caches and pools filled
            for console, api in questions.values():
                await timed(conn, console(i))
                await timed(conn, api(i))
        results: dict[str, tuple[list[float], list[float]]] = {q: ([], []) for q in questions}
        largest = 0
        n = 0
        for _ in range(rounds):
            for name, (console, api) in questions.items():
                for _ in range(per_round):
                    spent, size = await timed(conn, console(n))
                    results[name][0].append(spent)
                    if name == "file page":
                        largest = max(largest, size)
                    results[name][1].append((await timed(conn, api(n)))[0])
                    n += 1
        conn.close()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        if server is not None:
            server.cleanup()
    report(results, largest, rounds, per_round)


def report(
    results: dict[str, tuple[list[float], list[float]]], largest: int, rounds: int, per_round: int
) -> None:
    print(
        f"\n{'question':12} {'console p50':>12} {'p99':>8} {'API p50':>9} {'p99':>8}"
        f" {'ratio p50':>10}"
    )
    met = True
    for name, (console_times, api_times) in results.items():
        c50, c99 = pct(console_times, 0.5), pct(console_times, 0.99)
        a50, a99 = pct(api_times, 0.5), pct(api_times, 0.99)
        met = met and c99 <= 100
        print(f"{name:12} {c50:10.2f}ms {c99:6.2f}ms {a50:7.2f}ms {a99:6.2f}ms {c50 / a50:10.2f}")
    print(f"\nfile page transfer size (largest asked): {largest / 1024:.1f} KB (target ≤ 300 KB)")
    print(f"target console p99 ≤ 100 ms: {'MET' if met else 'MISSED'}")
    print(
        f"{rounds} rounds × {per_round} per question, one request at a time; "
        f"1 worker; machine: {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    asyncio.run(main())
