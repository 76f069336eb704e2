"""The household file (困难职工档案): one event-sourced aggregate per household.

Each public command validates — lifecycle state, who is acting, the values, the rules — and only
then triggers its event; the `@event`-decorated private method only changes state, because it
runs again on every replay (STYLE.md). Business dates are passed in with `today` from the edge;
the event's own timestamp means "recorded at".

The event classes are a stored schema: they are registered under stable names in
`domain.events`, never under their module path.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.attachments import (
    Attachment,
    AttachmentLimits,
    MediaType,
    check_kind,
    check_media_type,
    check_name,
    check_sha256,
    check_size,
)
from domain.authorization import Act, authorise
from domain.eligibility import (
    Exclusions,
    Means,
    categorise,
    household_means,
    judge,
)
from domain.errors import InvalidValue, RuleViolated, WrongState
from domain.idnumber import parse_id_number
from domain.policy import Parameters, parameters_missing, thresholds_of
from domain.privacy import ERASED
from domain.profile import (
    Housing,
    Land,
    Need,
    Pairing,
    PlanMeasure,
    QuarterCosts,
    check_costs,
    check_disability,
    check_housing,
    check_land,
    check_measures,
    check_needs,
    check_pairing,
    code,
    codes,
)
from domain.profile import (
    phone as check_phone,
)
from domain.unit_records import Meeting
from domain.units import GEOGRAPHIC, UnitCode, Units
from domain.values import (
    SCHEME_CATEGORIES,
    Actor,
    AidType,
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
    FindingCheck,
    FollowUpOutcome,
    HukouType,
    Insurance,
    Level,
    MaritalStatus,
    Material,
    MemberStatus,
    ModelWorker,
    PoliticalStatus,
    RecheckResult,
    Relation,
    Status,
    WorkerKind,
    WorkStatus,
    business_date,
    money,
)

MAX_TEXT = 2000  # free-text fields (narratives, reasons) are bounded; names far shorter
MAX_NAME = 64


@dataclass(frozen=True, slots=True)
class Head:
    """The head of household (户主), usually the hardship worker."""

    name: str
    id_number: str
    phone: str = ""
    ethnicity: str = "汉族"
    employer: str = ""
    address: str = ""
    health: str = ""
    bank_card: str = ""
    union_member: bool = True
    labour_relation_since: date | None = None  # start of the labour relation (migrants: ≥ 1 year)
    # the 档案表's profile (issue 14; domain/profile.py), each optional: None or "" is not recorded
    political_status: PoliticalStatus | None = None
    marital_status: MaritalStatus | None = None
    education: Education | None = None
    hukou_type: HukouType | None = None
    hukou_place: str = ""  # 户籍所在地 (祖居地): personal, sealed
    housing: Housing | None = None  # where the household lives (a migrant: where they work)
    home_housing: Housing | None = None  # a migrant worker's housing at home (祖居地住房)
    land: Land | None = None  # a migrant worker's land at home
    work_status: WorkStatus | None = None
    employer_nature: EmployerNature | None = None
    model_worker: ModelWorker | None = None
    disability: str = ""  # a `DisabilityKind` code: health data, sealed
    disability_grade: str = ""  # a `DisabilityGrade` code: sealed
    main_property: str = ""  # 主要财产 (each worth over 500 yuan): sealed
    # the household's, recorded with its head: 主要意愿 and the 帮扶类型 ticked (seed 002 表一)
    wishes: str = ""
    aid_types: tuple[AidType, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    """A family member (家庭成员) other than the head."""

    name: str
    relation: Relation
    id_number: str
    status: MemberStatus
    annual_income: Decimal = Decimal("0.00")
    lives_together: bool = True
    health: str = ""
    # seed 002 表三 (issue 14): 文化程度, 五险一金 codes, 特长, 单位（学校）
    education: Education | None = None
    insurance: tuple[Insurance, ...] = ()
    skills: str = ""
    workplace: str = ""


EXIT_REASONS: dict[ExitKind, frozenset[ExitReason]] = {
    ExitKind.OUT_OF_HARDSHIP: frozenset({ExitReason.INCOME_ABOVE_LINE}),
    ExitKind.RELIEVED: frozenset({ExitReason.SAFETY_NET}),
    ExitKind.CANCELLED: frozenset(
        {
            ExitReason.DEATH,
            ExitReason.INELIGIBLE,
            ExitReason.RETIRED,
            ExitReason.MOVED,
            ExitReason.DUPLICATE,
        }
    ),
    ExitKind.DELETED: frozenset({ExitReason.ERRONEOUS_RECORD, ExitReason.DUPLICATE}),
}
EXIT_STATUS = {
    ExitKind.OUT_OF_HARDSHIP: Status.OUT_OF_HARDSHIP,
    ExitKind.RELIEVED: Status.RELIEVED,
    ExitKind.CANCELLED: Status.CANCELLED,
    ExitKind.DELETED: Status.DELETED,
}
# Exits with no way back (返困): the head's death. Deletion is outside the lifecycle altogether.
NO_RETURN = frozenset({ExitReason.DEATH})
EXITED = frozenset({Status.OUT_OF_HARDSHIP, Status.RELIEVED, Status.CANCELLED})
OPEN = frozenset(
    {
        Status.APPLIED,
        Status.VERIFIED,
        Status.APPRAISED,
        Status.APPROVED,
        Status.SENT_BACK,
        Status.RETURNED,
    }
)

# The files that receive regular aid: those on record, and the relieved (解困) ones.
UNDER_REGULAR_AID = frozenset({Status.APPROVED, Status.RELIEVED})


class CommandKind(StrEnum):
    """The steps of the lifecycle (DOMAIN.md), as `ALLOWED_FROM` and `WrongState` know them.

    One per command of `HouseholdFile` (`domain.commands`), with the exit split in two (a deletion
    is reviewed by a district), and the erasure of personal data. A value is the name the
    lifecycle's tests give the step, the method's name (`return_`: `return` is a keyword);
    `WrongState` names it without the trailing `_`."""

    VERIFY = "verify"
    APPRAISE = "appraise"
    APPROVE = "approve"
    SEND_BACK = "send_back"
    REJECT = "reject"
    ASSIST = "assist"
    AGREE_PLAN = "agree_plan"
    VISIT = "visit"
    REVISE = "revise"
    RECHECK = "recheck"
    EXIT = "exit"
    DELETE = "delete"
    RETURN = "return_"
    TRANSFER = "transfer"
    ERASE_PERSONAL_DATA = "erase_personal_data"
    CHECK_FINDING = "check_finding"
    FOLLOW_UP = "follow_up"
    CONFIRM_CATEGORY = "confirm_category"
    KEEP = "keep"
    ATTACH = "attach"
    CANCEL_DUPLICATE = "cancel_duplicate"


# The lifecycle (DOMAIN.md): the statuses each command may start from.
ALLOWED_FROM: dict[CommandKind, frozenset[Status]] = {
    CommandKind.VERIFY: frozenset({Status.APPLIED, Status.SENT_BACK, Status.RETURNED}),
    CommandKind.APPRAISE: frozenset({Status.VERIFIED}),
    CommandKind.APPROVE: frozenset({Status.APPRAISED}),
    CommandKind.SEND_BACK: frozenset({Status.APPRAISED}),
    CommandKind.REJECT: frozenset(
        {Status.APPLIED, Status.VERIFIED, Status.APPRAISED, Status.SENT_BACK, Status.RETURNED}
    ),
    # 解困 households stay under regular aid (常态化帮扶, seeds 001 and 004): assisted, visited,
    # re-checked and their facts kept up to date, their status staying `relieved`
    CommandKind.ASSIST: UNDER_REGULAR_AID,
    CommandKind.AGREE_PLAN: UNDER_REGULAR_AID,
    CommandKind.VISIT: UNDER_REGULAR_AID,
    CommandKind.REVISE: UNDER_REGULAR_AID,
    CommandKind.RECHECK: UNDER_REGULAR_AID,
    CommandKind.EXIT: frozenset({Status.APPROVED, Status.RELIEVED}),
    CommandKind.DELETE: frozenset(Status) - {Status.DELETED},
    CommandKind.RETURN: EXITED,
    CommandKind.TRANSFER: OPEN | {Status.RELIEVED},
    # personal data is erased on request once the file is closed: exit (注销) an open file first
    CommandKind.ERASE_PERSONAL_DATA: frozenset(Status) - OPEN,
    # a civil-affairs finding is checked on any file it may name (not a deleted one)
    CommandKind.CHECK_FINDING: frozenset(Status) - {Status.DELETED},
    # 回头看: households out of hardship or relieved (seed 001)
    CommandKind.FOLLOW_UP: frozenset({Status.OUT_OF_HARDSHIP, Status.RELIEVED}),
    # an approver confirms a re-check's category, or keeps a file due to exit
    CommandKind.CONFIRM_CATEGORY: UNDER_REGULAR_AID,
    CommandKind.KEEP: UNDER_REGULAR_AID,
    # proof is attached while the file is open, relieved (解困) or under follow-up (approved)
    CommandKind.ATTACH: OPEN | {Status.RELIEVED},
    # 一户一档: a file found to hold a person another file holds is cancelled as 重复建档 at any
    # stage while it holds them (open or relieved)
    CommandKind.CANCEL_DUPLICATE: OPEN | {Status.RELIEVED},
}
# The civil-affairs findings a clerk must act on (`domain.civil_affairs.FINDINGS` marks them
# `act`): their check is recorded on the file (`check_finding`).
CHECKABLE_FINDINGS = frozenset(
    {"death_on_open_file", "vehicle_not_declared", "property_not_declared", "business_not_declared"}
)
MAX_ERASURE_REASON = 200


def _erased(value: str) -> str:
    return ERASED if value else value


def erased_head(head: Head) -> Head:
    """The head as it reads once the household's personal data is erased."""
    return replace(
        head,
        name=_erased(head.name),
        id_number=_erased(head.id_number),
        phone=_erased(head.phone),
        address=_erased(head.address),
        health=_erased(head.health),
        bank_card=_erased(head.bank_card),
        hukou_place=_erased(head.hukou_place),
        disability=_erased(head.disability),
        disability_grade=_erased(head.disability_grade),
        main_property=_erased(head.main_property),
    )


def erased_member(member: Member) -> Member:
    """A member as it reads once the household's personal data is erased."""
    return replace(
        member,
        name=_erased(member.name),
        id_number=_erased(member.id_number),
        health=_erased(member.health),
    )


# The personal fields of a head and of a member: stored encrypted, erased on request
# (docs/decisions/0010-personal-data-encryption.md). Kept beside the classes they name.
HEAD_PERSONAL = (
    "name",
    "id_number",
    "phone",
    "address",
    "health",
    "bank_card",
    "hukou_place",
    "disability",
    "disability_grade",
    "main_property",
)
MEMBER_PERSONAL = ("name", "id_number", "health")


def _one_year_after(day: date) -> date:
    """The same day a year later (29 February becomes 1 March)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 3, 1)


def _text(value: str, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise InvalidValue(field, "must be text", zh="须为文本")
    value = value.strip()
    if required and not value:
        raise InvalidValue(field, "must not be empty", zh="不能为空")
    if len(value) > limit:
        raise InvalidValue(field, f"longer than {limit} characters", zh=f"不能超过{limit}个字符")
    if "\x00" in value:
        raise InvalidValue(field, "contains a NUL character", zh="含有非法字符")
    return value


def _check_head(head: Head, *, today: date, worker_kind: WorkerKind) -> Head:
    disability, grade = check_disability(head.disability, head.disability_grade, "head")
    migrant = worker_kind is WorkerKind.MIGRANT
    if not migrant and (head.land is not None or head.home_housing is not None):
        raise InvalidValue(
            "head.land" if head.land is not None else "head.home_housing",
            "land and housing at home are recorded for migrant workers only",
            zh="土地及祖居地住房仅限农民工填写",
        )
    return replace(
        head,
        name=_text(head.name, "head.name", limit=MAX_NAME),
        id_number=parse_id_number(head.id_number, field="head.id_number", today=today).value,
        phone=_text(head.phone, "head.phone", required=False, limit=32),
        employer=_text(head.employer, "head.employer", required=False),
        address=_text(head.address, "head.address", required=False),
        bank_card=_text(head.bank_card, "head.bank_card", required=False, limit=32),
        political_status=code(
            head.political_status, PoliticalStatus, "head.political_status", "政治面貌"
        ),
        marital_status=code(head.marital_status, MaritalStatus, "head.marital_status", "婚姻状况"),
        education=code(head.education, Education, "head.education", "文化程度"),
        hukou_type=code(head.hukou_type, HukouType, "head.hukou_type", "户口性质"),
        hukou_place=_text(head.hukou_place, "head.hukou_place", required=False, limit=200),
        housing=check_housing(head.housing, "head.housing"),
        home_housing=check_housing(head.home_housing, "head.home_housing"),
        land=check_land(head.land, "head.land"),
        work_status=code(head.work_status, WorkStatus, "head.work_status", "就业状况"),
        employer_nature=code(
            head.employer_nature, EmployerNature, "head.employer_nature", "单位性质"
        ),
        model_worker=code(head.model_worker, ModelWorker, "head.model_worker", "劳模称号"),
        disability=disability,
        disability_grade=grade,
        main_property=_text(head.main_property, "head.main_property", required=False),
        wishes=_text(head.wishes, "head.wishes", required=False),
        aid_types=codes(head.aid_types, AidType, "head.aid_types", "帮扶类型"),
    )


def _check_members(members: tuple[Member, ...], head: Head, *, today: date) -> tuple[Member, ...]:
    checked: list[Member] = []
    seen = {head.id_number}
    for i, m in enumerate(members):
        where = f"members[{i}]"
        if not isinstance(m.relation, Relation) or not isinstance(m.status, MemberStatus):
            raise InvalidValue(
                f"{where}.relation", "unknown relation or status", zh="成员关系或状态无效"
            )
        number = parse_id_number(m.id_number, field=f"{where}.id_number", today=today).value
        if number in seen:
            raise RuleViolated(
                "one_person_once",
                f"{where}.id_number appears twice in the household",
                zh="同一人在家庭成员中重复出现",
                field=f"{where}.id_number",
            )
        seen.add(number)
        checked.append(
            replace(
                m,
                name=_text(m.name, f"{where}.name", limit=MAX_NAME),
                id_number=number,
                annual_income=money(m.annual_income, f"{where}.annual_income"),
                education=code(m.education, Education, f"{where}.education", "文化程度"),
                insurance=codes(m.insurance, Insurance, f"{where}.insurance", "五险一金代码"),
                skills=_text(m.skills, f"{where}.skills", required=False, limit=200),
                workplace=_text(m.workplace, f"{where}.workplace", required=False, limit=200),
            )
        )
    return tuple(checked)


def _check_causes(primary: Cause, secondary: tuple[Cause, ...]) -> tuple[Cause, ...]:
    if not isinstance(primary, Cause) or not all(isinstance(c, Cause) for c in secondary):
        raise InvalidValue("causes", "unknown cause", zh="致困原因无效")
    if len(secondary) > 3:
        raise InvalidValue(
            "secondary_causes", "at most three secondary causes", zh="次要致困原因最多三项"
        )
    if primary in secondary or len(set(secondary)) != len(secondary):
        raise InvalidValue("secondary_causes", "causes must differ", zh="致困原因不能重复")
    return secondary


def whole_months(start: date, end: date) -> int:
    """Whole months from `start` to `end` (25 March to 25 September: 6; to 24 September: 5)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (1 if end.day < start.day else 0)


def _check_meeting(
    household: HouseholdFile,
    meeting_id: UUID | None,
    meeting: Meeting | None,
    appraised_on: date,
    minutes_on_file: bool | None,
) -> None:
    """The 民主评议 meeting an appraisal cites: the file's union's, on the appraisal's date,
    listing the file and passing it (more than half of those present for)."""
    if meeting is None or (meeting_id is not None and meeting.meeting_id != meeting_id):
        raise RuleViolated(
            "meeting_recorded",
            f"meeting {meeting_id} is not recorded by union {household.establishing_unit}",
            zh="所引用的民主评议会议未在本工会记录",
            field="meeting_id",
        )
    if meeting.unit != household.establishing_unit:
        raise RuleViolated(
            "meeting_of_the_union",
            f"the meeting was held by {meeting.unit}, not by the file's union"
            f" {household.establishing_unit}",
            zh="所引用的民主评议会议不是本档案建档工会召开的",
            field="meeting_id",
        )
    vote = meeting.vote_of(household.id)
    if vote is None:
        raise RuleViolated(
            "file_voted_at_meeting",
            "the meeting did not vote on this file",
            zh="该民主评议会议未评议本档案",
            field="meeting_id",
        )
    if not vote.passed(meeting.present):
        raise RuleViolated(
            "appraisal_passed",
            f"{vote.in_favour} of {meeting.present} present voted for: not more than half",
            zh=f"民主评议同意票{vote.in_favour}票，未超过实到人数{meeting.present}人的半数",
            field="meeting_id",
        )
    if appraised_on != meeting.held_on:
        raise RuleViolated(
            "appraised_on_meeting_day",
            f"the appraisal date must be the meeting's, {meeting.held_on.isoformat()}",
            zh=f"评议日期须为会议日期（{meeting.held_on.isoformat()}）",
            field="appraised_on",
        )
    if minutes_on_file is False:
        raise RuleViolated(
            "appraisal_minutes",
            "the cited meeting's record is the minutes: they cannot be missing",
            zh="已引用民主评议会议，会议记录不能为无",
            field="minutes_on_file",
        )


def _in_force(parameters: Parameters | None, region: str, on: date) -> Parameters:
    """The regional parameters handed in by the use case for the decision's date (DOMAIN.md:
    every decision is judged by the values in force for the file's region on its date)."""
    if parameters is None:
        raise parameters_missing(region, on)
    if not isinstance(parameters, Parameters) or parameters.effective_on > on:
        raise InvalidValue(
            "parameters",
            f"not the parameters in force on {on.isoformat()}",
            zh=f"不是{on.isoformat()}生效的地区参数",
        )
    return parameters


def _line_in_force(given: Decimal | None, parameters: Parameters, region: str, on: date) -> Decimal:
    """The poverty line in force; a line sent with the request must be that line (it is no
    longer the request's to choose: docs/rules.md, "regional parameters")."""
    line = money(parameters.poverty_line, "poverty_line")
    if given is not None and money(given, "poverty_line") != line:
        raise RuleViolated(
            "poverty_line_in_force",
            f"the poverty line in force for region {region} on {on.isoformat()} is {line} yuan"
            f" (since {parameters.effective_on.isoformat()}), not {given}: leave it out or send"
            f" {line}",
            zh=f"地区{region}在{on.isoformat()}生效的低保标准为{line}元"
            f"（{parameters.effective_on.isoformat()}起），不是{given}元：可不填或填写{line}",
            field="poverty_line",
        )
    return line


class HouseholdFile(Aggregate):
    """One household's file: its state is whatever its events say."""

    class Event(Aggregate.Event):
        actor: Actor

    class Applied(Event, Aggregate.Created):
        establishing_unit: str
        region: str
        scheme: CategoryScheme
        worker_kind: WorkerKind
        head: Head
        applied_on: date
        authorisation_signed: bool | None  # None: not recorded (imported; docs/rules.md R04u)
        statement: str
        materials: tuple[Material, ...]
        # sign-offs on the 档案表 (absent on older events: the form falls back to the actor)
        filed_by: str = ""  # 建档人
        entered_by: str = ""  # 录入人

    class Verified(Event):
        verified_on: date
        investigators: tuple[str, ...]
        members: tuple[Member, ...]
        means: Means
        exclusions: Exclusions
        primary_cause: Cause
        secondary_causes: tuple[Cause, ...]
        accidental_event: bool
        poverty_line: Decimal
        category: Category
        materials: tuple[Material, ...]
        narrative: str
        # the regional parameters the decision used (absent on events recorded before them)
        parameters_effective_on: date | None = None
        accidental_loss_ratio: Decimal | None = None
        adjusted_per_capita: Decimal | None = None  # from the household's total and expenses
        # the attachments the step rests on (added after the event: older ones decode as none)
        cites: tuple[UUID, ...] = ()

    class Appraised(Event):
        appraised_on: date
        minutes_on_file: bool | None  # None: not recorded (an imported file; docs/rules.md R07u)
        publicity_start: date
        publicity_end: date
        objections: int
        objections_resolved: int
        publicity_days: int | None = None  # the minimum in force, when the rule was checked
        parameters_effective_on: date | None = None
        base_opinion: str = ""  # 基层工会意见, dated by the appraisal
        meeting_id: UUID | None = None  # the 民主评议 meeting cited (domain/unit_records.py)

    class Approved(Event):
        approved_on: date
        category: Category
        file_level: FileLevel | None  # None: not recorded (an imported file)
        scheme: CategoryScheme
        region: str
        poverty_line: Decimal
        means: Means
        adjusted_per_capita: Decimal
        opinion: str
        parameters_effective_on: date | None = None
        accidental_loss_ratio: Decimal | None = None
        cites: tuple[UUID, ...] = ()  # as Verified's
        reviewed_by: str = ""  # 审核人 (absent: the approving actor)
        system_opinion: str = ""  # 系统工会意见 and its date
        system_opinion_on: date | None = None

    class SentBack(Event):
        sent_back_on: date
        reason: str

    class Rejected(Event):
        rejected_on: date
        reason: str

    class Assisted(Event):
        assisted_on: date
        kind: AssistanceKind
        amount: Decimal
        department: Department
        helper: str
        note: str
        emergency: bool | None = None  # 临时救助 on a file due to exit (absent on older events)

    class PlanAgreed(Event):
        agreed_on: date
        helper: str
        measures: tuple[str, ...]
        goals: str
        deadline: date
        signed_by_worker: bool
        # the measures one by one (seed 001 附件3, seed 002 表七), the helping unit and the
        # pairing's contacts (absent on older events: `measures` only)
        tasks: tuple[PlanMeasure, ...] = ()
        helping_unit: str = ""
        pairing: Pairing | None = None

    class Visited(Event):
        visited_on: date
        cadre: str
        content: str
        quarter_income: Decimal | None
        quarter_costs: Decimal | None
        visit_period_days: int | None = None  # the period in force: the next visit is due by
        next_visit_due: date | None = None
        # seed 001 附件2 and seed 002 表五 (absent on older events): the cadre's unit, post and
        # phone, the quarter's six cost lines (`quarter_costs` is their total), both opinions,
        # and the 困难清单和帮扶建议 the visit drew up (seed 001 附件1)
        cadre_unit: str = ""
        cadre_post: str = ""
        cadre_phone: str = ""
        costs: QuarterCosts | None = None
        helper_opinion: str = ""
        head_opinion: str = ""
        needs: tuple[Need, ...] = ()

    class Revised(Event):
        effective_on: date
        reason: str
        head: Head | None
        members: tuple[Member, ...] | None
        means: Means | None
        materials: tuple[Material, ...]
        # facts found after approval (absent on older events): the exclusion answers (assets),
        # the causes, the accidental flag; and whether they make the file exit due
        exclusions: Exclusions | None = None
        primary_cause: Cause | None = None
        secondary_causes: tuple[Cause, ...] | None = None
        accidental_event: bool | None = None
        exit_due: str | None = None  # why the file is now due to exit (a newly found exclusion)

    class Rechecked(Event):
        rechecked_on: date
        result: RecheckResult
        means: Means
        poverty_line: Decimal
        category: Category | None
        parameters_effective_on: date | None = None
        accidental_loss_ratio: Decimal | None = None
        adjusted_per_capita: Decimal | None = None
        # True: a changed category waits for an approver's confirmation and an exit due is
        # flagged; older events (None) changed the category at once
        needs_confirmation: bool | None = None

    class Exited(Event):
        exited_on: date
        kind: ExitKind
        reason: ExitReason
        explanation: str
        evidence: tuple[str, ...]
        months_above_line: int | None
        required_months_above_line: int | None = None  # 脱困: the months in force
        poverty_line: Decimal | None = None  # 脱困: the line in force on the exit date
        parameters_effective_on: date | None = None
        # 脱困: the recorded means it rests on — above the line since this date (the first of the
        # revisions and re-checks above it), and the latest per-capita figure
        above_line_since: date | None = None
        adjusted_per_capita: Decimal | None = None
        cites: tuple[UUID, ...] = ()  # as Verified's
        # 重复建档: the file kept for the same person (absent on older events)
        kept_file_id: UUID | None = None

    class Returned(Event):
        returned_on: date
        reason: str
        cause: Cause

    class Transferred(Event):
        transferred_on: date
        from_unit: str
        to_unit: str
        reason: str

    class PersonalDataErased(Event):
        """The household's personal data was erased on request: its data key is destroyed, so
        the encrypted personal fields of every earlier event read as `ERASED` from now on. The
        event itself holds who, when and why — no personal data."""

        erased_on: date
        reason: str

    class CategoryConfirmed(Event):
        """An approver confirmed the category a re-check found: it takes effect."""

        confirmed_on: date
        category: Category
        previous: Category | None
        opinion: str

    class KeptOnRecord(Event):
        """An approver kept a file that was due to exit, with the reason."""

        kept_on: date
        exit_due: str
        reason: str

    class FindingChecked(Event):
        """A clerk checked a civil-affairs finding on the file: confirmed (and acted on), or
        unfounded (with the reason); either way it is no longer outstanding."""

        checked_on: date
        finding: str
        result: FindingCheck
        reason: str

    class FollowedUp(Event):
        """回头看: a follow-up visit to a household out of hardship or relieved."""

        followed_up_on: date
        cadre: str
        result: FollowUpOutcome
        note: str

    class AttachmentAdded(Event):
        """A proof material was attached: its kind, name, media type, size and the SHA-256 of
        the content as uploaded (the content is kept apart, sealed with the household's data
        key: docs/decisions/0011-attachments.md). The name is personal data (sealed)."""

        attached_on: date
        attachment_id: UUID
        kind: Material
        name: str
        media_type: MediaType
        size: int
        sha256: str

    # ------------------------------------------------------------------ application (creation)

    @classmethod
    def receive_application(
        cls,
        *,
        file_id: UUID | None = None,
        actor: Actor,
        establishing_unit: str,
        worker_kind: WorkerKind,
        head: Head,
        applied_on: date,
        authorisation_signed: bool | None,
        statement: str = "",
        materials: tuple[Material, ...] = (),
        region: str | None = None,
        scheme: CategoryScheme = CategoryScheme.V2019,
        imported: bool = False,
        filed_by: str = "",
        entered_by: str = "",
        today: date,
    ) -> HouseholdFile:
        """申请: a written application with the signed authorisation opens a file.

        `imported`: the application is recorded from an existing file (a spreadsheet import);
        an authorisation the record does not show is recorded as unknown (`None`), which the
        spot-check reports as not recorded (docs/rules.md, R04u), instead of being refused."""
        unit = UnitCode(establishing_unit)
        if unit.implied_level is not Level.BASE:  # a non-geographic union's is stored: not base
            raise RuleViolated(
                "establishing_unit_is_base",
                f"a file is opened by a base-level union, not a {unit.implied_level or unit.kind}"
                " union",
                zh="档案须由基层工会建立",
                field="establishing_unit",
            )
        authorise(actor, Act.APPLY, unit)
        if not isinstance(worker_kind, WorkerKind) or not isinstance(scheme, CategoryScheme):
            raise InvalidValue("worker_kind", "unknown worker kind or scheme", zh="职工类别无效")
        if authorisation_signed is not True and not (imported and authorisation_signed is None):
            raise RuleViolated(
                "authorisation_on_file",
                "the signed authorisation (授权书) must be on file with the application",
                zh="申请须附本人签字的授权书（声明书）",
                field="authorisation_signed",
            )
        region = region if region is not None else unit.region
        if not (isinstance(region, str) and len(region) == 6 and region.isdigit()):
            raise InvalidValue(
                "region", "a 6-digit GB/T 2260 region code", zh="行政区划代码应为6位数字"
            )
        # `_create` is the library's constructor path that accepts a chosen id (for idempotent
        # imports and clients that name the file); without one it mints a UUID.
        return cls._create(
            cls.Applied,
            id=file_id,
            actor=actor,
            establishing_unit=unit.value,
            region=region,
            scheme=scheme,
            worker_kind=worker_kind,
            head=_check_head(head, today=today, worker_kind=worker_kind),
            applied_on=business_date(applied_on, today=today, field="applied_on"),
            authorisation_signed=authorisation_signed,
            statement=_text(statement, "statement", required=False),
            materials=tuple(
                dict.fromkeys(
                    (Material.APPLICATION, Material.AUTHORISATION, *materials)
                    if authorisation_signed
                    else (Material.APPLICATION, *materials)
                )
            ),
            filed_by=_text(filed_by, "filed_by", required=False, limit=MAX_NAME),
            entered_by=_text(entered_by, "entered_by", required=False, limit=MAX_NAME),
        )

    @event(Applied)
    def __init__(
        self,
        *,
        actor: Actor,
        establishing_unit: str,
        region: str,
        scheme: CategoryScheme,
        worker_kind: WorkerKind,
        head: Head,
        applied_on: date,
        authorisation_signed: bool | None,
        statement: str,
        materials: tuple[Material, ...],
        filed_by: str = "",
        entered_by: str = "",
    ) -> None:
        self.status = Status.APPLIED
        self.establishing_unit = establishing_unit
        self.region = region
        self.scheme = scheme
        self.worker_kind = worker_kind
        self.head = head
        self.applied_on = applied_on
        self.opened_on = applied_on  # start of the current cycle (application, send-back, return)
        self.materials: frozenset[Material] = frozenset(materials)
        self.members: tuple[Member, ...] = ()
        self.means: Means | None = None
        self.exclusions = Exclusions()
        self.primary_cause: Cause | None = None
        self.secondary_causes: tuple[Cause, ...] = ()
        self.accidental_event = False
        self.investigators: tuple[str, ...] = ()
        self.verified_on: date | None = None
        self.appraised_on: date | None = None
        self.publicity_end: date | None = None
        self.appraisal_meeting: UUID | None = None  # the 民主评议 meeting the appraisal cites
        self.open_objections = 0
        self.approved_on: date | None = None
        self.category: Category | None = None
        self.file_level: FileLevel | None = None
        self.poverty_line: Decimal | None = None
        self.assistance_count = 0
        self.assistance_total = Decimal("0.00")
        self.last_assisted_on: date | None = None
        self.helper: str | None = None
        self.plan_agreed_on: date | None = None
        self.last_visited_on: date | None = None
        self.last_rechecked_on: date | None = None
        # the means recorded by revisions and re-checks since the last approval (date, means):
        # what a 脱困 rests on
        self.recorded_means: tuple[tuple[date, Means], ...] = ()
        self.exit_due: str | None = None  # why an approved or relieved file is due to exit
        self.category_pending: Category | None = None  # found by a re-check, to be confirmed
        self.findings_checked: tuple[str, ...] = ()
        self.last_followed_up_on: date | None = None
        self.exit_kind: ExitKind | None = None
        self.exit_reason: ExitReason | None = None
        self.exited_on: date | None = None
        self.returns = 0
        self.transfers = 0
        self.erased = False
        # replaced, never mutated: a cached file is cloned shallowly (adapters/pg/repository.py)
        self.attachments: tuple[Attachment, ...] = ()

    # ------------------------------------------------------------------ helpers

    @property
    def unit(self) -> UnitCode:
        return UnitCode(self.establishing_unit)

    def _require(
        self, command: CommandKind, actor: Actor, act: Act, units: Units = GEOGRAPHIC
    ) -> None:
        authorise(actor, act, self.unit, units=units)
        name = command.value.rstrip("_")
        if self.erased:
            raise WrongState(name, self.status.value, (), erased=True)
        allowed = ALLOWED_FROM[command]
        if self.status not in allowed:
            raise WrongState(name, self.status.value, tuple(sorted(s.value for s in allowed)))

    def _check_migrant(self, on: date) -> None:
        if self.worker_kind is not WorkerKind.MIGRANT:
            return
        since = self.head.labour_relation_since
        if not self.head.union_member:
            raise RuleViolated(
                "migrant_conditions",
                "a migrant worker must be a union member",
                zh="农民工须为工会会员",
            )
        if since is None or _one_year_after(since) > on:
            raise RuleViolated(
                "migrant_conditions",
                "a migrant worker needs at least one year of labour relation",
                zh="农民工须有一年以上劳动关系",
            )

    # ------------------------------------------------------------------ investigation

    def verify(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        verified_on: date,
        investigators: tuple[str, ...],
        members: tuple[Member, ...],
        annual_income: Decimal,
        rigid_expenses: Decimal,
        exclusions: Exclusions,
        primary_cause: Cause,
        secondary_causes: tuple[Cause, ...] = (),
        accidental_event: bool = False,
        hardship_losses: Decimal = Decimal("0"),
        poverty_line: Decimal | None = None,
        parameters: Parameters | None = None,
        materials: tuple[Material, ...] = (),
        narrative: str = "",
        cites: tuple[UUID, ...] = (),
        today: date,
    ) -> None:
        """入户调查: two or more investigators record the members, means and answers.

        The household is judged by `parameters`, those in force for its region on `verified_on`
        (the use case looks them up); `poverty_line`, if sent, must be theirs. `cites`: the
        attachments of the file the investigation rests on.
        """
        self._require(CommandKind.VERIFY, actor, Act.VERIFY, units)
        on = business_date(
            verified_on,
            today=today,
            field="verified_on",
            not_before=self.opened_on,
            not_before_field="申请或退回日期",
        )
        names = tuple(
            dict.fromkeys(_text(n, "investigators", limit=MAX_NAME) for n in investigators)
        )
        if len(names) < 2:
            raise RuleViolated(
                "two_investigators",
                "a home investigation needs at least two investigators",
                zh="入户调查须有两名以上调查人员",
                field="investigators",
            )
        checked_members = _check_members(tuple(members), self.head, today=today)
        secondary = _check_causes(primary_cause, tuple(secondary_causes))
        # `annual_income` is the head's own; the household's total adds every member's
        means = household_means(
            head_income=money(annual_income, "annual_income"),
            member_incomes=tuple(m.annual_income for m in checked_members),
            rigid_expenses=money(rigid_expenses, "rigid_expenses"),
            members_living_together=1 + sum(m.lives_together for m in checked_members),
            hardship_losses=money(hardship_losses, "hardship_losses"),
        )
        in_force = _in_force(parameters, self.region, on)
        line = _line_in_force(poverty_line, in_force, self.region, on)
        self._check_migrant(on)
        category = judge(
            means,
            exclusions,
            poverty_line=line,
            scheme=self.scheme,
            accidental_event=accidental_event,
            thresholds=thresholds_of(in_force),
        )
        self._verified(
            actor=actor,
            verified_on=on,
            investigators=names,
            members=checked_members,
            means=means,
            exclusions=exclusions,
            primary_cause=primary_cause,
            secondary_causes=secondary,
            accidental_event=bool(accidental_event),
            poverty_line=line,
            category=category,
            materials=tuple(dict.fromkeys(materials)),
            narrative=_text(narrative, "narrative", required=False),
            parameters_effective_on=in_force.effective_on,
            accidental_loss_ratio=in_force.accidental_loss_ratio,
            adjusted_per_capita=means.adjusted_per_capita(),
            cites=self._cited(cites),
        )

    @event(Verified)
    def _verified(
        self,
        *,
        actor: Actor,
        verified_on: date,
        investigators: tuple[str, ...],
        members: tuple[Member, ...],
        means: Means,
        exclusions: Exclusions,
        primary_cause: Cause,
        secondary_causes: tuple[Cause, ...],
        accidental_event: bool,
        poverty_line: Decimal,
        category: Category,
        materials: tuple[Material, ...],
        narrative: str,
        parameters_effective_on: date | None = None,
        accidental_loss_ratio: Decimal | None = None,
        adjusted_per_capita: Decimal | None = None,
        cites: tuple[UUID, ...] = (),
    ) -> None:
        self.status = Status.VERIFIED
        self.verified_on = verified_on
        self.investigators = investigators
        self.members = members
        self.means = means
        self.exclusions = exclusions
        self.primary_cause = primary_cause
        self.secondary_causes = secondary_causes
        self.accidental_event = accidental_event
        self.materials = self.materials | set(materials)

    # ------------------------------------------------------------------ appraisal and publicity

    def appraise(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        appraised_on: date,
        minutes_on_file: bool | None,
        publicity_start: date,
        publicity_end: date,
        objections: int = 0,
        objections_resolved: int = 0,
        parameters: Parameters | None = None,
        imported: bool = False,
        base_opinion: str = "",
        meeting_id: UUID | None = None,
        meeting: Meeting | None = None,
        today: date,
    ) -> None:
        """民主评议 and 公示: the unit's appraisal (minutes) and the public posting of the list,
        posted at least the days the region's parameters in force on `appraised_on` require.

        `imported`: recorded from an existing file; minutes the record does not show are
        recorded as unknown (`None`; docs/rules.md, R07u) instead of being refused. The use case
        always hands the parameters in; an import records a sheet's publicity as it was, with
        none, and the replay rule judges it (docs/rules.md, R08).

        `meeting_id`: the 民主评议 meeting of the file's union that voted on it; the use case
        hands in the `meeting` as recorded (domain/unit_records.py). It must be that union's,
        held on the appraisal's date, list this file and have passed it; its record is then the
        minutes on file."""
        self._require(CommandKind.APPRAISE, actor, Act.APPRAISE, units)
        if meeting_id is not None or meeting is not None:
            _check_meeting(self, meeting_id, meeting, appraised_on, minutes_on_file)
            minutes_on_file = True
        assert self.verified_on is not None  # noqa: S101 — guaranteed by status VERIFIED
        on = business_date(
            appraised_on,
            today=today,
            field="appraised_on",
            not_before=self.verified_on,
            not_before_field="入户调查日期",
        )
        if minutes_on_file is not True and not (imported and minutes_on_file is None):
            raise RuleViolated(
                "appraisal_minutes",
                "the appraisal minutes must be on file",
                zh="须附民主评议会议记录",
                field="minutes_on_file",
            )
        start = business_date(
            publicity_start,
            today=today,
            field="publicity_start",
            not_before=on,
            not_before_field="评议日期",
        )
        end = business_date(
            publicity_end,
            today=today,
            field="publicity_end",
            not_before=start,
            not_before_field="公示开始日期",
        )
        in_force = None if parameters is None else _in_force(parameters, self.region, on)
        days = (end - start).days + 1
        if in_force is not None and days < in_force.publicity_days:
            raise RuleViolated(
                "publicity_days",
                f"the list is posted {days} day(s); region {self.region} requires at least"
                f" {in_force.publicity_days}",
                zh=f"公示{days}天，本地区规定公示期不少于{in_force.publicity_days}天",
                field="publicity_end",
            )
        if (
            isinstance(objections, bool)
            or not isinstance(objections, int)
            or objections < 0
            or (
                isinstance(objections_resolved, bool)
                or not isinstance(objections_resolved, int)
                or not 0 <= objections_resolved <= objections
            )
        ):
            raise InvalidValue(
                "objections",
                "objection counts are whole numbers, resolved ≤ raised",
                zh="异议数须为非负整数，且已处理数不超过异议数",
            )
        self._appraised(
            actor=actor,
            appraised_on=on,
            minutes_on_file=minutes_on_file,
            publicity_start=start,
            publicity_end=end,
            objections=objections,
            objections_resolved=objections_resolved,
            publicity_days=None if in_force is None else in_force.publicity_days,
            parameters_effective_on=None if in_force is None else in_force.effective_on,
            base_opinion=_text(base_opinion, "base_opinion", required=False),
            meeting_id=None if meeting is None else meeting.meeting_id,
        )

    @event(Appraised)
    def _appraised(
        self,
        *,
        actor: Actor,
        appraised_on: date,
        minutes_on_file: bool | None,
        publicity_start: date,
        publicity_end: date,
        objections: int,
        objections_resolved: int,
        publicity_days: int | None = None,
        parameters_effective_on: date | None = None,
        base_opinion: str = "",
        meeting_id: UUID | None = None,
    ) -> None:
        self.status = Status.APPRAISED
        self.appraisal_meeting = meeting_id
        self.appraised_on = appraised_on
        self.publicity_end = publicity_end
        self.open_objections = objections - objections_resolved
        minutes = {Material.APPRAISAL_MINUTES} if minutes_on_file else set()
        self.materials = self.materials | minutes | {Material.PUBLICITY_LIST}

    # ------------------------------------------------------------------ review

    def approve(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        approved_on: date,
        file_level: FileLevel | None,
        poverty_line: Decimal | None = None,
        parameters: Parameters | None = None,
        opinion: str = "",
        imported: bool = False,
        cites: tuple[UUID, ...] = (),
        reviewed_by: str = "",
        system_opinion: str = "",
        system_opinion_on: date | None = None,
        today: date,
    ) -> None:
        """审核认定: a district (county) union or above approves, fixing category and file level.

        The category is computed from the recorded means against the parameters in force for
        the household's region on `approved_on` (`parameters`, looked up by the use case); the
        event keeps the line, the loss ratio and their effective date. `poverty_line`, if sent,
        must be the line in force. `imported`: the approval is recorded from an existing file,
        whose file level may be unknown (`None`).
        """
        self._require(CommandKind.APPROVE, actor, Act.APPROVE, units)
        assert self.publicity_end is not None  # noqa: S101 — status APPRAISED
        assert self.means is not None  # noqa: S101 — status APPRAISED
        on = business_date(
            approved_on,
            today=today,
            field="approved_on",
            not_before=self.publicity_end,
            not_before_field="公示结束日期",
        )
        if not isinstance(file_level, FileLevel) and not (imported and file_level is None):
            raise InvalidValue("file_level", "unknown file level", zh="档案级别无效")
        if self.open_objections:
            raise RuleViolated(
                "publicity_without_open_objection",
                f"{self.open_objections} objection(s) from the publicity are unresolved",
                zh=f"公示期间有{self.open_objections}条异议尚未处理",
            )
        self._check_migrant(on)
        system_on = None
        if system_opinion_on is not None:
            assert self.appraised_on is not None  # noqa: S101 — status APPRAISED
            system_on = business_date(
                system_opinion_on,
                today=today,
                field="system_opinion_on",
                not_before=self.appraised_on,
                not_before_field="评议日期",
            )
            if system_on > on:
                raise InvalidValue(
                    "system_opinion_on",
                    "the system union's opinion comes before the approval",
                    zh="不能晚于审批日期",
                )
        system_text = _text(system_opinion, "system_opinion", required=False)
        if system_text and system_on is None:
            raise InvalidValue(
                "system_opinion_on", "an opinion is dated", zh="填写系统工会意见须注明日期"
            )
        in_force = _in_force(parameters, self.region, on)
        line = _line_in_force(poverty_line, in_force, self.region, on)
        category = judge(
            self.means,
            self.exclusions,
            poverty_line=line,
            scheme=self.scheme,
            accidental_event=self.accidental_event,
            thresholds=thresholds_of(in_force),
        )
        self._approved(
            actor=actor,
            approved_on=on,
            category=category,
            file_level=file_level,
            scheme=self.scheme,
            region=self.region,
            poverty_line=line,
            means=self.means,
            adjusted_per_capita=self.means.adjusted_per_capita(),
            opinion=_text(opinion, "opinion", required=False),
            parameters_effective_on=in_force.effective_on,
            accidental_loss_ratio=in_force.accidental_loss_ratio,
            cites=self._cited(cites),
            reviewed_by=_text(reviewed_by, "reviewed_by", required=False, limit=MAX_NAME),
            system_opinion=system_text,
            system_opinion_on=system_on,
        )

    @event(Approved)
    def _approved(
        self,
        *,
        actor: Actor,
        approved_on: date,
        category: Category,
        file_level: FileLevel | None,
        scheme: CategoryScheme,
        region: str,
        poverty_line: Decimal,
        means: Means,
        adjusted_per_capita: Decimal,
        opinion: str,
        parameters_effective_on: date | None = None,
        accidental_loss_ratio: Decimal | None = None,
        cites: tuple[UUID, ...] = (),
        reviewed_by: str = "",
        system_opinion: str = "",
        system_opinion_on: date | None = None,
    ) -> None:
        self.status = Status.APPROVED
        self.approved_on = approved_on
        self.recorded_means = ()
        self.exit_due = None
        self.category_pending = None
        self.category = category
        self.file_level = file_level
        self.poverty_line = poverty_line

    def send_back(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        sent_back_on: date,
        reason: str,
        today: date,
    ) -> None:
        """退回: the reviewing union returns the file for rework; it is investigated again."""
        self._require(CommandKind.SEND_BACK, actor, Act.SEND_BACK, units)
        assert self.appraised_on is not None  # noqa: S101 — status APPRAISED
        on = business_date(
            sent_back_on,
            today=today,
            field="sent_back_on",
            not_before=self.appraised_on,
            not_before_field="评议日期",
        )
        self._sent_back(actor=actor, sent_back_on=on, reason=_text(reason, "reason"))

    @event(SentBack)
    def _sent_back(self, *, actor: Actor, sent_back_on: date, reason: str) -> None:
        self.status = Status.SENT_BACK
        self.opened_on = sent_back_on

    def reject(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        rejected_on: date,
        reason: str,
        today: date,
    ) -> None:
        """不予建档: screened out (by the base-level union before review, or at review)."""
        at_review = self.status is Status.APPRAISED
        self._require(
            CommandKind.REJECT, actor, Act.REJECT_AT_REVIEW if at_review else Act.REJECT, units
        )
        latest, latest_name = self.opened_on, "申请日期"
        if self.status is Status.VERIFIED and self.verified_on is not None:
            latest, latest_name = self.verified_on, "入户调查日期"
        if at_review and self.appraised_on is not None:
            latest, latest_name = self.appraised_on, "评议日期"
        on = business_date(
            rejected_on,
            today=today,
            field="rejected_on",
            not_before=latest,
            not_before_field=latest_name,
        )
        self._rejected(actor=actor, rejected_on=on, reason=_text(reason, "reason"))

    @event(Rejected)
    def _rejected(self, *, actor: Actor, rejected_on: date, reason: str) -> None:
        self.status = Status.REJECTED

    # ------------------------------------------------------------------ assistance and follow-up

    def _after_approval(self, value: date, field: str, today: date) -> date:
        assert self.approved_on is not None  # noqa: S101 — status APPROVED or RELIEVED
        return business_date(
            value,
            today=today,
            field=field,
            not_before=self.approved_on,
            not_before_field="审批日期",
        )

    def assist(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        assisted_on: date,
        kind: AssistanceKind,
        amount: Decimal,
        department: Department,
        helper: str = "",
        note: str = "",
        emergency: bool = False,
        today: date,
    ) -> None:
        """帮扶: an assistance measure delivered to an approved (or relieved) file.

        A file due to exit takes no new regular aid until it exits or an approver keeps it;
        emergency aid (`emergency`, 临时救助) is still given, and recorded as such."""
        self._require(CommandKind.ASSIST, actor, Act.ASSIST, units)
        on = self._after_approval(assisted_on, "assisted_on", today)
        if not isinstance(kind, AssistanceKind) or not isinstance(department, Department):
            raise InvalidValue(
                "kind", "unknown assistance kind or department", zh="帮扶类别或责任部门无效"
            )
        if not isinstance(emergency, bool):
            raise InvalidValue("emergency", "true or false", zh="须为是或否")
        if self.exit_due is not None and not emergency:
            raise RuleViolated(
                "exit_due_no_regular_aid",
                f"the file is due to exit ({self.exit_due}): no new regular aid until it exits or"
                " an approver keeps it; emergency aid is recorded with `emergency: true`",
                zh="档案应予退出，退出或经审核人员保留前不再给予常态化帮扶；临时救助请注明为临时救助",
                field="emergency",
            )
        self._assisted(
            actor=actor,
            assisted_on=on,
            kind=kind,
            amount=money(amount, "amount"),
            department=department,
            helper=_text(helper, "helper", required=False, limit=MAX_NAME),
            note=_text(note, "note", required=False),
            emergency=True if emergency else None,
        )

    @event(Assisted)
    def _assisted(
        self,
        *,
        actor: Actor,
        assisted_on: date,
        kind: AssistanceKind,
        amount: Decimal,
        department: Department,
        helper: str,
        note: str,
        emergency: bool | None = None,
    ) -> None:
        self.assistance_count += 1
        self.assistance_total += amount
        if self.last_assisted_on is None or assisted_on > self.last_assisted_on:
            self.last_assisted_on = assisted_on

    def agree_plan(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        agreed_on: date,
        helper: str,
        measures: tuple[str, ...] = (),
        goals: str,
        deadline: date,
        signed_by_worker: bool,
        tasks: tuple[PlanMeasure, ...] = (),
        helping_unit: str = "",
        pairing: Pairing | None = None,
        today: date,
    ) -> None:
        """帮扶计划: measures, goals and deadline with a named helper, signed by the worker.

        `tasks`: the measures one by one with their kind, departments, leaders, contacts,
        deadline and completion (seed 001 附件3); `measures` may then be left empty (it is their
        contents). A plan agreed again records the measures' completion (seed 002 表七)."""
        self._require(CommandKind.AGREE_PLAN, actor, Act.PLAN, units)
        on = self._after_approval(agreed_on, "agreed_on", today)
        if signed_by_worker is not True:
            raise RuleViolated(
                "plan_signed",
                "the plan must be signed by the worker",
                zh="帮扶计划须经职工本人签字",
                field="signed_by_worker",
            )
        if not isinstance(measures, (tuple, list)):
            raise InvalidValue("measures", "a list of measures", zh="帮扶措施无效")
        detailed = check_measures(tuple(tasks), agreed_on=on, today=today)
        lines = tuple(_text(m, "measures") for m in measures) or tuple(m.content for m in detailed)
        if not lines:
            raise InvalidValue(
                "measures", "a plan has at least one measure", zh="帮扶计划至少包含一项措施"
            )
        if not isinstance(deadline, date) or deadline < on:
            raise InvalidValue(
                "deadline",
                "the deadline is on or after the agreement",
                zh="完成期限不能早于计划日期",
            )
        for m in detailed:
            if m.deadline is not None and m.deadline > deadline:
                raise InvalidValue(
                    "tasks",
                    "a measure's deadline is within the plan's",
                    zh="措施的完成时限不能晚于方案的完成期限",
                )
        self._plan_agreed(
            actor=actor,
            agreed_on=on,
            helper=_text(helper, "helper", limit=MAX_NAME),
            measures=lines,
            goals=_text(goals, "goals"),
            deadline=deadline,
            signed_by_worker=True,
            tasks=detailed,
            helping_unit=_text(helping_unit, "helping_unit", required=False, limit=200),
            pairing=check_pairing(pairing),
        )

    @event(PlanAgreed)
    def _plan_agreed(
        self,
        *,
        actor: Actor,
        agreed_on: date,
        helper: str,
        measures: tuple[str, ...],
        goals: str,
        deadline: date,
        signed_by_worker: bool,
        tasks: tuple[PlanMeasure, ...] = (),
        helping_unit: str = "",
        pairing: Pairing | None = None,
    ) -> None:
        self.helper = helper
        self.plan_agreed_on = agreed_on

    def visit(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        visited_on: date,
        cadre: str,
        content: str,
        quarter_income: Decimal | None = None,
        quarter_costs: Decimal | None = None,
        parameters: Parameters | None = None,
        cadre_unit: str = "",
        cadre_post: str = "",
        cadre_phone: str = "",
        costs: QuarterCosts | None = None,
        helper_opinion: str = "",
        head_opinion: str = "",
        needs: tuple[Need, ...] = (),
        today: date,
    ) -> None:
        """走访: a visit to the household, with the quarter's income and costs where collected.

        `costs`: the quarter's six cost lines (seed 002 表五; 农业生产经营 for migrant workers
        only); `quarter_costs` is then their total (if sent, it must be). `needs`: the
        困难清单和帮扶建议 the visit drew up, one row per kind (seed 001 附件1).

        With the region's parameters in force, the event records their visit period and the
        date the next visit is due by."""
        self._require(CommandKind.VISIT, actor, Act.VISIT, units)
        on = self._after_approval(visited_on, "visited_on", today)
        period = None if parameters is None else _in_force(parameters, self.region, on)
        period_days = None if period is None else period.visit_period_days
        lines = check_costs(costs, migrant=self.worker_kind is WorkerKind.MIGRANT)
        total = None if quarter_costs is None else money(quarter_costs, "quarter_costs")
        if lines is not None:
            if total is not None and total != lines.total():
                raise InvalidValue(
                    "quarter_costs",
                    f"the cost lines add up to {lines.total()}, not {total}",
                    zh=f"各项支出合计为{lines.total()}元，与填写的{total}元不符",
                )
            total = lines.total()
        self._visited(
            actor=actor,
            visited_on=on,
            cadre=_text(cadre, "cadre", limit=MAX_NAME),
            content=_text(content, "content"),
            quarter_income=None
            if quarter_income is None
            else money(quarter_income, "quarter_income"),
            quarter_costs=total,
            visit_period_days=period_days,
            next_visit_due=None if period_days is None else on + timedelta(days=period_days),
            cadre_unit=_text(cadre_unit, "cadre_unit", required=False, limit=200),
            cadre_post=_text(cadre_post, "cadre_post", required=False, limit=MAX_NAME),
            cadre_phone=check_phone(cadre_phone, "cadre_phone"),
            costs=lines,
            helper_opinion=_text(helper_opinion, "helper_opinion", required=False),
            head_opinion=_text(head_opinion, "head_opinion", required=False),
            needs=check_needs(needs),
        )

    @event(Visited)
    def _visited(
        self,
        *,
        actor: Actor,
        visited_on: date,
        cadre: str,
        content: str,
        quarter_income: Decimal | None,
        quarter_costs: Decimal | None,
        visit_period_days: int | None = None,
        next_visit_due: date | None = None,
        cadre_unit: str = "",
        cadre_post: str = "",
        cadre_phone: str = "",
        costs: QuarterCosts | None = None,
        helper_opinion: str = "",
        head_opinion: str = "",
        needs: tuple[Need, ...] = (),
    ) -> None:
        if self.last_visited_on is None or visited_on > self.last_visited_on:
            self.last_visited_on = visited_on

    def revise(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        effective_on: date,
        reason: str,
        head: Head | None = None,
        members: tuple[Member, ...] | None = None,
        annual_income: Decimal | None = None,
        rigid_expenses: Decimal | None = None,
        hardship_losses: Decimal | None = None,
        materials: tuple[Material, ...] = (),
        exclusions: Exclusions | None = None,
        primary_cause: Cause | None = None,
        secondary_causes: tuple[Cause, ...] | None = None,
        accidental_event: bool | None = None,
        today: date,
    ) -> None:
        """动态调整: changed facts with their effective date; eligibility is judged at re-check.

        Facts found after approval are revised here too: the exclusion answers (a second home,
        a car: the household's assets), the causes and the accidental flag. A newly found
        exclusion makes the file *exit due* (its status is unchanged): it takes no new regular
        aid until it exits or an approver keeps it (docs/rules.md)."""
        self._require(CommandKind.REVISE, actor, Act.REVISE, units)
        on = self._after_approval(effective_on, "effective_on", today)
        new_head = (
            None if head is None else _check_head(head, today=today, worker_kind=self.worker_kind)
        )
        if new_head is not None and new_head.id_number != self.head.id_number:
            raise RuleViolated(
                "head_identity",
                "the head's ID number cannot change by revision",
                zh="户主身份证号码不能通过动态调整变更",
                field="head.id_number",
            )
        new_members = (
            None
            if members is None
            else _check_members(tuple(members), new_head or self.head, today=today)
        )
        assert self.means is not None  # noqa: S101 — status APPROVED
        means = None
        if new_members is not None or any(
            v is not None for v in (annual_income, rigid_expenses, hardship_losses)
        ):
            base = self.means
            people = self.members if new_members is None else new_members
            # the head's own income; a file recorded before it was kept apart has the total only
            head_income = (
                money(annual_income, "annual_income")
                if annual_income is not None
                else base.head_income
                if base.head_income is not None
                else max(
                    base.annual_income - sum((m.annual_income for m in self.members), Decimal(0)),
                    Decimal("0.00"),
                )
            )
            means = household_means(
                head_income=head_income,
                member_incomes=tuple(m.annual_income for m in people),
                rigid_expenses=base.rigid_expenses
                if rigid_expenses is None
                else money(rigid_expenses, "rigid_expenses"),
                members_living_together=base.members_living_together
                if new_members is None
                else 1 + sum(m.lives_together for m in new_members),
                hardship_losses=base.hardship_losses
                if hardship_losses is None
                else money(hardship_losses, "hardship_losses"),
            )
        if exclusions is not None and not isinstance(exclusions, Exclusions):
            raise InvalidValue("exclusions", "unknown exclusion answers", zh="不予建档情形无效")
        if primary_cause is None and secondary_causes is not None:
            primary_cause = self.primary_cause
        new_secondary = None
        if primary_cause is not None:
            new_secondary = _check_causes(
                primary_cause,
                tuple(self.secondary_causes if secondary_causes is None else secondary_causes),
            )
        if accidental_event is not None and not isinstance(accidental_event, bool):
            raise InvalidValue("accidental_event", "true or false", zh="须为是或否")
        facts = (exclusions, primary_cause, accidental_event)
        if (
            new_head is None
            and new_members is None
            and means is None
            and not materials
            and all(f is None for f in facts)
        ):
            raise InvalidValue(
                "revision", "a revision changes at least one fact", zh="动态调整须至少变更一项"
            )
        found = () if exclusions is None else exclusions.applying()
        newly = tuple(name for name in found if name not in self.exclusions.applying())
        exit_due = "exclusion: " + ", ".join(newly) if newly and self.exit_due is None else None
        self._revised(
            actor=actor,
            effective_on=on,
            reason=_text(reason, "reason"),
            head=new_head,
            members=new_members,
            means=means,
            materials=tuple(dict.fromkeys(materials)),
            exclusions=exclusions,
            primary_cause=primary_cause,
            secondary_causes=new_secondary,
            accidental_event=accidental_event,
            exit_due=exit_due,
        )

    @event(Revised)
    def _revised(
        self,
        *,
        actor: Actor,
        effective_on: date,
        reason: str,
        head: Head | None,
        members: tuple[Member, ...] | None,
        means: Means | None,
        materials: tuple[Material, ...],
        exclusions: Exclusions | None = None,
        primary_cause: Cause | None = None,
        secondary_causes: tuple[Cause, ...] | None = None,
        accidental_event: bool | None = None,
        exit_due: str | None = None,
    ) -> None:
        if head is not None:
            self.head = head
        if exclusions is not None:
            self.exclusions = exclusions
        if primary_cause is not None:
            self.primary_cause = primary_cause
        if secondary_causes is not None:
            self.secondary_causes = secondary_causes
        if accidental_event is not None:
            self.accidental_event = accidental_event
        if exit_due is not None:
            self.exit_due = exit_due
        if members is not None:
            self.members = members
        if means is not None:
            self.means = means
            self.recorded_means = (*self.recorded_means, (effective_on, means))
        self.materials = self.materials | set(materials)

    def recheck(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        rechecked_on: date,
        poverty_line: Decimal | None = None,
        parameters: Parameters | None = None,
        today: date,
    ) -> None:
        """年度复核: the recorded means judged again against the parameters in force for the
        region on `rechecked_on`; `poverty_line`, if sent, must be the line in force."""
        self._require(CommandKind.RECHECK, actor, Act.RECHECK, units)
        on = self._after_approval(rechecked_on, "rechecked_on", today)
        assert self.means is not None  # noqa: S101 — status APPROVED
        in_force = _in_force(parameters, self.region, on)
        line = _line_in_force(poverty_line, in_force, self.region, on)
        excluded = bool(self.exclusions.applying())
        category = (
            None
            if excluded
            else categorise(
                self.means,
                poverty_line=line,
                scheme=self.scheme,
                accidental_event=self.accidental_event,
                thresholds=thresholds_of(in_force),
            )
        )
        result = (
            RecheckResult.EXIT_DUE
            if category is None
            else RecheckResult.STILL_ELIGIBLE
            if category is self.category
            else RecheckResult.CATEGORY_CHANGED
        )
        self._rechecked(
            actor=actor,
            rechecked_on=on,
            result=result,
            means=self.means,
            poverty_line=line,
            category=category,
            parameters_effective_on=in_force.effective_on,
            accidental_loss_ratio=in_force.accidental_loss_ratio,
            adjusted_per_capita=self.means.adjusted_per_capita(),
            needs_confirmation=True,
        )

    @event(Rechecked)
    def _rechecked(
        self,
        *,
        actor: Actor,
        rechecked_on: date,
        result: RecheckResult,
        means: Means,
        poverty_line: Decimal,
        category: Category | None,
        parameters_effective_on: date | None = None,
        accidental_loss_ratio: Decimal | None = None,
        adjusted_per_capita: Decimal | None = None,
        needs_confirmation: bool | None = None,
    ) -> None:
        self.last_rechecked_on = rechecked_on
        self.recorded_means = (*self.recorded_means, (rechecked_on, means))
        if not needs_confirmation:  # recorded before re-checks waited for an approver
            if category is not None:
                self.category = category
            return
        if result is RecheckResult.CATEGORY_CHANGED:
            self.category_pending = category
        elif result is RecheckResult.STILL_ELIGIBLE:
            self.category_pending = None
        elif result is RecheckResult.EXIT_DUE and self.exit_due is None:
            self.exit_due = "recheck: above the standard"

    # ------------------------------------------------------------------ leaving and coming back

    def exit(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        exited_on: date,
        kind: ExitKind,
        reason: ExitReason,
        explanation: str,
        evidence: tuple[str, ...],
        months_above_line: int | None = None,
        parameters: Parameters | None = None,
        imported: bool = False,
        cites: tuple[UUID, ...] = (),
        kept_file_id: UUID | None = None,
        today: date,
    ) -> None:
        """脱困 / 解困 / 注销 / 删除: leave the file, always with kind, reason and evidence.

        注销 as 重复建档 (reason `duplicate`, 一户一档) names the file kept for the same person
        (`kept_file_id`) and is an approver's act of a district or above, at any stage of an
        open or relieved file (docs/rules.md, `one_file_per_person`); the use case checks that
        the kept file is one the approver may see and that it is open or relieved.

        脱困 is judged by the region's parameters in force on `exited_on` (`parameters`): it
        rests on recorded means above their line for their months. `imported`: an exit recorded
        from an existing file keeps the months the record gives (at least the region's); whether
        recorded means bear them out is judged on replay (docs/rules.md, R22). `cites`: the
        attachments that prove it."""
        if not isinstance(kind, ExitKind) or not isinstance(reason, ExitReason):
            raise InvalidValue("kind", "unknown exit kind or reason", zh="退出类别或原因无效")
        duplicate = reason is ExitReason.DUPLICATE
        if kind is ExitKind.CANCELLED and duplicate:
            self._require(CommandKind.CANCEL_DUPLICATE, actor, Act.CANCEL_DUPLICATE, units)
            floor, floor_name = self.applied_on, "申请日期"
        elif kind is ExitKind.DELETED:
            self._require(CommandKind.DELETE, actor, Act.DELETE, units)
            floor, floor_name = self.applied_on, "申请日期"
        else:
            self._require(CommandKind.EXIT, actor, Act.EXIT, units)
            if kind is ExitKind.RELIEVED and self.status is Status.RELIEVED:
                raise WrongState("exit", self.status.value, (Status.APPROVED.value,))
            assert self.approved_on is not None  # noqa: S101 — approved or relieved
            floor, floor_name = self.approved_on, "审批日期"
            if self.status is Status.RELIEVED and self.exited_on is not None:
                floor, floor_name = self.exited_on, "解困日期"
        on = business_date(
            exited_on, today=today, field="exited_on", not_before=floor, not_before_field=floor_name
        )
        if reason not in EXIT_REASONS[kind]:
            raise RuleViolated(
                "exit_reason_fits_kind",
                f"reason '{reason}' does not fit exit '{kind}'",
                zh="退出原因与退出类别不符",
                field="reason",
            )
        # an exit recorded from an existing file (an import) keeps what the record gives: a
        # sheet names no kept file
        if duplicate and ((kept_file_id is None and not imported) or kept_file_id == self.id):
            raise RuleViolated(
                "duplicate_names_kept_file",
                "a file cancelled or deleted as a duplicate names the other file, the one kept"
                " (kept_file_id)",
                zh="以重复建档注销或删除档案，须注明保留的另一份档案",
                field="kept_file_id",
            )
        if not duplicate and kept_file_id is not None:
            raise InvalidValue(
                "kept_file_id", "only named for a duplicate (重复建档)", zh="仅重复建档时填写"
            )
        proofs = tuple(_text(e, "evidence", limit=MAX_NAME * 4) for e in evidence)
        if not proofs:
            raise RuleViolated(
                "exit_evidence",
                "an exit needs evidence (证明材料)",
                zh="退出须提供相关证明材料",
                field="evidence",
            )
        required = line = in_force = since = per_capita = None
        if kind is ExitKind.OUT_OF_HARDSHIP:
            in_force = _in_force(parameters, self.region, on)
            required = in_force.exit_months_above_line
            line = money(in_force.poverty_line, "poverty_line")
            if months_above_line is not None and (
                isinstance(months_above_line, bool) or not isinstance(months_above_line, int)
            ):
                raise RuleViolated(
                    "months_above_line",
                    "months above the line are a whole number (or left out: the recorded means"
                    " give them)",
                    zh="高于标准的月数须为整数（可不填，由已记录的收入计算）",
                    field="months_above_line",
                )
            if imported:
                months = months_above_line if months_above_line is not None else 0
                shown, shown_zh = "the record gives", "档案记载"
            else:
                since, per_capita = self.above_line_since(line, on)
                months = whole_months(since, on)
                shown = f"the recorded means show it above since {since.isoformat()}:"
                shown_zh = f"已记录的收入自{since.isoformat()}起高于标准，"
            if months < required or (months_above_line is not None and months_above_line > months):
                raise RuleViolated(
                    "months_above_line",
                    f"脱困 needs per-capita income above the line ({line}) for {required}"
                    f" consecutive months in region {self.region}; {shown} {months} month(s)",
                    zh=f"脱困须家庭人均收入连续{required}个月高于低保标准（{line}元）；"
                    f"{shown_zh}仅{months}个月",
                    field="months_above_line",
                )
            months_above_line = months
        elif months_above_line is not None:
            raise InvalidValue("months_above_line", "only recorded for 脱困", zh="仅脱困时填写")
        self._exited(
            actor=actor,
            exited_on=on,
            kind=kind,
            reason=reason,
            explanation=_text(explanation, "explanation"),
            evidence=proofs,
            months_above_line=months_above_line,
            required_months_above_line=required,
            poverty_line=line,
            parameters_effective_on=None if in_force is None else in_force.effective_on,
            above_line_since=since,
            adjusted_per_capita=per_capita,
            cites=self._cited(cites),
            kept_file_id=kept_file_id,
        )

    @event(Exited)
    def _exited(
        self,
        *,
        actor: Actor,
        exited_on: date,
        kind: ExitKind,
        reason: ExitReason,
        explanation: str,
        evidence: tuple[str, ...],
        months_above_line: int | None,
        required_months_above_line: int | None = None,
        poverty_line: Decimal | None = None,
        parameters_effective_on: date | None = None,
        above_line_since: date | None = None,
        adjusted_per_capita: Decimal | None = None,
        cites: tuple[UUID, ...] = (),
        kept_file_id: UUID | None = None,
    ) -> None:
        self.status = EXIT_STATUS[kind]
        self.exit_kind = kind
        self.exit_reason = reason
        self.exit_due = None
        self.exited_on = exited_on
        self.materials = self.materials | {Material.EXIT_EVIDENCE}

    def above_line_since(self, line: Decimal, on: date) -> tuple[date, Decimal]:
        """The date from which the recorded means (revisions and re-checks since approval, up
        to `on`, in the order recorded) have shown per-capita income above `line` — the earliest
        date of the last records that all do — and the latest figure; refused,
        naming what is missing, when there are none or the latest is not above the line."""
        # in the order they were recorded: the latest record is what the file knows now
        records = [(day, means) for day, means in self.recorded_means if day <= on]
        if not records:
            raise RuleViolated(
                "means_recorded_for_exit",
                "脱困 rests on recorded means: record the household's income since approval by a"
                " revision (动态调整, `revisions`) or a re-check (年度复核, `rechecks`) first",
                zh="脱困须有审批后记录的家庭收入：请先通过动态调整或复核记录家庭收入",
                field="kind",
            )
        latest = records[-1][1].adjusted_per_capita()
        if latest <= line:
            raise RuleViolated(
                "means_recorded_for_exit",
                f"the latest recorded per-capita income ({latest} yuan a month, on"
                f" {records[-1][0].isoformat()}) is not above the line in force ({line})",
                zh=f"最近记录的家庭人均收入（{records[-1][0].isoformat()}，{latest}元/月）"
                f"未高于低保标准（{line}元）",
                field="kind",
            )
        since = records[-1][0]
        for day, means in reversed(records):
            if means.adjusted_per_capita() <= line:
                break
            since = min(since, day)
        return since, latest

    def return_(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        returned_on: date,
        reason: str,
        cause: Cause,
        today: date,
    ) -> None:
        """返困: an exited household falls back into hardship; the file is investigated again."""
        self._require(CommandKind.RETURN, actor, Act.RETURN, units)
        assert self.exited_on is not None  # noqa: S101 — status is an exit
        if self.exit_reason in NO_RETURN:
            # A deleted file is out of the lifecycle already (ALLOWED_FROM); a household whose
            # head died has no hardship to return to: a survivor applies for a file of their own.
            raise RuleViolated(
                "no_return_after_death",
                "a file cancelled because the head died cannot be returned: the surviving family"
                " applies for a new file",
                zh="因户主死亡注销的档案不能返困，家庭其他成员可另行申请建档",
            )
        on = business_date(
            returned_on,
            today=today,
            field="returned_on",
            not_before=self.exited_on,
            not_before_field="退出日期",
        )
        if not isinstance(cause, Cause):
            raise InvalidValue("cause", "unknown cause", zh="致困原因无效")
        self._returned(actor=actor, returned_on=on, reason=_text(reason, "reason"), cause=cause)

    @event(Returned)
    def _returned(self, *, actor: Actor, returned_on: date, reason: str, cause: Cause) -> None:
        self.status = Status.RETURNED
        self.opened_on = returned_on
        self.returns += 1
        self.exit_kind = None
        self.exit_reason = None
        self.exited_on = None
        self.primary_cause = cause

    def transfer(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        transferred_on: date,
        to_unit: str,
        reason: str,
        today: date,
    ) -> None:
        """移交: the worker changed employer; the file moves to the new base-level union."""
        self._require(CommandKind.TRANSFER, actor, Act.TRANSFER, units)
        target = UnitCode(to_unit)
        if target.level is not Level.BASE:
            raise RuleViolated(
                "transfer_to_base",
                "a file moves to a base-level union",
                zh="档案只能移交给基层工会",
                field="to_unit",
            )
        if target == self.unit:
            raise InvalidValue(
                "to_unit", "the file is already held by this union", zh="档案已在该工会"
            )
        on = business_date(
            transferred_on,
            today=today,
            field="transferred_on",
            not_before=self.applied_on,
            not_before_field="申请日期",
        )
        self._transferred(
            actor=actor,
            transferred_on=on,
            from_unit=self.establishing_unit,
            to_unit=target.value,
            reason=_text(reason, "reason"),
        )

    @event(Transferred)
    def _transferred(
        self, *, actor: Actor, transferred_on: date, from_unit: str, to_unit: str, reason: str
    ) -> None:
        self.establishing_unit = to_unit
        self.transfers += 1

    # ------------------------------------------------------------------ re-checks with consequences

    def confirm_category(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        confirmed_on: date,
        opinion: str = "",
        today: date,
    ) -> None:
        """审核确认: an approver (district or above) confirms the category a clerk's re-check
        found; only then does it take effect (it waits on the approvals queue)."""
        self._require(CommandKind.CONFIRM_CATEGORY, actor, Act.CONFIRM_CATEGORY, units)
        if self.category_pending is None:
            raise RuleViolated(
                "category_change_to_confirm",
                "no re-check found a change of category to confirm",
                zh="没有待确认的困难类别变化",
            )
        assert self.last_rechecked_on is not None  # noqa: S101 — a re-check found the change
        on = business_date(
            confirmed_on,
            today=today,
            field="confirmed_on",
            not_before=self.last_rechecked_on,
            not_before_field="复核日期",
        )
        self._category_confirmed(
            actor=actor,
            confirmed_on=on,
            category=self.category_pending,
            previous=self.category,
            opinion=_text(opinion, "opinion", required=False),
        )

    @event(CategoryConfirmed)
    def _category_confirmed(
        self,
        *,
        actor: Actor,
        confirmed_on: date,
        category: Category,
        previous: Category | None,
        opinion: str,
    ) -> None:
        self.category = category
        self.category_pending = None

    def keep(
        self, *, actor: Actor, units: Units = GEOGRAPHIC, kept_on: date, reason: str, today: date
    ) -> None:
        """保留: an approver (district or above) keeps a file that is due to exit, saying why;
        it takes regular aid again."""
        self._require(CommandKind.KEEP, actor, Act.KEEP, units)
        if self.exit_due is None:
            raise RuleViolated(
                "exit_due_to_keep", "the file is not due to exit", zh="档案不在应予退出名单中"
            )
        on = self._after_approval(kept_on, "kept_on", today)
        self._kept_on_record(
            actor=actor, kept_on=on, exit_due=self.exit_due, reason=_text(reason, "reason")
        )

    @event(KeptOnRecord)
    def _kept_on_record(self, *, actor: Actor, kept_on: date, exit_due: str, reason: str) -> None:
        self.exit_due = None

    # ------------------------------------------------------------------ facts found after approval

    def check_finding(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        checked_on: date,
        finding: str,
        result: FindingCheck,
        reason: str,
        today: date,
    ) -> None:
        """民政比对核实: record the check of a civil-affairs finding on the file — confirmed and
        acted on (say what was done: a revision, an exit), or unfounded (say why); it is then
        no longer outstanding."""
        self._require(CommandKind.CHECK_FINDING, actor, Act.CHECK_FINDING, units)
        if finding not in CHECKABLE_FINDINGS:
            raise InvalidValue(
                "finding",
                f"not a civil-affairs finding to act on: {finding!r}"
                f" (one of {', '.join(sorted(CHECKABLE_FINDINGS))})",
                zh="不是需核实处理的民政比对问题",
            )
        if not isinstance(result, FindingCheck):
            raise InvalidValue("result", "confirmed or unfounded", zh="核实结果无效")
        on = business_date(
            checked_on,
            today=today,
            field="checked_on",
            not_before=self.applied_on,
            not_before_field="申请日期",
        )
        self._finding_checked(
            actor=actor,
            checked_on=on,
            finding=finding,
            result=result,
            reason=_text(reason, "reason"),
        )

    @event(FindingChecked)
    def _finding_checked(
        self, *, actor: Actor, checked_on: date, finding: str, result: FindingCheck, reason: str
    ) -> None:
        self.findings_checked = (*self.findings_checked, finding)

    def follow_up(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        followed_up_on: date,
        cadre: str,
        result: FollowUpOutcome,
        note: str = "",
        cause: Cause | None = None,
        today: date,
    ) -> None:
        """回头看: a follow-up visit to a household out of hardship or relieved, with what it
        found. Back in hardship opens the return flow at once (返困, with its `cause`): the
        file is investigated again."""
        self._require(CommandKind.FOLLOW_UP, actor, Act.FOLLOW_UP, units)
        if not isinstance(result, FollowUpOutcome):
            raise InvalidValue("result", "stable, at risk or back in hardship", zh="回头看结果无效")
        assert self.exited_on is not None  # noqa: S101 — out of hardship or relieved
        on = business_date(
            followed_up_on,
            today=today,
            field="followed_up_on",
            not_before=self.exited_on,
            not_before_field="退出日期",
        )
        back = result is FollowUpOutcome.BACK_IN_HARDSHIP
        if back and not isinstance(cause, Cause):
            raise InvalidValue("cause", "back in hardship: name the cause", zh="返困须填写致困原因")
        if not back and cause is not None:
            raise InvalidValue("cause", "only when back in hardship", zh="仅返困时填写致困原因")
        text = _text(note, "note", required=back)
        self._followed_up(
            actor=actor,
            followed_up_on=on,
            cadre=_text(cadre, "cadre", limit=MAX_NAME),
            result=result,
            note=text,
        )
        if back:
            assert cause is not None  # noqa: S101 — checked above
            self.return_(actor=actor, returned_on=on, reason=text, cause=cause, today=today)

    @event(FollowedUp)
    def _followed_up(
        self,
        *,
        actor: Actor,
        followed_up_on: date,
        cadre: str,
        result: FollowUpOutcome,
        note: str,
    ) -> None:
        self.last_followed_up_on = followed_up_on

    # ------------------------------------------------------------------ erasure on request

    def erase_personal_data(
        self, *, actor: Actor, units: Units = GEOGRAPHIC, erased_on: date, reason: str, today: date
    ) -> None:
        """销毁个人信息: erase the household's personal data on request (crypto-shredding).

        Only a closed file (rejected, exited or deleted) is erased; nothing can be recorded on it
        afterwards. The reason is kept in the log: it must not itself carry personal data."""
        self._require(CommandKind.ERASE_PERSONAL_DATA, actor, Act.ERASE, units)
        on = business_date(
            erased_on,
            today=today,
            field="erased_on",
            not_before=self.applied_on,
            not_before_field="申请日期",
        )
        self._personal_data_erased(
            actor=actor,
            erased_on=on,
            reason=_text(reason, "reason", limit=MAX_ERASURE_REASON),
        )

    @event(PersonalDataErased)
    def _personal_data_erased(self, *, actor: Actor, erased_on: date, reason: str) -> None:
        # The same values a replay from the store gives once the key is destroyed: every
        # non-empty personal field reads as ERASED (empty fields were never encrypted).
        self.erased = True
        self.head = erased_head(self.head)
        self.members = tuple(erased_member(m) for m in self.members)
        self.attachments = tuple(replace(a, name=ERASED) for a in self.attachments)

    # ------------------------------------------------------------------ proof materials

    def attach(
        self,
        *,
        actor: Actor,
        units: Units = GEOGRAPHIC,
        attachment_id: UUID,
        kind: Material,
        name: str,
        media_type: MediaType,
        size: int,
        sha256: str,
        limits: AttachmentLimits = AttachmentLimits(),  # noqa: B008 — frozen, shared on purpose
        today: date,
    ) -> None:
        """上传附件: record a proof material whose content was received and checked (its type by
        content, its size and hash as uploaded). Allowed while the file is open, relieved or
        under follow-up; the household's attachments together stay within `limits`."""
        self._require(CommandKind.ATTACH, actor, Act.ATTACH, units)
        if not isinstance(attachment_id, UUID) or any(
            a.attachment_id == attachment_id for a in self.attachments
        ):
            raise InvalidValue(
                "attachment_id", "a new attachment needs a new id", zh="附件编号重复"
            )
        self._attachment_added(
            actor=actor,
            attached_on=today,
            attachment_id=attachment_id,
            kind=check_kind(kind),
            name=check_name(name),
            media_type=check_media_type(media_type),
            size=check_size(size, limits, stored=self.attachment_bytes()),
            sha256=check_sha256(sha256),
        )

    @event(AttachmentAdded)
    def _attachment_added(
        self,
        *,
        actor: Actor,
        attached_on: date,
        attachment_id: UUID,
        kind: Material,
        name: str,
        media_type: MediaType,
        size: int,
        sha256: str,
    ) -> None:
        self.attachments = (
            *self.attachments,
            Attachment(
                attachment_id, kind, name, media_type, size, sha256, attached_on, self.version + 1
            ),
        )

    def _cited(self, cites: object) -> tuple[UUID, ...]:
        """The attachments a step cites: each one attached to this file (once each)."""
        if not isinstance(cites, (tuple, list)):
            raise InvalidValue("cites", "a list of attachment ids", zh="须为附件编号列表")
        cited = tuple(dict.fromkeys(cites))
        unknown = [c for c in cited if not isinstance(c, UUID) or self.attachment(c) is None]
        if unknown:
            raise InvalidValue(
                "cites",
                f"not attachments of this file: {', '.join(str(c) for c in unknown)}",
                zh="引用的附件不在本档案中",
            )
        return cited

    def may_attach(self, *, actor: Actor) -> None:
        """Raise the refusal `attach` would give for the file's state or the actor's role, before
        an upload's content is read."""
        self._require(CommandKind.ATTACH, actor, Act.ATTACH)

    def attachment_bytes(self) -> int:
        return sum(a.size for a in self.attachments)

    def attachment(self, attachment_id: UUID) -> Attachment | None:
        return next((a for a in self.attachments if a.attachment_id == attachment_id), None)

    def scanned(self) -> frozenset[Material]:
        """The kinds of material with a scan attached (what the evidence rules look at)."""
        return frozenset(a.kind for a in self.attachments)

    # ------------------------------------------------------------------ reading

    def is_open(self) -> bool:
        return self.status in OPEN

    def allowed_categories(self) -> tuple[Category, ...]:
        return SCHEME_CATEGORIES[self.scheme]
