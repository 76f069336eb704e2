"""What printing a unit's forms reads of the log: the household files ever filed under a
subtree (a transferred file is filtered by its current unit after replay)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from adapters.pg.units import subtree_sql


async def household_ids(pool: asyncpg.Pool, root: str) -> list[UUID]:
    """The ids of the household files with an event filed under `root`'s subtree."""
    condition = subtree_sql("unit", "$1")
    sql = f"SELECT DISTINCT stream_id FROM events WHERE type LIKE 'household.%' AND {condition}"  # noqa: S608 — constants only; the unit is bound
    rows = await pool.fetch(sql + " ORDER BY stream_id", root)
    return [r["stream_id"] for r in rows]
