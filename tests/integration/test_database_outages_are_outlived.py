"""While the database is away, requests fail fast and clearly, and the background work waits.

- An error that means "the database is away for now" — a connection cut or refused, a server
  shutting down or starting up, a statement cancelled by its bound, a pool with no free
  connection in time — is answered 503 with `Retry-After` as a problem in Chinese or English;
  any other database error is still a plain 500 (a bug is not hidden as an outage).
- Waiting for a pooled connection is bounded: a request never hangs on an exhausted pool.
- The listening connection that wakes the read models is replaced when it is lost.
- The projection runner outlives its connections being cut, and carries on.

The full journey — PostgreSQL stopped and started under load — is
tests/e2e/test_database_restart_gives_503.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest
from asyncpg import exceptions
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from adapters.http import problems
from adapters.pg.codec import EventCodec
from adapters.pg.integrity import GENESIS
from adapters.pg.projector import ProjectionRunner
from adapters.pg.store import PostgresEventStore, Wakeups, chain
from adapters.runtime.bootstrap import open_pool, read_models
from adapters.runtime.settings import Settings
from domain.privacy import keyed_hash


def misused_after_a_cut() -> Exception:
    """An error that alone would be a bug, raised while handling a connection cut (a rollback
    on the dead connection): the cut is what the client needs to hear about."""
    error = asyncpg.InterfaceError("cannot perform operation: another operation is in progress")
    error.__context__ = exceptions.ConnectionDoesNotExistError(
        "connection was closed in the middle of operation"
    )
    return error


AWAY: dict[str, Callable[[], BaseException]] = {
    "cut mid-statement": lambda: exceptions.ConnectionDoesNotExistError(
        "connection was closed in the middle of operation"
    ),
    "shutting down": lambda: exceptions.AdminShutdownError(
        "terminating connection due to administrator command"
    ),
    "starting up": lambda: exceptions.CannotConnectNowError("the database system is starting up"),
    "statement bound": lambda: exceptions.QueryCanceledError(
        "canceling statement due to statement timeout"
    ),
    "idle bound": lambda: exceptions.IdleInTransactionSessionTimeoutError(
        "terminating connection due to idle-in-transaction timeout"
    ),
    "too many connections": lambda: exceptions.TooManyConnectionsError("too many clients"),
    "refused": lambda: ConnectionRefusedError(111, "Connection refused"),
    "no socket": lambda: FileNotFoundError(2, "No such file or directory"),
    "pool timeout": TimeoutError,
    "closed connection": lambda: asyncpg.InterfaceError("connection is closed"),
    "detached connection": lambda: asyncpg.InterfaceError(
        "cannot call Connection.fetch(): connection has been released back to the pool"
    ),
    "raised while handling a cut": misused_after_a_cut,
    "goodbye while sending": lambda: exceptions.InternalClientError(
        "cannot switch to state 11; another operation (2) is in progress"
    ),
}
BUGS: dict[str, Callable[[], BaseException]] = {
    "unique violation": lambda: exceptions.UniqueViolationError("duplicate key value"),
    "misuse": lambda: asyncpg.InterfaceError(
        "cannot perform operation: another operation is in progress"
    ),
    "syntax": lambda: exceptions.PostgresSyntaxError("syntax error at or near"),
    "plain bug": lambda: ValueError("a bug"),
}


def app_raising(make: Callable[[], BaseException]) -> Litestar:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise make()

    return Litestar([boom], exception_handlers=problems.HANDLERS, debug=False)


class TestAnErrorThatMeansTheDatabaseIsAway:
    @pytest.mark.parametrize("make", AWAY.values(), ids=AWAY.keys())
    async def test_is_answered_503_with_retry_after(self, make: Callable[[], BaseException]):
        async with AsyncTestClient(app_raising(make)) as client:
            response = await client.get("/boom")

        assert response.status_code == 503
        assert response.headers["content-type"].startswith(problems.MEDIA_TYPE)
        assert response.headers["retry-after"] == str(problems.RETRY_AFTER)
        assert response.json()["code"] == "database_unavailable"
        assert response.json()["retry_after"] == problems.RETRY_AFTER

    async def test_is_explained_in_chinese_or_english(self):
        app = app_raising(AWAY["refused"])

        async with AsyncTestClient(app) as client:
            zh = (await client.get("/boom")).json()
            en = (await client.get("/boom", headers={"Accept-Language": "en"})).json()

        assert (zh["title"], zh["detail"]) == ("服务暂不可用", "数据库暂时不可用，请稍后重试")
        assert (en["title"], en["detail"]) == (
            "Service unavailable",
            "the database is unavailable for the moment: retry later",
        )


class TestAnyOtherDatabaseError:
    @pytest.mark.parametrize("make", BUGS.values(), ids=BUGS.keys())
    async def test_is_still_a_plain_500(self, make: Callable[[], BaseException]):
        async with AsyncTestClient(app_raising(make)) as client:
            response = await client.get("/boom")

        assert response.status_code == 500
        assert "retry-after" not in response.headers
        assert response.json()["code"] == "internal_error"


class TestWaitingForAPooledConnection:
    async def test_gives_up_after_the_configured_time_instead_of_hanging(self, database_url: str):
        pool = await open_pool(database_url, size=1, wait=0.5)
        try:
            async with pool.acquire():  # the only connection, held
                query = asyncio.create_task(pool.fetchval("SELECT 1"))
                done, _ = await asyncio.wait({query}, timeout=20)
                query.cancel()
            assert await pool.fetchval("SELECT 1") == 1  # and the pool works on
        finally:
            await pool.close()

        assert query in done, "still waiting for a connection after 20 s"
        assert isinstance(query.exception(), TimeoutError)

    def test_is_bounded_by_ten_seconds_unless_configured(self):
        assert Settings.from_env({}).database_timeout == 10.0
        assert Settings.from_env({"BANGFU_DATABASE_TIMEOUT": "2"}).database_timeout == 2.0
        with pytest.raises(ValueError, match="BANGFU_DATABASE_TIMEOUT"):
            Settings.from_env({"BANGFU_DATABASE_TIMEOUT": "0"})  # never: that is no wait at all


async def listening_pids(pool: asyncpg.Pool) -> list[int]:
    return [
        r["pid"]
        for r in await pool.fetch(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        )
    ]


async def until(check: Callable[[], object], *, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():  # type: ignore[misc]
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"not so after {seconds} s")


class TestTheListeningConnection:
    async def test_is_replaced_when_lost_and_hears_notifications_again(self, pool: asyncpg.Pool):
        wakeups = Wakeups(pool)
        await wakeups.start(listen=True)
        try:
            (first,) = await listening_pids(pool)
            await pool.execute("SELECT pg_terminate_backend($1)", first)

            async def listening_again() -> bool:
                return wakeups.subscriptions == 2 and bool(await listening_pids(pool))

            await until(listening_again)
            wakeups.changed.clear()
            await pool.execute("NOTIFY bangfu_events")
            heard = await wakeups.wait(10)
        finally:
            await wakeups.stop()

        assert heard


def event() -> object:
    return chain(GENESIS, uuid4(), 1, "test.happened", b"{}", datetime.now(UTC), None)


class TestTheProjectionRunner:
    async def test_outlives_its_connections_being_cut_and_catches_up_after(
        self, database_url: str, store: PostgresEventStore
    ):
        runner_pool = await open_pool(database_url, size=2, wait=2)
        runner = ProjectionRunner(
            PostgresEventStore(runner_pool),
            EventCodec(),
            read_models(lambda n: keyed_hash(b"k" * 32, n)),
        )
        stop = asyncio.Event()
        running = asyncio.create_task(runner.run(stop, poll=0.05, cap=0.2))

        async def cut() -> None:
            await store.pool.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = 'bangfu'"
            )

        async def caught_up() -> bool:
            return all(lag.events == 0 for lag in (await runner.lag()).values())

        try:
            for _ in range(5):
                await store.append([event()])  # type: ignore[list-item]
                await cut()
                await asyncio.sleep(0.1)
            await until(caught_up)
            alive = not running.done()
        finally:
            stop.set()
            await asyncio.wait_for(running, 30)
            await runner_pool.close()

        assert alive
        assert await store.count_after(await store.position("ledger")) == 0
