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
from domain.errors import DomainError, field_zh
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
    AssistanceKind,
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
    MemberStatus,
    Relation,
    WorkerKind,
    label,
)

MEMBER_ROWS = 4  # blank member rows an investigation's form offers


@dataclass(frozen=True)
class Field:
    """One input: `path` is the field's JSON path in the body (`head.name`, `members[0].relation`).

    `kind`: date, money, text, textarea, int, bool, choice (one of `options`), choices (any of
    them), lines (a list, one item a line)."""

    path: str
    kind: str
    zh: str
    en: str = ""
    options: type[StrEnum] | None = None
    required: bool = False
    today: bool = False  # a date field that starts at today
    listed: tuple[tuple[str, str], ...] = ()  # a choice's codes and labels, when not an enum

    @property
    def input_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9]+", "-", self.path).strip("-")

    def choices(self) -> list[tuple[str, str]]:
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
        """The fields in groups to draw: each member row and the exclusions in a box of their
        own (titled), the others one by one (untitled)."""
        found: list[tuple[str, list[Field]]] = []
        for f in self.fields:
            member = _MEMBER_PATH.match(f.path)
            title = (
                f"家庭成员 {int(member.group(1)) + 1}"
                if member
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


def _member_fields() -> tuple[Field, ...]:
    found: list[Field] = []
    for i in range(MEMBER_ROWS):
        n = f"第{i + 1}名成员"
        found += [
            Field(f"members[{i}].name", "text", f"{n}姓名", f"Member {i + 1} name"),
            Field(f"members[{i}].relation", "choice", "与户主关系", "Relation", Relation),
            Field(f"members[{i}].id_number", "text", "身份证号码", "ID number"),
            Field(f"members[{i}].status", "choice", "状态", "Status", MemberStatus),
            Field(f"members[{i}].annual_income", "money", "年收入（元）", "Annual income"),
            Field(f"members[{i}].health", "text", "健康状况", "Health"),
        ]
    return tuple(found)


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
        _f("applied_on", "date", "Applied on", required=True, today=True),
        _f("authorisation_signed", "bool", "Authorisation signed"),
        _f("statement", "textarea", "Statement"),
        Field("materials", "choices", "已交材料", "Materials", Material),
        _f("region", "text", "Region code (6 digits)"),
        Field("scheme", "choice", "认定标准", "Scheme", CategoryScheme),
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
            _f("content", "textarea", "What was found", required=True),
            _f("quarter_income", "money", "Income this quarter"),
            _f("quarter_costs", "money", "Costs this quarter"),
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
            Field("measures", "lines", "帮扶措施（每行一项）", "Measures (one a line)"),
            _f("goals", "textarea", "Goals", required=True),
            _f("deadline", "date", "Deadline", required=True),
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
HEAD_KEPT = (
    "name",
    "id_number",
    "phone",
    "ethnicity",
    "employer",
    "address",
    "health",
    "bank_card",
    "union_member",
)
NEW_MEMBER_ROWS = 2  # blank rows a revision offers for members joining the household


def _revision_members(count: int) -> tuple[Field, ...]:
    """The member rows of a revision: one for each of the file's `count` members (with a box to
    remove it), then blank ones for new members."""
    found: list[Field] = []
    for i in range(count + NEW_MEMBER_ROWS):
        found += [
            Field(f"members[{i}].name", "text", "姓名", f"Member {i + 1} name"),
            Field(f"members[{i}].relation", "choice", "与户主关系", "Relation", Relation),
            Field(f"members[{i}].id_number", "text", "身份证号码", "ID number"),
            Field(f"members[{i}].status", "choice", "状态", "Status", MemberStatus),
            Field(f"members[{i}].annual_income", "money", "年收入（元）", "Annual income"),
            Field(f"members[{i}].health", "text", "健康状况", "Health"),
        ]
        if i < count:
            found.append(Field(f"members[{i}].remove", "bool", "删除该成员", "Remove this member"))
    return tuple(found)


def _hint(name: str, value: str) -> str:
    return MASKS[name](value) if name in MASKS and value else value


def for_file(action: Action, household: HouseholdFile) -> Action:
    """The form of `action` for one file: the revision grows the head's fields and a row for each
    of the file's members; every other action is the same for every file."""
    if action.slug != "revisions":
        return action
    head = household.head
    hints = {f"head.{name}": _hint(name, str(getattr(head, name) or "")) for name in HEAD_KEPT}
    if head.labour_relation_since is not None:
        hints["head.labour_relation_since"] = head.labour_relation_since.isoformat()
    for i, m in enumerate(household.members):
        hints |= {
            f"members[{i}].name": m.name,
            f"members[{i}].relation": label(m.relation),
            f"members[{i}].id_number": _hint("id_number", m.id_number),
            f"members[{i}].status": label(m.status),
            f"members[{i}].annual_income": str(m.annual_income),
            f"members[{i}].health": _hint("health", m.health),
        }
    return replace(
        action,
        fields=action.fields + REVISION_HEAD + _revision_members(len(household.members)),
        head_title=REVISION_HEAD_TITLE,
        hints=hints,
    )


def _recorded(person: object) -> dict[str, Any]:
    """A head's or member's recorded fields as a body sends them (a field not recorded, None,
    left out: the body's default)."""
    fields: dict[str, Any] = msgspec.to_builtins(person)
    return {k: v for k, v in fields.items() if v is not None}


def _revision_people(posted: Posted, household: HouseholdFile) -> None:
    """The revision's body with the whole head and the whole member list, as the command takes
    them: the fields given over the file's current ones; no member row given, no member change."""
    given_head = posted.body.get("head")
    if given_head:
        # every field of the current head, the 档案表's profile included (issue 14): a field
        # the form does not show is kept, not dropped
        posted.body["head"] = _recorded(household.head) | given_head
    rows = posted.body.pop("members", [])
    if not rows:
        return
    given = {posted.renumbered[i]: row for i, row in enumerate(rows)}
    posted.renumbered = {}
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
        posted.renumbered[len(members)] = index
        members.append(row)
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
_MEMBER_PATH = re.compile(r"^members\[(\d+)\](.*)$")


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
    renumbered: dict[int, int] = field(default_factory=dict)  # body's member index → form's

    def form_path(self, path: str) -> str:
        """The form's field for a path of the body (member rows left blank are not sent)."""
        member = _MEMBER_PATH.match(path)
        if member is None:
            return path
        return f"members[{self.renumbered.get(int(member.group(1)), 0)}]{member.group(2)}"


def _value(field_: Field, raw: list[str]) -> tuple[bool, Any]:
    """Whether the field is given, and its value in the body."""
    first = raw[0].strip() if raw else ""
    if field_.kind == "bool":
        return True, bool(raw) and raw[-1] in {"on", "true", "1"}
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
    members: dict[int, dict[str, Any]] = {}
    for f in action.fields:
        given, value = _value(f, values.get(f.path, []))
        member = _MEMBER_PATH.match(f.path)
        if member is not None:
            if given and value is not False and value not in (None, "", []):
                members.setdefault(int(member.group(1)), {})[member.group(2).lstrip(".")] = value
            continue
        if not given:
            if f.required:
                posted.errors[f.path] = _problem(f, "missing", lang)
            continue
        _set(posted.body, f.path, value)
    if any(_MEMBER_PATH.match(f.path) for f in action.fields):
        rows: list[dict[str, Any]] = []
        for index in sorted(members):
            posted.renumbered[len(rows)] = index
            rows.append(members[index])
        posted.body["members"] = rows
    if household is not None and action.slug == "revisions":
        _revision_people(posted, household)
    if posted.errors:
        return posted
    for problem in body_errors(action.body, msgspec.json.encode(posted.body)):
        path = posted.form_path(problem["field"])
        if path not in posted.errors:
            posted.errors[path if path in by_path else ""] = _problem(
                by_path.get(path), problem["code"], lang
            ) + ("" if path in by_path else f"（{field_zh(path) or path}）")
    return posted


def build(action: Action, posted: Posted) -> Any:
    """The API's body of a form read without errors (decoded strictly, as the API does)."""
    return msgspec.json.decode(msgspec.json.encode(posted.body), type=action.body, strict=True)


def refused(action: Action, posted: Posted, error: DomainError, lang: str) -> None:
    """A refusal of the domain beside the field it names (or above the form)."""
    text = error.message if lang == "en" else error.zh
    path = posted.form_path(error.field) if error.field else ""
    member = _MEMBER_PATH.match(error.field or "")
    if member is not None:  # the message counts the body's members; the form's rows differ
        sent, row = int(member.group(1)), posted.renumbered.get(int(member.group(1)), 0)
        text = text.replace(f"第{sent + 1}名成员", f"第{row + 1}名成员", 1)
        text = text.replace(f"members[{sent}]", f"members[{row}]", 1)
    posted.errors[path if path in {f.path for f in action.fields} else ""] = text
