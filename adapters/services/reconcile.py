"""Reconciling a paper ledger (台账) against the electronic files of a subtree, as they stood on
the ledger's date.

The ledger is read with `adapters.sheets` (the headers of `adapters.exports`, so a ledger this
system exported reads back). The electronic side is NOT today's ledger read model: it is each
file as recorded by the end of the ledger's date (Beijing time), so a file that changed status
since then is compared as it was. It is folded, not replayed: only the events that change a
compared field or the file's unit (`projections.as_of.FOLDED`), only those recorded before the
cutoff, only the columns the fold reads, stream by stream in version order through a cursor (a
batch of events in memory at a time), each stream folded into the few fields the comparison reads
(`projections.as_of.step`). A file is in the subtree if its unit at the cutoff is, so files
transferred in or out since are judged where they then were. Rows match files by the keyed hash
of the head's normalised ID number (`domain.privacy.keyed_hash`); a ledger exported by this
system carries masked numbers ("130306********002X"), which match by the masked number and the
head's name instead.

The run and its findings are recorded in the checking unit's reconciliation stream (each finding
refers to its file), in one append; `report_json` and `write_xlsx` give the report.
"""

# ruff: noqa: S608 — the SQL here is built from constants and `subtree_sql` only.

from __future__ import annotations

import asyncio
import gc
import hashlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO, Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import structlog

from adapters.pg.codec import EventCodec
from adapters.pg.conn import Conn
from adapters.pg.repository import PgFileRepository, replay
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import subtree_sql
from adapters.sheets import reading as sheets
from domain.errors import InvalidValue, NotFound
from domain.privacy import mask_id
from domain.reconciliation import (
    COMPARED,
    DUPLICATE,
    ELECTRONIC_ONLY,
    KINDS,
    PAPER_ONLY,
    UNREADABLE,
    Finding,
    LedgerFacts,
    Reconciliation,
    Source,
    authorise_reconciliation,
    compare_row,
    electronic_fields,
)
from domain.units import UnitCode
from domain.values import Actor
from projections import as_of
from projections.base import Change

log = structlog.get_logger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")
READ_BATCH = 10_000  # events fetched from the cursor at a time
FILES_A_QUERY = 100_000  # files whose events one query reads (bounds its parameter)
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The paper ledger's columns: the headers of the export (`adapters.exports.LEDGER_HEADERS`) first.
LEDGER_COLUMNS = sheets.Columns(
    {
        "id_number": ("身份证号码", "身份证号", "公民身份号码", "身份证"),
        "head_name": ("户主姓名", "姓名", "职工姓名", "户主"),
        "sex": ("性别",),
        "employer": ("工作单位", "单位", "所在单位"),
        "address": ("家庭地址", "家庭住址", "住址"),
        "applied_on": ("建档时间", "建档日期", "申请时间", "申请日期"),
        "file_level": ("档案级别", "建档级别"),
        "category": ("困难类别", "困难类型"),
        "causes": ("致困原因", "困难原因"),
        "status": ("状态", "档案状态"),
    },
    required=("id_number", "head_name"),
)

# Every file that was in the subtree at some point before the cutoff: a superset of the files in
# it at the cutoff (each event's unit is the file's unit after it), found through `events_unit`.
_CANDIDATES = (
    "SELECT DISTINCT stream_id FROM events WHERE type LIKE 'household.%'"
    f" AND {subtree_sql('unit', '$1')} AND recorded_at < $2"
)
# What the fold reads of them, in the primary key's order (stream, version: no sort).
_FOLDED_EVENTS = (
    "SELECT stream_id, version, type, payload, recorded_at, unit FROM events"
    " WHERE stream_id = ANY($1::uuid[]) AND type = ANY($2::text[]) AND recorded_at < $3"
    " ORDER BY stream_id, version"
)


def end_of_day(day: date) -> datetime:
    """The first instant after `day` in Beijing: events recorded before it were on the ledger's
    date."""
    return datetime.combine(day + timedelta(days=1), time(0), CHINA)


@dataclass(frozen=True)
class PaperRow:
    row: int
    key: tuple[str, ...]  # ("hash", hex) or ("masked", masked number, name)
    shown: str  # the masked number, for the report
    fields: dict[str, str]


def paper_rows(
    table: sheets.Table, hasher: Callable[[str], bytes]
) -> tuple[list[PaperRow], list[Finding]]:
    """The ledger's rows keyed for matching, and a finding for every row without a usable
    number (pure)."""
    rows: list[PaperRow] = []
    unreadable: list[Finding] = []
    column = sheets.Columns.header(LEDGER_COLUMNS, "id_number")
    for number, cells in table.rows:
        raw = cells.get("id_number", "")
        fields = {k: v for k, v in cells.items() if k in COMPARED}
        if fields.get("applied_on"):
            try:
                parsed = sheets.day(fields["applied_on"], "建档时间")
                fields["applied_on"] = parsed.isoformat() if parsed else ""
            except sheets.CellError:
                pass  # left as written: reported as a mismatch
        masked = sheets.masked_id(raw)
        if masked is not None:
            rows.append(PaperRow(number, ("masked", masked, cells["head_name"]), masked, fields))
            continue
        try:
            value = sheets.id_number(raw, column)
        except sheets.CellError as error:
            # the finding is stored in the checking unit's stream, in clear: never the number
            shown = mask_id(raw.strip()[:40])
            unreadable.append(Finding(UNREADABLE, number, None, column, shown, error.reason))
            continue
        rows.append(PaperRow(number, ("hash", hasher(value).hex()), mask_id(value), fields))
    return rows, unreadable


@dataclass(frozen=True)
class Paper:
    """The paper ledger as read: how many rows it has, those keyed for matching, and a finding
    for each row without a usable number."""

    read: int
    rows: list[PaperRow]
    unreadable: list[Finding]


def read_paper(data: bytes, name: str, hasher: Callable[[str], bytes]) -> Paper:
    """The ledger's rows from the bytes of a workbook or csv (`InvalidValue` if it is no table)."""
    try:
        table = sheets.read_table(sheets.grid_of(data, name), LEDGER_COLUMNS)
    except sheets.CellError as error:
        raise InvalidValue("file", error.reason, zh=error.reason) from None
    except (ValueError, KeyError, OSError) as error:  # not a workbook or csv at all
        raise InvalidValue("file", f"unreadable: {error}", zh="无法读取该表格文件") from None
    rows, unreadable = paper_rows(table, hasher)
    return Paper(len(table.rows), rows, unreadable)


def match(
    rows: Sequence[PaperRow], files: Mapping[UUID, LedgerFacts], hasher: Callable[[str], bytes]
) -> tuple[list[Finding], int]:
    """Every finding of the paper rows against the files as they stood on the ledger's date
    (pure given the files), and how many rows matched a file."""
    by_key: dict[tuple[str, ...], UUID] = {}
    kinds = {r.key[0] for r in rows}  # files are keyed only the ways some row is (hashing costs)
    for file_id, household in files.items():
        number = household.head.id_number
        if "hash" in kinds:
            by_key[("hash", hasher(number).hex())] = file_id
        if "masked" in kinds:
            by_key[("masked", mask_id(number), household.head.name)] = file_id
    findings: list[Finding] = []
    seen: dict[tuple[str, ...], int] = {}
    matched: set[UUID] = set()
    for r in rows:
        found = by_key.get(r.key)
        if r.key in seen:
            findings.append(
                Finding(DUPLICATE, r.row, found, "身份证号码", r.shown, f"同第{seen[r.key]}行")
            )
            continue
        seen[r.key] = r.row
        if found is None:
            findings.append(
                Finding(PAPER_ONLY, r.row, None, "户主姓名", r.fields.get("head_name", ""), "")
            )
            continue
        matched.add(found)
        findings += compare_row(r.row, found, r.fields, electronic_fields(files[found]))
    for file_id in sorted(set(files) - matched):
        findings.append(
            Finding(ELECTRONIC_ONLY, None, file_id, "户主姓名", "", files[file_id].head.name)
        )
    return findings, len(matched)


Progress = Callable[[int, int], None]  # (files read, files to read)


async def candidates(conn: Conn, scope: UnitCode, cutoff: datetime) -> list[UUID]:
    """Every file that was in `scope`'s subtree at some point before `cutoff`, in id order."""
    return sorted(r[0] for r in await conn.fetch(_CANDIDATES, scope.value, cutoff))


async def folded_events(
    conn: Conn, ids: Sequence[UUID], cutoff: datetime
) -> AsyncIterator[list[asyncpg.Record]]:
    """What the fold reads of the files `ids` (in id order): the events of `as_of.FOLDED` recorded
    before `cutoff`, as (stream_id, version, type, payload, recorded_at, unit), stream by stream
    in version order, `READ_BATCH` at a time through a cursor (inside the caller's transaction)."""
    types = sorted(as_of.FOLDED)
    # Each query is planned for its own list of files. The generic plan a prepared statement
    # falls back to after five runs assumes a handful of ids: a bitmap heap scan that, for tens
    # of thousands of files, turns lossy and re-tests every row it reads against the whole list
    # (100,000 files in one query: 100 s instead of 5) and then sorts. Planned for the list, it
    # is a scan of the primary key, already in the order the fold needs.
    await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
    for start in range(0, len(ids), FILES_A_QUERY):
        cursor = await conn.cursor(
            _FOLDED_EVENTS, ids[start : start + FILES_A_QUERY], types, cutoff
        )
        while batch := await cursor.fetch(READ_BATCH):
            yield batch


async def files_as_of(
    store: PostgresEventStore,
    codec: EventCodec,
    scope: UnitCode,
    cutoff: datetime,
    *,
    progress: Progress | None = None,
) -> dict[UUID, as_of.FileAsOf]:
    """Every file whose unit was within `scope` just before `cutoff`, folded from its events
    recorded before it (`projections.as_of`)."""
    decode = codec.decode_fields
    step = as_of.step
    found: dict[UUID, as_of.FileAsOf] = {}

    def keep(row: as_of.FileAsOf | None) -> None:
        if row is not None and UnitCode(row.unit).is_within(scope):
            found[row.file_id] = row

    # One snapshot for finding the files and reading them. What is folded lives to the end, and
    # the cyclic collector would walk all of it again at every full collection (on a province,
    # about as long as the fold itself). Frozen after each batch, it leaves the collector's view,
    # as in a rebuild (`adapters.pg.projector._fill`); unfrozen at the end.
    try:
        async with (
            store.pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            ids = await candidates(conn, scope, cutoff)
            current: UUID | None = None
            row: as_of.FileAsOf | None = None
            done = 0
            async for batch in folded_events(conn, ids, cutoff):
                if store.keyring is not None:  # the data keys of the batch's sealed fields
                    await store.keyring.load_for(((r[0], r[2], r[3]) for r in batch), conn)
                for stream_id, version, type_name, payload, recorded_at, unit in batch:
                    if stream_id != current:  # a stream's events are together: the last is done
                        keep(row)
                        current, row, done = stream_id, None, done + 1
                    fields = decode(type_name, payload, stream_id)
                    row = step(
                        row, Change(stream_id, version, type_name, fields, recorded_at, unit)
                    )
                if progress is not None:
                    progress(done, len(ids))
                gc.freeze()
            keep(row)
    finally:
        gc.unfreeze()
    if progress is not None:
        progress(len(ids), len(ids))
    return found


async def files_on(
    store: PostgresEventStore,
    codec: EventCodec,
    scope: UnitCode,
    day: date,
    *,
    progress: Progress | None = None,
) -> dict[UUID, as_of.FileAsOf]:
    """Every file of `scope`'s subtree as recorded by the end of `day` (Beijing time)."""
    return await files_as_of(store, codec, scope, end_of_day(day), progress=progress)


async def reconcile(
    *,
    store: PostgresEventStore,
    codec: EventCodec,
    hasher: Callable[[str], bytes],
    actor: Actor,
    scope: str,
    ledger_date: date,
    data: bytes,
    name: str,
    progress: Progress | None = None,
) -> Reconciliation:
    """Read the ledger, compare it with the subtree's files on `ledger_date`, record the run.
    `progress` hears how many of the files have been read, as the read goes."""
    unit = UnitCode(scope)
    authorise_reconciliation(actor, unit)
    # The sheet is read in a worker thread while the files are read from the database: the read
    # of the files spends much of its time waiting on the server, and the sheet's work fills
    # those waits (and a large workbook does not hold up the event loop). A sheet that is no
    # table stops the read of the files.
    reading = asyncio.ensure_future(asyncio.to_thread(read_paper, data, name, hasher))
    folding = asyncio.ensure_future(files_on(store, codec, unit, ledger_date, progress=progress))
    try:
        paper = await reading
        files = await folding
    finally:
        if not folding.done():
            folding.cancel()
            await asyncio.gather(folding, return_exceptions=True)  # its connection back first
    findings, matched = match(paper.rows, files, hasher)
    run = Reconciliation.start(
        actor=actor,
        scope=unit.value,
        ledger_date=ledger_date,
        source=Source(name[:200], paper.read, hashlib.sha256(data).hexdigest()),
    )
    run.record([*paper.unreadable, *findings])
    run.complete(rows=paper.read, matched=matched, files=len(files))
    await PgFileRepository(store, codec).record(run)
    log.info(
        "reconciliation.completed",
        reconciliation_id=str(run.id),
        scope=unit.value,
        rows=paper.read,
        findings=len(run.findings),
    )
    return run


async def load_reconciliation(
    store: PostgresEventStore, codec: EventCodec, run_id: UUID
) -> Reconciliation:
    events = await store.read_stream(run_id)
    if not events or events[0].type != "reconciliation.started":
        raise NotFound(f"no reconciliation {run_id}", zh="核对记录不存在")
    return cast(Reconciliation, replay(codec, events))


# ------------------------------------------------------------------------------ reports


def report_json(run: Reconciliation) -> dict[str, Any]:
    """The report as JSON-ready data."""
    summary = run.summary
    return {
        "id": str(run.id),
        "unit": run.actor.unit,
        "scope": run.scope,
        "ledger_date": run.ledger_date.isoformat(),
        "source": {"name": run.source.name, "rows": run.source.rows, "sha256": run.source.digest},
        "rows": summary.rows if summary else 0,
        "matched": summary.matched if summary else 0,
        "files": summary.files if summary else 0,
        "by_kind": summary.by_kind if summary else {},
        "findings": [
            {
                "kind": f.kind,
                "kind_zh": KINDS[f.kind],
                "row": f.row,
                "file_id": str(f.file_id) if f.file_id else None,
                "field": f.field,
                "paper": f.paper,
                "electronic": f.electronic,
            }
            for f in run.findings
        ],
    }


def write_xlsx(run: Reconciliation, out: IO[bytes]) -> None:
    """The report as a workbook: 核对汇总 (summary) and 差异清单 (every finding)."""
    from openpyxl import Workbook  # noqa: PLC0415 — only reports need it

    book = Workbook(write_only=True)
    summary = book.create_sheet("核对汇总")
    data = report_json(run)
    for key, value in (
        ("核对编号", data["id"]),
        ("核对单位", data["unit"]),
        ("核对范围", data["scope"]),
        ("台账日期", data["ledger_date"]),
        ("台账文件", data["source"]["name"]),
        ("台账行数", data["rows"]),
        ("匹配行数", data["matched"]),
        ("电子档案数", data["files"]),
    ):
        summary.append([key, value])
    for kind, count in data["by_kind"].items():
        summary.append([KINDS[kind], count])
    sheet = book.create_sheet("差异清单")
    sheet.append(["类型", "台账行号", "档案编号", "字段", "纸质台账", "电子档案"])
    for f in data["findings"]:
        sheet.append(
            [f["kind_zh"], f["row"], f["file_id"], f["field"], f["paper"], f["electronic"]]
        )
    book.save(out)
