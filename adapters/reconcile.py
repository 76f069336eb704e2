"""Reconciling a paper ledger (台账) against the electronic files of a subtree, as they stood on
the ledger's date.

The ledger is read with `adapters.sheets` (the headers of `adapters.exports`, so a ledger this
system exported reads back). The electronic side is NOT today's ledger read model: every file with
a household event filed under the subtree is read once (in batches, `read_streams`) and replayed
from its events recorded up to the end of the ledger's date (Beijing time), so a file that
changed status since then is compared as it was. Rows match files by the keyed hash of the
head's normalised ID number (`domain.privacy.keyed_hash`); a ledger exported by this system
carries masked numbers ("130306********002X"), which match by the masked number and the head's
name instead.

The run and its findings are recorded in the checking unit's reconciliation stream (each finding
refers to its file), in one append; `report_json` and `write_xlsx` give the report.
"""

# ruff: noqa: S608 — the SQL here is built from constants and `subtree_sql` only.

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO, Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog

from adapters import sheets
from adapters.codec import EventCodec
from adapters.pg.repository import PgFileRepository, replay
from adapters.pg.store import PostgresEventStore
from domain.errors import InvalidValue, NotFound
from domain.household import HouseholdFile
from domain.privacy import mask_id
from domain.reconciliation import (
    COMPARED,
    DUPLICATE,
    ELECTRONIC_ONLY,
    KINDS,
    PAPER_ONLY,
    UNREADABLE,
    Finding,
    Reconciliation,
    Source,
    authorise_reconciliation,
    compare_row,
    electronic_fields,
)
from domain.units import UnitCode, subtree_sql
from domain.values import Actor

log = structlog.get_logger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")
READ_BATCH = 2000
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

_FILES = (
    "SELECT DISTINCT stream_id FROM events WHERE type LIKE 'household.%'"
    f" AND {subtree_sql('unit', '$1')} AND recorded_at < $2"
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


def match(
    rows: Sequence[PaperRow], files: Mapping[UUID, HouseholdFile], hasher: Callable[[str], bytes]
) -> tuple[list[Finding], int]:
    """Every finding of the paper rows against the files replayed on the ledger's date (pure
    given the replayed files), and how many rows matched a file."""
    by_key: dict[tuple[str, ...], UUID] = {}
    for file_id, household in files.items():
        number = household.head.id_number
        by_key[("hash", hasher(number).hex())] = file_id
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


async def files_on(
    store: PostgresEventStore, codec: EventCodec, scope: UnitCode, day: date
) -> dict[UUID, HouseholdFile]:
    """Every file of `scope`'s subtree as recorded by the end of `day`, replayed."""
    cutoff = end_of_day(day)
    ids = [r["stream_id"] for r in await store.pool.fetch(_FILES, scope.value, cutoff)]
    found: dict[UUID, HouseholdFile] = {}
    for start in range(0, len(ids), READ_BATCH):
        streams = await store.read_streams(ids[start : start + READ_BATCH])
        for file_id, events in streams.items():
            until = [e for e in events if e.recorded_at < cutoff]
            household = replay(codec, until) if until else None
            if isinstance(household, HouseholdFile) and UnitCode(
                household.establishing_unit
            ).is_within(scope):
                found[file_id] = household
    return found


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
) -> Reconciliation:
    """Read the ledger, compare it with the subtree's files on `ledger_date`, record the run."""
    unit = UnitCode(scope)
    authorise_reconciliation(actor, unit)
    try:
        table = sheets.read_table(sheets.grid_of(data, name), LEDGER_COLUMNS)
    except sheets.CellError as error:
        raise InvalidValue("file", error.reason, zh=error.reason) from None
    except (ValueError, KeyError, OSError) as error:  # not a workbook or csv at all
        raise InvalidValue("file", f"unreadable: {error}", zh="无法读取该表格文件") from None
    rows, unreadable = paper_rows(table, hasher)
    files = await files_on(store, codec, unit, ledger_date)
    findings, matched = match(rows, files, hasher)
    run = Reconciliation.start(
        actor=actor,
        scope=unit.value,
        ledger_date=ledger_date,
        source=Source(name[:200], len(table.rows), hashlib.sha256(data).hexdigest()),
    )
    run.record([*unreadable, *findings])
    run.complete(rows=len(table.rows), matched=matched, files=len(files))
    await PgFileRepository(store, codec).record(run)
    log.info(
        "reconciliation.completed",
        reconciliation_id=str(run.id),
        scope=unit.value,
        rows=len(table.rows),
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
