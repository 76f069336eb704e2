"""What the domain needs from the outside world, declared as Protocols (ports).

Adapters implement them (`adapters.pg.repository.PgFileRepository` all of the repository's);
the composition root (`adapters.runtime.bootstrap`) hands them to use cases and services. A port
that carries an adapter's own types (a stored row, a database connection) is generic in them, so
that the domain names none.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, datetime
from typing import Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.household import HouseholdFile
from domain.onefile import Wanted
from domain.policy import PolicyBook
from domain.unit_records import Meeting

Row_contra = TypeVar("Row_contra", contravariant=True)
Forget_contra = TypeVar("Forget_contra", contravariant=True)
Event_co = TypeVar("Event_co", covariant=True)


class Clock(Protocol):
    def today(self) -> date:
        """Today's date where the union is (business dates may not be later than this)."""
        ...


class FileRepository(Protocol):
    """Household files, stored as their events."""

    async def get(
        self, file_id: UUID, *, version: int | None = None, as_of: datetime | None = None
    ) -> HouseholdFile:
        """The file replayed from its events (up to `version` or the recorded time `as_of`).

        Raises `domain.errors.NotFound` when there is no such file (at that point).
        """
        ...

    async def save(self, *files: HouseholdFile) -> None:
        """Append the files' pending events in one transaction, each at its expected version,
        with the claims of 一户一档 they change (`domain.onefile`).

        Raises `domain.errors.ConcurrencyError` (and writes nothing) when any stream moved on,
        `domain.onefile.AlreadyFiled` (and writes nothing) when another open or relieved file
        holds one of a file's people.
        """
        ...

    async def save_many(self, files: Sequence[HouseholdFile]) -> None:
        """Bulk path for many new files at once (imports, demo data): all or nothing."""
        ...


class Policies(Protocol):
    """The regional parameters (`domain.policy`), for judging a decision by those in force."""

    async def book(self) -> PolicyBook:
        """Every region's parameters as now recorded."""
        ...


class Meetings(Protocol):
    """The 民主评议 meetings unions record (`domain.unit_records`), for an appraisal citing one."""

    async def meeting(self, unit: str, meeting_id: UUID) -> Meeting | None:
        """The meeting `meeting_id` of `unit`'s records (None if that union recorded none)."""
        ...


class ActRecorder(Protocol):
    """Acts of other streams than a file's own — a disclosure (unmasked read), a spot-check, a
    reconciliation, a civil-affairs match, a regional policy — stored as their events."""

    async def record(self, *acts: Aggregate) -> None:
        """Append the acts' pending events in one transaction, as `FileRepository.save` does."""
        ...


class BuiltFiles(Protocol[Row_contra]):
    """The repository's bulk path for new files built elsewhere (the importer's worker
    processes), which hand over their files as stored rows, not as aggregates."""

    @property
    def encrypts(self) -> bool:
        """True when personal fields are written encrypted (each built file brings its key)."""
        ...

    async def existing(self, file_ids: Sequence[UUID]) -> set[UUID]:
        """Those of the files that are stored already."""
        ...

    async def save_built(
        self,
        events: Sequence[Row_contra],
        keys: Mapping[UUID, bytes],
        holding: Sequence[Wanted] = (),
    ) -> None:
        """Store the files' rows and data keys, and take the claims of the people they hold
        (一户一档), all or nothing.

        Raises `domain.errors.ConcurrencyError` (and writes nothing) when any of them exists,
        `domain.onefile.AlreadyFiled` or `ClaimsRefused` when another file holds a person.
        """
        ...


class ErasableFiles(FileRepository, Protocol[Forget_contra]):
    """Household files whose personal data can be erased on request (crypto-shredding)."""

    async def erase(self, household: HouseholdFile, *, forget: Sequence[Forget_contra] = ()) -> int:
        """Store the file's pending erasure and destroy its data key, with each of `forget` —
        what else this node keeps of it — in the same transaction; the rows `forget` deleted."""
        ...

    async def clear_personal_events(self, file_id: UUID) -> int:
        """The file's events whose personal fields were stored in clear (erasure cannot reach
        them)."""
        ...


class FileHistory(Protocol[Event_co]):
    """The stored events behind household files, for views that show them as they are."""

    async def trail(self, file_id: UUID) -> Sequence[Event_co]:
        """The file's events and the acts that refer to it, in recorded order."""
        ...

    async def every_file(self) -> list[HouseholdFile]:
        """Every household file, replayed."""
        ...


class ContentStore(Protocol):
    """The content of attachments (附件), kept apart from the events and sealed with each
    household's data key (docs/decisions/0011-attachments.md). PostgreSQL by default
    (`adapters.pg.attachments.PgContentStore`); docs/operations.md describes what another
    store (an S3-compatible one) must provide.

    Writing joins the transaction that appends the `AttachmentAdded` event (an adapter's
    concern: `write` takes the adapter's own transaction handle)."""

    def read(self, stream_id: UUID, attachment_id: UUID, *, size: int) -> AsyncIterator[bytes]:
        """The content, opened, one chunk at a time, exactly `size` bytes; raises when it is
        missing, altered, erased (the data key destroyed) or not readable on this node."""
        ...

    async def check(self, stream_id: UUID, attachment_id: UUID, *, size: int, sha256: str) -> str:
        """Re-hash the content: "ok", "missing", "altered", "erased" or "unreadable"."""
        ...
