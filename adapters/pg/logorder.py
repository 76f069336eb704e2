"""The commit-safe order of the event log, as the SQL every reader of the log builds on.

docs/decisions/0003-commit-safe-log.md: a reader sees only the rows of transactions below its
snapshot's xmin — all finished, so no row can still appear before them — in (xid, position)
order, after its cursor. The store's `read_log`, `head` and `count_after`, the projection
runner's lag and the sync feed all read through these fragments, so the fence is written once.

A cursor is passed as two parameters: its transaction id as text (asyncpg has no xid8 codec)
and its position.
"""

from __future__ import annotations

# Only rows of finished transactions with nothing running below them.
READABLE = "xid < pg_snapshot_xmin(pg_current_snapshot())"

# Ordered by the table's columns, not a query's output (which may name `xid::text::bigint`
# `xid`): a walk of the log's (xid, position) index.
IN_ORDER = "ORDER BY events.xid, events.position"
BACKWARDS = "ORDER BY events.xid DESC, events.position DESC"


def after(xid: str = "$1", position: str = "$2", *, table: str = "") -> str:
    """Rows after the cursor given by the parameters `xid` and `position` (`table`: "e." for
    a query that aliases the events table)."""
    return f"({table}xid, {table}position) > ({xid}::text::xid8, {position}::bigint)"


def up_to(xid: str, position: str, *, table: str = "") -> str:
    """Rows up to and including the cursor given by the parameters `xid` and `position`."""
    return f"({table}xid, {table}position) <= ({xid}::text::xid8, {position}::bigint)"


# Readable rows after the cursor $1 (xid as text), $2 (position).
READABLE_AFTER = f"{after()} AND {READABLE}"

# The cursor of the last readable event (no row for an empty log).
HEAD = f"SELECT xid::text::bigint AS xid, position FROM events WHERE {READABLE} {BACKWARDS} LIMIT 1"  # noqa: S608 — constants only
