"""The console's door: sign-in, the home page, password change, personal tokens, sign-out.

Server-rendered HTML (Jinja templates in `adapters/http/templates/`, through litestar's template
engine), Chinese by default with an English switch (`?lang=en`, kept in a cookie). No script at
all: every act is a plain form post, under the console's own security headers (`headers.py`:
no inline script, `form-action 'self'`).

- The session cookie (`bangfu_session`) is HttpOnly, SameSite=Lax, Path=/console, Secure when the
  request came over TLS or `BANGFU_COOKIE_SECURE` says so; it holds a random value whose digest
  names a session row in PostgreSQL (`adapters/services/accounts.py`).
- Every form post carries a CSRF token: the session's own once signed in; before sign-in, a
  random value also set in a cookie of its own (`bangfu_csrf`, SameSite=Strict), compared with
  the form's (double submit). A post without the right token is refused with 403 before
  anything is read or written.
- An account an admin created (or reset) reaches nothing but the password change until it has
  changed its password.

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.datastructures import Cookie, State
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from adapters.runtime.limits import RateLimited
from adapters.services.accounts import (
    AccountService,
    PasswordChangeRequired,
    Session,
    SignInRefused,
)
from domain.accounts import ROLE_LABELS
from domain.errors import DomainError

CONSOLE = "/console"
SESSION_COOKIE = "bangfu_session"
CSRF_COOKIE = "bangfu_csrf"
LANG_COOKIE = "bangfu_lang"
HERE = Path(__file__).parent
TEMPLATES = TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)
MAX_FORM = 16 * 1024

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "product": "帮扶 · 困难职工档案",
        "sign_in": "登录",
        "user": "用户名",
        "password": "密码",
        "api_docs": "接口文档",
        "home": "首页",
        "unit": "单位",
        "role": "角色",
        "sign_out": "退出登录",
        "change_password": "修改密码",
        "first_change": "首次登录请先修改管理员设置的初始密码。",
        "current_password": "当前密码",
        "new_password": "新密码",
        "password_rule": "至少10个字符，包含字母、数字、符号中的两类，不含用户名。",
        "tokens": "个人访问令牌",
        "tokens_hint": "用于以本人身份调用接口（Authorization: Bearer …），"
        "有效期最长90天，可随时撤销。",
        "token_once": "新令牌（只显示这一次，请妥善保存）：",
        "label": "名称",
        "created": "签发时间",
        "expires": "到期时间",
        "state": "状态",
        "revoked": "已撤销",
        "expired": "已过期",
        "live": "有效",
        "revoke": "撤销",
        "days": "有效天数",
        "mint": "签发令牌",
        "refused": "请求被拒绝",
        "back": "返回",
        "csrf": "表单已失效，请刷新页面后重试。",
        "wrong": "用户名或密码错误，或账户已停用。",
    },
    "en": {
        "html_lang": "en",
        "product": "bangfu · hardship-worker files",
        "sign_in": "Sign in",
        "user": "User name",
        "password": "Password",
        "api_docs": "API documentation",
        "home": "Home",
        "unit": "Unit",
        "role": "Role",
        "sign_out": "Sign out",
        "change_password": "Change password",
        "first_change": "At first sign-in, replace the password the admin set.",
        "current_password": "Current password",
        "new_password": "New password",
        "password_rule": "At least 10 characters of two kinds (letters, digits, others), "
        "without the user name.",
        "tokens": "Personal API tokens",
        "tokens_hint": "To call the API as yourself (Authorization: Bearer …); at most 90 days, "
        "revocable at any time.",
        "token_once": "New token (shown this once only, keep it safe):",
        "label": "Name",
        "created": "Issued",
        "expires": "Expires",
        "state": "State",
        "revoked": "revoked",
        "expired": "expired",
        "live": "live",
        "revoke": "Revoke",
        "days": "Days",
        "mint": "Mint a token",
        "refused": "Request refused",
        "back": "Back",
        "csrf": "The form has expired: reload the page and try again.",
        "wrong": "The user name or password is wrong, or the account is disabled.",
    },
}


# ------------------------------------------------------------------------------ helpers


def _lang(request: Request[Any, Any, Any]) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return asked if asked in TEXT else "zh"


def _secure(request: Request[Any, Any, Any], state: State) -> bool:
    mode = state.settings.cookie_secure
    if mode in {"on", "off"}:
        return bool(mode == "on")
    return request.url.scheme == "https" or state.settings.hsts_max_age > 0


def _cookies(request: Request[Any, Any, Any], state: State, *more: Cookie) -> list[Cookie]:
    """The cookies to set: `more`, and the language when the query chose one."""
    cookies = list(more)
    if request.query_params.get("lang") in TEXT:
        cookies.append(
            Cookie(
                key=LANG_COOKIE,
                value=_lang(request),
                path=CONSOLE,
                httponly=True,
                samesite="lax",
                secure=_secure(request, state),
                max_age=365 * 86400,
            )
        )
    return cookies


def _session_cookie(request: Request[Any, Any, Any], state: State, value: str) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        path=CONSOLE,
        httponly=True,
        samesite="lax",
        secure=_secure(request, state),
    )


def _ended_cookie(request: Request[Any, Any, Any], state: State) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        path=CONSOLE,
        httponly=True,
        samesite="lax",
        secure=_secure(request, state),
        max_age=0,
        expires=0,
    )


def _page(
    request: Request[Any, Any, Any],
    state: State,
    name: str,
    *,
    status: int = 200,
    cookies: tuple[Cookie, ...] = (),
    **context: Any,
) -> Template:
    lang = _lang(request)
    return Template(
        template_name=name,
        context={"t": TEXT[lang], "lang": lang, **context},
        status_code=status,
        cookies=_cookies(request, state, *cookies),
        media_type="text/html",
    )


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client is not None else ""


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _same(given: str, expected: str) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _refused_csrf(request: Request[Any, Any, Any], state: State) -> Template:
    return _page(request, state, "refused.html", status=403, error=TEXT[_lang(request)]["csrf"])


async def _session(request: Request[Any, Any, Any], state: State) -> Session | None:
    service: AccountService = state.accounts
    return await service.session(request.cookies.get(SESSION_COOKIE, ""))


def _to_sign_in() -> Redirect:
    return Redirect(f"{CONSOLE}/sign-in", status_code=303)


async def _form_guard(request: Request[Any, Any, Any]) -> None:
    # Replaces the API's JSON-only guard on the console's routes (litestar uses the
    # `before_request` closest to the handler): a console post is a plain HTML form.
    if request.method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise HTTPException(status_code=415, detail="send the form as urlencoded")
        if int(request.headers.get("content-length") or 0) > MAX_FORM:
            raise HTTPException(status_code=413, detail="the form is too large")


# ------------------------------------------------------------------------------ routes


@get("/", include_in_schema=False, sync_to_thread=False)
def root() -> Redirect:
    return Redirect(f"{CONSOLE}/", status_code=303)


@get(f"{CONSOLE}/sign-in", include_in_schema=False)
async def sign_in_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    if await _session(request, state) is not None:
        return Redirect(f"{CONSOLE}/", status_code=303)
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    cookie = Cookie(
        key=CSRF_COOKIE,
        value=csrf,
        path=CONSOLE,
        httponly=True,
        samesite="strict",
        secure=_secure(request, state),
    )
    return _page(request, state, "sign_in.html", cookies=(cookie,), csrf=csrf, user="", error="")


@post(f"{CONSOLE}/sign-in", include_in_schema=False, before_request=_form_guard)
async def sign_in(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    form = await _form(request)
    csrf = request.cookies.get(CSRF_COOKIE, "")
    if not _same(form.get("csrf", ""), csrf):
        return _refused_csrf(request, state)
    service: AccountService = state.accounts
    user = form.get("user", "")[:64]
    try:
        session = await service.sign_in(
            user=user, password=form.get("password", "")[:128], address=_address(request)
        )
    except (SignInRefused, RateLimited) as error:
        english = _lang(request) == "en"
        limited = isinstance(error, RateLimited)
        message = (
            (error.message if english else error.zh) if limited else TEXT[_lang(request)]["wrong"]
        )
        page = _page(
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
            _session_cookie(request, state, session.cookie),
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
    return _page(
        request,
        state,
        "home.html",
        status=status,
        account=account,
        unit_name=unit_name,
        role_label=ROLE_LABELS[account.role] if _lang(request) == "zh" else account.role.value,
        csrf=session.csrf,
        tokens=await service.tokens(session),
        now=datetime.now(UTC),
        minted=minted,
        error=error,
    )


@get(f"{CONSOLE}/", include_in_schema=False)
async def home(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await _session(request, state)
    if session is None:
        return _to_sign_in()
    if session.account.must_change:
        return Redirect(f"{CONSOLE}/password", status_code=303)
    return await _home(request, state, session)


@post(f"{CONSOLE}/sign-out", include_in_schema=False, before_request=_form_guard)
async def sign_out(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await _session(request, state)
    if session is None:
        return Redirect(
            f"{CONSOLE}/sign-in", status_code=303, cookies=[_ended_cookie(request, state)]
        )
    form = await _form(request)
    if not _same(form.get("csrf", ""), session.csrf):
        return _refused_csrf(request, state)
    service: AccountService = state.accounts
    await service.sign_out(session, address=_address(request))
    return Redirect(f"{CONSOLE}/sign-in", status_code=303, cookies=[_ended_cookie(request, state)])


@get(f"{CONSOLE}/password", include_in_schema=False)
async def password_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await _session(request, state)
    if session is None:
        return _to_sign_in()
    return _page(
        request,
        state,
        "password.html",
        csrf=session.csrf,
        first=session.account.must_change,
        error="",
    )


@post(f"{CONSOLE}/password", include_in_schema=False, before_request=_form_guard)
async def change_password(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await _session(request, state)
    if session is None:
        return _to_sign_in()
    form = await _form(request)
    if not _same(form.get("csrf", ""), session.csrf):
        return _refused_csrf(request, state)
    service: AccountService = state.accounts
    try:
        await service.change_password(
            session, current=form.get("current", "")[:128], new=form.get("new", "")[:128]
        )
    except DomainError as error:
        return _page(
            request,
            state,
            "password.html",
            status=422,
            csrf=session.csrf,
            first=session.account.must_change,
            error=error.message if _lang(request) == "en" else error.zh,
        )
    return Redirect(f"{CONSOLE}/", status_code=303)


@post(f"{CONSOLE}/tokens", include_in_schema=False, before_request=_form_guard)
async def mint_token(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await _session(request, state)
    if session is None:
        return _to_sign_in()
    form = await _form(request)
    if not _same(form.get("csrf", ""), session.csrf):
        return _refused_csrf(request, state)
    service: AccountService = state.accounts
    try:
        days = int(form.get("days", "30") or 30) if form.get("days", "30").isdigit() else 0
        minted = await service.mint_token(session, label=form.get("label", ""), days=days)
    except PasswordChangeRequired:
        return Redirect(f"{CONSOLE}/password", status_code=303)
    except DomainError as error:
        message = error.message if _lang(request) == "en" else error.zh
        return await _home(request, state, session, status=422, error=message)
    return await _home(request, state, session, status=201, minted=minted.token)


@post(
    f"{CONSOLE}/tokens/{{token_id:uuid}}/revoke",
    include_in_schema=False,
    before_request=_form_guard,
)
async def revoke_token(
    token_id: FromPath[UUID], request: Request[Any, Any, Any], state: State
) -> Template | Redirect:
    session = await _session(request, state)
    if session is None:
        return _to_sign_in()
    form = await _form(request)
    if not _same(form.get("csrf", ""), session.csrf):
        return _refused_csrf(request, state)
    service: AccountService = state.accounts
    try:
        await service.revoke_token(session, token_id)
    except DomainError as error:
        message = error.message if _lang(request) == "en" else error.zh
        return await _home(request, state, session, status=404, error=message)
    return Redirect(f"{CONSOLE}/", status_code=303)


STATIC_PATH = "/static"  # the console's style sheet and the API docs' Redoc (static/README.md)
STATIC = create_static_files_router(
    path=STATIC_PATH,
    directories=[HERE / "static"],
    include_in_schema=False,
    name="static",
)

ROUTES: list[ControllerRouterHandler] = [
    root,
    sign_in_page,
    sign_in,
    home,
    sign_out,
    password_page,
    change_password,
    mint_token,
    revoke_token,
    STATIC,
]
