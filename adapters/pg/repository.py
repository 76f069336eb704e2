"""Household files stored as their events: the `domain.ports.FileRepository` on PostgreSQL."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import cast
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import Aggregate

from adapters.pg import claims as person_claims
from adapters.pg.codec import EventCodec
from adapters.pg.conn import Conn
from adapters.pg.integrity import GENESIS
from adapters.pg.store import NewEvent, PostgresEventStore, StoredEvent, StreamHead, chain
from adapters.pii.sealing import PERSONAL_TYPES, holds_clear_personal_data
from domain.civil_affairs import CivilAffairsMatch
from domain.disclosure import Disclosure
from domain.errors import NotFound
from domain.household import HouseholdFile
from domain.onefile import ClaimsRefused, Wanted, changes_claims, wanted
from domain.policy import RegionalPolicy
from domain.printing import FormPrint
from domain.reconciliation import Reconciliation
from domain.spotcheck import SpotCheck
from domain.unit_records import UnitRecords
from domain.values import Actor, Role

# Deletes what else this node keeps of a file's personal data, in the erasure's transaction, and
# says how many rows went (e.g. `adapters.pg.idempotency.delete_file`).
ForgetFile = Callable[[Conn, UUID], Awaitable[int]]

# The hash of a loaded aggregate's last stored event, kept on the object so that the next append
# can chain onto it without another round trip.
_CHAIN_HEAD = "_stored_chain_head"


def chain_head(aggregate: Aggregate) -> bytes:
    return getattr(aggregate, _CHAIN_HEAD, GENESIS)


def replay(
    codec: EventCodec, rows: Iterable[StoredEvent], start: Aggregate | None = None
) -> Aggregate | None:
    """Rebuild an aggregate — a file, a policy, a spot-check — from its stored events (None for
    no events), or continue `start`; the caller narrows it to the kind it read."""
    aggregate = start
    last = chain_head(start) if start is not None else GENESIS
    for row in rows:
        aggregate = codec.decode(
            row.type,
            row.payload,
            stream_id=row.stream_id,
            version=row.version,
            recorded_at=row.recorded_at,
        ).mutate(aggregate)
        last = row.hash
    if aggregate is not None:
        setattr(aggregate, _CHAIN_HEAD, last)
    return aggregate


def _placement(
    aggregate: Aggregate, pending: Sequence[Aggregate.Event]
) -> tuple[list[str | None], list[UUID | None]]:
    """The unit each event is filed under, and the file each event of another stream refers to
    (a disclosure refers to the file read; a spot-check's result to the file checked)."""
    if isinstance(aggregate, Disclosure):
        return [aggregate.actor.unit] * len(pending), [aggregate.file_id] * len(pending)
    if isinstance(aggregate, FormPrint):
        return [aggregate.actor.unit] * len(pending), [
            event.file_id if isinstance(event, FormPrint.FilePrinted) else None for event in pending
        ]
    if isinstance(aggregate, SpotCheck):
        return [aggregate.actor.unit] * len(pending), [
            event.result.file_id if isinstance(event, SpotCheck.FileChecked) else None
            for event in pending
        ]
    if isinstance(aggregate, Reconciliation):
        return [aggregate.actor.unit] * len(pending), [
            event.finding.file_id if isinstance(event, Reconciliation.FindingRecorded) else None
            for event in pending
        ]
    if isinstance(aggregate, CivilAffairsMatch):
        return [aggregate.actor.unit] * len(pending), [
            event.match.file_id if isinstance(event, CivilAffairsMatch.Matched) else None
            for event in pending
        ]
    if isinstance(aggregate, HouseholdFile):
        # the unit each event leaves the file in: walk back from the current unit
        units: list[str | None] = []
        current = aggregate.establishing_unit
        for event in reversed(pending):
            units.append(current)
            if isinstance(event, HouseholdFile.Transferred):
                current = event.from_unit
        units.reverse()
        return units, [None] * len(pending)
    if isinstance(aggregate, UnitRecords):  # filed under the union; a vote refers to its file
        return [aggregate.unit] * len(pending), [
            event.file_id if isinstance(event, UnitRecords.FileVoted) else None for event in pending
        ]
    if isinstance(aggregate, RegionalPolicy):  # filed under the admin's unit that set it
        return [_actor_unit(event) for event in pending], [None] * len(pending)
    return [None] * len(pending), [None] * len(pending)


def _actor(household: HouseholdFile) -> Actor:
    """Who asked for the file's pending events (every household event names its actor)."""
    last = household.pending_events[-1]
    return cast(HouseholdFile.Event, last).actor


def _actor_unit(event: Aggregate.Event) -> str:
    """The unit of the actor who recorded a policy's event (each of them names its actor)."""
    if not isinstance(event, RegionalPolicy.Opened | RegionalPolicy.ParametersSet):
        raise TypeError(f"{type(event).__qualname__} names no actor")
    return event.actor.unit


def clone(aggregate: Aggregate) -> Aggregate:
    """An independent copy of an aggregate, cheaply.

    Event methods only ever rebind attributes to new immutable values (tuples, frozensets,
    frozen dataclasses, Decimals, dates) and never change one in place, so copying the instance
    dictionary — with a fresh list of pending events — gives a copy that no command on either
    side can affect. `tests/integration/test_file_cache.py` holds this to account.
    """
    copy = object.__new__(type(aggregate))
    copy.__dict__.update(aggregate.__dict__)
    copy.__dict__["_pending_events"] = []
    return copy


def needs_key(codec: EventCodec, aggregate: Aggregate) -> bool:
    """True when the aggregate's pending events carry personal fields (to encrypt)."""
    return any(codec.is_personal(type(e)) for e in _pending(aggregate.pending_events))


def _pending(events: Sequence[object]) -> Sequence[Aggregate.Event]:
    # eventsourcing types an aggregate's pending events as its `CanMutateAggregate` protocol;
    # every aggregate here records `Aggregate.Event`s (domain/events.py registers no other kind)
    return cast(Sequence[Aggregate.Event], events)


def prepare_rows(
    codec: EventCodec,
    aggregates: Iterable[Aggregate],
    keys: Mapping[UUID, AESGCM] | None = None,
) -> tuple[list[NewEvent], list[StreamHead], list[tuple[Aggregate, bytes]]]:
    """Turn pending events into hash-chained rows and the stream heads they rest on (pure: also
    run in the importer's worker processes).

    With `keys` (stream → data key), personal fields are encrypted; every aggregate whose
    events carry them must then have its key. Without, payloads are written in clear (tools
    and tests that run without a keyring)."""
    rows: list[NewEvent] = []
    heads: list[StreamHead] = []
    new_heads: list[tuple[Aggregate, bytes]] = []
    for aggregate in aggregates:
        pending = _pending(aggregate.collect_events())
        if not pending:
            continue
        previous = chain_head(aggregate)
        expected = pending[0].originator_version - 1
        if expected > 0:
            heads.append(StreamHead(aggregate.id, expected, previous))
        units, refers = _placement(aggregate, pending)
        key = keys.get(aggregate.id) if keys is not None else None
        for event, unit, refers_to in zip(pending, units, refers, strict=True):
            if keys is not None and key is None and codec.is_personal(type(event)):
                raise LookupError(f"no data key to encrypt the personal data of {aggregate.id}")
            name, payload = codec.encode(event, key)
            row = chain(
                previous,
                aggregate.id,
                event.originator_version,
                name,
                payload,
                event.timestamp,
                unit,
                refers_to,
            )
            rows.append(row)
            previous = row.hash
        new_heads.append((aggregate, previous))
    return rows, heads, new_heads


class FileCache:
    """Recently read files of this process, kept so a read only fetches events it has not seen.

    A read asks the store for the events after the cached version (usually none: one cheap round
    trip) and replays only those; the cache hands out clones, so a command that fails can never
    leave a half-applied file behind. Bounded: the least recently used files are dropped.
    """

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._files: OrderedDict[UUID, Aggregate] = OrderedDict()

    def get(self, file_id: UUID) -> Aggregate | None:
        found = self._files.get(file_id)
        if found is not None:
            self._files.move_to_end(file_id)
        return found

    def put(self, aggregate: Aggregate) -> None:
        current = self._files.get(aggregate.id)
        if current is not None and current.version >= aggregate.version:
            return
        self._files[aggregate.id] = clone(aggregate)
        self._files.move_to_end(aggregate.id)
        while len(self._files) > self.size:
            self._files.popitem(last=False)

    def drop(self, file_id: UUID) -> None:
        self._files.pop(file_id, None)


class PgFileRepository:
    """Household files (and the acts that refer to them) stored as events.

    Bound to a connection (`bound(conn)`), every read and append joins that connection's
    transaction — how an HTTP request stores its events and its idempotency record atomically.

    With `hasher` (the keyed hash of ID numbers; the composition root always gives it), every
    save whose events change whom a file holds takes or releases the claims of 一户一档 in the
    transaction of its append (`adapters.pg.claims`), and raises `domain.onefile.AlreadyFiled`
    — storing nothing — when a person is held by another open or relieved file. Without one
    (tools and tests of other things), claims are not kept.
    """

    def __init__(
        self,
        store: PostgresEventStore,
        codec: EventCodec,
        conn: Conn | None = None,
        cache: FileCache | None = None,
        hasher: person_claims.Hasher | None = None,
    ) -> None:
        self.store = store
        self.codec = codec
        self.conn = conn
        self.cache = cache
        self.hasher = hasher

    def bound(self, conn: Conn) -> PgFileRepository:
        return PgFileRepository(self.store, self.codec, conn, self.cache, self.hasher)

    async def get(
        self, file_id: UUID, *, version: int | None = None, as_of: datetime | None = None
    ) -> HouseholdFile:
        # Only an unbound repository uses the cache: one bound to a caller's transaction may see
        # that transaction's own uncommitted writes, which must never be shared.
        caching = self.cache is not None and self.conn is None and version is None and as_of is None
        cached = self.cache.get(file_id) if caching and self.cache is not None else None
        if cached is not None:
            newer = await self.store.read_stream(
                file_id, after_version=cached.version, conn=self.conn
            )
            household = replay(self.codec, newer, clone(cached))
        else:
            rows = await self.store.read_stream(
                file_id, up_to_version=version, as_of=as_of, conn=self.conn
            )
            household = replay(self.codec, rows)
        if caching and self.cache is not None and isinstance(household, HouseholdFile):
            self.cache.put(household)
        if not isinstance(household, HouseholdFile):
            raise NotFound(
                f"no household file {file_id}"
                + (" at that point" if version is not None or as_of else ""),
                zh="档案不存在",
            )
        return household

    async def keys_for(self, aggregates: Sequence[Aggregate]) -> dict[UUID, AESGCM] | None:
        """The data keys to encrypt the aggregates' personal fields with (None without a
        keyring: written in clear). New files get theirs created here."""
        keyring = self.store.keyring
        if keyring is None:
            return None
        new: set[UUID] = set()
        existing: set[UUID] = set()
        for aggregate in aggregates:
            if needs_key(self.codec, aggregate):
                first = aggregate.pending_events[0].originator_version
                (new if first == 1 else existing).add(aggregate.id)
        if not new and not existing:
            return {}
        return await keyring.for_writing(new, existing, conn=self.conn)

    async def prepare(
        self, aggregates: Sequence[Aggregate]
    ) -> tuple[list[NewEvent], list[StreamHead], list[tuple[Aggregate, bytes]]]:
        """Turn pending events into hash-chained rows (personal fields encrypted) and the stream
        heads they rest on."""
        return prepare_rows(self.codec, aggregates, await self.keys_for(aggregates))

    async def record(self, *acts: Aggregate) -> None:
        """Store new acts of other streams (disclosures, spot-checks, regional policies) — the
        same path as `save`."""
        rows, heads, new_heads = await self.prepare(acts)
        await self.store.append(rows, heads, conn=self.conn)
        for aggregate, head in new_heads:
            setattr(aggregate, _CHAIN_HEAD, head)

    async def save(self, *files: HouseholdFile) -> None:
        wanted = self._wanted(files)
        if wanted and self.conn is None:
            # the claims need a transaction of their own with the append (not the merged path)
            async with self.store.pool.acquire() as conn, conn.transaction():
                await self.bound(conn).save(*files)
        else:
            rows, heads, new_heads = await self.prepare(files)
            await self.store.append(rows, heads, conn=self.conn)
            await self._claim(wanted)
            for household, head in new_heads:
                setattr(household, _CHAIN_HEAD, head)
        # Not cached when bound to a caller's transaction: it may still roll back.
        if self.cache is not None and self.conn is None:
            for household in files:
                self.cache.put(household)

    async def save_many(self, files: Sequence[HouseholdFile]) -> None:
        wanted = self._wanted(files)
        if wanted and self.conn is None:
            async with self.store.pool.acquire() as conn, conn.transaction():
                await self.bound(conn).save_many(files)
            return
        rows, heads, new_heads = await self.prepare(files)
        await self.store.append_bulk(rows, heads, conn=self.conn)
        await self._claim(wanted)
        for household, head in new_heads:
            setattr(household, _CHAIN_HEAD, head)

    # -------------------------------------------------------------- 一户一档

    def _wanted(self, files: Sequence[HouseholdFile]) -> list[Wanted]:
        """Whom each file whose pending events change it holds now (none without a hasher)."""
        if self.hasher is None:
            return []
        found = []
        for f in files:
            pending = _pending(f.pending_events)
            if changes_claims(pending):
                found.append(wanted(f, _actor(f), new=pending[0].originator_version == 1))
        return found

    async def held(self, id_numbers: Sequence[str]) -> set[str]:
        """Which of these ID numbers a file on this node holds (none without a hasher)."""
        if self.hasher is None or not id_numbers:
            return set()
        by_hash = {self.hasher(n): n for n in id_numbers}
        async with self.store.pool.acquire() as conn:
            rows = await person_claims.held(conn, list(by_hash))
        return {by_hash[bytes(h)] for h in rows}

    async def _claim(self, wanted: Sequence[Wanted]) -> None:
        """Take the claims in the bound transaction, after the append (its first write)."""
        if not wanted:
            return
        if self.conn is None or self.hasher is None:  # `save` binds; `_wanted` needs a hasher
            raise RuntimeError("claims are taken in a bound transaction, with a hasher")
        refused = await person_claims.settle(self.conn, self.hasher, wanted)
        if len(refused) == 1:
            raise refused[0]
        if refused:
            raise ClaimsRefused(tuple(refused))

    async def claim_streams(
        self, conn: Conn, stream_ids: Sequence[UUID], *, tolerate: bool = True
    ) -> None:
        """Settle the claims of stored files from their events, in `conn`'s transaction: for
        events stored as they are (a sync pull), where a duplicate is recorded, not refused."""
        if self.hasher is None or not stream_ids:
            return
        found: list[Wanted] = []
        for stream_id in stream_ids:
            household = replay(self.codec, await self.store.read_stream(stream_id, conn=conn))
            if isinstance(household, HouseholdFile):
                # nobody here asked for these events: the node's sync account stands in
                actor = Actor(user="sync", unit=household.establishing_unit, role=Role.SYNC)
                found.append(wanted(household, actor))
        await person_claims.settle(conn, self.hasher, found, tolerate=tolerate)

    async def fill_claims(self) -> tuple[int, int] | None:
        """Fill the claims of 一户一档 from the log, once (the first start after migration 0017,
        which cannot: the ID numbers are encrypted and the hash key is not in the database).
        The earliest file of a person keeps the claim; each later one is recorded as its
        duplicate (docs/rules.md). Returns (files, duplicates), or None when done before."""
        if self.hasher is None:
            return None
        async with self.store.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('bangfu.person_claims'))")
            if await conn.fetchval("SELECT EXISTS (SELECT FROM person_claims_filled)"):
                return None
            households = sorted(await self.every_file(), key=lambda h: (h.created_on, str(h.id)))
            found = [
                wanted(h, Actor(user="system", unit=h.establishing_unit, role=Role.SYNC))
                for h in households
            ]
            found = [w for w in found if w.claims]
            await person_claims.settle(conn, self.hasher, found, tolerate=True)
            duplicates = int(await conn.fetchval("SELECT count(*) FROM person_claim_duplicates"))
            await conn.execute(
                "INSERT INTO person_claims_filled (filled_at, files, duplicates)"
                " VALUES (now(), $1, $2)",
                len(found),
                duplicates,
            )
        return len(found), duplicates

    # -------------------------------------------------------------- files built elsewhere

    @property
    def encrypts(self) -> bool:
        """True when personal fields are written encrypted (a keyring is configured)."""
        return self.store.keyring is not None

    async def existing(self, file_ids: Sequence[UUID]) -> set[UUID]:
        """Those of the files that are stored already."""
        return await self.store.started(file_ids, conn=self.conn)

    async def save_built(
        self,
        events: Sequence[NewEvent],
        keys: Mapping[UUID, bytes],
        holding: Sequence[Wanted] = (),
    ) -> None:
        """The bulk path for new files built elsewhere (the importer's worker processes): their
        hash-chained rows (`prepare_rows`) in one COPY, their data keys — wrapped here under
        the key-encryption key — and the claims of 一户一档 of the people they hold (`holding`)
        in the same transaction; all or nothing. Raises `ConcurrencyError` when any of the
        files exists meanwhile, `AlreadyFiled` (one) or `ClaimsRefused` (several; each names
        its file) when a person is held by another file — storing nothing."""
        if self.conn is None:
            async with self.store.pool.acquire() as conn, conn.transaction():
                await self.bound(conn).save_built(events, keys, holding)
            return
        keyring = self.store.keyring
        if keys and keyring is not None:
            await keyring.adopt(self.conn, keys)
        await self.store.append_bulk(events, conn=self.conn)
        await self._claim(holding if self.hasher is not None else ())

    # -------------------------------------------------------------- erasure

    async def erase(self, household: HouseholdFile, *, forget: Sequence[ForgetFile] = ()) -> int:
        """Store the file's pending erasure, destroy its data key and run each of `forget` (what
        else this node keeps of it), in one transaction; then drop the key and the file from
        this process's caches. Returns the rows `forget` deleted."""
        keyring = self.store.keyring
        async with self.store.pool.acquire() as conn, conn.transaction():
            await self.bound(conn).save(household)
            if keyring is not None:
                await keyring.destroy(conn, [household.id])
            forgotten = sum([await deleting(conn, household.id) for deleting in forget])
        if keyring is not None:
            keyring.forget(household.id)
        if self.cache is not None:
            self.cache.drop(household.id)
        return forgotten

    async def clear_personal_events(self, file_id: UUID) -> int:
        """The file's events whose personal fields were stored in clear (before encryption was
        introduced): an erasure cannot reach them."""
        return sum(
            1
            for e in await self.store.read_stream(file_id, conn=self.conn)
            if e.type in PERSONAL_TYPES and holds_clear_personal_data(e.payload)
        )

    # -------------------------------------------------------------- reading the whole log

    async def trail(self, file_id: UUID) -> list[StoredEvent]:
        """The file's own events and the acts of other streams that refer to it (unmasked reads,
        findings), in recorded order."""
        own = await self.store.read_stream(file_id, conn=self.conn)
        others = await self.store.read_referring(file_id, conn=self.conn)
        return sorted([*own, *others], key=lambda e: (e.recorded_at, e.position))

    async def every_file(self) -> list[HouseholdFile]:
        """Every household file, replayed from one scan of the log."""
        households: list[HouseholdFile] = []
        current: list[StoredEvent] = []

        def flush() -> None:
            household = replay(self.codec, current)
            if isinstance(household, HouseholdFile):
                households.append(household)

        async for event in self.store.scan(type_prefix="household."):
            if current and current[0].stream_id != event.stream_id:
                flush()
                current = []
            current.append(event)
        if current:
            flush()
        return households
