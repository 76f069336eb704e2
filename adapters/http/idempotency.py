"""`Idempotency-Key` for POSTs: a retried request gets the first response and appends nothing.

The key is claimed, the use case runs and the response is stored in one transaction — the same
one that appends the events (the repository is bound to its connection). A concurrent retry with
the same key waits on the key's row until the first commits, then replays its response. A
refused command stores nothing (its transaction rolls back), so its retry is judged afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response

from adapters.pg.repository import PgFileRepository
from adapters.pg.store import bound
from adapters.runtime.bootstrap import Runtime
from domain.errors import InvalidValue, RuleViolated
from domain.values import Actor

MAX_KEY = 128

Outcome = tuple[int, msgspec.Struct, dict[str, str]]
Action = Callable[[PgFileRepository], Awaitable[Outcome]]

_encoder = msgspec.json.Encoder(decimal_format="string")


async def run(
    request: Request[Any, Any, Any], rt: Runtime, actor: Actor, action: Action
) -> Response[Any]:
    key = request.headers.get("idempotency-key")
    if key is None:
        status, body, headers = await action(rt.files)
        return Response(body, status_code=status, headers=headers)
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise InvalidValue(
            "Idempotency-Key",
            f"1 to {MAX_KEY} printable characters",
            zh="幂等键应为1至128个可打印字符",
        )
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + await request.body()
    ).digest()
    principal = f"{actor.user}@{actor.unit}"
    async with rt.pool.acquire() as conn, conn.transaction():
        # The key's insert takes a transaction id, which holds back every tailing reader until
        # commit: bound the whole transaction, not just its append (`adapters.pg.store.bound`).
        await bound(conn, rt.store.transaction_bound)
        claimed = await conn.fetchval(
            "INSERT INTO idempotency_keys (principal, key, request_hash) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING true",
            principal,
            key,
            fingerprint,
        )
        if not claimed:
            row = await conn.fetchrow(
                "SELECT request_hash, status, headers, body FROM idempotency_keys"
                " WHERE principal = $1 AND key = $2",
                principal,
                key,
            )
            if bytes(row["request_hash"]) != fingerprint:
                raise RuleViolated(
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request",
                    zh="该幂等键已用于另一请求",
                    field="Idempotency-Key",
                )
            headers = msgspec.json.decode(row["headers"]) if row["headers"] else {}
            headers["Idempotent-Replayed"] = "true"
            return Response(
                bytes(row["body"]),
                status_code=row["status"],
                headers=headers,
                media_type="application/json",
            )
        status, body, headers = await action(rt.files.bound(conn))
        encoded = _encoder.encode(body)
        await conn.execute(
            "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5"
            " WHERE principal = $1 AND key = $2",
            principal,
            key,
            status,
            msgspec.json.encode(headers).decode(),
            encoded,
        )
    return Response(encoded, status_code=status, headers=headers, media_type="application/json")
