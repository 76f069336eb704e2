"""Printed forms of a unit and the verification of a printed page, in the console.

- the unit's forms (publicity list, ledger) for a period, as the API's `GET
  /units/{code}/forms/{form}` prints them (`services.forms.print_unit`): a purpose is required
  and one print is recorded on each printed file's trail; a unit outside the subtree is the
  not-found page, as a unit that does not exist;
- a short code typed from a page (`services.forms.verify`, as `POST /forms/verification`): does
  the paper match the electronic file at the printed version, and which events came after it.

A household's own forms are printed from its file page (`files.py`).

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

import re
from datetime import UTC
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template

from adapters.http.console.common import (
    CONSOLE,
    ERRORS,
    Posted,
    form_guard,
    lang_of,
    message,
    render,
    signed_in,
    signed_post,
)
from adapters.http.console.files import _event_label, pdf_response
from adapters.runtime.bootstrap import Runtime
from adapters.runtime.limits import principal
from adapters.services import forms as printing
from adapters.services.accounts import Session
from domain.errors import DomainError, InvalidValue, NotFound, OutOfScope
from domain.printing import FORM_TITLES, UnitForm

PERIOD = re.compile(r"^\d{4}(-Q[1-4]|-\d{2})?$")
NO_PRINT = ("no print with this code within your unit", "未找到该核验码对应的打印记录")


def _page(
    request: Request[Any, Any, Any],
    state: State,
    session: Session,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    checked: dict[str, Any] | None = None,
) -> Template:
    english = lang_of(request) == "en"
    rt: Runtime = state.rt
    shown = {
        "unit": request.query_params.get("unit") or session.account.unit,
        "period": request.query_params.get("period") or str(rt.clock.today().year),
        **(values or {}),
    }
    return render(
        request,
        state,
        "forms.html",
        status=status,
        here=f"{CONSOLE}/forms" if request.method != "GET" else None,
        session=session,
        csrf=session.csrf,
        unit_forms=[(f.value, f.value if english else FORM_TITLES[f.value]) for f in UnitForm],
        values=shown,
        errors=errors or {},
        checked=checked,
    )


@get(f"{CONSOLE}/forms", include_in_schema=False, exception_handlers=ERRORS)
async def forms_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    return _page(request, state, session)


@post(
    f"{CONSOLE}/forms/unit",
    status_code=200,
    include_in_schema=False,
    before_request=form_guard,
    exception_handlers=ERRORS,
)
async def print_unit_form(
    request: Request[Any, Any, Any], state: State
) -> Template | Redirect | Response[bytes]:
    post = await signed_post(request, state)
    if not isinstance(post, Posted):
        return post
    session, values = post.session, post.values
    english = lang_of(request) == "en"
    kept = {k: values.get(k, "").strip() for k in ("unit", "form", "period", "purpose")}
    errors: dict[str, str] = {}
    if not (kept["unit"].isdigit() and len(kept["unit"]) <= 12):
        errors["unit"] = "a unit code" if english else "请填写单位代码"
    if kept["form"] not in {f.value for f in UnitForm}:
        errors["form"] = "choose one of the list" if english else "请从列表中选择"
    if not PERIOD.match(kept["period"]):
        errors["period"] = (
            "a year, a quarter or a month: 2026, 2026-Q2, 2026-05"
            if english
            else "期间应为年份、季度或月份，如 2026、2026-Q2、2026-05"
        )
    if errors:
        return _page(request, state, session, status=422, values=kept, errors=errors)
    rt: Runtime = state.rt
    actor = session.actor
    try:
        printed = await printing.print_unit(
            rt,
            state.form_key,
            actor=actor,
            unit=kept["unit"],
            form=UnitForm(kept["form"]),
            period=kept["period"],
            purpose=kept["purpose"],
            admit=lambda: state.limits.printing.check(principal(actor.user, actor.unit)),
        )
    except InvalidValue as error:
        where = error.field if error.field in {"purpose", "period", "unit"} else ""
        errors = {where or "": message(request, error)}
        return _page(request, state, session, status=422, values=kept, errors=errors)
    return pdf_response(printed, f"{kept['form']}-{kept['unit']}-{kept['period']}")


@post(
    f"{CONSOLE}/forms/verification",
    status_code=200,
    include_in_schema=False,
    before_request=form_guard,
    exception_handlers=ERRORS,
)
async def verify_form(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    post = await signed_post(request, state)
    if not isinstance(post, Posted):
        return post
    session, values = post.session, post.values
    code = values.get("code", "").strip()
    english = lang_of(request) == "en"
    try:
        checked = await printing.verify(state.rt, actor=session.actor, code=code)
    except (NotFound, OutOfScope):
        # a print of a unit outside the subtree reads as a code no print has
        error = NO_PRINT[0] if english else NO_PRINT[1]
        return _page(
            request, state, session, status=404, values={"code": code}, errors={"code": error}
        )
    except DomainError as error:
        errors = {"code": message(request, error)}
        status = 422
        return _page(request, state, session, status=status, values={"code": code}, errors=errors)
    title = checked.form if english else FORM_TITLES.get(checked.form, checked.form)
    result = {
        "code": checked.code,
        "form": title,
        "unit": checked.unit,
        "period": checked.period,
        "printed_by": checked.printed_by,
        "printed_on": checked.printed_on,
        "purpose": checked.purpose,
        "matches": checked.matches,
        "changed_since": checked.changed_since,
        "files": [
            {
                "file_id": str(f.file_id),
                "version": f.version,
                "current_version": f.current_version,
                "matches": f.matches,
                "changes": [
                    {
                        "version": c.version,
                        "label": _event_label(c.type, english),
                        "at": c.recorded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    }
                    for c in f.changes
                ],
            }
            for f in checked.files
        ],
    }
    return _page(request, state, session, values={"code": code}, checked=result)


ROUTES = [forms_page, print_unit_form, verify_form]
