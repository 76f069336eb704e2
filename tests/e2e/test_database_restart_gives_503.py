"""PostgreSQL is stopped under a steady load of commands and started again: while it is down,
clients get 503 problems with `Retry-After` (never a 500, never a hang), the service says it is
not ready but stays alive; once it is back, the same `bangfu serve` process — not restarted —
acknowledges commands again and its read models catch up by themselves.

The database is a PostgreSQL of this test's own (the session server is shared by every test), on
a Unix socket under a short /tmp folder, stopped with `pg_ctl stop -m fast` (sessions ended,
connections refused) and started with `pg_ctl start`.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from adapters.pg.migrations import migrate
from adapters.pg.units import PgUnitDirectory
from adapters.services import demo
from domain.values import Role
from tests.e2e.fault_helpers import Client, Served, own_postgres, token
from tests.e2e.http_helpers import API, BASE, JSON, PROBLEM, application
from tests.e2e.test_server_survives_kill_9 import household_events, wait_until_caught_up
from tests.parameters import set_province_parameters

DATABASE = "bangfu"
DOWN = 4.0  # seconds PostgreSQL stays down
ANSWER_WITHIN = 10.0  # no request may take longer than this while it is down
CLERK = {"Authorization": f"Bearer {token(BASE, Role.CLERK, 'clerk-probe')}", **JSON}


async def prepare(server_url: str) -> str:
    """A migrated database with the union tree, on the test's own server; returns its URL."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await admin.close()
    url = server_url.replace("/postgres?", f"/{DATABASE}?")
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    assert pool is not None
    try:
        await PgUnitDirectory(pool).load(demo.units())
        await set_province_parameters(pool)  # commands are judged by the parameters in force
    finally:
        await pool.close()
    return url


async def timed(request: asyncio.Future[httpx.Response] | object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request  # type: ignore[misc]
    return response, time.monotonic() - started


async def acknowledged(clients: list[Client]) -> int:
    return sum(s.status is not None for c in clients for s in c.sent)


async def wait_for_more(clients: list[Client], than: int, *, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.1)):
        if await acknowledged(clients) > than:
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"no command was acknowledged within {seconds} s of PostgreSQL's return")


@pytest.mark.slow
async def test_clients_get_503_while_postgresql_is_down_and_the_service_recovers_alone(
    tmp_path: Path,
):
    with own_postgres() as postgres:
        url = await prepare(postgres.url)
        served = Served(url, tmp_path / "data", tmp_path / "serve.log", BANGFU_DATABASE_TIMEOUT="3")
        clients = [Client(served.base, f"c{n}") for n in range(2)]
        stop = asyncio.Event()
        try:
            await served.start()
            pid = served.process.pid if served.process else None
            load = [asyncio.create_task(c.journeys(stop)) for c in clients]
            await wait_for_more(clients, 10)
            file_id = next(s.body["id"] for s in clients[0].sent if s.status == 201)

            await asyncio.to_thread(postgres.stop)
            before = await acknowledged(clients)
            down_since = time.monotonic()
            commands, reads, readiness, liveness = [], [], [], []
            async with httpx.AsyncClient(base_url=served.base, timeout=30) as http:
                while time.monotonic() - down_since < DOWN:
                    commands.append(
                        await timed(http.post(f"{API}/files", json=application(), headers=CLERK))
                    )
                    reads.append(await timed(http.get(f"{API}/files/{file_id}", headers=CLERK)))
                    readiness.append(await timed(http.get("/health/ready")))
                    liveness.append(await timed(http.get("/health/live")))
                    await asyncio.sleep(0.2)
                english = await http.post(
                    f"{API}/files",
                    json=application(),
                    headers={**CLERK, "Accept-Language": "en"},
                )
            during = await acknowledged(clients)
            await asyncio.to_thread(postgres.start)

            await wait_for_more(clients, during + 20)
            stop.set()
            await asyncio.gather(*load)
            caught_up = await wait_until_caught_up(served.base)
            still_running = served.running and served.process is not None
            same_process = still_running and served.process.pid == pid  # type: ignore[union-attr]
        finally:
            stop.set()
            if served.running:
                await served.kill()
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        assert pool is not None
        try:
            stored = await household_events(pool)
            in_ledger = await pool.fetchval("SELECT count(*) FROM ledger")
        finally:
            await pool.close()

    log = (tmp_path / "serve.log").read_text()
    answers = commands + reads
    zh = commands[-1][0].json()
    assert same_process, "the service was restarted (or died) instead of recovering"
    assert {r.status_code for r, _ in answers} == {503}, {r.status_code for r, _ in answers}
    assert all(r.headers["content-type"].startswith(PROBLEM) for r, _ in answers)
    assert {r.headers.get("retry-after") for r, _ in answers} == {"5"}
    assert max(seconds for _, seconds in answers + readiness) < ANSWER_WITHIN
    assert {r.status_code for r, _ in readiness} == {503}
    assert {r.status_code for r, _ in liveness} == {200}
    assert (zh["status"], zh["code"], zh["detail"]) == (
        503,
        "database_unavailable",
        "数据库暂时不可用，请稍后重试",
    )
    assert english.json()["title"] == "Service unavailable"
    assert during - before <= 2  # at most the commands already committing when it stopped
    assert sum(s.unavailable for c in clients for s in c.sent) > 0
    assert all(v.startswith("0 events") for v in caught_up.values())
    assert in_ledger == len(stored) == sum(s.command == "apply" for c in clients for s in c.sent)
    assert "http.database_unavailable" in log
    assert "projections.resumed" in log
    assert "http.unexpected_error" not in log
    print(
        f"\n{len(answers)} requests while down, slowest {max(t for _, t in answers):.2f} s;"
        f" clients retried {sum(s.unavailable for c in clients for s in c.sent)} times on 503"
    )
