"""Paper against electronic in the console: upload a paper ledger to reconcile, a sheet of files
to import, or a civil-affairs list to match, and see every row's result — the API's own services
(`adapters.services.reconcile`, `importer`, `civil_affairs`) and their reports, as
`adapters/http/paper.py` answers them in JSON: each row with a finding, a refusal or a match, with
its row number, and the counts.

The upload is a multipart form with the session's CSRF token; the service decides who may
(`domain.authorization`), so a refusal is the refused page, a unit outside the subtree the
not-found one.

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import State, UploadFile
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from adapters.http.console.common import (
    CONSOLE,
    ERRORS,
    Posted,
    lang_of,
    message,
    render,
    signed_in,
    signed_post,
)
from adapters.http.problems import status_of
from adapters.runtime.bootstrap import Runtime
from adapters.runtime.settings import DEFAULT_IMPORT_MAX_BYTES
from adapters.services import civil_affairs, importer, reconcile
from adapters.services.accounts import Session
from domain.errors import DomainError, InvalidValue, NotFound
from domain.values import iso_day

KINDS = {
    "reconciliation": ("台账核对", "Reconcile a paper ledger"),
    "import": ("批量导入", "Import files"),
    "civil-affairs": ("民政比对", "Match a civil-affairs list"),
}
COLUMNS_ZH = {
    "row": "行",
    "column": "列",
    "reason": "原因",
    "kind_zh": "类型",
    "file_id": "档案",
    "field": "字段",
    "paper": "纸质台账",
    "electronic": "电子档案",
    "unit": "单位",
    "role": "身份",
    "record": "比对类型",
    "said_on": "日期",
    "rule": "规则",
    "severity": "程度",
    "text": "说明",
}
SUMMARY_ZH = {
    "rows": "行数",
    "matched": "已匹配",
    "files": "档案数",
    "matches": "命中",
    "created": "新建档案",
    "skipped": "已存在（跳过）",
    "events": "写入事件",
    "scans": "附件（扫描件）",
    "ledger_date": "台账日期",
    "scope": "范围",
}


async def upload_guard(request: Request[Any, Any, Any]) -> None:
    # an upload is a multipart form and nothing else (the console's other forms are urlencoded)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise HTTPException(status_code=415, detail="send the upload as multipart/form-data")


def _tables(report: dict[str, Any], english: bool) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Every list of rows in a report, as (title, columns, rows)."""
    found = []
    for key, value in report.items():
        if not isinstance(value, list) or not value or not isinstance(value[0], dict):
            continue
        keys = [k for k in value[0] if not (k == "kind" and "kind_zh" in value[0])]
        columns = [k if english else COLUMNS_ZH.get(k, k) for k in keys]
        title = key if english else {"findings": "逐行结果", "refused": "未导入的行"}.get(key, key)
        found.append((title, keys + columns, [[item.get(k) for k in keys] for item in value]))
    return found


def _page(
    request: Request[Any, Any, Any],
    state: State,
    session: Session,
    *,
    status: int = 200,
    kind: str = "",
    report: dict[str, Any] | None = None,
    error: str = "",
) -> Template:
    english = lang_of(request) == "en"
    summary = []
    tables = []
    if report is not None:
        summary = [
            (k if english else SUMMARY_ZH[k], v) for k, v in report.items() if k in SUMMARY_ZH
        ]
        for title, keyed, rows in _tables(report, english):
            half = len(keyed) // 2
            keys = keyed[:half]
            tables.append(
                (title, keys, keyed[half:], [list(zip(keys, row, strict=True)) for row in rows])
            )
    return render(
        request,
        state,
        "paper.html",
        status=status,
        session=session,
        csrf=session.csrf,
        kinds=[(k, en if english else zh) for k, (zh, en) in KINDS.items()],
        kind=kind,
        summary=summary,
        tables=tables,
        error=error,
        unit=session.account.unit,
    )


@get(f"{CONSOLE}/paper", include_in_schema=False, exception_handlers=ERRORS)
async def paper_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    return _page(request, state, session)


async def _run(kind: str, rt: Runtime, session: Session, form: Any) -> dict[str, Any]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidValue("file", "choose a file", zh="请选择要上传的表格")
    unit = str(form.get("unit") or "").strip()
    if not (unit.isalnum() and 2 <= len(unit) <= 24):
        raise InvalidValue("unit", "a unit code", zh="请填写单位代码")
    data = await upload.read()
    actor = session.actor
    if kind == "reconciliation":
        as_of = str(form.get("as_of") or "").strip()
        run = await reconcile.reconcile(
            store=rt.store,
            codec=rt.codec,
            hasher=rt.hasher,
            actor=actor,
            scope=unit,
            ledger_date=iso_day(as_of, "as_of") if as_of else rt.clock.today(),
            data=data,
            name=upload.filename,
        )
        return reconcile.report_json(run)
    if kind == "import":
        # the scans the sheet's 附件 column names, in a zip beside it (as `POST /api/v1/imports`)
        scans = form.get("attachments")
        report = await importer.import_upload(
            rt,
            actor=actor,
            unit=unit,
            data=data,
            name=upload.filename,
            zipped_scans=scans.file if isinstance(scans, UploadFile) and scans.filename else None,
        )
        return dict(report.as_json())
    found, errors = await civil_affairs.run_matching(
        store=rt.store,
        codec=rt.codec,
        hasher=rt.hasher,
        actor=actor,
        scope=unit,
        data=data,
        name=upload.filename,
    )
    return civil_affairs.report_json(found, errors)


@post(
    f"{CONSOLE}/paper/{{kind:str}}",
    include_in_schema=False,
    before_request=upload_guard,
    # a sheet and the zip of its scans (routes are built at import time: the default of
    # BANGFU_IMPORT_MAX_BYTES, where the API's route reads the setting)
    request_max_body_size=DEFAULT_IMPORT_MAX_BYTES,
    exception_handlers=ERRORS,
)
async def upload_sheet(
    kind: FromPath[str], request: Request[Any, Any, Any], state: State
) -> Template | Redirect:
    post = await signed_post(request, state)
    if not isinstance(post, Posted):
        return post
    session, form = post.session, post.form
    if kind not in KINDS:
        raise NotFound(f"no upload {kind}", zh="没有这个上传")
    try:
        report = await _run(kind, state.rt, session, form)
    except DomainError as error:
        return _page(
            request,
            state,
            session,
            status=status_of(error),
            kind=kind,
            error=message(request, error),
        )
    return _page(request, state, session, status=201, kind=kind, report=report)


ROUTES = [paper_page, upload_sheet]
