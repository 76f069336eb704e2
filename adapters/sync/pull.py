"""The pull: an upstream node stores a downstream node's feed into its own event log.

For each page of the downstream's feed (`adapters.sync.feed`):

1. every event's unit must lie in the subtree the downstream was configured for — a single event
   outside refuses the whole page (nothing stored, the cursor stays, an alert is raised): a
   district node has no business serving another district's files (DESIGN.md decision 6);
2. each stream's hash chain must continue from what this node already holds: the event's hash is
   recomputed (`adapters.pg.integrity.link_hash`) on the previous hash of the local copy, or of the
   page's previous event of that stream. The local copy is not trusted either: each held row the
   page meets — the head a new event chains onto included — is re-hashed from its stored content
   on its own predecessor's hash, and a row changed at this node is alerted (`held_event_altered`)
   and nothing is chained onto it;
3. an event already held with the same hash is skipped (re-reads after a restore or a kill);
   the same stream and version with another hash — or a hash that does not chain — is put in
   `sync_quarantine` and alerted, never stored over what is held;
4. the new events, their origins, the quarantined ones and the new cursor are written in ONE
   transaction, under an advisory lock per downstream, after checking the stored cursor is still
   the one the page was read from (as `ProjectionRunner.step` does). A puller killed mid-page
   rolls back and reads the page again; two pullers never store a page twice.

Pulled events get this node's own transaction ids and positions, so this node's own feed serves
them upstream in its own commit-safe order; the hash chain is per stream and does not change.
The node's projection runner sees them like local events, so its read models include them.

Restores: a page from another epoch than the one stored — or, when nobody ran `bangfu sync
new-epoch` on the restored node, a feed whose head lies before the stored cursor or that no
longer holds the event at the stored cursor (the log went back in time) — restarts the
downstream from the start of its feed; what is already held is skipped, so only the missing
events are added.

`catch_up` reads the next page while it stores the current one: the downstream serves and this
node writes at the same time, and a page read ahead is dropped unless the cursor it was read
from is the one stored.

Attachments: for each `household.attachment_added` event of a page whose content this node does not
hold yet, the content is read from the downstream beside the page — many sealed chunks to a request
(`POST /api/v1/sync/attachments/chunks`: first the first chunks of all of them, then the further
chunks of the large ones), `attachments_in_flight` requests at a time, each attachment into a spool
file of its own (memory stays bounded); from a downstream without that route (an older node:
404/405, remembered for the puller's life) one chunk per request, `attachments_in_flight`
attachments at a time — and — with the file's data key, from the page or already held — opened and
re-hashed against the size and SHA-256 its event records. Content that is missing downstream, does
not open or does not match is quarantined like a tampered event: the event is put in
`sync_quarantine` with the reason, alerted, and the stream's later events of the page follow it
there; nothing of that content is stored. Matching content is stored sealed, as received, in the
page's transaction with its event (`adapters.pg.attachments.store_sealed`), so the upstream holds it
even when the downstream is later offline. Without the data key (no sync key shared, or the
household erased downstream) the sealed content is stored as received, unverified: it cannot be
opened here either.

Personal data: the data keys a page carries (wrapped under the sync key shared with the
downstream) are opened before anything is stored — a key that does not open refuses the page —
and stored wrapped under this node's own key-encryption key in the page's transaction. A key
destroyed downstream, and every pulled erasure event, destroy this node's copy in that same
transaction: an erasure reaches every node its file reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import tempfile
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import IO, Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import structlog
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.pg.attachments import CHUNK, Altered, open_chunk, store_sealed
from adapters.pg.conn import Conn
from adapters.pg.integrity import GENESIS, event_hash, link_hash
from adapters.pg.store import START, Cursor, copy_events
from adapters.pii.keyring import Keyring
from adapters.pii.sealing import ERASURE_TYPE, KeyProblem, unwrap_from_transport
from adapters.sync.feed import (
    ANSWERED,
    BATCH_PAIRS,
    MSGPACK,
    ChunkRef,
    ChunksWanted,
    FeedEvent,
    Page,
    decode_page,
    encode,
)
from adapters.sync.node import Downstream
from domain.errors import InvalidValue
from domain.onefile import CHANGING_NAMES
from domain.units import UnitCode

log = structlog.get_logger(__name__)

# Settles 一户一档 for the stored files named, in the caller's transaction, recording a duplicate
# instead of refusing (`adapters.pg.repository.PgFileRepository.claim_streams`).
ClaimStreams = Callable[[Conn, Sequence[UUID]], Awaitable[None]]

FEED = "/api/v1/sync/feed"
COUNT = "/api/v1/sync/feed/count"
ATTACHMENTS = "/api/v1/sync/attachments"
BATCH = "/api/v1/sync/attachments/chunks"
ATTACHED = "household.attachment_added"  # the stored name (domain/events.py)
SPOOL_BYTES = (
    4 * 1024 * 1024
)  # an attachment's sealed content kept in memory up to this, then on disk
SEALING_BYTES = 64  # a sealed chunk's nonce and tag, with room to spare
ATTACHMENTS_IN_FLIGHT = 8  # a page's attachments read from the downstream at the same time


class PullError(Exception):
    """The downstream could not be read (unreachable, refused our token, sent garbage)."""


class _NoBatchRoute(Exception):
    """The downstream answered the batch route 404/405: an older node, one chunk per request."""


class PageRefused(PullError):
    """A page served events outside the downstream's subtree: nothing of it was stored."""


# ------------------------------------------------------------------------------ pure checks


def outside(events: Sequence[FeedEvent], subtree: str) -> list[FeedEvent]:
    """The events whose unit does not lie within `subtree` (or is no unit code at all)."""
    root = UnitCode(subtree)
    judged: dict[str | None, bool] = {}  # a page has thousands of events and a few units
    bad = []
    for event in events:
        inside = judged.get(event.unit)
        if inside is None:
            try:
                inside = event.unit is not None and UnitCode(event.unit).is_within(root)
            except InvalidValue:
                inside = False
            judged[event.unit] = inside
        if not inside:
            bad.append(event)
    return bad


@dataclass(frozen=True)
class Quarantined:
    event: FeedEvent
    held_hash: bytes | None
    reason: str


Key = tuple[UUID, int]  # (stream, version)


@dataclass
class Verdict:
    accepted: list[FeedEvent] = field(default_factory=list)
    skipped: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)
    altered: list[Key] = field(default_factory=list)  # held rows the page met that fail their hash


def judge(
    events: Sequence[FeedEvent], held: dict[Key, bytes], altered: Collection[Key] = frozenset()
) -> Verdict:
    """Sort a page's events into new (chaining onto what is held), already held, quarantined.

    `held` maps (stream, version) → hash for what this node holds of the page's streams, from one
    version before the page's first event of each stream; it is extended as events are accepted.
    `altered` are the held rows whose own content no longer gives their stored hash (`verify_held`):
    rows changed at this node. Nothing is chained onto them, and an event of the page that meets
    one is quarantined — kept for the operator, who may repair this node's copy from it.
    """
    verdict = Verdict()
    broken: set[UUID] = set()

    def met_altered(key: Key) -> None:
        if key not in verdict.altered:
            verdict.altered.append(key)
        broken.add(key[0])

    for e in events:
        key = (e.stream_id, e.version)
        mine = held.get(key)
        if mine is not None:
            if key in altered:
                met_altered(key)
                verdict.quarantined.append(
                    Quarantined(e, mine, "this node's copy of the event was altered")
                )
            elif mine == e.hash:
                verdict.skipped += 1
            else:
                verdict.quarantined.append(
                    Quarantined(e, mine, "held with another hash: the downstream's event differs")
                )
                broken.add(e.stream_id)
            continue
        if e.stream_id in broken:
            verdict.quarantined.append(Quarantined(e, None, "follows a quarantined event"))
            continue
        before = (e.stream_id, e.version - 1)
        if before in altered:
            met_altered(before)
            verdict.quarantined.append(
                Quarantined(e, None, f"this node's copy of version {e.version - 1} was altered")
            )
            continue
        previous = GENESIS if e.version == 1 else held.get(before)
        if previous is None:
            verdict.quarantined.append(
                Quarantined(e, None, f"version {e.version - 1} of the stream is not held")
            )
            broken.add(e.stream_id)
            continue
        if link_hash(previous, e) != e.hash:
            verdict.quarantined.append(
                Quarantined(
                    e, None, "the hash does not chain: the event or its predecessor was altered"
                )
            )
            broken.add(e.stream_id)
            continue
        verdict.accepted.append(e)
        held[key] = e.hash
    return verdict


@dataclass
class Fetched:
    """An attachment's content as read from the downstream: sealed, spooled, and judged against
    the size and hash its event records (`problem`: why it may not be stored)."""

    stream_id: UUID
    attachment_id: UUID
    size: int
    sha256: str
    spool: IO[bytes]
    lengths: list[int] = field(default_factory=list)
    problem: str | None = None
    verified: bool = False

    def sealed(self) -> Iterator[bytes]:
        self.spool.seek(0)
        for length in self.lengths:
            yield self.spool.read(length)


class _Reading:
    """An attachment's content as it arrives, chunk by chunk in order, judged on the way: the
    layout against the size its event records, each chunk's length, each chunk opened (with the
    data key) and the whole re-hashed. `fetched.problem` says why it may not be stored."""

    def __init__(self, fetched: Fetched, aead: AESGCM | None) -> None:
        self.fetched = fetched
        self.aead = aead
        self.digest = hashlib.sha256()
        self.opened = 0
        self.seq = 0  # the next chunk wanted
        self.chunks = 1  # known once the first chunk came
        self.most = fetched.size // CHUNK + 1

    @property
    def done(self) -> bool:
        return self.fetched.problem is not None or self.seq >= self.chunks

    def missing(self) -> None:
        self.fetched.problem = (
            f"the attachment {self.fetched.attachment_id}'s content is missing downstream"
            + (f" from chunk {self.seq}" if self.seq else "")
        )

    def take(self, sealed: bytes, chunks: int | None) -> None:
        """Chunk `self.seq`, sealed; `chunks`: the attachment's chunk count (with chunk 0)."""
        fetched, seq = self.fetched, self.seq
        if seq == 0:
            self.chunks = chunks or 0
            if not 0 < self.chunks <= self.most:
                fetched.problem = (
                    f"the attachment {fetched.attachment_id} is stored downstream in"
                    f" {self.chunks} chunks, not as {fetched.size} bytes are"
                )
                return
        if len(sealed) > CHUNK + SEALING_BYTES:
            fetched.problem = f"chunk {seq} of {fetched.attachment_id} is too long"
            return
        fetched.spool.write(sealed)
        fetched.lengths.append(len(sealed))
        if self.aead is not None:
            try:
                data = open_chunk(
                    self.aead,
                    fetched.stream_id,
                    fetched.attachment_id,
                    seq,
                    seq == self.chunks - 1,
                    sealed,
                )
            except Altered:
                fetched.problem = (
                    f"chunk {seq} of the attachment {fetched.attachment_id} does not open:"
                    " its content was altered downstream"
                )
                return
            self.digest.update(data)
            self.opened += len(data)
        self.seq += 1
        if self.seq == self.chunks and self.aead is not None:
            if self.opened != fetched.size or self.digest.hexdigest() != fetched.sha256:
                fetched.problem = (
                    f"the attachment {fetched.attachment_id}'s content does not match the hash"
                    " its event records: altered downstream"
                )
            fetched.verified = True


async def _all_or_first_failure(work: Sequence[Coroutine[Any, Any, None]]) -> None:
    """Run `work` concurrently; the first failure cancels the rest, waits for them (each closes
    what it opened), and is raised as itself — a `PullError` as one fetch at a time raised it."""
    failure: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as tasks:
            for coroutine in work:
                tasks.create_task(coroutine)
    except BaseExceptionGroup as failed:  # the others were cancelled and awaited
        failure = failed.exceptions[0]
    if failure is not None:
        raise failure


def _groups(readings: Sequence[_Reading]) -> list[list[_Reading]]:
    """Readings in groups of about `BATCH_PAIRS` chunks still wanted, each attachment's chunks in
    one group (read by one request after another, in order)."""
    groups: list[list[_Reading]] = [[]]
    wanted = 0
    for r in readings:
        if wanted >= BATCH_PAIRS:
            groups.append([])
            wanted = 0
        groups[-1].append(r)
        wanted += r.chunks - r.seq
    return groups


@dataclass(frozen=True)
class Recorded:
    """What an attachment event records of its content (fields never sealed)."""

    attachment_id: UUID
    size: int
    sha256: str


def recorded(event: FeedEvent) -> Recorded | None:
    """The attachment an event records, or None (another event, or one whose payload does not
    parse: the chain check judges it)."""
    if event.type != ATTACHED:
        return None
    try:
        fields = msgspec.json.decode(event.payload)
        return Recorded(UUID(fields["attachment_id"]), int(fields["size"]), str(fields["sha256"]))
    except (msgspec.DecodeError, KeyError, TypeError, ValueError):
        return None


def quarantine_content(verdict: Verdict, bad: Mapping[Key, str]) -> Verdict:
    """Move the accepted events whose attachment's content may not be stored — with the later
    accepted events of their streams — into quarantine, as a tampered event's are."""
    if not bad:
        return verdict
    broken: set[UUID] = set()
    accepted: list[FeedEvent] = []
    quarantined = list(verdict.quarantined)
    for e in verdict.accepted:
        key = (e.stream_id, e.version)
        if key in bad:
            quarantined.append(Quarantined(e, None, bad[key]))
            broken.add(e.stream_id)
        elif e.stream_id in broken:
            quarantined.append(Quarantined(e, None, "follows a quarantined event"))
        else:
            accepted.append(e)
    return replace(verdict, accepted=accepted, quarantined=quarantined)


def restored(state: State, page: Page) -> str | None:
    """Why the downstream must be read again from the start, if it must: a new epoch (`bangfu
    sync new-epoch` after a restore), or — nobody having run it — a log that no longer reaches
    our cursor, or no longer holds the event our cursor points at."""
    if state.epoch is not None and page.epoch != state.epoch:
        return f"epoch changed from {state.epoch} to {page.epoch}: re-reading from the start"
    if not state.raw_cursor:
        return None
    if Cursor.decode(page.head) < state.cursor:
        return (
            f"its log ends at {page.head}, before our cursor {state.raw_cursor} (restored"
            " without a new epoch?): re-reading from the start"
        )
    if not page.after_in_log:
        return (
            f"the event at our cursor {state.raw_cursor} is no longer in its log (restored"
            " without a new epoch?): re-reading from the start"
        )
    return None


def opened_keys(page: Page, sync_key: bytes | None) -> dict[UUID, bytes | None]:
    """The data keys a page carries, opened with the shared sync key (None: destroyed there).
    Raises `PullError` when one does not open: the two nodes hold different sync keys."""
    if sync_key is None:
        return {k.stream_id: None for k in page.keys if k.wrapped is None}
    opened: dict[UUID, bytes | None] = {}
    for k in page.keys:
        try:
            opened[k.stream_id] = (
                None
                if k.wrapped is None
                else unwrap_from_transport(sync_key, k.stream_id, k.wrapped)
            )
        except KeyProblem as error:
            raise PageRefused(str(error)) from None
    return opened


def backoff(attempt: int, *, base: float = 0.5, cap: float = 30.0) -> float:
    """Exponential back-off with jitter: 0.5 s, 1 s, 2 s … up to `cap`."""
    delay = min(cap, base * (2.0 ** min(attempt, 16)))
    return delay * (0.5 + random.random() / 2)  # noqa: S311 — jitter, not cryptography


# ------------------------------------------------------------------------------ storage


def lock_key(code: str) -> int:
    digest = hashlib.sha256(f"bangfu.sync.{code}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_HELD = """
SELECT e.stream_id, e.version, e.type, e.payload, e.recorded_at, e.unit, e.refers_to, e.hash
FROM unnest($1::uuid[], $2::int[], $3::int[]) AS k(stream_id, lo, hi)
CROSS JOIN LATERAL (
    SELECT * FROM events
    WHERE stream_id = k.stream_id AND version BETWEEN k.lo AND k.hi
) AS e
"""


@dataclass
class Held:
    """What this node holds of a page's streams, re-verified: the hash of each held row, and the
    rows whose own content no longer gives that hash (changed here, after they were stored)."""

    hashes: dict[Key, bytes]
    altered: set[Key]


async def held_rows(conn: Conn, events: Sequence[FeedEvent]) -> Held:
    """What this node holds of the page's streams, from one version before the page's first
    (the head a new event chains onto), each row re-hashed on its predecessor's stored hash —
    for which the version before that is read too, as a witness only."""
    spans: dict[UUID, list[int]] = {}
    for e in events:
        span = spans.setdefault(e.stream_id, [e.version, e.version])
        span[0], span[1] = min(span[0], e.version), max(span[1], e.version)
    if not spans:
        return Held({}, set())
    ids = list(spans)
    rows = await conn.fetch(_HELD, ids, [spans[s][0] - 2 for s in ids], [spans[s][1] for s in ids])
    hashes = {(r[0], r[1]): bytes(r[7]) for r in rows}
    return Held(hashes, verify_held(rows, hashes, {s: span[0] - 1 for s, span in spans.items()}))


def verify_held(rows: Sequence[Any], hashes: dict[Key, bytes], heads: dict[UUID, int]) -> set[Key]:
    """The held rows (stream, version, type, payload, recorded_at, unit, refers_to, hash) that
    do not hash to their stored hash on their predecessor's; rows below `heads[stream]` are only
    witnesses for the row above them."""
    altered = set()
    for stream, version, type_name, payload, recorded_at, unit, refers_to, stored in rows:
        if version < heads[stream]:
            continue
        previous = GENESIS if version == 1 else hashes.get((stream, version - 1))
        if previous is None:
            continue  # not this node's to judge here: the chain below was never held whole
        computed = event_hash(
            previous, stream, version, type_name, recorded_at, unit, bytes(payload), refers_to
        )
        if computed != bytes(stored):
            altered.add((stream, version))
    return altered


@dataclass
class State:
    cursor: Cursor
    epoch: str | None
    raw_cursor: str


async def load_state(runner: Any, code: str) -> State:
    row = await runner.fetchrow("SELECT cursor, epoch FROM sync_downstreams WHERE code = $1", code)
    if row is None:
        return State(START, None, "")
    return State(Cursor.decode(row["cursor"]), row["epoch"], row["cursor"])


async def raise_alert(
    runner: Any,
    downstream: str,
    kind: str,
    detail: str,
    *,
    stream_id: UUID | None = None,
    version: int | None = None,
) -> None:
    await runner.execute(
        "INSERT INTO sync_alerts (downstream, kind, detail, stream_id, version)"
        " VALUES ($1, $2, $3, $4, $5)",
        downstream,
        kind,
        detail,
        stream_id,
        version,
    )
    log.warning(
        "sync.alert_raised",
        downstream=downstream,
        kind=kind,
        detail=detail,
        stream_id=str(stream_id) if stream_id else None,
        version=version,
    )


async def alert_once(
    runner: Any, downstream: str, kind: str, detail: str, *, stream_id: UUID, version: int
) -> None:
    """Raise an alert about one event unless it was raised already (each re-read meets it)."""
    raised = await runner.fetchval(
        "SELECT EXISTS (SELECT FROM sync_alerts WHERE downstream = $1 AND kind = $2"
        " AND stream_id = $3 AND version = $4)",
        downstream,
        kind,
        stream_id,
        version,
    )
    if not raised:
        await raise_alert(runner, downstream, kind, detail, stream_id=stream_id, version=version)


_UPSERT_STATE = """
INSERT INTO sync_downstreams (code, url, cursor, epoch, node, received, behind, last_success,
                              last_error, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, now(), NULL, now())
ON CONFLICT (code) DO UPDATE SET
    url = EXCLUDED.url, cursor = EXCLUDED.cursor, epoch = EXCLUDED.epoch, node = EXCLUDED.node,
    received = sync_downstreams.received + EXCLUDED.received,
    behind = coalesce(EXCLUDED.behind, sync_downstreams.behind),
    last_success = now(), last_error = NULL, updated_at = now()
"""


@dataclass
class Stored:
    accepted: int
    skipped: int
    quarantined: int
    moved: bool = True  # false: nothing stored, the page is to be read again
    restarted: bool = False  # the downstream is read again from the start of its feed


@dataclass
class Pulled:
    """What one `catch_up` did, for the operator's summary."""

    added: int = 0
    skipped: int = 0
    quarantined: int = 0
    pages: int = 0
    restarts: int = 0


async def store_page(
    conn: Conn,
    downstream: Downstream,
    state: State,
    page: Page,
    *,
    behind: int | None = None,
    keyring: Keyring | None = None,
    keys: dict[UUID, bytes | None] | None = None,
    contents: Mapping[Key, Fetched] | None = None,
    claims: ClaimStreams | None = None,
) -> Stored:
    """Write one checked page, its data keys, the content of its attachments (`contents`, read
    beforehand) and its cursor in one transaction (see the module docstring)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(downstream.code))
        now = await conn.fetchval(
            "SELECT cursor FROM sync_downstreams WHERE code = $1", downstream.code
        )
        if (now or "") != state.raw_cursor:
            return Stored(0, 0, 0, moved=False)  # another puller stored this page: read again
        held = await held_rows(conn, page.events)
        verdict = judge(page.events, held.hashes, held.altered)
        contents = contents or {}
        verdict = quarantine_content(
            verdict, {k: f.problem for k, f in contents.items() if f.problem is not None}
        )
        if verdict.accepted:
            # The events are the transaction's first write (decision 3: its xid is taken here).
            await copy_events(conn, verdict.accepted)
            await conn.copy_records_to_table(
                "sync_origins",
                columns=("stream_id", "version", "node", "epoch", "downstream"),
                records=[
                    (e.stream_id, e.version, e.origin_node, e.origin_epoch, downstream.code)
                    for e in verdict.accepted
                ],
            )
        # the content of attachments whose event is stored now, or was before (held, skipped)
        quarantined = {(q.event.stream_id, q.event.version) for q in verdict.quarantined}
        for key, fetched in contents.items():
            if fetched.problem is None and key not in quarantined:
                await store_sealed(
                    conn,
                    attachment_id=fetched.attachment_id,
                    stream_id=fetched.stream_id,
                    size=fetched.size,
                    sha256=fetched.sha256,
                    sealed=fetched.sealed(),
                )
        for stream_id, version in verdict.altered:
            await alert_once(
                conn,
                downstream.code,
                "held_event_altered",
                f"this node's copy of {stream_id} v{version} no longer matches its hash:"
                " it was changed here after it was stored; nothing is chained onto it",
                stream_id=stream_id,
                version=version,
            )
        if keyring is not None:
            erased = {e.stream_id: None for e in verdict.accepted if e.type == ERASURE_TYPE}
            destroyed = await keyring.receive(conn, {**(keys or {}), **erased})
        if claims is not None:
            # 一户一档 for the pulled files, once their keys are here: a person another file
            # holds is recorded as a duplicate, never a reason to refuse the page
            changed = {e.stream_id for e in verdict.accepted if e.type in CHANGING_NAMES}
            await claims(conn, sorted(changed))
        for q in verdict.quarantined:
            e = q.event
            new = await conn.fetchval(
                "INSERT INTO sync_quarantine (downstream, stream_id, version, type, payload,"
                " recorded_at, unit, refers_to, hash, held_hash, reason)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                " ON CONFLICT DO NOTHING RETURNING id",
                downstream.code,
                e.stream_id,
                e.version,
                e.type,
                e.payload,
                e.recorded_at,
                e.unit,
                e.refers_to,
                e.hash,
                q.held_hash,
                q.reason,
            )
            if new is not None:
                await raise_alert(
                    conn,
                    downstream.code,
                    "event_quarantined",
                    q.reason,
                    stream_id=e.stream_id,
                    version=e.version,
                )
        await conn.execute(
            _UPSERT_STATE,
            downstream.code,
            downstream.url,
            page.cursor,
            page.epoch,
            page.node,
            len(verdict.accepted),
            behind,
        )
    if keyring is not None:
        for stream_id in destroyed:
            keyring.forget(stream_id)
    return Stored(len(verdict.accepted), verdict.skipped, len(verdict.quarantined))


async def restart(conn: Conn, downstream: Downstream, page: Page, why: str) -> None:
    """Read the downstream again from the start of its feed (after a restore)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(downstream.code))
        await conn.execute(
            "INSERT INTO sync_downstreams (code, url, cursor, epoch, node)"
            " VALUES ($1, $2, '', $3, $4)"
            " ON CONFLICT (code) DO UPDATE SET cursor = '', epoch = EXCLUDED.epoch,"
            " node = EXCLUDED.node, updated_at = now()",
            downstream.code,
            downstream.url,
            page.epoch,
            page.node,
        )
        await raise_alert(conn, downstream.code, "downstream_restored", why)


async def record_error(pool: asyncpg.Pool, downstream: Downstream, error: str) -> bool:
    """Note the last error; True when it is a new one (not the same as the last noted)."""
    previous: str | None = await pool.fetchval(
        "SELECT last_error FROM sync_downstreams WHERE code = $1", downstream.code
    )
    await pool.execute(
        "INSERT INTO sync_downstreams (code, url, last_error, last_error_at)"
        " VALUES ($1, $2, $3, now())"
        " ON CONFLICT (code) DO UPDATE SET last_error = EXCLUDED.last_error,"
        " last_error_at = now(), updated_at = now()",
        downstream.code,
        downstream.url,
        error[:1000],
    )
    return previous != error[:1000]


# ------------------------------------------------------------------------------ the puller


class Puller:
    """Pulls one downstream's feed into this node's event log."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        downstream: Downstream,
        *,
        client: httpx.AsyncClient | None = None,
        limit: int = 2000,
        on_stored: Callable[[], None] | None = None,
        timeout: float = 30.0,
        keyring: Keyring | None = None,
        claims: ClaimStreams | None = None,
        attachments_in_flight: int = ATTACHMENTS_IN_FLIGHT,
        batched: bool | None = None,
    ) -> None:
        if attachments_in_flight < 1:
            raise ValueError(f"attachments_in_flight is at least 1, not {attachments_in_flight}")
        self.pool = pool
        self.downstream = downstream
        self.keyring = keyring
        self.claims = claims
        self.limit = limit
        self.attachments_in_flight = attachments_in_flight
        # many chunks to a request: None until the downstream answered the batch route, False for
        # a downstream without it (an older bangfu) — or to force one chunk per request
        self.batched = batched
        self.on_stored = on_stored
        self.client = client or httpx.AsyncClient(timeout=timeout)
        self._own_client = client is None

    async def close(self) -> None:
        if self._own_client:
            await self.client.aclose()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.downstream.token}", "Accept": MSGPACK}

    async def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        try:
            response = await self.client.get(
                self.downstream.url + path, params=params, headers=self._headers()
            )
        except httpx.HTTPError as error:
            raise PullError(f"{self.downstream.url} unreachable: {error!r}") from error
        if response.status_code != 200:
            raise PullError(
                f"{self.downstream.url}{path} answered {response.status_code}:"
                f" {response.text[:300]}"
            )
        return response

    async def fetch(self, after: Cursor) -> Page:
        response = await self._get(FEED, {"after": after.encode(), "limit": self.limit})
        try:
            return decode_page(response.content, response.headers.get("content-type", ""))
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            raise PullError(f"malformed page from {self.downstream.url}: {error}") from error

    async def behind(self, after: Cursor) -> int:
        response = await self._get(COUNT, {"after": after.encode()})
        try:
            return int(msgspec.json.decode(response.content)["behind"])
        except (msgspec.DecodeError, KeyError, TypeError, ValueError) as error:
            raise PullError(f"malformed count from {self.downstream.url}: {error}") from error

    async def _data_key(self, stream_id: UUID, keys: dict[UUID, bytes | None]) -> AESGCM | None:
        """The key that opens a file's attachments: from the page, or held here already."""
        if stream_id in keys:
            raw = keys[stream_id]
            return None if raw is None else AESGCM(raw)
        if self.keyring is None:
            return None
        if not self.keyring.is_fresh(stream_id):
            await self.keyring.load([stream_id])
        entry = self.keyring.entry(stream_id)
        return entry if isinstance(entry, AESGCM) else None

    async def fetch_content(
        self, event: FeedEvent, attachment: Recorded, aead: AESGCM | None
    ) -> Fetched:
        """Read an attachment's sealed chunks into a spool, opening and re-hashing them when the
        data key is here. Raises `PullError` when the downstream cannot be read."""
        fetched = Fetched(
            event.stream_id,
            attachment.attachment_id,
            attachment.size,
            attachment.sha256,
            tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES),  # noqa: SIM115 — closed by the caller
        )
        try:
            await self._read_chunks(fetched, event, attachment, aead)
        except BaseException:  # unreachable, refused, or cancelled: the caller never sees it
            fetched.spool.close()
            raise
        return fetched

    async def _read_chunks(
        self, fetched: Fetched, event: FeedEvent, attachment: Recorded, aead: AESGCM | None
    ) -> None:
        """`fetch_content`'s reading, one chunk per request; `fetched.problem` says why the
        content may not be stored (nothing more is read then)."""
        reading = _Reading(fetched, aead)
        while not reading.done:
            seq = reading.seq
            path = f"{ATTACHMENTS}/{attachment.attachment_id}/chunks/{seq}"
            try:
                response = await self.client.get(
                    self.downstream.url + path, headers=self._headers()
                )
            except httpx.HTTPError as error:
                raise PullError(f"{self.downstream.url} unreachable: {error!r}") from error
            if response.status_code == 404:
                reading.missing()
                return
            if response.status_code != 200:
                raise PullError(
                    f"{self.downstream.url}{path} answered {response.status_code}:"
                    f" {response.text[:300]}"
                )
            chunks = int(response.headers.get("x-bangfu-chunks", "0") or 0) if seq == 0 else None
            reading.take(response.content, chunks)

    async def _fetch_batched(
        self, jobs: Sequence[tuple[FeedEvent, Recorded, AESGCM | None]], done: dict[int, Fetched]
    ) -> None:
        """Fetch each job's content into `done[n]` through the batch route: first the first
        chunks of all of them, `BATCH_PAIRS` to a request, then the further chunks of those that
        have more, each attachment's in one request's run; `attachments_in_flight` requests at
        a time. Raises `_NoBatchRoute` when the downstream does not know the route."""
        readings: list[_Reading] = []
        for n, (event, attachment, aead) in enumerate(jobs):
            done[n] = fetched = Fetched(
                event.stream_id,
                attachment.attachment_id,
                attachment.size,
                attachment.sha256,
                tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES),  # noqa: SIM115 — closed by the caller
            )
            readings.append(_Reading(fetched, aead))
        bound = asyncio.Semaphore(self.attachments_in_flight)

        async def one(group: list[_Reading]) -> None:
            async with bound:
                await self._read_batch(group)

        while pending := [r for r in readings if not r.done]:
            await _all_or_first_failure([one(group) for group in _groups(pending)])
        for n, (event, _, _) in enumerate(jobs):
            if done[n].problem is not None:
                log.warning(
                    "sync.attachment_refused",
                    downstream=self.downstream.code,
                    stream_id=str(event.stream_id),
                    version=event.version,
                    problem=done[n].problem,
                )

    async def _read_batch(self, group: list[_Reading]) -> None:
        """Read the chunks still wanted of a group's attachments, in order, through the batch
        route: `BATCH_PAIRS` pairs a request, asking again for what an answer left out."""
        wanted = [(r, seq) for r in group for seq in range(r.seq, r.chunks)]
        url = self.downstream.url + BATCH
        while wanted:
            asked = [ChunkRef(r.fetched.attachment_id, seq) for r, seq in wanted[:BATCH_PAIRS]]
            try:
                response = await self.client.post(
                    url,
                    content=encode(ChunksWanted(chunks=asked), MSGPACK),
                    headers={**self._headers(), "Content-Type": MSGPACK},
                )
            except httpx.HTTPError as error:
                raise PullError(f"{self.downstream.url} unreachable: {error!r}") from error
            if response.status_code in {404, 405}:
                raise _NoBatchRoute
            if response.status_code != 200:
                raise PullError(f"{url} answered {response.status_code}: {response.text[:300]}")
            try:
                batch = ANSWERED.decode(response.content)
            except (msgspec.ValidationError, msgspec.DecodeError) as error:
                raise PullError(f"malformed chunks from {self.downstream.url}: {error}") from error
            answers = batch.answers
            if (
                not answers
                or len(answers) > len(asked)
                or (len(answers) < len(asked)) != batch.more
            ):
                raise PullError(f"malformed chunks from {self.downstream.url}: not the pairs asked")
            for (reading, _), ref, answer in zip(wanted, asked, answers, strict=False):
                if (answer.attachment_id, answer.seq) != (ref.attachment_id, ref.seq):
                    raise PullError(
                        f"malformed chunks from {self.downstream.url}: not the pairs asked"
                    )
                if reading.done or ref.seq != reading.seq:
                    continue  # judged already (its content may not be stored): nothing more
                if not answer.found:
                    reading.missing()
                else:
                    reading.take(answer.sealed, answer.chunks if ref.seq == 0 else None)
            wanted = wanted[len(answers) :]

    async def fetch_contents(
        self, page: Page, keys: dict[UUID, bytes | None]
    ) -> dict[Key, Fetched]:
        """The content of the page's attachments this node does not hold yet, read from the
        downstream into a spool each: many chunks to a request through the batch route
        (`attachments_in_flight` requests at a time), or — a downstream without that route
        answers 404, remembered for the puller's life — one chunk per request,
        `attachments_in_flight` attachments at a time.

        A fetch that fails (the downstream unreachable, or answering other than 200/404) cancels
        the others and is raised; then — as when the pull itself is cancelled — every spool is
        closed and nothing is returned, so nothing of the page is stored."""
        wanted = [(e, a) for e in page.events if (a := recorded(e)) is not None]
        if not wanted:
            return {}
        held = {
            r[0]
            for r in await self.pool.fetch(
                "SELECT attachment_id FROM attachments WHERE attachment_id = ANY($1::uuid[])",
                [a.attachment_id for _, a in wanted],
            )
        }
        missing = [(e, a) for e, a in wanted if a.attachment_id not in held]
        if not missing:
            return {}
        if self.keyring is not None:  # the held data keys in one query, not one per fetch
            stale = {e.stream_id for e, _ in missing if e.stream_id not in keys}
            stale = {s for s in stale if not self.keyring.is_fresh(s)}
            if stale:
                await self.keyring.load(stale)
        jobs = [(e, a, await self._data_key(e.stream_id, keys)) for e, a in missing]
        done: dict[int, Fetched] = {}
        try:
            if self.batched is not False:
                try:
                    await self._fetch_batched(jobs, done)
                    self.batched = True
                except _NoBatchRoute:  # an older downstream: one chunk per request from now on
                    # a warning, not news: the pull goes on, ≈ 4.6× slower on small scans
                    # (docs/benchmarks.md "Growth", full sync pulls) until the downstream upgrades
                    log.warning(
                        "sync.chunks_one_by_one",
                        downstream=self.downstream.code,
                        hint="the downstream has no batch chunk route: upgrade it",
                    )
                    self.batched = False
                    for got in done.values():
                        got.spool.close()
                    done.clear()
            if self.batched is False:
                await self._fetch_all(jobs, done)
        except BaseException:  # a fetch failed, or the pull was cancelled: nothing is returned
            for got in done.values():
                got.spool.close()
            raise
        return {(e.stream_id, e.version): done[n] for n, (e, _, _) in enumerate(jobs)}

    async def _fetch_all(
        self, jobs: Sequence[tuple[FeedEvent, Recorded, AESGCM | None]], done: dict[int, Fetched]
    ) -> None:
        """Fetch each job's content into `done[n]`, `attachments_in_flight` at a time. The first
        failure cancels the fetches still running, waits for them (each closes its own spool),
        and is raised as itself — a `PullError` as the one-at-a-time pull raised it."""
        bound = asyncio.Semaphore(self.attachments_in_flight)

        async def one(n: int, event: FeedEvent, attachment: Recorded, aead: AESGCM | None) -> None:
            async with bound:
                done[n] = got = await self.fetch_content(event, attachment, aead)
            if got.problem is not None:
                log.warning(
                    "sync.attachment_refused",
                    downstream=self.downstream.code,
                    stream_id=str(event.stream_id),
                    version=event.version,
                    problem=got.problem,
                )

        await _all_or_first_failure([one(n, e, a, aead) for n, (e, a, aead) in enumerate(jobs)])

    async def step(self, *, behind: int | None = None) -> tuple[Page, Stored]:
        """Read and store the next page; raises `PageRefused` / `PullError`."""
        state = await load_state(self.pool, self.downstream.code)
        page = await self.fetch(state.cursor)
        return page, await self.apply(state, page, behind=behind)

    async def apply(self, state: State, page: Page, *, behind: int | None = None) -> Stored:
        """Check and store a page read from `state`'s cursor (or restart, after a restore)."""
        code = self.downstream.code
        why = restored(state, page)
        if why is not None:
            async with self.pool.acquire() as conn:
                await restart(conn, self.downstream, page, why)
            return Stored(0, 0, 0, moved=False, restarted=True)
        bad = outside(page.events, code)
        if bad:
            first = bad[0]
            raise PageRefused(
                f"page after {page.after} refused: {len(bad)} event(s) outside subtree {code},"
                f" first {first.stream_id} v{first.version} of unit {first.unit}"
            )
        keys = opened_keys(page, self.downstream.key)
        if page.keys and self.downstream.key is None:
            log.warning(
                "sync.keys_not_opened",
                downstream=code,
                detail="the downstream sends data keys but no sync key is configured for it:"
                " its files' personal data stays unreadable here",
            )
        contents = await self.fetch_contents(page, keys)
        try:
            async with self.pool.acquire() as conn:
                stored = await store_page(
                    conn,
                    self.downstream,
                    state,
                    page,
                    behind=behind,
                    keyring=self.keyring,
                    keys=keys,
                    contents=contents,
                    claims=self.claims,
                )
        finally:
            for fetched in contents.values():
                fetched.spool.close()
        if stored.accepted and self.on_stored is not None:
            self.on_stored()
        if stored.moved and (stored.accepted or stored.quarantined):
            log.info(
                "sync.page_stored",
                downstream=code,
                accepted=stored.accepted,
                skipped=stored.skipped,
                quarantined=stored.quarantined,
                cursor=page.cursor,
            )
        return stored

    async def catch_up(
        self,
        *,
        total: Callable[[int], None] | None = None,
        advance: Callable[[int], None] | None = None,
    ) -> Pulled:
        """Pull pages until the feed has no more. `total(n)` is told how many events lie ahead
        (again after a restart from the start), `advance(n)` how many each stored page brought.

        The next page is read while this one is stored (its cursor is known before it is
        stored), so the downstream's serving and this node's writing overlap. A read-ahead page
        is dropped whenever the stored cursor turns out other than expected (another puller got
        there first, or a restart): nothing is stored but from the cursor stored."""
        state = await load_state(self.pool, self.downstream.code)
        remaining = await self.behind(state.cursor)
        if total is not None:
            total(remaining)
        pulled = Pulled()
        ahead = asyncio.create_task(self.fetch(state.cursor))
        try:
            while True:
                page = await ahead
                if page.more:
                    ahead = asyncio.create_task(self.fetch(Cursor.decode(page.cursor)))
                stored = await self.apply(state, page, behind=remaining)
                if stored.restarted:
                    pulled.restarts += 1
                    remaining = await self.behind(START)
                    if total is not None:
                        total(remaining)
                if not stored.moved:
                    await _dropped(ahead)
                    state = await load_state(self.pool, self.downstream.code)
                    ahead = asyncio.create_task(self.fetch(state.cursor))
                    continue
                state = State(Cursor.decode(page.cursor), page.epoch, page.cursor)
                remaining = max(0, remaining - len(page.events))
                pulled.pages += 1
                pulled.added += stored.accepted
                pulled.skipped += stored.skipped
                pulled.quarantined += stored.quarantined
                if advance is not None:
                    advance(len(page.events))
                if not page.more:
                    break
        finally:
            await _dropped(ahead)
        await self.pool.execute(
            "UPDATE sync_downstreams SET behind = 0 WHERE code = $1", self.downstream.code
        )
        return pulled

    async def run(self, stop: asyncio.Event, *, interval: float = 1.0, cap: float = 30.0) -> None:
        """Pull for as long as the node runs: poll every `interval` s when caught up, back off
        exponentially (up to `cap` s) while the downstream is unreachable or refused."""
        code = self.downstream.code
        log.info("sync.pull_started", downstream=code, url=self.downstream.url)
        failures = 0
        while not stop.is_set():
            try:
                await self.catch_up()
                failures, wait = 0, interval
            except PageRefused as error:
                if await record_error(self.pool, self.downstream, str(error)):
                    await raise_alert(self.pool, code, "page_refused", str(error))
                failures, wait = failures + 1, backoff(failures + 1, cap=cap)
            except (PullError, asyncpg.PostgresError, OSError) as error:
                await _quietly(record_error(self.pool, self.downstream, str(error)))
                log.warning("sync.pull_failed", downstream=code, error=str(error)[:300])
                failures, wait = failures + 1, backoff(failures + 1, cap=cap)
            except Exception:  # a bug: say so loudly and keep the loop alive
                log.exception("sync.pull_crashed", downstream=code)
                failures, wait = failures + 1, backoff(failures + 1, cap=cap)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)


async def _dropped(task: asyncio.Task[Page]) -> None:
    """Cancel a read-ahead no longer wanted, and let its outcome go (it may have failed)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, PullError):
        await task


async def _quietly(coro: Any) -> None:
    try:
        await coro
    except (asyncpg.PostgresError, OSError) as error:
        log.warning("sync.state_not_recorded", error=str(error))


# ------------------------------------------------------------------------------ status


class DownstreamStatus(msgspec.Struct, kw_only=True):
    code: str
    url: str
    node: str | None
    epoch: str | None
    cursor: str
    received: int
    behind: int | None
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    quarantined: int
    alerts: int


async def status(
    pool: asyncpg.Pool, downstreams: Sequence[Downstream] = ()
) -> list[DownstreamStatus]:
    """Per downstream (configured or seen): cursor, events behind, last success, last error."""
    rows = {
        r["code"]: r
        for r in await pool.fetch(
            "SELECT d.*, (SELECT count(*) FROM sync_quarantine q WHERE q.downstream = d.code) AS q,"
            " (SELECT count(*) FROM sync_alerts a WHERE a.downstream = d.code) AS a"
            " FROM sync_downstreams d ORDER BY code"
        )
    }
    codes = sorted({*rows, *(d.code for d in downstreams)})
    urls = {d.code: d.url for d in downstreams}
    result = []
    for code in codes:
        r = rows.get(code)
        result.append(
            DownstreamStatus(
                code=code,
                url=urls.get(code) or (r["url"] if r else ""),
                node=r["node"] if r else None,
                epoch=r["epoch"] if r else None,
                cursor=r["cursor"] if r else "",
                received=r["received"] if r else 0,
                behind=r["behind"] if r else None,
                last_success=r["last_success"] if r else None,
                last_error=r["last_error"] if r else None,
                last_error_at=r["last_error_at"] if r else None,
                quarantined=r["q"] if r else 0,
                alerts=r["a"] if r else 0,
            )
        )
    return result


def metrics_lines(statuses: Sequence[DownstreamStatus]) -> list[str]:
    """Prometheus lines for `/metrics`: per downstream, events behind, quarantined, alerts."""
    lines = [
        "# HELP bangfu_sync_behind_events Events a downstream's feed holds that were not pulled.",
        "# TYPE bangfu_sync_behind_events gauge",
    ]
    lines += [
        f'bangfu_sync_behind_events{{downstream="{s.code}"}} {s.behind or 0}' for s in statuses
    ]
    lines += [
        "# HELP bangfu_sync_quarantined_events Events a downstream served that were quarantined.",
        "# TYPE bangfu_sync_quarantined_events gauge",
    ]
    lines += [
        f'bangfu_sync_quarantined_events{{downstream="{s.code}"}} {s.quarantined}' for s in statuses
    ]
    lines += [
        "# HELP bangfu_sync_last_success_seconds Unix time of the last page stored.",
        "# TYPE bangfu_sync_last_success_seconds gauge",
    ]
    lines += [
        f'bangfu_sync_last_success_seconds{{downstream="{s.code}"}}'
        f" {s.last_success.timestamp() if s.last_success else 0:.3f}"
        for s in statuses
    ]
    return lines
