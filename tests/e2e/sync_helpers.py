"""Helpers for the sync journeys: nodes served over HTTP on loopback (the app `bangfu serve`
runs, with given node settings), district files written through the use cases, and comparisons
of two nodes' logs, statistics and servers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import uvicorn

from adapters.http.app import RequestLog, create_app
from adapters.http.auth import Tokens
from adapters.pg.attachments import PgContentStore
from adapters.pg.codec import EventCodec
from adapters.pg.integrity import GENESIS
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import EVENT_COLUMNS, PostgresEventStore, chain
from adapters.pg.units import PgUnitDirectory
from adapters.pii.keyring import Keyring
from adapters.runtime.settings import Settings
from adapters.services import demo
from adapters.sync.node import NodeSettings
from domain.values import Role
from tests.builders import FixedClock

SECRET = "sync-test-secret-" + "s" * 40
HASH_KEY = "sync-test-hash-key-" + "h" * 20
DISTRICT = "130306"
OTHER_DISTRICT = "130302"
PROVINCE = "13"
_NOON = datetime(2024, 5, 6, 12, tzinfo=UTC)


def sync_token(unit: str, *, user: str = "province-puller") -> str:
    return Tokens(SECRET).mint(user=user, unit=unit, role=Role.SYNC, ttl=timedelta(hours=2))


def admin_token(unit: str) -> str:
    return Tokens(SECRET).mint(user="admin", unit=unit, role=Role.ADMIN, ttl=timedelta(hours=2))


def sync_app(settings: Settings, node: NodeSettings) -> Any:
    return RequestLog(create_app(settings, node=node))


@asynccontextmanager
async def served(
    database_url: str,
    data_dir: Path,
    node: NodeSettings,
    *,
    wrap: Callable[[Any], Any] | None = None,
) -> AsyncIterator[str]:
    """A node's app (with the sync routes) on a free loopback port; yields its base URL.
    `wrap`: an ASGI middleware put around the app (a slowed or failing link)."""
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        log_json=True,
        secret=SECRET,
        hash_key=HASH_KEY,
        projections=False,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            (wrap or (lambda app: app))(sync_app(settings, node)),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on",
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def load_units(pool: asyncpg.Pool) -> None:
    await PgUnitDirectory(pool).load(demo.units())


async def write_district_files(
    pool: asyncpg.Pool,
    *,
    count: int,
    seed: int,
    district: str = DISTRICT,
    keyring: Keyring | None = None,
    scans: bool = False,
) -> int:
    """Household files of one district's base unions, through the use cases; events written.
    With the district node's `keyring`, personal data is encrypted as the node would store it
    (without, in clear: as nodes running an older version stored it); with `scans` too, the
    demo's generated scans are attached (sealed with each household's data key)."""
    planner = demo.Planner(today=FixedClock().today(), seed=seed)
    planner.bases = [b for b in demo.base_units() if b.startswith(district)]
    files = PgFileRepository(PostgresEventStore(pool, keyring=keyring), EventCodec(keyring=keyring))
    contents = PgContentStore(pool, keyring) if scans and keyring is not None else None
    written = 0
    for _ in range(count):
        written += await demo.run_plan(
            planner.plan(), files=files, clock=FixedClock(), contents=contents
        )
    return written


async def log_of(pool: asyncpg.Pool, subtree: str = "") -> set[tuple[Any, ...]]:
    """Every event of a subtree as (stream, version, type, payload, recorded, unit, hash)."""
    rows = await pool.fetch(
        "SELECT stream_id, version, type, payload, recorded_at, unit, hash, refers_to"
        " FROM events WHERE unit LIKE $1 || '%'",
        subtree,
    )
    return {tuple(r) for r in rows}


async def stock_of(pool: asyncpg.Pool, subtree: str) -> list[tuple[Any, ...]]:
    rows = await pool.fetch(
        "SELECT unit, dimension, key, count FROM stats_stock"
        " WHERE unit LIKE $1 || '%' AND count <> 0 ORDER BY unit, dimension, key",
        subtree,
    )
    return [tuple(r) for r in rows]


async def server_of(pool: asyncpg.Pool) -> int:
    """The PostgreSQL server a pool's database lives on (its system identifier, set at initdb)."""
    return int(await pool.fetchval("SELECT system_identifier FROM pg_control_system()"))


async def tamper(pool: asyncpg.Pool, sql: str, *args: Any) -> None:
    """Change rows of the append-only `events` table, as someone with the owner's password could
    (the repair switch of docs/operations.md, in a transaction of its own)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL bangfu.maintenance = on")
        await conn.execute(sql, *args)


async def fill_log(pool: asyncpg.Pool, *, events: int, payload_bytes: int) -> None:
    """Hash-chained events of the district (streams of 20, payloads of the given size) by COPY:
    a log large enough that its pages are megabytes."""
    payload = msgspec.json.encode({"note": "走" * (payload_bytes // 3)})
    rows, done = [], 0
    while done < events:
        stream, previous = uuid.uuid4(), GENESIS
        for version in range(1, min(20, events - done) + 1):
            event = chain(previous, stream, version, "household.visited", payload,
                          _NOON + timedelta(seconds=done), f"{DISTRICT}001")  # fmt: skip
            previous = event.hash
            rows.append((stream, version, event.type, event.payload, event.recorded_at,
                         event.unit, event.hash, None))  # fmt: skip
            done += 1
    await pool.copy_records_to_table("events", columns=EVENT_COLUMNS, records=rows)
