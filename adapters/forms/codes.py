"""The verification token a printed page carries as a QR code: what was printed, signed by the
printing node.

`<payload>.<signature>`, both base64url: the payload is compact JSON — the short code `c`, the
form `k`, the printing node `n`, and for one file `f` (id), `v` (version) and `h` (hex hash of the
file's event at that version), or for a unit's list `d` (a digest of every file's id, version and
hash). The signature is Ed25519 over the payload with the node's form key, derived from the
node's secret with HKDF (`FormKey.from_secret`); the public key travels in the print record, so
any node that holds the record checks the signature, and nobody without the secret can make a
token that passes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.errors import InvalidValue

_INFO = b"bangfu/forms/ed25519/1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class FormKey:
    """A node's key for signing printed forms."""

    private: Ed25519PrivateKey

    @classmethod
    def from_secret(cls, secret: str) -> FormKey:
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            secret.encode()
        )
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_hex(self) -> str:
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return raw.hex()

    def sign(self, payload: dict[str, object]) -> str:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(body)}.{_b64(self.private.sign(body))}"


def files_digest(files: Sequence[tuple[UUID, int, str]]) -> str:
    """The digest of a unit list's files: (id, version, hash) each, in order."""
    text = "\n".join(f"{f}:{v}:{h}" for f, v, h in files)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _forged() -> InvalidValue:
    return InvalidValue(
        "token",
        "the verification token is not valid (forged or damaged)",
        zh="二维码无效（伪造或损坏）",
    )


def read_token(token: str) -> dict[str, object]:
    """The payload of a token, unverified (`verify_token` checks it against a key)."""
    try:
        body, _signature = token.strip().split(".")
        payload = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        raise _forged() from None
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), str):
        raise _forged()
    return payload


def verify_token(token: str, public_hex: str) -> dict[str, object]:
    """The payload, if the token was signed by the key `public_hex`; otherwise `InvalidValue`."""
    payload = read_token(token)
    body, signature = token.strip().split(".")
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(
            _unb64(signature), _unb64(body)
        )
    except (InvalidSignature, ValueError):
        raise _forged() from None
    return payload
