"""The household file's commands as values: one frozen dataclass per command, and one dispatcher.

A command holds exactly the parameters of its `HouseholdFile` method, with the same defaults, but
who acts and the day (`actor`, `today`), which come from the edge and the clock. Some are never
set by an HTTP body: `imported` (only the spreadsheet import sets it) and `parameters`, the
regional parameters in force for the file's region on the command's date, which the use case
looks up (`parameters_on`) and the import takes from its policy book. `Apply` opens a file
(`receive`); every other command is a `LifecycleCommand` run on a file by `execute`, whose
exhaustive `match` mypy checks (`assert_never`). The HTTP bodies (`adapters.http.schemas`) build
these commands with typed methods, so a body that no longer fits its command fails mypy, not a
request; `tests/unit/test_typed_commands.py` runs every body's example through `execute` and checks
each command against its method's parameters and defaults.

Adding a lifecycle command takes, and a missing piece fails mypy or a test:

1. a command class here, in the `LifecycleCommand` union;
2. its `case` arm in `execute` (until then `assert_never` fails mypy);
3. its `CommandKind` and `ALLOWED_FROM` row in `domain.household` (the method's `_require`);
4. an HTTP body in `adapters/http/schemas.py` with `def command(self) -> TheCommand`, its example
   in `schemas.EXAMPLES`, and its route in `COMMAND_ROUTES` (`adapters/http/app.py`).

Adding a parameter to a command's method means the field here (with the method's default, if it
has one), the argument in its `execute` arm, and the field in its HTTP body and `command()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import assert_never
from uuid import UUID

from domain.eligibility import Exclusions
from domain.household import Head, HouseholdFile, Member
from domain.policy import Parameters
from domain.profile import Need, Pairing, PlanMeasure, QuarterCosts
from domain.unit_records import Meeting
from domain.units import GEOGRAPHIC, Units
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
    Material,
    WorkerKind,
)

# ------------------------------------------------------------------------------ opening a file


@dataclass(frozen=True, slots=True, kw_only=True)
class Apply:
    """申请: a written application with the signed authorisation; `file_id` when the caller
    names the file (imports, idempotent clients)."""

    file_id: UUID | None = None
    establishing_unit: str
    worker_kind: WorkerKind
    head: Head
    applied_on: date
    authorisation_signed: bool | None
    statement: str = ""
    materials: tuple[Material, ...] = ()
    region: str | None = None
    scheme: CategoryScheme = CategoryScheme.V2019
    imported: bool = False
    filed_by: str = ""
    entered_by: str = ""


# ------------------------------------------------------------------------------ the lifecycle


@dataclass(frozen=True, slots=True, kw_only=True)
class Verify:
    """入户调查."""

    verified_on: date
    investigators: tuple[str, ...]
    members: tuple[Member, ...]
    annual_income: Decimal
    rigid_expenses: Decimal
    exclusions: Exclusions
    primary_cause: Cause
    secondary_causes: tuple[Cause, ...] = ()
    accidental_event: bool = False
    hardship_losses: Decimal = Decimal("0")
    poverty_line: Decimal | None = None
    materials: tuple[Material, ...] = ()
    narrative: str = ""
    parameters: Parameters | None = None
    cites: tuple[UUID, ...] = ()  # attachments of the file the step rests on


@dataclass(frozen=True, slots=True, kw_only=True)
class Appraise:
    """民主评议 and 公示."""

    appraised_on: date
    minutes_on_file: bool | None
    publicity_start: date
    publicity_end: date
    objections: int = 0
    objections_resolved: int = 0
    parameters: Parameters | None = None
    imported: bool = False
    base_opinion: str = ""
    # the 民主评议 meeting cited (domain/unit_records.py), and that meeting as recorded: the use
    # case looks it up in the file's union's records (`meeting_id` given, `meeting` not yet)
    meeting_id: UUID | None = None
    meeting: Meeting | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Approve:
    """审核认定."""

    approved_on: date
    file_level: FileLevel | None
    poverty_line: Decimal | None = None
    parameters: Parameters | None = None
    opinion: str = ""
    imported: bool = False
    cites: tuple[UUID, ...] = ()
    reviewed_by: str = ""
    system_opinion: str = ""
    system_opinion_on: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendBack:
    """退回."""

    sent_back_on: date
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject:
    """不予建档."""

    rejected_on: date
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Assist:
    """帮扶."""

    assisted_on: date
    kind: AssistanceKind
    amount: Decimal
    department: Department
    helper: str = ""
    note: str = ""
    emergency: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreePlan:
    """帮扶计划."""

    agreed_on: date
    helper: str
    measures: tuple[str, ...] = ()
    goals: str
    deadline: date
    signed_by_worker: bool
    tasks: tuple[PlanMeasure, ...] = ()
    helping_unit: str = ""
    pairing: Pairing | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Visit:
    """走访."""

    visited_on: date
    cadre: str
    content: str
    quarter_income: Decimal | None = None
    quarter_costs: Decimal | None = None
    parameters: Parameters | None = None
    cadre_unit: str = ""
    cadre_post: str = ""
    cadre_phone: str = ""
    costs: QuarterCosts | None = None
    helper_opinion: str = ""
    head_opinion: str = ""
    needs: tuple[Need, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Revise:
    """动态调整: only the facts that changed are given."""

    effective_on: date
    reason: str
    head: Head | None = None
    members: tuple[Member, ...] | None = None
    annual_income: Decimal | None = None
    rigid_expenses: Decimal | None = None
    hardship_losses: Decimal | None = None
    materials: tuple[Material, ...] = ()
    exclusions: Exclusions | None = None
    primary_cause: Cause | None = None
    secondary_causes: tuple[Cause, ...] | None = None
    accidental_event: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Recheck:
    """年度复核."""

    rechecked_on: date
    poverty_line: Decimal | None = None
    parameters: Parameters | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Exit:
    """脱困 / 解困 / 注销 / 删除 (`kind`)."""

    exited_on: date
    kind: ExitKind
    reason: ExitReason
    explanation: str
    evidence: tuple[str, ...]
    months_above_line: int | None = None
    parameters: Parameters | None = None
    imported: bool = False
    cites: tuple[UUID, ...] = ()
    kept_file_id: UUID | None = None  # 重复建档: the file kept for the same person


@dataclass(frozen=True, slots=True, kw_only=True)
class Return:
    """返困."""

    returned_on: date
    reason: str
    cause: Cause


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer:
    """移交."""

    transferred_on: date
    to_unit: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckFinding:
    """民政比对核实: the check of a civil-affairs finding on the file."""

    checked_on: date
    finding: str
    result: FindingCheck
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUp:
    """回头看: a follow-up visit to a household out of hardship or relieved."""

    followed_up_on: date
    cadre: str
    result: FollowUpOutcome
    note: str = ""
    cause: Cause | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmCategory:
    """审核确认: an approver confirms the category a re-check found."""

    confirmed_on: date
    opinion: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Keep:
    """保留: an approver keeps a file due to exit, with the reason."""

    kept_on: date
    reason: str


LifecycleCommand = (
    Verify
    | Appraise
    | Approve
    | SendBack
    | Reject
    | Assist
    | AgreePlan
    | Visit
    | Revise
    | Recheck
    | Exit
    | Return
    | Transfer
    | CheckFinding
    | FollowUp
    | ConfirmCategory
    | Keep
)

# The commands judged by the regional parameters in force on their business date (their
# `parameters` field, filled in by the use case): the date, and whether the command always
# needs them (an exit only for 脱困, a visit records the period when there is one).
_PARAMETERS_ON: dict[type, tuple[str, bool]] = {
    Verify: ("verified_on", True),
    Appraise: ("appraised_on", True),
    Approve: ("approved_on", True),
    Recheck: ("rechecked_on", True),
    Exit: ("exited_on", False),
    Visit: ("visited_on", False),
}


def parameters_on(command: LifecycleCommand) -> tuple[date, bool] | None:
    """The business date whose regional parameters judge `command`, and whether they are
    required; None for a command that needs none."""
    found = _PARAMETERS_ON.get(type(command))
    if found is None:
        return None
    field, required = found
    day: date = getattr(command, field)
    return day, required


# ------------------------------------------------------------------------------ running them


def receive(command: Apply, *, actor: Actor, today: date) -> HouseholdFile:
    """Open a file from an application (`HouseholdFile.receive_application`)."""
    return HouseholdFile.receive_application(
        file_id=command.file_id,
        actor=actor,
        establishing_unit=command.establishing_unit,
        worker_kind=command.worker_kind,
        head=command.head,
        applied_on=command.applied_on,
        authorisation_signed=command.authorisation_signed,
        statement=command.statement,
        materials=command.materials,
        region=command.region,
        scheme=command.scheme,
        imported=command.imported,
        filed_by=command.filed_by,
        entered_by=command.entered_by,
        today=today,
    )


def execute(
    household: HouseholdFile,
    command: LifecycleCommand,
    *,
    actor: Actor,
    today: date,
    units: Units = GEOGRAPHIC,
) -> None:
    """Run one lifecycle command on `household` (its new event is pending, not saved); `units`
    is the registry whose stored levels decide who may act (domain/units.py)."""
    match command:
        case Verify():
            household.verify(
                actor=actor,
                units=units,
                verified_on=command.verified_on,
                investigators=command.investigators,
                members=command.members,
                annual_income=command.annual_income,
                rigid_expenses=command.rigid_expenses,
                exclusions=command.exclusions,
                primary_cause=command.primary_cause,
                secondary_causes=command.secondary_causes,
                accidental_event=command.accidental_event,
                hardship_losses=command.hardship_losses,
                poverty_line=command.poverty_line,
                parameters=command.parameters,
                materials=command.materials,
                narrative=command.narrative,
                cites=command.cites,
                today=today,
            )
        case Appraise():
            household.appraise(
                actor=actor,
                units=units,
                appraised_on=command.appraised_on,
                minutes_on_file=command.minutes_on_file,
                publicity_start=command.publicity_start,
                publicity_end=command.publicity_end,
                objections=command.objections,
                objections_resolved=command.objections_resolved,
                parameters=command.parameters,
                imported=command.imported,
                base_opinion=command.base_opinion,
                meeting_id=command.meeting_id,
                meeting=command.meeting,
                today=today,
            )
        case Approve():
            household.approve(
                actor=actor,
                units=units,
                approved_on=command.approved_on,
                file_level=command.file_level,
                poverty_line=command.poverty_line,
                parameters=command.parameters,
                opinion=command.opinion,
                imported=command.imported,
                cites=command.cites,
                reviewed_by=command.reviewed_by,
                system_opinion=command.system_opinion,
                system_opinion_on=command.system_opinion_on,
                today=today,
            )
        case SendBack():
            household.send_back(
                actor=actor,
                units=units,
                sent_back_on=command.sent_back_on,
                reason=command.reason,
                today=today,
            )
        case Reject():
            household.reject(
                actor=actor,
                units=units,
                rejected_on=command.rejected_on,
                reason=command.reason,
                today=today,
            )
        case Assist():
            household.assist(
                actor=actor,
                units=units,
                assisted_on=command.assisted_on,
                kind=command.kind,
                amount=command.amount,
                department=command.department,
                helper=command.helper,
                note=command.note,
                emergency=command.emergency,
                today=today,
            )
        case AgreePlan():
            household.agree_plan(
                actor=actor,
                units=units,
                agreed_on=command.agreed_on,
                helper=command.helper,
                measures=command.measures,
                goals=command.goals,
                deadline=command.deadline,
                signed_by_worker=command.signed_by_worker,
                tasks=command.tasks,
                helping_unit=command.helping_unit,
                pairing=command.pairing,
                today=today,
            )
        case Visit():
            household.visit(
                actor=actor,
                units=units,
                visited_on=command.visited_on,
                cadre=command.cadre,
                content=command.content,
                quarter_income=command.quarter_income,
                quarter_costs=command.quarter_costs,
                parameters=command.parameters,
                cadre_unit=command.cadre_unit,
                cadre_post=command.cadre_post,
                cadre_phone=command.cadre_phone,
                costs=command.costs,
                helper_opinion=command.helper_opinion,
                head_opinion=command.head_opinion,
                needs=command.needs,
                today=today,
            )
        case Revise():
            household.revise(
                actor=actor,
                units=units,
                effective_on=command.effective_on,
                reason=command.reason,
                head=command.head,
                members=command.members,
                annual_income=command.annual_income,
                rigid_expenses=command.rigid_expenses,
                hardship_losses=command.hardship_losses,
                materials=command.materials,
                exclusions=command.exclusions,
                primary_cause=command.primary_cause,
                secondary_causes=command.secondary_causes,
                accidental_event=command.accidental_event,
                today=today,
            )
        case Recheck():
            household.recheck(
                actor=actor,
                units=units,
                rechecked_on=command.rechecked_on,
                poverty_line=command.poverty_line,
                parameters=command.parameters,
                today=today,
            )
        case Exit():
            household.exit(
                actor=actor,
                units=units,
                exited_on=command.exited_on,
                kind=command.kind,
                reason=command.reason,
                explanation=command.explanation,
                evidence=command.evidence,
                months_above_line=command.months_above_line,
                parameters=command.parameters,
                imported=command.imported,
                cites=command.cites,
                kept_file_id=command.kept_file_id,
                today=today,
            )
        case Return():
            household.return_(
                actor=actor,
                units=units,
                returned_on=command.returned_on,
                reason=command.reason,
                cause=command.cause,
                today=today,
            )
        case Transfer():
            household.transfer(
                actor=actor,
                units=units,
                transferred_on=command.transferred_on,
                to_unit=command.to_unit,
                reason=command.reason,
                today=today,
            )
        case CheckFinding():
            household.check_finding(
                actor=actor,
                units=units,
                checked_on=command.checked_on,
                finding=command.finding,
                result=command.result,
                reason=command.reason,
                today=today,
            )
        case FollowUp():
            household.follow_up(
                actor=actor,
                units=units,
                followed_up_on=command.followed_up_on,
                cadre=command.cadre,
                result=command.result,
                note=command.note,
                cause=command.cause,
                today=today,
            )
        case ConfirmCategory():
            household.confirm_category(
                actor=actor,
                units=units,
                confirmed_on=command.confirmed_on,
                opinion=command.opinion,
                today=today,
            )
        case Keep():
            household.keep(
                actor=actor,
                units=units,
                kept_on=command.kept_on,
                reason=command.reason,
                today=today,
            )
        case _:
            assert_never(command)
