"""Routes for paper against electronic: ledger reconciliation, bulk import, civil-affairs lists.

    POST /api/v1/reconciliations            multipart: file (xlsx/csv), unit, as_of → 201 report
    GET  /api/v1/reconciliations/{id}       the report (JSON); `{id}.xlsx` as a workbook
    POST /api/v1/imports                    multipart: file, unit[, attachments (zip)] → 201 with
                                            created/skipped/refused
    POST /api/v1/civil-affairs-matches      multipart: file, unit → 201 with the matches

`routes(problems)` builds the handlers with the API's problem responses, as
`adapters.http.spotchecks` does; no `from __future__ import annotations`: litestar resolves the
handlers' parameter types when the routes are built.
"""

import asyncio
import io
from dataclasses import dataclass
from types import TracebackType
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from litestar.params import Body, PathParameter

from adapters.runtime.bootstrap import Runtime
from adapters.runtime.settings import DEFAULT_IMPORT_MAX_BYTES, Settings
from adapters.services import civil_affairs, importer, reconcile
from domain.errors import NotFound
from domain.values import Actor, iso_day

API = "/api/v1"
PAPER_PROBLEMS = frozenset({400, 401, 403, 404, 413, 415, 422, 429})


@dataclass
class LedgerUpload:
    """A paper ledger to reconcile: the sheet, the subtree, the ledger's date (default today)."""

    file: UploadFile
    unit: str
    as_of: str | None = None


@dataclass
class ImportUpload:
    """A sheet of files to import, the unit (subtree) it is for, and optionally a zip holding the
    scans its 附件 column names."""

    file: UploadFile
    unit: str
    attachments: UploadFile | None = None


@dataclass
class SheetUpload:
    """A sheet to import or match, and the unit (subtree) it is for."""

    file: UploadFile
    unit: str


Multipart = Body(media_type=RequestEncodingType.MULTI_PART)


async def _multipart_guard(request: Request[Any, Any, Any]) -> None:
    # Replaces the app's JSON-only guard on these handlers (litestar uses the `before_request`
    # closest to the handler): an upload is sent as multipart/form-data and nothing else.
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        raise HTTPException(status_code=415, detail="send the upload as multipart/form-data")
    try:
        # parsed here (the request keeps it for the handler's data): a field that is no file and
        # no UTF-8 text (a zip sent without a file name) is the client's error, not a crash
        await request.form()
    except UnicodeDecodeError as error:
        await _close_parsed_files(error.__traceback__)
        raise HTTPException(
            status_code=400, detail="a form field without a file name is not UTF-8 text"
        ) from None


async def _close_parsed_files(trace: TracebackType | None) -> None:
    """Close the files the multipart parser had spooled before it failed on a text field (it
    closes them only on its own errors: litestar/_multipart.py keeps them in `fields`)."""
    while trace is not None:
        for value in trace.tb_frame.f_locals.values():
            items = value.values() if isinstance(value, dict) else [value]
            for item in items:
                for part in item if isinstance(item, list) else [item]:
                    if isinstance(part, UploadFile):
                        await part.close()
        trace = trace.tb_next


def _run_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise NotFound(f"no reconciliation {text}", zh="核对记录不存在") from None


def routes(problems: dict[int, ResponseSpec], settings: Settings | None = None) -> list[Any]:
    """The reconciliation, import and civil-affairs route handlers; the import's body limit
    comes from `settings` (`BANGFU_IMPORT_MAX_BYTES`)."""
    import_max = settings.import_max_bytes if settings is not None else DEFAULT_IMPORT_MAX_BYTES
    responses = {s: spec for s, spec in problems.items() if s in PAPER_PROBLEMS}

    @post(
        f"{API}/reconciliations",
        status_code=201,
        responses=responses,
        before_request=_multipart_guard,
        tags=["reconciliations"],
        summary="台账核对 — reconcile a paper ledger against the electronic files",
        description="Upload the ledger (xlsx, or csv in UTF-8 or GBK, with the ledger's Chinese "
        "headers) as `file`, the subtree as `unit` and the ledger's date as `as_of`. Rows match "
        "files of the subtree by the keyed hash of the head's ID number (or, for a ledger this "
        "system exported, by the masked number and name); each file is compared as its events "
        "had recorded it by the end of `as_of`. Reports rows on paper only, files electronic "
        "only, field and status mismatches, duplicates within the ledger, unreadable rows; the "
        "run is recorded in the caller's unit's reconciliation stream.",
    )
    async def start_reconciliation(
        data: Annotated[LedgerUpload, Multipart],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> Response[dict[str, Any]]:
        upload: LedgerUpload = data
        run = await reconcile.reconcile(
            store=rt.store,
            codec=rt.codec,
            hasher=rt.hasher,
            actor=actor,
            scope=upload.unit,
            ledger_date=iso_day(upload.as_of, "as_of") if upload.as_of else rt.clock.today(),
            data=await upload.file.read(),
            name=upload.file.filename or "ledger",
        )
        return Response(
            reconcile.report_json(run),
            status_code=201,
            headers={"Location": f"{API}/reconciliations/{run.id}"},
        )

    @get(
        f"{API}/reconciliations/{{name:str}}",
        responses=responses,
        tags=["reconciliations"],
        summary="核对报告 — a reconciliation's report, as JSON or (`{id}.xlsx`) as a workbook",
    )
    async def read_reconciliation(
        name: Annotated[str, PathParameter(description="the id, with `.xlsx` for the workbook")],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> Response[Any]:
        run = await reconcile.load_reconciliation(
            rt.store, rt.codec, _run_id(name.removesuffix(".xlsx"))
        )
        run.readable_by(actor)
        if not name.endswith(".xlsx"):
            return Response(reconcile.report_json(run))
        buffer = io.BytesIO()
        await asyncio.to_thread(reconcile.write_xlsx, run, buffer)
        return Response(
            buffer.getvalue(),
            media_type=reconcile.MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="reconciliation-{run.id}.xlsx"'},
        )

    @post(
        f"{API}/imports",
        status_code=201,
        responses=responses,
        before_request=_multipart_guard,
        request_max_body_size=import_max,
        tags=["imports"],
        summary="批量导入 — import existing household files with their history (and scans)",
        description="Upload the files (xlsx or csv) as `file` and the base-level union (or a "
        "subtree, with a 基层工会代码 column) as `unit`. An approver of the district (or above) "
        "imports: each household becomes a file with its application, investigation, appraisal "
        "and approval on their original dates, or nothing; refused rows come back with row, "
        "column and reason. A household with more than one assistance or visit takes more rows "
        "with the same 身份证号码 (each adding one of each). Scans: a 附件 column "
        "(`材料:文件名；…`, the material by its Chinese label) names files in a zip sent as "
        "`attachments` (JPEG, PNG or PDF by their bytes, each within "
        "`BANGFU_ATTACHMENT_MAX_BYTES`, a household's within "
        "`BANGFU_HOUSEHOLD_ATTACHMENTS_MAX_BYTES`); a household and its scans are stored "
        "together or not at all. The body (sheet and zip) may be up to "
        f"{import_max // (1024 * 1024)} MB (`BANGFU_IMPORT_MAX_BYTES`), not the "
        "API's 1 MB. Re-sending the same sheet creates nothing twice.",
    )
    async def import_files(
        data: Annotated[ImportUpload, Multipart],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> dict[str, Any]:
        upload: ImportUpload = data
        report = await importer.import_upload(
            rt,
            actor=actor,
            unit=upload.unit,
            data=await upload.file.read(),
            name=upload.file.filename or "files",
            zipped_scans=upload.attachments.file if upload.attachments is not None else None,
        )
        return report.as_json()

    @post(
        f"{API}/civil-affairs-matches",
        status_code=201,
        responses=responses,
        before_request=_multipart_guard,
        tags=["civil-affairs"],
        summary="民政比对 — match a civil-affairs list against the files of a subtree",
        description="Upload the list (身份证号码, 比对类型: 低保/房产/车辆/工商登记/死亡, 日期) as "
        "`file` and the subtree as `unit`. Every match is recorded in the caller's unit's stream "
        "and refers to its file; the findings a clerk must act on have severity `act`.",
    )
    async def match_civil_affairs(
        data: Annotated[SheetUpload, Multipart],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> dict[str, Any]:
        upload: SheetUpload = data
        run, errors = await civil_affairs.run_matching(
            store=rt.store,
            codec=rt.codec,
            hasher=rt.hasher,
            actor=actor,
            scope=upload.unit,
            data=await upload.file.read(),
            name=upload.file.filename or "list",
        )
        return civil_affairs.report_json(run, errors)

    return [start_reconciliation, read_reconciliation, import_files, match_civil_affairs]
