"""Bulk import of existing files (一户一档 from the spreadsheets unions already keep), with their
history: application, home investigation, appraisal and publicity, approval — each with its
original date — through the domain's own commands, so every rule applies as if the steps had
been recorded on the day; `today` is the run date, and the poverty line is the one in force in
the household's region on each original date (`domain.policy.PolicyBook`).

Each row becomes one file or nothing: the file is built in memory and only a file whose every
step passed is saved, so a refused row leaves no trace (reported with row, column and reason).
Files are saved in batches through the store's bulk path (`save_many` → COPY). Re-running the
same import creates nothing twice: a file's id is derived from its unit and the normalised ID
number (`file_id_for`), and a file that already exists is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid5

import structlog

from adapters import sheets
from adapters.codec import EventCodec
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from domain.authorization import Act, authorise
from domain.eligibility import Exclusions
from domain.errors import DomainError, InvalidValue
from domain.household import Head, HouseholdFile, Member
from domain.policy import PolicyBook
from domain.units import UnitCode
from domain.values import (
    Actor,
    Cause,
    FileLevel,
    Level,
    MemberStatus,
    Relation,
    Role,
    WorkerKind,
)

log = structlog.get_logger(__name__)
NAMESPACE = UUID("0f8e4c1a-3b52-5d6e-9a7b-62616e677566")  # fixed: imported file ids are derived
SAVE_BATCH = 2000

IMPORT_COLUMNS = sheets.Columns(
    {
        "head_name": ("户主姓名", "姓名", "职工姓名"),
        "id_number": ("身份证号码", "身份证号", "公民身份号码"),
        "phone": ("联系电话", "电话", "手机号码"),
        "employer": ("工作单位", "单位"),
        "address": ("家庭地址", "家庭住址", "住址"),
        "unit": ("基层工会代码", "工会代码", "建档工会代码"),
        "worker_kind": ("职工类别", "职工类型"),
        "applied_on": ("申请时间", "申请日期", "建档时间", "建档日期"),
        "verified_on": ("入户调查时间", "调查时间", "入户调查日期"),
        "investigators": ("调查人", "调查人员"),
        "members": ("家庭成员",),
        "annual_income": ("家庭年收入", "家庭年总收入", "年收入(元)", "家庭年收入(元)"),
        "rigid_expenses": ("刚性支出", "刚性支出(元)"),
        "causes": ("致困原因", "困难原因"),
        "appraised_on": ("评议时间", "民主评议时间", "评议日期"),
        "publicity_start": ("公示开始", "公示开始时间"),
        "publicity_end": ("公示结束", "公示结束时间"),
        "approved_on": ("审批时间", "审批日期", "认定时间"),
        "file_level": ("档案级别", "建档级别"),
    },
    required=("head_name", "id_number", "applied_on"),
)
# Domain field paths → the column a refusal is reported under.
_FIELD_COLUMNS = {
    "head.name": "head_name",
    "head.id_number": "id_number",
    "head.phone": "phone",
    "head.employer": "employer",
    "head.address": "address",
    "establishing_unit": "unit",
    "applied_on": "applied_on",
    "verified_on": "verified_on",
    "investigators": "investigators",
    "annual_income": "annual_income",
    "rigid_expenses": "rigid_expenses",
    "primary_cause": "causes",
    "secondary_causes": "causes",
    "causes": "causes",
    "appraised_on": "appraised_on",
    "publicity_start": "publicity_start",
    "publicity_end": "publicity_end",
    "approved_on": "approved_on",
    "file_level": "file_level",
    "poverty_line": "approved_on",
}


def file_id_for(unit: str, id_number: str) -> UUID:
    """The id an imported file gets: the same unit and person always give the same file."""
    return uuid5(NAMESPACE, f"import:{unit}:{id_number}")


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    skipped: int = 0  # already imported (same unit and ID number)
    events: int = 0
    refused: list[sheets.RowError] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "created": self.created,
            "skipped": self.skipped,
            "events": self.events,
            "refused": [
                {"row": e.row, "column": e.column, "reason": e.reason} for e in self.refused
            ],
        }


def _members(value: str, column: str) -> tuple[Member, ...]:
    """家庭成员: '王某/配偶/130306198002030021/无业；李某/子女/…/学生' (name/relation/ID/status)."""
    found = []
    for part in (p.strip() for p in value.replace("；", ";").split(";")):
        if not part:
            continue
        bits = [b.strip() for b in part.split("/")]
        if len(bits) != 4:
            raise sheets.CellError(column, f"成员应为 姓名/关系/身份证号码/状态：{part}")
        relation = sheets.enum_by_label(Relation, bits[1], column, required=True)
        status = sheets.enum_by_label(MemberStatus, bits[3], column, required=True)
        assert relation is not None  # noqa: S101 — required above
        assert status is not None  # noqa: S101 — required above
        found.append(Member(bits[0], relation, sheets.id_number(bits[2], column), status))
    return tuple(found)


def build_file(
    cells: Mapping[str, str],
    *,
    base: str,
    importer: Actor,
    book: PolicyBook,
    today: date,
) -> HouseholdFile:
    """One row's file with its history, through the domain's commands (pure); raises
    `sheets.CellError` or a `DomainError` naming what is wrong."""
    h = IMPORT_COLUMNS.header
    number = sheets.id_number(cells["id_number"], h("id_number"))
    clerk = Actor(importer.user, base, Role.CLERK)
    kind = sheets.enum_by_label(WorkerKind, cells.get("worker_kind", ""), h("worker_kind"))
    applied_on = sheets.day(cells["applied_on"], h("applied_on"), required=True)
    assert applied_on is not None  # noqa: S101 — required above
    household = HouseholdFile.receive_application(
        file_id=file_id_for(base, number),
        actor=clerk,
        establishing_unit=base,
        worker_kind=kind or WorkerKind.URBAN,
        head=Head(
            name=cells["head_name"],
            id_number=number,
            phone=cells.get("phone", ""),
            employer=cells.get("employer", ""),
            address=cells.get("address", ""),
        ),
        applied_on=applied_on,
        authorisation_signed=True,
        statement="批量导入既有档案",
        today=today,
    )
    region = household.region
    verified_on = sheets.day(cells.get("verified_on", ""), h("verified_on"))
    if verified_on is None:
        return household
    causes = [
        sheets.enum_by_label(Cause, c, h("causes"), required=True)
        for c in sheets.split_list(cells.get("causes", ""))
    ] or [Cause.OTHER]
    household.verify(
        actor=clerk,
        verified_on=verified_on,
        investigators=tuple(sheets.split_list(cells.get("investigators", ""))),
        members=_members(cells.get("members", ""), h("members")),
        annual_income=sheets.amount(
            cells.get("annual_income", ""), h("annual_income"), required=True
        )
        or Decimal(0),
        rigid_expenses=sheets.amount(cells.get("rigid_expenses", ""), h("rigid_expenses"))
        or Decimal(0),
        exclusions=Exclusions(),
        primary_cause=causes[0] or Cause.OTHER,
        secondary_causes=tuple(c for c in causes[1:] if c),
        poverty_line=book.in_force(region, verified_on).poverty_line,
        today=today,
    )
    appraised_on = sheets.day(cells.get("appraised_on", ""), h("appraised_on"))
    if appraised_on is None:
        return household
    household.appraise(
        actor=clerk,
        appraised_on=appraised_on,
        minutes_on_file=True,
        publicity_start=sheets.day(
            cells.get("publicity_start", ""), h("publicity_start"), required=True
        ),  # type: ignore[arg-type]
        publicity_end=sheets.day(cells.get("publicity_end", ""), h("publicity_end"), required=True),  # type: ignore[arg-type]
        today=today,
    )
    approved_on = sheets.day(cells.get("approved_on", ""), h("approved_on"))
    if approved_on is None:
        return household
    level = sheets.enum_by_label(FileLevel, cells.get("file_level", ""), h("file_level"))
    household.approve(
        actor=importer,
        approved_on=approved_on,
        file_level=level or FileLevel.DISTRICT,
        poverty_line=book.in_force(region, approved_on).poverty_line,
        today=today,
    )
    return household


def refusal(row: int, error: Exception) -> sheets.RowError:
    """A refused row's column and reason, from a cell error or a domain refusal."""
    h = IMPORT_COLUMNS.header
    if isinstance(error, sheets.CellError):
        return sheets.RowError(row, error.column, error.reason)
    if isinstance(error, DomainError):
        name = (error.field or "").split("[")[0]
        column = h(_FIELD_COLUMNS[name]) if name in _FIELD_COLUMNS else (error.field or "")
        if name.startswith("members"):
            column = h("members")
        return sheets.RowError(row, column, error.zh)
    raise error


async def existing(store: PostgresEventStore, ids: list[UUID]) -> set[UUID]:
    rows = await store.pool.fetch(
        "SELECT stream_id FROM events WHERE stream_id = ANY($1::uuid[]) AND version = 1", ids
    )
    return {r["stream_id"] for r in rows}


async def import_files(
    *,
    store: PostgresEventStore,
    codec: EventCodec,
    book: PolicyBook,
    actor: Actor,
    unit: str,
    data: bytes,
    name: str,
    today: date,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import every good row of the sheet as a file with its history; report the others.

    `actor` is the importing approver (district or above, holding `unit`): it is recorded as
    the approver, and as the clerk of the base-level union for the earlier steps."""
    scope = UnitCode(unit)
    authorise(actor, Act.APPROVE, scope)
    if actor.role is not Role.APPROVER:
        raise InvalidValue("role", "imports are run by an approver", zh="批量导入须由审核人员办理")
    try:
        table = sheets.read_table(sheets.grid_of(data, name), IMPORT_COLUMNS)
    except sheets.CellError as error:
        raise InvalidValue("file", error.reason, zh=error.reason) from None
    except (ValueError, KeyError, OSError) as error:
        raise InvalidValue("file", f"unreadable: {error}", zh="无法读取该表格文件") from None
    report = ImportReport(rows=len(table.rows))
    repository = PgFileRepository(store, codec)
    seen: dict[UUID, int] = {}
    for start in range(0, len(table.rows), SAVE_BATCH):
        built: list[HouseholdFile] = []
        for row, cells in table.rows[start : start + SAVE_BATCH]:
            try:
                base = cells.get("unit") or scope.value
                base_unit = UnitCode(base)
                if base_unit.level is not Level.BASE or not base_unit.is_within(scope):
                    raise sheets.CellError(  # noqa: TRY301 — reported like any refused cell
                        IMPORT_COLUMNS.header("unit"), f"{base}不是{scope}下属的基层工会"
                    )
                household = build_file(cells, base=base, importer=actor, book=book, today=today)
            except (sheets.CellError, DomainError) as error:
                report.refused.append(refusal(row, error))
                continue
            if household.id in seen:
                report.refused.append(
                    sheets.RowError(
                        row, IMPORT_COLUMNS.header("id_number"), f"与第{seen[household.id]}行重复"
                    )
                )
                continue
            seen[household.id] = row
            built.append(household)
        present = await existing(store, [f.id for f in built])
        fresh = [f for f in built if f.id not in present]
        report.skipped += len(built) - len(fresh)
        report.events += sum(f.version for f in fresh)
        if fresh:
            await repository.save_many(fresh)
        report.created += len(fresh)
        if progress is not None:
            progress(min(start + SAVE_BATCH, len(table.rows)), len(table.rows))
    log.info(
        "import.completed",
        unit=scope.value,
        rows=report.rows,
        created=report.created,
        skipped=report.skipped,
        refused=len(report.refused),
    )
    return report
