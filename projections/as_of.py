"""Each file's ledger fields as they stood at an instant: the electronic side of a reconciliation.

Reconciling a paper ledger (`adapters.reconcile`) compares its rows with the files as they were
recorded by the end of the ledger's date. Replaying every file through the `HouseholdFile`
aggregate rebuilds everything a file knows — members, means, materials, assistance — only to read
nine fields of it. This fold keeps just those (the head, the date of application, status, file
level, category, causes) and the unit the file was in after its transfers, from just the events
that change them (`FOLDED`); a reader selects those events recorded before the instant, in
stream-then-version order, and folds each stream's `Change`s with `step`.

Why not the ledger read model's fold (`projections.ledger.Ledger.step`)? It also hashes every
member's ID number for duplicate detection, which the comparison never reads, and it keeps the
primary cause across a return, where the file takes the return's cause. What is compared must be
what the aggregate says: `tests/integration/test_reconcile_fold.py` checks this fold against
`domain.reconciliation.electronic_fields` of the replayed aggregate, file by file, at instants
through a demo province's history. `electronic_fields` reads the fold's rows as they are (they
have the aggregate's attribute names and types), so the two cannot label a value differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain.household import EXIT_STATUS, Head
from domain.values import Category, Cause, FileLevel, Status
from projections.base import Change

# The household events that change nothing the comparison reads (nor the unit): never read.
# An erasure changes no field itself: the earlier events' personal fields read as erased once
# the file's key is destroyed (adapters.pii).
UNCHANGING = frozenset(
    {
        "household.assisted",
        "household.plan_agreed",
        "household.visited",
        "household.personal_data_erased",
        "household.finding_checked",
        "household.kept_on_record",
        "household.followed_up",  # back in hardship re-opens the file by its own Returned
        "household.attachment_added",  # a scan proves a material: no compared field changes
    }
)
# The household events that do: every other one (pinned against `domain.events` by the tests).
FOLDED = frozenset(
    {
        "household.applied",
        "household.verified",
        "household.appraised",
        "household.approved",
        "household.sent_back",
        "household.rejected",
        "household.revised",
        "household.rechecked",
        "household.exited",
        "household.returned",
        "household.transferred",
        "household.category_confirmed",
    }
)


@dataclass(slots=True)
class FileAsOf:
    """One file's compared fields so far, named and typed as the `HouseholdFile` aggregate's."""

    file_id: UUID
    unit: str  # the base-level union holding the file (its establishing unit after transfers)
    head: Head
    applied_on: date
    status: Status
    file_level: FileLevel | None = None
    category: Category | None = None
    primary_cause: Cause | None = None
    secondary_causes: tuple[Cause, ...] = ()


def step(row: FileAsOf | None, change: Change) -> FileAsOf | None:
    """The row after one of its stream's events, applied in version order (None while the stream
    has not started: an event before its application cannot start a row). Mirrors the
    `@event` methods of `domain.household.HouseholdFile` for the fields it keeps."""
    f: Any = change.fields
    kind = change.type
    if kind == "household.applied":
        return FileAsOf(
            file_id=change.stream_id,
            unit=f.establishing_unit,
            head=f.head,
            applied_on=f.applied_on,
            status=Status.APPLIED,
        )
    if row is None or kind in UNCHANGING:
        return row
    if kind == "household.verified":
        row.status = Status.VERIFIED
        row.primary_cause = f.primary_cause
        row.secondary_causes = f.secondary_causes
    elif kind == "household.appraised":
        row.status = Status.APPRAISED
    elif kind == "household.approved":
        row.status = Status.APPROVED
        row.category = f.category
        row.file_level = f.file_level
    elif kind == "household.sent_back":
        row.status = Status.SENT_BACK
    elif kind == "household.rejected":
        row.status = Status.REJECTED
    elif kind == "household.revised":
        if f.head is not None:
            row.head = f.head
        if f.primary_cause is not None:
            row.primary_cause = f.primary_cause
        if f.secondary_causes is not None:
            row.secondary_causes = f.secondary_causes
    elif kind == "household.rechecked":
        # a re-check's category waits for an approver's confirmation (older events: at once)
        if f.category is not None and not f.needs_confirmation:
            row.category = f.category
    elif kind == "household.category_confirmed":
        row.category = f.category
    elif kind == "household.exited":
        row.status = EXIT_STATUS[f.kind]
    elif kind == "household.returned":
        row.status = Status.RETURNED
        row.primary_cause = f.cause
    elif kind == "household.transferred":
        row.unit = f.to_unit
    else:
        raise ValueError(f"the reconciliation fold does not know the event {kind!r}")
    return row
