"""The ledger (台账): one row per household file, and the people in it.

Each row carries the four unit codes of the file's place in the union tree, its status,
category, file level, worker kind and causes, the head's name and sex (read off the ID number),
the ID number masked and keyed-hashed, the phone masked, the employer and address (the columns
of the clerk's paper ledger), the key dates and the assistance it received. The people table
(the keyed hash of every head and member ID number) is what duplicate detection (一户一档) reads.
No column holds a clear ID number, phone, bank card or health detail.

A household whose personal data was erased keeps its row (status, dates, assistance: the
statistics and the paper ledger still count it) with markers for its personal columns and no
people, so it never matches anyone again.

The approval queue, the due lists and the duplicates are indexed queries over these two tables.

Civil-affairs matching (民政比对) is recorded in the matching unit's own stream, each `Matched`
event naming its file in the payload (`match.file_id`). The ledger folds those into the file's
row: the kinds civil affairs' lists matched (`civil_affairs`, in `Record` order), the day of the
latest matching run that named the file (`civil_affairs_on`, Beijing date of its recording), and
the findings a clerk must still act on (`civil_affairs_to_act`, rule ids of `FINDINGS`).

A finding to act on stays until the file's own events show it acted on: closing the file (an
exit or a rejection) settles every finding; surveying the household again (a verification, as
after a sending back) records new answers and so settles the findings that contradicted the old
ones (`ANSWER_FINDINGS`), not a death. The annual re-check judges the recorded means again
without asking the survey's questions, so it settles nothing. A matching run's events never
change the row's `version` or `updated_at`: those belong to the file's own stream (edits,
spot-checks and the approval queue's order read them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from domain.civil_affairs import ACT, ANSWER_FINDINGS, Record
from domain.idnumber import IdNumber
from domain.privacy import ERASED, mask_id, mask_phone, readable
from domain.units import regions_of
from domain.values import DisabilityKind
from projections.base import Change

# Under regular aid (常态化帮扶): files on record, and relieved (解困) ones, which keep being
# assisted, visited and re-checked with their status `relieved` (seeds 001 and 004).
REGULAR_AID = frozenset({"approved", "relieved"})
RECHECK_PERIOD = timedelta(days=365)
MATCHED = "civil_affairs.matched"
RECORD_ORDER = {r.value: i for i, r in enumerate(Record)}
# China keeps one offset all year (no daylight saving): a fixed zone keeps the fold pure.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


@dataclass(slots=True)
class LedgerRow:
    file_id: UUID
    unit: str
    region: str
    status: str
    worker_kind: str
    head_name: str
    id_masked: str
    id_hash: bytes
    applied_on: date
    version: int
    updated_at: datetime
    category: str | None = None
    file_level: str | None = None
    primary_cause: str | None = None
    secondary_causes: tuple[str, ...] = ()
    approved_on: date | None = None
    last_assisted_on: date | None = None
    last_visited_on: date | None = None
    next_recheck_due: date | None = None
    exited_on: date | None = None
    exit_kind: str | None = None
    assistance_count: int = 0
    assistance_total: Decimal = Decimal("0.00")
    returns: int = 0
    head_sex: str | None = None
    phone_masked: str = ""
    employer: str = ""
    address: str = ""
    people: frozenset[tuple[bytes, str]] = field(default_factory=frozenset)
    civil_affairs: tuple[str, ...] = ()  # the kinds civil affairs matched (Record values)
    civil_affairs_on: date | None = None  # the day of the latest matching run naming the file
    civil_affairs_to_act: tuple[str, ...] = ()  # rules of the findings a clerk must act on
    exit_due: str | None = None  # why the file is due to exit (a found exclusion, a re-check)
    exit_due_on: date | None = None  # since when
    category_pending: str | None = None  # found by a re-check, waiting for an approver
    # the head's profile a clerk filters by (issue 14)
    political_status: str | None = None
    model_worker: str | None = None
    dilapidated: bool | None = None  # the housing, or a migrant's at home, is a 危房
    disability: str | None = None  # its kind (a code); None once erased

    def take_profile(self, head: Any) -> None:
        """The filtered parts of the head's profile (an application's or a revision's head)."""
        self.political_status = _code(head.political_status)
        self.model_worker = _code(head.model_worker)
        marks = [h.dilapidated for h in (head.housing, head.home_housing) if h is not None]
        self.dilapidated = True if True in marks else False if False in marks else None
        self.disability = head.disability if head.disability in DISABILITIES else None

    @property
    def regular_aid(self) -> bool:
        """Whether the household is under regular aid (approved, or relieved)."""
        return self.status in REGULAR_AID

    @property
    def units(self) -> tuple[str, str, str, str]:
        """Province, city, district and base-level union codes (a base-level union of a
        provincial industry union lies in no city: its province stands for it, domain/units.py)."""
        return (*regions_of(self.unit), self.unit)


class LedgerStorage(Protocol):
    async def load(self, ids: set[UUID]) -> dict[UUID, LedgerRow]: ...

    async def save(self, rows: list[LedgerRow], people_changed: set[UUID]) -> None: ...


DISABILITIES = frozenset(k.value for k in DisabilityKind)


def _code(value: object) -> str | None:
    return None if value is None else str(value)


def head_sex(id_number: str) -> str | None:
    """ "male" or "female" from the sequence digit of an 18-character ID number (odd = male)."""
    if not readable(id_number) or len(id_number) != 18 or not id_number[16].isdigit():
        return None
    return IdNumber(id_number).sex.value


def _later(current: date | None, candidate: date) -> date:
    return candidate if current is None or candidate > current else current


def file_of(change: Change) -> UUID:
    """The file a change belongs on: its own stream, or for a civil-affairs match (recorded in
    the matching unit's stream) the file the match names."""
    if change.type == MATCHED:
        file_id: UUID = change.fields.match.file_id
        return file_id
    return change.stream_id


def _record_order(kind: str) -> tuple[int, str]:
    return RECORD_ORDER.get(kind, len(RECORD_ORDER)), kind


def fold_match(row: LedgerRow, change: Change) -> None:
    """Fold one civil-affairs match into the row of the file it names: the kind joins the kinds
    matched, the run's day may be the latest, a finding to act on joins those outstanding (its
    severity as the run assessed and recorded it). Unions and a maximum only, so folding the
    same match twice leaves the row as folding it once."""
    match: Any = change.fields.match
    row.civil_affairs = tuple(sorted({*row.civil_affairs, str(match.record)}, key=_record_order))
    row.civil_affairs_on = _later(
        row.civil_affairs_on, change.recorded_at.astimezone(BEIJING).date()
    )
    if match.assessment.severity == ACT:
        row.civil_affairs_to_act = tuple(sorted({*row.civil_affairs_to_act, match.assessment.rule}))


def _settle(row: LedgerRow, rules: frozenset[str] | None = None) -> None:
    """The file's own event has acted on the findings `rules` (on every finding when None)."""
    if rules is None:
        row.civil_affairs_to_act = ()
    else:
        row.civil_affairs_to_act = tuple(r for r in row.civil_affairs_to_act if r not in rules)


class Ledger:
    """Keeps one row per file from the household events and the civil-affairs matches that
    name the file."""

    name = "ledger"

    def __init__(
        self, hasher: Callable[[str], bytes], recheck_period: timedelta = RECHECK_PERIOD
    ) -> None:
        self.hash = hasher
        self.recheck_period = recheck_period

    def wants(self, type_name: str) -> bool:
        return type_name.startswith("household.") or type_name == MATCHED

    async def apply(self, changes: list[Change], storage: LedgerStorage) -> None:
        mine = [c for c in changes if self.wants(c.type)]
        if not mine:
            return
        rows = await storage.load({file_of(c) for c in mine})
        touched: dict[UUID, LedgerRow] = {}
        people_changed: set[UUID] = set()
        for change in mine:
            if change.type == MATCHED:
                # Another stream's event: its version says nothing of the file's. A match for a
                # file this ledger has no row for (its events not yet here, as a sync pull can
                # leave them) is skipped, not an error.
                target = rows.get(file_of(change))
                if target is not None:
                    fold_match(target, change)
                    touched[target.file_id] = target
                continue
            row = rows.get(change.stream_id)
            if row is not None and change.version <= row.version:
                continue  # already applied (a rebuild racing a live runner, or a replayed batch)
            row = self.step(row, change, people_changed)
            if row is None:
                continue
            rows[change.stream_id] = touched[change.stream_id] = row
        await storage.save(list(touched.values()), people_changed)

    def _person(self, id_number: str, role: str) -> tuple[bytes, str]:
        return self.hash(id_number), role

    def _people(self, id_numbers: list[str], role: str) -> set[tuple[bytes, str]]:
        """The keyed hashes of the readable numbers: an erased or unreadable number is nobody
        (one hash for every such marker would make all those files duplicates of each other)."""
        return {self._person(n, role) for n in id_numbers if readable(n)}

    def _id_hash(self, id_number: str) -> bytes:
        return self.hash(id_number) if readable(id_number) else b""

    def step(  # noqa: PLR0915 — one short branch per event type reads best as one table
        self, row: LedgerRow | None, change: Change, people_changed: set[UUID]
    ) -> LedgerRow | None:
        """The row after one event (None if the event cannot start a row)."""
        f: Any = change.fields
        kind = change.type[len("household.") :]
        if kind == "applied":
            people_changed.add(change.stream_id)
            new = LedgerRow(
                file_id=change.stream_id,
                unit=f.establishing_unit,
                region=f.region,
                status="applied",
                worker_kind=str(f.worker_kind),
                head_name=f.head.name,
                id_masked=mask_id(f.head.id_number),
                id_hash=self._id_hash(f.head.id_number),
                applied_on=f.applied_on,
                version=change.version,
                updated_at=change.recorded_at,
                head_sex=head_sex(f.head.id_number),
                phone_masked=mask_phone(f.head.phone) if f.head.phone else "",
                employer=f.head.employer,
                address=f.head.address,
                people=frozenset(self._people([f.head.id_number], "head")),
            )
            new.take_profile(f.head)
            return new
        if row is None:
            return None  # a stream whose first event this ledger never saw
        row.version = change.version
        row.updated_at = change.recorded_at
        if kind == "verified":
            row.status = "verified"
            row.primary_cause = str(f.primary_cause)
            row.secondary_causes = tuple(str(c) for c in f.secondary_causes)
            people = {p for p in row.people if p[1] == "head"}
            people |= self._people([m.id_number for m in f.members], "member")
            row.people = frozenset(people)
            people_changed.add(row.file_id)
            _settle(row, ANSWER_FINDINGS)
        elif kind in ("appraised", "sent_back"):
            row.status = kind
        elif kind == "rejected":
            row.status = kind
            _settle(row)
        elif kind == "approved":
            row.status = "approved"
            row.category = str(f.category)
            row.file_level = None if f.file_level is None else str(f.file_level)  # None: unknown
            row.approved_on = f.approved_on
            row.next_recheck_due = f.approved_on + self.recheck_period
            row.exit_due = row.exit_due_on = row.category_pending = None
        elif kind == "assisted":
            row.assistance_count += 1
            row.assistance_total += f.amount
            row.last_assisted_on = _later(row.last_assisted_on, f.assisted_on)
        elif kind == "visited":
            row.last_visited_on = _later(row.last_visited_on, f.visited_on)
        elif kind == "rechecked":
            row.next_recheck_due = f.rechecked_on + self.recheck_period
            if not f.needs_confirmation:  # recorded before re-checks waited for an approver
                if f.category is not None:
                    row.category = str(f.category)
            elif f.result == "category_changed":
                row.category_pending = str(f.category)  # on the approvals queue
            elif f.result == "still_eligible":
                row.category_pending = None
            elif f.result == "exit_due" and row.exit_due is None:
                row.exit_due, row.exit_due_on = "recheck", f.rechecked_on
        elif kind == "category_confirmed":
            row.category = str(f.category)
            row.category_pending = None
        elif kind == "kept_on_record":
            row.exit_due = row.exit_due_on = None
        elif kind == "revised":
            if f.exit_due is not None and row.exit_due is None:
                row.exit_due, row.exit_due_on = f.exit_due, f.effective_on
            if f.primary_cause is not None:
                row.primary_cause = str(f.primary_cause)
            if f.secondary_causes is not None:
                row.secondary_causes = tuple(str(c) for c in f.secondary_causes)
            if f.head is not None:
                row.head_name = f.head.name
                row.phone_masked = mask_phone(f.head.phone) if f.head.phone else ""
                row.employer = f.head.employer
                row.address = f.head.address
                row.take_profile(f.head)
            if f.members is not None:
                head = {p for p in row.people if p[1] == "head"}
                row.people = frozenset(
                    head | self._people([m.id_number for m in f.members], "member")
                )
                people_changed.add(row.file_id)
        elif kind == "exited":
            row.status = str(f.kind)
            row.exit_kind = str(f.kind)
            row.exited_on = f.exited_on
            row.exit_due = row.exit_due_on = None
            _settle(row)
        elif kind == "returned":
            row.status = "returned"
            row.primary_cause = str(f.cause)  # a return names why the household is in need again
            row.returns += 1
            row.exit_kind = None
            row.exited_on = None
        elif kind == "transferred":
            row.unit = f.to_unit
        elif kind == "finding_checked":
            # the clerk checked the finding (confirmed and acted on, or unfounded): settled
            _settle(row, frozenset({f.finding}))
        elif kind == "personal_data_erased":
            # what a rebuild gives once the key is destroyed: markers, and nobody to match
            row.head_name = ERASED
            row.id_masked = ERASED
            row.id_hash = b""
            row.head_sex = None
            row.phone_masked = ERASED if row.phone_masked else ""
            row.address = ERASED if row.address else ""
            row.disability = None  # sealed: a rebuild reads the marker, which is no kind
            row.people = frozenset()
            people_changed.add(row.file_id)
        return row
