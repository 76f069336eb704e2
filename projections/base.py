"""What every projection shares: the change it reads and the storage it writes through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Change:
    """One stored event as a projection sees it: its place, its type and its business fields.

    `fields` is the decoded payload (attributes named as the event's fields); `unit` is the unit
    the file was in after the event.
    """

    stream_id: UUID
    version: int
    type: str
    fields: Any
    recorded_at: datetime
    unit: str | None


class Projection(Protocol):
    """A read model: applies a batch of changes through its storage port."""

    name: str

    def wants(self, type_name: str) -> bool: ...

    async def apply(self, changes: list[Change], storage: Any) -> None: ...
