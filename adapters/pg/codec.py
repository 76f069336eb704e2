"""Event payloads encoded with msgspec under stable registered names.

A payload holds an event's business fields only. Its identity (stream, version) and its recorded
time are columns of the event row, and the aggregate class of a created-event comes from the
registry, so no Python module path is ever stored (`domain.events`).

Decoding is hot (replay, projections, spot-checks): each event class gets a generated msgspec
Struct of its business fields and a reusable decoder, so a payload is parsed and type-checked in
one pass without an intermediate dict.

Personal fields are encrypted in place (`adapters.pii`): `encode` seals them with the stream's
data key when given one; decoding opens them from the keyring's cache — the read path loaded the
keys beforehand — or reads them as a marker (`ERASED`, `UNREADABLE`) where no key is held.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from adapters.pii import sealing as pii
from adapters.pii.keyring import Keyring
from domain import events as registry

_METADATA = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


class UnknownEventType(LookupError):
    """A stored event name that no registered class (or alias) decodes."""


@dataclasses.dataclass(frozen=True)
class _Entry:
    name: str
    cls: type[Aggregate.Event]
    fields: tuple[str, ...]
    decoder: msgspec.json.Decoder[Any]
    topic: str | None
    personal: bool  # its payload may hold encrypted personal fields


class EventCodec:
    """Encode domain events to (name, bytes) and back."""

    def __init__(
        self,
        names: Mapping[str, type[Aggregate.Event]] = registry.EVENT_NAMES,
        aliases: Mapping[str, str] = registry.ALIASES,
        creates: Mapping[type[Aggregate.Event], type[Aggregate]] = registry.CREATES,
        *,
        keyring: Keyring | None = None,
    ) -> None:
        self.keyring = keyring
        self._by_name: dict[str, _Entry] = {}
        self._by_class: dict[type[Aggregate.Event], _Entry] = {}
        for name, cls in names.items():
            hints = typing.get_type_hints(cls)
            declared = [f for f in dataclasses.fields(cls) if f.name not in _METADATA]
            business = tuple(f.name for f in declared)
            # a field added later with a default (domain/events.py) decodes from older payloads
            struct = msgspec.defstruct(
                f"{cls.__qualname__.replace('.', '')}Payload",
                [
                    (f.name, hints[f.name])
                    if f.default is dataclasses.MISSING
                    else (f.name, hints[f.name], f.default)
                    for f in declared
                ],
                forbid_unknown_fields=True,
            )
            created = creates.get(cls)
            entry = _Entry(
                name,
                cls,
                business,
                msgspec.json.Decoder(struct),
                get_topic(created) if created else None,
                cls in pii.PERSONAL_CLASSES,
            )
            self._by_name[name] = entry
            self._by_class[cls] = entry
        for old, new in aliases.items():
            self._by_name[old] = self._by_name[new]
        self._encoder = msgspec.json.Encoder(decimal_format="string")

    def name_of(self, event_class: type[Aggregate.Event]) -> str:
        return self._by_class[event_class].name

    def is_personal(self, event_class: type[Aggregate.Event]) -> bool:
        """True for the event classes whose payloads carry personal fields."""
        return event_class in pii.PERSONAL_CLASSES

    def encode(self, event: Aggregate.Event, key: AESGCM | None = None) -> tuple[str, bytes]:
        """The stored name and payload; with `key` (the stream's data key), personal fields are
        encrypted in place."""
        entry = self._by_class.get(type(event))
        if entry is None:
            raise UnknownEventType(f"{type(event).__qualname__} is not registered in domain.events")
        fields = {f: getattr(event, f) for f in entry.fields}
        if key is not None and entry.personal:
            pii.seal_fields(fields, key, event.originator_id)
        return entry.name, self._encoder.encode(fields)

    def opened(self, payload: bytes, stream_id: UUID | None) -> bytes:
        """A stored payload with its encrypted values opened (or replaced by a marker)."""
        if stream_id is None or self.keyring is None:
            return pii.open_payload(payload, stream_id or _NO_STREAM, pii.ABSENT)
        entry = self.keyring.entry(stream_id)
        if entry is None:
            raise pii.KeyNotLoaded(f"the key of {stream_id} was not loaded before decoding")
        return pii.open_payload(payload, stream_id, entry)

    def decode(
        self, name: str, payload: bytes, *, stream_id: UUID, version: int, recorded_at: datetime
    ) -> Aggregate.Event:
        entry = self._by_name.get(name)
        if entry is None:
            raise UnknownEventType(f"no event class is registered under {name!r}")
        if entry.personal and pii.is_sealed(payload):
            payload = self.opened(payload, stream_id)
        body = entry.decoder.decode(payload)
        kwargs = {f: getattr(body, f) for f in entry.fields}
        kwargs["originator_id"] = stream_id
        kwargs["originator_version"] = version
        kwargs["timestamp"] = recorded_at
        if entry.topic is not None:
            kwargs["originator_topic"] = entry.topic
        return entry.cls(**kwargs)

    def decode_fields(self, name: str, payload: bytes, stream_id: UUID | None = None) -> Any:
        """Only the business fields, as a typed Struct: the fast path for projections, which
        need the fields and not the aggregate's event objects. Without `stream_id`, encrypted
        values read as `UNREADABLE`."""
        entry = self._by_name.get(name)
        if entry is None:
            raise UnknownEventType(f"no event class is registered under {name!r}")
        if entry.personal and pii.is_sealed(payload):
            payload = self.opened(payload, stream_id)
        return entry.decoder.decode(payload)

    def fields(self, name: str, payload: bytes, stream_id: UUID | None = None) -> dict[str, Any]:
        """The business fields of a stored payload as plain JSON-able values (for audit views),
        encrypted values opened."""
        entry = self._by_name.get(name)
        if entry is not None and entry.personal and pii.is_sealed(payload):
            payload = self.opened(payload, stream_id)
        return typing.cast(dict[str, Any], msgspec.json.decode(payload))


_NO_STREAM = UUID(int=0)
