"""一户一档 — one household, one file (seeds 003 and 004): a person is the head or a member of at
most one open or relieved file on the node.

The domain states who a file claims (`claims`), which events can change that (`changes_claims`)
and what a refusal says (`already_filed`); the repository takes the claims in the transaction
that appends the events (adapters/pg/claims.py), so the rule never rests on a read model that
may lag behind the log (docs/rules.md, `one_file_per_person`).

A refusal discloses, on purpose, that a person outside the caller's subtree has a file: only
that, never the unit or the file (docs/security.md, "一户一档 across units").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import RuleViolated
from domain.events import ALIASES, EVENT_NAMES
from domain.household import OPEN, HouseholdFile
from domain.privacy import readable
from domain.units import UnitCode
from domain.values import Actor, Status

RULE = "one_file_per_person"
# The files that hold their people: open ones and relieved (解困) ones, which stay under
# regular aid. A file out of hardship, rejected, cancelled or deleted releases them.
CLAIMING = OPEN | {Status.RELIEVED}
HEAD = "head"
MEMBER = "member"
ROLE_ZH = {HEAD: "户主", MEMBER: "家庭成员"}

# The events after which a file may claim other people than before: its people changed
# (application, home investigation, revision) or its status moved in or out of `CLAIMING`.
_CHANGING = (
    HouseholdFile.Applied,
    HouseholdFile.Verified,
    HouseholdFile.Revised,
    HouseholdFile.Rejected,
    HouseholdFile.Exited,
    HouseholdFile.Returned,
    HouseholdFile.PersonalDataErased,
)

# The same, by stored name (for events read from another node's feed, not yet decoded).
CHANGING_NAMES = frozenset(
    name
    for name in (*EVENT_NAMES, *ALIASES)
    if issubclass(EVENT_NAMES[ALIASES.get(name, name)], _CHANGING)
)


@dataclass(frozen=True, slots=True)
class Claim:
    """One person a file holds: the normalised ID number, the role in the file and the field
    that names it (for a refusal)."""

    id_number: str
    role: str
    field: str


@dataclass(frozen=True, slots=True)
class Wanted:
    """Whom a file holds after its new events, and who asked (a refusal is worded for them)."""

    file_id: UUID
    unit: str  # the file's unit now
    actor: Actor
    claims: tuple[Claim, ...]
    new: bool = False  # its first event is among those being stored: it held nobody before


def wanted(household: HouseholdFile, actor: Actor, *, new: bool = False) -> Wanted:
    """Whom `household` holds now, asked by `actor` (`new`: a file being created)."""
    return Wanted(household.id, household.establishing_unit, actor, claims(household), new)


def claims(household: HouseholdFile) -> tuple[Claim, ...]:
    """The people the file holds now: its head and members while it is open or relieved;
    nobody once it is closed or its personal data is erased (a marker is nobody)."""
    if household.erased or household.status not in CLAIMING:
        return ()
    found = [Claim(household.head.id_number, HEAD, "head.id_number")]
    found += [
        Claim(m.id_number, MEMBER, f"members[{i}].id_number")
        for i, m in enumerate(household.members)
    ]
    return tuple(c for c in found if c.id_number and readable(c.id_number))


def changes_claims(events: Iterable[Aggregate.Event]) -> bool:
    """True when any of the events may change whom a file claims."""
    return any(isinstance(e, _CHANGING) for e in events)


class AlreadyFiled(RuleViolated):
    """一户一档: the person already is the head or a member of another open or relieved file."""

    code = "already_filed"

    def __init__(
        self,
        message: str,
        *,
        zh: str,
        field: str,
        file_id: UUID,
        holder: UUID | None,
        holder_unit: str | None,
    ) -> None:
        super().__init__(RULE, message, zh=zh, field=field)
        self.file_id = file_id  # the file refused
        self.holder = holder  # None when the holder lies outside the caller's subtree
        self.holder_unit = holder_unit


def already_filed(
    *, actor: Actor, claim: Claim, file_id: UUID, holder: UUID, holder_unit: str
) -> AlreadyFiled:
    """The refusal of `file_id`'s claim on a person `holder` holds, worded for `actor`.

    Inside the actor's subtree it names the other file and its unit, so the clerk can look it
    up. Outside, it says only that the person has an open file in another unit, for a union
    above both to resolve: no unit, no file (docs/security.md)."""
    role, role_zh = claim.role, ROLE_ZH[claim.role]
    if holder_unit and UnitCode(holder_unit).is_within(UnitCode(actor.unit)):
        return AlreadyFiled(
            f"one household, one file (一户一档): the {role}'s ID number is already in open file"
            f" {holder} of unit {holder_unit}",
            zh=f"一户一档：该{role_zh}已在本辖区单位{holder_unit}的档案{holder}中建档，"
            "不能重复建档",
            field=claim.field,
            file_id=file_id,
            holder=holder,
            holder_unit=holder_unit,
        )
    return AlreadyFiled(
        f"one household, one file (一户一档): the {role} already has an open file in another"
        " unit; a union above both must resolve it",
        zh=f"一户一档：该{role_zh}已在其他单位建档，不能重复建档；请由双方共同的上级工会核实处理",
        field=claim.field,
        file_id=file_id,
        holder=None,
        holder_unit=None,
    )


class ClaimsRefused(AlreadyFiled):
    """Several files of one batch (an import) refused at once: each refusal in `refusals`."""

    def __init__(self, refusals: tuple[AlreadyFiled, ...]) -> None:
        first = refusals[0]
        super().__init__(
            first.message,
            zh=first.zh,
            field=first.field or "",
            file_id=first.file_id,
            holder=first.holder,
            holder_unit=first.holder_unit,
        )
        self.refusals = refusals
