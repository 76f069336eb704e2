"""The per-stream hash chain (DESIGN.md decision 4).

hash(n) = SHA-256(hash(n-1) ‖ stream id ‖ version ‖ type ‖ recorded time ‖ unit ‖ refers-to ‖
payload), with hash(0) = 32 zero bytes. Every field is framed (fixed width or length-prefixed),
so no two different events give the same input. The payload is hashed as stored, byte for byte:
verifying never depends on re-encoding.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
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
