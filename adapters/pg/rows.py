"""The event log's row types: what an append takes (`NewEvent`, resting on `StreamHead`s), what a
read returns (`StoredEvent`), and a place in the commit-safe log (`Cursor`).

Plain values with no I/O, apart from the store (`adapters.pg.store`) so that entry points and
views can name them without reaching for the store itself (pyproject's import contracts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import InvalidValue


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """A place in the commit-safe log: (transaction id, position) of the last event read."""

    xid: int
    position: int

    def encode(self) -> str:
        return f"{self.xid}.{self.position}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        if not text:
            return START
        try:
            xid, position = text.split(".")
            cursor = cls(int(xid), int(position))
        except ValueError:
            raise InvalidValue("cursor", f"not a log cursor: {text!r}", zh="游标格式无效") from None
        if cursor.xid < 0 or cursor.position < 0:
            raise InvalidValue("cursor", f"not a log cursor: {text!r}", zh="游标格式无效")
        return cursor


START = Cursor(0, 0)


@dataclass(frozen=True, slots=True)
class NewEvent:
    stream_id: UUID
    version: int
    type: str
    payload: bytes
    recorded_at: datetime
    unit: str | None
    hash: bytes
    refers_to: UUID | None = None


@dataclass(frozen=True, slots=True)
class StreamHead:
    """What a writer read: the stream was at `version`, whose hash was `hash`."""

    stream_id: UUID
    version: int
    hash: bytes


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    xid: int
    stream_id: UUID
    version: int
    type: str
    payload: bytes
    recorded_at: datetime
    unit: str | None
    hash: bytes
    refers_to: UUID | None

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.xid, self.position)
