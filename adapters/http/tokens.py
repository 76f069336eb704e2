"""Minting tokens over HTTP: an admin issues a bearer token to a user of a unit in its subtree.

What a deployment needs beside `bangfu token` (which needs the signing secret on the server's own
disk): an admin hands out tokens without shell access. The bounds are those of the CLI — a role,
a unit code, a lifetime up to 30 days — plus three of its own:

- the unit lies in the admin's subtree (elsewhere: 404, as for any unit outside it) and is
  registered (422 `unit_exists`);
- the token never outlives the admin's own: `expires_at` is the earlier of now + `ttl_seconds`
  and the expiry of the token that asked, so a stolen admin token cannot mint a longer-lived one;
- each admin mints at most `BANGFU_MINTS_PER_MINUTE` tokens a minute (429 with `Retry-After`).

Every token minted is written to the log as `token.minted` with who minted it, for whom, and the
token's id (`jti`); the token itself is never logged.

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handler's types.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import uuid4

import structlog
from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body

from adapters.http.auth import Tokens
from adapters.http.schemas import EXAMPLES, TokenIn, TokenOut
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.limits import Limits, principal
from adapters.services.accounts import TOKEN_PREFIX, AccountService
from domain.authorization import Act, authorise
from domain.errors import RuleViolated
from domain.units import UnitCode
from domain.values import Actor

log = structlog.get_logger("bangfu.http")

API = "/api/v1"
TOKEN_PROBLEMS = {400, 401, 403, 404, 413, 415, 422, 429}

TokenBody = Annotated[
    TokenIn,
    Body(
        media_type=RequestEncodingType.JSON,
        examples=[Example(summary="example", value=EXAMPLES[TokenIn])],
    ),
]


def routes(problems: dict[int, ResponseSpec]) -> list[Any]:
    """The token route, documenting those of the API's `problems` it can answer with."""
    responses = {status: spec for status, spec in problems.items() if status in TOKEN_PROBLEMS}

    @post(
        f"{API}/tokens",
        status_code=201,
        responses=responses,
        tags=["tokens"],
        summary="签发令牌 — mint a token for a user of a unit in your subtree (admin)",
        description="An admin mints a bearer token for `user` of `unit` (within the admin's "
        "subtree, registered) with `role`, living `ttl_seconds` (at most 30 days) but never "
        "beyond the admin's own token. Limited per admin (429 with `Retry-After`); every token "
        "minted is logged with its id, never the token.",
    )
    async def mint_token(
        data: TokenBody,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        units: NamedDependency[PgUnitDirectory],
        state: State,
    ) -> Response[TokenOut]:
        # an admin (else 403), for a valid code (else 422) within its subtree (else 404)
        authorise(actor, Act.MINT_TOKEN, data.unit)
        unit = UnitCode(data.unit).value
        if not await units.exists(unit):
            raise RuleViolated(
                "unit_exists",
                f"unit {unit} is not registered",
                zh=f"单位{unit}不存在",
                field="unit",
            )
        tokens: Tokens = state.tokens
        limits: Limits = state.limits
        limits.minting.check(principal(actor.user, actor.unit))

        now = datetime.now(UTC)
        own_token = request.headers.get("authorization", "").partition(" ")[2].strip()
        if own_token.startswith(TOKEN_PREFIX):  # a personal token (`adapters.services.accounts`)
            accounts: AccountService = state.accounts
            own_expiry = await accounts.token_expires_at(own_token) or now
        else:
            own_expiry = datetime.fromtimestamp(tokens.expires_at(own_token), UTC)
        expires_at = min(now + timedelta(seconds=data.ttl_seconds), own_expiry)
        token_id = uuid4().hex
        token = tokens.mint(
            user=data.user,
            unit=unit,
            role=data.role,
            ttl=expires_at - now,
            now=now,
            token_id=token_id,
        )
        log.info(
            "token.minted",
            token_id=token_id,
            by_user=actor.user,
            by_unit=actor.unit,
            user=data.user,
            unit=unit,
            role=data.role.value,
            expires_at=expires_at.isoformat(),
        )
        body = TokenOut(
            token=token,
            token_type="Bearer",  # noqa: S106 — the scheme's name (RFC 6750), not a secret
            token_id=token_id,
            user=data.user,
            unit=unit,
            role=data.role.value,
            expires_at=expires_at.replace(microsecond=0),
        )
        return Response(body, status_code=201)

    return [mint_token]
