"""The composition root: the one place that reads settings, opens the pool and wires everything.

`async with runtime(settings) as rt:` gives the store, the file repository and the clock, with
the schema migrated; on exit the pool is closed (and the embedded server released).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from adapters import embedded
from adapters.codec import EventCodec
from adapters.keys import load_hash_key, load_pii_keys
from adapters.pg.migrations import migrate
from adapters.pg.projector import ProjectionRunner
from adapters.pg.repository import FileCache, PgFileRepository
from adapters.pg.store import PostgresEventStore, Wakeups
from adapters.pii import Keyring
from adapters.settings import Settings
from domain.privacy import keyed_hash
from projections.base import Projection
from projections.ledger import Ledger
from projections.statistics import Statistics

CHINA = ZoneInfo("Asia/Shanghai")


class SystemClock:
    """Business dates are Beijing dates: a file applied for just after midnight is 'today' there."""

    def today(self) -> date:
        return datetime.now(CHINA).date()


@dataclass
class Runtime:
    settings: Settings
    pool: asyncpg.Pool
    store: PostgresEventStore
    files: PgFileRepository
    codec: EventCodec
    clock: SystemClock
    wakeups: Wakeups
    projections: ProjectionRunner
    keyring: Keyring
    server: Any = None


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Connection reset on release: nothing to do (see `open_pool`)."""


async def open_pool(url: str, *, size: int = 20) -> asyncpg.Pool:
    # asyncpg's default reset sends `RESET ALL; UNLISTEN *; …` on every release: a round trip per
    # request. bangfu keeps no session state on pooled connections (no SET, no temp tables;
    # the one LISTEN is on a connection held for the process's life and unlistened on stop;
    # advisory locks are released explicitly), so release does nothing.
    pool = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=size,
        server_settings={"application_name": "bangfu"},
        reset=_keep_session,
    )
    assert pool is not None  # noqa: S101 — create_pool returns a pool unless told not to
    return pool


def database_url(settings: Settings) -> tuple[str, Any]:
    if settings.database_url:
        return settings.database_url, None
    return embedded.start(settings.data_dir)


def read_models(hasher: Callable[[str], bytes]) -> list[Projection]:
    """Every read model, in the order the runner applies them."""
    return [Ledger(hasher), Statistics()]


@asynccontextmanager
async def runtime(settings: Settings, *, listen: bool = False) -> AsyncIterator[Runtime]:
    url, server = database_url(settings)
    pool = await open_pool(url, size=settings.pool_size)
    try:
        keyring = Keyring(
            pool,
            load_pii_keys(settings.pii_keys, settings.data_dir),
            reload=None if settings.pii_keys else lambda: load_pii_keys(None, settings.data_dir),
        )
        async with pool.acquire() as conn:
            await migrate(conn)
            await keyring.check(conn)
        wakeups = Wakeups(pool, on_key_destroyed=keyring.heard)
        await wakeups.start(listen=listen)
        codec = EventCodec(keyring=keyring)
        store = PostgresEventStore(pool, on_append=wakeups.poke, keyring=keyring)
        key = load_hash_key(settings.hash_key, settings.data_dir)
        runner = ProjectionRunner(
            store, codec, read_models(lambda number: keyed_hash(key, number)), wakeups=wakeups
        )
        try:
            yield Runtime(
                settings,
                pool,
                store,
                PgFileRepository(store, codec, cache=FileCache()),
                codec,
                SystemClock(),
                wakeups,
                runner,
                keyring,
                server,
            )
        finally:
            await wakeups.stop()
    finally:
        await pool.close()
