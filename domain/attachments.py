"""Proof materials as files (附件): what an attachment is, which contents are accepted, the limits.

An attachment is recorded on the household file as its own event (`HouseholdFile.AttachmentAdded`)
with the kind of material it proves, its name, media type, size and the SHA-256 of the content as
uploaded: the hash sits in the file's hash chain, so a swapped scan is as detectable as an edited
event. The content itself lives apart from the events, sealed with the household's data key
(docs/decisions/0011-attachments.md); this module is pure: it judges content by its first bytes
and checks declared values, it never touches storage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from domain.errors import InvalidValue, RuleViolated
from domain.values import Material

MB = 1024 * 1024
DEFAULT_FILE_LIMIT = 20 * MB
DEFAULT_HOUSEHOLD_LIMIT = 200 * MB
MAX_ATTACHMENT_NAME = 120
SNIFF_BYTES = 16  # enough for every signature below
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class MediaType(StrEnum):
    """The media types accepted: scans and photographs of paper, and PDFs."""

    JPEG = "image/jpeg"
    PNG = "image/png"
    PDF = "application/pdf"


MEDIA_LABELS_ZH = {MediaType.JPEG: "JPEG图片", MediaType.PNG: "PNG图片", MediaType.PDF: "PDF文件"}

# Signatures (magic bytes) by media type: JPEG's SOI marker and the first marker's 0xFF; PNG's
# eight-byte signature; "%PDF-" (PDF 2.0, ISO 32000-2 §7.5.2; readers accept it anywhere in the
# first 1024 bytes, bangfu only at the start, as every scanner writes it).
_SIGNATURES: tuple[tuple[bytes, MediaType], ...] = (
    (b"\xff\xd8\xff", MediaType.JPEG),
    (b"\x89PNG\r\n\x1a\n", MediaType.PNG),
    (b"%PDF-", MediaType.PDF),
)


def sniff(head: bytes) -> MediaType | None:
    """The media type the content's first bytes show, or None for any other content."""
    for signature, media in _SIGNATURES:
        if head.startswith(signature):
            return media
    return None


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """Bytes per attachment and per household (settings `BANGFU_ATTACHMENT_MAX_BYTES`,
    `BANGFU_HOUSEHOLD_ATTACHMENTS_MAX_BYTES`)."""

    per_file: int = DEFAULT_FILE_LIMIT
    per_household: int = DEFAULT_HOUSEHOLD_LIMIT


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment as the file knows it (its content is in the content store)."""

    attachment_id: UUID
    kind: Material
    name: str
    media_type: MediaType
    size: int
    sha256: str  # lowercase hex of the content as uploaded
    added_on: date
    version: int  # the file's version that recorded it


def check_name(name: str) -> str:
    """A display name: the clerk's own file name, without folders or control characters."""
    if not isinstance(name, str):
        raise InvalidValue("attachment_name", "must be text", zh="须为文本")
    cleaned = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not cleaned:
        raise InvalidValue("attachment_name", "must not be empty", zh="不能为空")
    if len(cleaned) > MAX_ATTACHMENT_NAME:
        raise InvalidValue(
            "attachment_name",
            f"longer than {MAX_ATTACHMENT_NAME} characters",
            zh=f"不能超过{MAX_ATTACHMENT_NAME}个字符",
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        raise InvalidValue("attachment_name", "contains a control character", zh="含有非法字符")
    return cleaned


def check_kind(kind: object) -> Material:
    if isinstance(kind, Material):
        return kind
    try:
        return Material(str(kind))
    except ValueError:
        raise InvalidValue(
            "material_kind", f"unknown kind of material {kind!r}", zh="无效"
        ) from None


def check_media_type(media_type: object) -> MediaType:
    try:
        return MediaType(str(media_type))
    except ValueError:
        raise InvalidValue(
            "media_type",
            "only JPEG, PNG or PDF content is accepted",
            zh="只能是JPEG、PNG图片或PDF文件",
        ) from None


def check_sha256(value: object) -> str:
    text = str(value).strip().lower()
    if not _HEX64.match(text):
        raise InvalidValue("sha256", "64 hexadecimal digits", zh="应为64位十六进制数")
    return text


class ContentTooLarge(RuleViolated):
    """More content than an attachment may have (HTTP 413)."""


def too_large(limit: int) -> ContentTooLarge:
    return ContentTooLarge(
        "attachment_size",
        f"an attachment is at most {limit} bytes",
        zh=f"单个附件不能超过{limit // MB}MB",
        field="attachment_size",
    )


def check_size(size: object, limits: AttachmentLimits, *, stored: int) -> int:
    """The declared size, within the per-attachment and the household's limits (`stored`: the
    bytes of the household's attachments already on file)."""
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise InvalidValue("attachment_size", "a positive number of bytes", zh="须为正整数")
    if size > limits.per_file:
        raise too_large(limits.per_file)
    if stored + size > limits.per_household:
        raise RuleViolated(
            "household_attachments_size",
            f"a household's attachments total at most {limits.per_household} bytes;"
            f" {stored} are on file and this one has {size}",
            zh=f"一户的附件总量不能超过{limits.per_household // MB}MB",
            field="attachment_size",
        )
    return size


def wrong_type(declared: MediaType | None, found: MediaType | None) -> InvalidValue:
    """The error for content whose bytes are not what was declared (or not accepted at all)."""
    if found is None:
        return InvalidValue(
            "attachment_content",
            "the content is not a JPEG, PNG or PDF file",
            zh="不是JPEG、PNG图片或PDF文件",
        )
    return InvalidValue(
        "attachment_content",
        f"the content is {found.value}, not the declared {declared}",
        zh=f"是{MEDIA_LABELS_ZH[found]}，与声明的类型不符",
    )
