"""Routes for printed forms and their verification (docs/decisions/0012-paper-forms.md).

    GET  /api/v1/files/{id}/forms/{form}?version=N   one household's form (PDF)
    GET  /api/v1/units/{code}/forms/{form}?period=P  a unit's form for a period (PDF)
    POST /api/v1/forms/verification                 {"code"} or {"token"} → does the paper match

A print is a disclosure: `X-Bangfu-Purpose` is required, and the print is recorded on each
printed file's trail under its own rate limit. Like `app.py`, no `from __future__ import
annotations`: litestar resolves the handlers' parameter types when the routes are built.
"""

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, QueryParameter

from adapters.runtime.bootstrap import Runtime
from adapters.runtime.limits import principal
from adapters.services import forms as printing
from domain.printing import HouseholdForm, UnitForm
from domain.values import Actor

API = "/api/v1"
PURPOSE_HEADER = "X-Bangfu-Purpose"
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FormCheckIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The short code a person typed, or the token the page's QR code holds."""

    code: str | None = None
    token: str | None = None


class PrintedChangeOut(msgspec.Struct, kw_only=True):
    version: int
    type: str
    recorded_at: str


class PrintedFileOut(msgspec.Struct, kw_only=True):
    file_id: UUID
    version: int
    matches: bool
    current_version: int
    changed_since: bool
    changes: list[PrintedChangeOut]


class FormCheckOut(msgspec.Struct, kw_only=True):
    code: str
    form: str
    unit: str
    period: str
    printed_by: str
    printed_on: str
    node: str
    purpose: str
    token_checked: bool
    matches: bool
    changed_since: bool
    files: list[PrintedFileOut]


def _purpose(request: Request[Any, Any, Any]) -> str:
    raw = request.headers.get(PURPOSE_HEADER.lower(), "")
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def _pdf(printed: printing.Printed, name: str) -> Response[bytes]:
    return Response(
        printed.pdf,
        media_type=PDF,
        headers={
            "Content-Disposition": f'inline; filename="{name}.pdf"',
            "X-Bangfu-Verification-Code": printed.code,
            "Cache-Control": "no-store",
        },
    )


def verification_out(v: printing.Verification) -> FormCheckOut:
    return FormCheckOut(
        code=v.code,
        form=v.form,
        unit=v.unit,
        period=v.period,
        printed_by=v.printed_by,
        printed_on=v.printed_on,
        node=v.node,
        purpose=v.purpose,
        token_checked=v.token_checked,
        matches=v.matches,
        changed_since=v.changed_since,
        files=[
            PrintedFileOut(
                file_id=f.file_id,
                version=f.version,
                matches=f.matches,
                current_version=f.current_version,
                changed_since=bool(f.changes),
                changes=[
                    PrintedChangeOut(
                        version=c.version, type=c.type, recorded_at=c.recorded_at.isoformat()
                    )
                    for c in f.changes
                ],
            )
            for f in v.files
        ],
    )


def routes(problems: dict[int, ResponseSpec]) -> list[Any]:
    """The form and verification route handlers."""
    responses = problems
    pdf_response = {200: ResponseSpec(bytes, media_type=PDF, description="the form as a PDF")}

    @get(
        f"{API}/files/{{file_id:uuid}}/forms/{{form:str}}",
        responses={**responses, **pdf_response},
        tags=["forms"],
        media_type=PDF,
        summary="打印表单 — one household's form as a PDF",
        description="The form laid out as the notices print it, from the file's events as of "
        "`version` (default: now). Every page carries a QR code and a short verification code "
        "(also in `X-Bangfu-Verification-Code`). A print discloses personal data: "
        f"`{PURPOSE_HEADER}` is required and the print is recorded on the file's trail.",
    )
    async def print_household_form(
        file_id: FromPath[UUID],
        form: Annotated[HouseholdForm, FromPath],
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        version: Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)] = None,
    ) -> Response[bytes]:
        state = request.app.state
        printed = await printing.print_household(
            rt,
            state.form_key,
            actor=actor,
            file_id=file_id,
            form=form,
            version=version,
            purpose=_purpose(request),
            admit=lambda: state.limits.printing.check(principal(actor.user, actor.unit)),
        )
        return _pdf(printed, f"{form.value}-{file_id}")

    @get(
        f"{API}/units/{{code:str}}/forms/{{form:str}}",
        responses={**responses, **pdf_response},
        tags=["forms"],
        media_type=PDF,
        summary="打印单位表单 — a unit's form for a period as a PDF",
        description="`publicity`: the files whose publicity began in the period; `minutes`: the "
        "民主评议 meetings held in it (POST /units/{code}/meetings) with their votes; `tasks`: "
        "each measure of the plan in force of every file open in it, with deadline and "
        "completion (`format=xlsx` for a workbook); `assessment`: the unit's 考核表 recorded for "
        "the period (POST /units/{code}/assessments); `ledger`: the files approved by its end "
        "and open in it. `period`: `2026`, `2026-Q2` or `2026-05`. "
        f"`{PURPOSE_HEADER}` is required; one disclosure is recorded per file on the list.",
    )
    async def print_unit_form(
        code: FromPath[str],
        form: Annotated[UnitForm, FromPath],
        period: FromQuery[str],
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
        format: Annotated[
            Literal["pdf", "xlsx"], QueryParameter(description="xlsx: only for `tasks`")
        ] = "pdf",
    ) -> Response[bytes]:
        state = request.app.state
        printed = await printing.print_unit(
            rt,
            state.form_key,
            actor=actor,
            unit=code,
            form=form,
            period=period,
            purpose=_purpose(request),
            admit=lambda: state.limits.printing.check(principal(actor.user, actor.unit)),
            sheet=format == "xlsx",
        )
        if format == "xlsx":
            name = f"{form.value}-{code}-{period}.xlsx"
            return Response(
                printed.pdf,
                media_type=XLSX,
                headers={
                    "Content-Disposition": f'attachment; filename="{name}"',
                    "X-Bangfu-Verification-Code": printed.code,
                    "Cache-Control": "no-store",
                },
            )
        return _pdf(printed, f"{form.value}-{code}-{period}")

    @post(
        f"{API}/forms/verification",
        status_code=200,
        responses=responses,
        tags=["forms"],
        summary="核验纸质表单 — does a printed form match the electronic file",
        description="Send the short code printed on the page (`code`) or the token its QR code "
        "holds (`token`). Answers whether the file's event at the printed version still has the "
        "printed hash (`matches`) and which events came after it (`changed_since`, `changes`). "
        "A mistyped code or a forged token is refused (422).",
    )
    async def verify_form(
        data: Annotated[FormCheckIn, Body(media_type=RequestEncodingType.JSON)],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> FormCheckOut:
        checked = await printing.verify(rt, actor=actor, code=data.code, token=data.token)
        return verification_out(checked)

    return [print_household_form, print_unit_form, verify_form]
