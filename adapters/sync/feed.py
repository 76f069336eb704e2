"""The feed a node serves upstream: its subtree's events in commit-safe log order, in pages.

A page covers the next `limit` events of the whole log after the cursor (docs/decisions/
0003-commit-safe-log.md: only finished transactions, in (xid, position) order) and carries those
whose `unit` lies in the served subtree — a file's events and the acts of other streams recorded
for units of the subtree alike. Its `cursor` is the last event it covered, inside the subtree or
not, so a subtree that is a small part of the log never makes a reader walk the same rows twice.
A reader continues from `cursor` while `more` is true, and later polls from the last cursor.

`head` is the last readable event of the whole log: an upstream whose stored cursor lies beyond
it is looking at a database that went back in time (restored from a backup).

Each event carries its origin: the node that wrote it and that node's epoch. Events this node
pulled from its own downstreams keep the origin they arrived with, so the national node learns
which district wrote an event that reached it through the province.

Pages are msgspec Structs, encoded as JSON (payload and hash in base64) or, on
`Accept: application/msgpack`, as MessagePack with raw bytes (what the puller asks for).

Personal fields travel as stored: encrypted. When this node shares a sync key with its upstream
(`BANGFU_UPSTREAM_KEY`), a page also carries the data key of every stream it has events of,
wrapped under that key (`keys`; `wrapped` is null for a key destroyed by an erasure), so the
upstream can read what its inspectors may unmask, and destroys its copy when this one is gone.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from adapters.pg.store import START, Cursor
from adapters.pii import Keyring
from domain.units import subtree_sql

MSGPACK = "application/msgpack"
MAX_LIMIT = 10_000


class FeedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One event as the log holds it: enough for the reader to recompute its hash."""

    stream_id: UUID
    version: int
    type: str
    payload: bytes
    recorded_at: datetime
    unit: str | None
    refers_to: UUID | None
    hash: bytes
    origin_node: str
    origin_epoch: str


class FeedKey(msgspec.Struct, frozen=True, kw_only=True):
    """A stream's data key wrapped under the sync key the two nodes share; None: destroyed."""

    stream_id: UUID
    wrapped: bytes | None


class Page(msgspec.Struct, kw_only=True):
    node: str
    epoch: str
    subtree: str
    after: str
    cursor: str
    more: bool
    head: str
    events: list[FeedEvent]
    keys: list[FeedKey] = []


class Count(msgspec.Struct, kw_only=True):
    node: str
    epoch: str
    subtree: str
    after: str
    head: str
    behind: int


_PAGE = f"""
SELECT e.position, e.xid, e.stream_id, e.version, e.type, e.payload, e.recorded_at, e.unit,
       e.hash, e.refers_to, o.node, o.epoch, {subtree_sql("e.unit", "$4::text")} AS inside
FROM (
    SELECT position, xid::text::bigint AS xid, stream_id, version, type, payload, recorded_at,
           unit, hash, refers_to
    FROM events
    WHERE (xid, position) > ($1::text::xid8, $2::bigint)
      AND xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY events.xid, events.position
    LIMIT $3
) AS e
LEFT JOIN sync_origins o ON o.stream_id = e.stream_id AND o.version = e.version
ORDER BY e.xid, e.position
"""  # noqa: S608 — built from constants, every value is a parameter

_HEAD = """
SELECT xid::text::bigint, position FROM events
WHERE xid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY events.xid DESC, events.position DESC LIMIT 1
"""

_COUNT = f"""
SELECT count(*) FROM events
WHERE (xid, position) > ($1::text::xid8, $2::bigint)
  AND xid < pg_snapshot_xmin(pg_current_snapshot())
  AND {subtree_sql("unit", "$3::text")}
"""  # noqa: S608 — built from constants, every value is a parameter


async def read_page(
    conn: asyncpg.Connection,
    *,
    node: str,
    epoch: str,
    subtree: str,
    after: Cursor,
    limit: int,
    keyring: Keyring | None = None,
    sync_key: bytes | None = None,
) -> Page:
    """The next page of the subtree's feed after `after` (read in one snapshot); with a
    `keyring` and the `sync_key` shared with the upstream, the data keys of its streams."""
    keys: list[FeedKey] = []
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        rows = await conn.fetch(_PAGE, str(after.xid), after.position, limit, subtree)
        head = await conn.fetchrow(_HEAD)
        if keyring is not None and sync_key is not None:
            streams = {r[2] for r in rows if r[12]}
            keys = [
                FeedKey(stream_id=s, wrapped=w)
                for s, w in await keyring.export(conn, streams, sync_key)
            ]
    events = [
        FeedEvent(
            stream_id=r[2],
            version=r[3],
            type=r[4],
            payload=bytes(r[5]),
            recorded_at=r[6],
            unit=r[7],
            hash=bytes(r[8]),
            refers_to=r[9],
            origin_node=r[10] if r[10] is not None else node,
            origin_epoch=r[11] if r[11] is not None else epoch,
        )
        for r in rows
        if r[12]
    ]
    cursor = Cursor(rows[-1][1], rows[-1][0]) if rows else after
    return Page(
        node=node,
        epoch=epoch,
        subtree=subtree,
        after=after.encode(),
        cursor=cursor.encode(),
        more=len(rows) == limit,
        head=(START if head is None else Cursor(head[0], head[1])).encode(),
        events=events,
        keys=keys,
    )


async def count_after(
    conn: asyncpg.Connection, *, node: str, epoch: str, subtree: str, after: Cursor
) -> Count:
    """How many events of the subtree lie after `after` (an upstream's lag, in events)."""
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        behind = await conn.fetchval(_COUNT, str(after.xid), after.position, subtree)
        head = await conn.fetchrow(_HEAD)
    return Count(
        node=node,
        epoch=epoch,
        subtree=subtree,
        after=after.encode(),
        head=(START if head is None else Cursor(head[0], head[1])).encode(),
        behind=int(behind),
    )


_JSON = msgspec.json.Encoder()
_PACK = msgspec.msgpack.Encoder()
_PAGE_JSON = msgspec.json.Decoder(Page)
_PAGE_PACK = msgspec.msgpack.Decoder(Page)


def encode(value: Page | Count, media_type: str) -> bytes:
    return _PACK.encode(value) if media_type == MSGPACK else _JSON.encode(value)


def decode_page(body: bytes, media_type: str) -> Page:
    """A page from its wire form (raises msgspec.ValidationError / DecodeError when malformed)."""
    if media_type.split(";", maxsplit=1)[0].strip() == MSGPACK:
        return _PAGE_PACK.decode(body)
    return _PAGE_JSON.decode(body)
