"""The ledger (台账): filters, sort, pages and the xlsx download, over the API's own queries
(`adapters.http.readmodels.ledger_filter`, `adapters.pg.reads.ledger_page`, the export's writer).

Filters are query parameters as in `GET /api/v1/ledger` (several values each: `status=approved&
status=appraised`), so a link from the statistics or the work list opens a filtered ledger.

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.datastructures import State
from litestar.response import Redirect, Stream, Template

from adapters.http.console.common import CONSOLE, ERRORS, lang_of, query_list, render, signed_in
from adapters.http.readmodels import ledger_filter, ledger_item, ledger_workbook, scope
from adapters.http.schemas import LedgerSort
from adapters.pg import reads
from adapters.runtime.bootstrap import Runtime
from adapters.services.accounts import Session
from domain.errors import InvalidValue
from domain.values import Category, Cause, FileLevel, Status, WorkerKind, label

PAGE = 50
FILTERS: tuple[tuple[str, type[StrEnum], str, str], ...] = (
    ("status", Status, "状态", "Status"),
    ("category", Category, "困难类别", "Category"),
    ("file_level", FileLevel, "档案级别", "File level"),
    ("cause", Cause, "致困原因", "Cause"),
    ("worker_kind", WorkerKind, "职工类别", "Worker kind"),
)
SORTS_ZH = {
    "applied_on": "申请日期",
    "approved_on": "审批日期",
    "head_name": "户主姓名",
    "assistance_total": "帮扶金额",
    "updated_at": "最后更新",
}


def _enum_values(request: Request[Any, Any, Any], name: str, kind: type[StrEnum]) -> list[Any]:
    chosen = []
    for value in query_list(request, name):
        try:
            chosen.append(kind(value))
        except ValueError:
            raise InvalidValue(name, f"no such value {value!r}", zh="筛选条件无效") from None
    return chosen


def _sort(request: Request[Any, Any, Any]) -> LedgerSort:
    try:
        return LedgerSort(request.query_params.get("sort") or LedgerSort.APPLIED_ON.value)
    except ValueError:
        raise InvalidValue("sort", "no such sort", zh="排序方式无效") from None


async def _where(request: Request[Any, Any, Any], state: State, session: Session) -> Any:
    unit = request.query_params.get("unit") or None
    if unit is not None and (not unit.isalnum() or len(unit) > 24):
        raise InvalidValue("unit", "a unit code", zh="单位代码无效")
    root = await scope(session.actor, unit, state.units)
    to_act = request.query_params.get("civil_affairs_to_act")
    q = (request.query_params.get("q") or "")[:64]
    return root, ledger_filter(
        root,
        status=_enum_values(request, "status", Status),
        category=_enum_values(request, "category", Category),
        file_level=_enum_values(request, "file_level", FileLevel),
        cause=_enum_values(request, "cause", Cause),
        worker_kind=_enum_values(request, "worker_kind", WorkerKind),
        q=q or None,
        civil_affairs_to_act={"true": True, "false": False}.get(to_act or ""),
    )


def _query(request: Request[Any, Any, Any], **changes: str | None) -> str:
    """The page's own query with `changes` (None drops a parameter)."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in changes and v]
    pairs += [(k, v) for k, v in changes.items() if v]
    return urlencode(pairs)


@get(f"{CONSOLE}/ledger", include_in_schema=False, exception_handlers=ERRORS)
async def ledger_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    root, where = await _where(request, state, session)
    sort = _sort(request)
    name, descending = sort.value.lstrip("-"), sort.value.startswith("-")
    cursor = request.query_params.get("cursor")
    after = reads.Cursor.decode(cursor[:1024], name) if cursor else None
    rt: Runtime = state.rt
    rows, following = await reads.ledger_page(
        rt.pool, where, sort=name, descending=descending, after=after, limit=PAGE
    )
    english = lang_of(request) == "en"
    filters = [
        (
            field,
            en if english else zh,
            [(m.value, m.value if english else label(m)) for m in kind],
            set(query_list(request, field)),
        )
        for field, kind, zh, en in FILTERS
    ]
    sorts = [
        (
            s.value,
            (s.value.lstrip("-") if english else SORTS_ZH[s.value.lstrip("-")]),
            s.value[0] == "-",
        )
        for s in LedgerSort
    ]
    return render(
        request,
        state,
        "ledger.html",
        session=session,
        root=root.value,
        items=[ledger_item(r) for r in rows],
        filters=filters,
        sorts=sorts,
        sort=sort.value,
        q=request.query_params.get("q") or "",
        unit=request.query_params.get("unit") or "",
        to_act=request.query_params.get("civil_affairs_to_act") or "",
        next_href=f"{CONSOLE}/ledger?{_query(request, cursor=following.encode())}"
        if following
        else "",
        first_href=f"{CONSOLE}/ledger?{_query(request, cursor=None)}" if cursor else "",
        xlsx_href=f"{CONSOLE}/ledger.xlsx?{_query(request, cursor=None)}",
    )


@get(f"{CONSOLE}/ledger.xlsx", include_in_schema=False, exception_handlers=ERRORS)
async def ledger_xlsx(request: Request[Any, Any, Any], state: State) -> Stream | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    root, where = await _where(request, state, session)
    sort = _sort(request)
    return await ledger_workbook(state.rt, root, where, sort)


ROUTES = [ledger_page, ledger_xlsx]
