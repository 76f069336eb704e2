"""Given / when / then on the household file's events.

    file = given(*history(Status.APPRAISED))                  # replay past events

    outcome = when(file, lambda f: f.approve(**approval()))   # run one command

    then(outcome, HouseholdFile.Approved, category=Category.DEEP)   # compare the new event
    then_refused(outcome, NotPermitted, rule="district_or_above")   # or the refusal

Past events are made by the real commands (`record`), not by hand, so a history is always one
the domain itself could have produced. `then` compares the event type and the business fields
named, never identity or timestamps. Every date is fixed and `today` is `TODAY`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from domain.eligibility import Exclusions
from domain.errors import DomainError
from domain.household import Head, HouseholdFile, Member
from domain.idnumber import make_id_number
from domain.policy import Parameters
from domain.values import (
    Actor,
    AssistanceKind,
    Cause,
    Department,
    ExitKind,
    ExitReason,
    FileLevel,
    MemberStatus,
    Relation,
    Role,
    Status,
    WorkerKind,
)

Event = HouseholdFile.Event
Command = Callable[[HouseholdFile], object]

TODAY = date(2026, 11, 21)

# The union tree around the file: Hebei / Qinhuangdao / Funing / a base-level union in Funing.
PROVINCE, CITY, DISTRICT, BASE = "13", "1303", "130306", "130306001"
OTHER_BASE = "130306002"  # another base-level union in the same district
OTHER_DISTRICT = "130302"  # Haigang district, same city
OTHER_DISTRICT_BASE = "130302001"

CLERK = Actor("clerk-li", BASE, Role.CLERK)
APPROVER = Actor("approver-wang", DISTRICT, Role.APPROVER)
CITY_APPROVER = Actor("approver-zhou", CITY, Role.APPROVER)
PROVINCE_APPROVER = Actor("approver-sun", PROVINCE, Role.APPROVER)
DISTRICT_CLERK = Actor("clerk-district", DISTRICT, Role.CLERK)
BASE_APPROVER = Actor("approver-base", BASE, Role.APPROVER)
OTHER_CLERK = Actor("clerk-zhang", OTHER_BASE, Role.CLERK)
ADMIN = Actor("admin-zhao", DISTRICT, Role.ADMIN)
OTHER_DISTRICT_APPROVER = Actor("approver-chen", OTHER_DISTRICT, Role.APPROVER)

LINE = Decimal("550")  # Funing 2018 dibao line, yuan per person per month
# The parameters in force for the file's region (the use case looks them up; here handed in).
PARAMETERS = Parameters(date(2015, 1, 1), LINE)


def in_force(**overrides: Any) -> Parameters:
    """The region's parameters with some numbers changed (the line, the publicity days …)."""
    return Parameters(**({"effective_on": date(2015, 1, 1), "poverty_line": LINE} | overrides))


HEAD_ID = make_id_number("130306", date(1978, 5, 6), 11).value  # male
SPOUSE_ID = make_id_number("130306", date(1980, 2, 3), 22).value  # female
CHILD_ID = make_id_number("130306", date(2008, 9, 1), 35).value

# The dates of the canonical path through the lifecycle.
APPLIED_ON = date(2026, 3, 2)
VERIFIED_ON = date(2026, 3, 9)
APPRAISED_ON = date(2026, 3, 12)
PUBLICITY_START = date(2026, 3, 13)
PUBLICITY_END = date(2026, 3, 20)
APPROVED_ON = date(2026, 3, 25)
REJECTED_ON = date(2026, 3, 5)
SENT_BACK_ON = date(2026, 3, 26)
EXITED_ON = date(2026, 6, 30)
RAISED_ON = APPROVED_ON  # the spouse found work the day of the approval (a revision records it)
OUT_OF_HARDSHIP_ON = date(2026, 9, 30)  # six whole months above the line since RAISED_ON
RETURNED_ON = date(2026, 10, 15)


# ---------------------------------------------------------------------- command arguments
# Each returns the keyword arguments of one valid command (actor and today included);
# a test overrides only what it is about.


def head(**overrides: Any) -> Head:
    fields: dict[str, Any] = {
        "name": "张𠀀",
        "id_number": HEAD_ID,
        "phone": "13912345678",
        "employer": "抚宁区某机械厂",
        "address": "抚宁区骊城大街1号",
    }
    return Head(**(fields | overrides))


def spouse(**overrides: Any) -> Member:
    fields: dict[str, Any] = {
        "name": "王𪚥",
        "relation": Relation.SPOUSE,
        "id_number": SPOUSE_ID,
        "status": MemberStatus.UNEMPLOYED,
    }
    return Member(**(fields | overrides))


def child(**overrides: Any) -> Member:
    fields: dict[str, Any] = {
        "name": "张小明",
        "relation": Relation.CHILD,
        "id_number": CHILD_ID,
        "status": MemberStatus.STUDENT,
    }
    return Member(**(fields | overrides))


def application(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": CLERK,
        "establishing_unit": BASE,
        "worker_kind": WorkerKind.URBAN,
        "head": head(),
        "applied_on": APPLIED_ON,
        "authorisation_signed": True,
        "statement": "妻子患病，收入低",
        "today": TODAY,
    }
    return fields | overrides


def verification(**overrides: Any) -> dict[str, Any]:
    """Two people, 9600 yuan a year, 1200 rigid: (9600 − 1200) / 12 / 2 = 350 yuan, DEEP at 550."""
    fields: dict[str, Any] = {
        "actor": CLERK,
        "verified_on": VERIFIED_ON,
        "investigators": ("赵一", "钱二"),
        "members": (spouse(),),
        "annual_income": Decimal("9600"),
        "rigid_expenses": Decimal("1200"),
        "exclusions": Exclusions(),
        "primary_cause": Cause.ILLNESS,
        "parameters": PARAMETERS,
        "today": TODAY,
    }
    return fields | overrides


def appraisal(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": CLERK,
        "appraised_on": APPRAISED_ON,
        "minutes_on_file": True,
        "publicity_start": PUBLICITY_START,
        "publicity_end": PUBLICITY_END,
        "parameters": PARAMETERS,
        "today": TODAY,
    }
    return fields | overrides


def approval(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": APPROVER,
        "approved_on": APPROVED_ON,
        "file_level": FileLevel.DISTRICT,
        "parameters": PARAMETERS,
        "today": TODAY,
    }
    return fields | overrides


def sending_back_args(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": APPROVER,
        "sent_back_on": SENT_BACK_ON,
        "reason": "收入证明不全",
        "today": TODAY,
    }
    return fields | overrides


def rejection(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": CLERK,
        "rejected_on": REJECTED_ON,
        "reason": "家庭收入超过标准",
        "today": TODAY,
    }
    return fields | overrides


def assistance(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": CLERK,
        "assisted_on": date(2026, 4, 1),
        "kind": AssistanceKind.LIVING_AID,
        "amount": Decimal("500.00"),
        "department": Department.UNION,
        "helper": "孙三",
        "today": TODAY,
    }
    return fields | overrides


def departure(kind: ExitKind = ExitKind.OUT_OF_HARDSHIP, **overrides: Any) -> dict[str, Any]:
    """The arguments of a valid exit of `kind` (deletion by the district, the rest by the clerk)."""
    reason = {
        ExitKind.OUT_OF_HARDSHIP: ExitReason.INCOME_ABOVE_LINE,
        ExitKind.RELIEVED: ExitReason.SAFETY_NET,
        ExitKind.CANCELLED: ExitReason.DEATH,
        ExitKind.DELETED: ExitReason.ERRONEOUS_RECORD,
    }[kind]
    fields: dict[str, Any] = {
        "actor": APPROVER if kind is ExitKind.DELETED else CLERK,
        "exited_on": OUT_OF_HARDSHIP_ON if kind is ExitKind.OUT_OF_HARDSHIP else EXITED_ON,
        "kind": kind,
        "reason": reason,
        "explanation": "情况说明",
        "evidence": ("收入证明",),
        "months_above_line": 6 if kind is ExitKind.OUT_OF_HARDSHIP else None,
        "parameters": PARAMETERS,
        "today": TODAY,
    }
    return fields | overrides


def homecoming(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "actor": CLERK,
        "returned_on": RETURNED_ON,
        "reason": "再次失业",
        "cause": Cause.UNEMPLOYMENT,
        "today": TODAY,
    }
    return fields | overrides


# ---------------------------------------------------------------------- steps and histories


def verifying(**overrides: Any) -> Command:
    return lambda f: f.verify(**verification(**overrides))


def appraising(**overrides: Any) -> Command:
    return lambda f: f.appraise(**appraisal(**overrides))


def approving(**overrides: Any) -> Command:
    return lambda f: f.approve(**approval(**overrides))


def sending_back(**overrides: Any) -> Command:
    return lambda f: f.send_back(**sending_back_args(**overrides))


def rejecting(**overrides: Any) -> Command:
    return lambda f: f.reject(**rejection(**overrides))


def assisting(**overrides: Any) -> Command:
    return lambda f: f.assist(**assistance(**overrides))


def raising_income(**overrides: Any) -> Command:
    """A revision recording the household's income above the line: the spouse earns 12,000 a
    year, (9,600 + 12,000 − 1,200) / 12 / 2 = 850 yuan a month (what a 脱困 rests on)."""
    fields: dict[str, Any] = {
        "actor": CLERK,
        "effective_on": RAISED_ON,
        "reason": "配偶实现就业，家庭收入提高",
        "members": (spouse(annual_income=Decimal("12000")),),
        "today": TODAY,
    }
    return lambda f: f.revise(**(fields | overrides))


def exiting(kind: ExitKind = ExitKind.OUT_OF_HARDSHIP, **overrides: Any) -> Command:
    return lambda f: f.exit(**departure(kind, **overrides))


def returning(**overrides: Any) -> Command:
    return lambda f: f.return_(**homecoming(**overrides))


def record(*steps: Command, **application_overrides: Any) -> tuple[Event, ...]:
    """The events of a file opened with `application(**overrides)` and taken through `steps`."""
    file = HouseholdFile.receive_application(**application(**application_overrides))
    for step in steps:
        step(file)
    return tuple(file.collect_events())


_TO_APPROVAL = (verifying(), appraising(), approving())
PATHS: dict[Status, tuple[Command, ...]] = {
    Status.APPLIED: (),
    Status.VERIFIED: (verifying(),),
    Status.APPRAISED: (verifying(), appraising()),
    Status.APPROVED: _TO_APPROVAL,
    Status.SENT_BACK: (verifying(), appraising(), sending_back()),
    Status.REJECTED: (rejecting(),),
    Status.OUT_OF_HARDSHIP: (*_TO_APPROVAL, raising_income(), exiting(ExitKind.OUT_OF_HARDSHIP)),
    Status.RELIEVED: (*_TO_APPROVAL, exiting(ExitKind.RELIEVED)),
    # moved away: a cancellation a household can come back from (not the head's death)
    Status.CANCELLED: (*_TO_APPROVAL, exiting(ExitKind.CANCELLED, reason=ExitReason.MOVED)),
    Status.DELETED: (*_TO_APPROVAL, exiting(ExitKind.DELETED)),
    Status.RETURNED: (
        *_TO_APPROVAL,
        raising_income(),
        exiting(ExitKind.OUT_OF_HARDSHIP),
        returning(),
    ),
}


@cache
def above_the_line() -> tuple[Event, ...]:
    """An approved file whose revision recorded the household's income above the line on the
    day of approval: the history a 脱困 rests on (six months later, OUT_OF_HARDSHIP_ON)."""
    return record(*_TO_APPROVAL, raising_income())


@cache
def category_changed() -> tuple[Event, ...]:
    """An approved file whose clerk's re-check found another category (the line fell to 300:
    350 a month is relative hardship), waiting for an approver's confirmation."""
    return record(
        *_TO_APPROVAL,
        lambda f: f.recheck(
            actor=CLERK,
            rechecked_on=date(2026, 10, 1),
            parameters=in_force(poverty_line=Decimal("300")),
            today=TODAY,
        ),
    )


@cache
def due_to_exit() -> tuple[Event, ...]:
    """An approved file whose revision found a car: due to exit."""
    return record(
        *_TO_APPROVAL,
        lambda f: f.revise(
            actor=CLERK,
            effective_on=date(2026, 7, 1),
            reason="民政比对核实：购置私家车",
            exclusions=Exclusions(car_or_luxury=True),
            today=TODAY,
        ),
    )


def before_exit(kind: ExitKind) -> tuple[Event, ...]:
    """The history each exit is tried from: approved, and for 脱困 with means above the line."""
    return above_the_line() if kind is ExitKind.OUT_OF_HARDSHIP else history(Status.APPROVED)


@cache
def history(status: Status) -> tuple[Event, ...]:
    """The events of the canonical path to `status` (events are immutable, so shared)."""
    return record(*PATHS[status])


# ---------------------------------------------------------------------- given / when / then


def given(*events: Event) -> HouseholdFile:
    """A file rebuilt by replaying `events` in order, as the repository does."""
    file: HouseholdFile | None = None
    for event in events:
        file = event.mutate(file)
    assert file is not None, "given() needs at least the Applied event"
    return file


def state(file: HouseholdFile) -> dict[str, Any]:
    """The file's state as replay rebuilds it (pending events left out)."""
    return {
        k: v
        for k, v in vars(file).items()
        if k != "_pending_events" and not k.startswith("_stored")
    }


@dataclass(frozen=True)
class Outcome:
    file: HouseholdFile | None
    events: tuple[Event, ...]
    error: DomainError | None
    unchanged: bool  # on refusal: version, pending events and state as before the command


def when(file: HouseholdFile | None, command: Command) -> Outcome:
    """Run `command` on `file` and collect what it recorded, or the `DomainError` it raised.

    With `file` None the command creates the file and returns it (`receive_application`).
    Any other exception is a defect and propagates.
    """
    before = None if file is None else (file.version, len(file.pending_events), state(file))
    try:
        result = command(file)  # type: ignore[arg-type]
    except DomainError as error:
        after = None if file is None else (file.version, len(file.pending_events), state(file))
        return Outcome(file, (), error, unchanged=before == after)
    target = result if isinstance(result, HouseholdFile) else file
    assert target is not None
    return Outcome(target, tuple(target.collect_events()), None, unchanged=False)


def then(outcome: Outcome, event_type: type[Event], **fields: Any) -> Event:
    """Assert the command recorded exactly one `event_type` whose named fields are as given."""
    assert outcome.error is None, (
        f"expected {event_type.__name__}, the command was refused: {outcome.error}"
    )
    names = [type(e).__name__ for e in outcome.events]
    assert names == [event_type.__name__], f"expected one {event_type.__name__}, recorded {names}"
    (event,) = outcome.events
    assert type(event) is event_type, f"{type(event)!r} is not {event_type!r}"
    for name, expected in fields.items():
        assert hasattr(event, name), f"{event_type.__name__} has no field {name!r}"
        actual = getattr(event, name)
        # Types too: StrEnum members of different enumerations with one value compare equal.
        message = f"{event_type.__name__}.{name}: {actual!r} != {expected!r}"
        assert type(actual) is type(expected), message
        assert actual == expected, message
    return event


def then_refused(outcome: Outcome, error_type: type[DomainError], **attributes: Any) -> DomainError:
    """Assert the command was refused with `error_type` (attributes as given), recording nothing."""
    names = [type(e).__name__ for e in outcome.events]
    assert outcome.error is not None, (
        f"expected {error_type.__name__}, the command recorded {names}"
    )
    assert isinstance(outcome.error, error_type), (
        f"expected {error_type.__name__}, got {outcome.error!r}: {outcome.error}"
    )
    for name, expected in attributes.items():
        actual = getattr(outcome.error, name, None)
        assert actual == expected, (
            f"{error_type.__name__}.{name}: {actual!r} != {expected!r} ({outcome.error})"
        )
    assert outcome.unchanged, f"the refused command changed the file: {outcome.error}"
    return outcome.error
