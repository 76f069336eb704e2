"""What the domain needs from the outside world, declared as Protocols (ports).

Adapters implement them; the composition root (`adapters.bootstrap`) hands them to use cases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from domain.household import HouseholdFile


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
        """Append the files' pending events in one transaction, each at its expected version.

        Raises `domain.errors.ConcurrencyError` (and writes nothing) when any stream moved on.
        """
        ...

    async def save_many(self, files: Sequence[HouseholdFile]) -> None:
        """Bulk path for many new files at once (imports, demo data): all or nothing."""
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
