"""The composition root: the one place that opens the pool and wires everything.

Settings are read from the environment once, at the entry (`adapters.cli.main.main`, and
`adapters.http.app.served` in each server process), and handed in here.
`async with runtime(settings, node=node) as rt:` gives the store, the file repository, the
clock, the union tree, the keyed hash of ID numbers (its key loaded once) and the node's sync
settings, with the schema migrated; on exit the pool is closed (and the embedded server
released). `async with background(rt, projections=…):` runs what `bangfu serve` runs beside the
routes — the read models and the pulls of downstream nodes — and stops them on exit.

Two database identities (docs/security.md, "What the database enforces itself"): migrations run
as the schema's owner, the service's pool as the least-privileged `APP_ROLE` (which may append
events but never change them; reads of the read models for the API drop further, to a reader
under row-level security: adapters/pg/reads.py `scoped`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import structlog

from adapters.pg.accounts import PgAccounts
from adapters.pg.codec import EventCodec
from adapters.pg.conn import Conn
from adapters.pg.migrations import APP_ROLE, migrate, pending
from adapters.pg.projector import ProjectionRunner
from adapters.pg.repository import FileCache, PgFileRepository
from adapters.pg.store import PostgresEventStore, Wakeups
from adapters.pg.units import PgUnitDirectory
from adapters.pii.keyring import Keyring
from adapters.runtime import embedded
from adapters.runtime.secrets import load_hash_key, load_pii_keys
from adapters.runtime.settings import Settings
from adapters.services.accounts import AccountService
from adapters.sync import service as sync_service
from adapters.sync.node import NodeSettings
from domain.privacy import keyed_hash
from projections.base import Projection
from projections.ledger import Ledger
from projections.statistics import Statistics

CHINA = ZoneInfo("Asia/Shanghai")
log = structlog.get_logger(__name__)


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
    hasher: Callable[[str], bytes]  # the keyed hash of ID numbers (domain.privacy.keyed_hash)
    units: PgUnitDirectory
    node: NodeSettings
    accounts: AccountService  # sign-in, sessions, personal tokens (lockout counters per process)
    server: Any = None


async def _keep_session(conn: Conn) -> None:
    """Connection reset on release: nothing to do (see `open_pool`)."""


class BoundedPool(asyncpg.Pool):
    """asyncpg's pool, where waiting for a connection is bounded by default.

    asyncpg waits for a free connection (and for a new one to connect) without limit unless each
    `acquire` names a timeout; here every acquire — also those inside `pool.fetch` and friends —
    gives up after `acquire_timeout` seconds with `TimeoutError`, which the HTTP edge answers
    with 503 and the background loops retry. So an exhausted pool, or a database that accepts
    connections and never answers, makes requests fail in bounded time instead of hanging.
    """

    __slots__ = ("acquire_timeout",)

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


async def open_pool(
    url: str,
    *,
    size: int = 20,
    wait: float = 10.0,
    role: str | None = None,
) -> asyncpg.Pool:
    """A pool of at most `size` connections; connecting, and waiting for a free connection, each
    give up after `wait` seconds (`BoundedPool`).

    With `role`, each connection acts as that role from its first statement on (`SET ROLE` in
    the startup packet: no extra round trip), whoever the URL logs in as; a login that may not
    take the role cannot connect at all."""
    # asyncpg's default reset sends `RESET ALL; UNLISTEN *; …` on every release: a round trip per
    # request. bangfu keeps no session state on pooled connections (no SET, no temp tables;
    # the one LISTEN is on a connection held for the process's life and unlistened on stop;
    # advisory locks are released explicitly), so release does nothing. (`SET LOCAL`, which
    # bounds writing transactions, ends with its transaction.)
    # The keyword arguments are those `asyncpg.create_pool` passes to `Pool` with its defaults.
    pool = BoundedPool(
        url,
        acquire_timeout=wait,
        min_size=1,
        max_size=size,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        server_settings={
            "application_name": "bangfu",
            **({"role": role} if role else {}),
        },
        reset=_keep_session,
        timeout=wait,  # of each connection attempt (asyncpg's default: 60 s)
    )
    await pool
    return pool


@dataclass(frozen=True)
class Database:
    """Where the service connects, and where its migrations run."""

    service: str  # the pool's URL; its sessions act as APP_ROLE
    owner: str  # the schema owner's URL: migrations, and the embedded server's login role
    server: Any = None  # the embedded server's handle, if it is the embedded server


def database(settings: Settings) -> Database:
    if settings.database_url:
        return Database(settings.database_url, settings.admin_database_url or settings.database_url)
    owner, server = embedded.start(settings.data_dir)
    return Database(embedded.service_url(owner), owner, server)


async def migrate_schema(db: Database, *, wait: float = 10.0) -> bool:
    """Apply pending migrations as the schema's owner; for the embedded server, also make sure
    the service's login role exists (it needs the group role the migrations create). True when
    the database is a hot-standby replica (read-only, no LISTEN), where nothing is applied."""
    conn = await asyncpg.connect(
        db.owner, timeout=wait, server_settings={"application_name": "bangfu-migrate"}
    )
    try:
        if await conn.fetchval("SELECT pg_is_in_recovery()"):
            # a streaming replica: nothing can be written, and the primary's migrations arrive
            # with its WAL (docs/operations.md, "Read load")
            waiting = await pending(conn)
            if waiting:
                raise RuntimeError(
                    f"this database is a replica whose primary lacks migrations {waiting}:"
                    " upgrade the primary first"
                )
            return True
        await migrate(conn)
        if db.server is not None:
            await embedded.ensure_service_login(conn)
    finally:
        await conn.close()
    return False


def read_models(hasher: Callable[[str], bytes]) -> list[Projection]:
    """Every read model, in the order the runner applies them."""
    return [Ledger(hasher), Statistics()]


async def _fill_claims(files: PgFileRepository) -> None:
    """The claims of 一户一档 of the files stored before they were kept (once; see
    `PgFileRepository.fill_claims`), with the duplicates found reported."""
    try:
        filled = await files.fill_claims()
    except Exception:  # a log that does not replay must not keep the node from starting
        # nothing is marked: the next start tries again; `bangfu verify` finds a broken chain
        log.exception("claims.fill_failed")
        return
    if filled is not None:
        log.info("claims.filled", files=filled[0], duplicates=filled[1])
        if filled[1]:
            log.warning(
                "claims.duplicates_found",
                duplicates=filled[1],
                detail="people held by more than one open file: GET /api/v1/duplicates lists"
                " them; cancel one of each as 重复建档 naming the file kept",
            )


@asynccontextmanager
async def runtime(
    settings: Settings, *, node: NodeSettings | None = None, listen: bool = False
) -> AsyncIterator[Runtime]:
    """Everything a command or the server needs, wired from `settings` and `node` (the node's
    sync settings; by default a node that pulls from no one)."""
    db = database(settings)
    replica = await migrate_schema(db, wait=settings.database_timeout)
    # As APP_ROLE, the read models' owner, the service's own jobs (projection runner, rebuilds,
    # spot-checks, sync) work on every unit; the API's and the export's reads of the read models
    # drop to the reader role and a subtree for one transaction (adapters/pg/reads.py `scoped`).
    pool = await open_pool(
        db.service, size=settings.pool_size, wait=settings.database_timeout, role=APP_ROLE
    )
    try:
        keyring = Keyring(
            pool,
            load_pii_keys(settings.pii_keys, settings.data_dir),
            reload=None if settings.pii_keys else lambda: load_pii_keys(None, settings.data_dir),
        )
        async with pool.acquire() as conn:
            await keyring.check(conn, read_only=replica)
        wakeups = Wakeups(pool, on_key_destroyed=keyring.heard)
        # a replica cannot LISTEN: erased keys leave its cache by their time to live
        await wakeups.start(listen=listen and not replica)
        codec = EventCodec(keyring=keyring)
        store = PostgresEventStore(
            pool,
            on_append=wakeups.poke,
            transaction_bound=settings.transaction_bound,
            keyring=keyring,
        )
        key = load_hash_key(settings.hash_key, settings.data_dir)

        def hasher(number: str) -> bytes:
            return keyed_hash(key, number)

        runner = ProjectionRunner(store, codec, read_models(hasher), wakeups=wakeups)
        units = PgUnitDirectory(pool)
        files = PgFileRepository(store, codec, cache=FileCache(), hasher=hasher)
        if not replica:
            await _fill_claims(files)
        try:
            yield Runtime(
                settings,
                pool,
                store,
                files,
                codec,
                SystemClock(),
                wakeups,
                runner,
                keyring,
                hasher,
                units,
                node if node is not None else NodeSettings(),
                AccountService.from_settings(settings, PgAccounts(pool), units),
                db.server,
            )
        finally:
            await wakeups.stop()
    finally:
        await pool.close()


@asynccontextmanager
async def background(rt: Runtime, *, projections: bool = True) -> AsyncIterator[None]:
    """Run the read models (unless `projections` is off) and pull every downstream node of
    `rt.node` until the block ends; then stop both and wait for them."""
    stop = asyncio.Event()
    pulling = sync_service.start(rt, stop, rt.node)
    running = (
        asyncio.create_task(rt.projections.run(stop), name="bangfu-projections")
        if projections
        else None
    )
    try:
        yield
    finally:
        stop.set()
        await sync_service.stopped(pulling)
        if running is not None:
            rt.wakeups.poke()
            await running
