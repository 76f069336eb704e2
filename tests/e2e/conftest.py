"""More PostgreSQL servers, so that the nodes of a sync journey share nothing but HTTP.

A district node and a province node are two installations: two PostgreSQL servers, two bangfu
processes. Two databases on one server would share transaction ids, a WAL, a clock of commits —
a cursor that meant something on one could mean something on the other by accident. So server 0
(the session server of tests/conftest.py) holds the district, server 1 the province, server 2 the
national node.

Servers 1 and 2 come from `BANGFU_TEST_DATABASE_URL_2` / `BANGFU_TEST_DATABASE_URL_3` when set
(superuser or CREATEDB URLs of servers other than `BANGFU_TEST_DATABASE_URL`'s); otherwise each
is a private pgserver in its own short folder under /tmp, started when a test first asks for it
and stopped at the end of the session. Each gets its own migrated template.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pgserver
import pytest

from adapters.pg.migrations import migrate

TEMPLATE = "bangfu_node_template"
ENV = {1: "BANGFU_TEST_DATABASE_URL_2", 2: "BANGFU_TEST_DATABASE_URL_3"}


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def run_blocking(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to its end from sync code, even inside a running loop (a test's)."""
    result: list[Any] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


class Servers:
    """Server 0 is the session's; servers 1, 2, … are started (or taken from the environment)
    on first use, each with a migrated template to clone databases from."""

    def __init__(self) -> None:
        self.urls: dict[int, str] = {}
        self.owned: list[tuple[Any, Path]] = []
        self.lock = threading.Lock()

    def url(self, index: int) -> str:
        """The maintenance URL of server `index` (1 or more), with its template built."""
        with self.lock:
            if index not in self.urls:
                given = os.environ.get(ENV.get(index, ""), "")
                if given:
                    url = given
                else:
                    folder = Path(tempfile.mkdtemp(prefix=f"bfn{index}-"))
                    server = pgserver.get_server(folder / "pg", cleanup_mode="stop")
                    self.owned.append((server, folder))
                    url = f"postgresql://postgres@/postgres?host={folder / 'pg'}"
                run_blocking(self._template(url))
                self.urls[index] = url
            return self.urls[index]

    @staticmethod
    async def _template(url: str) -> None:
        await _admin(url, f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        await _admin(url, f'CREATE DATABASE "{TEMPLATE}"')
        conn = await asyncpg.connect(with_database(url, TEMPLATE))
        try:
            await migrate(conn)
        finally:
            await conn.close()

    def create(self, index: int) -> str:
        name = f"bangfu_node{index}_{uuid.uuid4().hex[:12]}"
        run_blocking(_admin(self.url(index), f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
        return with_database(self.urls[index], name)

    def drop(self, index: int, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        run_blocking(_admin(self.urls[index], f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def stop(self) -> None:
        for server, folder in self.owned:
            server.cleanup()
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    started = Servers()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def node_database(
    servers: Servers, make_database: Callable[[], str]
) -> Iterator[Callable[[int], str]]:
    """`node_database(i)`: a fresh migrated database on server i (0: the session server), for a
    node of its own; dropped after the test."""
    made: list[tuple[int, str]] = []

    def create(index: int) -> str:
        if index == 0:
            return make_database()
        url = servers.create(index)
        made.append((index, url))
        return url

    yield create
    for index, url in made:
        servers.drop(index, url)
