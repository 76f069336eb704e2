"""Deliberate tampering with the event log, for the tests that show it is detected.

Events are append-only for every database role (migration 0009): the service's role has no
UPDATE, DELETE or TRUNCATE on `events`, and a trigger refuses them to the owner too unless the
transaction turns `bangfu.maintenance` on — the explicit repair path of docs/operations.md. A
test that alters the log on purpose (to show `bangfu verify`, a spot-check or a sync pull catch
it) takes that path here, as the owner (the tests' superuser connections).
"""

from __future__ import annotations

from typing import Any

import asyncpg


async def tamper(db: asyncpg.Pool | asyncpg.Connection, sql: str, *args: Any) -> str:
    """Run one UPDATE or DELETE on `events` in a maintenance transaction; return its status."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            return await tamper(conn, sql, *args)
    async with db.transaction():
        await db.execute("SET LOCAL bangfu.maintenance = on")
        return str(await db.execute(sql, *args))
