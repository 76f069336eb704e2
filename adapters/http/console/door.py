"""The console's door: sign-in, the home page (with the work list of `work.py`), password change,
personal tokens, sign-out. The cookies, CSRF and headers are described in `common.py`.

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

import secrets
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.datastructures import Cookie, State
from litestar.params import FromPath
from litestar.response import Redirect, Template

from adapters.http.console import work
from adapters.http.console.common import (
    CONSOLE,
    CSRF_COOKIE,
    TEXT,
    address_of,
    current_session,
    ended_cookie,
    form_guard,
    lang_of,
    read_form,
    refused_csrf,
    render,
    same,
    secure,
    session_cookie,
    to_sign_in,
)
from adapters.runtime.limits import RateLimited
from adapters.services.accounts import (
    AccountService,
    PasswordChangeRequired,
    Session,
    SignInRefused,
)
from domain.accounts import ROLE_LABELS
from domain.errors import DomainError

# ------------------------------------------------------------------------------ routes


@get("/", include_in_schema=False, sync_to_thread=False)
def root() -> Redirect:
    return Redirect(f"{CONSOLE}/", status_code=303)


@get(f"{CONSOLE}/sign-in", include_in_schema=False)
async def sign_in_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    if await current_session(request, state) is not None:
        return Redirect(f"{CONSOLE}/", status_code=303)
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    cookie = Cookie(
        key=CSRF_COOKIE,
        value=csrf,
        path=CONSOLE,
        httponly=True,
        samesite="strict",
        secure=secure(request, state),
    )
    return render(request, state, "sign_in.html", cookies=(cookie,), csrf=csrf, user="", error="")


@post(f"{CONSOLE}/sign-in", include_in_schema=False, before_request=form_guard)
async def sign_in(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    form = await read_form(request)
    csrf = request.cookies.get(CSRF_COOKIE, "")
    if not same(form.get("csrf", ""), csrf):
        return refused_csrf(request, state)
    service: AccountService = state.accounts
    user = form.get("user", "")[:64]
    try:
        session = await service.sign_in(
            user=user, password=form.get("password", "")[:128], address=address_of(request)
        )
    except (SignInRefused, RateLimited) as error:
        english = lang_of(request) == "en"
        limited = isinstance(error, RateLimited)
        message = (
            (error.message if english else error.zh) if limited else TEXT[lang_of(request)]["wrong"]
        )
        page = render(
            request,
            state,
            "sign_in.html",
            status=429 if limited else 401,
            csrf=csrf,
            user=user,
            error=message,
        )
        if isinstance(error, RateLimited):
            page.headers["Retry-After"] = str(error.retry_after)
        return page
    target = f"{CONSOLE}/password" if session.account.must_change else f"{CONSOLE}/"
    return Redirect(
        target,
        status_code=303,
        cookies=[
            session_cookie(request, state, session.cookie),
            Cookie(key=CSRF_COOKIE, value="", path=CONSOLE, max_age=0, expires=0),
        ],
    )


async def _home(
    request: Request[Any, Any, Any],
    state: State,
    session: Session,
    *,
    status: int = 200,
    minted: str = "",
    error: str = "",
) -> Template:
    service: AccountService = state.accounts
    account = session.account
    unit_name = ""
    if await state.units.exists(account.unit):
        unit_name = (await state.units.get(account.unit)).name
    return render(
        request,
        state,
        "home.html",
        status=status,
        account=account,
        unit_name=unit_name,
        role_label=ROLE_LABELS[account.role] if lang_of(request) == "zh" else account.role.value,
        csrf=session.csrf,
        tokens=await service.tokens(session),
        session=session,
        work=await work.lines(request, state, session),
        now=datetime.now(UTC),
        minted=minted,
        error=error,
    )


@get(f"{CONSOLE}/", include_in_schema=False)
async def home(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await current_session(request, state)
    if session is None:
        return to_sign_in()
    if session.account.must_change:
        return Redirect(f"{CONSOLE}/password", status_code=303)
    return await _home(request, state, session)


@post(f"{CONSOLE}/sign-out", include_in_schema=False, before_request=form_guard)
async def sign_out(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await current_session(request, state)
    if session is None:
        return Redirect(
            f"{CONSOLE}/sign-in", status_code=303, cookies=[ended_cookie(request, state)]
        )
    form = await read_form(request)
    if not same(form.get("csrf", ""), session.csrf):
        return refused_csrf(request, state)
    service: AccountService = state.accounts
    await service.sign_out(session, address=address_of(request))
    return Redirect(f"{CONSOLE}/sign-in", status_code=303, cookies=[ended_cookie(request, state)])


@get(f"{CONSOLE}/password", include_in_schema=False)
async def password_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await current_session(request, state)
    if session is None:
        return to_sign_in()
    return render(
        request,
        state,
        "password.html",
        csrf=session.csrf,
        first=session.account.must_change,
        error="",
    )


@post(f"{CONSOLE}/password", include_in_schema=False, before_request=form_guard)
async def change_password(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await current_session(request, state)
    if session is None:
        return to_sign_in()
    form = await read_form(request)
    if not same(form.get("csrf", ""), session.csrf):
        return refused_csrf(request, state)
    service: AccountService = state.accounts
    try:
        await service.change_password(
            session, current=form.get("current", "")[:128], new=form.get("new", "")[:128]
        )
    except DomainError as error:
        return render(
            request,
            state,
            "password.html",
            status=422,
            csrf=session.csrf,
            first=session.account.must_change,
            error=error.message if lang_of(request) == "en" else error.zh,
        )
    return Redirect(f"{CONSOLE}/", status_code=303)


@post(f"{CONSOLE}/tokens", include_in_schema=False, before_request=form_guard)
async def mint_token(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await current_session(request, state)
    if session is None:
        return to_sign_in()
    form = await read_form(request)
    if not same(form.get("csrf", ""), session.csrf):
        return refused_csrf(request, state)
    service: AccountService = state.accounts
    try:
        days = int(form.get("days", "30") or 30) if form.get("days", "30").isdigit() else 0
        minted = await service.mint_token(session, label=form.get("label", ""), days=days)
    except PasswordChangeRequired:
        return Redirect(f"{CONSOLE}/password", status_code=303)
    except DomainError as error:
        message = error.message if lang_of(request) == "en" else error.zh
        return await _home(request, state, session, status=422, error=message)
    return await _home(request, state, session, status=201, minted=minted.token)


@post(
    f"{CONSOLE}/tokens/{{token_id:uuid}}/revoke",
    include_in_schema=False,
    before_request=form_guard,
)
async def revoke_token(
    token_id: FromPath[UUID], request: Request[Any, Any, Any], state: State
) -> Template | Redirect:
    session = await current_session(request, state)
    if session is None:
        return to_sign_in()
    form = await read_form(request)
    if not same(form.get("csrf", ""), session.csrf):
        return refused_csrf(request, state)
    service: AccountService = state.accounts
    try:
        await service.revoke_token(session, token_id)
    except DomainError as error:
        message = error.message if lang_of(request) == "en" else error.zh
        return await _home(request, state, session, status=404, error=message)
    return Redirect(f"{CONSOLE}/", status_code=303)


ROUTES = [
    root,
    sign_in_page,
    sign_in,
    home,
    sign_out,
    password_page,
    change_password,
    mint_token,
    revoke_token,
]
