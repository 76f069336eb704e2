"""What the domain needs from the outside world, declared as Protocols (ports).

Adapters implement them; the composition root (`adapters.bootstrap`) hands them to use cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from domain.household import HouseholdFile
from domain.policy import PolicyBook


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


class Policies(Protocol):
    """The regional parameters (`domain.policy`), for judging a decision by those in force."""

    async def book(self) -> PolicyBook:
        """Every region's parameters as now recorded."""
        ...
