"""The console's forms as one table: each lifecycle action (and the application) is an `Action`,
whose fields are the JSON paths of the API's body (`adapters/http/schemas.py`). A posted form
becomes that body, is checked as the API checks it (`adapters.http.validation.body_errors`),
builds its typed command (`domain.commands`) and runs through the same use case; the errors —
the body's and the domain's (`DomainError.field`) — come back beside their fields, in Chinese.

Adding a command to the console is one `Action` in `ACTIONS`: its URL segment (as the API's
route), its body, its step (`CommandKind`, for the statuses it may start from), the acts that
allow it (`domain.authorization`), its fields and, for a step that waits for something on the
file (a category to confirm, an exit due), `when`. Nothing else changes: the file page offers
it where the file's status and the account's role allow, and the post route serves every entry.

No form asks for the poverty line: decisions are judged by the regional parameters in force
(docs/rules.md), and the API's `poverty_line`, optional, only checks a caller's copy of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import msgspec

from adapters.http.schemas import (
    ApplicationIn,
    AppraisalIn,
    ApprovalIn,
    AssistanceIn,
    CategoryConfirmationIn,
    ExitIn,
    FindingCheckIn,
    FollowUpIn,
    KeepIn,
    PlanIn,
    RecheckIn,
    RejectionIn,
    ReturnIn,
    RevisionIn,
    SendBackIn,
    TransferIn,
    VerificationIn,
    VisitIn,
)
from adapters.http.validation import body_errors
from domain.authorization import Act, may
from domain.civil_affairs import FINDINGS
from domain.eligibility import EXCLUSION_LABELS_ZH
from domain.errors import FIELDS_ZH, DomainError, field_zh
from domain.household import (
    ALLOWED_FROM,
    CHECKABLE_FINDINGS,
    MAX_TEXT,
    CommandKind,
    HouseholdFile,
)
from domain.privacy import MASKS
from domain.values import (
    Actor,
    AidType,
    AssistanceKind,
    CategoryScheme,
    Cause,
    Department,
    DisabilityGrade,
    DisabilityKind,
    Education,
    EmployerNature,
    ExitKind,
    ExitReason,
    FileLevel,
    FindingCheck,
    FollowUpOutcome,
    HousingStructure,
    HousingType,
    HukouType,
    Insurance,
    Level,
    MaritalStatus,
    Material,
    MemberStatus,
    ModelWorker,
    NeedKind,
    PoliticalStatus,
    Relation,
    WorkerKind,
    WorkStatus,
    label,
)

MEMBER_ROWS = 4  # blank member rows an investigation's form offers
TASK_ROWS = 3  # blank task rows a plan's form offers (a blank row is ignored)
NEED_ROWS = 3  # blank 困难清单 rows a visit's form offers
# the lists a form offers as repeated rows, and a row's box title
ROW_TITLES = {"members": "家庭成员", "tasks": "帮扶任务", "needs": "困难清单"}
YES_NO = (("yes", "是"), ("no", "否"))


@dataclass(frozen=True)
class Field:
    """One input: `path` is the field's JSON path in the body (`head.name`, `members[0].relation`).

    `kind`: date, money, text, textarea, int, bool, choice (one of `options`), choices (any of
    them), lines (a list, one item a line), yesno (是, 否 or not recorded). `group`: the box it
    is drawn in (its title), for fields the paper form groups; `migrant`: recorded for migrant
    workers only (a file's form leaves it out for the others)."""

    path: str
    kind: str
    zh: str
    en: str = ""
    options: type[StrEnum] | None = None
    required: bool = False
    today: bool = False  # a date field that starts at today
    listed: tuple[tuple[str, str], ...] = ()  # a choice's codes and labels, when not an enum
    group: str = ""
    migrant: bool = False

    @property
    def input_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9]+", "-", self.path).strip("-")

    def choices(self) -> list[tuple[str, str]]:
        if self.kind == "yesno":
            return list(YES_NO)
        return [(m.value, label(m)) for m in self.options] if self.options else list(self.listed)


@dataclass(frozen=True)
class Action:
    """One form: the API's body it builds, the step it is (None for the application) and the
    acts that allow it."""

    slug: str
    body: type[msgspec.Struct]
    zh: str
    en: str
    step: CommandKind | None
    acts: tuple[Act, ...]
    fields: tuple[Field, ...] = field(default_factory=tuple)
    when: Callable[[HouseholdFile], bool] | None = None  # what the file must be waiting for
    head_title: str = ""  # the box of the head's fields, when they are one
    hints: dict[str, str] = field(default_factory=dict)  # a field's placeholder: its value now

    def groups(self) -> list[tuple[str, list[Field]]]:
        """The fields in groups to draw: each repeated row (a member, a task, a need), the
        exclusions and the fields of a `group` in a box of their own (titled), the others one
        by one (untitled)."""
        found: list[tuple[str, list[Field]]] = []
        for f in self.fields:
            row = _ROW_PATH.match(f.path)
            title = (
                f.group
                if f.group
                else f"{ROW_TITLES[row.group(1)]} {int(row.group(2)) + 1}"
                if row
                else "排除条件（符合任一项不予建档）"
                if f.path.startswith("exclusions.")
                else self.head_title
                if f.path.startswith("head.")
                else ""
            )
            if title and found and found[-1][0] == title:
                found[-1][1].append(f)
            else:
                found.append((title, [f]))
        return found

    def offered(self, actor: Actor, household: HouseholdFile, level: Level) -> bool:
        """Whether the file page shows this form: the file's status allows the step and the
        account's role and acting `level` (the registry's, domain/units.py) allow one of its
        acts (the domain still decides)."""
        if self.step is None:
            return False
        return (
            household.status in ALLOWED_FROM[self.step]
            and (self.when is None or self.when(household))
            and any(may(actor.role, level, act) for act in self.acts)
        )


def _member_columns(i: int, name: str) -> tuple[Field, ...]:
    """A member row's columns, in the order of seed 002 表三 (姓名, 与户主关系, 身份证号码, 状态,
    健康状况, 文化程度, 五险一金, 年收入, 特长, 单位（学校）)."""
    return (
        Field(f"members[{i}].name", "text", name, f"Member {i + 1} name"),
        Field(f"members[{i}].relation", "choice", "与户主关系", "Relation", Relation),
        Field(f"members[{i}].id_number", "text", "身份证号码", "ID number"),
        Field(f"members[{i}].status", "choice", "状态", "Status", MemberStatus),
        Field(f"members[{i}].health", "text", "健康状况", "Health"),
        Field(f"members[{i}].education", "choice", "文化程度", "Education", Education),
        Field(f"members[{i}].insurance", "choices", "五险一金缴纳情况", "Insurance", Insurance),
        Field(f"members[{i}].annual_income", "money", "年收入（元）", "Annual income"),
        Field(f"members[{i}].skills", "text", "特长", "Skills"),
        Field(f"members[{i}].workplace", "text", "单位（学校）", "Employer or school"),
    )


def _member_fields() -> tuple[Field, ...]:
    found: list[Field] = []
    for i in range(MEMBER_ROWS):
        found += _member_columns(i, f"第{i + 1}名成员姓名")
    return tuple(found)


PROFILE_TITLE = "户主基本情况（档案表）"
MIGRANT_TITLE = "农民工填写：土地及祖居地住房（城镇职工不填）"


def _profile(group: str = PROFILE_TITLE) -> tuple[Field, ...]:
    """The head's profile (domain/profile.py) in the order of the 档案表 and seed 002 表一/表二:
    the national table's personal fields, 主要意愿, the 帮扶类型 ticked, the housing where the
    household lives, 主要财产; then, a group of its own, a migrant worker's land and housing at
    home."""
    g, m = group, MIGRANT_TITLE
    return (
        Field(
            "head.political_status",
            "choice",
            "政治面貌",
            "Political status",
            PoliticalStatus,
            group=g,
        ),
        Field(
            "head.marital_status", "choice", "婚姻状况", "Marital status", MaritalStatus, group=g
        ),
        Field("head.education", "choice", "文化程度", "Education", Education, group=g),
        Field("head.hukou_type", "choice", "户口性质", "Hukou type", HukouType, group=g),
        Field("head.hukou_place", "text", "户籍所在地", "Hukou place", group=g),
        Field("head.work_status", "choice", "就业状况", "Work status", WorkStatus, group=g),
        Field(
            "head.employer_nature", "choice", "单位性质", "Employer nature", EmployerNature, group=g
        ),
        Field("head.model_worker", "choice", "劳模称号", "Model worker", ModelWorker, group=g),
        Field("head.disability", "choice", "残疾类别", "Disability", DisabilityKind, group=g),
        Field(
            "head.disability_grade",
            "choice",
            "残疾等级",
            "Disability grade",
            DisabilityGrade,
            group=g,
        ),
        Field("head.wishes", "textarea", "困难职工主要意愿", "Main wishes", group=g),
        Field(
            "head.aid_types",
            "choices",
            "帮扶类型（在所属类型上打“√”）",
            "Aid types",
            AidType,
            group=g,
        ),
        Field(
            "head.housing.kind",
            "choice",
            "住房类型（现居地，农民工填务工处居地）",
            "Housing type",
            HousingType,
            group=g,
        ),
        Field(
            "head.housing.structure",
            "choice",
            "住房结构",
            "Housing structure",
            HousingStructure,
            group=g,
        ),
        Field("head.housing.area", "money", "住房面积（㎡）", "Housing area (m²)", group=g),
        Field("head.housing.dilapidated", "yesno", "是否危房", "Dilapidated", group=g),
        Field("head.main_property", "text", "主要财产（价值500元以上）", "Main property", group=g),
        Field("head.land.paddy", "money", "耕地：水田（亩）", "Paddy (mu)", group=m, migrant=True),
        Field("head.land.dry", "money", "耕地：旱地（亩）", "Dry land (mu)", group=m, migrant=True),
        Field(
            "head.land.economic_forest",
            "money",
            "林地：经济林（亩）",
            "Economic forest (mu)",
            group=m,
            migrant=True,
        ),
        Field(
            "head.land.timber_forest",
            "money",
            "林地：用材林（亩）",
            "Timber forest (mu)",
            group=m,
            migrant=True,
        ),
        Field(
            "head.land.aquaculture",
            "money",
            "养殖水面（亩）",
            "Aquaculture (mu)",
            group=m,
            migrant=True,
        ),
        Field(
            "head.home_housing.structure",
            "choice",
            "祖居地住房结构",
            "Home housing structure",
            HousingStructure,
            group=m,
            migrant=True,
        ),
        Field(
            "head.home_housing.area",
            "money",
            "祖居地住房面积（㎡）",
            "Home housing area (m²)",
            group=m,
            migrant=True,
        ),
        Field(
            "head.home_housing.dilapidated",
            "yesno",
            "祖居地住房是否危房",
            "Home housing dilapidated",
            group=m,
            migrant=True,
        ),
    )


def _task_fields() -> tuple[Field, ...]:
    """A plan's tasks, one row each, as seed 001's 任务清单 (附件3) and seed 002 表七 list them."""
    found: list[Field] = []
    for i in range(TASK_ROWS):
        t = f"tasks[{i}]"
        found += [
            Field(f"{t}.kind", "choice", "帮扶措施类型", "Kind", NeedKind),
            Field(f"{t}.content", "textarea", "帮扶措施", "Measure"),
            Field(f"{t}.department", "text", "分类型帮扶部门", "Helping department"),
            Field(f"{t}.lead_unit", "text", "牵头单位", "Lead unit"),
            Field(f"{t}.lead_leader", "text", "牵头单位责任领导", "Lead unit's leader"),
            Field(f"{t}.union_leader", "text", "建档工会领导", "Union leader"),
            Field(f"{t}.pairing_contact", "text", "结对帮扶联系人", "Pairing contact"),
            Field(f"{t}.union_contact", "text", "工会联系人", "Union contact"),
            Field(f"{t}.deadline", "date", "完成时限", "Deadline"),
            Field(f"{t}.completion", "textarea", "完成情况", "Completion"),
            Field(f"{t}.completed_on", "date", "完成日期", "Completed on"),
        ]
    return tuple(found)


def _need_fields() -> tuple[Field, ...]:
    """The 困难清单和帮扶建议 a visit draws up (seed 001 附件1), one row a kind."""
    found: list[Field] = []
    for i in range(NEED_ROWS):
        n = f"needs[{i}]"
        found += [
            Field(f"{n}.kind", "choice", "困难类型", "Kind", NeedKind),
            Field(f"{n}.problem", "textarea", "存在问题及困难", "Problem"),
            Field(f"{n}.policies", "textarea", "已享受政策", "Policies enjoyed"),
            Field(f"{n}.suggestion", "textarea", "帮扶建议", "Suggestion"),
        ]
    return tuple(found)


COSTS_TITLE = "家庭季度成本支出情况（元；填写各项时，季度支出可不填，为其合计）"
COSTS = (
    Field("costs.insurance", "money", "五险一金交费", "Insurance contributions", group=COSTS_TITLE),
    Field(
        "costs.farming",
        "money",
        "农业生产经营成本（限农民工）",
        "Farming (migrants only)",
        group=COSTS_TITLE,
    ),
    Field("costs.education", "money", "教育成本", "Education", group=COSTS_TITLE),
    Field("costs.medical", "money", "医疗成本", "Medical", group=COSTS_TITLE),
    Field("costs.housing", "money", "住房支出", "Housing", group=COSTS_TITLE),
    Field("costs.living", "money", "生活及其他成本", "Living and other", group=COSTS_TITLE),
)
PAIRING_TITLE = "结对帮扶（两级联系人）"
PAIRING = (
    Field("pairing.cadre_unit", "text", "帮扶责任人单位", "Cadre's unit", group=PAIRING_TITLE),
    Field("pairing.cadre_post", "text", "帮扶责任人职务", "Cadre's post", group=PAIRING_TITLE),
    Field("pairing.cadre_phone", "text", "帮扶责任人电话", "Cadre's phone", group=PAIRING_TITLE),
    Field("pairing.union_contact", "text", "工会联系人", "Union contact", group=PAIRING_TITLE),
    Field(
        "pairing.union_contact_phone",
        "text",
        "工会联系人电话",
        "Union contact's phone",
        group=PAIRING_TITLE,
    ),
)


def _f(path: str, kind: str, en: str, options: type[StrEnum] | None = None, **more: Any) -> Field:
    """A field named in Chinese as the domain's refusals name it (`domain.errors.FIELDS_ZH`)."""
    return Field(path, kind, field_zh(path) or path, en, options, **more)


EXCLUSIONS = tuple(
    Field(f"exclusions.{name}", "bool", words, name.replace("_", " "))
    for name, words in EXCLUSION_LABELS_ZH.items()
)

APPLICATION = Action(
    "application",
    ApplicationIn,
    "新建档案（申请）",
    "New file (application)",
    None,
    (Act.APPLY,),
    (
        _f("establishing_unit", "text", "Establishing unit", required=True),
        _f("worker_kind", "choice", "Worker kind", WorkerKind, required=True),
        _f("head.name", "text", "Head's name", required=True),
        _f("head.id_number", "text", "Head's ID number", required=True),
        _f("head.phone", "text", "Phone"),
        Field("head.ethnicity", "text", "民族", "Ethnicity"),
        _f("head.employer", "text", "Employer"),
        _f("head.address", "text", "Address"),
        _f("head.health", "text", "Health"),
        _f("head.bank_card", "text", "Bank card"),
        Field("head.union_member", "bool", "工会会员", "Union member"),
        Field("head.labour_relation_since", "date", "劳动关系起始日期", "Labour relation since"),
        *_profile(),
        _f("applied_on", "date", "Applied on", required=True, today=True),
        _f("authorisation_signed", "bool", "Authorisation signed"),
        _f("statement", "textarea", "Statement"),
        Field("materials", "choices", "已交材料", "Materials", Material),
        _f("region", "text", "Region code (6 digits)"),
        Field("scheme", "choice", "认定标准", "Scheme", CategoryScheme),
        _f("filed_by", "text", "Filed by"),
        _f("entered_by", "text", "Entered by"),
    ),
)

ACTIONS: tuple[Action, ...] = (
    Action(
        "verification",
        VerificationIn,
        "入户调查",
        "Home investigation",
        CommandKind.VERIFY,
        (Act.VERIFY,),
        (
            _f("verified_on", "date", "Investigated on", required=True, today=True),
            Field("investigators", "lines", "调查人（每行一人，至少两人）", "Investigators"),
            _f("annual_income", "money", "Household annual income", required=True),
            _f("rigid_expenses", "money", "Rigid expenses", required=True),
            _f("hardship_losses", "money", "Accidental losses"),
            _f("primary_cause", "choice", "Primary cause", Cause, required=True),
            _f("secondary_causes", "choices", "Secondary causes", Cause),
            Field("accidental_event", "bool", "突发意外事件", "Accidental event"),
            *EXCLUSIONS,
            *_member_fields(),
            Field("materials", "choices", "证明材料", "Materials", Material),
            _f("narrative", "textarea", "Narrative"),
        ),
    ),
    Action(
        "appraisal",
        AppraisalIn,
        "民主评议与公示",
        "Appraisal and publicity",
        CommandKind.APPRAISE,
        (Act.APPRAISE,),
        (
            _f("appraised_on", "date", "Appraised on", required=True, today=True),
            _f("minutes_on_file", "bool", "Minutes on file"),
            _f("publicity_start", "date", "Publicity from", required=True),
            _f("publicity_end", "date", "Publicity until", required=True),
            _f("objections", "int", "Objections"),
            Field("objections_resolved", "int", "已处理异议", "Objections resolved"),
            Field("meeting_id", "text", "民主评议会议编号", "Appraisal meeting (its id)"),
            _f("base_opinion", "textarea", "Base union's opinion"),
        ),
    ),
    Action(
        "approval",
        ApprovalIn,
        "审核认定",
        "Approve",
        CommandKind.APPROVE,
        (Act.APPROVE,),
        (
            _f("approved_on", "date", "Approved on", required=True, today=True),
            _f("file_level", "choice", "File level", FileLevel, required=True),
            _f("opinion", "textarea", "Opinion"),
            _f("reviewed_by", "text", "Reviewed by"),
            _f("system_opinion", "textarea", "System union's opinion"),
            _f("system_opinion_on", "date", "System union's opinion dated"),
        ),
    ),
    Action(
        "send-back",
        SendBackIn,
        "退回",
        "Send back",
        CommandKind.SEND_BACK,
        (Act.SEND_BACK,),
        (
            _f("sent_back_on", "date", "Sent back on", required=True, today=True),
            _f("reason", "textarea", "Reason", required=True),
        ),
    ),
    Action(
        "rejection",
        RejectionIn,
        "不予建档",
        "Reject",
        CommandKind.REJECT,
        (Act.REJECT, Act.REJECT_AT_REVIEW),
        (
            _f("rejected_on", "date", "Rejected on", required=True, today=True),
            _f("reason", "textarea", "Reason", required=True),
        ),
    ),
    Action(
        "visits",
        VisitIn,
        "走访",
        "Visit",
        CommandKind.VISIT,
        (Act.VISIT,),
        (
            _f("visited_on", "date", "Visited on", required=True, today=True),
            _f("cadre", "text", "Visiting cadre", required=True),
            Field("cadre_unit", "text", "走访干部单位", "Cadre's unit"),
            Field("cadre_post", "text", "走访干部职务", "Cadre's post"),
            Field("cadre_phone", "text", "走访干部联系电话", "Cadre's phone"),
            _f("content", "textarea", "What was found", required=True),
            _f("quarter_income", "money", "Income this quarter"),
            _f("quarter_costs", "money", "Costs this quarter"),
            *COSTS,
            *_need_fields(),
            _f("helper_opinion", "textarea", "Helper's opinion"),
            _f("head_opinion", "textarea", "Head's opinion"),
        ),
    ),
    Action(
        "assistance",
        AssistanceIn,
        "帮扶",
        "Assistance",
        CommandKind.ASSIST,
        (Act.ASSIST,),
        (
            _f("assisted_on", "date", "Assisted on", required=True, today=True),
            Field("kind", "choice", "帮扶类别", "Kind", AssistanceKind, required=True),
            _f("amount", "money", "Amount", required=True),
            _f("department", "choice", "Department", Department, required=True),
            _f("helper", "text", "Helper"),
            _f("note", "textarea", "Note"),
        ),
    ),
    Action(
        "plan",
        PlanIn,
        "帮扶计划",
        "Assistance plan",
        CommandKind.AGREE_PLAN,
        (Act.PLAN,),
        (
            _f("agreed_on", "date", "Agreed on", required=True, today=True),
            _f("helper", "text", "Helper", required=True),
            *PAIRING,
            _f("helping_unit", "text", "Helping unit"),
            Field(
                "measures",
                "lines",
                "帮扶措施（每行一项；填写下列帮扶任务时可不填）",
                "Measures (one a line)",
            ),
            _f("goals", "textarea", "Goals", required=True),
            _f("deadline", "date", "Deadline", required=True),
            *_task_fields(),
            _f("signed_by_worker", "bool", "Signed by the worker"),
        ),
    ),
    Action(
        "revisions",
        RevisionIn,
        "动态调整",
        "Revision",
        CommandKind.REVISE,
        (Act.REVISE,),
        (
            _f("effective_on", "date", "Effective on", required=True, today=True),
            _f("reason", "textarea", "Reason", required=True),
            _f("annual_income", "money", "Household annual income"),
            _f("rigid_expenses", "money", "Rigid expenses"),
            _f("hardship_losses", "money", "Accidental losses"),
            Field("materials", "choices", "证明材料", "Materials", Material),
        ),
    ),
    Action(
        "rechecks",
        RecheckIn,
        "年度复核",
        "Annual re-check",
        CommandKind.RECHECK,
        (Act.RECHECK,),
        (_f("rechecked_on", "date", "Re-checked on", required=True, today=True),),
    ),
    Action(
        "exit",
        ExitIn,
        "退出（脱困/解困/注销/删除）",
        "Exit",
        CommandKind.EXIT,
        (Act.EXIT, Act.DELETE),
        (
            _f("exited_on", "date", "Exited on", required=True, today=True),
            Field("kind", "choice", "退出类别", "Kind", ExitKind, required=True),
            Field("reason", "choice", "退出原因", "Reason", ExitReason, required=True),
            _f("explanation", "textarea", "Explanation", required=True),
            Field("evidence", "lines", "证明材料（每行一项）", "Evidence (one a line)"),
            _f("months_above_line", "int", "Months above the line"),
            # 重复建档 (一户一档): the district names the file kept
            _f("kept_file_id", "text", "File kept (a duplicate)"),
        ),
    ),
    Action(
        "category-confirmations",
        CategoryConfirmationIn,
        "确认复核类别变化",
        "Confirm the re-check's category",
        CommandKind.CONFIRM_CATEGORY,
        (Act.CONFIRM_CATEGORY,),
        (
            _f("confirmed_on", "date", "Confirmed on", required=True, today=True),
            _f("opinion", "textarea", "Opinion"),
        ),
        when=lambda household: household.category_pending is not None,
    ),
    Action(
        "keep",
        KeepIn,
        "保留（应予退出的档案）",
        "Keep (a file due to exit)",
        CommandKind.KEEP,
        (Act.KEEP,),
        (
            _f("kept_on", "date", "Kept on", required=True, today=True),
            _f("reason", "textarea", "Reason", required=True),
        ),
        when=lambda household: household.exit_due is not None,
    ),
    Action(
        "finding-checks",
        FindingCheckIn,
        "民政比对核实",
        "Check a civil-affairs finding",
        CommandKind.CHECK_FINDING,
        (Act.CHECK_FINDING,),
        (
            _f("checked_on", "date", "Checked on", required=True, today=True),
            _f(
                "finding",
                "choice",
                "Finding",
                required=True,
                listed=tuple((code, FINDINGS[code][1]) for code in sorted(CHECKABLE_FINDINGS)),
            ),
            Field("result", "choice", "核实结果", "Result", FindingCheck, required=True),
            _f("reason", "textarea", "What was done, or why unfounded", required=True),
        ),
    ),
    Action(
        "follow-ups",
        FollowUpIn,
        "回头看",
        "Follow-up (回头看)",
        CommandKind.FOLLOW_UP,
        (Act.FOLLOW_UP,),
        (
            _f("followed_up_on", "date", "Followed up on", required=True, today=True),
            _f("cadre", "text", "Visiting cadre", required=True),
            Field("result", "choice", "回头看结果", "Result", FollowUpOutcome, required=True),
            _f("note", "textarea", "Note"),
            Field("cause", "choice", "返困原因（已返困时）", "Cause (if back in hardship)", Cause),
        ),
    ),
    Action(
        "return",
        ReturnIn,
        "返困",
        "Return to hardship",
        CommandKind.RETURN,
        (Act.RETURN,),
        (
            _f("returned_on", "date", "Returned on", required=True, today=True),
            _f("reason", "textarea", "Reason", required=True),
            _f("cause", "choice", "Cause", Cause, required=True),
        ),
    ),
    Action(
        "transfer",
        TransferIn,
        "移交",
        "Transfer",
        CommandKind.TRANSFER,
        (Act.TRANSFER,),
        (
            _f("transferred_on", "date", "Transferred on", required=True, today=True),
            _f("to_unit", "text", "To unit", required=True),
            _f("reason", "textarea", "Reason", required=True),
        ),
    ),
)
BY_SLUG = {a.slug: a for a in ACTIONS}

# The revision's people: blank is unchanged. The head's fields replace the current ones given; a
# member row of the file changes the fields given, or is removed; a blank row adds a member. The
# file's values are never sent to the page: a field's placeholder shows its current value, masked
# as the file page masks it; the merge with the current file is made on the server (`read`).
REVISION_HEAD_TITLE = "户主信息（只填写要更改的项；身份证号码不能通过动态调整更改）"
REVISION_HEAD = (
    _f("head.name", "text", "Head's name"),
    _f("head.phone", "text", "Phone"),
    Field("head.ethnicity", "text", "民族", "Ethnicity"),
    _f("head.employer", "text", "Employer"),
    _f("head.address", "text", "Address"),
    _f("head.health", "text", "Health"),
    _f("head.bank_card", "text", "Bank card"),
    Field("head.labour_relation_since", "date", "劳动关系起始日期", "Labour relation since"),
)
NEW_MEMBER_ROWS = 2  # blank rows a revision offers for members joining the household
REVISION_PROFILE_TITLE = "户主基本情况（档案表；只填写要更改的项）"


def _revision_members(count: int) -> tuple[Field, ...]:
    """The member rows of a revision: one for each of the file's `count` members (with a box to
    remove it), then blank ones for new members."""
    found: list[Field] = []
    for i in range(count + NEW_MEMBER_ROWS):
        found += _member_columns(i, "姓名")
        if i < count:
            found.append(Field(f"members[{i}].remove", "bool", "删除该成员", "Remove this member"))
    return tuple(found)


def _at(tree: Any, path: str) -> Any:
    """The value at a dotted path of a recorded head or member (None where there is none)."""
    for part in path.split("."):
        tree = tree.get(part) if isinstance(tree, dict) else None
    return tree


def _hint(f: Field, value: Any) -> str:
    """A field's current value as its placeholder shows it: an enumeration's Chinese label,
    是/否, masked as the file page masks it (`domain.privacy.MASKS`)."""
    if value is None or value in ("", []):
        return ""
    name = f.path.rpartition(".")[2]
    if isinstance(value, list):
        words = "、".join(label(f.options(v)) if f.options else str(v) for v in value)
    elif isinstance(value, bool):
        words = "是" if value else "否"
    elif f.options is not None and value in {m.value for m in f.options}:
        words = label(f.options(value))
    else:
        words = str(value)
    return MASKS[name](words) if name in MASKS else words


def for_file(action: Action, household: HouseholdFile) -> Action:
    """The form of `action` for one file: the revision grows the head's fields (the migrant
    worker's only for one) and a row for each of the file's members, their current values as
    placeholders; every other action is the same for every file."""
    if action.slug != "revisions":
        return action
    migrant = household.worker_kind is WorkerKind.MIGRANT
    people = (
        REVISION_HEAD
        + tuple(f for f in _profile(REVISION_PROFILE_TITLE) if migrant or not f.migrant)
        + _revision_members(len(household.members))
    )
    recorded = {"head": _recorded(household.head)} | {
        f"members[{i}]": _recorded(m) for i, m in enumerate(household.members)
    }
    hints: dict[str, str] = {}
    for f in people:
        owner, _, rest = f.path.partition(".")
        hint = _hint(f, _at(recorded.get(owner), rest))
        if hint:
            hints[f.path] = hint
    return replace(
        action,
        fields=action.fields + people,
        head_title=REVISION_HEAD_TITLE,
        hints=hints,
    )


def _recorded(person: object) -> dict[str, Any]:
    """A head's or member's recorded fields as a body sends them (a field not recorded, None,
    left out: the body's default)."""
    fields: dict[str, Any] = msgspec.to_builtins(person)
    return {k: v for k, v in fields.items() if v is not None}


def _merged(current: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """`given` over `current`, nested records field by field (a housing's area given keeps its
    type)."""
    merged = dict(current)
    for k, v in given.items():
        merged[k] = (
            _merged(current[k], v)
            if isinstance(v, dict) and isinstance(current.get(k), dict)
            else v
        )
    return merged


def _revision_people(posted: Posted, household: HouseholdFile) -> None:
    """The revision's body with the whole head and the whole member list, as the command takes
    them: the fields given over the file's current ones; no member row given, no member change."""
    given_head = posted.body.get("head")
    if given_head:
        # every field of the current head, the 档案表's profile included (issue 14): a field
        # the form does not show is kept, not dropped
        posted.body["head"] = _merged(_recorded(household.head), given_head)
    rows = posted.body.pop("members", [])
    if not rows:
        return
    given = {posted.renumbered["members"][i]: row for i, row in enumerate(rows)}
    renumbered: dict[int, int] = {}
    members: list[dict[str, Any]] = []
    for index in range(max(len(household.members), max(given) + 1)):
        edits = dict(given.get(index, {}))
        removed = edits.pop("remove", False)
        if index < len(household.members):
            if removed:
                continue
            # every field of the member, 表三's columns included (issue 14)
            row: dict[str, Any] = _recorded(household.members[index]) | edits
        elif edits:
            row = edits
        else:
            continue
        renumbered[len(members)] = index
        members.append(row)
    posted.renumbered["members"] = renumbered
    posted.body["members"] = members


DONE = {**BY_SLUG, APPLICATION.slug: APPLICATION}  # what the file page says was just done


@dataclass(frozen=True)
class Shown:
    """A form as a page draws it: its action, title, the values in its fields, the errors beside
    them ('' for those above the form) and whether it starts open."""

    action: Action
    title: str
    values: dict[str, list[str]]
    errors: dict[str, str]
    open: bool = False


# ------------------------------------------------------------------------------ form → body

_TOKEN = re.compile(r"([A-Za-z_]+)(?:\[(\d+)\])?")
_ROW_PATH = re.compile(r"^(members|tasks|needs)\[(\d+)\](.*)$")


def _set(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    here: Any = target
    for i, part in enumerate(parts):
        matched = _TOKEN.fullmatch(part)
        if matched is None:
            raise ValueError(f"not a field path: {path}")
        name, index = matched.group(1), matched.group(2)
        last = i == len(parts) - 1
        if index is None:
            if last:
                here[name] = value
            else:
                here = here.setdefault(name, {})
        else:
            items = here.setdefault(name, [])
            while len(items) <= int(index):
                items.append({})
            if last:
                items[int(index)] = value
            else:
                here = items[int(index)]


@dataclass
class Posted:
    """A posted form: the values as sent (to show again), the body built from them, and the
    errors by field path ('' for the form as a whole)."""

    values: dict[str, list[str]]
    body: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # by list (members, tasks, needs): the body's row index → the form's (blank rows not sent)
    renumbered: dict[str, dict[int, int]] = field(default_factory=dict)

    def form_path(self, path: str) -> str:
        """The form's field for a path of the body (rows left blank are not sent)."""
        row = _ROW_PATH.match(path)
        if row is None:
            return path
        name, index = row.group(1), int(row.group(2))
        return f"{name}[{self.renumbered.get(name, {}).get(index, 0)}]{row.group(3)}"


def _value(field_: Field, raw: list[str]) -> tuple[bool, Any]:
    """Whether the field is given, and its value in the body."""
    first = raw[0].strip() if raw else ""
    if field_.kind == "bool":
        return True, bool(raw) and raw[-1] in {"on", "true", "1"}
    if field_.kind == "yesno" and first in {"yes", "no"}:
        return True, first == "yes"
    if field_.kind == "choices":
        chosen = [v for v in raw if v]
        return bool(chosen), chosen
    if field_.kind == "lines":
        lines = [line.strip() for line in (raw[0] if raw else "").splitlines() if line.strip()]
        return True, lines
    if not first:
        return False, None
    if field_.kind == "int":
        return True, int(first) if first.isascii() and first.isdigit() and len(
            first
        ) < 10 else first
    if field_.kind == "textarea":
        return True, raw[0].replace("\r\n", "\n").strip()
    return True, first


def _problem(field_: Field | None, code: str, lang: str) -> str:
    english = lang == "en"
    kind = field_.kind if field_ is not None else ""
    if code == "missing":
        return "required" if english else "必填"
    if code == "too_long":
        return f"at most {MAX_TEXT} characters" if english else f"不能超过{MAX_TEXT}个字"
    if code == "invalid_character":
        return "contains a control character" if english else "含有不能保存的控制字符"
    hints = {
        "date": ("a date such as 2026-11-21", "日期格式应为 2026-11-21"),
        "money": (
            "yuan, at most two decimals, such as 550.00",
            "金额应为数字，最多两位小数，如 550.00",
        ),
        "int": ("a whole number", "应为整数"),
        "choice": ("choose one of the list", "请从列表中选择"),
        "yesno": ("choose one of the list", "请从列表中选择"),
        "choices": ("choose from the list", "请从列表中选择"),
    }
    en, zh = hints.get(kind, ("not valid", "格式不正确"))
    return en if english else zh


def read(
    action: Action,
    values: dict[str, list[str]],
    lang: str,
    household: HouseholdFile | None = None,
) -> Posted:
    """The body of `action` from a posted form, or the errors that keep it from being one
    (`household`: the file it acts on, whose people a revision's changes are merged with)."""
    posted = Posted(values)
    by_path = {f.path: f for f in action.fields}
    given_rows: dict[str, dict[int, dict[str, Any]]] = {}
    for f in action.fields:
        given, value = _value(f, values.get(f.path, []))
        row = _ROW_PATH.match(f.path)
        if row is not None:
            rows_of = given_rows.setdefault(row.group(1), {})
            if given and value is not False and value not in (None, "", []):
                rows_of.setdefault(int(row.group(2)), {})[row.group(3).lstrip(".")] = value
            continue
        if not given:
            if f.required:
                posted.errors[f.path] = _problem(f, "missing", lang)
            continue
        _set(posted.body, f.path, value)
    for name, given_by_index in given_rows.items():  # a row left blank is not sent
        rows: list[dict[str, Any]] = []
        posted.renumbered[name] = {}
        for index in sorted(given_by_index):
            posted.renumbered[name][len(rows)] = index
            rows.append(given_by_index[index])
        posted.body[name] = rows
    if household is not None and action.slug == "revisions":
        _revision_people(posted, household)
    if posted.errors:
        return posted
    for problem in body_errors(action.body, msgspec.json.encode(posted.body)):
        path = posted.form_path(problem["field"])
        beside = _input_of(action, path)
        if beside not in posted.errors:
            posted.errors[beside] = _problem(by_path.get(beside), problem["code"], lang) + (
                "" if beside == path else f"（{_named(path)}）"
            )
    return posted


def _named(path: str) -> str:
    """A form path in Chinese, its row counted as the form counts it."""
    return field_zh(path) or path


def _input_of(action: Action, path: str) -> str:
    """The input beside which a problem with `path` shows: the field itself, or the first field
    inside a record it names (`head.land` → `head.land.paddy`, `tasks[1]` → `tasks[1].kind`),
    or '' (above the form)."""
    paths = [f.path for f in action.fields]
    if path in paths:
        return path
    if path:
        for candidate in paths:
            if candidate.startswith((path + ".", path + "[")):
                return candidate
    return ""


def build(action: Action, posted: Posted) -> Any:
    """The API's body of a form read without errors (decoded strictly, as the API does)."""
    return msgspec.json.decode(msgspec.json.encode(posted.body), type=action.body, strict=True)


def refused(action: Action, posted: Posted, error: DomainError, lang: str) -> None:
    """A refusal of the domain beside the field it names (or above the form)."""
    text = error.message if lang == "en" else error.zh
    path = posted.form_path(error.field) if error.field else ""
    row = _ROW_PATH.match(error.field or "")
    if row is not None:  # the message counts the body's rows; the form's differ
        name, sent = row.group(1), int(row.group(2))
        shown = posted.renumbered.get(name, {}).get(sent, 0)
        words = "名成员" if name == "members" else "项"
        prefix = "" if name == "members" else FIELDS_ZH[name]
        text = text.replace(f"{prefix}第{sent + 1}{words}", f"{prefix}第{shown + 1}{words}", 1)
        text = text.replace(f"{name}[{sent}]", f"{name}[{shown}]", 1)
    posted.errors[_input_of(action, path)] = text  # the message names the field it refuses
