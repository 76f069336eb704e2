"""Accounts over the API: an admin lists, creates, changes, disables, re-enables and resets the
accounts of its subtree, and reads each account's trail.

    GET   /api/v1/users?unit=CODE                 the accounts of a subtree (default: the admin's)
    POST  /api/v1/users                           create; answers the first password, once
    GET   /api/v1/users/{user_id}                 one account
    PATCH /api/v1/users/{user_id}                 change its role, disable or re-enable it
    POST  /api/v1/users/{user_id}/password-reset  a new temporary password, once
    GET   /api/v1/users/{user_id}/events          who changed the account, when, from where

The rules are `domain/accounts.py`: only an admin (403 `role`), only accounts of its subtree
(any other is 404, as one that does not exist), never a role above its own (403
`role_above_own`), never its own role nor its own account's disabling (403 `own_account`).
Passwords never appear in a response but in the two that set one, and never in a log.

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery

from adapters.http.auth import Unauthorized
from adapters.pg.accounts import Account, EventRow
from adapters.runtime.limits import Limits
from adapters.services.accounts import AccountService
from domain.accounts import EVENT_LABELS, NAME_PATTERN, ROLE_LABELS
from domain.values import Actor, Role

API = "/api/v1"
USER_PROBLEMS = {400, 401, 403, 404, 413, 415, 422, 429, 503}


class AccountIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new account of a unit in the admin's subtree."""

    user: Annotated[
        str, msgspec.Meta(pattern=NAME_PATTERN, max_length=64, examples=["clerk-zhang"])
    ]
    unit: Annotated[str, msgspec.Meta(max_length=12, examples=["130306001"])]
    role: Role
    display_name: Annotated[str, msgspec.Meta(max_length=50, examples=["张敏"])] = ""


class AccountChangeIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new role, and/or `disabled: true` to disable (its sessions end) or false to re-enable."""

    role: Role | None = None
    disabled: bool | None = None


class PasswordResetIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, msgspec.Meta(max_length=200, examples=["忘记密码"])] = ""


class AccountOut(msgspec.Struct, kw_only=True):
    id: UUID
    user: str
    display_name: str
    unit: str
    role: str
    role_label: str
    disabled: bool
    must_change_password: bool
    created_at: datetime
    updated_at: datetime


class AccountWithPasswordOut(msgspec.Struct, kw_only=True):
    account: AccountOut
    password: str  # shown once: hand it to the user, who changes it at first sign-in


class AccountEventOut(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    kind_label: str
    by_user: str
    by_unit: str
    address: str
    detail: dict[str, Any]
    at: datetime


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        user=account.name,
        display_name=account.display_name,
        unit=account.unit,
        role=account.role.value,
        role_label=ROLE_LABELS[account.role],
        disabled=not account.enabled,
        must_change_password=account.must_change,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def _event_out(event: EventRow) -> AccountEventOut:
    return AccountEventOut(
        id=event.id,
        kind=event.kind.value,
        kind_label=EVENT_LABELS[event.kind],
        by_user=event.by_user,
        by_unit=event.by_unit,
        address=event.address,
        detail=event.detail,
        at=event.at,
    )


def _body(example: dict[str, Any]) -> Any:
    """A JSON body's description for the API document, with its example."""
    return Body(
        media_type=RequestEncodingType.JSON,
        examples=[Example(summary="example", value=example)],
    )


# to mypy each body is its struct; the description is for the API document only
NewAccount = Annotated[
    AccountIn, _body({"user": "clerk-zhang", "unit": "130306001", "role": "clerk"})
]
AccountChange = Annotated[AccountChangeIn, _body({"role": "approver"})]
PasswordReset = Annotated[PasswordResetIn, _body({"reason": "忘记密码"})]


def routes(problems: dict[int, ResponseSpec]) -> list[Any]:
    """The account routes, documenting those of the API's `problems` they can answer with."""
    responses = {status: spec for status, spec in problems.items() if status in USER_PROBLEMS}
    tags = ["users"]

    @get(
        f"{API}/users",
        responses=responses,
        tags=tags,
        summary="账户列表 — the accounts of a subtree (admin)",
    )
    async def list_accounts(
        actor: NamedDependency[Actor], state: State, unit: FromQuery[str | None] = None
    ) -> list[AccountOut]:
        service: AccountService = state.accounts
        return [account_out(a) for a in await service.list(actor, unit)]

    @post(
        f"{API}/users",
        status_code=201,
        responses=responses,
        tags=tags,
        summary="新建账户 — create an account of a unit in your subtree (admin)",
        description="Answers the first password once; the user changes it at first sign-in.",
    )
    async def create_account(
        data: NewAccount, actor: NamedDependency[Actor], state: State
    ) -> Response[AccountWithPasswordOut]:
        service: AccountService = state.accounts
        account, password = await service.create(
            actor, user=data.user, unit=data.unit, role=data.role, display_name=data.display_name
        )
        body = AccountWithPasswordOut(account=account_out(account), password=password)
        return Response(body, status_code=201)

    @get(
        f"{API}/users/{{user_id:uuid}}",
        responses=responses,
        tags=tags,
        summary="账户 — one account (admin)",
    )
    async def read_account(
        user_id: FromPath[UUID], actor: NamedDependency[Actor], state: State
    ) -> AccountOut:
        service: AccountService = state.accounts
        return account_out(await service.get(actor, user_id))

    @patch(
        f"{API}/users/{{user_id:uuid}}",
        responses=responses,
        tags=tags,
        summary="变更账户 — change its role, disable or re-enable it (admin)",
        description="Disabling ends the account's sessions at once and refuses its personal "
        "tokens; re-enabling lets it sign in again.",
    )
    async def change_account(
        user_id: FromPath[UUID], data: AccountChange, actor: NamedDependency[Actor], state: State
    ) -> AccountOut:
        service: AccountService = state.accounts
        changed = await service.change(actor, user_id, role=data.role, disabled=data.disabled)
        return account_out(changed)

    @post(
        f"{API}/users/{{user_id:uuid}}/password-reset",
        status_code=200,
        responses=responses,
        tags=tags,
        summary="重置密码 — a new temporary password (admin)",
        description="Answers the new password once; the account's sessions end, its personal "
        "tokens are revoked, and the user changes the password at next sign-in.",
    )
    async def reset_password(
        user_id: FromPath[UUID], data: PasswordReset, actor: NamedDependency[Actor], state: State
    ) -> AccountWithPasswordOut:
        service: AccountService = state.accounts
        account, password = await service.reset_password(actor, user_id, reason=data.reason)
        return AccountWithPasswordOut(account=account_out(account), password=password)

    @get(
        f"{API}/users/{{user_id:uuid}}/events",
        responses=responses,
        tags=tags,
        summary="账户记录 — every change of an account, who did it and when (admin)",
    )
    async def account_events(
        user_id: FromPath[UUID], actor: NamedDependency[Actor], state: State
    ) -> list[AccountEventOut]:
        service: AccountService = state.accounts
        return [_event_out(e) for e in await service.events(actor, user_id)]

    return [
        list_accounts,
        create_account,
        read_account,
        change_account,
        reset_password,
        account_events,
    ]


async def personal_actor(state: State, authorization: str, client: str) -> Actor:
    """The actor of a personal API token (`Authorization: Bearer bfp_…`): its account's user,
    unit and role while the token is live and the account enabled; 401 otherwise, counted
    against the client's failed authentications like a bad JWT (429 past the limit)."""
    limits: Limits = state.limits
    limits.failed_auth.check_not_exhausted(client)
    scheme, _, token = authorization.partition(" ")
    service: AccountService = state.accounts
    actor = await service.token_actor(token.strip()) if scheme.lower() == "bearer" else None
    if actor is None:
        limits.failed_auth.take(client)
        raise Unauthorized("the token is not valid", zh="令牌无效")
    return actor
