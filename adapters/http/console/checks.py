"""Spot-checks (抽查) in the console: start one over a subtree, read its findings, download its
workbook — the API's own service and report (`adapters.services.spotcheck`,
`adapters.http.spotchecks.spot_check_out`, `adapters.sheets.spotcheck_report`), scoped the same
way (a spot-check of a unit outside the account's reach is the not-found page).

A check of up to `WAIT_FOR` files runs while the page waits, as `POST /api/v1/spot-checks` does;
a larger one (or one asked to run in the background) runs as a background job
(`adapters/services/jobs.py`, as `POST /api/v1/spot-check-jobs`): its page shows how many files
are checked so far, reloading itself every two seconds (a `refresh` meta element: no script),
and leads to the report once done.

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

import asyncio
import io
from datetime import date
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath
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
from adapters.http.problems import status_of
from adapters.http.spotchecks import spot_check_out
from adapters.pg.jobs import PgJobs
from adapters.runtime.bootstrap import Runtime
from adapters.services import jobs
from adapters.services.accounts import Session
from adapters.services.spotcheck import Request as CheckRequest
from adapters.services.spotcheck import load_spot_check, run_spot_check
from adapters.sheets import spotcheck_report as report
from domain.errors import DomainError, InvalidValue
from domain.spotcheck import Strata

WAIT_FOR = 100  # files a page waits for; more run as a background job


def _int(values: dict[str, list[str]], name: str, zh: str) -> int | None:
    raw = (values.get(name) or [""])[0].strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        raise InvalidValue(name, "a whole number", zh=f"{zh}应为整数")
    return int(raw)


def _start_page(
    request: Request[Any, Any, Any],
    state: State,
    session: Session,
    *,
    status: int = 200,
    values: dict[str, list[str]] | None = None,
    error: str = "",
) -> Template:
    shown = values or {"unit": [session.account.unit], "sample": ["20"], "seed": ["1"]}
    return render(
        request,
        state,
        "spot_checks.html",
        status=status,
        session=session,
        csrf=session.csrf,
        values={k: (v[0] if v else "") for k, v in shown.items()},
        error=error,
    )


@get(f"{CONSOLE}/spot-checks", include_in_schema=False, exception_handlers=ERRORS)
async def spot_checks_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    return _start_page(request, state, session)


@post(
    f"{CONSOLE}/spot-checks",
    include_in_schema=False,
    before_request=form_guard,
    exception_handlers=ERRORS,
)
async def start_spot_check(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    post = await signed_post(request, state)
    if not isinstance(post, Posted):
        return post
    session, values = post.session, post.fields
    rt: Runtime = state.rt
    try:
        unit = (values.get("unit") or [""])[0].strip()
        if not (unit.isalnum() and 2 <= len(unit) <= 24):
            raise InvalidValue("unit", "a unit code", zh="请填写单位代码")
        raw_day = (values.get("as_of") or [""])[0].strip()
        try:
            as_of = date.fromisoformat(raw_day) if raw_day else rt.clock.today()
        except ValueError:
            raise InvalidValue("as_of", "a day", zh="日期格式应为 2026-11-21") from None
        sample = _int(values, "sample", "抽样数量")
        asked = CheckRequest(
            scope=unit,
            as_of=as_of,
            seed=_int(values, "seed", "抽样种子") or 0,
            sample=sample,
            fraction=None,
            strata=Strata(),
        )
        if values.get("background") or (sample or 0) > WAIT_FOR:
            job = await jobs.start_spot_check(
                jobs=PgJobs(rt.pool),
                store=rt.store,
                codec=rt.codec,
                actor=session.actor,
                request=asked,
            )
            return Redirect(f"{CONSOLE}/jobs/{job.id}", status_code=303)
        check = await run_spot_check(
            store=rt.store, codec=rt.codec, actor=session.actor, request=asked
        )
    except DomainError as error:
        return _start_page(
            request,
            state,
            session,
            status=status_of(error),
            values=values,
            error=message(request, error),
        )
    return Redirect(f"{CONSOLE}/spot-checks/{check.id}", status_code=303)


async def _check(state: State, session: Session, check_id: UUID) -> Any:
    rt: Runtime = state.rt
    check = await load_spot_check(rt.store, rt.codec, check_id)
    check.readable_by(session.actor)
    return check, await report.unit_names(rt.pool, report.units_of(check))


@get(f"{CONSOLE}/spot-checks/{{check_id:uuid}}", include_in_schema=False, exception_handlers=ERRORS)
async def spot_check_page(
    check_id: FromPath[UUID], request: Request[Any, Any, Any], state: State
) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    check, names = await _check(state, session, check_id)
    return render(
        request,
        state,
        "spot_check.html",
        session=session,
        check=spot_check_out(check, names),
        english=lang_of(request) == "en",
    )


@get(
    f"{CONSOLE}/spot-checks/{{check_id:uuid}}/xlsx",
    include_in_schema=False,
    exception_handlers=ERRORS,
)
async def spot_check_xlsx(
    check_id: FromPath[UUID], request: Request[Any, Any, Any], state: State
) -> Response[bytes] | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    check, names = await _check(state, session, check_id)
    buffer = io.BytesIO()
    await asyncio.to_thread(report.write_xlsx, check, buffer, names=names)
    return Response(
        buffer.getvalue(),
        media_type=report.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="spot-check-{check.id}.xlsx"'},
    )


@get(f"{CONSOLE}/jobs/{{job_id:uuid}}", include_in_schema=False, exception_handlers=ERRORS)
async def job_page(
    job_id: FromPath[UUID], request: Request[Any, Any, Any], state: State
) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    rt: Runtime = state.rt
    job = await jobs.read(PgJobs(rt.pool), session.actor, job_id)
    if job.state == "done" and job.result is not None:
        return Redirect(f"{CONSOLE}/spot-checks/{job.result}", status_code=303)
    return render(request, state, "job.html", session=session, job=job)


ROUTES = [spot_checks_page, start_spot_check, spot_check_page, spot_check_xlsx, job_page]
