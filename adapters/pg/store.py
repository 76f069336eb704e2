"""The event store on PostgreSQL through asyncpg.

Appending is one SQL statement (one round trip, an implicit transaction of its own unless the
caller passes a connection inside a transaction): it checks that each touched stream's head is
still the version and hash the writer read, and inserts every new event of every stream. The
primary key (stream_id, version) is the last word on concurrency: of two writers racing for the
same version, the second fails with a unique violation once the first commits. Either way the
writer gets `ConcurrencyError` and nothing of its batch is stored.

No table lock: writers of different streams never wait for each other, so PostgreSQL's group
commit can do its work (compare the eventsourcing library's recorder, which takes
`LOCK TABLE ... IN EXCLUSIVE MODE` for each insert to keep its notification ids gap-free:
https://github.com/pyeventsourcing/eventsourcing/blob/main/eventsourcing/postgres.py).
Readers get a gap-free, commit-safe order another way — see `read_log`. That order has a price: a
reader never passes a writing transaction that is still open, so every transaction that writes
events is bounded (`bound`): PostgreSQL cancels a statement of it that runs longer than the bound
and ends its session if it sits idle inside it that long, and the readers move on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from adapters.pg import logorder
from adapters.pg.conn import Conn
from adapters.pg.faults import backoff, is_unavailable
from adapters.pg.integrity import BrokenLink, Chained, event_hash, first_broken
from adapters.pg.rows import START, Cursor, NewEvent, StoredEvent, StreamHead
from adapters.pii.keyring import KEYS_CHANNEL, Keyring
from domain.errors import ConcurrencyError

log = structlog.get_logger(__name__)

# The log's row types live in `adapters.pg.rows` (entry points name them there: they may not
# import this module); the store's callers find them here as well.
__all__ = [
    "CHANNEL",
    "EVENT_COLUMNS",
    "START",
    "TRANSACTION_BOUND",
    "BrokenLink",
    "ConcurrencyError",
    "Cursor",
    "NewEvent",
    "PostgresEventStore",
    "StoredEvent",
    "StreamHead",
    "VerifyReport",
    "Wakeups",
    "bound",
    "chain",
    "copy_events",
]

CHANNEL = "bangfu_events"

# Seconds a transaction that writes events may run one statement or sit idle (the default of
# Settings.transaction_bound).
TRANSACTION_BOUND = 30.0


async def bound(conn: Conn, seconds: float = TRANSACTION_BOUND) -> None:
    """Bound the transaction open on `conn`: PostgreSQL cancels any later statement of it that
    runs longer than `seconds`, and ends the session if it sits idle inside it that long.

    Readers of the log never pass an open writing transaction (`read_log`), so without this one
    stuck writer — an import whose process hangs, a client that stalls inside a bound repository's
    transaction — would hold back every read model and the sync feed for as long as it stays
    stuck. PostgreSQL 16 has no `transaction_timeout` (17 does); bounding each statement and each
    idle wait leaves a stuck writer no way to stay open, and bangfu's writing transactions are a
    handful of short statements each. `SET LOCAL` ends with the transaction. Does nothing outside
    a transaction block, or when `seconds` is 0.
    """
    if seconds <= 0 or not conn.is_in_transaction():
        return
    milliseconds = max(1, round(seconds * 1000))
    await conn.execute(
        f"SET LOCAL statement_timeout = {milliseconds};"
        f" SET LOCAL idle_in_transaction_session_timeout = {milliseconds}"
    )


@dataclass
class VerifyReport:
    streams: int = 0
    events: int = 0
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


def chain(
    previous: bytes,
    stream_id: UUID,
    version: int,
    type_name: str,
    payload: bytes,
    recorded_at: datetime,
    unit: str | None,
    refers_to: UUID | None = None,
) -> NewEvent:
    """Build the next event of a stream, hashed onto `previous`."""
    return NewEvent(
        stream_id,
        version,
        type_name,
        payload,
        recorded_at,
        unit,
        event_hash(previous, stream_id, version, type_name, recorded_at, unit, payload, refers_to),
        refers_to,
    )


EVENT_COLUMNS = (
    "stream_id",
    "version",
    "type",
    "payload",
    "recorded_at",
    "unit",
    "hash",
    "refers_to",
)


async def copy_events(
    conn: Conn, events: Sequence[Chained], *, bounded: float = TRANSACTION_BOUND
) -> None:
    """COPY new events into the log (the bulk path, and the rows a sync pull accepts).

    Inside a transaction, the transaction is first bounded to `bounded` seconds (see `bound`)."""
    await bound(conn, bounded)
    await conn.copy_records_to_table(
        "events",
        columns=EVENT_COLUMNS,
        records=[
            (e.stream_id, e.version, e.type, e.payload, e.recorded_at, e.unit, e.hash, e.refers_to)
            for e in events
        ],
    )


_APPEND = """
WITH heads AS (
    SELECT * FROM unnest($8::uuid[], $9::int[], $10::bytea[]) AS h(stream_id, version, hash)
), intact AS (
    -- one primary-key probe per head (LATERAL ... LIMIT 1): never a hash join over the table
    SELECT count(*) = cardinality($8::uuid[]) AS ok
    FROM heads h CROSS JOIN LATERAL (
        SELECT FROM events e
        WHERE e.stream_id = h.stream_id AND e.version = h.version AND e.hash = h.hash
        LIMIT 1
    ) AS found
)
INSERT INTO events (stream_id, version, type, payload, recorded_at, unit, hash, refers_to)
SELECT n.stream_id, n.version, n.type, n.payload, n.recorded_at, n.unit, n.hash, n.refers_to
FROM unnest($1::uuid[], $2::int[], $3::text[], $4::bytea[], $5::timestamptz[], $6::text[],
            $7::bytea[], $11::uuid[])
       AS n(stream_id, version, type, payload, recorded_at, unit, hash, refers_to),
     intact
WHERE intact.ok
"""

# One event on one stream (every `save` of a single command) takes statements of scalar
# parameters: the head check is an equality on the whole primary key, which PostgreSQL answers
# with one index probe in the generic plan it caches after five runs. The array statement above,
# prepared on a new (small) table, caches a generic plan that hash-joins the heads against a
# sequential scan of the whole events table — each append then reads every stored event.
_APPEND_FIRST = """
INSERT INTO events (stream_id, version, type, payload, recorded_at, unit, hash, refers_to)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
_APPEND_NEXT = """
INSERT INTO events (stream_id, version, type, payload, recorded_at, unit, hash, refers_to)
SELECT $1, $2, $3, $4, $5, $6, $7, $8
WHERE EXISTS (SELECT FROM events WHERE stream_id = $1 AND version = $9 AND hash = $10)
"""

_COLUMNS = (
    "position, xid::text::bigint AS xid, stream_id, version, type, payload, recorded_at, unit,"
    " hash, refers_to"
)

# Commit-safe order (docs/decisions/0003-commit-safe-log.md, `logorder`).
_READ_LOG = f"""
SELECT {_COLUMNS} FROM events WHERE {logorder.READABLE_AFTER} {logorder.IN_ORDER} LIMIT $3
"""  # noqa: S608 — built from module constants, no input


# One stream's events: up to version $2 and time $3 (when given), after version $4.
_OF_STREAM = (
    " FROM events WHERE stream_id = $1"
    " AND ($2::int IS NULL OR version <= $2)"
    " AND ($3::timestamptz IS NULL OR recorded_at <= $3) AND version > $4"
    " ORDER BY version"
)
_READ_STREAM = f"SELECT {_COLUMNS}{_OF_STREAM}"
# The same, with the stream's data key row in one extra column, looked up once (an uncorrelated
# sub-select): NULL without a row, empty once destroyed, else the KEK version (4 bytes, big
# endian) followed by the wrapped key.
_READ_STREAM_WITH_KEY = (
    f"SELECT {_COLUMNS},"  # noqa: S608 — constants only
    " (SELECT coalesce(int4send(k.kek_version) || k.wrapped, ''::bytea)"
    f"  FROM personal_keys k WHERE k.stream_id = $1){_OF_STREAM}"
)


_EVERY_STREAM = f"SELECT {_COLUMNS} FROM events ORDER BY stream_id, version"  # noqa: S608 — constants only

# A rebuild reads the log one batch of files at a time (adapters/pg/projector.py). A batch is a
# range of stream ids: where each begins, every `$1` streams in the ids' order, in one pass.
NO_STREAM = UUID(int=0)  # below every stream id: where the first batch begins
_BATCH_STARTS = (
    "SELECT stream_id FROM (SELECT stream_id, row_number() OVER (ORDER BY stream_id) AS n"
    " FROM events WHERE version = 1) AS streams WHERE (n - 1) % $1 = 0 ORDER BY stream_id"
)


def _of_files(bounded: bool) -> str:
    """The events that belong to the files whose ids lie from $1 on (below $2 when `bounded`) —
    each file's own stream, and the events of other streams that refer to one of them (a
    civil-affairs match names its file in `refers_to`) — in the log's commit-safe order. Each
    event belongs to the file it refers to, else to its stream: so batches that partition the
    ids read every event once. The first condition is what the primary key and the `refers_to`
    index answer (a bitmap of both); the second keeps an event referring elsewhere out of its
    stream's batch. No bound on the log here: that would let the planner walk the whole log
    order index for every batch (`read_files_records` drops what lies past its cursor)."""

    def within(column: str) -> str:
        return f"{column} >= $1" + (f" AND {column} < $2" if bounded else "")

    return (
        f"SELECT {_COLUMNS} FROM events"  # noqa: S608 — constants only
        f" WHERE ({within('stream_id')} OR {within('refers_to')})"
        f" AND {within('coalesce(refers_to, stream_id)')} {logorder.IN_ORDER}"
    )


_OF_FILES = {bounded: _of_files(bounded) for bounded in (False, True)}


def _stored(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent(*row)


class PostgresEventStore:
    """Append-only, hash-chained event streams in one PostgreSQL table.

    With a `keyring`, every read that returns events for decoding first makes sure the data keys
    of the streams whose payloads hold encrypted personal fields are in the keyring's cache (one
    batched query for those not yet there), so the codec can open them without I/O. Payloads are
    always returned as stored: hashes are computed over the stored bytes.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        on_append: Callable[[], None] | None = None,
        merge: bool = True,
        transaction_bound: float = TRANSACTION_BOUND,
        keyring: Keyring | None = None,
    ) -> None:
        self.pool = pool
        self._on_append = on_append
        self.transaction_bound = transaction_bound
        self._merger = _Merger(self) if merge else None
        self.keyring = keyring

    async def _load_keys(self, rows: Sequence[asyncpg.Record], conn: Conn | None) -> None:
        """Rows in `_COLUMNS` order: stream_id, type and payload are columns 2, 4 and 5."""
        if self.keyring is not None and rows:
            await self.keyring.load_for(((r[2], r[4], r[5]) for r in rows), conn)

    # ---------------------------------------------------------------- writing

    async def append(
        self,
        events: Sequence[NewEvent],
        heads: Sequence[StreamHead] = (),
        *,
        conn: Conn | None = None,
    ) -> None:
        """Append `events` (of one or many streams) atomically, if every head in `heads` is current.

        Streams being created have no head (their first event is version 1). With `conn`, the
        append joins the caller's transaction, which it bounds (`bound`); the caller then commits.
        """
        if not events:
            return
        single = len(events) == 1 and (
            not heads or (len(heads) == 1 and heads[0].stream_id == events[0].stream_id)
        )
        if single and conn is None and self._merger is not None:
            await self._merger.append(events[0], heads[0] if heads else None)
            return
        await self._execute(events, heads, conn)

    async def _append_alone(self, event: NewEvent, head: StreamHead | None) -> None:
        await self._execute([event], [head] if head else [], None)

    async def _execute(
        self,
        events: Sequence[NewEvent],
        heads: Sequence[StreamHead],
        conn: Conn | None,
    ) -> None:
        sql: str = _APPEND
        args: tuple[object, ...]
        first = events[0]
        if len(events) == 1 and not heads:
            sql = _APPEND_FIRST
            args = (
                first.stream_id,
                first.version,
                first.type,
                first.payload,
                first.recorded_at,
                first.unit,
                first.hash,
                first.refers_to,
            )
        elif len(events) == 1 and len(heads) == 1 and heads[0].stream_id == first.stream_id:
            sql = _APPEND_NEXT
            args = (
                first.stream_id,
                first.version,
                first.type,
                first.payload,
                first.recorded_at,
                first.unit,
                first.hash,
                first.refers_to,
                heads[0].version,
                heads[0].hash,
            )
        else:
            args = self._arrays(events, heads)
        try:
            if conn is None:
                status = await self.pool.execute(sql, *args)
            else:
                await bound(conn, self.transaction_bound)
                status = await conn.execute(sql, *args)
        except asyncpg.UniqueViolationError:
            raise await self._conflict(events, heads) from None
        if status != f"INSERT 0 {len(events)}":
            raise await self._conflict(events, heads)
        if self._on_append is not None:
            self._on_append()

    @staticmethod
    def _arrays(events: Sequence[NewEvent], heads: Sequence[StreamHead]) -> tuple[object, ...]:
        return (
            [e.stream_id for e in events],
            [e.version for e in events],
            [e.type for e in events],
            [e.payload for e in events],
            [e.recorded_at for e in events],
            [e.unit for e in events],
            [e.hash for e in events],
            [h.stream_id for h in heads],
            [h.version for h in heads],
            [h.hash for h in heads],
            [e.refers_to for e in events],
        )

    async def append_bulk(
        self,
        events: Sequence[NewEvent],
        heads: Sequence[StreamHead] = (),
        *,
        conn: Conn | None = None,
    ) -> None:
        """Append many events (≥ 1,000 a call is the point) through COPY, all or nothing, in a
        bounded transaction (its own, or the caller's `conn`'s: see `bound`)."""
        if not events:
            return
        if conn is None:
            async with self.pool.acquire() as own, own.transaction():
                await self._copy(own, events, heads)
        else:
            await self._copy(conn, events, heads)
        if self._on_append is not None:
            self._on_append()

    async def started(self, stream_ids: Sequence[UUID], *, conn: Conn | None = None) -> set[UUID]:
        """Those of the streams that have a first event (a bulk writer skips them)."""
        runner = conn if conn is not None else self.pool
        rows = await runner.fetch(
            "SELECT stream_id FROM events WHERE stream_id = ANY($1::uuid[]) AND version = 1",
            list(stream_ids),
        )
        return {r["stream_id"] for r in rows}

    async def _conflict(
        self, events: Sequence[NewEvent], heads: Sequence[StreamHead]
    ) -> ConcurrencyError:
        """The error for a lost race, naming the first stream that moved and where it is now.

        Asked on a fresh pool connection: the writer's own transaction may be aborted."""
        expected = {h.stream_id: h.version for h in heads}
        for stream_id in dict.fromkeys(e.stream_id for e in events):
            actual = await self.stream_version(stream_id)
            if actual != expected.get(stream_id, 0):
                return ConcurrencyError(stream_id, expected.get(stream_id, 0), actual)
        first = events[0].stream_id
        return ConcurrencyError(first, expected.get(first, 0), await self.stream_version(first))

    async def _copy(
        self, conn: Conn, events: Sequence[NewEvent], heads: Sequence[StreamHead]
    ) -> None:
        await bound(conn, self.transaction_bound)
        if heads:
            intact = await conn.fetchval(
                "SELECT count(*) FROM unnest($1::uuid[], $2::int[], $3::bytea[]) AS h(s, v, hash)"
                " CROSS JOIN LATERAL (SELECT FROM events e WHERE e.stream_id = h.s"
                " AND e.version = h.v AND e.hash = h.hash LIMIT 1) AS found",
                [h.stream_id for h in heads],
                [h.version for h in heads],
                [h.hash for h in heads],
            )
            if intact != len(heads):
                raise await self._conflict(events, heads)
        try:
            await copy_events(conn, events, bounded=0)  # bounded above
        except asyncpg.UniqueViolationError:
            raise await self._conflict(events, heads) from None

    # ---------------------------------------------------------------- reading one stream

    async def read_stream(
        self,
        stream_id: UUID,
        *,
        up_to_version: int | None = None,
        as_of: datetime | None = None,
        after_version: int = 0,
        conn: Conn | None = None,
    ) -> list[StoredEvent]:
        """A stream's events in version order: whole, after a version, up to a version, or up to
        a recorded time."""
        runner = conn if conn is not None else self.pool
        keyring = self.keyring
        if keyring is not None and not keyring.is_fresh(stream_id):
            # the stream's key row comes with its events: a first read costs one round trip
            rows = await runner.fetch(
                _READ_STREAM_WITH_KEY, stream_id, up_to_version, as_of, after_version
            )
            if rows:
                keyring.accept_packed(stream_id, rows[0][10])
            await self._load_keys(rows, conn)  # (an erasure among them; nothing to fetch)
            return [StoredEvent(*r[:10]) for r in rows]
        rows = await runner.fetch(_READ_STREAM, stream_id, up_to_version, as_of, after_version)
        await self._load_keys(rows, conn)
        return [_stored(r) for r in rows]

    async def read_streams(
        self, stream_ids: Sequence[UUID], *, conn: Conn | None = None
    ) -> dict[UUID, list[StoredEvent]]:
        """Many streams' events in one query (a spot-check's sample): stream id → its events in
        version order (a stream with no events is absent)."""
        runner = conn if conn is not None else self.pool
        rows = await runner.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = ANY($1::uuid[])"  # noqa: S608 — constants only
            " ORDER BY stream_id, version",
            list(stream_ids),
        )
        await self._load_keys(rows, conn)
        streams: dict[UUID, list[StoredEvent]] = {}
        for row in rows:
            event = _stored(row)
            streams.setdefault(event.stream_id, []).append(event)
        return streams

    async def scan(self, *, type_prefix: str = "", batch: int = 5000) -> AsyncIterator[StoredEvent]:
        """Every event (of types starting with `type_prefix`) in stream-then-version order."""
        async with self.pool.acquire() as conn, conn.transaction(readonly=True):
            query = (
                f"SELECT {_COLUMNS} FROM events WHERE type LIKE $1 || '%'"  # noqa: S608 — constants
                " ORDER BY stream_id, version"
            )
            cursor = await conn.cursor(query, type_prefix)
            while rows := await cursor.fetch(batch):
                await self._load_keys(rows, conn)
                for row in rows:
                    yield _stored(row)

    async def read_referring(self, file_id: UUID, *, conn: Conn | None = None) -> list[StoredEvent]:
        """Events of other streams that refer to a file (disclosures, spot-check findings …)."""
        runner = conn if conn is not None else self.pool
        rows = await runner.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE refers_to = $1"  # noqa: S608 — constants only
            " ORDER BY recorded_at, position",
            file_id,
        )
        await self._load_keys(rows, conn)
        return [_stored(r) for r in rows]

    async def stream_version(self, stream_id: UUID) -> int:
        """The current version of a stream (0 when it does not exist)."""
        value = await self.pool.fetchval(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id
        )
        return int(value)

    # ---------------------------------------------------------------- reading the log

    async def read_log(
        self, after: Cursor = START, limit: int = 1000, *, conn: Conn | None = None
    ) -> list[StoredEvent]:
        """The next events of the whole log after `after`, in commit-safe order.

        An event whose transaction is still running — or that began before some other running
        transaction — is not returned yet; it will be, in order, once that transaction ends.
        So a reader that always continues from the last cursor it received never skips and
        never repeats an event, however writers interleave their commits.
        """
        runner = conn if conn is not None else self.pool
        rows = await runner.fetch(_READ_LOG, str(after.xid), after.position, limit)
        await self._load_keys(rows, conn)
        return [_stored(r) for r in rows]

    async def read_log_records(
        self, after: Cursor = START, limit: int = 1000, *, conn: Conn | None = None
    ) -> list[asyncpg.Record]:
        """`read_log` without building an object per event: the raw rows, for bulk readers
        such as a rebuild (columns as in `read_log`)."""
        runner = conn if conn is not None else self.pool
        rows = list(await runner.fetch(_READ_LOG, str(after.xid), after.position, limit))
        await self._load_keys(rows, conn)
        return rows

    async def head(self, *, conn: Conn | None = None) -> Cursor:
        """The cursor of the last event a reader could read now (START for an empty log).

        Every event up to it belongs to a finished transaction (`logorder.READABLE`): the events
        up to the head never change, however long a reader takes to read them."""
        row = await (conn if conn is not None else self.pool).fetchrow(logorder.HEAD)
        return START if row is None else Cursor(row[0], row[1])

    async def count_after(self, after: Cursor) -> int:
        """How many readable events lie after `after` (a consumer's lag in events)."""
        return int(
            await self.pool.fetchval(
                f"SELECT count(*) FROM events WHERE {logorder.READABLE_AFTER}",  # noqa: S608 — constants only
                str(after.xid),
                after.position,
            )
        )

    # ---------------------------------------------------------------- reading by files

    async def batch_starts(self, files: int, *, conn: Conn) -> list[UUID]:
        """Where each batch of `files` streams begins, in the ids' order: the first at
        `NO_STREAM`, so that the batches cover every id."""
        starts = [row[0] for row in await conn.fetch(_BATCH_STARTS, files)]
        return [NO_STREAM, *starts[1:]]

    def forget_keys(self) -> None:
        """Drop the data keys cached for reading: a rebuild's batch is done with its streams
        (another reader in this process loads again what it needs)."""
        if self.keyring is not None:
            self.keyring.clear()

    async def read_files_records(
        self, start: UUID, end: UUID | None, up_to: Cursor, chunk: int, *, conn: Conn
    ) -> AsyncGenerator[list[asyncpg.Record], None]:
        """The events of the files from `start` (inclusive) to `end` (exclusive; None: to the
        last), up to the cursor `up_to`, in commit-safe order, as raw rows (columns as in
        `read_log`) in chunks of at most `chunk`, their streams' data keys loaded.

        `up_to` must be a head (`head`): every event up to it is of a finished transaction, so
        those found now are all there will ever be. Read through one cursor in a read-only
        transaction on `conn`: close the iterator (`contextlib.aclosing`) before using `conn`
        for anything else."""
        arguments: list[object] = [start] if end is None else [start, end]
        last = (up_to.xid, up_to.position)
        async with conn.transaction(readonly=True):
            cursor = await conn.cursor(_OF_FILES[end is not None], *arguments)
            while rows := await cursor.fetch(chunk):
                # appended since the head was taken (columns 0 and 1: position, xid)
                kept = [r for r in rows if (r[1], r[0]) <= last]
                if kept:
                    await self._load_keys(kept, conn)
                    yield kept

    # ---------------------------------------------------------------- consumer positions

    async def position(self, name: str, *, conn: Conn | None = None) -> Cursor:
        runner = conn if conn is not None else self.pool
        row = await runner.fetchrow(
            "SELECT xid::text::bigint, position FROM consumer_positions WHERE name = $1", name
        )
        return START if row is None else Cursor(row[0], row[1])

    @staticmethod
    async def save_position(conn: Conn, name: str, cursor: Cursor) -> None:
        """Record a consumer's position — call inside the transaction that writes its rows."""
        await conn.execute(
            "INSERT INTO consumer_positions (name, xid, position) VALUES ($1, $2::text::xid8, $3)"
            " ON CONFLICT (name) DO UPDATE SET xid = EXCLUDED.xid, position = EXCLUDED.position,"
            " updated_at = now()",
            name,
            str(cursor.xid),
            cursor.position,
        )

    # ---------------------------------------------------------------- integrity

    async def verify(
        self, *, progress: Callable[[int], None] | None = None, batch: int = 5000
    ) -> VerifyReport:
        """Recompute every stream's hash chain; report the first broken link of each stream."""
        report = VerifyReport()

        def check(stream: list[StoredEvent]) -> None:
            broken = first_broken(stream)
            if broken is not None:
                report.broken.append(broken)

        async with (
            self.pool.acquire() as conn,
            conn.transaction(readonly=True, isolation="repeatable_read"),
        ):
            stream: list[StoredEvent] = []  # one stream's events at a time, in version order
            done = 0
            async for row in conn.cursor(_EVERY_STREAM, prefetch=batch):
                event = _stored(row)
                if stream and event.stream_id != stream[0].stream_id:
                    check(stream)
                    stream = []
                if not stream:
                    report.streams += 1
                stream.append(event)
                report.events += 1
                done += 1
                if progress is not None and done % batch == 0:
                    progress(batch)
            if stream:
                check(stream)
            if progress is not None:
                progress(done % batch)
        for broken in report.broken:
            log.warning(
                "integrity.broken_link",
                stream_id=str(broken.stream_id),
                version=broken.version,
                reason=broken.reason,
            )
        return report


class Wakeups:
    """Wake tailing readers when events may have become readable — kept off the write path.

    A writer only sets a flag (`poke`); a background task sends one `NOTIFY` for however many
    appends happened meanwhile, on its own connection, after the commits. Readers in this
    process wait on an asyncio event; readers elsewhere `LISTEN` (see `listen`).
    Sending NOTIFY inside the writing transaction would take PostgreSQL's global notify lock at
    every commit and serialise writers — exactly what the table-lock-free append avoids.

    Both outlive the database going away: a failed NOTIFY is dropped (readers also poll), and a
    lost listening connection is replaced as soon as the database is back (`subscriptions`
    counts the LISTENs made), waking the readers once in case they missed something meanwhile.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        interval: float = 0.005,
        on_key_destroyed: Callable[..., None] | None = None,
    ) -> None:
        self._pool = pool
        self._interval = interval
        # the listening connection also hears `KEYS_CHANNEL`: a data key destroyed by another
        # process of this node (erasure, or a pulled erasure), to drop from this one's cache
        self._on_key_destroyed = on_key_destroyed
        self._dirty = asyncio.Event()
        self.changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: PoolConnectionProxy | None = None
        self._lost = asyncio.Event()
        self.subscriptions = 0

    def poke(self) -> None:
        self._dirty.set()
        self.changed.set()

    async def start(self, *, listen: bool = True) -> None:
        self._tasks.append(asyncio.create_task(self._notify_loop(), name="bangfu-notify"))
        if listen:
            await self._subscribe()
            self._tasks.append(asyncio.create_task(self._keep_listening(), name="bangfu-listen"))

    def _heard(self, *_: object) -> None:
        self.changed.set()

    async def _subscribe(self) -> None:
        conn = await self._pool.acquire()
        try:
            await conn.add_listener(CHANNEL, self._heard)
            if self._on_key_destroyed is not None:  # other processes erased a file's key
                await conn.add_listener(KEYS_CHANNEL, self._on_key_destroyed)
        except BaseException:
            await self._pool.release(conn)
            raise
        self._lost.clear()
        conn.add_termination_listener(self._closed)
        self._listener = conn
        self.subscriptions += 1

    def _closed(self, _: object) -> None:
        self._lost.set()

    async def _keep_listening(self) -> None:
        """LISTEN again on a new connection whenever the listening one is lost (the database
        restarted, or an administrator ended the session)."""
        while True:
            await self._lost.wait()
            self._listener = None  # the pool took the dead connection back when it closed
            self.changed.set()  # notifications may have been missed: readers look again
            failures = 0
            while True:
                try:
                    await self._subscribe()
                    break
                except Exception as error:  # not yet back, or a connection caught shutting down
                    failures += 1
                    log.warning(
                        "wakeups.listen_failed", error=f"{type(error).__name__}: {error}"[:300]
                    )
                    await asyncio.sleep(backoff(failures, first=0.2, cap=5.0))
            log.info("wakeups.listening_again", after_failures=failures)

    async def _notify_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self._pool.execute("SELECT pg_notify($1, '')", CHANNEL)
            except Exception as error:  # dropped: a reader falls back to polling
                if is_unavailable(error):
                    log.warning("wakeups.notify_failed", error=str(error)[:300])
                else:
                    log.exception("wakeups.notify_crashed")
            await asyncio.sleep(self._interval)

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 — a bounded wait is the API
        """Wait until something may have changed (or `timeout` seconds); True if woken."""
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            self.changed.clear()
        return True

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        listener, self._listener = self._listener, None
        if listener is None:
            return
        try:
            listener.remove_termination_listener(self._closed)
            await listener.remove_listener(CHANNEL, self._heard)
            if self._on_key_destroyed is not None:
                await listener.remove_listener(KEYS_CHANNEL, self._on_key_destroyed)
        except Exception as error:  # the connection is gone already: nothing left to unlisten
            if not is_unavailable(error):
                raise
        await self._pool.release(listener)


# Many single-event appends at once — concurrent commands — merged into one statement: one
# round trip and one commit for all of them. Each row keeps its own head check (an index probe
# per row through LATERAL ... LIMIT 1, which stays an index probe in a cached generic plan), and
# `ON CONFLICT DO NOTHING ... RETURNING` tells each writer whether its row went in.
_APPEND_MERGED = """
INSERT INTO events (stream_id, version, type, payload, recorded_at, unit, hash, refers_to)
SELECT n.stream_id, n.version, n.type, n.payload, n.recorded_at, n.unit, n.hash, n.refers_to
FROM unnest($1::uuid[], $2::int[], $3::text[], $4::bytea[], $5::timestamptz[], $6::text[],
            $7::bytea[], $8::uuid[], $9::bytea[])
       AS n(stream_id, version, type, payload, recorded_at, unit, hash, refers_to, previous)
LEFT JOIN LATERAL (
    SELECT true AS intact FROM events e
    WHERE e.stream_id = n.stream_id AND e.version = n.version - 1 AND e.hash = n.previous
    LIMIT 1
) AS head ON true
WHERE n.version = 1 OR head.intact
ON CONFLICT (stream_id, version) DO NOTHING
RETURNING stream_id, version, hash
"""

_Waiting = tuple[NewEvent, "StreamHead | None", "asyncio.Future[None]"]


class _Merger:
    """Group commit for single-event appends, done by the store rather than left to luck.

    While fewer than `max_inflight` appends are running, an append runs at once on its own fast
    statement: a lone writer pays nothing. Past that, appends wait and the next free slot takes
    all waiting ones (up to `max_batch`) into one merged statement. If a merged statement fails
    for any reason other than a lost race, each of its appends is retried on its own, so one
    bad row never fails its neighbours.
    """

    def __init__(
        self, store: PostgresEventStore, *, max_inflight: int = 4, max_batch: int = 256
    ) -> None:
        self.store = store
        self.max_inflight = max_inflight
        self.max_batch = max_batch
        self.inflight = 0
        self.waiting: list[_Waiting] = []
        self.merged_statements = 0  # how often appends were merged (for tests and metrics)

    async def append(self, event: NewEvent, head: StreamHead | None) -> None:
        if self.inflight < self.max_inflight and not self.waiting:
            self.inflight += 1
            try:
                await self.store._append_alone(event, head)
            finally:
                self.inflight -= 1
                self._start_waiting()
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append((event, head, done))
        self._start_waiting()
        await done

    def _start_waiting(self) -> None:
        while self.waiting and self.inflight < self.max_inflight:
            batch, self.waiting = self.waiting[: self.max_batch], self.waiting[self.max_batch :]
            self.inflight += 1
            asyncio.get_running_loop().create_task(self._flush(batch))

    async def _flush(self, batch: list[_Waiting]) -> None:
        try:
            if len(batch) == 1:
                await self._settle_alone(batch[0])
                return
            self.merged_statements += 1
            try:
                rows = await self.store.pool.fetch(_APPEND_MERGED, *_merged_arguments(batch))
            except (asyncpg.PostgresError, OSError):
                await asyncio.gather(*(self._settle_alone(item) for item in batch))
                return
            stored = {(r["stream_id"], r["version"], bytes(r["hash"])) for r in rows}
            if stored and self.store._on_append is not None:
                self.store._on_append()
            for event, head, done in batch:
                if (event.stream_id, event.version, event.hash) in stored:
                    done.set_result(None)
                else:
                    done.set_exception(await self.store._conflict([event], [head] if head else []))
        finally:
            self.inflight -= 1
            self._start_waiting()

    async def _settle_alone(self, item: _Waiting) -> None:
        event, head, done = item
        try:
            await self.store._append_alone(event, head)
        except BaseException as error:  # handed to the waiting writer, who re-raises it
            done.set_exception(error)
        else:
            done.set_result(None)


def _merged_arguments(batch: list[_Waiting]) -> tuple[object, ...]:
    events = [item[0] for item in batch]
    return (
        [e.stream_id for e in events],
        [e.version for e in events],
        [e.type for e in events],
        [e.payload for e in events],
        [e.recorded_at for e in events],
        [e.unit for e in events],
        [e.hash for e in events],
        [e.refers_to for e in events],
        [item[1].hash if item[1] is not None else b"" for item in batch],
    )
