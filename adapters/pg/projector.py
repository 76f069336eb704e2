"""Running the read models: catch up in batches, then tail the log; and rebuild from zero.

Each projection keeps its own position in `consumer_positions`. A batch is read from the
commit-safe log, applied, and its rows and the new position are written in ONE transaction,
under a per-projection advisory lock, after checking that the position is still the one the batch
was read from. So a batch is applied exactly once — whether the runner is killed half-way
(the transaction rolls back and the batch is read again) or two runners race (the second finds
the position moved and re-reads).

A rebuild fills fresh shadow tables from zero, a batch of files at a time: each batch's files
are folded in memory (fast) from their own events and COPYed out, so memory holds one batch
whatever the size of the log; what adds up across files is then summed by SQL over the written
tables. Then — holding the projection's lock, so the live runner pauses — it catches the shadow
tables up to the live position and swaps them in by renaming, in one transaction. Until then
the service answers from the old tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from adapters.pg import logorder
from adapters.pg.codec import EventCodec
from adapters.pg.conn import Conn
from adapters.pg.faults import backoff, is_unavailable
from adapters.pg.readmodels import (
    LiveLedger,
    LiveStatistics,
    MemoryLedger,
    MemoryStatistics,
    Tables,
)
from adapters.pg.store import Cursor, PostgresEventStore, StoredEvent, Wakeups
from projections.base import Change, Projection
from projections.ledger import Ledger
from projections.statistics import Statistics

log = structlog.get_logger(__name__)

GROUPS = {
    "ledger": ("ledger", "people", "duplicates", "counts", "name_chars"),
    "statistics": ("facts", "stock", "flow"),
}
# Tables no projection writes: filled from their group's other shadow tables just before the
# swap, under the projection's lock (`_swap_in`). The ledger's counts (migration 0022) are kept
# by triggers on the live ledger; a rebuild's shadow ledger has none (COPY does not pay them
# row by row) and its counts are taken in one GROUP BY once it is complete; its names'
# characters (migration 0025) likewise in one INSERT … SELECT.
DERIVED = {"counts", "name_chars"}


def lock_key(name: str) -> int:
    digest = hashlib.sha256(f"bangfu.projection.{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def live_storage(projection: Projection, conn: Conn, tables: Tables) -> Any:
    if isinstance(projection, Ledger):
        return LiveLedger(conn, tables)
    if isinstance(projection, Statistics):
        return LiveStatistics(conn, tables)
    raise TypeError(f"no storage for projection {projection.name}")


def changes_for(
    projection: Projection, codec: EventCodec, events: Sequence[StoredEvent]
) -> list[Change]:
    return decoded(codec, [e for e in events if projection.wants(e.type)])


def decoded(codec: EventCodec, events: Sequence[StoredEvent]) -> list[Change]:
    decode = codec.decode_fields
    return [
        Change(
            e.stream_id,
            e.version,
            e.type,
            decode(e.type, e.payload, e.stream_id),
            e.recorded_at,
            e.unit,
        )
        for e in events
    ]


@dataclass
class Lag:
    events: int
    seconds: float
    position: str


class ProjectionRunner:
    def __init__(
        self,
        store: PostgresEventStore,
        codec: EventCodec,
        projections: Sequence[Projection],
        *,
        batch: int = 1000,
        wakeups: Wakeups | None = None,
    ) -> None:
        self.store = store
        self.pool = store.pool
        self.codec = codec
        self.projections = list(projections)
        self.batch = batch
        self.wakeups = wakeups

    async def step(self, projection: Projection) -> int:
        """Apply the next batch of one projection; return how many events it covered."""
        position = await self.store.position(projection.name)
        events = await self.store.read_log(position, self.batch)
        if not events:
            return 0
        changes = changes_for(projection, self.codec, events)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(projection.name))
            if await self.store.position(projection.name, conn=conn) != position:
                return 0  # another runner (or a rebuild) moved it: read again
            if changes:
                await projection.apply(changes, live_storage(projection, conn, Tables()))
            await self.store.save_position(conn, projection.name, events[-1].cursor)
        return len(events)

    async def catch_up(self) -> int:
        """Run every projection until none has anything left to read."""
        total = 0
        while True:
            done = sum([await self.step(p) for p in self.projections])
            total += done
            if not done:
                return total

    async def run(self, stop: asyncio.Event, *, poll: float = 1.0, cap: float = 10.0) -> None:
        """Catch up, then tail the log: woken by the store's notifications, else polling.

        Never ends before `stop`: while the database is away (restarting, unreachable) it waits
        `poll` seconds, doubling after each failure up to `cap`, and carries on from its saved
        positions once the database is back. A batch cut short is rolled back whole."""
        log.info("projections.started", projections=[p.name for p in self.projections])
        failures = 0
        while not stop.is_set():
            try:
                done = await self.catch_up()
            except Exception as error:
                failures += 1
                if is_unavailable(error):  # the database is away: wait and retry
                    log.warning(
                        "projections.batch_failed", error=str(error)[:300], failures=failures
                    )
                    pause = backoff(failures, first=poll, cap=cap)
                else:  # a bug or an undecodable event: say so loudly, keep trying
                    # Stopping silently would leave `serve` answering from frozen read models.
                    log.exception("projections.batch_crashed", failures=failures)
                    pause = backoff(failures, first=poll * 5, cap=max(cap, poll * 5))
                await _until(stop, pause)
                continue
            if failures:
                log.info("projections.resumed", after_failures=failures)
                failures = 0
            if done or stop.is_set():
                continue
            if self.wakeups is not None:
                await self.wakeups.wait(poll)
            else:
                await asyncio.sleep(poll)

    async def lag(self) -> dict[str, Lag]:
        result = {}
        for projection in self.projections:
            position = await self.store.position(projection.name)
            behind = await self.store.count_after(position)
            oldest = await self.pool.fetchval(
                f"SELECT recorded_at FROM events WHERE {logorder.READABLE_AFTER}"
                f" {logorder.IN_ORDER} LIMIT 1",
                str(position.xid),
                position.position,
            )
            seconds = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
            result[projection.name] = Lag(behind, max(seconds, 0.0), position.encode())
        return result


async def _until(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _create_shadow(conn: Conn, group: Sequence[str], live: Tables, shadow: Tables) -> None:
    # Without indexes: COPY fills a bare table faster, and each index is then built in one
    # sorted pass (`_index_shadow`) instead of growing row by row.
    for attr in group:
        await conn.execute(f"DROP TABLE IF EXISTS {getattr(shadow, attr)}")
        await conn.execute(
            f"CREATE TABLE {getattr(shadow, attr)}"
            f" (LIKE {getattr(live, attr)} INCLUDING ALL EXCLUDING INDEXES)"
        )


async def _index_shadow(conn: Conn, shadow: str, live: str) -> None:
    """Give a filled shadow table the constraints backed by indexes (primary keys, unique) and
    the indexes of its live table, built from their definitions."""
    for constraint in await conn.fetch(
        "SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint"
        " WHERE conrelid = $1::regclass AND contype IN ('p', 'u') ORDER BY conname",
        live,
    ):
        await conn.execute(f"ALTER TABLE {shadow} ADD {constraint['definition']}")
    for index in await conn.fetch(
        "SELECT pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i"
        " WHERE i.indrelid = $1::regclass AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        " ORDER BY i.indexrelid",
        live,
    ):
        # "CREATE [UNIQUE] INDEX name ON schema.table USING …": unnamed, on the shadow table
        definition = _INDEX_HEAD.sub(
            lambda m: f"CREATE {m.group(1) or ''}INDEX ON {shadow} USING ", index["definition"]
        )
        await conn.execute(definition)


_INDEX_HEAD = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (?:ONLY )?\S+ USING ")


# Files a rebuild holds in memory at once: its peak memory (docs/operations.md, capacity).
FILES_PER_BATCH = 10_000

# A rebuild's storage for each read model (readmodels.py): holds one batch of files, `flush`es
# it into the shadow tables, and — every batch written, before the shadow tables are indexed —
# `derive`s what is counted across files by SQL over them. A new read-model table derived from
# the others is a statement in its `derive`; a new read model, an entry here and in GROUPS.
REBUILD_STORAGE: dict[str, Callable[[], Any]] = {
    "ledger": MemoryLedger,
    "statistics": MemoryStatistics,
}


async def rebuild(
    store: PostgresEventStore,
    codec: EventCodec,
    projection: Projection,
    *,
    batch: int = 10_000,
    files: int = FILES_PER_BATCH,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Rebuild one projection from zero into fresh tables and swap them in; return events read."""
    return await rebuild_all(
        store, codec, [projection], batch=batch, files=files, progress=progress
    )


async def rebuild_all(
    store: PostgresEventStore,
    codec: EventCodec,
    projections: Sequence[Projection],
    *,
    batch: int = 10_000,
    files: int = FILES_PER_BATCH,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Rebuild projections from zero, reading and decoding the log once for all of them; each
    is then caught up to its live position and swapped in on its own. Returns events read.

    The log is read up to its head when the rebuild starts, `files` files at a time (`batch`
    events a chunk): each batch's files are folded whole, written into the shadow tables and
    forgotten, so memory holds one batch whatever the size of the log. A failure anywhere drops
    every shadow and work table and leaves the live tables as they were."""
    pool, live = store.pool, Tables()
    shadow = Tables.shadow(f"r{time.time_ns()}")
    groups = [GROUPS[p.name] for p in projections]
    storages = [REBUILD_STORAGE[p.name]() for p in projections]
    async with pool.acquire() as conn:
        try:
            for group, storage in zip(groups, storages, strict=True):
                await _create_shadow(conn, group, live, shadow)
                await storage.prepare(conn, shadow)
            cursor, read = await _fill(
                store, codec, projections, storages, conn, shadow, batch, files, progress
            )
            for projection, storage, group in zip(projections, storages, groups, strict=True):
                await _swap_in(
                    store, codec, projection, conn, storage, shadow, live, group, cursor, batch
                )
        except BaseException:
            # a failed rebuild leaves no shadow or work table behind
            for group, storage in zip(groups, storages, strict=True):
                for table in (*(getattr(shadow, attr) for attr in group), *storage.staging(shadow)):
                    await conn.execute(f"DROP TABLE IF EXISTS {table}")
            raise
    for projection in projections:
        log.info("projections.rebuilt", projection=projection.name, events=read)
    return read


async def _fill(
    store: PostgresEventStore,
    codec: EventCodec,
    projections: Sequence[Projection],
    storages: Sequence[Any],
    conn: Conn,
    shadow: Tables,
    batch: int,
    files: int,
    progress: Callable[[int], None] | None,
) -> tuple[Cursor, int]:
    """Apply the log up to its head to the shadow tables, a batch of files at a time; return the
    head and the events read.

    A file's read models depend on its own events and on those referring to it, in log order,
    never on another file's: so a batch of files — a range of stream ids — is folded from its
    own events alone (store.read_files_records), and what adds up across files (statistics,
    duplicates) is summed by SQL once every batch is written (`derive`). The head is fixed when
    the rebuild starts: every event up to it is final, so all batches read the same log."""
    head = await store.head(conn=conn)
    starts = await store.batch_starts(files, conn=conn)
    read = 0
    decode = codec.decode_fields
    wanted: dict[str, tuple[bool, ...]] = {}  # per event type: which projections want it
    for start, end in zip(starts, [*starts[1:], None], strict=True):
        # A batch's state lives until the batch is written, and the cyclic collector would
        # walk all of it again at every full collection. Frozen after each chunk, it leaves the
        # collector's view (each chunk's garbage is still collected); unfrozen once written.
        # https://docs.python.org/3/library/gc.html#gc.freeze
        try:
            chunks = store.read_files_records(start, end, head, batch, conn=conn)
            async with contextlib.aclosing(chunks):
                async for rows in chunks:
                    # the rows' columns: position, xid, stream_id, version, type, payload,
                    # recorded_at, unit (store._COLUMNS); read straight into changes
                    per_projection: list[list[Change]] = [[] for _ in projections]
                    for r in rows:
                        flags = wanted.get(r[4])
                        if flags is None:
                            flags = wanted[r[4]] = tuple(p.wants(r[4]) for p in projections)
                        if any(flags):
                            change = Change(r[2], r[3], r[4], decode(r[4], r[5], r[2]), r[6], r[7])
                            for i, flag in enumerate(flags):
                                if flag:
                                    per_projection[i].append(change)
                    for projection, storage, changes in zip(
                        projections, storages, per_projection, strict=True
                    ):
                        await projection.apply(changes, storage)
                    read += len(rows)
                    if progress is not None:
                        progress(len(rows))
                    gc.freeze()
            for storage in storages:
                await storage.flush(conn, shadow)
            store.forget_keys()  # no later batch reads these files
        finally:
            gc.unfreeze()
            gc.collect()  # the batch's cyclic garbage, frozen with it: else it piles up
        log.debug("projections.batch_rebuilt", start=str(start), events=read)
    return head, read


async def _swap_in(
    store: PostgresEventStore,
    codec: EventCodec,
    projection: Projection,
    conn: Conn,
    storage: Any,
    shadow: Tables,
    live: Tables,
    group: Sequence[str],
    cursor: Cursor,
    batch: int,
) -> None:
    """Derive a rebuilt projection's tables counted across files, index its shadow tables,
    catch them up to the live runner's position under its lock, and swap them in."""
    async with conn.transaction():
        await storage.derive(conn, shadow)
        await conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for attr in group:
            if attr not in DERIVED:
                await _index_shadow(conn, getattr(shadow, attr), getattr(live, attr))
    for attr in group:
        if attr not in DERIVED:
            await conn.execute(f"ANALYZE {getattr(shadow, attr)}")
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(projection.name))
        position = await store.position(projection.name, conn=conn)
        # the live runner may be ahead of the rebuild: bring the shadow tables up to it
        while cursor < position:
            events = [
                e for e in await store.read_log(cursor, batch, conn=conn) if e.cursor <= position
            ]
            if not events:
                break
            changes = changes_for(projection, codec, events)
            if changes:
                await projection.apply(changes, live_storage(projection, conn, shadow))
            cursor = events[-1].cursor
        if "counts" in group:  # the shadow ledger is complete: count it (migration 0022)
            await conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            await conn.execute(
                "SELECT bangfu_ledger_counts_fill($1::regclass, $2::regclass)",
                shadow.ledger,
                shadow.counts,
            )
            await _index_shadow(conn, shadow.counts, live.counts)
            await conn.execute(f"ANALYZE {shadow.counts}")
        if "name_chars" in group:  # and the characters of its names (migration 0025)
            await conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            await conn.execute(
                "SELECT bangfu_ledger_name_chars_fill($1::regclass, $2::regclass)",
                shadow.ledger,
                shadow.name_chars,
            )
            await _index_shadow(conn, shadow.name_chars, live.name_chars)
            await conn.execute(f"ANALYZE {shadow.name_chars}")
        for attr in group:
            await _swap(conn, getattr(shadow, attr), getattr(live, attr))
        await store.save_position(conn, projection.name, max(cursor, position))


async def _swap(conn: Conn, shadow: str, live: str) -> None:
    """Replace table `live` by `shadow`, giving the shadow's indexes the live indexes' names
    (matched by definition), so that migrations naming an index keep finding it."""
    shape = "regexp_replace(indexdef, '^.* USING ', '')"
    query = (
        f"SELECT indexname, {shape} AS shape FROM pg_indexes"
        " WHERE schemaname = current_schema() AND tablename = $1"
    )
    names = {r["shape"]: r["indexname"] for r in await conn.fetch(query, live)}
    shadow_indexes = await conn.fetch(query, shadow)
    await _carry_security(conn, shadow, live)
    await _carry_triggers(conn, shadow, live)
    await conn.execute(f"DROP TABLE {live}")
    await conn.execute(f"ALTER TABLE {shadow} RENAME TO {live}")
    for index in shadow_indexes:
        target = names.get(index["shape"])
        if target is not None:
            await conn.execute(f'ALTER INDEX "{index["indexname"]}" RENAME TO "{target}"')


async def _carry_triggers(conn: Conn, shadow: str, live: str) -> None:
    """Give `shadow` the live table's triggers (those that keep the ledger's counts, migration
    0022), created only now: the rows COPYd and caught up into the shadow table did not fire
    them, its derived tables being filled whole instead."""
    for trigger in await conn.fetch(
        "SELECT pg_get_triggerdef(oid) AS definition FROM pg_trigger"
        " WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY tgname",
        live,
    ):
        definition, found = _TRIGGER_TABLE.subn(rf"\1{shadow}\2", trigger["definition"], count=1)
        if not found:
            raise RuntimeError(f"cannot read the trigger: {trigger['definition']}")
        await conn.execute(definition)


# "CREATE TRIGGER name AFTER INSERT ON schema.table REFERENCING …": the table named
_TRIGGER_TABLE = re.compile(r"^(CREATE (?:CONSTRAINT )?TRIGGER \S+ .*? ON )\S+( )")


_POLICY_COMMANDS = {"*": "ALL", "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}


async def _carry_security(conn: Conn, shadow: str, live: str) -> None:
    """Give `shadow` what `CREATE TABLE … (LIKE …)` does not copy and a swap must not lose: the
    live table's owner, its grants, and its row-level security with every policy (migration
    0009), so that the read models stay the service's and stay scoped after a rebuild."""
    table = await conn.fetchrow(
        "SELECT l.relowner::regrole::text AS owner, s.relowner::regrole::text AS shadow_owner,"
        " l.relrowsecurity AS enabled, l.relforcerowsecurity AS forced"
        " FROM pg_class l, pg_class s WHERE l.oid = $1::regclass AND s.oid = $2::regclass",
        live,
        shadow,
    )
    assert table is not None  # noqa: S101 — `::regclass` raised already if either were missing
    if table["owner"] != table["shadow_owner"]:  # a rebuild run by a superuser, say
        await conn.execute(f"ALTER TABLE {shadow} OWNER TO {table['owner']}")
    for grant in await conn.fetch(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END"
        " AS grantee, a.privilege_type, a.is_grantable"
        " FROM pg_class c, aclexplode(c.relacl) a"
        " WHERE c.oid = $1::regclass AND a.grantee <> c.relowner",
        live,
    ):
        option = " WITH GRANT OPTION" if grant["is_grantable"] else ""
        await conn.execute(
            f"GRANT {grant['privilege_type']} ON {shadow} TO {grant['grantee']}{option}"
        )
    if table["enabled"]:
        await conn.execute(f"ALTER TABLE {shadow} ENABLE ROW LEVEL SECURITY")
    if table["forced"]:
        await conn.execute(f"ALTER TABLE {shadow} FORCE ROW LEVEL SECURITY")
    for policy in await conn.fetch(
        "SELECT quote_ident(p.polname) AS name, p.polcmd::text AS command, p.polpermissive,"
        " CASE WHEN p.polroles = '{0}' THEN 'PUBLIC' ELSE"
        " (SELECT string_agg(r::regrole::text, ', ') FROM unnest(p.polroles) r) END AS roles,"
        " pg_get_expr(p.polqual, p.polrelid) AS qual,"
        " pg_get_expr(p.polwithcheck, p.polrelid) AS checked"
        " FROM pg_policy p WHERE p.polrelid = $1::regclass ORDER BY p.polname",
        live,
    ):
        kind = "PERMISSIVE" if policy["polpermissive"] else "RESTRICTIVE"
        sql = (
            f"CREATE POLICY {policy['name']} ON {shadow} AS {kind}"
            f" FOR {_POLICY_COMMANDS[policy['command']]} TO {policy['roles']}"
        )
        if policy["qual"] is not None:
            sql += f" USING ({policy['qual']})"
        if policy["checked"] is not None:
            sql += f" WITH CHECK ({policy['checked']})"
        await conn.execute(sql)
