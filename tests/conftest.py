"""Test fixtures: a real PostgreSQL, and a fresh migrated database for each test that needs one.

With `BANGFU_TEST_DATABASE_URL` set, tests use that server (its user needs CREATEDB); otherwise
a private server from `pgserver` is started in a temporary folder for the session. Each test
gets its own database cloned from a migrated template, so tests never see each other's events
and never need to assert global counts.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pgserver
import pytest
import uvicorn

from adapters.http.app import asgi
from adapters.http.auth import Tokens
from adapters.pg.codec import EventCodec
from adapters.pg.migrations import migrate
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.pii.keyring import Keyring
from adapters.runtime.secrets import load_pii_keys
from adapters.runtime.settings import Settings
from adapters.services import demo
from domain.values import Role

TEMPLATE = "bangfu_test_template"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A URL of the test server's maintenance database."""
    given = os.environ.get("BANGFU_TEST_DATABASE_URL")
    if given:
        yield given
        return
    folder = Path(tempfile.mkdtemp(prefix="bftest-"))
    server = pgserver.get_server(folder / "pg", cleanup_mode="stop")
    try:
        yield f"postgresql://postgres@/postgres?host={folder / 'pg'}"
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def template(server_url: str) -> str:
    async def build() -> None:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(_with_database(server_url, TEMPLATE))
        try:
            await migrate(conn)
        finally:
            await conn.close()

    asyncio.run(build())
    return TEMPLATE


@pytest.fixture
def make_database(server_url: str, template: str) -> Iterator[Callable[[], str]]:
    """Create fresh migrated databases on demand (dropped after the test)."""
    yield from _databases(server_url, template)


@pytest.fixture(scope="module")
def module_database_url(server_url: str, template: str) -> Iterator[str]:
    """One fresh migrated database for a whole test module (dropped after it): for modules whose
    tests only read what a costly setup wrote, such as a demo province."""
    for create in _databases(server_url, template):
        yield create()


def _databases(server_url: str, template: str) -> Iterator[Callable[[], str]]:
    made: list[str] = []

    async def run(sql: str) -> None:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(sql)
        finally:
            await admin.close()

    def create() -> str:
        name = f"bangfu_test_{uuid.uuid4().hex[:12]}"
        _run_sync(run(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        made.append(name)
        return _with_database(server_url, name)

    yield create
    for name in made:
        _run_sync(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _run_sync(coro: object) -> None:
    """Run a coroutine to completion from sync code, even when a loop is running in this thread."""
    error: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)  # type: ignore[arg-type]
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]


@pytest.fixture
def database_url(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(database_url, min_size=1, max_size=24)
    assert created is not None
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture
def keyring(pool: asyncpg.Pool, tmp_path: Path) -> Keyring:
    """This test database's data keys, under the key-encryption key in the test's data folder —
    the one the `api` fixture's server uses too: tests that use the store run with personal
    data encrypted, as the service does, and the server reads what they wrote."""
    return Keyring(pool, load_pii_keys(None, tmp_path))


@pytest.fixture
def codec(keyring: Keyring) -> EventCodec:
    return EventCodec(keyring=keyring)


@pytest.fixture
def store(pool: asyncpg.Pool, keyring: Keyring) -> PostgresEventStore:
    return PostgresEventStore(pool, keyring=keyring)


@pytest.fixture
def files(store: PostgresEventStore, codec: EventCodec) -> PgFileRepository:
    return PgFileRepository(store, codec)


# ------------------------------------------------------------------------------ HTTP


SECRET = "test-secret-" + "x" * 40


class Api:
    """An HTTP client for the real app, with tokens for any unit and role."""

    def __init__(self, client: Any, tokens: Any) -> None:
        self.client = client
        self.tokens = tokens

    def auth(self, unit: str, role: str, user: str | None = None, **headers: str) -> dict[str, str]:
        token = self.tokens.mint(
            user=user or f"{role}-{unit}", unit=unit, role=Role(role), ttl=timedelta(hours=1)
        )
        return {"Authorization": f"Bearer {token}", **headers}


@pytest.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The real app served by uvicorn on a free loopback port, on this test's event loop."""
    settings = Settings(database_url=database_url, data_dir=tmp_path, log_json=True, secret=SECRET)
    units_pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert units_pool is not None
    await PgUnitDirectory(units_pool).load(demo.units())
    await units_pool.close()
    server = uvicorn.Server(
        uvicorn.Config(asgi(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield Api(client, Tokens(SECRET))
    finally:
        server.should_exit = True
        await serving
