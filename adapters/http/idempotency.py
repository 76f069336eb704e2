"""`Idempotency-Key` for POSTs: a retried request gets the first response and appends nothing.

The key is claimed, the use case runs and the response is kept in one transaction — the same one
that appends the events (the repository is bound to it). A concurrent retry with the same key
waits on the key's row until the first commits, then replays its response. A refused command
keeps nothing (its transaction rolls back), so its retry is judged afresh. Each kept response
names its file, so that erasing the file's personal data deletes it (the SQL, and that deletion:
`adapters.pg.idempotency`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response

from adapters.http.schemas import FileOut
from adapters.pg.idempotency import PgIdempotency
from adapters.runtime.bootstrap import Runtime
from domain.errors import InvalidValue, RuleViolated
from domain.ports import FileRepository
from domain.values import Actor

MAX_KEY = 128

Outcome = tuple[int, msgspec.Struct, dict[str, str]]
# The use case, given the file repository to run on (bound to the key's transaction when kept).
Action = Callable[[Any], Awaitable[Outcome]]

_encoder = msgspec.json.Encoder(decimal_format="string")


def _file_of(body: msgspec.Struct) -> UUID | None:
    """The file a response concerns: every command that keeps responses answers with the file."""
    return body.id if isinstance(body, FileOut) else None


async def run(
    request: Request[Any, Any, Any], rt: Runtime, actor: Actor, action: Action
) -> Response[Any]:
    key = request.headers.get("idempotency-key")
    files: FileRepository = rt.files
    if key is None:
        status, body, headers = await action(files)
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
    kept = PgIdempotency(rt.pool, rt.files, transaction_bound=rt.store.transaction_bound)
    async with kept.claim(f"{actor.user}@{actor.unit}", key, fingerprint) as claim:
        if claim.kept is not None:
            if claim.kept.request_hash != fingerprint:
                raise RuleViolated(
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request",
                    zh="该幂等键已用于另一请求",
                    field="Idempotency-Key",
                )
            return Response(
                claim.kept.body,
                status_code=claim.kept.status,
                headers={**claim.kept.headers, "Idempotent-Replayed": "true"},
                media_type="application/json",
            )
        status, body, headers = await action(claim.files)
        encoded = _encoder.encode(body)
        await claim.keep(status, headers, encoded, _file_of(body))
    return Response(encoded, status_code=status, headers=headers, media_type="application/json")
