"""The key ring: the data keys of this node in PostgreSQL (`personal_keys`), and the cache of
their unwrapped form in this process.

Data keys are made, wrapped under the current KEK and stored for new files; loaded (one batched
query) for the rows a read returns; re-wrapped on rotation; destroyed on erasure (crypto-
shredding, with a NOTIFY on `KEYS_CHANNEL` so every process of the node drops its copy); and
passed to and received from other nodes by sync. The encryption itself — tokens, wrapping,
the sentinels a cache entry may hold — is the pure `adapters.pii.sealing`
(docs/decisions/0010-personal-data-encryption.md).
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeAlias
from uuid import UUID

import asyncpg
import structlog
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.pg.conn import Conn
from adapters.pii.sealing import (
    ABSENT,
    ERASURE_TYPE,
    KEY_BYTES,
    PERSONAL_TYPES,
    SHREDDED,
    Entry,
    KeyEncryptionKeys,
    KeyProblem,
    is_sealed,
    wrap_for_transport,
)

log = structlog.get_logger(__name__)

KEYS_CHANNEL = "bangfu_keys"  # NOTIFY payload: the stream whose key was destroyed


class ErasedStream(KeyProblem):
    """Personal data was to be written to a file whose personal data was erased."""


@dataclass
class KeyStatus:
    """What `bangfu keys status` shows."""

    current: int
    configured: tuple[int, ...]
    source: str
    by_version: dict[int, int]  # data keys wrapped under each KEK version
    shredded: int
    missing: tuple[int, ...]  # KEK versions data keys are wrapped under but not configured


Runner: TypeAlias = asyncpg.Pool | Conn
Row = tuple[UUID, str, bytes]  # stream id, type, stored payload

_INSERT_NEW = """
INSERT INTO personal_keys (stream_id, kek_version, wrapped)
SELECT * FROM unnest($1::uuid[], $2::int[], $3::bytea[])
ON CONFLICT (stream_id) DO NOTHING
RETURNING stream_id
"""
_RECEIVE = """
INSERT INTO personal_keys (stream_id, kek_version, wrapped)
SELECT * FROM unnest($1::uuid[], $2::int[], $3::bytea[])
ON CONFLICT (stream_id) DO NOTHING
"""
# Bulk imports encrypt in worker processes with keys made there: their key rows replace any
# row left by an earlier attempt that stored no events. Only inside the transaction that then
# COPYs the events: for a stream that does have events the COPY fails and this rolls back.
_ADOPT = """
INSERT INTO personal_keys (stream_id, kek_version, wrapped)
SELECT * FROM unnest($1::uuid[], $2::int[], $3::bytea[])
ON CONFLICT (stream_id) DO UPDATE
SET kek_version = EXCLUDED.kek_version, wrapped = EXCLUDED.wrapped, created_at = now(),
    shredded_at = NULL
"""
_SELECT = (
    "SELECT stream_id, kek_version, wrapped FROM personal_keys WHERE stream_id = ANY($1::uuid[])"
)
_DESTROY = """
INSERT INTO personal_keys (stream_id, kek_version, wrapped, shredded_at)
SELECT s, NULL, NULL, now() FROM unnest($1::uuid[]) AS s
ON CONFLICT (stream_id) DO UPDATE
SET kek_version = NULL, wrapped = NULL, shredded_at = coalesce(personal_keys.shredded_at, now())
"""


class Keyring:
    """The data keys of this node: created for new files, loaded for reads, cached unwrapped in
    this process, re-wrapped on rotation, destroyed on erasure, passed upstream by sync.

    The cache holds an entry per stream — the AES-GCM key, `SHREDDED` or `ABSENT` — for at
    most `ttl` seconds (`ABSENT` for less: a key may still arrive from a downstream), bounded to
    `size` streams. A key destroyed by another process is dropped from this cache when its
    NOTIFY arrives (`forget`), when a read meets the erasure event, or at the latest after `ttl`.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        keks: KeyEncryptionKeys,
        *,
        reload: Callable[[], KeyEncryptionKeys] | None = None,
        size: int = 200_000,
        ttl: float = 300.0,
        absent_ttl: float = 10.0,
    ) -> None:
        self.pool = pool
        self._keks = keks
        # KEKs kept in the data folder are read again (at most once a second): a rotation by
        # `bangfu keys rotate` reaches the running service without a restart
        self._reload = reload
        self._read_at = time.monotonic()
        self.size = size
        self.ttl = ttl
        self.absent_ttl = absent_ttl
        self._cache: OrderedDict[UUID, tuple[float, Entry]] = OrderedDict()

    @property
    def keks(self) -> KeyEncryptionKeys:
        if self._reload is not None and time.monotonic() - self._read_at > 1.0:
            self._read_at = time.monotonic()
            try:
                self._keks = self._reload()
            except (OSError, RuntimeError) as error:
                log.error("personal.keks_not_reloaded", error=str(error))  # noqa: TRY400 — no traceback: the message says it
        return self._keks

    @keks.setter
    def keks(self, value: KeyEncryptionKeys) -> None:
        self._keks = value
        self._read_at = time.monotonic()

    # ---------------------------------------------------------------- the cache

    def entry(self, stream_id: UUID) -> Entry | None:
        """The cached entry of a stream (None when not loaded): what the codec opens with."""
        found = self._cache.get(stream_id)
        return None if found is None else found[1]

    def _put(self, stream_id: UUID, entry: Entry, now: float) -> None:
        cache = self._cache
        cache[stream_id] = (now, entry)
        cache.move_to_end(stream_id)
        while len(cache) > self.size:
            cache.popitem(last=False)

    def clear(self) -> None:
        """Drop every cached key (benchmarks measure a cold process with it)."""
        self._cache.clear()

    def forget(self, stream_id: UUID) -> None:
        """The stream's key was destroyed (here or by another process): never use it again."""
        self._put(stream_id, SHREDDED, time.monotonic())

    def is_fresh(self, stream_id: UUID) -> bool:
        """True when the stream's entry is cached and still to be trusted."""
        return self._fresh(stream_id, time.monotonic())

    def accept_packed(self, stream_id: UUID, packed: bytes | None) -> None:
        """Cache a key row read along with the stream's events, packed as the store reads it:
        None without a row, empty once destroyed, else the KEK version (4 bytes) and the
        wrapped key."""
        if packed is None:
            entry: Entry = ABSENT
        elif not packed:
            entry = SHREDDED
        else:
            raw = bytes(packed)
            entry = self._entry_of(stream_id, int.from_bytes(raw[:4], "big"), raw[4:])
        self._put(stream_id, entry, time.monotonic())

    def _fresh(self, stream_id: UUID, now: float) -> bool:
        found = self._cache.get(stream_id)
        if found is None:
            return False
        loaded, entry = found
        if entry is SHREDDED:
            return True  # a destroyed key never comes back
        return now - loaded < (self.absent_ttl if entry is ABSENT else self.ttl)

    def _entry_of(self, stream_id: UUID, kek_version: int | None, wrapped: bytes | None) -> Entry:
        if wrapped is None:
            return SHREDDED
        try:
            return AESGCM(self.keks.unwrap(stream_id, kek_version or 0, bytes(wrapped)))
        except KeyProblem as error:
            log.error(  # noqa: TRY400 — an expected state, the message says it
                "personal.key_unavailable", stream_id=str(stream_id), error=str(error)
            )
            return ABSENT

    async def _fetch(self, stream_ids: Collection[UUID], conn: Conn | None) -> dict[UUID, Entry]:
        runner: Runner = conn if conn is not None else self.pool
        rows = await runner.fetch(_SELECT, list(stream_ids))
        return {r[0]: self._entry_of(r[0], r[1], r[2]) for r in rows}

    # ---------------------------------------------------------------- reading

    async def load_for(self, rows: Iterable[Row], conn: Conn | None = None) -> None:
        """Make sure the keys of the streams whose rows hold encrypted values are cached.

        `conn`: the caller's connection (inside its transaction) — never a second connection
        from the pool while the caller holds one. An erasure event among the rows marks its
        stream's key destroyed before anything of the stream is opened."""
        personal: set[UUID] = set()
        for stream_id, type_name, payload in rows:
            if type_name in PERSONAL_TYPES:
                if is_sealed(payload):
                    personal.add(stream_id)
            elif type_name == ERASURE_TYPE:
                self.forget(stream_id)
        now = time.monotonic()
        wanted = [s for s in personal if not self._fresh(s, now)]
        if wanted:
            await self.load(wanted, conn)

    async def load(self, stream_ids: Collection[UUID], conn: Conn | None = None) -> None:
        """Fetch and cache the keys of these streams (ABSENT for those without a key row)."""
        found = await self._fetch(stream_ids, conn)
        now = time.monotonic()
        for stream_id in stream_ids:
            self._put(stream_id, found.get(stream_id, ABSENT), now)

    # ---------------------------------------------------------------- writing

    async def for_writing(
        self,
        new: Collection[UUID],
        existing: Collection[UUID],
        *,
        conn: Conn | None = None,
    ) -> dict[UUID, AESGCM]:
        """The data keys to encrypt these streams' new events with, creating those of new files
        (and of files written before encryption, which get a key for their new events).

        A key is created with `INSERT … ON CONFLICT DO NOTHING` and read back when another writer
        won, so every writer of a stream uses the one stored key. Without `conn` the key row is
        committed before the events are appended (an unused key row is harmless); with `conn` it
        joins the caller's transaction, and is not cached until a later read finds it committed.
        """
        keys: dict[UUID, AESGCM] = {}
        create = set(new)
        unknown: set[UUID] = set()
        now = time.monotonic()
        for stream_id in existing:
            cached = self._cache.get(stream_id)
            entry = cached[1] if cached is not None and self._fresh(stream_id, now) else None
            if isinstance(entry, AESGCM):
                keys[stream_id] = entry
            elif entry is SHREDDED:
                raise ErasedStream(f"the personal data of {stream_id} was erased")
            else:
                unknown.add(stream_id)
        if unknown:
            found = await self._fetch(unknown, conn)
            for stream_id in unknown:
                entry = found.get(stream_id)
                if entry is None:
                    create.add(stream_id)  # written before encryption: its new events get a key
                elif entry is SHREDDED:
                    raise ErasedStream(f"the personal data of {stream_id} was erased")
                elif isinstance(entry, AESGCM):
                    keys[stream_id] = entry
                else:
                    raise KeyProblem(f"the data key of {stream_id} cannot be opened here")
        if create:
            keys.update(await self._create(create, conn))
        if conn is None:
            for stream_id, aead in keys.items():
                self._put(stream_id, aead, now)
        return keys

    async def _create(self, stream_ids: Collection[UUID], conn: Conn | None) -> dict[UUID, AESGCM]:
        made = {s: os.urandom(KEY_BYTES) for s in stream_ids}
        ids, versions, wrapped = [], [], []
        for stream_id, key in made.items():
            version, sealed = self.keks.wrap(stream_id, key)
            ids.append(stream_id)
            versions.append(version)
            wrapped.append(sealed)
        runner: Runner = conn if conn is not None else self.pool
        stored = {r[0] for r in await runner.fetch(_INSERT_NEW, ids, versions, wrapped)}
        keys = {s: AESGCM(made[s]) for s in stored}
        lost = set(made) - stored
        if lost:  # another writer created them first: use theirs
            for stream_id, entry in (await self._fetch(lost, conn)).items():
                if entry is SHREDDED:
                    raise ErasedStream(f"the personal data of {stream_id} was erased")
                if not isinstance(entry, AESGCM):
                    raise KeyProblem(f"the data key of {stream_id} cannot be opened here")
                keys[stream_id] = entry
        return keys

    async def adopt(self, conn: Conn, keys: Mapping[UUID, bytes]) -> None:
        """Store keys made elsewhere (an import's worker processes) for new files, inside the
        transaction that COPYs their events (see `_ADOPT`)."""
        if not keys:
            return
        ids, versions, wrapped = [], [], []
        for stream_id, key in keys.items():
            version, sealed = self.keks.wrap(stream_id, key)
            ids.append(stream_id)
            versions.append(version)
            wrapped.append(sealed)
        await conn.execute(_ADOPT, ids, versions, wrapped)

    # ---------------------------------------------------------------- erasure

    async def destroy(self, conn: Conn, stream_ids: Collection[UUID]) -> None:
        """Destroy the streams' data keys (a tombstone row stays: the key is known to be gone)
        and tell every process of this node, on commit, to drop them from its cache."""
        if not stream_ids:
            return
        await conn.execute(_DESTROY, list(stream_ids))
        for stream_id in stream_ids:
            await conn.execute("SELECT pg_notify($1, $2)", KEYS_CHANNEL, str(stream_id))

    def heard(self, *args: object) -> None:
        """asyncpg listener callback for `KEYS_CHANNEL`: (connection, pid, channel, payload)."""
        try:
            self.forget(UUID(str(args[-1])))
        except ValueError:
            log.warning("personal.bad_notification", payload=str(args[-1])[:100])

    # ---------------------------------------------------------------- rotation

    async def rewrap(
        self, *, batch: int = 5000, progress: Callable[[int], None] | None = None
    ) -> int:
        """Re-wrap every data key not yet under the current KEK (payloads, hashes untouched).
        Returns how many were re-wrapped. Safe to run while the service runs and to re-run."""
        target = self.keks.current
        done = 0
        while True:
            rows = await self.pool.fetch(
                "SELECT stream_id, kek_version, wrapped FROM personal_keys"
                " WHERE wrapped IS NOT NULL AND kek_version <> $1 LIMIT $2",
                target,
                batch,
            )
            if not rows:
                return done
            ids, olds, wrapped = [], [], []
            for stream_id, old, sealed in rows:
                key = self.keks.unwrap(stream_id, old, bytes(sealed))  # raises on a lost KEK
                _, again = self.keks.wrap(stream_id, key)
                ids.append(stream_id)
                olds.append(old)
                wrapped.append(again)
            # a key destroyed meanwhile stays destroyed: only rows still wrapped under the old
            # version are replaced
            await self.pool.execute(
                "UPDATE personal_keys k SET kek_version = $1, wrapped = n.wrapped"
                " FROM unnest($2::uuid[], $3::int[], $4::bytea[]) AS n(stream_id, old, wrapped)"
                " WHERE k.stream_id = n.stream_id AND k.kek_version = n.old"
                " AND k.wrapped IS NOT NULL",
                target,
                ids,
                olds,
                wrapped,
            )
            done += len(rows)
            if progress is not None:
                progress(len(rows))

    async def status(self) -> KeyStatus:
        rows = await self.pool.fetch(
            "SELECT kek_version, count(*) FROM personal_keys GROUP BY kek_version"
        )
        by_version = {r[0]: r[1] for r in rows if r[0] is not None}
        shredded = sum(r[1] for r in rows if r[0] is None)
        return KeyStatus(
            current=self.keks.current,
            configured=self.keks.versions,
            source=self.keks.source,
            by_version=by_version,
            shredded=shredded,
            missing=tuple(sorted(set(by_version) - set(self.keks.versions))),
        )

    async def check(self, conn: Conn, *, read_only: bool = False) -> None:
        """On start: every configured KEK must be the one this database knows under its version
        (a canary wrapped under each version on first use); a KEK version that data keys still
        need but that is not configured is logged loudly (their personal data is unreadable)."""
        for version in self.keks.versions:
            canary = await conn.fetchval(
                "SELECT canary FROM personal_kek_canaries WHERE version = $1", version
            )
            if canary is None and read_only:
                continue  # a replica: the primary records the canary of a new version
            if canary is None:
                await conn.execute(
                    "INSERT INTO personal_kek_canaries (version, canary) VALUES ($1, $2)"
                    " ON CONFLICT (version) DO NOTHING",
                    version,
                    self.keks.canary(version),
                )
                canary = await conn.fetchval(
                    "SELECT canary FROM personal_kek_canaries WHERE version = $1", version
                )
            if not self.keks.opens_canary(version, bytes(canary)):
                raise KeyProblem(
                    f"KEK version {version} ({self.keks.source}) is not the key this database's"
                    " data keys were wrapped with under that version: check BANGFU_PII_KEYS"
                )
        used = {
            r[0]
            for r in await conn.fetch(
                "SELECT DISTINCT kek_version FROM personal_keys WHERE wrapped IS NOT NULL"
            )
        }
        missing = sorted(used - set(self.keks.versions))
        if missing:
            log.error(
                "personal.kek_missing",
                versions=missing,
                detail="data keys are wrapped under KEK versions that are not configured: the"
                " personal data of those files cannot be read until the keys are restored",
            )

    async def forget_kek(self, version: int) -> None:
        """After a KEK version is retired: drop its canary (so the number may be reused)."""
        await self.pool.execute("DELETE FROM personal_kek_canaries WHERE version = $1", version)

    # ---------------------------------------------------------------- sync

    async def export(
        self, conn: Conn, stream_ids: Collection[UUID], transport: bytes
    ) -> list[tuple[UUID, bytes | None]]:
        """The data keys of these streams wrapped under the key shared with the upstream node;
        None for a destroyed key (so the upstream destroys its copy too)."""
        if not stream_ids:
            return []
        out: list[tuple[UUID, bytes | None]] = []
        for stream_id, version, wrapped in await conn.fetch(_SELECT, list(stream_ids)):
            if wrapped is None:
                out.append((stream_id, None))
                continue
            try:
                key = self.keks.unwrap(stream_id, version, bytes(wrapped))
            except KeyProblem as error:
                log.error(  # noqa: TRY400 — an expected state, the message says it
                    "personal.key_not_exported", stream_id=str(stream_id), error=str(error)
                )
                continue
            out.append((stream_id, wrap_for_transport(transport, stream_id, key)))
        return out

    async def receive(self, conn: Conn, keys: Mapping[UUID, bytes | None]) -> list[UUID]:
        """Store data keys received from a downstream (already unwrapped: `None` = destroyed
        there), wrapped under this node's KEK, inside the transaction that stores the page.
        A key held here is never replaced, a destroyed one never revived. Returns the streams
        whose keys are destroyed here now."""
        live = {s: k for s, k in keys.items() if k is not None}
        if live:
            ids, versions, wrapped = [], [], []
            for stream_id, key in live.items():
                version, sealed = self.keks.wrap(stream_id, key)
                ids.append(stream_id)
                versions.append(version)
                wrapped.append(sealed)
            await conn.execute(_RECEIVE, ids, versions, wrapped)
        gone = [s for s, k in keys.items() if k is None]
        await self.destroy(conn, gone)
        return gone
