"""Masking and keyed hashing of personal data (DESIGN.md decision 7), and the markers that stand
in for personal data that cannot be read.

ID numbers keep their first 6 and last 4 characters, phones their first 3 and last 4, bank cards
their last 4; health details are hidden whole. `mask_tree` masks these fields wherever they
appear in nested event payloads.

Personal fields are stored encrypted (docs/decisions/0010-personal-data-encryption.md). Where
they cannot be decrypted, a marker takes the value's place: `ERASED` once the household's
personal data was erased (its key destroyed), `UNREADABLE` where this node holds no key for it
(or the ciphertext does not open). Markers are never masked, hashed or parsed as ID numbers.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

ERASED = "已销毁"  # the household's personal data was erased (crypto-shredded)
UNREADABLE = "无法解密"  # no key for it on this node, or the ciphertext does not open
SEALED = frozenset({ERASED, UNREADABLE})


def readable(value: str) -> bool:
    """True for a real value (not a marker standing in for data that cannot be read)."""
    return value not in SEALED


def mask_id(value: str) -> str:
    if value in SEALED:
        return value
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    if value in SEALED:
        return value
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_card(value: str) -> str:
    if value in SEALED:
        return value
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def mask_health(value: str) -> str:
    """Health and disability details (sensitive personal information): hidden whole."""
    if value in SEALED:
        return value
    return "***"


MASKS = {
    "id_number": mask_id,
    "phone": mask_phone,
    "bank_card": mask_card,
    "health": mask_health,
    # the head's disability (sensitive, as health), 户籍所在地 and 主要财产 (issue 14)
    "disability": mask_health,
    "disability_grade": mask_health,
    "hukou_place": mask_health,
    "main_property": mask_health,
}


def mask_tree(value: Any) -> Any:
    """A copy of a JSON-like value with every sensitive field masked."""
    if isinstance(value, dict):
        return {
            key: (
                MASKS[key](item)
                if key in MASKS and isinstance(item, str) and item
                else mask_tree(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_tree(item) for item in value]
    return value


def keyed_hash(key: bytes, id_number: str) -> bytes:
    """HMAC-SHA256 of a normalised ID number: finds one person across files without storing
    the number (duplicate detection, reconciliation). Without the key it cannot be reversed by
    trying every plausible ID number, as a plain hash could."""
    return hmac.new(key, id_number.encode("ascii"), hashlib.sha256).digest()
