"""A file's scans (附件) in the console: upload one on the file page, preview or download one.

The upload is a multipart form (the session's CSRF token, the material it proves, the scan) run
through the attachments service the API runs (`adapters.services.attachments.attach`): the type
is judged by the bytes, the size by the node's limits, and a refusal — not a JPEG, PNG or PDF, too
large, a closed file — comes back beside the field with nothing stored. Its body limit is the
node's attachment limit (`BANGFU_ATTACHMENT_MAX_BYTES`, with room for the form around it), so the
routes are built from the settings (`routes`).

A scan shows personal data: previewing or downloading one is an unmasked read, allowed to the
roles that may unmask, for a stated purpose, and recorded on the file's trail (`access.unmasked`,
view `attachment`) as the API's `GET …/attachments/{id}/content` records it.

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from litestar import Request, Response, post
from litestar.datastructures import State, UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from adapters.http.attachments import contents_of, download, limits_of
from adapters.http.console.common import (
    CONSOLE,
    ERRORS,
    Posted,
    form_guard,
    lang_of,
    message,
    signed_post,
)
from adapters.http.console.files import Side, _file_page
from adapters.http.console.paper import upload_guard
from adapters.http.problems import status_of
from adapters.runtime.bootstrap import Runtime
from adapters.runtime.limits import principal
from adapters.runtime.settings import Settings
from adapters.services import attachments as service
from adapters.services import files as file_reads
from domain.errors import DomainError, InvalidValue, NotFound, NotPermitted, OutOfScope

READ_BYTES = 256 * 1024
FORM_ROOM = 64 * 1024  # the multipart form around the scan: its boundaries, token and kind


def _beside(error: DomainError) -> str:
    """The upload form's field a refusal belongs beside."""
    field = error.field or ""
    if "kind" in field or "material" in field:
        return "attach.kind"
    if field.startswith("attachment") or field in {"sha256", "size"}:
        return "attach.file"
    return "attach."


async def _attach(
    file_id: UUID, request: Request[Any, Any, Any], state: State
) -> Template | Redirect:
    post = await signed_post(request, state)
    if not isinstance(post, Posted):
        return post
    session, form = post.session, post.form
    rt: Runtime = state.rt
    actor = session.actor
    await file_reads.readable(rt.files, actor, file_id)  # outside the subtree: not found
    kind = str(form.get("kind") or "")
    upload = form.get("file")
    english = lang_of(request) == "en"
    errors: dict[str, str] = {}
    if not kind:
        errors["attach.kind"] = "required" if english else "必填"
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["attach.file"] = "choose a scan" if english else "请选择要上传的扫描件"
    if errors or not isinstance(upload, UploadFile):
        side = Side({"attach.kind": kind}, errors)
        return await _file_page(request, state, session, file_id, status=422, side=side)

    async def body() -> AsyncIterator[bytes]:
        while chunk := await upload.read(READ_BYTES):
            yield chunk

    try:
        await service.attach(
            files=rt.files,
            contents=contents_of(rt),
            clock=rt.clock,
            actor=actor,
            file_id=file_id,
            kind=kind,
            name=upload.filename,
            body=body(),
            limits=limits_of(state.settings),
        )
    except (NotFound, OutOfScope, NotPermitted):
        raise
    except DomainError as error:
        side = Side({"attach.kind": kind}, {_beside(error): message(request, error)})
        status = status_of(error)
        return await _file_page(request, state, session, file_id, status=status, side=side)
    finally:
        await upload.close()
    return Redirect(f"{CONSOLE}/files/{file_id}?done=attachment", status_code=303)


async def _open(
    file_id: UUID, attachment_id: UUID, request: Request[Any, Any, Any], state: State
) -> Template | Redirect | Response[bytes] | Stream:
    post = await signed_post(request, state)
    if not isinstance(post, Posted):
        return post
    session, values = post.session, post.values
    rt: Runtime = state.rt
    actor = session.actor
    household = await file_reads.readable(rt.files, actor, file_id)
    attachment = service.attachment_of(household, attachment_id)
    purpose = values.get("purpose", "")
    try:
        await file_reads.disclose(
            rt.files,
            actor=actor,
            household=household,
            purpose=purpose,
            view="attachment",
            admit=lambda: state.limits.unmasking.check(principal(actor.user, actor.unit)),
        )
    except InvalidValue as error:
        form = f"open-{attachment_id}"
        side = Side({f"{form}.purpose": purpose}, {f"{form}.purpose": message(request, error)})
        return await _file_page(request, state, session, file_id, status=422, side=side)
    contents = contents_of(rt)
    if values.get("as") == "preview":
        image = await service.preview(contents, file_id, attachment)
        return Response(
            image,
            media_type="image/jpeg",
            headers={"Cache-Control": "no-store", "Content-Disposition": "inline"},
        )
    return await download(rt, file_id, attachment)


def routes(settings: Settings) -> list[Any]:
    """The scan routes; the upload's body limit comes from `settings`."""

    @post(
        f"{CONSOLE}/files/{{file_id:uuid}}/attachments",
        include_in_schema=False,
        before_request=upload_guard,
        request_max_body_size=settings.attachment_max_bytes + FORM_ROOM,
        exception_handlers=ERRORS,
    )
    async def attach_scan(
        file_id: FromPath[UUID], request: Request[Any, Any, Any], state: State
    ) -> Template | Redirect:
        return await _attach(file_id, request, state)

    @post(
        f"{CONSOLE}/files/{{file_id:uuid}}/attachments/{{attachment_id:uuid}}",
        status_code=200,
        include_in_schema=False,
        before_request=form_guard,
        exception_handlers=ERRORS,
    )
    async def open_scan(
        file_id: FromPath[UUID],
        attachment_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        state: State,
    ) -> Template | Redirect | Response[bytes] | Stream:
        return await _open(file_id, attachment_id, request, state)

    return [attach_scan, open_scan]
