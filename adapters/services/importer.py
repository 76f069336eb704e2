"""Bulk import of existing files (一户一档 from the spreadsheets unions already keep), with their
history: application, home investigation, appraisal and publicity, approval — each with its
original date — through the domain's own commands, so every rule applies as if the steps had
been recorded on the day; `today` is the run date, and the poverty line is the one in force in
the household's region on each original date (`domain.policy.PolicyBook`).

Each household becomes one file or nothing: the file is built in memory and only a file whose
every step passed is saved, so a refused household leaves no trace (reported with row, column
and reason). A household is one row, or several with the same ID number, each adding one
assistance, one visit and the scans it names (`grouped`, `build_group`; the README's import
section shows the sheet's shape). A household whose rows name scans (附件) is stored apart, with
the scans' contents in the same transaction (`Scans`, `attachments.store_new_with_scans`), once
every scan was read from the folder or zip beside the sheet and judged as an upload is.
Files are saved in batches through the repository's bulk path (`save_built` → COPY). Re-running the
same import creates nothing twice: a file's id is derived from its unit and the normalised ID
number (`file_id_for`), and a file that already exists is skipped — also when two imports of
the same sheet run at once: the batch that loses the race is checked again and saves only what
the other did not.

Large sheets are built in parallel: the rows go in chunks to worker processes (one per CPU),
each running the same domain commands and returning the files' hash-chained event rows, while
this process saves the previous batch; the order of rows, and so of the report, is kept.
Building is pure CPU work, so threads would not help (the GIL); small sheets are built in
process, where starting workers would cost more than it saves.

Personal fields are encrypted where the file is built (`adapters.pii`): each file gets a fresh
data key there, and this process stores the keys, wrapped under its key-encryption key, in the
same transaction as the COPY of the events — so a key row exists exactly for the files stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any
from uuid import UUID, uuid5

import structlog
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.pg.attachments import PgContentStore
from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies
from adapters.pg.repository import PgFileRepository, prepare_rows
from adapters.pg.rows import NewEvent
from adapters.pii.sealing import KEY_BYTES
from adapters.services import attachments
from adapters.sheets import reading as sheets
from adapters.sheets.scans import ScanError, ScanSource, ZipScans
from domain.attachments import AttachmentLimits, MediaType
from domain.authorization import Act, authorise
from domain.commands import Apply, Appraise, Approve, Assist, Exit, Verify, Visit, execute, receive
from domain.eligibility import EXCLUSION_LABELS_ZH, Exclusions
from domain.errors import ConcurrencyError, DomainError, InvalidValue, NotEligible
from domain.household import EXIT_REASONS, Head, HouseholdFile, Member
from domain.onefile import ROLE_ZH, AlreadyFiled, Claim, ClaimsRefused, Wanted, claims
from domain.policy import PolicyBook
from domain.ports import BuiltFiles
from domain.profile import Housing
from domain.units import GEOGRAPHIC, UnitCode, Units
from domain.values import (
    SCHEME_CATEGORIES,
    Actor,
    AssistanceKind,
    Category,
    CategoryScheme,
    Cause,
    Department,
    Education,
    EmployerNature,
    ExitKind,
    ExitReason,
    FileLevel,
    HukouType,
    Level,
    MaritalStatus,
    Material,
    MemberStatus,
    ModelWorker,
    PoliticalStatus,
    Relation,
    Role,
    WorkerKind,
    WorkStatus,
    label,
)

if TYPE_CHECKING:  # `import_upload` takes the composition root's runtime
    from adapters.runtime.bootstrap import Runtime

log = structlog.get_logger(__name__)
NAMESPACE = UUID("0f8e4c1a-3b52-5d6e-9a7b-62616e677566")  # fixed: imported file ids are derived
SAVE_BATCH = 2000  # files a COPY
CHUNK = 250  # rows a worker builds at a time
PARALLEL_FROM = 4000  # rows; smaller sheets are built in this process
SAVE_RETRIES = 3  # a batch that lost a race to a concurrent import is checked again this often

# 排除情形: one yes/no column each (the six criteria of `Exclusions`, headed as the forms word
# them, with the short forms clerks write), or one column listing those that apply.
EXCLUSION_COLUMNS: dict[str, tuple[str, ...]] = {
    "two_or_more_homes": ("两套以上住宅", "拥有两套(含)以上住宅", "多套住房"),
    "shop_or_employs_others": ("商业店铺或雇工", "拥有商业店铺或雇佣他人从事经营活动", "经商雇工"),
    "costly_schooling": ("高收费择校或留学", "子女就读高收费私立学校或自费出国留学", "高收费择校"),
    "private_travel_abroad": ("出国(境)旅游", "近两年内个人出国(境)旅游", "出国旅游"),
    "car_or_luxury": ("私家车或高档消费品", "近两年内购置私家车或高档消费品", "私家车"),
    "idle_use_of_machinery": (
        "无业使用机动车船或大型农机",
        "无业期间经常使用机动车、船舶、工程机械或大型农机具",
    ),
}
_EXCLUSION_NAMES = {
    alias: name
    for name, aliases in EXCLUSION_COLUMNS.items()
    for alias in (*aliases, EXCLUSION_LABELS_ZH[name])
}

IMPORT_COLUMNS = sheets.Columns(
    {
        "head_name": ("户主姓名", "姓名", "职工姓名"),
        "id_number": ("身份证号码", "身份证号", "公民身份号码"),
        "phone": ("联系电话", "电话", "手机号码"),
        "employer": ("工作单位", "单位"),
        "address": ("家庭地址", "家庭住址", "住址"),
        # the head's 档案表 profile (issue 14), each optional
        "political_status": ("政治面貌",),
        "marital_status": ("婚姻状况",),
        "education": ("文化程度", "学历"),
        "hukou_type": ("户口性质", "户籍性质"),
        "hukou_place": ("户籍所在地", "户籍地", "祖居地"),
        "work_status": ("就业状况", "就业情况"),
        "employer_nature": ("单位性质", "企业性质"),
        "model_worker": ("劳模称号", "劳模"),
        "dilapidated": ("是否危房", "危房"),
        "wishes": ("主要意愿", "困难职工主要意愿"),
        "main_property": ("主要财产",),
        "unit": ("基层工会代码", "工会代码", "建档工会代码"),
        "worker_kind": ("职工类别", "职工类型"),
        "applied_on": ("申请时间", "申请日期", "建档时间", "建档日期"),
        "verified_on": ("入户调查时间", "调查时间", "入户调查日期"),
        "investigators": ("调查人", "调查人员"),
        "members": ("家庭成员",),
        # the household's total; the head's own, when the sheet keeps it apart, in 户主年收入
        # (members' own incomes go in 家庭成员's fifth part: `_members`)
        "annual_income": ("家庭年收入", "家庭年总收入", "年收入(元)", "家庭年收入(元)"),
        "head_income": (
            "户主年收入",
            "户主年收入(元)",
            "本人年收入",
            "本人年收入(元)",
            "职工本人年收入",
            "职工本人年收入(元)",
        ),
        "rigid_expenses": ("刚性支出", "刚性支出(元)"),
        "causes": ("致困原因", "困难原因"),
        "appraised_on": ("评议时间", "民主评议时间", "评议日期"),
        "publicity_start": ("公示开始", "公示开始时间"),
        "publicity_end": ("公示结束", "公示结束时间"),
        "approved_on": ("审批时间", "审批日期", "认定时间"),
        "file_level": ("档案级别", "建档级别"),
        "category": ("困难类别", "认定类别", "档案类别"),
        # documents: 是/否 (blank or no column: not recorded — docs/rules.md R04u, R07u)
        "authorisation": ("授权书(声明书)", "授权书", "声明书"),
        "minutes": ("民主评议会议记录", "评议会议记录", "评议记录"),
        # one assistance a row (seed 001 form 3: 分类帮扶措施, 分类型帮扶部门); more rows with the
        # same 身份证号码 add more to the same file (`grouped`)
        "assisted_on": ("帮扶时间", "帮扶日期"),
        "assistance_kind": ("分类帮扶措施", "帮扶措施", "帮扶类别", "帮扶类型"),
        "department": ("分类型帮扶部门", "帮扶部门", "牵头单位"),
        "amount": ("帮扶金额", "帮扶金额(元)", "救助金额", "金额(元)"),
        "helper": ("帮扶责任人", "结对帮扶联系人"),
        # one visit a row (seed 001 form 2; seed 002 table 5)
        "visited_on": ("走访时间", "走访日期", "进户时间"),
        "visit_content": ("走访内容", "工作内容"),
        "cadre": ("结对帮扶干部姓名", "走访干部", "走访人"),
        "quarter_income": ("家庭季度收入实现情况", "家庭季度收入", "季度收入(元)"),
        # the exit, if the file has left (seed 003: 标明脱困原因, with evidence)
        "exit_kind": ("退出类别", "退出类型", "退出方式"),
        "exited_on": ("退出时间", "退出日期", "脱困时间", "脱困日期"),
        "exit_reason": ("退出原因", "脱困原因"),
        "exit_evidence": ("退出证明材料", "证明材料"),
        "exit_explanation": ("退出说明", "情况说明"),
        "months_above_line": ("连续高于标准月数", "高于标准月数"),
        "exclusions": ("排除情形", "不予建档情形", "存在情形"),
        **{f"exclusion:{name}": aliases for name, aliases in EXCLUSION_COLUMNS.items()},
        # scans of the proof materials, in a folder or zip given with the sheet: 材料:文件名;…
        "attachments": ("附件", "附件材料", "扫描件", "附件清单", "附件文件"),
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
    "exclusions": "exclusions",
    "authorisation_signed": "authorisation",
    "minutes_on_file": "minutes",
    "assisted_on": "assisted_on",
    "kind": "assistance_kind",
    "amount": "amount",
    "department": "department",
    "helper": "helper",
    "visited_on": "visited_on",
    "content": "visit_content",
    "cadre": "cadre",
    "quarter_income": "quarter_income",
    "exited_on": "exited_on",
    "reason": "exit_reason",
    "evidence": "exit_evidence",
    "explanation": "exit_explanation",
    "months_above_line": "months_above_line",
    **{
        f"head.{name}": name
        for name in (
            "political_status",
            "marital_status",
            "education",
            "hukou_type",
            "hukou_place",
            "work_status",
            "employer_nature",
            "model_worker",
            "wishes",
            "main_property",
        )
    },
    "head.housing.dilapidated": "dilapidated",
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
    workers: int = 1  # processes that built the files
    scans: int = 0  # scans stored with the files created

    def as_json(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "created": self.created,
            "skipped": self.skipped,
            "events": self.events,
            "workers": self.workers,
            "scans": self.scans,
            "refused": [
                {"row": e.row, "column": e.column, "reason": e.reason} for e in self.refused
            ],
        }


def _members(value: str, column: str) -> tuple[Member, ...]:
    """家庭成员: '王某/配偶/130306198002030021/无业/0；李某/子女/…/学生' — name/relation/ID/status,
    and optionally the member's own annual income (12000, 1.2万, 12,000元; blank or absent: 0)."""
    found = []
    for part in (p.strip() for p in value.replace("；", ";").split(";")):
        if not part:
            continue
        bits = [b.strip() for b in part.split("/")]
        if len(bits) not in (4, 5):
            raise sheets.CellError(column, f"成员应为 姓名/关系/身份证号码/状态[/年收入]：{part}")
        relation = sheets.enum_by_label(Relation, bits[1], column, required=True)
        status = sheets.enum_by_label(MemberStatus, bits[3], column, required=True)
        income = sheets.amount(bits[4], column) if len(bits) == 5 else None
        found.append(
            Member(
                bits[0],
                relation,
                sheets.id_number(bits[2], column),
                status,
                annual_income=income if income is not None else Decimal("0.00"),
            )
        )
    return tuple(found)


def head_income(cells: Mapping[str, str], members: Sequence[Member]) -> Decimal:
    """The head's own annual income, which `Verify` takes (the household's total adds every
    member's, domain/household.py): 户主年收入 when the sheet keeps it apart (a 家庭年收入 beside it
    must then be the sum), else 家庭年收入 less what the members earn — so a sheet without
    members' incomes reads as before."""
    h = IMPORT_COLUMNS.header
    earned = sum((m.annual_income for m in members), Decimal("0.00"))
    total = sheets.amount(cells.get("annual_income", ""), h("annual_income"))
    own = sheets.amount(cells.get("head_income", ""), h("head_income"))
    if own is None:
        if total is None:
            raise sheets.CellError(h("annual_income"), "不能为空（或填户主年收入）")
        if total < earned:
            raise sheets.CellError(h("annual_income"), f"{total}元少于家庭成员年收入之和{earned}元")
        return total - earned
    if total is not None and total != own + earned:
        raise sheets.CellError(
            h("annual_income"),
            f"{total}元不等于户主年收入{own}元与家庭成员年收入{earned}元之和",
        )
    return own


def exclusions_of(cells: Mapping[str, str]) -> Exclusions:
    """The investigators' answers to the six exclusion criteria: a 是/否 column each, or one
    column (排除情形) listing those that apply (无 for none); unanswered means none applies."""
    h = IMPORT_COLUMNS.header
    answers: dict[str, bool] = {}
    listed = cells.get("exclusions", "")
    if listed and not sheets.says_no(listed):
        for label in sheets.split_list(listed.replace("（", "(").replace("）", ")")):
            name = _EXCLUSION_NAMES.get(label)
            if name is None:
                known = "、".join(aliases[0] for aliases in EXCLUSION_COLUMNS.values())
                raise sheets.CellError(h("exclusions"), f"未知的排除情形“{label}”，应为：{known}")
            answers[name] = True
    for name in EXCLUSION_COLUMNS:
        answer = sheets.yes_no(cells.get(f"exclusion:{name}", ""), h(f"exclusion:{name}"))
        if answer is not None:
            answers[name] = answers.get(name, False) or answer
    return Exclusions(**answers)


def _profile(cells: Mapping[str, str]) -> dict[str, Any]:
    """The head's profile as a row gives it (blank: not recorded)."""
    h = IMPORT_COLUMNS.header
    dilapidated = sheets.yes_no(cells.get("dilapidated", ""), h("dilapidated"))
    return {
        "political_status": sheets.enum_by_label(
            PoliticalStatus, cells.get("political_status", ""), h("political_status")
        ),
        "marital_status": sheets.enum_by_label(
            MaritalStatus, cells.get("marital_status", ""), h("marital_status")
        ),
        "education": sheets.enum_by_label(Education, cells.get("education", ""), h("education")),
        "hukou_type": sheets.enum_by_label(HukouType, cells.get("hukou_type", ""), h("hukou_type")),
        "hukou_place": cells.get("hukou_place", ""),
        "work_status": sheets.enum_by_label(
            WorkStatus, cells.get("work_status", ""), h("work_status")
        ),
        "employer_nature": sheets.enum_by_label(
            EmployerNature, cells.get("employer_nature", ""), h("employer_nature")
        ),
        "model_worker": sheets.enum_by_label(
            ModelWorker, cells.get("model_worker", ""), h("model_worker")
        ),
        "housing": None if dilapidated is None else Housing(dilapidated=dilapidated),
        "wishes": cells.get("wishes", ""),
        "main_property": cells.get("main_property", ""),
    }


def build_file(
    cells: Mapping[str, str],
    *,
    base: str,
    importer: Actor,
    book: PolicyBook,
    today: date,
) -> HouseholdFile:
    """One row's file with its history, through the domain's commands (pure); raises
    `sheets.CellError` or a `DomainError` naming what is wrong (`build_group` for a household
    written over several rows, with its scans)."""
    try:
        return build_group(
            ((0, dict(cells)),), base=base, importer=importer, book=book, today=today
        )
    except AtRow as refused:
        raise refused.error from None


Group = tuple[tuple[int, dict[str, str]], ...]  # a household's rows: (sheet row, {field: text})

# What one row of a household records on its own: one assistance, one visit and the scans it
# names. A household with more of them takes more rows with the same 身份证号码 (and base-level
# union); its other columns are written once — on any of its rows — or repeated unchanged.
PER_ROW = frozenset(
    {
        "assisted_on",
        "assistance_kind",
        "department",
        "amount",
        "helper",
        "visited_on",
        "visit_content",
        "cadre",
        "quarter_income",
        "attachments",
    }
)


class AtRow(Exception):
    """Why a household's rows are refused, at the row the reason concerns."""

    def __init__(self, row: int, error: sheets.CellError | DomainError) -> None:
        super().__init__(row, error)
        self.row = row
        self.error = error


def grouped(rows: Sequence[tuple[int, dict[str, str]]], scope: str) -> list[Group]:
    """The sheet's rows by household — the same base-level union (基层工会代码, else `scope`) and
    ID number (as cleaned: full-width digits and a lower-case x read alike) — in the order of each
    household's first row. A row without an ID number is a household of its own (refused when it
    is built). The key is the text, not the parsed number: parsing every row here cost more than a
    tenth of a large import (docs/benchmarks.md); a person written once as 15 and once as 18
    digits builds to the same file id and is refused as a duplicate where the batch is saved."""
    found: dict[object, list[tuple[int, dict[str, str]]]] = {}
    for row, cells in rows:
        number = cells.get("id_number", "").upper()
        key: object = (cells.get("unit") or scope, number) if number else row
        found.setdefault(key, []).append((row, cells))
    return [tuple(g) for g in found.values()]


_FIELD_OF = {aliases[0]: name for name, aliases in IMPORT_COLUMNS.names.items()}


def _merged(group: Group) -> tuple[dict[str, str], dict[str, int]]:
    """The household's own columns over its rows, and the row each comes from: a column is
    written once or repeated unchanged; a row that adds nothing (no assistance, visit or scan)
    repeats another."""
    h = IMPORT_COLUMNS.header
    first = group[0][0]
    cells = {k: v for k, v in group[0][1].items() if k not in PER_ROW}
    origin = dict.fromkeys(cells, first)
    for row, values in group[1:]:
        if not any(values.get(f) for f in PER_ROW):
            raise AtRow(
                row,
                sheets.CellError(
                    h("id_number"),
                    f"与第{first}行重复（同一户的续行应填帮扶、走访或附件）",
                ),
            )
        for name, value in values.items():
            if name in PER_ROW or not value or name == "id_number":
                continue
            if cells.get(name) and cells[name] != value:
                raise AtRow(
                    row,
                    sheets.CellError(
                        h(name),
                        f"与同一户第{origin[name]}行的“{cells[name]}”不一致：{value}"
                        "（同一户的各行只能增加帮扶、走访和附件）",
                    ),
                )
            if not cells.get(name):
                cells[name], origin[name] = value, row
    return cells, origin


@dataclass(frozen=True, slots=True)
class Scan:
    """A scan a row names (附件: 材料:文件名), its content judged before the file is built."""

    row: int
    kind: Material
    name: str  # as the sheet writes it: a path in the folder or zip
    attachment_id: UUID
    media_type: MediaType
    size: int
    sha256: str


def named_scans(group: Group) -> list[tuple[int, Material, str]]:
    """The scans a household's rows name in 附件: `材料:文件名` separated by `;` or `；`, the
    material by its label or a word clerks write for it (授权书, 诊断证明 …)."""
    h = IMPORT_COLUMNS.header
    found: dict[tuple[Material, str], int] = {}
    for row, cells in group:
        for written in re.split(r"[;；]", cells.get("attachments", "")):
            entry = written.strip()
            if not entry:
                continue
            kind_text, colon, name = entry.replace("：", ":").partition(":")
            if not colon or not name.strip():
                raise AtRow(row, sheets.CellError(h("attachments"), f"应为 材料:文件名：{entry}"))
            try:
                kind = sheets.enum_by_label(
                    Material, kind_text.strip(), h("attachments"), required=True
                )
            except sheets.CellError as error:
                raise AtRow(row, error) from None
            found.setdefault((kind, name.strip()), row)
    return [(row, kind, name) for (kind, name), row in found.items()]


def scan_id(file_id: UUID, kind: Material, name: str) -> UUID:
    """The id an imported scan gets: the same file, material and name give the same id."""
    return uuid5(file_id, f"scan:{kind.value}:{name}")


def build_group(
    group: Group,
    *,
    base: str,
    importer: Actor,
    book: PolicyBook,
    today: date,
    scans: Sequence[Scan] = (),
    limits: AttachmentLimits = AttachmentLimits(),  # noqa: B008 — frozen
    units: Units = GEOGRAPHIC,
) -> HouseholdFile:
    """A household's file with its history from its rows (pure); raises `AtRow` naming the row,
    column and reason.

    What the sheet shows is recorded and what it does not show is recorded as unknown, never
    assumed: a blank or missing 授权书 / 民主评议会议记录 is `None` (the spot-check reports
    it as not recorded, docs/rules.md R04u / R07u) and a blank 档案级别 is `None`; a 否 is
    refused like any broken rule. A 困难类别 must be the category the recorded means give
    (its scheme, 2016 or 2019, is the one the label belongs to). Every row's assistance and
    visit are recorded (by date), then the `scans` (content already judged), then the exit.
    `units`: the registry whose stored levels decide whether the importer may approve (a
    non-geographic union registered as approving, docs/decisions/0014)."""
    cells, origin = _merged(group)
    first = group[0][0]
    clerk = Actor(importer.user, base, Role.CLERK)

    def at(error: sheets.CellError | DomainError) -> AtRow:
        column = refusal(first, error).column
        return AtRow(origin.get(_FIELD_OF.get(column, ""), first), error)

    try:
        household = _through_approval(
            cells, base=base, importer=importer, book=book, today=today, units=units
        )
    except (sheets.CellError, DomainError) as error:
        raise at(error) from None
    latest: tuple[date, int] | None = None
    steps = sorted(_steps(group), key=lambda s: s[:3])
    if steps and household.approved_on is None:
        # recorded only on an approved file: said, not silently dropped
        _, kind, row, _ = steps[0]
        column = IMPORT_COLUMNS.header("visited_on" if kind else "assisted_on")
        raise AtRow(row, sheets.CellError(column, "本户未填审批时间，不能记录帮扶或走访"))
    if household.approved_on is not None:
        for on, _, row, step in steps:
            try:
                execute(household, step, actor=clerk, today=today)
            except (sheets.CellError, DomainError) as error:
                raise AtRow(row, error) from None
            latest = max(latest or (on, row), (on, row))
    for scan in scans:
        try:
            household.attach(
                actor=clerk,
                attachment_id=scan.attachment_id,
                kind=scan.kind,
                name=scan.name,
                media_type=scan.media_type,
                size=scan.size,
                sha256=scan.sha256,
                limits=limits,
                today=today,
            )
        except DomainError as error:
            raise AtRow(scan.row, error) from None
    if household.approved_on is not None:
        try:
            _exit(
                household,
                cells,
                latest,
                importer=importer,
                clerk=clerk,
                book=book,
                today=today,
                units=units,
            )
        except (sheets.CellError, DomainError) as error:
            raise at(error) from None
    return household


def _through_approval(
    cells: Mapping[str, str],
    *,
    base: str,
    importer: Actor,
    book: PolicyBook,
    today: date,
    units: Units,
) -> HouseholdFile:
    """The file from its application as far as the sheet records it, approval at most."""
    h = IMPORT_COLUMNS.header
    number = sheets.id_number(cells["id_number"], h("id_number"))
    clerk = Actor(importer.user, base, Role.CLERK)
    kind = sheets.enum_by_label(WorkerKind, cells.get("worker_kind", ""), h("worker_kind"))
    applied_on = sheets.day(cells["applied_on"], h("applied_on"), required=True)
    assert applied_on is not None  # noqa: S101 — required above
    category = sheets.enum_by_label(Category, cells.get("category", ""), h("category"))
    household = receive(
        Apply(
            file_id=file_id_for(base, number),
            establishing_unit=base,
            worker_kind=kind or WorkerKind.URBAN,
            head=Head(
                name=cells["head_name"],
                id_number=number,
                phone=cells.get("phone", ""),
                employer=cells.get("employer", ""),
                address=cells.get("address", ""),
                **_profile(cells),
            ),
            applied_on=applied_on,
            authorisation_signed=sheets.yes_no(cells.get("authorisation", ""), h("authorisation")),
            statement="批量导入既有档案",
            scheme=_scheme_of(category),
            imported=True,
        ),
        actor=clerk,
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
    members = _members(cells.get("members", ""), h("members"))
    execute(
        household,
        Verify(
            verified_on=verified_on,
            investigators=tuple(sheets.split_list(cells.get("investigators", ""))),
            members=members,
            annual_income=head_income(cells, members),
            rigid_expenses=sheets.amount(cells.get("rigid_expenses", ""), h("rigid_expenses"))
            or Decimal(0),
            exclusions=exclusions_of(cells),
            primary_cause=causes[0] or Cause.OTHER,
            secondary_causes=tuple(c for c in causes[1:] if c),
            parameters=book.in_force(region, verified_on),
        ),
        actor=clerk,
        today=today,
    )
    appraised_on = sheets.day(cells.get("appraised_on", ""), h("appraised_on"))
    if appraised_on is None:
        return household
    execute(
        household,
        Appraise(
            appraised_on=appraised_on,
            minutes_on_file=sheets.yes_no(cells.get("minutes", ""), h("minutes")),
            publicity_start=sheets.day(
                cells.get("publicity_start", ""), h("publicity_start"), required=True
            ),
            publicity_end=sheets.day(
                cells.get("publicity_end", ""), h("publicity_end"), required=True
            ),
            imported=True,  # no parameters: the sheet's publicity is judged on replay (R08)
        ),
        actor=clerk,
        today=today,
    )
    approved_on = sheets.day(cells.get("approved_on", ""), h("approved_on"))
    if approved_on is None:
        return household
    level = sheets.enum_by_label(FileLevel, cells.get("file_level", ""), h("file_level"))
    execute(
        household,
        Approve(
            approved_on=approved_on,
            file_level=level,
            parameters=book.in_force(region, approved_on),
            imported=True,
        ),
        actor=importer,
        today=today,
        units=units,
    )
    if category is not None and category is not household.category:
        assert household.category is not None  # noqa: S101 — approved above
        raise sheets.CellError(
            h("category"),
            f"表中为{label(category)}，按家庭收入和当时的低保标准应为{label(household.category)}",
        )
    return household


def _scheme_of(category: Category | None) -> CategoryScheme:
    """The scheme a category label belongs to (低保户 … 2016; 深度困难 … 2019, the default)."""
    if category is not None and category in SCHEME_CATEGORIES[CategoryScheme.V2016]:
        return CategoryScheme.V2016
    return CategoryScheme.V2019


# A reason the kind of exit leaves no choice about (seed 003: 标明脱困原因 — else it is required).
_ONLY_REASON = {
    kind: next(iter(reasons)) for kind, reasons in EXIT_REASONS.items() if len(reasons) == 1
}


def _steps(group: Group) -> list[tuple[date, int, int, Assist | Visit]]:
    """Each row's assistance and visit, as (date, 0 for assistance / 1 for a visit, row,
    command); a cell that cannot be read raises `AtRow` at its row."""
    h = IMPORT_COLUMNS.header
    found: list[tuple[date, int, int, Assist | Visit]] = []
    for row, cells in group:
        try:
            assisted_on = sheets.day(cells.get("assisted_on", ""), h("assisted_on"))
            if assisted_on is not None:
                assist = Assist(
                    assisted_on=assisted_on,
                    kind=sheets.enum_by_label(
                        AssistanceKind,
                        cells.get("assistance_kind", ""),
                        h("assistance_kind"),
                        required=True,
                    ),
                    amount=sheets.amount(cells.get("amount", ""), h("amount"), required=True),
                    department=sheets.enum_by_label(
                        Department, cells.get("department", ""), h("department"), required=True
                    ),
                    helper=cells.get("helper", ""),
                )
                found.append((assisted_on, 0, row, assist))
            visited_on = sheets.day(cells.get("visited_on", ""), h("visited_on"))
            if visited_on is not None:
                visit = Visit(
                    visited_on=visited_on,
                    cadre=sheets.text(cells.get("cadre", ""), h("cadre"), required=True),
                    content=sheets.text(
                        cells.get("visit_content", ""), h("visit_content"), required=True
                    ),
                    quarter_income=sheets.amount(
                        cells.get("quarter_income", ""), h("quarter_income")
                    ),
                )
                found.append((visited_on, 1, row, visit))
        except sheets.CellError as error:
            raise AtRow(row, error) from None
    return found


# A reason the kind of exit leaves no choice about (seed 003: 标明脱困原因 — else it is required).
_ONLY_REASON = {
    kind: next(iter(reasons)) for kind, reasons in EXIT_REASONS.items() if len(reasons) == 1
}


def _exit(
    household: HouseholdFile,
    cells: Mapping[str, str],
    latest: tuple[date, int] | None,
    *,
    importer: Actor,
    clerk: Actor,
    book: PolicyBook,
    today: date,
    units: Units,
) -> None:
    """The exit, when the household's rows have one: after every assistance and visit they list
    (`latest`: the last one's date and row), else refused."""
    h = IMPORT_COLUMNS.header
    exit_kind = sheets.enum_by_label(ExitKind, cells.get("exit_kind", ""), h("exit_kind"))
    if exit_kind is None:
        return
    exited_on = sheets.day(cells.get("exited_on", ""), h("exited_on"), required=True)
    if latest is not None and exited_on < latest[0]:
        raise sheets.CellError(
            h("exited_on"),
            f"退出时间{exited_on.isoformat()}早于第{latest[1]}行的帮扶或走访时间"
            if latest[1]
            else f"退出时间{exited_on.isoformat()}早于本行的帮扶或走访时间",
        )
    reason = (
        sheets.enum_by_label(
            ExitReason,
            cells.get("exit_reason", ""),
            h("exit_reason"),
            required=exit_kind not in _ONLY_REASON,
        )
        or _ONLY_REASON[exit_kind]
    )
    months = cells.get("months_above_line", "")
    if months and not months.isdigit():
        raise sheets.CellError(h("months_above_line"), f"应为整月数：{months}")
    execute(
        household,
        Exit(
            exited_on=exited_on,
            kind=exit_kind,
            reason=reason,
            explanation=cells.get("exit_explanation", "") or f"批量导入：{label(reason)}",
            evidence=tuple(sheets.split_list(cells.get("exit_evidence", ""))),
            months_above_line=int(months) if months else None,
            parameters=book.in_force(household.region, exited_on),
            # recorded as the sheet says it; the replay rule R22 judges whether recorded means
            # bear it out (docs/rules.md)
            imported=True,
        ),
        # deletion and 重复建档 are the district's acts (the importing approver's)
        actor=importer
        if exit_kind is ExitKind.DELETED or reason is ExitReason.DUPLICATE
        else clerk,
        today=today,
        units=units,
    )


def refusal(row: int, error: Exception) -> sheets.RowError:
    """A refused row's column and reason, from a cell error or a domain refusal."""
    h = IMPORT_COLUMNS.header
    if isinstance(error, sheets.CellError):
        return sheets.RowError(row, error.column, error.reason)
    if isinstance(error, NotEligible):
        excluded = any(r.startswith("exclusion criterion") for r in error.reasons)
        return sheets.RowError(row, h("exclusions" if excluded else "annual_income"), error.zh)
    if isinstance(error, DomainError):
        name = (error.field or "").split("[")[0]
        column = h(_FIELD_COLUMNS[name]) if name in _FIELD_COLUMNS else (error.field or "")
        if name.startswith("members"):
            column = h("members")
        return sheets.RowError(row, column, error.zh)
    raise error


# ------------------------------------------------------------------------------ building


@dataclass(frozen=True, slots=True)
class Built:
    """A row's file, ready to store: its id, its hash-chained event rows and the data key its
    personal fields are encrypted with (None when written in clear)."""

    row: int
    file_id: UUID
    events: tuple[NewEvent, ...]
    key: bytes | None = None
    holds: tuple[Claim, ...] = ()  # the people the file holds (一户一档, `_claim`)

    def __reduce__(self) -> tuple[Callable[..., Built], tuple[object, ...]]:
        # Sent from a worker as plain values: pickling the dataclasses and UUIDs field by field
        # cost the receiving process more than building the file did.
        return _unpack_built, (
            self.row,
            self.file_id.bytes,
            [(e.version, e.type, e.payload, e.recorded_at, e.unit, e.hash) for e in self.events],
            self.key,
            [(c.id_number, c.role, c.field) for c in self.holds],
        )


def _unpack_built(
    row: int,
    file_id: bytes,
    events: list[tuple[int, str, bytes, datetime, str | None, bytes]],
    key: bytes | None = None,
    holds: list[tuple[str, str, str]] | None = None,
) -> Built:
    stream = UUID(bytes=file_id)
    people = tuple(Claim(*c) for c in holds or ())
    return Built(row, stream, tuple(NewEvent(stream, *e) for e in events), key, people)


@dataclass(frozen=True)
class Job:
    """What building a row needs besides the row: sent once to each worker process."""

    scope: str
    importer: Actor
    book: PolicyBook
    today: date
    encrypt: bool = True  # personal fields encrypted with a fresh data key per file
    # the stored levels of the units the code does not imply (`Units.stored_only`): the same
    # rules in a worker process as in the API (an approving industry union approves)
    units: Units = GEOGRAPHIC


def build_rows(
    groups: Sequence[Group], job: Job, codec: EventCodec
) -> list[Built | sheets.RowError]:
    """Each household's file through the domain's commands, as stored rows, or why it was
    refused (at the row the reason concerns)."""
    out: list[Built | sheets.RowError] = []
    for group in groups:
        try:
            household = build_group(
                group,
                base=base_of(group, job.scope),
                importer=job.importer,
                book=job.book,
                today=job.today,
                units=job.units,
            )
        except AtRow as refused:
            out.append(refusal(refused.row, refused.error))
            continue
        key = os.urandom(KEY_BYTES) if job.encrypt else None
        keys = {household.id: AESGCM(key)} if key is not None else None
        held = claims(household)
        events, _, _ = prepare_rows(codec, (household,), keys)
        out.append(Built(group[0][0], household.id, tuple(events), key, held))
    return out


def base_of(group: Group, scope: str) -> str:
    """The household's base-level union: its 基层工会代码, which must be a base-level union of
    `scope`, else `scope` itself (`AtRow` otherwise)."""
    row, cells = group[0]
    base = cells.get("unit") or scope
    try:
        base_unit = UnitCode(base)
    except DomainError as error:
        raise AtRow(row, error) from None
    if base_unit.implied_level is not Level.BASE or not base_unit.is_within(UnitCode(scope)):
        raise AtRow(
            row,
            sheets.CellError(IMPORT_COLUMNS.header("unit"), f"{base}不是{scope}下属的基层工会"),
        )
    return base


_worker: tuple[Job, EventCodec] | None = None


def _start_worker(job: Job) -> None:
    global _worker  # noqa: PLW0603 — one job per worker process, set once when it starts
    _worker = (job, EventCodec())


def _build_in_worker(rows: Sequence[Group]) -> list[Built | sheets.RowError]:
    assert _worker is not None  # noqa: S101 — set by the pool's initializer
    return build_rows(rows, *_worker)


def worker_count(rows: int, workers: int | None) -> int:
    """Processes to build `rows` rows with: `workers` if given, else one per CPU for a large
    sheet and none (this process) for a small one."""
    if workers is not None:
        return max(1, workers)
    if rows < PARALLEL_FROM:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


async def _built(
    rows: Sequence[Group], job: Job, workers: int, codec: EventCodec
) -> AsyncIterator[list[Built | sheets.RowError]]:
    """The outcomes of `rows` (households) chunk by chunk, in order; with workers, a few
    chunks ahead are always being built while the caller saves."""
    chunks = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
    if workers <= 1:
        for chunk in chunks:
            yield build_rows(chunk, job, codec)
            await asyncio.sleep(0)  # let the server breathe between chunks
        return
    loop = asyncio.get_running_loop()
    pool: Executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),  # never fork a threaded server
        initializer=_start_worker,
        initargs=(job,),
    )
    try:
        ahead = workers * 3
        pending = [loop.run_in_executor(pool, _build_in_worker, c) for c in chunks[:ahead]]
        for index in range(len(chunks)):
            outcome = await pending[index]
            if index + ahead < len(chunks):
                pending.append(loop.run_in_executor(pool, _build_in_worker, chunks[index + ahead]))
            yield outcome
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


async def _save(
    files: BuiltFiles[NewEvent],
    batch: list[Built],
    report: ImportReport,
    actor: Actor | None = None,
) -> None:
    """Store the batch's files that do not exist yet, in one COPY; if a concurrent import
    stored some of them meanwhile, look again and store the rest."""
    for attempt in range(SAVE_RETRIES + 1):
        present = await files.existing([b.file_id for b in batch])
        fresh = [b for b in batch if b.file_id not in present]
        keys = {b.file_id: b.key for b in fresh if b.key is not None}
        holding = _holding(fresh, actor)
        try:
            await files.save_built([e for b in fresh for e in b.events], keys, holding)
        except ConcurrencyError:
            if attempt == SAVE_RETRIES:
                raise
            log.info("import.batch_raced", files=len(batch), attempt=attempt + 1)
            continue
        report.skipped += len(batch) - len(fresh)
        report.created += len(fresh)
        report.events += sum(len(b.events) for b in fresh)
        return


@dataclass(frozen=True)
class Scans:
    """Where an import's scans come from (`source`: a folder or zip; None when none was given)
    and where they go. A household whose rows name scans is stored apart from the bulk path, in
    one transaction with their contents (`attachments.store_new_with_scans`)."""

    repository: PgFileRepository
    contents: PgContentStore
    source: ScanSource | None = None
    limits: AttachmentLimits = AttachmentLimits()  # noqa: RUF009 — frozen


def names_scans(group: Group) -> bool:
    return any(cells.get("attachments") for _, cells in group)


async def _read_scans(
    group: Group, file_id: UUID, scans: Scans | None
) -> tuple[list[Scan], dict[UUID, bytes]]:
    """The scans the household's rows name, read and judged as an upload is (`AtRow` at the
    row naming one that is missing, of a wrong type, too large, or out of the folder or zip)."""
    h = IMPORT_COLUMNS.header
    named = named_scans(group)
    if scans is None or scans.source is None:
        raise AtRow(
            named[0][0],
            sheets.CellError(h("attachments"), "表中列有附件，导入时须一并提供附件文件夹或压缩包"),
        )
    source, limits = scans.source, scans.limits
    facts: list[Scan] = []
    contents: dict[UUID, bytes] = {}
    total = 0
    for row, kind, name in named:
        try:
            content = await asyncio.to_thread(source.read, name, limits.per_file)
            media = await attachments.judge_content(content, limits)
        except ScanError as error:
            raise AtRow(row, sheets.CellError(h("attachments"), str(error))) from None
        except DomainError as error:
            raise AtRow(row, sheets.CellError(h("attachments"), f"“{name}”{error.zh}")) from None
        total += len(content)
        if total > limits.per_household:
            raise AtRow(
                row,
                sheets.CellError(
                    h("attachments"),
                    f"本户附件合计超过{limits.per_household // (1024 * 1024)}MB的上限",
                ),
            )
        found = Scan(
            row, kind, name, scan_id(file_id, kind, name), media, len(content),
            hashlib.sha256(content).hexdigest(),
        )  # fmt: skip
        facts.append(found)
        contents[found.attachment_id] = content
    return facts, contents


async def _import_with_scans(
    group: Group, job: Job, scans: Scans | None, report: ImportReport
) -> None:
    """A household whose rows name scans: built, its scans read and judged, then stored with
    them in one transaction — or refused, or skipped when it exists, with nothing stored."""
    try:
        base = base_of(group, job.scope)
        # the rows first: a refused household's scans are never read
        household = build_group(
            group,
            base=base,
            importer=job.importer,
            book=job.book,
            today=job.today,
            units=job.units,
        )
        if scans is not None and await scans.repository.existing([household.id]):
            report.skipped += 1
            return
        found, contents = await _read_scans(group, household.id, scans)
        household = build_group(
            group,
            base=base,
            importer=job.importer,
            book=job.book,
            today=job.today,
            scans=found,
            limits=scans.limits if scans is not None else AttachmentLimits(),
            units=job.units,
        )
    except AtRow as refused:
        report.refused.append(refusal(refused.row, refused.error))
        return
    assert scans is not None  # noqa: S101 — `_read_scans` refuses without
    events = len(household.pending_events)
    try:
        created = await attachments.store_new_with_scans(
            files=scans.repository, contents=scans.contents, household=household, scans=contents
        )
    except DomainError as error:
        # refused where it is stored (a save path that refuses a person another file holds):
        # nothing of the household is stored, the import goes on
        report.refused.append(refusal(group[0][0], error))
        return
    if created:
        report.created += 1
        report.events += events
        report.scans += len(found)
    else:
        report.skipped += 1


# ------------------------------------------------------------------------------ 一户一档


def _holding(batch: Sequence[Built], actor: Actor | None) -> list[Wanted]:
    """The claims the batch's files take on their people, asked by the importing `actor`."""
    if actor is None:
        return []
    unit = actor.unit
    return [Wanted(b.file_id, b.events[0].unit or unit, actor, b.holds, new=True) for b in batch]


def _claimed_in_sheet(outcome: Built, people: dict[str, int]) -> sheets.RowError | None:
    """The row's refusal when one of its people is held by an earlier row's file; else its
    people are noted as held by this row."""
    for claim in outcome.holds:
        earlier = people.get(claim.id_number)
        if earlier is not None:
            column = "members" if claim.field.startswith("members") else "id_number"
            return sheets.RowError(
                outcome.row,
                IMPORT_COLUMNS.header(column),
                f"一户一档：该{ROLE_ZH[claim.role]}已在第{earlier}行的档案中，不能重复建档",
            )
    people.update(dict.fromkeys((c.id_number for c in outcome.holds), outcome.row))
    return None


async def _claim(
    files: BuiltFiles[NewEvent], batch: list[Built], report: ImportReport, actor: Actor
) -> None:
    """`_save` the batch, taking the claims of its people with the COPY; a row whose person
    another file of the node holds is refused under its column (the refusal names that file
    and its unit when the importer may see them) and the rest saved again, nothing of the
    refused rows written."""
    while batch:
        try:
            await _save(files, batch, report, actor)
        except AlreadyFiled as refused:
            each = refused.refusals if isinstance(refused, ClaimsRefused) else (refused,)
            rows = {b.file_id: b.row for b in batch}
            report.refused += [refusal(rows[r.file_id], r) for r in each]
            batch = [b for b in batch if b.file_id not in {r.file_id for r in each}]
            continue
        return


async def import_files(
    *,
    files: BuiltFiles[NewEvent],
    codec: EventCodec,
    book: PolicyBook,
    actor: Actor,
    unit: str,
    data: bytes,
    name: str,
    today: date,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    scans: Scans | None = None,
    units: Units = GEOGRAPHIC,
) -> ImportReport:
    """Import every good household of the sheet as a file with its history; report the others.

    A household is one row, or several with the same 身份证号码 adding assistance, visits and
    scans (`grouped`); it is imported whole or not at all. Households naming scans (附件) take
    them from `scans.source` and are stored one by one with them, after the others.

    `actor` is the importing approver (district or above, holding `unit`): it is recorded as
    the approver, and as the clerk of the base-level union for the earlier steps. `workers`:
    processes to build with (default: one per CPU for sheets of `PARALLEL_FROM` rows or more).
    `units`: the registry (`rt.units.registry()`) — an importer that is a non-geographic union
    approves only if registered so, here and in every worker process alike."""
    scope = UnitCode(unit)
    authorise(actor, Act.APPROVE, scope, units=units)
    if actor.role is not Role.APPROVER:
        raise InvalidValue("role", "imports are run by an approver", zh="批量导入须由审核人员办理")
    try:
        table = sheets.read_table(sheets.grid_of(data, name), IMPORT_COLUMNS)
    except sheets.CellError as error:
        raise InvalidValue("file", error.reason, zh=error.reason) from None
    except (ValueError, KeyError, OSError) as error:
        raise InvalidValue("file", f"unreadable: {error}", zh="无法读取该表格文件") from None
    groups = grouped(table.rows, scope.value)
    with_scans = [g for g in groups if names_scans(g)]
    plain = [g for g in groups if not names_scans(g)]
    report = ImportReport(rows=len(table.rows), workers=worker_count(len(plain), workers))
    job = Job(scope.value, actor, book, today, encrypt=files.encrypts, units=units.stored_only())
    seen: dict[UUID, int] = {}
    people: dict[str, int] = {}  # ID number → the row whose file holds the person (一户一档)
    batch: list[Built] = []
    done = 0
    async for outcomes in _built(plain, job, report.workers, codec):
        for outcome in outcomes:
            if isinstance(outcome, sheets.RowError):
                report.refused.append(outcome)
            elif outcome.file_id in seen:
                report.refused.append(
                    sheets.RowError(
                        outcome.row,
                        IMPORT_COLUMNS.header("id_number"),
                        f"与第{seen[outcome.file_id]}行重复",
                    )
                )
            elif (held := _claimed_in_sheet(outcome, people)) is not None:
                report.refused.append(held)
            else:
                seen[outcome.file_id] = outcome.row
                batch.append(outcome)
        done += len(outcomes)
        if len(batch) >= SAVE_BATCH:
            await _claim(files, batch, report, actor)
            batch = []
        if progress is not None:
            progress(done, len(groups))
    if batch:
        await _claim(files, batch, report, actor)
    for group in with_scans:
        await _import_with_scans(group, job, scans, report)
        done += 1
        if progress is not None:
            progress(done, len(groups))
    report.refused.sort(key=lambda e: e.row)
    log.info(
        "import.completed",
        unit=scope.value,
        rows=report.rows,
        created=report.created,
        skipped=report.skipped,
        refused=len(report.refused),
        workers=report.workers,
    )
    return report


async def import_upload(
    rt: Runtime,
    *,
    actor: Actor,
    unit: str,
    data: bytes,
    name: str,
    zipped_scans: IO[bytes] | None,
) -> ImportReport:
    """An uploaded sheet and, beside it, the zip of the scans its 附件 column names — the one
    path of `POST /api/v1/imports` and the console's upload: a zip that cannot be read is
    `InvalidValue` before anything is stored, and the zip is closed whatever happens."""
    source = None
    if zipped_scans is not None:
        try:
            source = ZipScans(zipped_scans)
        except ScanError as error:
            raise InvalidValue("attachments", str(error), zh=str(error)) from None
    try:
        return await import_files(
            files=rt.files,
            codec=rt.codec,
            book=await PgPolicies(rt.store, rt.codec).book(),
            actor=actor,
            unit=unit,
            data=data,
            name=name,
            today=rt.clock.today(),
            units=await rt.units.registry(actor.unit),
            scans=Scans(
                repository=rt.files,
                contents=PgContentStore(rt.pool, rt.keyring),
                source=source,
                limits=AttachmentLimits(
                    rt.settings.attachment_max_bytes,
                    rt.settings.household_attachments_max_bytes,
                ),
            ),
        )
    finally:
        if source is not None:
            source.close()
