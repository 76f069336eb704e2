"""Routes over the read models: the ledger (and its xlsx export), statistics, the approval
queue, the due lists and the duplicates.

Each answers for one subtree: the caller's unit, or a `unit` within it (a unit outside it does
not exist for the caller: 404). Every role that may read files may read these; a machine account
for sync may not (403, rule `role`). The queries themselves are in `adapters.pg.reads`.

Like `app.py`, this module does not use `from __future__ import annotations`: litestar resolves
the handlers' parameter types when the routes are built.
"""

import asyncio
import base64
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO, Annotated, Any
from urllib.parse import quote

import asyncpg
from litestar import get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from adapters.http.schemas import (
    DueItem,
    DueKind,
    DueOut,
    DuplicateFileOut,
    DuplicateOut,
    DuplicatesOut,
    Figure,
    FlowFigure,
    FlowGroup,
    LedgerItem,
    LedgerPage,
    LedgerSort,
    QueueOut,
    StatsOut,
    StockGroup,
    UnitFigures,
)
from adapters.pg import reads
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.bootstrap import Runtime
from adapters.sheets import ledger as exports
from adapters.sheets.ledger import labelled
from domain.authorization import Act, authorise
from domain.civil_affairs import Record, finding_label, record_label
from domain.errors import InvalidValue, NotFound
from domain.units import UnitCode
from domain.values import (
    Actor,
    Category,
    Cause,
    DisabilityKind,
    ExitKind,
    FileLevel,
    Level,
    ModelWorker,
    PoliticalStatus,
    Sex,
    Status,
    WorkerKind,
    label,
)
from projections.ledger import REGULAR_AID

API = "/api/v1"
PERIOD = r"^\d{4}(-(0[1-9]|1[0-2]))?$"

Unit = Annotated[
    str | None,
    QueryParameter(
        description="a unit code within the caller's subtree (default: the caller's unit)",
        max_length=30,
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="at most this many items")]
# Default pages: a body that does not grow with the province (issue 18, docs/benchmarks.md
# "Growth"); `limit` still takes up to 1,000 and `next` reaches the rest.
DUE_PAGE = 50
QUEUE_PAGE = 50
DUPLICATES_PAGE = 50  # people (each with every file of theirs the caller sees)
STATS_PAGE = 20
Cursor = Annotated[
    str | None,
    QueryParameter(
        max_length=1024,
        description="the `next` of the previous page (with the same parameters); none for the "
        "first page",
    ),
]


async def scope(actor: Actor, unit: str | None, units: PgUnitDirectory) -> UnitCode:
    """The root of the subtree asked about: the caller's unit or a unit within it.

    Outside the caller's subtree, or not registered, a unit is 404; a role that may not read
    files is 403.
    """
    root = UnitCode(actor.unit if unit is None else unit)
    authorise(actor, Act.READ, root)
    if unit is not None and unit != actor.unit and not await units.exists(unit):
        raise NotFound(f"no unit {unit}", zh="单位不存在")
    return root


def ledger_item(row: asyncpg.Record | dict[str, Any]) -> LedgerItem:
    return LedgerItem(**_ledger_fields(row))


def _ledger_fields(row: Any) -> dict[str, Any]:
    secondary = list(row["secondary_causes"] or ())
    kinds = list(row["civil_affairs"] or ())
    to_act = list(row["civil_affairs_to_act"] or ())
    return {
        "file_id": row["file_id"],
        "unit": row["unit"],
        "unit_name": row["unit_name"],
        "district": row["district"],
        "status": row["status"],
        "status_label": labelled(Status, row["status"]),
        "regular_aid": row["status"] in REGULAR_AID,
        "category": row["category"],
        "category_label": labelled(Category, row["category"]),
        "file_level": row["file_level"],
        "file_level_label": labelled(FileLevel, row["file_level"]),
        "worker_kind": row["worker_kind"],
        "worker_kind_label": labelled(WorkerKind, row["worker_kind"]),
        "primary_cause": row["primary_cause"],
        "primary_cause_label": labelled(Cause, row["primary_cause"]),
        "secondary_causes": secondary,
        "secondary_cause_labels": [labelled(Cause, c) for c in secondary],
        "head_name": row["head_name"],
        "head_sex": row["head_sex"],
        "head_sex_label": labelled(Sex, row["head_sex"]),
        "id_masked": row["id_masked"],
        "phone_masked": row["phone_masked"],
        "employer": row["employer"],
        "address": row["address"],
        "applied_on": row["applied_on"],
        "approved_on": row["approved_on"],
        "last_assisted_on": row["last_assisted_on"],
        "last_visited_on": row["last_visited_on"],
        "next_recheck_due": row["next_recheck_due"],
        "exited_on": row["exited_on"],
        "exit_kind": row["exit_kind"],
        "exit_kind_label": labelled(ExitKind, row["exit_kind"]),
        "assistance_count": row["assistance_count"],
        "assistance_total": row["assistance_total"],
        "returns": row["returns"],
        "version": row["version"],
        "updated_at": row["updated_at"],
        "civil_affairs": kinds,
        "civil_affairs_labels": [record_label(k) for k in kinds],
        "civil_affairs_on": row["civil_affairs_on"],
        "civil_affairs_to_act": to_act,
        "civil_affairs_to_act_labels": [finding_label(r) for r in to_act],
        "exit_due": row["exit_due"],
        "exit_due_on": row["exit_due_on"],
        "category_pending": row["category_pending"],
        "category_pending_label": labelled(Category, row["category_pending"]),
        "political_status": row["political_status"],
        "political_status_label": labelled(PoliticalStatus, row["political_status"]),
        "model_worker": row["model_worker"],
        "model_worker_label": labelled(ModelWorker, row["model_worker"]),
        "dilapidated": row["dilapidated"],
    }


@dataclass(frozen=True)
class ProfileFilter:
    """The ledger's filters on the head's profile (issue 14): political status, model-worker
    title, disability kind (each any of the given), and whether the household lives in a 危房."""

    political_status: Sequence[PoliticalStatus] | None = None
    model_worker: Sequence[ModelWorker] | None = None
    disability: Sequence[DisabilityKind] | None = None
    dilapidated: bool | None = None


def _values(values: Sequence[Any] | None) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


def ledger_filter(
    root: UnitCode,
    *,
    status: Sequence[Status] | None = None,
    category: Sequence[Category] | None = None,
    file_level: Sequence[FileLevel] | None = None,
    cause: Sequence[Cause] | None = None,
    worker_kind: Sequence[WorkerKind] | None = None,
    q: str | None = None,
    civil_affairs: Sequence[Record] | None = None,
    civil_affairs_to_act: bool | None = None,
    profile: ProfileFilter | None = None,
) -> reads.LedgerFilter:
    p = profile or ProfileFilter()
    return reads.LedgerFilter(
        root=root.value,
        statuses=_values(status),
        categories=_values(category),
        file_levels=_values(file_level),
        causes=_values(cause),
        worker_kinds=_values(worker_kind),
        name=q.strip() or None if q else None,
        civil_affairs=_values(civil_affairs),
        civil_affairs_to_act=civil_affairs_to_act,
        political_statuses=_values(p.political_status),
        model_workers=_values(p.model_worker),
        disabilities=_values(p.disability),
        dilapidated=p.dilapidated,
    )


# The statistics' dimensions and metrics, with their labels and the codes their keys are.
DIMENSIONS: tuple[tuple[str, str, Any], ...] = (
    ("status", "档案状态", Status),
    ("category", "困难类别（在档）", Category),
    ("file_level", "档案级别（在档）", FileLevel),
    ("cause", "主要致困原因（在档）", Cause),
    ("worker_kind", "职工类别（在档）", WorkerKind),
    ("regular_aid", "常态化帮扶（在档及解困）", Status),
)
METRICS: tuple[tuple[str, str, Any], ...] = (
    ("new", "新建档", None),
    ("exit", "退出", ExitKind),
    ("return", "返困", None),
    ("assistance", "帮扶（按困难类别）", Category),
    ("assistance_by_status", "帮扶（在档或解困）", Status),
)


def _key_label(kind: Any, key: str, fallback: str) -> str:
    if kind is None or not key:
        return fallback
    return labelled(kind, key) or key


def _order(kind: Any, key: str) -> tuple[int, str]:
    codes = [m.value for m in kind] if kind is not None else []
    return (codes.index(key) if key in codes else len(codes), key)


def unit_figures(code: str, name: str | None, figures: reads.Figures, level: Level) -> UnitFigures:
    """A unit's figures with its stored `level` (domain/units.py `Units`)."""
    stock = []
    for dimension, title, kind in DIMENSIONS:
        rows = sorted(
            (r for r in figures.stock if r[0] == dimension), key=lambda r: _order(kind, r[1])
        )
        stock.append(
            StockGroup(
                dimension=dimension,
                label=title,
                figures=[
                    Figure(key=key, label=_key_label(kind, key, "未定"), count=count)
                    for _, key, count in rows
                ],
            )
        )
    flow = []
    for metric, title, kind in METRICS:
        rows_f = sorted(
            (r for r in figures.flow if r[0] == metric), key=lambda r: _order(kind, r[1])
        )
        flow.append(
            FlowGroup(
                metric=metric,
                label=title,
                figures=[
                    FlowFigure(
                        key=key,
                        label=_key_label(kind, key, title if kind is None else "未定类别"),
                        count=count,
                        amount=amount,
                    )
                    for _, key, count, amount in rows_f
                ],
            )
        )
    return UnitFigures(
        unit=code,
        name=name,
        level=level.value,
        level_label=label(level),
        stock=stock,
        flow=flow,
    )


async def _chunks(spool: IO[bytes], size: int = 1 << 20) -> AsyncIterator[bytes]:
    """The spooled workbook in chunks of a megabyte; the file is closed (and so removed) at
    the end, or when the client goes away."""
    try:
        while chunk := await asyncio.to_thread(spool.read, size):
            yield chunk
    finally:
        spool.close()


def ledger_disposition(root: UnitCode, today: date) -> str:
    ascii_name = f"ledger-{root.value}-{today.isoformat()}.xlsx"
    chinese = f"困难职工档案台账-{root.value}-{today.isoformat()}.xlsx"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese)}"


def _encode_stats_cursor(code: str | None) -> str | None:
    return None if code is None else base64.urlsafe_b64encode(code.encode()).decode()


def _stats_cursor(text: str | None) -> str | None:
    """The unit code a `next` of `GET /stats` stands for."""
    if not text:
        return None
    try:
        return UnitCode(base64.urlsafe_b64decode(text.encode()).decode()).value
    except (ValueError, UnicodeError, InvalidValue):
        raise InvalidValue(
            "cursor", "not a cursor this listing returned", zh="分页游标无效"
        ) from None


async def ledger_workbook(
    rt: Runtime, root: UnitCode, where: reads.LedgerFilter, sort: LedgerSort
) -> Stream:
    """The ledger rows of `where` as an xlsx workbook, streamed (the API's `ledger.xlsx` and the
    console's download alike)."""
    # Written to a temporary file first (a province's workbook is tens of megabytes: not
    # held in memory), then streamed out and removed.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 — closed by the stream below
    try:
        await exports.write_ledger(
            reads.ledger_rows(
                rt.pool, where, sort=sort.value.lstrip("-"), descending=sort.value[0] == "-"
            ),
            spool,
        )
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return Stream(
        _chunks(spool),
        media_type=exports.MEDIA_TYPE,
        headers={
            "Content-Disposition": ledger_disposition(root, rt.clock.today()),
            "Content-Length": str(size),
        },
    )


READ_PROBLEMS = frozenset({400, 401, 403, 404, 422, 429})


def routes(problems: dict[int, ResponseSpec]) -> list[Any]:
    """The read-model route handlers, documenting those of the API's `problems` a read can
    answer with."""
    responses = {status: spec for status, spec in problems.items() if status in READ_PROBLEMS}

    @get(
        f"{API}/ledger",
        responses=responses,
        tags=["read models"],
        summary="台账 — the ledger of a subtree, filtered, sorted, in pages",
        description="One row per household file in the subtree of `unit` (default: the "
        "caller's unit). Filters take one or more values each (`status=approved&status="
        "appraised`); `cause` matches the primary or a secondary cause; `q` is a part of the "
        "head's name. `civil_affairs` keeps the files that civil-affairs matching (民政比对) found "
        "in any of the given records (`dibao`, `property`, `vehicle`, `business`, `death`); "
        "`civil_affairs_to_act=true` keeps the files with a finding a clerk must still act on "
        "(`false`, those without). `political_status`, `model_worker` and `disability` (its "
        "kind) filter by the head's profile, `dilapidated=true` keeps households in a 危房. "
        "`sort` is one of the listed keys, `-` in front for "
        "descending. Pages are "
        "keyset-paginated: pass the `next` of a page as `cursor` (with the same filters and "
        "sort) until it is null. ID numbers and phones are masked.",
    )
    async def read_ledger(
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        units: NamedDependency[PgUnitDirectory],
        unit: Unit = None,
        status: FromQuery[list[Status] | None] = None,
        category: FromQuery[list[Category] | None] = None,
        file_level: FromQuery[list[FileLevel] | None] = None,
        cause: FromQuery[list[Cause] | None] = None,
        worker_kind: FromQuery[list[WorkerKind] | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        civil_affairs: FromQuery[list[Record] | None] = None,
        civil_affairs_to_act: FromQuery[bool | None] = None,
        political_status: FromQuery[list[PoliticalStatus] | None] = None,
        model_worker: FromQuery[list[ModelWorker] | None] = None,
        disability: FromQuery[list[DisabilityKind] | None] = None,
        dilapidated: FromQuery[bool | None] = None,
        sort: FromQuery[LedgerSort] = LedgerSort.APPLIED_ON,
        cursor: Cursor = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> LedgerPage:
        root = await scope(actor, unit, units)
        where = ledger_filter(
            root,
            status=status,
            category=category,
            file_level=file_level,
            cause=cause,
            worker_kind=worker_kind,
            q=q,
            civil_affairs=civil_affairs,
            civil_affairs_to_act=civil_affairs_to_act,
            profile=ProfileFilter(political_status, model_worker, disability, dilapidated),
        )
        name, descending = sort.value.lstrip("-"), sort.value.startswith("-")
        after = reads.Cursor.decode(cursor, name) if cursor else None
        rows, following = await reads.ledger_page(
            rt.pool, where, sort=name, descending=descending, after=after, limit=limit
        )
        return LedgerPage(
            items=[ledger_item(r) for r in rows],
            next=following.encode() if following else None,
        )

    @get(
        f"{API}/ledger.xlsx",
        responses=responses,
        tags=["read models"],
        media_type=exports.MEDIA_TYPE,
        summary="台账导出 — the ledger as an xlsx workbook",
        description="The same rows as `GET /ledger` with the same filters and sort, all of "
        "them, in a workbook with the Chinese headers of the source ledgers (序号, 户主姓名, "
        "性别, 身份证号码, 联系电话, 工作单位, 家庭地址, 建档时间, 档案级别, 困难类别, 致困原因, "
        "状态, …), civil-affairs matching last (民政比对, 民政比对日期, 民政比对待处理). ID "
        "numbers and phones are masked.",
    )
    async def export_ledger(
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        units: NamedDependency[PgUnitDirectory],
        unit: Unit = None,
        status: FromQuery[list[Status] | None] = None,
        category: FromQuery[list[Category] | None] = None,
        file_level: FromQuery[list[FileLevel] | None] = None,
        cause: FromQuery[list[Cause] | None] = None,
        worker_kind: FromQuery[list[WorkerKind] | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        civil_affairs: FromQuery[list[Record] | None] = None,
        civil_affairs_to_act: FromQuery[bool | None] = None,
        political_status: FromQuery[list[PoliticalStatus] | None] = None,
        model_worker: FromQuery[list[ModelWorker] | None] = None,
        disability: FromQuery[list[DisabilityKind] | None] = None,
        dilapidated: FromQuery[bool | None] = None,
        sort: FromQuery[LedgerSort] = LedgerSort.APPLIED_ON,
    ) -> Stream:
        root = await scope(actor, unit, units)
        where = ledger_filter(
            root,
            status=status,
            category=category,
            file_level=file_level,
            cause=cause,
            worker_kind=worker_kind,
            q=q,
            civil_affairs=civil_affairs,
            civil_affairs_to_act=civil_affairs_to_act,
            profile=ProfileFilter(political_status, model_worker, disability, dilapidated),
        )
        return await ledger_workbook(rt, root, where, sort)

    @get(
        f"{API}/stats",
        responses=responses,
        tags=["read models"],
        summary="统计 — the figures of a unit, and of its children at a level",
        description="Files now (by status; approved files by category, file level, primary "
        "cause and worker kind) and in `period` — a year `2026` or a month `2026-03`, default "
        "the current year — new files, exits by kind, returns, and assistance by category "
        "(count and amount). With `level` (below the unit's), the same figures for every unit "
        "at that level in the subtree: `unit=13&level=city` gives each city's, `limit` units "
        "(default 20) a page in code order (pass `next` as `cursor` for the next page).",
    )
    async def read_stats(
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        units: NamedDependency[PgUnitDirectory],
        unit: Unit = None,
        level: FromQuery[Level | None] = None,
        period: Annotated[str | None, QueryParameter(pattern=PERIOD)] = None,
        limit: Annotated[
            int, QueryParameter(ge=1, le=1000, description="with `level`: children per page")
        ] = STATS_PAGE,
        cursor: Cursor = None,
    ) -> StatsOut:
        root = await scope(actor, unit, units)
        root_level = (await units.registry(root.value)).level(root)  # stored, domain/units.py
        if level is not None and level.rank <= root_level.rank:
            raise InvalidValue(
                "level",
                f"level must be below the unit's ({root_level.value})",
                zh=f"统计层级须低于该单位的层级（{label(root_level)}）",
            )
        period = period or str(rt.clock.today().year)
        children: dict[str, reads.Figures] = {}
        following = None
        if level is not None:
            children, following = await reads.children_figures(
                rt.pool, root.value, level, period, after=_stats_cursor(cursor), limit=limit
            )
        names = await reads.unit_names(rt.pool, [root.value, *children])
        return StatsOut(
            period=period,
            figures=unit_figures(
                root.value,
                names.get(root.value),
                await reads.unit_figures(rt.pool, root.value, period),
                root_level,
            ),
            level=level.value if level else None,
            level_label=label(level) if level else None,
            children=[
                unit_figures(c, names.get(c), f, level or root_level) for c, f in children.items()
            ],
            next=_encode_stats_cursor(following),
        )

    @get(
        f"{API}/queues/approvals",
        responses=responses,
        tags=["read models"],
        summary="审批队列 — files awaiting approval in the subtree",
        description="Files appraised and publicised (status `appraised`), and files whose "
        "clerk's re-check found another category (`category_pending`, confirmed with "
        "`POST /files/{id}/category-confirmations`), in the subtree, the longest waiting "
        "first: the district's approval queue. In pages of `limit` (default 50), `total` "
        "counting them all: pass a page's `next` as `cursor` for the next, until it is null.",
    )
    async def approval_queue(
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        units: NamedDependency[PgUnitDirectory],
        unit: Unit = None,
        limit: Limit = QUEUE_PAGE,
        cursor: Cursor = None,
    ) -> QueueOut:
        root = await scope(actor, unit, units)
        after = reads.Cursor.decode(cursor, "approvals") if cursor else None
        rows, total, following = await reads.approval_queue(
            rt.pool, root.value, limit=limit, after=after
        )
        return QueueOut(
            unit=root.value,
            total=total,
            items=[ledger_item(r) for r in rows],
            next=following.encode() if following else None,
        )

    @get(
        f"{API}/due",
        responses=responses,
        tags=["read models"],
        summary="到期清单 — visits overdue, re-checks due, exits due for follow-up",
        description="`kind=visits`: approved files whose last visit (or approval, if never "
        "visited) is more than `visit_days` (default 90) before `as_of`. `kind=rechecks`: "
        "approved files whose annual re-check falls on or before `as_of`. `kind=follow_up`: "
        "files out of hardship (脱困) or relieved (解困) within the `follow_up_months` "
        "(default 12) up to `as_of`, for the 回头看 review. `kind=exit`: approved or relieved "
        "files due to exit (a newly found exclusion, a re-check above the standard) that have "
        "not exited nor been kept by an approver; they take no new regular aid. `as_of` "
        "defaults to today. Each item carries `due_on`, the day it fell (or falls) due. In "
        "pages of `limit` (default 50), `total` counting them all: pass a page's `next` as "
        "`cursor` (with the same parameters) for the next, until it is null.",
    )
    async def due_list(
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        units: NamedDependency[PgUnitDirectory],
        kind: FromQuery[DueKind],
        unit: Unit = None,
        as_of: FromQuery[date | None] = None,
        visit_days: Annotated[int, QueryParameter(ge=1, le=3650)] = 90,
        follow_up_months: Annotated[int, QueryParameter(ge=1, le=120)] = 12,
        limit: Limit = DUE_PAGE,
        cursor: Cursor = None,
    ) -> DueOut:
        root = await scope(actor, unit, units)
        day = as_of or rt.clock.today()
        after = reads.Cursor.decode(cursor, kind.value) if cursor else None
        rows, total, following = await reads.due(
            rt.pool,
            root.value,
            kind.value,
            as_of=day,
            visit_days=visit_days,
            follow_up_months=follow_up_months,
            limit=limit,
            after=after,
        )
        return DueOut(
            unit=root.value,
            kind=kind,
            kind_label={
                "visits": "走访逾期",
                "rechecks": "年度复核到期",
                "follow_up": "回头看",
                "exit": "应予退出",
            }[kind.value],
            as_of=day,
            visit_days=visit_days,
            follow_up_months=follow_up_months,
            total=total,
            items=[DueItem(**_ledger_fields(r), due_on=r["due_on"]) for r in rows],
            next=following.encode() if following else None,
        )

    @get(
        f"{API}/duplicates",
        responses=responses,
        tags=["read models"],
        summary="重复建档 — people in more than one open or relieved file",
        description="People (a head or a member, matched by the keyed hash of the ID number) "
        "in more than one open or relieved file across all units, where at least one of the "
        "files is in the subtree: what came in past 一户一档 (pulled files, data stored before "
        "the rule). Files outside the subtree are not shown, only counted (`other_files`). "
        "People in the order of the first of their files in the subtree (application day), in "
        "pages of `limit` people (default 50) — a person's files are never split across pages "
        "— with `total` counting them all: pass a page's `next` as `cursor` (with the same "
        "`unit`) for the next, until it is null.",
    )
    async def duplicates(
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        units: NamedDependency[PgUnitDirectory],
        unit: Unit = None,
        limit: Limit = DUPLICATES_PAGE,
        cursor: Cursor = None,
    ) -> DuplicatesOut:
        root = await scope(actor, unit, units)
        after = reads.Cursor.decode(cursor, "duplicates") if cursor else None
        found, total, following = await reads.duplicates(
            rt.pool, root.value, limit=limit, after=after
        )
        return duplicates_out(root.value, found, total, following)

    return [read_ledger, export_ledger, read_stats, approval_queue, due_list, duplicates]


def duplicates_out(
    unit: str, found: list[reads.Duplicate], total: int, following: reads.Cursor | None
) -> DuplicatesOut:
    """A page of the duplicates list as the API shows it (and the console draws it)."""
    roles = {"head": "户主", "member": "家庭成员"}
    return DuplicatesOut(
        unit=unit,
        total=total,
        items=[
            DuplicateOut(
                id_masked=d.id_masked,
                files=[
                    DuplicateFileOut(
                        file_id=f["file_id"],
                        unit=f["unit"],
                        unit_name=f["unit_name"],
                        status=f["status"],
                        status_label=labelled(Status, f["status"]) or f["status"],
                        head_name=f["head_name"],
                        role=f["role"],
                        role_label=roles.get(f["role"], f["role"]),
                    )
                    for f in d.files
                ],
                other_files=d.others,
            )
            for d in found
        ],
        next=following.encode() if following else None,
    )
