"""Helpers for the sync journeys: nodes served over HTTP on loopback, district files written
through the use cases, and comparisons of two nodes' logs and statistics.

Until `adapters.http.app.create_app` registers the sync routes itself, `sync_app` adds them to
the app it creates (`Litestar.register`): the same handlers, dependencies and problem mapping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn

from adapters import demo
from adapters.codec import EventCodec
from adapters.http.app import RequestLog, create_app
from adapters.http.auth import Tokens
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.pii import Keyring
from adapters.settings import Settings
from adapters.sync.node import NodeSettings
from domain.values import Role
from tests.builders import FixedClock

SECRET = "sync-test-secret-" + "s" * 40
HASH_KEY = "sync-test-hash-key-" + "h" * 20
DISTRICT = "130306"
OTHER_DISTRICT = "130302"
PROVINCE = "13"


def sync_token(unit: str, *, user: str = "province-puller") -> str:
    return Tokens(SECRET).mint(user=user, unit=unit, role=Role.SYNC, ttl=timedelta(hours=2))


def admin_token(unit: str) -> str:
    return Tokens(SECRET).mint(user="admin", unit=unit, role=Role.ADMIN, ttl=timedelta(hours=2))


def sync_app(settings: Settings, node: NodeSettings) -> Any:
    return RequestLog(create_app(settings, node=node))


@asynccontextmanager
async def served(database_url: str, data_dir: Path, node: NodeSettings) -> AsyncIterator[str]:
    """A node's app (with the sync routes) on a free loopback port; yields its base URL."""
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
            sync_app(settings, node), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
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
) -> int:
    """Household files of one district's base unions, through the use cases; events written.
    With the district node's `keyring`, personal data is encrypted as the node would store it
    (without, in clear: as nodes running an older version stored it)."""
    planner = demo.Planner(today=FixedClock().today(), seed=seed)
    planner.bases = [b for b in demo.base_units() if b.startswith(district)]
    files = PgFileRepository(PostgresEventStore(pool, keyring=keyring), EventCodec(keyring=keyring))
    written = 0
    for _ in range(count):
        written += await demo.run_plan(planner.plan(), files=files, clock=FixedClock())
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
