"""Request and response bodies: msgspec Structs, documented with examples in the OpenAPI schema.

Requests reuse the domain's value types (`Head`, `Member`, `Exclusions`) so a field means the same
thing everywhere; responses are built here and never carry unmasked personal data by default.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Protocol
from uuid import UUID

import msgspec

# litestar's own schema generators for Structs and dataclasses, extended below to close request
# bodies; they live in a private module (tests/e2e/test_api_fuzzing.py checks the result)
from litestar._openapi.schema_generation.plugins.dataclass import DataclassSchemaPlugin
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.typing import FieldDefinition

from adapters.http.auth import MAX_TTL
from adapters.http.validation import MONEY_PATTERN
from domain import commands
from domain.eligibility import Exclusions
from domain.household import Head, Member
from domain.profile import Housing, Land, Need, Pairing, PlanMeasure, QuarterCosts
from domain.values import (
    AssistanceKind,
    Category,
    CategoryScheme,
    Cause,
    Department,
    ExitKind,
    ExitReason,
    FileLevel,
    FindingCheck,
    FollowUpOutcome,
    Level,
    Material,
    Role,
    WorkerKind,
)

MAX_TOKEN_SECONDS = int(MAX_TTL.total_seconds())

Money = Annotated[
    Decimal,
    msgspec.Meta(
        description="yuan, as a decimal string with at most two decimals",
        examples=["550.00"],
        # litestar's OpenAPI generator reads `extra` into the field's schema: the pattern is
        # documented, and enforced at the edge (adapters/http/validation.py)
        extra_json_schema={"extra": {"pattern": MONEY_PATTERN}},
    ),
]
Day = Annotated[
    date, msgspec.Meta(description="business date, not in the future", examples=["2026-03-09"])
]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class _In(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request body: it takes no unknown field."""


class CommandBody(Protocol):
    """The body of a lifecycle command's route: it builds its typed command (`domain.commands`),
    so mypy refuses a body whose fields no longer fit the command it drives."""

    def command(self) -> commands.LifecycleCommand: ...


class ApplicationIn(_In, kw_only=True, forbid_unknown_fields=True):
    """申请: a written application, with the signed authorisation (授权书)."""

    establishing_unit: Annotated[str, msgspec.Meta(examples=["130306001"])]
    worker_kind: WorkerKind
    head: Head
    applied_on: Day
    authorisation_signed: bool
    statement: Text = ""
    materials: list[Material] = []
    region: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")] | None = None
    scheme: CategoryScheme = CategoryScheme.V2019
    file_id: UUID | None = None
    filed_by: Annotated[str, msgspec.Meta(max_length=64)] = ""  # 建档人
    entered_by: Annotated[str, msgspec.Meta(max_length=64)] = ""  # 录入人

    def command(self) -> commands.Apply:
        return commands.Apply(
            file_id=self.file_id,
            establishing_unit=self.establishing_unit,
            worker_kind=self.worker_kind,
            head=self.head,
            applied_on=self.applied_on,
            authorisation_signed=self.authorisation_signed,
            statement=self.statement,
            materials=tuple(self.materials),
            region=self.region,
            scheme=self.scheme,
            filed_by=self.filed_by,
            entered_by=self.entered_by,
        )


class VerificationIn(_In, kw_only=True, forbid_unknown_fields=True):
    """入户调查: at least two investigators."""

    verified_on: Day
    investigators: Annotated[list[Name], msgspec.Meta(examples=[["赵立新", "钱丽华"]])]
    members: list[Member] = []
    annual_income: Money
    rigid_expenses: Money
    exclusions: Exclusions = Exclusions()
    primary_cause: Cause
    secondary_causes: list[Cause] = []
    accidental_event: bool = False
    hardship_losses: Money = Decimal("0")
    # optional: the line in force for the region on the date decides; if sent it must be that one
    poverty_line: Money | None = None
    materials: list[Material] = []
    narrative: Text = ""
    cites: Annotated[
        list[UUID],
        msgspec.Meta(
            max_length=50,
            description="ids of attachments of this file the step rests on (附件编号)",
        ),
    ] = []

    def command(self) -> commands.Verify:
        return commands.Verify(
            verified_on=self.verified_on,
            investigators=tuple(self.investigators),
            members=tuple(self.members),
            annual_income=self.annual_income,
            rigid_expenses=self.rigid_expenses,
            exclusions=self.exclusions,
            primary_cause=self.primary_cause,
            secondary_causes=tuple(self.secondary_causes),
            accidental_event=self.accidental_event,
            hardship_losses=self.hardship_losses,
            poverty_line=self.poverty_line,
            materials=tuple(self.materials),
            narrative=self.narrative,
            cites=tuple(self.cites),
        )


class AppraisalIn(_In, kw_only=True, forbid_unknown_fields=True):
    """民主评议 and 公示."""

    appraised_on: Day
    minutes_on_file: bool
    publicity_start: Day
    publicity_end: Day
    objections: Annotated[int, msgspec.Meta(ge=0)] = 0
    objections_resolved: Annotated[int, msgspec.Meta(ge=0)] = 0
    base_opinion: Text = ""  # 基层工会意见
    meeting_id: Annotated[
        UUID | None,
        msgspec.Meta(
            description="the 民主评议 meeting of the file's union that voted on it "
            "(POST /units/{code}/meetings); held on `appraised_on`, listing and passing the file"
        ),
    ] = None

    def command(self) -> commands.Appraise:
        return commands.Appraise(
            appraised_on=self.appraised_on,
            minutes_on_file=self.minutes_on_file,
            publicity_start=self.publicity_start,
            publicity_end=self.publicity_end,
            objections=self.objections,
            objections_resolved=self.objections_resolved,
            base_opinion=self.base_opinion,
            meeting_id=self.meeting_id,
        )


Count = Annotated[int, msgspec.Meta(ge=0, le=100_000)]


class VoteIn(_In, kw_only=True, forbid_unknown_fields=True):
    """The votes on one file (表决结果): for, against, abstaining."""

    file_id: UUID
    in_favour: Count
    against: Count = 0
    abstaining: Count = 0


class MeetingIn(_In, kw_only=True, forbid_unknown_fields=True):
    """民主评议会议记录: a base union's appraisal meeting and its votes, one per file."""

    held_on: Day
    place: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    chair: Name
    recorder: Name
    attendees: Annotated[list[Name], msgspec.Meta(min_length=1, max_length=500)]
    expected: Count
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    votes: Annotated[list[VoteIn], msgspec.Meta(min_length=1, max_length=1000)]
    meeting_id: UUID | None = None  # the client's id for the meeting (default: a new one)


class AssessmentItemIn(_In, kw_only=True, forbid_unknown_fields=True):
    goal: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    measures: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    completion: Text = ""


class AssessmentIn(_In, kw_only=True, forbid_unknown_fields=True):
    """解困脱困考核表: the unit's expected goals, measures and completion for a period."""

    period: Annotated[str, msgspec.Meta(examples=["2026"], max_length=7)]
    recorded_on: Day
    items: Annotated[list[AssessmentItemIn], msgspec.Meta(min_length=1, max_length=50)]
    opinion: Text = ""
    responsible: Annotated[str, msgspec.Meta(max_length=64)] = ""
    liaison: Annotated[str, msgspec.Meta(max_length=64)] = ""
    reviewer_opinion: Text = ""


class ApprovalIn(_In, kw_only=True, forbid_unknown_fields=True):
    """审核认定 by a district (county) union or above."""

    approved_on: Day
    file_level: FileLevel
    poverty_line: Money | None = None  # optional: if sent, the line in force
    opinion: Text = ""
    cites: Annotated[
        list[UUID],
        msgspec.Meta(
            max_length=50,
            description="ids of attachments of this file the step rests on (附件编号)",
        ),
    ] = []
    reviewed_by: Annotated[str, msgspec.Meta(max_length=64)] = ""  # 审核人
    system_opinion: Text = ""  # 系统工会意见, dated
    system_opinion_on: Day | None = None

    def command(self) -> commands.Approve:
        return commands.Approve(
            approved_on=self.approved_on,
            file_level=self.file_level,
            poverty_line=self.poverty_line,
            opinion=self.opinion,
            cites=tuple(self.cites),
            reviewed_by=self.reviewed_by,
            system_opinion=self.system_opinion,
            system_opinion_on=self.system_opinion_on,
        )


class SendBackIn(_In, kw_only=True, forbid_unknown_fields=True):
    sent_back_on: Day
    reason: Text

    def command(self) -> commands.SendBack:
        return commands.SendBack(sent_back_on=self.sent_back_on, reason=self.reason)


class RejectionIn(_In, kw_only=True, forbid_unknown_fields=True):
    rejected_on: Day
    reason: Text

    def command(self) -> commands.Reject:
        return commands.Reject(rejected_on=self.rejected_on, reason=self.reason)


class AssistanceIn(_In, kw_only=True, forbid_unknown_fields=True):
    assisted_on: Day
    kind: AssistanceKind
    amount: Money
    department: Department
    helper: Annotated[str, msgspec.Meta(max_length=64)] = ""
    note: Text = ""
    # 临时救助: the only aid a file due to exit takes until it exits or is kept
    emergency: bool = False

    def command(self) -> commands.Assist:
        return commands.Assist(
            assisted_on=self.assisted_on,
            kind=self.kind,
            amount=self.amount,
            department=self.department,
            helper=self.helper,
            note=self.note,
            emergency=self.emergency,
        )


class PlanIn(_In, kw_only=True, forbid_unknown_fields=True):
    """帮扶计划 (解困脱困方案): the measures as lines, or one by one in `tasks` with their kind,
    departments, leaders, contacts, deadline and completion; the helping unit and the pairing's
    two contacts (结对帮扶, 两级联系人)."""

    agreed_on: Day
    helper: Name
    measures: list[Text] = []
    goals: Text
    deadline: date
    signed_by_worker: bool
    tasks: Annotated[list[PlanMeasure], msgspec.Meta(max_length=50)] = []
    helping_unit: Annotated[str, msgspec.Meta(max_length=200)] = ""
    pairing: Pairing | None = None

    def command(self) -> commands.AgreePlan:
        return commands.AgreePlan(
            agreed_on=self.agreed_on,
            helper=self.helper,
            measures=tuple(self.measures),
            goals=self.goals,
            deadline=self.deadline,
            signed_by_worker=self.signed_by_worker,
            tasks=tuple(self.tasks),
            helping_unit=self.helping_unit,
            pairing=self.pairing,
        )


class VisitIn(_In, kw_only=True, forbid_unknown_fields=True):
    visited_on: Day
    cadre: Name
    content: Text
    quarter_income: Money | None = None
    quarter_costs: Money | None = None  # with `costs`: their total (or left out)
    cadre_unit: Annotated[str, msgspec.Meta(max_length=200)] = ""
    cadre_post: Annotated[str, msgspec.Meta(max_length=64)] = ""
    cadre_phone: Annotated[str, msgspec.Meta(max_length=32)] = ""
    costs: QuarterCosts | None = None
    helper_opinion: Text = ""
    head_opinion: Text = ""
    needs: Annotated[list[Need], msgspec.Meta(max_length=8)] = []

    def command(self) -> commands.Visit:
        return commands.Visit(
            visited_on=self.visited_on,
            cadre=self.cadre,
            content=self.content,
            quarter_income=self.quarter_income,
            quarter_costs=self.quarter_costs,
            cadre_unit=self.cadre_unit,
            cadre_post=self.cadre_post,
            cadre_phone=self.cadre_phone,
            costs=self.costs,
            helper_opinion=self.helper_opinion,
            head_opinion=self.head_opinion,
            needs=tuple(self.needs),
        )


class RevisionIn(_In, kw_only=True, forbid_unknown_fields=True):
    effective_on: Day
    reason: Text
    head: Head | None = None
    members: list[Member] | None = None
    annual_income: Money | None = None
    rigid_expenses: Money | None = None
    hardship_losses: Money | None = None
    materials: list[Material] = []
    # facts found after approval: the exclusion answers (a second home, a car: a newly found
    # one makes the file exit due), the causes, the accidental flag
    exclusions: Exclusions | None = None
    primary_cause: Cause | None = None
    secondary_causes: list[Cause] | None = None
    accidental_event: bool | None = None

    def command(self) -> commands.Revise:
        return commands.Revise(
            effective_on=self.effective_on,
            reason=self.reason,
            head=self.head,
            members=None if self.members is None else tuple(self.members),
            annual_income=self.annual_income,
            rigid_expenses=self.rigid_expenses,
            hardship_losses=self.hardship_losses,
            materials=tuple(self.materials),
            exclusions=self.exclusions,
            primary_cause=self.primary_cause,
            secondary_causes=None
            if self.secondary_causes is None
            else tuple(self.secondary_causes),
            accidental_event=self.accidental_event,
        )


class RecheckIn(_In, kw_only=True, forbid_unknown_fields=True):
    rechecked_on: Day
    poverty_line: Money | None = None  # optional: if sent, the line in force

    def command(self) -> commands.Recheck:
        return commands.Recheck(rechecked_on=self.rechecked_on, poverty_line=self.poverty_line)


class ExitIn(_In, kw_only=True, forbid_unknown_fields=True):
    exited_on: Day
    kind: ExitKind
    reason: ExitReason
    explanation: Text
    evidence: list[Annotated[str, msgspec.Meta(max_length=256)]]
    months_above_line: int | None = None
    cites: Annotated[
        list[UUID],
        msgspec.Meta(
            max_length=50,
            description="ids of attachments of this file the step rests on (附件编号)",
        ),
    ] = []
    kept_file_id: Annotated[
        UUID | None,
        msgspec.Meta(
            description="重复建档 (reason `duplicate`): the file kept for the same person"
            " (保留的档案编号)"
        ),
    ] = None

    def command(self) -> commands.Exit:
        return commands.Exit(
            exited_on=self.exited_on,
            kind=self.kind,
            reason=self.reason,
            explanation=self.explanation,
            evidence=tuple(self.evidence),
            months_above_line=self.months_above_line,
            cites=tuple(self.cites),
            kept_file_id=self.kept_file_id,
        )


class CategoryConfirmationIn(_In, kw_only=True, forbid_unknown_fields=True):
    """审核确认: an approver (district or above) confirms the category a re-check found."""

    confirmed_on: Day
    opinion: Text = ""

    def command(self) -> commands.ConfirmCategory:
        return commands.ConfirmCategory(confirmed_on=self.confirmed_on, opinion=self.opinion)


class KeepIn(_In, kw_only=True, forbid_unknown_fields=True):
    """保留: an approver (district or above) keeps a file that is due to exit, saying why."""

    kept_on: Day
    reason: Text

    def command(self) -> commands.Keep:
        return commands.Keep(kept_on=self.kept_on, reason=self.reason)


class FindingCheckIn(_In, kw_only=True, forbid_unknown_fields=True):
    """民政比对核实: the check of a civil-affairs finding — `confirmed` (say what was done) or
    `unfounded` (say why)."""

    checked_on: Day
    finding: Annotated[str, msgspec.Meta(max_length=64, examples=["vehicle_not_declared"])]
    result: FindingCheck
    reason: Text

    def command(self) -> commands.CheckFinding:
        return commands.CheckFinding(
            checked_on=self.checked_on,
            finding=self.finding,
            result=self.result,
            reason=self.reason,
        )


class FollowUpIn(_In, kw_only=True, forbid_unknown_fields=True):
    """回头看: what a follow-up visit to an exited household found; `back_in_hardship` (with
    the `cause`) re-opens the file (返困)."""

    followed_up_on: Day
    cadre: Name
    result: FollowUpOutcome
    note: Text = ""
    cause: Cause | None = None

    def command(self) -> commands.FollowUp:
        return commands.FollowUp(
            followed_up_on=self.followed_up_on,
            cadre=self.cadre,
            result=self.result,
            note=self.note,
            cause=self.cause,
        )


class ReturnIn(_In, kw_only=True, forbid_unknown_fields=True):
    returned_on: Day
    reason: Text
    cause: Cause

    def command(self) -> commands.Return:
        return commands.Return(returned_on=self.returned_on, reason=self.reason, cause=self.cause)


class TransferIn(_In, kw_only=True, forbid_unknown_fields=True):
    transferred_on: Day
    to_unit: Annotated[str, msgspec.Meta(examples=["130306002"])]
    reason: Text

    def command(self) -> commands.Transfer:
        return commands.Transfer(
            transferred_on=self.transferred_on, to_unit=self.to_unit, reason=self.reason
        )


class ErasureIn(_In, kw_only=True, forbid_unknown_fields=True):
    """销毁个人信息: why the household's personal data is erased (no personal data here)."""

    reason: Annotated[
        str,
        msgspec.Meta(
            min_length=1, max_length=200, examples=["本人依《个人信息保护法》申请删除个人信息"]
        ),
    ]


# ------------------------------------------------------------------------------------ responses


class PersonOut(msgspec.Struct, kw_only=True):
    name: str
    id_number: str
    relation: str | None = None
    phone: str | None = None
    bank_card: str | None = None
    status: str | None = None
    annual_income: Decimal | None = None
    # a member's seed 002 表三 columns (issue 14)
    education: str | None = None
    insurance: list[str] | None = None
    skills: str | None = None
    workplace: str | None = None


class HousingOut(msgspec.Struct, kw_only=True):
    kind: str | None
    structure: str | None
    area: Decimal | None
    dilapidated: bool | None


class ProfileOut(msgspec.Struct, kw_only=True):
    """The head's 档案表 profile (issue 14) as codes; `lines` gives it in Chinese, as the
    console shows it. Personal parts (户籍所在地, 残疾, 主要财产) are masked unless unmasked."""

    political_status: str | None
    marital_status: str | None
    education: str | None
    hukou_type: str | None
    hukou_place: str
    housing: HousingOut | None
    home_housing: HousingOut | None
    work_status: str | None
    employer_nature: str | None
    model_worker: str | None
    disability: str
    disability_grade: str
    main_property: str
    wishes: str
    aid_types: list[str]
    lines: list[list[str]]


class MeansOut(msgspec.Struct, kw_only=True):
    annual_income: Decimal
    rigid_expenses: Decimal
    members_living_together: int
    hardship_losses: Decimal
    adjusted_per_capita: Decimal


class FileOut(msgspec.Struct, kw_only=True):
    id: UUID
    version: int
    status: str
    status_label: str
    establishing_unit: str
    region: str
    scheme: str
    worker_kind: str
    head: PersonOut
    members: list[PersonOut]
    means: MeansOut | None
    primary_cause: str | None
    secondary_causes: list[str]
    category: Category | None
    category_label: str | None
    file_level: FileLevel | None
    poverty_line: Decimal | None
    applied_on: date
    verified_on: date | None
    approved_on: date | None
    exited_on: date | None
    exit_kind: str | None
    assistance_count: int
    assistance_total: Decimal
    last_assisted_on: date | None
    last_visited_on: date | None
    last_rechecked_on: date | None
    helper: str | None
    returns: int
    transfers: int
    materials: list[str]
    modified_at: datetime
    masked: bool
    profile: ProfileOut | None = None


class ErasureOut(msgspec.Struct, kw_only=True):
    file_id: UUID
    version: int
    erased_on: date
    # events stored in clear before personal data was encrypted: their personal data stays
    plaintext_events: int


class ActorOut(msgspec.Struct):
    user: str
    unit: str
    role: str


class EventOut(msgspec.Struct, kw_only=True):
    stream_id: UUID
    version: int
    type: str
    recorded_at: datetime
    actor: ActorOut | None
    fields: dict[str, Any]
    hash: str
    refers_to: UUID | None = None


class TrailOut(msgspec.Struct, kw_only=True):
    file_id: UUID
    version: int
    events: list[EventOut]
    masked: bool


class UnitOut(msgspec.Struct):
    code: str
    name: str
    parent: str | None
    level: str
    level_label: str
    kind: str = "regional"  # domain.values.UnitKind
    kind_label: str = "地方总工会"
    approves: bool = False  # approves its subtree's files (区县级及以上, or registered so)


class UnitIn(msgspec.Struct, forbid_unknown_fields=True):
    """A unit below a registered parent. A non-geographic union (产业 C, 系统 X, 企业 Q: "13C01")
    states the level it acts at (default district) and whether it approves its subtree's files;
    a region's and a base-level union's follow from the code."""

    code: Annotated[str, msgspec.Meta(examples=["130306011"])]
    name: Annotated[
        str, msgspec.Meta(min_length=1, max_length=100, examples=["抚宁区某某公司工会"])
    ]
    level: Level | None = None
    approves: bool | None = None


class RenameIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class TokenIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A token for a user of a unit in the admin's subtree, with a role and a bounded lifetime."""

    user: Annotated[
        str,
        msgspec.Meta(
            min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$", examples=["clerk-li"]
        ),
    ]
    unit: Annotated[str, msgspec.Meta(max_length=12, examples=["130306001"])]
    role: Role
    ttl_seconds: Annotated[
        int,
        msgspec.Meta(
            ge=60,
            le=MAX_TOKEN_SECONDS,
            description="lifetime in seconds (at most 30 days); the token never outlives the "
            "admin's own",
            examples=[28800],
        ),
    ] = 8 * 3600


class TokenOut(msgspec.Struct, kw_only=True):
    token: str
    token_type: str
    token_id: str  # the token's `jti`, as written in the audit log
    user: str
    unit: str
    role: str
    expires_at: datetime


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = {}


# ------------------------------------------------------------------------------ read models


class LedgerSort(StrEnum):
    """The sorts the ledger offers; `-` in front sorts descending."""

    APPLIED_ON = "applied_on"
    APPLIED_ON_DESC = "-applied_on"
    APPROVED_ON = "approved_on"
    APPROVED_ON_DESC = "-approved_on"
    HEAD_NAME = "head_name"
    HEAD_NAME_DESC = "-head_name"
    ASSISTANCE_TOTAL = "assistance_total"
    ASSISTANCE_TOTAL_DESC = "-assistance_total"
    UPDATED_AT = "updated_at"
    UPDATED_AT_DESC = "-updated_at"


class DueKind(StrEnum):
    VISITS = "visits"  # 走访逾期
    RECHECKS = "rechecks"  # 年度复核到期
    FOLLOW_UP = "follow_up"  # 回头看
    EXIT = "exit"  # 应予退出: due to exit, not yet exited or kept


class LedgerItem(msgspec.Struct, kw_only=True):
    """One row of the ledger (台账): codes with their Chinese labels beside them; the ID number
    and phone masked (the keyed hash is never shown)."""

    file_id: UUID
    unit: str
    unit_name: str | None
    district: str
    status: str
    status_label: str
    # under regular aid (常态化帮扶): approved, or relieved (解困) and still assisted and visited
    regular_aid: bool
    category: str | None
    category_label: str | None
    file_level: str | None
    file_level_label: str | None
    worker_kind: str
    worker_kind_label: str
    primary_cause: str | None
    primary_cause_label: str | None
    secondary_causes: list[str]
    secondary_cause_labels: list[str]
    head_name: str
    head_sex: str | None
    head_sex_label: str | None
    id_masked: str
    phone_masked: str
    employer: str
    address: str
    applied_on: date
    approved_on: date | None
    last_assisted_on: date | None
    last_visited_on: date | None
    next_recheck_due: date | None
    exited_on: date | None
    exit_kind: str | None
    exit_kind_label: str | None
    assistance_count: int
    assistance_total: Decimal
    returns: int
    version: int
    updated_at: datetime
    # 民政比对: the kinds civil affairs' lists matched (dibao, property, vehicle, business, death),
    # the day of the latest matching run naming the file, and the findings a clerk must still act
    # on (rule ids), each with its Chinese words beside it.
    civil_affairs: list[str]
    civil_affairs_labels: list[str]
    civil_affairs_on: date | None
    civil_affairs_to_act: list[str]
    civil_affairs_to_act_labels: list[str]
    # re-checks with consequences: why the file is due to exit and since when (no new regular
    # aid until it exits or an approver keeps it), and the category a re-check found, waiting
    # for an approver's confirmation on the approvals queue
    exit_due: str | None = None
    exit_due_on: date | None = None
    category_pending: str | None = None
    category_pending_label: str | None = None
    # the head's profile a clerk filters by (issue 14)
    political_status: str | None = None
    political_status_label: str | None = None
    model_worker: str | None = None
    model_worker_label: str | None = None
    dilapidated: bool | None = None


class LedgerPage(msgspec.Struct, kw_only=True):
    """A page of the ledger; pass `next` as `cursor` (with the same filters and sort) for the
    next page, until it is null."""

    items: list[LedgerItem]
    next: str | None


class QueueOut(msgspec.Struct, kw_only=True):
    """The approval queue: files appraised and publicised, awaiting the district's decision."""

    unit: str
    total: int
    items: list[LedgerItem]
    next: str | None = None  # pass as `cursor` for the next page; null on the last


class DueItem(LedgerItem, kw_only=True):
    due_on: date


class DueOut(msgspec.Struct, kw_only=True):
    unit: str
    kind: DueKind
    kind_label: str
    as_of: date
    visit_days: int
    follow_up_months: int
    total: int
    items: list[DueItem]
    next: str | None = None  # pass as `cursor` (with the same parameters) for the next page


class DuplicateFileOut(msgspec.Struct, kw_only=True):
    file_id: UUID
    unit: str
    unit_name: str | None
    status: str
    status_label: str
    head_name: str
    role: str  # the person is this file's "head" or a "member"
    role_label: str


class DuplicateOut(msgspec.Struct, kw_only=True):
    """One person in more than one open file (一户一档): the files in the caller's subtree, and
    only the number of the others."""

    id_masked: str | None  # when the person heads one of the files shown
    files: list[DuplicateFileOut]
    other_files: int


class DuplicatesOut(msgspec.Struct, kw_only=True):
    unit: str
    total: int  # people in all, on every page
    items: list[DuplicateOut]
    next: str | None = None  # pass as `cursor` (with the same `unit`) for the next page


class Figure(msgspec.Struct, kw_only=True):
    key: str
    label: str
    count: int


class StockGroup(msgspec.Struct, kw_only=True):
    dimension: str
    label: str
    figures: list[Figure]


class FlowFigure(msgspec.Struct, kw_only=True):
    key: str
    label: str
    count: int
    amount: Decimal


class FlowGroup(msgspec.Struct, kw_only=True):
    metric: str
    label: str
    figures: list[FlowFigure]


class UnitFigures(msgspec.Struct, kw_only=True):
    unit: str
    name: str | None
    level: str
    level_label: str
    stock: list[StockGroup]
    flow: list[FlowGroup]


class StatsOut(msgspec.Struct, kw_only=True):
    """The figures of a unit: files now (by status; approved files by category, file level,
    cause and worker kind) and in a period (new, exits, returns, assistance); with `level`, the
    same figures of each unit at that level below it."""

    period: str
    figures: UnitFigures
    level: str | None
    level_label: str | None
    children: list[UnitFigures]
    next: str | None = None  # with `level`: pass as `cursor` for the next page of children


# ------------------------------------------------------------------------------ examples

EXAMPLES: dict[type[msgspec.Struct], dict[str, Any]] = {
    MeetingIn: {
        "held_on": "2026-03-12",
        "place": "机械厂工会会议室",
        "chair": "刘建国",
        "recorder": "陈丽",
        "attendees": ["刘建国", "陈丽", "王海燕", "孙志刚", "周春梅"],
        "expected": 7,
        "summary": "评议申请建档职工家庭困难情况，逐户无记名表决",
        "votes": [
            {
                "file_id": "0f5e8f2a-3c1d-4b6e-9a7f-2d4c6b8e1a30",
                "in_favour": 5,
                "against": 0,
                "abstaining": 0,
            }
        ],
    },
    AssessmentIn: {
        "period": "2026",
        "recorded_on": "2026-11-20",
        "items": [
            {
                "goal": "帮助2户困难职工解困脱困",
                "measures": "一户一策，落实医保和就业帮扶",
                "completion": "已完成2户",
            }
        ],
        "opinion": "目标完成",
        "responsible": "刘建国",
        "liaison": "陈丽",
    },
    ApplicationIn: {
        "establishing_unit": "130306001",
        "worker_kind": "urban",
        "head": {
            "name": "张𠀀",
            "id_number": "130306197805060111",
            "phone": "13912345678",
            "employer": "抚宁区机械厂",
            "address": "抚宁区建设路12号",
            "bank_card": "6222021234567890123",
            "political_status": "masses",
            "marital_status": "married",
            "education": "senior",
            "hukou_type": "urban",
            "hukou_place": "河北省秦皇岛市抚宁区",
            "housing": {
                "kind": "bought",
                "structure": "brick_concrete",
                "area": "56.00",
                "dilapidated": False,
            },
            "work_status": "employed",
            "employer_nature": "state_owned",
            "model_worker": "none",
            "main_property": "电动自行车一辆",
            "wishes": "妻子病情稳定，本人稳定就业",
            "aid_types": ["medical", "training"],
        },
        "applied_on": "2026-03-02",
        "authorisation_signed": True,
        "statement": "妻子患病，家庭收入低，申请建档",
        "materials": ["id_copy", "hukou_copy", "income_proof"],
        "filed_by": "李秀英",
        "entered_by": "李秀英",
    },
    VerificationIn: {
        "verified_on": "2026-03-09",
        "investigators": ["赵立新", "钱丽华"],
        "members": [
            {
                "name": "王𪚥",
                "relation": "spouse",
                "id_number": "130306198002030220",
                "status": "unemployed",
                "annual_income": "0",
                "health": "大病",
                "education": "junior",
                "insurance": ["A1", "B1"],
                "skills": "缝纫",
                "workplace": "无",
            }
        ],
        "annual_income": "9600",
        "rigid_expenses": "1200",
        "exclusions": {"two_or_more_homes": False, "car_or_luxury": False},
        "primary_cause": "illness",
        "secondary_causes": ["low_wage"],
        "poverty_line": "550",
        "materials": ["diagnosis", "medical_bills", "income_proof"],
        "narrative": "入户调查核实家庭成员、收入及财产情况属实",
    },
    AppraisalIn: {
        "appraised_on": "2026-03-12",
        "minutes_on_file": True,
        "publicity_start": "2026-03-13",
        "publicity_end": "2026-03-20",
        "objections": 0,
        "objections_resolved": 0,
        "base_opinion": "经民主评议，同意上报",
    },
    ApprovalIn: {
        "approved_on": "2026-03-25",
        "file_level": "district",
        "poverty_line": "550",
        "opinion": "经审核符合困难职工建档条件，同意建档",
        "reviewed_by": "王建国",
        "system_opinion": "情况属实，同意",
        "system_opinion_on": "2026-03-23",
    },
    SendBackIn: {"sent_back_on": "2026-03-24", "reason": "收入证明材料不全，请补充后重新上报"},
    RejectionIn: {"rejected_on": "2026-03-24", "reason": "家庭人均收入超过认定标准"},
    ErasureIn: {"reason": "本人依《个人信息保护法》申请删除个人信息（申请书编号2026-17）"},
    AssistanceIn: {
        "assisted_on": "2026-04-01",
        "kind": "living_aid",
        "amount": "800.00",
        "department": "union",
        "helper": "孙志刚",
        "note": "元旦春节送温暖",
    },
    PlanIn: {
        "agreed_on": "2026-04-02",
        "helper": "孙志刚",
        "measures": ["发放生活救助金", "推荐就业岗位"],
        "goals": "两年内实现稳定就业",
        "deadline": "2028-04-01",
        "signed_by_worker": True,
        "tasks": [
            {
                "kind": "medical_insurance",
                "content": "配偶大病医疗救助",
                "department": "区医保局",
                "lead_unit": "抚宁区总工会",
                "lead_leader": "刘副主席",
                "union_leader": "陈主席",
                "pairing_contact": "孙志刚",
                "union_contact": "李秀英",
                "deadline": "2026-12-31",
            }
        ],
        "helping_unit": "抚宁区机械厂工会",
        "pairing": {
            "cadre_unit": "抚宁区总工会",
            "cadre_post": "科员",
            "cadre_phone": "0335-6012345",
            "union_contact": "李秀英",
            "union_contact_phone": "0335-6019876",
        },
    },
    VisitIn: {
        "visited_on": "2026-07-01",
        "cadre": "周海燕",
        "content": "季度走访，了解家庭收支",
        "quarter_income": "3600.00",
        "quarter_costs": "2800.00",
        "cadre_unit": "抚宁区总工会",
        "cadre_post": "科员",
        "cadre_phone": "0335-6012345",
        "costs": {
            "insurance": "600.00",
            "education": "400.00",
            "medical": "900.00",
            "housing": "300.00",
            "living": "600.00",
        },
        "helper_opinion": "继续落实医疗救助",
        "head_opinion": "感谢帮扶",
        "needs": [
            {
                "kind": "medical_insurance",
                "problem": "配偶大病自付费用高",
                "policies": "已参加城镇职工医疗保险",
                "suggestion": "申请大病医疗救助",
            }
        ],
    },
    RevisionIn: {
        "effective_on": "2026-08-01",
        "reason": "配偶实现就业",
        "annual_income": "18000",
        "materials": ["income_proof"],
    },
    RecheckIn: {"rechecked_on": "2027-03-25"},
    ExitIn: {
        "exited_on": "2027-06-30",
        "kind": "out_of_hardship",
        "reason": "income_above_line",
        "explanation": "经核查家庭人均收入连续六个月高于低保标准",
        "evidence": ["工资收入证明", "入户核查记录"],
        "months_above_line": 6,
    },
    ReturnIn: {"returned_on": "2027-12-01", "reason": "家庭成员突发重病", "cause": "illness"},
    CategoryConfirmationIn: {
        "confirmed_on": "2027-04-01",
        "opinion": "经审核，复核结果属实，困难类别调整为相对困难",
    },
    KeepIn: {"kept_on": "2027-04-01", "reason": "车辆为残疾人代步车，不属于不予建档情形"},
    FindingCheckIn: {
        "checked_on": "2026-07-01",
        "finding": "vehicle_not_declared",
        "result": "unfounded",
        "reason": "入户核实：车辆登记人为同名他人，身份证号码不同",
    },
    FollowUpIn: {
        "followed_up_on": "2027-09-01",
        "cadre": "周海燕",
        "result": "stable",
        "note": "配偶稳定就业，家庭收入持续高于标准",
    },
    TransferIn: {
        "transferred_on": "2026-09-01",
        "to_unit": "130306002",
        "reason": "职工调动工作单位",
    },
    UnitIn: {"code": "130306011", "name": "抚宁区某某公司工会"},
    RenameIn: {"name": "抚宁区某某集团公司工会"},
    TokenIn: {"user": "clerk-li", "unit": "130306001", "role": "clerk", "ttl_seconds": 28800},
}


# ------------------------------------------------------------------------------ the document

# The domain's value types that request bodies carry; like the bodies, they take no unknown field
# (adapters/http/validation.py refuses one).
REQUEST_VALUE_TYPES = (
    Head,
    Member,
    Exclusions,
    Housing,
    Land,
    Pairing,
    PlanMeasure,
    Need,
    QuarterCosts,
)


class ClosedStructs(StructSchemaPlugin):
    """Documents a request body that refuses unknown fields (`forbid_unknown_fields`) as such:
    `additionalProperties: false`, so that a client or a fuzzer reading the document sends only
    the fields the API takes."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return super().is_plugin_supported_field(field_definition) and bool(
            field_definition.type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Any:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema


class ClosedValueTypes(DataclassSchemaPlugin):
    """The same for the domain's value types in request bodies."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return field_definition.type_ in REQUEST_VALUE_TYPES

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Any:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema


OPENAPI_PLUGINS = [ClosedStructs(), ClosedValueTypes()]
