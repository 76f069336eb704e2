"""Personal data encrypted at rest: envelope encryption of the personal fields of stored events.

See docs/decisions/0010-personal-data-encryption.md. In short:

- Every household file (stream) has its own random 256-bit **data key**. The personal fields of
  its events (`domain.household.HEAD_PERSONAL` and `MEMBER_PERSONAL`: names, ID numbers, phone,
  address, health details, bank card) are encrypted with it **in place**, one AES-GCM token per
  value: `"enc:1:" + base64(nonce ‖ ciphertext ‖ tag)`. The plaintext is the value's JSON
  literal; the associated data names the stream and the field, so a token opens only where it
  was written. Everything else in the payload (status, dates, amounts, causes) stays readable,
  and the hash chain is computed over the payload as stored — ciphertext included.
- Data keys are stored **wrapped** (AES-GCM) under a **key-encryption key** (KEK) in
  `personal_keys`, with the KEK's version. KEKs come from `BANGFU_PII_KEYS` or the data folder
  (`adapters.runtime.secrets.load_pii_keys`), never from the database or the repository.
- **Erasing** a household's personal data destroys its wrapped data key (crypto-shredding): its
  tokens then read as `domain.privacy.ERASED`, while every event, hash and non-personal field
  stays where it was, so the chain still verifies.

Reading stays synchronous where it is hot: the store's read paths call `Keyring.load_for` on the
rows they fetched (one batched query for the keys not yet in this process's cache); the codec
then opens tokens from the cache (`Keyring.entry`) without any I/O.

This module is the pure part — sealing and opening values, wrapping data keys under KEKs and
for transport — and does no I/O (an import-linter contract keeps asyncpg out). The key rows in
PostgreSQL and the cache of unwrapped keys are `adapters.pii.keyring.Keyring`.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

import msgspec
import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain import events as registry
from domain.household import HEAD_PERSONAL, MEMBER_PERSONAL, HouseholdFile
from domain.privacy import ERASED, UNREADABLE

log = structlog.get_logger(__name__)

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the AES-GCM standard nonce; random per value (few values per data key)
SEALED_PREFIX = "enc:1:"  # format version 1

# The event classes that carry personal fields, and their stored names (aliases included).
PERSONAL_CLASSES = frozenset(
    {
        HouseholdFile.Applied,
        HouseholdFile.Verified,
        HouseholdFile.Revised,
        HouseholdFile.AttachmentAdded,  # its `name`: a clerk's file name may name the person
    }
)
PERSONAL_TYPES = frozenset(
    [name for name, cls in registry.EVENT_NAMES.items() if cls in PERSONAL_CLASSES]
    + [
        old
        for old, new in registry.ALIASES.items()
        if registry.EVENT_NAMES[new] in PERSONAL_CLASSES
    ]
)
ERASURE_TYPE = "household.personal_data_erased"

_FIELDS = tuple(dict.fromkeys((*HEAD_PERSONAL, *MEMBER_PERSONAL)))
_NAMES = b"|".join(f.encode() for f in _FIELDS)
_MARK = b'"' + SEALED_PREFIX.encode()
# msgspec writes compact JSON, so a personal field's key is followed directly by its value. A
# key-like text inside a string value has its quotes escaped (\") and can never match.
_SEALED = re.compile(
    rb'"(' + _NAMES + rb')":"' + re.escape(SEALED_PREFIX.encode()) + rb'([A-Za-z0-9+/]+={0,2})"'
)
_CLEAR = re.compile(rb'"(?:' + _NAMES + rb')":"(?!' + re.escape(SEALED_PREFIX.encode()) + rb')[^"]')

_PII_AAD = b"bangfu/pii/1\x00"
_WRAP_AAD = b"bangfu/data-key/1\x00"
_TRANSPORT_AAD = b"bangfu/sync-key/1\x00"
_CANARY_AAD = b"bangfu/kek-canary/1\x00"
_json = msgspec.json.Encoder()
_ERASED_JSON = _json.encode(ERASED)
_UNREADABLE_JSON = _json.encode(UNREADABLE)


class KeyProblem(Exception):
    """A key problem an operator must act on (a KEK that does not match, a key that is lost)."""


class KeyNotLoaded(LookupError):
    """A payload with encrypted fields was decoded before its stream's key was loaded: a read
    path forgot `Keyring.load_for` (a bug, not a state of the data)."""


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


SHREDDED = _Sentinel("SHREDDED")  # the key was destroyed: personal fields read as ERASED
ABSENT = _Sentinel("ABSENT")  # no key here (not sent to this node, or lost): UNREADABLE
Entry = AESGCM | _Sentinel


# ------------------------------------------------------------------------------ values


def _aad(prefix: bytes, stream: bytes, name: bytes = b"") -> bytes:
    return prefix + stream + name


def seal_value(aead: AESGCM, stream: bytes, name: str, value: str) -> str:
    """One personal value as a token (an empty value stays empty: nothing to hide)."""
    if not value:
        return value
    nonce = os.urandom(NONCE_BYTES)
    sealed = aead.encrypt(nonce, _json.encode(value), _aad(_PII_AAD, stream, name.encode()))
    return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def _sealed_person(person: Any, names: Sequence[str], aead: AESGCM, stream: bytes) -> Any:
    return replace(person, **{n: seal_value(aead, stream, n, getattr(person, n)) for n in names})


def seal_fields(fields: dict[str, Any], aead: AESGCM, stream_id: UUID) -> None:
    """Encrypt, in place, the personal fields of an event's business fields (head, members)."""
    stream = stream_id.bytes
    name = fields.get("name")  # an attachment's name (no other personal event has a top `name`)
    if isinstance(name, str):
        fields["name"] = seal_value(aead, stream, "name", name)
    head = fields.get("head")
    if head is not None:
        fields["head"] = _sealed_person(head, HEAD_PERSONAL, aead, stream)
    members = fields.get("members")
    if members is not None:
        fields["members"] = tuple(_sealed_person(m, MEMBER_PERSONAL, aead, stream) for m in members)


def is_sealed(payload: bytes) -> bool:
    """True when a stored payload holds at least one encrypted value."""
    return _MARK in payload


def holds_clear_personal_data(payload: bytes) -> bool:
    """True when a stored payload holds a non-empty personal value in clear (written before
    encryption was introduced, or by a node that does not encrypt)."""
    return _CLEAR.search(payload) is not None


def open_payload(payload: bytes, stream_id: UUID, entry: Entry) -> bytes:
    """The payload with every token replaced by its value's JSON literal — or by the ERASED or
    UNREADABLE marker when the key is destroyed or not held here."""
    if entry is SHREDDED:
        return _SEALED.sub(lambda m: b'"' + m[1] + b'":' + _ERASED_JSON, payload)
    if not isinstance(entry, AESGCM):
        return _SEALED.sub(lambda m: b'"' + m[1] + b'":' + _UNREADABLE_JSON, payload)
    aad = _PII_AAD + stream_id.bytes
    decrypt = entry.decrypt
    b64 = binascii.a2b_base64  # the C decoder: this runs for every sealed value read

    def clear(m: re.Match[bytes]) -> bytes:
        try:
            raw = b64(m[2])
            literal = decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad + m[1])
        except (InvalidTag, ValueError, binascii.Error):
            log.warning("personal.token_unreadable", stream_id=str(stream_id), field=m[1].decode())
            literal = _UNREADABLE_JSON
        return b'"' + m[1] + b'":' + literal

    return _SEALED.sub(clear, payload)


# ------------------------------------------------------------------------------ KEKs


def parse_key(text: str, what: str) -> bytes:
    """A 256-bit key written in base64 (standard or URL-safe, padding optional)."""
    cleaned = text.strip()
    try:
        raw = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), altchars=b"-_")
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ValueError(f"{what} must be {KEY_BYTES} random bytes in base64 (44 characters)")
    return raw


def new_key_text() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


@dataclass(frozen=True)
class KeyEncryptionKeys:
    """The KEKs by version; data keys are wrapped under the highest (`current`)."""

    keys: Mapping[int, bytes]
    source: str = "settings"  # "settings" (BANGFU_PII_KEYS) or the path of the data-folder file
    _aeads: dict[int, AESGCM] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("at least one key-encryption key is needed")
        for version, key in self.keys.items():
            if version < 1 or len(key) != KEY_BYTES:
                raise ValueError(f"KEK version {version}: a positive version and {KEY_BYTES} bytes")
            self._aeads[version] = AESGCM(key)

    @classmethod
    def parse(cls, text: str, source: str = "settings") -> KeyEncryptionKeys:
        """`"1:BASE64,2:BASE64"` (commas or new lines between versions)."""
        keys: dict[int, bytes] = {}
        for item in re.split(r"[,\n]", text):
            if not item.strip():
                continue
            version, sep, value = item.strip().partition(":")
            if not sep or not version.strip().isdigit():
                raise ValueError("BANGFU_PII_KEYS is VERSION:BASE64KEY, comma-separated")
            if int(version) in keys:
                raise ValueError(f"KEK version {int(version)} is given twice")
            keys[int(version)] = parse_key(value, f"KEK version {int(version)}")
        return cls(keys, source)

    @classmethod
    def generate(cls, source: str = "generated") -> KeyEncryptionKeys:
        return cls({1: os.urandom(KEY_BYTES)}, source)

    def text(self) -> str:
        return "\n".join(
            f"{v}:{base64.b64encode(k).decode('ascii')}" for v, k in sorted(self.keys.items())
        )

    @property
    def current(self) -> int:
        return max(self.keys)

    @property
    def versions(self) -> tuple[int, ...]:
        return tuple(sorted(self.keys))

    def wrap(self, stream_id: UUID, data_key: bytes) -> tuple[int, bytes]:
        version = self.current
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[version].encrypt(nonce, data_key, _aad(_WRAP_AAD, stream_id.bytes))
        return version, nonce + sealed

    def unwrap(self, stream_id: UUID, version: int, wrapped: bytes) -> bytes:
        """The data key; raises `KeyProblem` when the KEK version is missing or does not open it."""
        aead = self._aeads.get(version)
        if aead is None:
            raise KeyProblem(f"KEK version {version} is not configured (lost or retired too early)")
        try:
            return aead.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _aad(_WRAP_AAD, stream_id.bytes)
            )
        except InvalidTag:
            raise KeyProblem(
                f"the data key of {stream_id} does not open under KEK version {version}"
            ) from None

    def canary(self, version: int) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[version].encrypt(
            nonce, bytes(KEY_BYTES), _CANARY_AAD + version.to_bytes(4, "big")
        )
        return nonce + sealed

    def opens_canary(self, version: int, canary: bytes) -> bool:
        try:
            self._aeads[version].decrypt(
                canary[:NONCE_BYTES], canary[NONCE_BYTES:], _CANARY_AAD + version.to_bytes(4, "big")
            )
        except InvalidTag:
            return False
        return True


def wrap_for_transport(key: bytes, stream_id: UUID, data_key: bytes) -> bytes:
    """A data key wrapped under the key two nodes share, for the sync feed."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, data_key, _aad(_TRANSPORT_AAD, stream_id.bytes))


def unwrap_from_transport(key: bytes, stream_id: UUID, wrapped: bytes) -> bytes:
    """Raises `KeyProblem` when the shared key does not open it (the nodes' keys differ)."""
    try:
        return AESGCM(key).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _aad(_TRANSPORT_AAD, stream_id.bytes)
        )
    except (InvalidTag, ValueError):
        raise KeyProblem(
            f"the data key of {stream_id} does not open under the shared sync key:"
            " the two nodes are configured with different keys"
        ) from None
