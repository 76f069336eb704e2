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
from datetime import date
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
    DEFAULT_THRESHOLDS,
    Exclusions,
    Means,
    Thresholds,
    categorise,
    judge,
)
from domain.errors import InvalidValue, RuleViolated, WrongState
from domain.idnumber import parse_id_number
from domain.privacy import ERASED
from domain.units import UnitCode
from domain.values import (
    SCHEME_CATEGORIES,
    Actor,
    AssistanceKind,
    Category,
    CategoryScheme,
    Cause,
    Department,
    ExitKind,
    ExitReason,
    FileLevel,
    Level,
    Material,
    MemberStatus,
    RecheckResult,
    Relation,
    Status,
    WorkerKind,
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
    ATTACH = "attach"


# The lifecycle (DOMAIN.md): the statuses each command may start from.
ALLOWED_FROM: dict[CommandKind, frozenset[Status]] = {
    CommandKind.VERIFY: frozenset({Status.APPLIED, Status.SENT_BACK, Status.RETURNED}),
    CommandKind.APPRAISE: frozenset({Status.VERIFIED}),
    CommandKind.APPROVE: frozenset({Status.APPRAISED}),
    CommandKind.SEND_BACK: frozenset({Status.APPRAISED}),
    CommandKind.REJECT: frozenset(
        {Status.APPLIED, Status.VERIFIED, Status.APPRAISED, Status.SENT_BACK, Status.RETURNED}
    ),
    CommandKind.ASSIST: frozenset({Status.APPROVED}),
    CommandKind.AGREE_PLAN: frozenset({Status.APPROVED}),
    CommandKind.VISIT: frozenset({Status.APPROVED}),
    CommandKind.REVISE: frozenset({Status.APPROVED}),
    CommandKind.RECHECK: frozenset({Status.APPROVED}),
    CommandKind.EXIT: frozenset({Status.APPROVED, Status.RELIEVED}),
    CommandKind.DELETE: frozenset(Status) - {Status.DELETED},
    CommandKind.RETURN: EXITED,
    CommandKind.TRANSFER: OPEN | {Status.RELIEVED},
    # personal data is erased on request once the file is closed: exit (注销) an open file first
    CommandKind.ERASE_PERSONAL_DATA: frozenset(Status) - OPEN,
    # proof is attached while the file is open, relieved (解困) or under follow-up (approved)
    CommandKind.ATTACH: OPEN | {Status.RELIEVED},
}
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
HEAD_PERSONAL = ("name", "id_number", "phone", "address", "health", "bank_card")
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


def _check_head(head: Head, *, today: date) -> Head:
    return replace(
        head,
        name=_text(head.name, "head.name", limit=MAX_NAME),
        id_number=parse_id_number(head.id_number, field="head.id_number", today=today).value,
        phone=_text(head.phone, "head.phone", required=False, limit=32),
        employer=_text(head.employer, "head.employer", required=False),
        address=_text(head.address, "head.address", required=False),
        bank_card=_text(head.bank_card, "head.bank_card", required=False, limit=32),
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
        # the attachments the step rests on (added after the event: older ones decode as none)
        cites: tuple[UUID, ...] = ()

    class Appraised(Event):
        appraised_on: date
        minutes_on_file: bool | None  # None: not recorded (an imported file; docs/rules.md R07u)
        publicity_start: date
        publicity_end: date
        objections: int
        objections_resolved: int

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
        cites: tuple[UUID, ...] = ()  # as Verified's

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

    class PlanAgreed(Event):
        agreed_on: date
        helper: str
        measures: tuple[str, ...]
        goals: str
        deadline: date
        signed_by_worker: bool

    class Visited(Event):
        visited_on: date
        cadre: str
        content: str
        quarter_income: Decimal | None
        quarter_costs: Decimal | None

    class Revised(Event):
        effective_on: date
        reason: str
        head: Head | None
        members: tuple[Member, ...] | None
        means: Means | None
        materials: tuple[Material, ...]

    class Rechecked(Event):
        rechecked_on: date
        result: RecheckResult
        means: Means
        poverty_line: Decimal
        category: Category | None

    class Exited(Event):
        exited_on: date
        kind: ExitKind
        reason: ExitReason
        explanation: str
        evidence: tuple[str, ...]
        months_above_line: int | None
        cites: tuple[UUID, ...] = ()  # as Verified's

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
        today: date,
    ) -> HouseholdFile:
        """申请: a written application with the signed authorisation opens a file.

        `imported`: the application is recorded from an existing file (a spreadsheet import);
        an authorisation the record does not show is recorded as unknown (`None`), which the
        spot-check reports as not recorded (docs/rules.md, R04u), instead of being refused."""
        unit = UnitCode(establishing_unit)
        if unit.level is not Level.BASE:
            raise RuleViolated(
                "establishing_unit_is_base",
                f"a file is opened by a base-level union, not a {unit.level} union",
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
            head=_check_head(head, today=today),
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
        self.exit_kind: ExitKind | None = None
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

    def _require(self, command: CommandKind, actor: Actor, act: Act) -> None:
        authorise(actor, act, self.unit)
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
        poverty_line: Decimal,
        materials: tuple[Material, ...] = (),
        narrative: str = "",
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        cites: tuple[UUID, ...] = (),
        today: date,
    ) -> None:
        """入户调查: two or more investigators record the members, means and answers; `cites`:
        the attachments of the file the investigation rests on."""
        self._require(CommandKind.VERIFY, actor, Act.VERIFY)
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
        means = Means(
            annual_income=money(annual_income, "annual_income"),
            rigid_expenses=money(rigid_expenses, "rigid_expenses"),
            members_living_together=1 + sum(m.lives_together for m in checked_members),
            hardship_losses=money(hardship_losses, "hardship_losses"),
        )
        line = money(poverty_line, "poverty_line")
        self._check_migrant(on)
        category = judge(
            means,
            exclusions,
            poverty_line=line,
            scheme=self.scheme,
            accidental_event=accidental_event,
            thresholds=thresholds,
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
        appraised_on: date,
        minutes_on_file: bool | None,
        publicity_start: date,
        publicity_end: date,
        objections: int = 0,
        objections_resolved: int = 0,
        imported: bool = False,
        today: date,
    ) -> None:
        """民主评议 and 公示: the unit's appraisal (minutes) and the public posting of the list.

        `imported`: recorded from an existing file; minutes the record does not show are
        recorded as unknown (`None`; docs/rules.md, R07u) instead of being refused."""
        self._require(CommandKind.APPRAISE, actor, Act.APPRAISE)
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
    ) -> None:
        self.status = Status.APPRAISED
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
        approved_on: date,
        file_level: FileLevel | None,
        poverty_line: Decimal,
        opinion: str = "",
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        imported: bool = False,
        cites: tuple[UUID, ...] = (),
        today: date,
    ) -> None:
        """审核认定: a district (county) union or above approves, fixing category and file level.

        The category is computed from the recorded means against `poverty_line`, the line in
        force for the household's region on `approved_on`; the event keeps both. `imported`: the
        approval is recorded from an existing file, whose file level may be unknown (`None`).
        """
        self._require(CommandKind.APPROVE, actor, Act.APPROVE)
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
        line = money(poverty_line, "poverty_line")
        category = judge(
            self.means,
            self.exclusions,
            poverty_line=line,
            scheme=self.scheme,
            accidental_event=self.accidental_event,
            thresholds=thresholds,
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
            cites=self._cited(cites),
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
        cites: tuple[UUID, ...] = (),
    ) -> None:
        self.status = Status.APPROVED
        self.approved_on = approved_on
        self.category = category
        self.file_level = file_level
        self.poverty_line = poverty_line

    def send_back(self, *, actor: Actor, sent_back_on: date, reason: str, today: date) -> None:
        """退回: the reviewing union returns the file for rework; it is investigated again."""
        self._require(CommandKind.SEND_BACK, actor, Act.SEND_BACK)
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

    def reject(self, *, actor: Actor, rejected_on: date, reason: str, today: date) -> None:
        """不予建档: screened out (by the base-level union before review, or at review)."""
        at_review = self.status is Status.APPRAISED
        self._require(CommandKind.REJECT, actor, Act.REJECT_AT_REVIEW if at_review else Act.REJECT)
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
        assert self.approved_on is not None  # noqa: S101 — status APPROVED
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
        assisted_on: date,
        kind: AssistanceKind,
        amount: Decimal,
        department: Department,
        helper: str = "",
        note: str = "",
        today: date,
    ) -> None:
        """帮扶: an assistance measure delivered to an approved file."""
        self._require(CommandKind.ASSIST, actor, Act.ASSIST)
        on = self._after_approval(assisted_on, "assisted_on", today)
        if not isinstance(kind, AssistanceKind) or not isinstance(department, Department):
            raise InvalidValue(
                "kind", "unknown assistance kind or department", zh="帮扶类别或责任部门无效"
            )
        self._assisted(
            actor=actor,
            assisted_on=on,
            kind=kind,
            amount=money(amount, "amount"),
            department=department,
            helper=_text(helper, "helper", required=False, limit=MAX_NAME),
            note=_text(note, "note", required=False),
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
    ) -> None:
        self.assistance_count += 1
        self.assistance_total += amount
        if self.last_assisted_on is None or assisted_on > self.last_assisted_on:
            self.last_assisted_on = assisted_on

    def agree_plan(
        self,
        *,
        actor: Actor,
        agreed_on: date,
        helper: str,
        measures: tuple[str, ...],
        goals: str,
        deadline: date,
        signed_by_worker: bool,
        today: date,
    ) -> None:
        """帮扶计划: measures, goals and deadline with a named helper, signed by the worker."""
        self._require(CommandKind.AGREE_PLAN, actor, Act.PLAN)
        on = self._after_approval(agreed_on, "agreed_on", today)
        if signed_by_worker is not True:
            raise RuleViolated(
                "plan_signed",
                "the plan must be signed by the worker",
                zh="帮扶计划须经职工本人签字",
                field="signed_by_worker",
            )
        items = tuple(_text(m, "measures") for m in measures)
        if not items:
            raise InvalidValue(
                "measures", "a plan has at least one measure", zh="帮扶计划至少包含一项措施"
            )
        if not isinstance(deadline, date) or deadline < on:
            raise InvalidValue(
                "deadline",
                "the deadline is on or after the agreement",
                zh="完成期限不能早于计划日期",
            )
        self._plan_agreed(
            actor=actor,
            agreed_on=on,
            helper=_text(helper, "helper", limit=MAX_NAME),
            measures=items,
            goals=_text(goals, "goals"),
            deadline=deadline,
            signed_by_worker=True,
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
    ) -> None:
        self.helper = helper
        self.plan_agreed_on = agreed_on

    def visit(
        self,
        *,
        actor: Actor,
        visited_on: date,
        cadre: str,
        content: str,
        quarter_income: Decimal | None = None,
        quarter_costs: Decimal | None = None,
        today: date,
    ) -> None:
        """走访: a visit to the household, with the quarter's income and costs where collected."""
        self._require(CommandKind.VISIT, actor, Act.VISIT)
        on = self._after_approval(visited_on, "visited_on", today)
        self._visited(
            actor=actor,
            visited_on=on,
            cadre=_text(cadre, "cadre", limit=MAX_NAME),
            content=_text(content, "content"),
            quarter_income=None
            if quarter_income is None
            else money(quarter_income, "quarter_income"),
            quarter_costs=None if quarter_costs is None else money(quarter_costs, "quarter_costs"),
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
    ) -> None:
        if self.last_visited_on is None or visited_on > self.last_visited_on:
            self.last_visited_on = visited_on

    def revise(
        self,
        *,
        actor: Actor,
        effective_on: date,
        reason: str,
        head: Head | None = None,
        members: tuple[Member, ...] | None = None,
        annual_income: Decimal | None = None,
        rigid_expenses: Decimal | None = None,
        hardship_losses: Decimal | None = None,
        materials: tuple[Material, ...] = (),
        today: date,
    ) -> None:
        """动态调整: changed facts with their effective date; eligibility is judged at re-check."""
        self._require(CommandKind.REVISE, actor, Act.REVISE)
        on = self._after_approval(effective_on, "effective_on", today)
        new_head = None if head is None else _check_head(head, today=today)
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
            means = Means(
                annual_income=base.annual_income
                if annual_income is None
                else money(annual_income, "annual_income"),
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
        if new_head is None and new_members is None and means is None and not materials:
            raise InvalidValue(
                "revision", "a revision changes at least one fact", zh="动态调整须至少变更一项"
            )
        self._revised(
            actor=actor,
            effective_on=on,
            reason=_text(reason, "reason"),
            head=new_head,
            members=new_members,
            means=means,
            materials=tuple(dict.fromkeys(materials)),
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
    ) -> None:
        if head is not None:
            self.head = head
        if members is not None:
            self.members = members
        if means is not None:
            self.means = means
        self.materials = self.materials | set(materials)

    def recheck(
        self,
        *,
        actor: Actor,
        rechecked_on: date,
        poverty_line: Decimal,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        today: date,
    ) -> None:
        """年度复核: the recorded means judged again against the line in force."""
        self._require(CommandKind.RECHECK, actor, Act.RECHECK)
        on = self._after_approval(rechecked_on, "rechecked_on", today)
        assert self.means is not None  # noqa: S101 — status APPROVED
        line = money(poverty_line, "poverty_line")
        excluded = bool(self.exclusions.applying())
        category = (
            None
            if excluded
            else categorise(
                self.means,
                poverty_line=line,
                scheme=self.scheme,
                accidental_event=self.accidental_event,
                thresholds=thresholds,
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
    ) -> None:
        self.last_rechecked_on = rechecked_on
        if category is not None:
            self.category = category

    # ------------------------------------------------------------------ leaving and coming back

    def exit(
        self,
        *,
        actor: Actor,
        exited_on: date,
        kind: ExitKind,
        reason: ExitReason,
        explanation: str,
        evidence: tuple[str, ...],
        months_above_line: int | None = None,
        required_months_above_line: int = 6,
        cites: tuple[UUID, ...] = (),
        today: date,
    ) -> None:
        """脱困 / 解困 / 注销 / 删除: leave the file, always with kind, reason and evidence
        (`cites`: the attachments that prove it)."""
        if not isinstance(kind, ExitKind) or not isinstance(reason, ExitReason):
            raise InvalidValue("kind", "unknown exit kind or reason", zh="退出类别或原因无效")
        if kind is ExitKind.DELETED:
            self._require(CommandKind.DELETE, actor, Act.DELETE)
            floor, floor_name = self.applied_on, "申请日期"
        else:
            self._require(CommandKind.EXIT, actor, Act.EXIT)
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
        proofs = tuple(_text(e, "evidence", limit=MAX_NAME * 4) for e in evidence)
        if not proofs:
            raise RuleViolated(
                "exit_evidence",
                "an exit needs evidence (证明材料)",
                zh="退出须提供相关证明材料",
                field="evidence",
            )
        if kind is ExitKind.OUT_OF_HARDSHIP:
            if (
                isinstance(months_above_line, bool)
                or not isinstance(months_above_line, int)
                or (months_above_line < required_months_above_line)
            ):
                raise RuleViolated(
                    "months_above_line",
                    f"脱困 needs income above the line for {required_months_above_line} consecutive"
                    f" months; {months_above_line} recorded",
                    zh=f"脱困须家庭人均收入连续{required_months_above_line}个月高于低保标准",
                    field="months_above_line",
                )
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
            cites=self._cited(cites),
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
        cites: tuple[UUID, ...] = (),
    ) -> None:
        self.status = EXIT_STATUS[kind]
        self.exit_kind = kind
        self.exited_on = exited_on
        self.materials = self.materials | {Material.EXIT_EVIDENCE}

    def return_(
        self, *, actor: Actor, returned_on: date, reason: str, cause: Cause, today: date
    ) -> None:
        """返困: an exited household falls back into hardship; the file is investigated again."""
        self._require(CommandKind.RETURN, actor, Act.RETURN)
        assert self.exited_on is not None  # noqa: S101 — status is an exit
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
        self.exited_on = None
        self.primary_cause = cause

    def transfer(
        self, *, actor: Actor, transferred_on: date, to_unit: str, reason: str, today: date
    ) -> None:
        """移交: the worker changed employer; the file moves to the new base-level union."""
        self._require(CommandKind.TRANSFER, actor, Act.TRANSFER)
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

    # ------------------------------------------------------------------ erasure on request

    def erase_personal_data(
        self, *, actor: Actor, erased_on: date, reason: str, today: date
    ) -> None:
        """销毁个人信息: erase the household's personal data on request (crypto-shredding).

        Only a closed file (rejected, exited or deleted) is erased; nothing can be recorded on it
        afterwards. The reason is kept in the log: it must not itself carry personal data."""
        self._require(CommandKind.ERASE_PERSONAL_DATA, actor, Act.ERASE)
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
        self._require(CommandKind.ATTACH, actor, Act.ATTACH)
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
