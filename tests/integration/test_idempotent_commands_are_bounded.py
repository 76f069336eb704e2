"""A command sent with an Idempotency-Key runs in one transaction from the key's claim to the
stored response; that whole transaction is bounded, as every writing transaction is
(`adapters.pg.store.bound`), so a stall anywhere in it cannot hold back tailing readers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import msgspec

from adapters.http import idempotency
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from domain.values import Actor, Role


class Seen(msgspec.Struct):
    statement_timeout: str
    idle_timeout: str


class FakeRequest:
    """Just what `idempotency.run` reads of a request."""

    method = "POST"

    def __init__(self, key: str) -> None:
        self.headers = {"idempotency-key": key}
        self.url = SimpleNamespace(path="/api/v1/files/x/visits")

    async def body(self) -> bytes:
        return b"{}"


async def test_the_whole_idempotent_transaction_is_bounded(
    store: PostgresEventStore, files: PgFileRepository
) -> None:
    bounded = PostgresEventStore(store.pool, transaction_bound=7)
    rt: Any = SimpleNamespace(pool=store.pool, store=bounded, files=files)

    async def action(bound_files: PgFileRepository) -> idempotency.Outcome:
        conn = bound_files.conn
        assert conn is not None
        return (
            200,
            Seen(
                await conn.fetchval("SHOW statement_timeout"),
                await conn.fetchval("SHOW idle_in_transaction_session_timeout"),
            ),
            {},
        )

    response = await idempotency.run(
        FakeRequest("k-1"),  # type: ignore[arg-type]
        rt,
        Actor("clerk", "130306001", Role.CLERK),
        action,
    )

    assert msgspec.json.decode(response.content) == {
        "statement_timeout": "7s",
        "idle_timeout": "7s",
    }
    async with store.pool.acquire() as conn:  # the bound ended with its transaction
        assert await conn.fetchval("SHOW statement_timeout") == "0"
