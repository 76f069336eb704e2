"""Running a spot-check (抽查) against the store and the ledger, and loading one back.

Everything the check reads, it reads in ONE read-only REPEATABLE READ transaction: the ledger's
log position, the frame (the ledger rows of the scope's subtree the strata admit), the sampled
files' ledger rows, the people they share with other open files, the regional parameters and
the sampled files' events. So the frame, the rows and the events are one consistent picture of
the log at that position — and since the ledger's rows and position are written in one
transaction (`adapters.pg.projector`), events after the position are left out of the replay: a
file that changed after the ledger last caught up is judged as the ledger saw it, never reported
as drift.

For each sampled file: its hash chain is recomputed (the first broken link is a CHAIN finding),
its events decoded and replayed (`domain.rules.history_of`), every rule evaluated
(`domain.rules.check`; one open file per person with the other open files from `ledger_people`),
the replayed state compared with its ledger row (a difference is a DRIFT finding) and the content
of each of its attachments re-hashed against the hash its event holds (a missing, altered or
unreadable one is an ATTACHMENT finding, an erased one ATTACHMENT_ERASED). The
results are recorded in the checking unit's spot-check stream: `Started` before the first file is
checked, then every `FileChecked` and `Completed` in one append.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

import msgspec
import structlog

from adapters.pg.attachments import PgContentStore
from adapters.pg.codec import EventCodec
from adapters.pg.conn import Conn
from adapters.pg.integrity import first_broken
from adapters.pg.policies import PgPolicies
from adapters.pg.repository import PgFileRepository, replay
from adapters.pg.store import PostgresEventStore, StoredEvent
from adapters.pg.units import load_registry, subtree_sql
from domain.errors import NotFound
from domain.household import OPEN
from domain.rules import Context, Finding, History, check, history_of
from domain.spotcheck import (
    FileResult,
    FrameRow,
    Profile,
    SpotCheck,
    Strata,
    attachment_finding,
    authorise_check,
    chain_finding,
    check_request,
    drift_finding,
    drifted,
    profile_of,
    replay_finding,
    replayed_fields,
)
from domain.units import UnitCode
from domain.values import Actor, Status

log = structlog.get_logger(__name__)

LEDGER = "ledger"  # the consumer whose position the frame is read at
ATTACHED = "household.attachment_added"  # stored names (domain/events.py)
ERASED = "household.personal_data_erased"
READ_BATCH = 500  # sampled files whose events are read per query
# the files that hold their people under 一户一档 (open and relieved), as the ledger stores them
OPEN_STATUSES = sorted(s.value for s in OPEN | {Status.RELIEVED})

_FRAME = (
    "SELECT file_id, unit, status, version FROM ledger"  # noqa: S608 — constants only
    f" WHERE {subtree_sql('unit', '$1')} AND (cardinality($2::text[]) = 0 OR status = ANY($2))"
    " ORDER BY file_id"
)
_ROWS = (
    "SELECT file_id, status, unit, category, file_level, assistance_count, assistance_total,"
    " approved_on, exited_on, version FROM ledger WHERE file_id = ANY($1::uuid[])"
)
# Other open or relieved files holding a person (keyed hash of the ID number) of each sampled file.
_SHARED = """
SELECT DISTINCT mine.file_id, theirs.file_id AS other
FROM ledger_people mine
JOIN ledger_people theirs ON theirs.id_hash = mine.id_hash AND theirs.file_id <> mine.file_id
JOIN ledger other ON other.file_id = theirs.file_id AND other.status = ANY($2::text[])
WHERE mine.file_id = ANY($1::uuid[])
ORDER BY mine.file_id, other
"""


@dataclass(frozen=True)
class Request:
    """What to check: the scope, the sample size or fraction, the strata, the seed, the day."""

    scope: str
    as_of: date
    seed: int = 0
    sample: int | None = None
    fraction: Decimal | None = None
    strata: Strata = field(default_factory=Strata)


_NO_PROFILE = Profile(ever_approved=False, ever_exited=False, approved=False, paired=False)


def _judged(
    events: Sequence[StoredEvent], codec: EventCodec, context: Context
) -> tuple[History, list[Finding]]:
    if not events:
        raise LookupError("the file has no events up to the log position")
    decoded = [
        codec.decode(
            e.type, e.payload, stream_id=e.stream_id, version=e.version, recorded_at=e.recorded_at
        )
        for e in events
    ]
    history = history_of(cast(Any, decoded))
    return history, check(history, context)


def check_file(
    file_id: UUID,
    events: Sequence[StoredEvent],
    row: Mapping[str, Any],
    *,
    codec: EventCodec,
    context: Context,
) -> FileResult:
    """One sampled file's result: chain, replay, every rule, and drift from its ledger row."""
    findings: list[Finding] = []
    link = first_broken(events)
    broken = None if link is None else link.version
    if broken is not None:
        findings.append(chain_finding(broken))
    last = events[-1].version if events else 0
    try:
        history, found = _judged(events, codec, context)
    # Broad on purpose: what is stored may be anything once altered (an unknown type, a payload
    # that no longer parses or type-checks, a missing version, a value no rule expects). One
    # such file is a finding of its own; it must never stop the check of the others.
    except Exception as error:
        reason = str(error)[:200] or type(error).__name__
        findings.append(replay_finding(last, reason))
        unit = str(row.get("unit", ""))
        return FileResult(
            file_id, unit, last, tuple(findings), broken is None, broken, (), _NO_PROFILE
        )
    findings += found
    drift = drifted(replayed_fields(history.final), row)
    if drift:
        findings.append(drift_finding(drift, history.final.version, row))
    return FileResult(
        file_id,
        history.final.establishing_unit,
        history.final.version,
        tuple(findings),
        broken is None,
        broken,
        drift,
        profile_of(history),
    )


async def attachments_checked(
    contents: PgContentStore | None, file_id: UUID, events: Sequence[StoredEvent]
) -> list[Finding]:
    """Re-hash the content of every attachment the file's events record (up to the check's log
    position) against the SHA-256 its event holds: a finding for each one not "ok". The fields
    read are never sealed; an event that no longer parses is the replay's finding."""
    found: list[Finding] = []
    erased = any(e.type == ERASED for e in events)
    for e in events:
        if e.type != ATTACHED:
            continue
        try:
            fields = msgspec.json.decode(e.payload)
            attachment_id = UUID(fields["attachment_id"])
            size, sha256, kind = int(fields["size"]), str(fields["sha256"]), str(fields["kind"])
        except (msgspec.DecodeError, KeyError, TypeError, ValueError):
            continue
        if contents is None:
            state = "unreadable"  # no key ring here: nothing can be opened
        else:
            state = await contents.check(file_id, attachment_id, size=size, sha256=sha256)
        if state == "unreadable" and erased:
            state = "erased"
        if state != "ok":
            found.append(attachment_finding(state, kind, attachment_id, e.version))
    return found


async def run_spot_check(
    *,
    store: PostgresEventStore,
    codec: EventCodec,
    actor: Actor,
    request: Request,
    progress: Callable[[int, int], None] | None = None,
    contents: PgContentStore | None = None,
) -> SpotCheck:
    """Draw the sample, check every sampled file, record the check; return it.

    `progress(done, total)` is called as files are checked (for a progress bar). The content of
    the sample's attachments is read from `contents` (by default the store's own database, with
    the store's key ring).
    """
    if contents is None and store.keyring is not None:
        contents = PgContentStore(store.pool, store.keyring)
    scope = UnitCode(request.scope)
    # refuse a caller or a request before reading anything
    authorise_check(actor, scope)
    check_request(
        scope,
        strata=request.strata,
        sample_size=request.sample,
        fraction=request.fraction,
        seed=request.seed,
    )
    repository = PgFileRepository(store, codec)
    async with (
        store.pool.acquire() as conn,
        conn.transaction(readonly=True, isolation="repeatable_read"),
    ):
        position = await store.position(LEDGER, conn=conn)
        frame = [
            FrameRow(r["file_id"], r["unit"], r["status"], r["version"])
            for r in await conn.fetch(
                _FRAME, scope.value, [str(s) for s in request.strata.statuses]
            )
        ]
        spot = SpotCheck.start(
            actor=actor,
            scope=scope.value,
            frame=frame,
            strata=request.strata,
            sample_size=request.sample,
            fraction=request.fraction,
            seed=request.seed,
            log_position=position.encode(),
            as_of=request.as_of,
        )
        await repository.record(spot)
        log.info(
            "spotcheck.started",
            spot_check_id=str(spot.id),
            scope=spot.scope,
            frame=spot.frame_size,
            sample=len(spot.sample),
            position=spot.log_position,
        )
        context = Context(
            policies=await PgPolicies(store, codec).book(conn=conn),
            as_of=request.as_of,
            shared_people=await _shared_people(conn, spot.sample),
            units=await load_registry(conn),
        )
        rows = {r["file_id"]: dict(r) for r in await conn.fetch(_ROWS, list(spot.sample))}
        done = 0
        for start in range(0, len(spot.sample), READ_BATCH):
            batch = spot.sample[start : start + READ_BATCH]
            streams = await store.read_streams(batch, conn=conn)
            for file_id in batch:
                events = [e for e in streams.get(file_id, ()) if e.cursor <= position]
                result = check_file(
                    file_id, events, rows.get(file_id, {}), codec=codec, context=context
                )
                content = await attachments_checked(contents, file_id, events)
                if content:
                    result = replace(result, findings=(*result.findings, *content))
                spot.record_file(result)
                done += 1
            if progress is not None:
                progress(done, len(spot.sample))
    spot.complete()
    await repository.record(spot)
    summary = spot.summary
    log.info(
        "spotcheck.completed",
        spot_check_id=str(spot.id),
        files=summary.files_checked if summary else 0,
        findings=summary.findings if summary else 0,
    )
    return spot


async def _shared_people(conn: Conn, sample: Sequence[UUID]) -> dict[UUID, tuple[UUID, ...]]:
    shared: dict[UUID, list[UUID]] = {}
    for row in await conn.fetch(_SHARED, list(sample), OPEN_STATUSES):
        shared.setdefault(row["file_id"], []).append(row["other"])
    return {k: tuple(v) for k, v in shared.items()}


async def load_spot_check(
    store: PostgresEventStore, codec: EventCodec, check_id: UUID
) -> SpotCheck:
    """A recorded spot-check, replayed from its stream (NotFound for any other stream)."""
    events = await store.read_stream(check_id)
    if not events or events[0].type != "spotcheck.started":
        raise NotFound(f"no spot-check {check_id}", zh="抽查记录不存在")
    return cast(SpotCheck, replay(codec, events))
