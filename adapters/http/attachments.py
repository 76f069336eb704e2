"""Attachments over HTTP (附件): upload, list, download, preview.

    POST /api/v1/files/{id}/attachments?kind=K&name=N     the content as the raw body → 201
    GET  /api/v1/files/{id}/attachments                    the list (kind, name, type, size, hash)
    GET  /api/v1/files/{id}/attachments/{aid}/content      the content (unmasking rules)
    GET  /api/v1/files/{id}/attachments/{aid}/preview      a downscaled JPEG (unmasking rules)

An upload is the content itself as the body (`Content-Type: image/jpeg`, `image/png`,
`application/pdf` or `application/octet-stream`: the type is judged by the bytes), streamed into
the content store with its own body limit (`BANGFU_ATTACHMENT_MAX_BYTES`, not the API's 1 MB);
`Content-Length` is the declared length and `Content-Digest: sha-256=:BASE64:` (RFC 9530) an
optional declared hash — an upload that ends short, runs long or hashes otherwise stores nothing.

A scan shows personal data (an ID card, a diagnosis): reading its content or preview follows the
rules of unmasked reads — a role that may unmask, in scope, with `X-Bangfu-Purpose` — and is
recorded on the file's trail (`access.unmasked`, view `attachment`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote
from uuid import UUID

import msgspec
import structlog
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from adapters.pg.attachments import ContentProblem, PgContentStore
from adapters.runtime.bootstrap import Runtime
from adapters.runtime.limits import principal
from adapters.runtime.settings import Settings
from adapters.services import attachments as service
from domain.attachments import Attachment, AttachmentLimits, MediaType
from domain.authorization import Act, authorise
from domain.disclosure import Disclosure
from domain.errors import InvalidValue
from domain.household import HouseholdFile
from domain.values import Actor, label

log = structlog.get_logger("bangfu.http")

API = "/api/v1"
PURPOSE_HEADER = "X-Bangfu-Purpose"
UPLOAD_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf", "application/octet-stream"})


class AttachmentOut(msgspec.Struct, kw_only=True):
    id: UUID
    kind: str
    kind_label: str
    name: str
    media_type: str
    size: int
    sha256: str
    attached_on: date
    version: int  # the file's version that recorded it


class AttachmentsOut(msgspec.Struct, kw_only=True):
    file_id: UUID
    version: int
    total_bytes: int
    attachments: list[AttachmentOut]


def attachment_out(a: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.attachment_id,
        kind=a.kind.value,
        kind_label=label(a.kind),
        name=a.name,
        media_type=a.media_type.value,
        size=a.size,
        sha256=a.sha256,
        attached_on=a.added_on,
        version=a.version,
    )


async def download(rt: Runtime, file_id: UUID, attachment: Attachment) -> Stream:
    """A scan's bytes as the API and the console send them (the caller has checked scope and
    recorded the disclosure): streamed chunk by chunk with its length, name and SHA-256; a chunk
    that fails its seal ends the body short of its length (logged by the service)."""
    first, rest = await service.read_first(contents_of(rt), file_id, attachment)

    async def content() -> AsyncIterator[bytes]:
        yield first
        try:
            async for data in rest:
                yield data
        except ContentProblem:
            return  # logged by the service; the response ends short of Content-Length

    return Stream(
        content(),
        media_type=attachment.media_type.value,
        headers={
            "Content-Length": str(attachment.size),
            "Content-Disposition": "attachment; filename*=UTF-8''" + quote(attachment.name),
            "Repr-Digest": "sha-256=:"
            + base64.b64encode(bytes.fromhex(attachment.sha256)).decode("ascii")
            + ":",
            "Cache-Control": "no-store",
        },
    )


def contents_of(rt: Runtime) -> PgContentStore:
    return PgContentStore(rt.pool, rt.keyring)


def limits_of(settings: Settings) -> AttachmentLimits:
    return AttachmentLimits(
        per_file=settings.attachment_max_bytes,
        per_household=settings.household_attachments_max_bytes,
    )


def _utf8(raw: str) -> str:
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def declared_sha256(header: str) -> str | None:
    """The SHA-256 of `Content-Digest: sha-256=:BASE64:` (RFC 9530), as hex; None without one."""
    if not header:
        return None
    for item in header.split(","):
        algorithm, _, value = item.strip().partition("=")
        if algorithm.strip().lower() != "sha-256":
            continue
        text = value.strip()
        try:
            raw = base64.b64decode(text.strip(":"), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32 or not (text.startswith(":") and text.endswith(":")):
            raise InvalidValue(
                "sha256",
                "Content-Digest is sha-256=:BASE64: (RFC 9530)",
                zh="Content-Digest 应为 sha-256=:BASE64:",
            )
        return raw.hex()
    return None


async def _upload_guard(request: Request[Any, Any, Any]) -> None:
    # replaces the app's JSON-only guard (litestar uses the `before_request` closest to the
    # handler): the body is the content itself
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in UPLOAD_TYPES:
        raise HTTPException(
            status_code=415,
            detail="send the content as image/jpeg, image/png, application/pdf or"
            " application/octet-stream",
        )


async def _readable(rt: Runtime, actor: Actor, file_id: UUID) -> HouseholdFile:
    household = await rt.files.get(file_id)
    authorise(actor, Act.READ, household.unit)
    return household


async def _disclose(
    request: Request[Any, Any, Any], rt: Runtime, actor: Actor, household: HouseholdFile
) -> None:
    """An unmasked read of a scan: allowed and recorded as `unmask=true` reads are."""
    act = Disclosure.record(
        actor=actor,
        file_id=household.id,
        file_unit=household.establishing_unit,
        purpose=_utf8(request.headers.get(PURPOSE_HEADER.lower(), "")),
        view="attachment",
    )
    request.app.state.limits.unmasking.check(principal(actor.user, actor.unit))
    await rt.files.record(act)
    log.info("file.unmasked", file_id=str(household.id), purpose=act.purpose, view="attachment")


@dataclass
class _UploadOperation(Operation):
    """The upload's body in the API document: the scan's bytes, as one of the accepted types
    (the handler streams `request.stream()`, so litestar cannot see a body parameter)."""

    def __post_init__(self) -> None:
        binary = OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
        )
        self.request_body = RequestBody(
            content={media.value: binary for media in MediaType},
            description="the content of the scan: JPEG, PNG or PDF (checked by its bytes)",
            required=True,
        )


def routes(problems: dict[int, ResponseSpec], settings: Settings) -> list[Any]:
    """The attachment route handlers; the upload's body limit comes from `settings`."""
    responses = {
        s: spec
        for s, spec in problems.items()
        if s in {400, 401, 403, 404, 409, 413, 415, 422, 429, 503}
    }

    @post(
        f"{API}/files/{{file_id:uuid}}/attachments",
        status_code=201,
        responses=responses,
        before_request=_upload_guard,
        request_max_body_size=settings.attachment_max_bytes,
        operation_class=_UploadOperation,
        tags=["attachments"],
        summary="上传附件 — attach a scan of a proof material",
        description="The body is the content (JPEG, PNG or PDF, judged by its bytes), at most "
        "`BANGFU_ATTACHMENT_MAX_BYTES` (20 MB by default; a household's together at most "
        "`BANGFU_HOUSEHOLD_ATTACHMENTS_MAX_BYTES`, 200 MB). `kind` is the material it proves "
        "(a material code), `name` the file's name. `Content-Length` and an optional "
        "`Content-Digest: sha-256=:BASE64:` must match what arrives. Recorded as the file's "
        "`household.attachment_added` event, with the content's SHA-256, in the hash chain.",
    )
    async def upload_attachment(
        file_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        kind: FromQuery[str],
        name: FromQuery[str],
    ) -> Response[AttachmentOut]:
        length = request.headers.get("content-length")
        size = int(length) if length is not None and length.isdigit() else None
        body: AsyncIterator[bytes] = request.stream()
        household, attachment = await service.attach(
            files=rt.files,
            contents=contents_of(rt),
            clock=rt.clock,
            actor=actor,
            file_id=file_id,
            kind=kind,
            name=name,
            body=body,
            declared=service.Declared(
                media_type=request.headers.get("content-type"),
                size=size,
                sha256=declared_sha256(request.headers.get("content-digest", "")),
            ),
            limits=limits_of(settings),
        )
        return Response(
            attachment_out(attachment),
            status_code=201,
            headers={
                "ETag": f'"{household.version}"',
                "Location": f"{API}/files/{file_id}/attachments/{attachment.attachment_id}/content",
            },
        )

    @get(
        f"{API}/files/{{file_id:uuid}}/attachments",
        responses=responses,
        tags=["attachments"],
        summary="附件列表 — the attachments of a file",
        description="Kind, name, media type, size, SHA-256 and the version that recorded each.",
    )
    async def list_attachments(
        file_id: FromPath[UUID], actor: NamedDependency[Actor], rt: NamedDependency[Runtime]
    ) -> Response[AttachmentsOut]:
        household = await _readable(rt, actor, file_id)
        out = AttachmentsOut(
            file_id=household.id,
            version=household.version,
            total_bytes=household.attachment_bytes(),
            attachments=[attachment_out(a) for a in household.attachments],
        )
        return Response(out, headers={"ETag": f'"{household.version}"'})

    @get(
        f"{API}/files/{{file_id:uuid}}/attachments/{{attachment_id:uuid}}/content",
        responses=responses,
        tags=["attachments"],
        summary="下载附件 — the content of an attachment",
        description="Shows personal data: allowed to the roles that may unmask, in scope, with "
        f"an `{PURPOSE_HEADER}` header, and recorded in the file's trail. The content is "
        "re-hashed as it is sent: an altered attachment is refused (or cut off).",
    )
    async def download_attachment(
        file_id: FromPath[UUID],
        attachment_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> Stream:
        household = await _readable(rt, actor, file_id)
        attachment = service.attachment_of(household, attachment_id)
        await _disclose(request, rt, actor, household)
        return await download(rt, file_id, attachment)

    @get(
        f"{API}/files/{{file_id:uuid}}/attachments/{{attachment_id:uuid}}/preview",
        responses=responses,
        tags=["attachments"],
        summary="附件预览 — a downscaled image of a scan or of a PDF's first page",
        description="A JPEG at most 800 pixels on its longer side. The same rules as the "
        "download: it shows personal data.",
    )
    async def preview_attachment(
        file_id: FromPath[UUID],
        attachment_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> Response[bytes]:
        household = await _readable(rt, actor, file_id)
        attachment = service.attachment_of(household, attachment_id)
        await _disclose(request, rt, actor, household)
        image = await service.preview(contents_of(rt), file_id, attachment)
        return Response(image, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    return [upload_attachment, list_attachments, download_attachment, preview_attachment]
