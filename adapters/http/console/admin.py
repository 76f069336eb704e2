"""Account administration and sync status in the console, over the accounts service
(`adapters/services/accounts.py`) and the sync status the API reads (`adapters.sync.pull`).

- `/console/accounts`: an admin's accounts of its subtree (`?unit=` narrows it), a form to create
  one (its first password shown once, to be changed at first sign-in), and per account: disable,
  re-enable, reset the password (a new temporary one, shown once). An account outside the admin's
  subtree is the not-found page, as over the API.
- `/console/sync`: per downstream node, the cursor, events received and behind, the last
  success and error (admins and inspectors, as `GET /api/v1/sync/status`).

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

from typing import Any
from uuid import UUID

from litestar import Request, get, post
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
from adapters.runtime.bootstrap import Runtime
from adapters.services.accounts import AccountService, Session
from adapters.sync.node import epoch
from adapters.sync.pull import status
from domain.authorization import Act, authorise
from domain.errors import DomainError, InvalidValue, NotFound
from domain.values import Role, label

CHANGES = ("disable", "enable", "reset")


async def _accounts_page(
    request: Request[Any, Any, Any],
    state: State,
    session: Session,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    error: str = "",
    shown_password: tuple[str, str] | None = None,
) -> Template:
    service: AccountService = state.accounts
    unit = request.query_params.get("unit") or None
    if unit is not None and (not unit.isalnum() or len(unit) > 24):
        raise InvalidValue("unit", "a unit code", zh="单位代码无效")
    accounts = await service.list(session.actor, unit)
    english = lang_of(request) == "en"
    return render(
        request,
        state,
        "accounts.html",
        status=status_code,
        session=session,
        csrf=session.csrf,
        accounts=accounts,
        roles=[(r.value, r.value if english else label(r)) for r in Role],
        role_labels={r.value: r.value if english else label(r) for r in Role},
        values=values or {"unit": session.account.unit, "role": "clerk"},
        error=error,
        shown_password=shown_password,
    )


@get(f"{CONSOLE}/accounts", include_in_schema=False, exception_handlers=ERRORS)
async def accounts_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    return await _accounts_page(request, state, session)


@post(
    f"{CONSOLE}/accounts",
    include_in_schema=False,
    before_request=form_guard,
    exception_handlers=ERRORS,
)
async def create_account(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    post = await signed_post(request, state)
    if not isinstance(post, Posted):
        return post
    session, fields = post.session, post.fields
    values = {k: (v[0] if v else "").strip() for k, v in fields.items() if k != "csrf"}
    service: AccountService = state.accounts
    try:
        try:
            role = Role(values.get("role", ""))
        except ValueError:
            raise InvalidValue("role", "choose a role", zh="请选择角色") from None
        account, password = await service.create(
            session.actor,
            user=values.get("user", "")[:64],
            unit=values.get("unit", "")[:12],
            role=role,
            display_name=values.get("display_name", "")[:64],
        )
    except DomainError as error:
        return await _accounts_page(
            request,
            state,
            session,
            status_code=status_of(error),
            values=values,
            error=message(request, error),
        )
    return await _accounts_page(
        request, state, session, status_code=201, shown_password=(account.name, password)
    )


@post(
    f"{CONSOLE}/accounts/{{account_id:uuid}}/{{change:str}}",
    include_in_schema=False,
    before_request=form_guard,
    exception_handlers=ERRORS,
)
async def change_account(
    account_id: FromPath[UUID], change: FromPath[str], request: Request[Any, Any, Any], state: State
) -> Template | Redirect:
    post = await signed_post(request, state)
    if not isinstance(post, Posted):
        return post
    session = post.session
    service: AccountService = state.accounts
    account = await service.get(session.actor, account_id)  # outside the subtree: not found
    if change not in CHANGES:
        raise NotFound(f"no change {change}", zh="没有这个操作")
    try:
        if change == "reset":
            account, password = await service.reset_password(session.actor, account_id)
            return await _accounts_page(
                request, state, session, shown_password=(account.name, password)
            )
        await service.change(session.actor, account_id, disabled=change == "disable")
    except DomainError as error:
        return await _accounts_page(
            request, state, session, status_code=status_of(error), error=message(request, error)
        )
    return Redirect(f"{CONSOLE}/accounts?unit={account.unit}", status_code=303)


@get(f"{CONSOLE}/sync", include_in_schema=False, exception_handlers=ERRORS)
async def sync_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    authorise(session.actor, Act.READ_SYNC_STATUS)
    rt: Runtime = state.rt
    node = state.node
    return render(
        request,
        state,
        "sync.html",
        session=session,
        node=node.code,
        epoch=await epoch(rt.pool),
        downstreams=await status(rt.pool, node.downstreams),
    )


ROUTES = [accounts_page, create_account, change_account, sync_page]
