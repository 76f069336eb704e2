"""The per-stream hash chain (DESIGN.md decision 4).

hash(n) = SHA-256(hash(n-1) ‖ stream id ‖ version ‖ type ‖ recorded time ‖ unit ‖ refers-to ‖
payload), with hash(0) = 32 zero bytes. Every field is framed (fixed width or length-prefixed),
so no two different events give the same input. The payload is hashed as stored, byte for byte:
verifying never depends on re-encoding.

`first_broken` checks one stream's chain (the store's `verify`, a spot-check of a file);
`link_hash` recomputes one link on the hash before it (the pull, which checks each event it
receives on what this node holds).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

GENESIS = bytes(32)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def event_hash(
    previous: bytes,
    stream_id: UUID,
    version: int,
    type_name: str,
    recorded_at: datetime,
    unit: str | None,
    payload: bytes,
    refers_to: UUID | None = None,
) -> bytes:
    h = hashlib.sha256(previous)
    h.update(stream_id.bytes)
    h.update(version.to_bytes(8, "big"))
    for text in (type_name, unit or ""):
        raw = text.encode()
        h.update(len(raw).to_bytes(4, "big"))
        h.update(raw)
    h.update(_micros(recorded_at).to_bytes(8, "big", signed=True))
    h.update(b"\x00" if refers_to is None else b"\x01" + refers_to.bytes)
    h.update(payload)
    return h.digest()


class Chained(Protocol):
    """What a link's hash covers, and the hash stored with it: a stored event, a pulled one."""

    @property
    def stream_id(self) -> UUID: ...
    @property
    def version(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def refers_to(self) -> UUID | None: ...
    @property
    def hash(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class BrokenLink:
    stream_id: UUID
    version: int
    reason: str


ALTERED = (
    "stored hash does not match the event's content"
    " and the previous hash (the event or its predecessor was altered)"
)


def link_hash(previous: bytes, event: Chained) -> bytes:
    """The event's hash recomputed on `previous`, the hash of the event before it."""
    return event_hash(
        previous,
        event.stream_id,
        event.version,
        event.type,
        event.recorded_at,
        event.unit,
        bytes(event.payload),
        event.refers_to,
    )


def first_broken(stream: Iterable[Chained]) -> BrokenLink | None:
    """The first broken link of one stream's events, given in version order from version 1: a
    missing version, or a hash that its content and its predecessor's hash do not give. None
    when the chain is intact."""
    previous, expected = GENESIS, 1
    for event in stream:
        if event.version != expected:
            return BrokenLink(
                event.stream_id, expected, f"version {expected} is missing (found {event.version})"
            )
        computed = link_hash(previous, event)
        if computed != bytes(event.hash):
            return BrokenLink(event.stream_id, event.version, ALTERED)
        previous, expected = computed, expected + 1
    return None
