"""The pull: an upstream node stores a downstream node's feed into its own event log.

For each page of the downstream's feed (`adapters.sync.feed`):

1. every event's unit must lie in the subtree the downstream was configured for — a single event
   outside refuses the whole page (nothing stored, the cursor stays, an alert is raised): a
   district node has no business serving another district's files (DESIGN.md decision 6);
2. each stream's hash chain must continue from what this node already holds: the event's hash is
   recomputed (`adapters.integrity.event_hash`) on the previous hash of the local copy, or of the
   page's previous event of that stream;
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

Restores: a page from another epoch than the one stored, or a feed whose head lies before the
stored cursor (the log went back in time), restarts the downstream from the start of its feed;
what is already held is skipped, so only the missing events are added.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import structlog

from adapters.integrity import GENESIS, event_hash
from adapters.pg.store import START, Cursor, copy_events
from adapters.pii import ERASURE_TYPE, KeyProblem, Keyring, unwrap_from_transport
from adapters.sync.feed import MSGPACK, FeedEvent, Page, decode_page
from adapters.sync.node import Downstream
from domain.errors import InvalidValue
from domain.units import UnitCode

log = structlog.get_logger(__name__)

FEED = "/api/v1/sync/feed"
COUNT = "/api/v1/sync/feed/count"


class PullError(Exception):
    """The downstream could not be read (unreachable, refused our token, sent garbage)."""


class PageRefused(PullError):
    """A page served events outside the downstream's subtree: nothing of it was stored."""


# ------------------------------------------------------------------------------ pure checks


def outside(events: Sequence[FeedEvent], subtree: str) -> list[FeedEvent]:
    """The events whose unit does not lie within `subtree` (or is no unit code at all)."""
    root = UnitCode(subtree)
    bad = []
    for event in events:
        try:
            inside = event.unit is not None and UnitCode(event.unit).is_within(root)
        except InvalidValue:
            inside = False
        if not inside:
            bad.append(event)
    return bad


@dataclass(frozen=True)
class Quarantined:
    event: FeedEvent
    held_hash: bytes | None
    reason: str


@dataclass
class Verdict:
    accepted: list[FeedEvent] = field(default_factory=list)
    skipped: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)


def judge(events: Sequence[FeedEvent], held: dict[tuple[UUID, int], bytes]) -> Verdict:
    """Sort a page's events into new (chaining onto what is held), already held, quarantined.

    `held` maps (stream, version) → hash for what this node holds of the page's streams, from one
    version before the page's first event of each stream; it is extended as events are accepted.
    """
    verdict = Verdict()
    broken: set[UUID] = set()
    for e in events:
        key = (e.stream_id, e.version)
        mine = held.get(key)
        if mine is not None:
            if mine == e.hash:
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
        previous = GENESIS if e.version == 1 else held.get((e.stream_id, e.version - 1))
        if previous is None:
            verdict.quarantined.append(
                Quarantined(e, None, f"version {e.version - 1} of the stream is not held")
            )
            broken.add(e.stream_id)
            continue
        computed = event_hash(
            previous,
            e.stream_id,
            e.version,
            e.type,
            e.recorded_at,
            e.unit,
            e.payload,
            e.refers_to,
        )
        if computed != e.hash:
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
    delay = min(cap, base * (2 ** min(attempt, 16)))
    return delay * (0.5 + random.random() / 2)  # noqa: S311 — jitter, not cryptography


# ------------------------------------------------------------------------------ storage


def lock_key(code: str) -> int:
    digest = hashlib.sha256(f"bangfu.sync.{code}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_HELD = """
SELECT e.stream_id, e.version, e.hash
FROM unnest($1::uuid[], $2::int[], $3::int[]) AS k(stream_id, lo, hi)
CROSS JOIN LATERAL (
    SELECT stream_id, version, hash FROM events
    WHERE stream_id = k.stream_id AND version BETWEEN k.lo AND k.hi
) AS e
"""


async def held_hashes(
    conn: asyncpg.Connection, events: Sequence[FeedEvent]
) -> dict[tuple[UUID, int], bytes]:
    """What this node holds of the page's streams, from one version before the page's first."""
    spans: dict[UUID, list[int]] = {}
    for e in events:
        span = spans.setdefault(e.stream_id, [e.version, e.version])
        span[0], span[1] = min(span[0], e.version), max(span[1], e.version)
    if not spans:
        return {}
    ids = list(spans)
    rows = await conn.fetch(_HELD, ids, [spans[s][0] - 1 for s in ids], [spans[s][1] for s in ids])
    return {(r[0], r[1]): bytes(r[2]) for r in rows}


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
    moved: bool = True


async def store_page(
    conn: asyncpg.Connection,
    downstream: Downstream,
    state: State,
    page: Page,
    *,
    behind: int | None = None,
    keyring: Keyring | None = None,
    keys: dict[UUID, bytes | None] | None = None,
) -> Stored:
    """Write one checked page, its data keys and its cursor in one transaction (see the module
    docstring)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(downstream.code))
        now = await conn.fetchval(
            "SELECT cursor FROM sync_downstreams WHERE code = $1", downstream.code
        )
        if (now or "") != state.raw_cursor:
            return Stored(0, 0, 0, moved=False)  # another puller stored this page: read again
        verdict = judge(page.events, await held_hashes(conn, page.events))
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
        if keyring is not None:
            erased = {e.stream_id: None for e in verdict.accepted if e.type == ERASURE_TYPE}
            destroyed = await keyring.receive(conn, {**(keys or {}), **erased})
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


async def restart(conn: asyncpg.Connection, downstream: Downstream, page: Page, why: str) -> None:
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
    previous = await pool.fetchval(
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
    ) -> None:
        self.pool = pool
        self.downstream = downstream
        self.keyring = keyring
        self.limit = limit
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

    async def step(self, *, behind: int | None = None) -> tuple[Page, Stored]:
        """Read and store the next page; raises `PageRefused` / `PullError`."""
        code = self.downstream.code
        state = await load_state(self.pool, code)
        page = await self.fetch(state.cursor)
        if state.epoch is not None and page.epoch != state.epoch:
            why = f"epoch changed from {state.epoch} to {page.epoch}: re-reading from the start"
            async with self.pool.acquire() as conn:
                await restart(conn, self.downstream, page, why)
            return page, Stored(0, 0, 0, moved=False)
        if state.raw_cursor and Cursor.decode(page.head) < state.cursor:
            why = (
                f"its log ends at {page.head}, before our cursor {state.raw_cursor} (restored"
                " without a new epoch?): re-reading from the start"
            )
            async with self.pool.acquire() as conn:
                await restart(conn, self.downstream, page, why)
            return page, Stored(0, 0, 0, moved=False)
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
        async with self.pool.acquire() as conn:
            stored = await store_page(
                conn,
                self.downstream,
                state,
                page,
                behind=behind,
                keyring=self.keyring,
                keys=keys,
            )
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
        return page, stored

    async def catch_up(
        self,
        *,
        total: Callable[[int], None] | None = None,
        advance: Callable[[int], None] | None = None,
    ) -> int:
        """Pull pages until the feed has no more; return the events added."""
        state = await load_state(self.pool, self.downstream.code)
        remaining = await self.behind(state.cursor)
        if total is not None:
            total(remaining)
        added = 0
        while True:
            page, stored = await self.step(behind=remaining)
            if stored.moved:
                remaining = max(0, remaining - len(page.events))
                added += stored.accepted
                if advance is not None:
                    advance(len(page.events))
            if stored.moved and not page.more:
                break
        await self.pool.execute(
            "UPDATE sync_downstreams SET behind = 0 WHERE code = $1", self.downstream.code
        )
        return added

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
