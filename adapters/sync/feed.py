"""The feed a node serves upstream: its subtree's events in commit-safe log order, in pages.

A page covers the next `limit` events of the whole log after the cursor (docs/decisions/
0003-commit-safe-log.md: only finished transactions, in (xid, position) order) and carries those
whose `unit` lies in the served subtree — a file's events and the acts of other streams recorded
for units of the subtree alike. Its `cursor` is the last event it covered, inside the subtree or
not, so a subtree that is a small part of the log never makes a reader walk the same rows twice.
A reader continues from `cursor` while `more` is true, and later polls from the last cursor.

`head` is the last readable event of the whole log, and `after_in_log` says whether the event at
the reader's cursor is still in the log: an upstream whose cursor lies beyond the head, or whose
cursor event has vanished, is looking at a database that was restored from a backup.

Each event carries its origin: the node that wrote it and that node's epoch. Events this node
pulled from its own downstreams keep the origin they arrived with, so the national node learns
which district wrote an event that reached it through the province.

Pages are msgspec Structs, encoded as JSON (payload and hash in base64) or, on
`Accept: application/msgpack`, as MessagePack with raw bytes (what the puller asks for).

Streaming. A page of 10,000 events is megabytes; it is never built whole. `plan_page` reads, in
one short snapshot, what the page will be — how many events, where it ends, the head — without
payloads; `stream_page` then sends the envelope, reads the events of exactly that range through a
server-side cursor in a second snapshot, `CHUNK` rows at a time, and encodes and sends each chunk
before fetching the next. The two snapshots see the same rows: every event up to the page's end
was written by a transaction that had finished before the plan's snapshot (its xid lies below the
plan's xmin), so no later commit can add to or take from the range. The bytes are exactly those
of `encode(Page(...))`, so a reader cannot tell a streamed page from a built one.

Personal fields travel as stored: encrypted. When this node shares a sync key with its upstream
(`BANGFU_UPSTREAM_KEY`), a page also carries the data key of every stream it has events of,
wrapped under that key (`keys`; `wrapped` is null for a key destroyed by an erasure), so the
upstream can read what its inspectors may unmask, and destroys its copy when this one is gone.

Attachments. An event `household.attachment_added` travels in the feed like any other; its
content is read beside the feed, one sealed chunk at a time (`sealed_chunk`, served at
`/api/v1/sync/attachments/{id}/chunks/{seq}` to the same sync accounts, for the same subtree),
exactly as stored: sealed with the household's data key, which travels wrapped in `keys`. The
puller stores the content with the event, in the page's transaction (`adapters.sync.pull`).
Many chunks travel in one answer too (`sealed_chunks`, served at `POST
/api/v1/sync/attachments/chunks`): a MessagePack `ChunksWanted` of at most `BATCH_PAIRS`
(attachment, seq) pairs is answered by a `ChunkBatch` — for each pair in order, its sealed chunk
and its attachment's layout, or `found: false` (no such chunk, or a file outside the subtree:
never told apart) — until about `BATCH_BYTES` of chunks are in it; the pairs left unanswered
(`more`) are asked for again. A scan of a few KB is one chunk: a page of a thousand scans is a
handful of requests, not a thousand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec

from adapters.pg import logorder
from adapters.pg.conn import Conn
from adapters.pg.rows import START, Cursor
from adapters.pg.units import subtree_sql
from adapters.pii.keyring import Keyring

MSGPACK = "application/msgpack"
MAX_LIMIT = 10_000
CHUNK = 500  # events fetched from PostgreSQL, encoded and sent at a time
STALL = 60.0  # seconds a streaming page waits for a reader that stopped reading, then gives up


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
    after_in_log: bool = True  # the event at `after` is in this log (always true at the start)
    cursor: str
    more: bool
    head: str
    keys: list[FeedKey] = []  # with a sync key: the data keys of the page's streams
    events: list[FeedEvent]  # last: a streamed page sends everything else before its events


class Count(msgspec.Struct, kw_only=True):
    node: str
    epoch: str
    subtree: str
    after: str
    head: str
    behind: int


class FeedChanged(RuntimeError):
    """The page's range held other events when streamed than when planned — only possible if
    someone rewrote rows of the log in between. The response is cut short, so the reader sees a
    broken page and reads it again, never a page that contradicts its own envelope."""


_PLAN = f"""
WITH covered AS (
    SELECT xid, position, unit FROM events
    WHERE {logorder.READABLE_AFTER}
    {logorder.IN_ORDER}
    LIMIT $3
), last AS (
    SELECT xid::text::bigint AS xid, position FROM covered
    ORDER BY covered.xid DESC, covered.position DESC LIMIT 1
), head AS (
    {logorder.HEAD}
)
SELECT (SELECT count(*) FROM covered) AS covered,
       (SELECT count(*) FROM covered WHERE {subtree_sql("unit", "$4::text")}) AS inside,
       (SELECT xid FROM last) AS last_xid, (SELECT position FROM last) AS last_position,
       (SELECT xid FROM head) AS head_xid, (SELECT position FROM head) AS head_position,
       ($2::bigint = 0 OR EXISTS (
           SELECT FROM events WHERE xid = $1::text::xid8 AND position = $2::bigint
       )) AS after_in_log,
       (SELECT epoch FROM sync_node) AS epoch
"""  # noqa: S608 — built from constants, every value is a parameter

# The events of a planned range. The origin is looked up per event (LATERAL … LIMIT 1: one
# primary-key probe each), never by a hash join over all the origins a province holds.
_EVENTS = f"""
SELECT e.stream_id, e.version, e.type, e.payload, e.recorded_at, e.unit, e.hash, e.refers_to,
       o.node, o.epoch
FROM events e
LEFT JOIN LATERAL (
    SELECT node, epoch FROM sync_origins
    WHERE stream_id = e.stream_id AND version = e.version LIMIT 1
) AS o ON true
WHERE {logorder.after(table="e.")} AND {logorder.up_to("$3", "$4", table="e.")}
  AND {subtree_sql("e.unit", "$5::text")}
ORDER BY e.xid, e.position
"""  # noqa: S608 — built from constants, every value is a parameter

# The streams of a planned range, for the data keys a page carries.
_STREAMS = f"""
SELECT DISTINCT stream_id FROM events
WHERE {logorder.after()} AND {logorder.up_to("$3", "$4")}
  AND {subtree_sql("unit", "$5::text")}
"""  # noqa: S608 — built from constants, every value is a parameter

# One sealed chunk of an attachment whose file has events in the subtree.
_CHUNK = f"""
SELECT a.stream_id, a.size, a.chunks, a.sha256, c.sealed
FROM attachments a
JOIN attachment_chunks c ON c.attachment_id = a.attachment_id AND c.seq = $2
WHERE a.attachment_id = $1
  AND EXISTS (SELECT FROM events e WHERE e.stream_id = a.stream_id
              AND {subtree_sql("e.unit", "$3::text")})
"""  # noqa: S608 — built from constants, every value is a parameter

# The chunks asked for, in the order asked (k.n), whose files have events in the subtree: first
# their layout and length only, then the sealed bytes of those that fit in an answer.
_ASKED = f"""
SELECT k.n, a.attachment_id, a.stream_id, a.size, a.chunks, a.sha256, c.seq,
       octet_length(c.sealed) AS length
FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS k(attachment_id, seq, n)
JOIN attachments a ON a.attachment_id = k.attachment_id
JOIN attachment_chunks c ON c.attachment_id = a.attachment_id AND c.seq = k.seq
WHERE EXISTS (SELECT FROM events e WHERE e.stream_id = a.stream_id
              AND {subtree_sql("e.unit", "$3::text")})
"""  # noqa: S608 — built from constants, every value is a parameter

_SEALED = """
SELECT c.attachment_id, c.seq, c.sealed
FROM unnest($1::uuid[], $2::int[]) AS k(attachment_id, seq)
JOIN attachment_chunks c ON c.attachment_id = k.attachment_id AND c.seq = k.seq
"""

_COUNT = f"""
SELECT count(*) FROM events
WHERE {logorder.READABLE_AFTER}
  AND {subtree_sql("unit", "$3::text")}
"""  # noqa: S608 — built from constants, every value is a parameter


@dataclass(frozen=True)
class Plan:
    """A page before its events: the envelope to send, and the range of the log it covers."""

    envelope: Page  # every field but the events
    after: Cursor
    end: Cursor  # the last event covered (== after when the page covers nothing)
    count: int  # how many events of the range lie in the subtree: the page's events


async def plan_page(
    conn: Conn,
    *,
    node: str,
    subtree: str,
    after: Cursor,
    limit: int,
    keyring: Keyring | None = None,
    sync_key: bytes | None = None,
) -> Plan:
    """What the next page of the subtree's feed after `after` holds (one snapshot, no payloads);
    with a `keyring` and the `sync_key` shared with the upstream, the data keys of its streams
    wrapped under that key (they travel in the envelope, ahead of the events)."""
    keys: list[FeedKey] = []
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        r = await conn.fetchrow(_PLAN, str(after.xid), after.position, limit, subtree)
        assert r is not None  # noqa: S101 — an aggregate row is always returned
        end = after if r["last_xid"] is None else Cursor(r["last_xid"], r["last_position"])
        if keyring is not None and sync_key is not None and r["inside"]:
            streams = {
                row[0]
                for row in await conn.fetch(
                    _STREAMS, str(after.xid), after.position, str(end.xid), end.position, subtree
                )
            }
            keys = [
                FeedKey(stream_id=stream, wrapped=wrapped)
                for stream, wrapped in await keyring.export(conn, streams, sync_key)
            ]
    head = START if r["head_xid"] is None else Cursor(r["head_xid"], r["head_position"])
    envelope = Page(
        node=node,
        epoch=r["epoch"],
        subtree=subtree,
        after=after.encode(),
        after_in_log=r["after_in_log"],
        cursor=end.encode(),
        more=r["covered"] == limit,
        head=head.encode(),
        events=[],
        keys=keys,
    )
    return Plan(envelope, after, end, int(r["inside"]))


def _array_header(length: int) -> bytes:
    """The MessagePack header of an array of `length` items (the shortest form, as msgspec)."""
    if length < 16:
        return bytes([0x90 | length])
    if length < 1 << 16:
        return b"\xdc" + length.to_bytes(2, "big")
    return b"\xdd" + length.to_bytes(4, "big")


def frame(plan: Plan, media: str) -> tuple[bytes, bytes]:
    """The bytes before and after the page's events: the page encoded with no events, cut at
    its (last) `events` field, which is then opened for `plan.count` events."""
    empty = encode(plan.envelope, media)
    if media == MSGPACK:
        assert empty.endswith(b"\x90")  # noqa: S101 — `events` is the last field: an empty array
        return empty[:-1] + _array_header(plan.count), b""
    assert empty.endswith(b"[]}")  # noqa: S101 — `"events":[]` closes the object
    return empty[:-2], b"]}"


def _event(row: asyncpg.Record, envelope: Page) -> FeedEvent:
    return FeedEvent(
        stream_id=row[0],
        version=row[1],
        type=row[2],
        payload=bytes(row[3]),
        recorded_at=row[4],
        unit=row[5],
        hash=bytes(row[6]),
        refers_to=row[7],
        origin_node=row[8] if row[8] is not None else envelope.node,
        origin_epoch=row[9] if row[9] is not None else envelope.epoch,
    )


def encode_events(events: list[FeedEvent], media: str, *, first: bool) -> bytes:
    """Events as a run of array items: concatenated in MessagePack, comma-separated in JSON."""
    if media == MSGPACK:
        return _PACK.encode(events)[len(_array_header(len(events))) :]  # the items, no header
    items = _JSON.encode(events)[1:-1]  # `[a,b]` → `a,b`
    return items if first else b"," + items


async def stream_page(
    pool: asyncpg.Pool, plan: Plan, media: str, *, chunk: int = CHUNK, stall: float = STALL
) -> AsyncIterator[bytes]:
    """The encoded page, in pieces: the envelope, then `chunk` events at a time, then the end.

    A connection is taken only once the stream is started, and held (in a read-only snapshot,
    with a server-side cursor) until the last chunk is sent or the stream is closed. A reader
    that stops reading for `stall` seconds loses it: PostgreSQL ends the idle session, the stream
    breaks off, and no connection of the pool stays pinned by a reader that went away."""
    opening, closing = frame(plan, media)
    if plan.count == 0:
        yield opening + closing
        return
    yield opening
    sent = 0
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        await conn.execute(
            f"SET LOCAL idle_in_transaction_session_timeout = {max(1, round(stall * 1000))}"
        )
        rows = await conn.cursor(
            _EVENTS,
            str(plan.after.xid),
            plan.after.position,
            str(plan.end.xid),
            plan.end.position,
            plan.envelope.subtree,
        )
        while batch := await rows.fetch(chunk):
            events = [_event(r, plan.envelope) for r in batch]
            if sent + len(events) > plan.count:
                raise FeedChanged(f"more than the {plan.count} events planned after {plan.after}")
            yield encode_events(events, media, first=sent == 0)
            sent += len(events)
    if sent != plan.count:
        raise FeedChanged(f"{sent} of the {plan.count} events planned after {plan.after}")
    yield closing


@dataclass(frozen=True)
class SealedChunk:
    """One chunk of an attachment's content as stored (sealed), with the attachment's layout."""

    stream_id: UUID
    size: int
    chunks: int
    sha256: str
    sealed: bytes


async def sealed_chunk(
    runner: Conn | asyncpg.Pool, *, attachment_id: UUID, seq: int, subtree: str
) -> SealedChunk | None:
    """Chunk `seq` of an attachment of a file of the subtree, sealed as stored (None: no such
    chunk, or the file is not the subtree's)."""
    row = await runner.fetchrow(_CHUNK, attachment_id, seq, subtree)
    if row is None:
        return None
    return SealedChunk(row[0], row[1], row[2], bytes(row[3]).hex(), bytes(row[4]))


BATCH_PAIRS = 256  # (attachment, seq) pairs one request may ask for
BATCH_BYTES = 8 * 1024 * 1024  # sealed bytes an answer stops adding chunks past (one at least)


class ChunkRef(msgspec.Struct, frozen=True, array_like=True):
    """One chunk asked for: (attachment, seq), as a two-item array."""

    attachment_id: UUID
    seq: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]


class ChunksWanted(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    chunks: list[ChunkRef]


class ChunkAnswer(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A chunk asked for: sealed as stored with its attachment's layout (as the single-chunk
    route's X-Bangfu-* headers tell it), or `found` false — no such chunk, or not the subtree's."""

    attachment_id: UUID
    seq: int
    found: bool
    stream_id: UUID | None = None
    size: int = 0
    chunks: int = 0
    sha256: str = ""
    sealed: bytes = b""


class ChunkBatch(msgspec.Struct, kw_only=True):
    answers: list[ChunkAnswer]  # the first pairs asked for, in their order
    more: bool  # pairs past these were not answered (the byte bound): ask for them again


async def sealed_chunks(
    pool: asyncpg.Pool,
    wanted: Sequence[ChunkRef],
    *,
    subtree: str,
    bound: int | None = None,
) -> ChunkBatch:
    """The chunks `wanted` of attachments of files of the subtree, in order, until `bound` sealed
    bytes are in the answer (the first chunk found is always answered); the rest is `more`."""
    bound = BATCH_BYTES if bound is None else bound
    ids = [w.attachment_id for w in wanted]
    seqs = [w.seq for w in wanted]
    async with pool.acquire() as conn:
        found = {r["n"] - 1: r for r in await conn.fetch(_ASKED, ids, seqs, subtree)}
        answered, total = len(wanted), 0
        for n in range(len(wanted)):
            row = found.get(n)
            if row is None:
                continue
            if total and total + row["length"] > bound:
                answered = n
                break
            total += row["length"]
        chosen = [found[n] for n in range(answered) if n in found]
        sealed = {
            (r[0], r[1]): bytes(r[2])
            for r in await conn.fetch(
                _SEALED, [r["attachment_id"] for r in chosen], [r["seq"] for r in chosen]
            )
        }
    answers = []
    for n, w in enumerate(wanted[:answered]):
        row = found.get(n)
        content = None if row is None else sealed.get((row["attachment_id"], row["seq"]))
        if row is None or content is None:
            answers.append(ChunkAnswer(attachment_id=w.attachment_id, seq=w.seq, found=False))
            continue
        answers.append(
            ChunkAnswer(
                attachment_id=w.attachment_id,
                seq=w.seq,
                found=True,
                stream_id=row["stream_id"],
                size=row["size"],
                chunks=row["chunks"],
                sha256=bytes(row["sha256"]).hex(),
                sealed=content,
            )
        )
    return ChunkBatch(answers=answers, more=answered < len(wanted))


async def count_after(conn: Conn, *, node: str, epoch: str, subtree: str, after: Cursor) -> Count:
    """How many events of the subtree lie after `after` (an upstream's lag, in events)."""
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        behind = await conn.fetchval(_COUNT, str(after.xid), after.position, subtree)
        head = await conn.fetchrow(logorder.HEAD)
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
WANTED = msgspec.msgpack.Decoder(ChunksWanted)
ANSWERED = msgspec.msgpack.Decoder(ChunkBatch)


def encode(value: Page | Count | ChunkBatch | ChunksWanted, media_type: str) -> bytes:
    return _PACK.encode(value) if media_type == MSGPACK else _JSON.encode(value)


def decode_page(body: bytes, media_type: str) -> Page:
    """A page from its wire form (raises msgspec.ValidationError / DecodeError when malformed)."""
    if media_type.split(";", maxsplit=1)[0].strip() == MSGPACK:
        return _PAGE_PACK.decode(body)
    return _PAGE_JSON.decode(body)
