"""Errors as RFC 9457 problem details (`application/problem+json`), in Chinese or English.

One table maps the domain's exceptions to statuses. The language follows `Accept-Language`:
English when it prefers `en`, Chinese otherwise (clerks read Chinese). No stack trace leaves the
server; an unexpected error is logged with the request id and answered with a plain 500.
When the database is away (restarting, unreachable, out of connections) the answer is 503 with
`Retry-After`: the same request may succeed later (adapters/pg/faults.py says which errors).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)

from adapters.http.auth import Unauthorized
from adapters.http.validation import body_errors
from adapters.pg.faults import is_unavailable
from adapters.runtime.limits import RateLimited
from domain.attachments import ContentTooLarge
from domain.errors import (
    ConcurrencyError,
    DomainError,
    InvalidValue,
    NotEligible,
    NotFound,
    NotPermitted,
    OutOfScope,
    RuleViolated,
    WrongState,
)
from domain.onefile import AlreadyFiled

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"

STATUS: list[tuple[type[DomainError], int]] = [
    (Unauthorized, 401),
    (RateLimited, 429),
    (NotPermitted, 403),
    (OutOfScope, 404),  # a file outside the caller's subtree does not exist for the caller
    (NotFound, 404),
    (ConcurrencyError, 409),
    (WrongState, 409),
    (AlreadyFiled, 409),  # 一户一档: another open or relieved file holds the person
    (ContentTooLarge, 413),  # an attachment over its limit (adapters/http/attachments.py)
    (InvalidValue, 422),
    (NotEligible, 422),
    (RuleViolated, 422),
    (DomainError, 422),
]

TITLES = {
    400: ("请求格式错误", "Bad request"),
    401: ("未认证", "Unauthorized"),
    403: ("无权操作", "Forbidden"),
    404: ("未找到", "Not found"),
    405: ("方法不允许", "Method not allowed"),
    409: ("状态冲突", "Conflict"),
    412: ("版本不一致", "Precondition failed"),
    413: ("请求体过大", "Content too large"),
    415: ("不支持的媒体类型", "Unsupported media type"),
    422: ("无法处理的内容", "Unprocessable content"),
    428: ("缺少前置条件", "Precondition required"),
    429: ("请求过多", "Too many requests"),
    500: ("服务器内部错误", "Internal server error"),
    503: ("服务暂不可用", "Service unavailable"),
}


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None
    rule: str | None = None
    errors: list[dict[str, str]] | None = None
    current_version: int | None = None
    retry_after: int | None = None  # 429, 503: seconds to wait, as in the `Retry-After` header


def english(request: Request[Any, Any, Any]) -> bool:
    """True when the client prefers English to Chinese (by `Accept-Language` q-values)."""
    best = {"en": -1.0, "zh": -1.0}
    for order, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.strip().lower().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        language = tag.split("-")[0]
        if language in best and weight > best[language]:
            best[language] = weight - order * 1e-6  # ties go to the first listed
    return best["en"] > best["zh"]


def problem(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[Problem]:
    zh, en = TITLES.get(status, ("错误", "Error"))
    body = Problem(
        type=f"urn:bangfu:problem:{code}",
        title=en if english(request) else zh,
        status=status,
        detail=detail,
        code=code,
        instance=request.url.path,
        request_id=request.scope.get("state", {}).get("request_id"),
        **extra,
    )
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(error: DomainError) -> int:
    return next(status for kind, status in STATUS if isinstance(error, kind))


def on_domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Problem]:
    status = status_of(error)
    detail = error.message if english(request) else error.zh
    extra: dict[str, Any] = {}
    if isinstance(error, (NotPermitted, RuleViolated)):
        extra["rule"] = error.rule
    if error.field:
        extra["errors"] = [{"field": error.field, "code": error.code, "message": detail}]
    if isinstance(error, (OutOfScope, NotFound)):
        # One answer for "does not exist" and "not in your subtree", so that a 404 never
        # reveals whether a file or unit exists elsewhere (DESIGN.md decision 5).
        return problem(request, 404, "not_found", "not found" if english(request) else "未找到")
    if isinstance(error, ConcurrencyError):
        if request.scope.get("state", {}).get("if_match") is not None:
            return problem(
                request,
                412,
                "version_mismatch",
                detail,
                current_version=error.actual,
                headers={"ETag": f'"{error.actual}"'} if error.actual is not None else None,
            )
        extra["current_version"] = error.actual
    if isinstance(error, RateLimited):
        return problem(
            request,
            429,
            error.code,
            detail,
            headers={"Retry-After": str(error.retry_after)},
            retry_after=error.retry_after,
        )
    if isinstance(error, Unauthorized):
        return problem(
            request, 401, error.code, detail, headers={"WWW-Authenticate": 'Bearer realm="bangfu"'}
        )
    return problem(request, status, error.code, detail, **extra)


def _field_of(item: dict[str, Any]) -> str:
    key = str(item.get("key") or "")
    message = str(item.get("message", ""))
    if not key and "at `$." in message:
        key = message.rsplit("at `$.", 1)[1].rstrip("`")
    return key or "body"


def on_validation(request: Request[Any, Any, Any], error: ValidationException) -> Response[Problem]:
    errors = _all_body_errors(request)
    items = error.extra if isinstance(error.extra, list) else []
    errors = (
        errors
        or [
            {"field": _field_of(item), "code": "invalid", "message": str(item.get("message", ""))}
            for item in items
            if isinstance(item, dict)
        ]
        or [{"field": "body", "code": "invalid", "message": str(error.detail)}]
    )
    detail = "the request is not valid" if english(request) else "请求内容不符合要求"
    return problem(request, 400, "validation_failed", detail, errors=errors)


def _all_body_errors(request: Request[Any, Any, Any]) -> list[dict[str, str]]:
    handler = request.scope.get("route_handler")
    data = getattr(handler, "parsed_fn_signature", None)
    parameter = data.parameters.get("data") if data is not None else None
    # Exception handlers are synchronous; the body that failed was read already and litestar keeps
    # it on the connection state (a private attribute: checked by the HTTP validation tests).
    body = getattr(getattr(request, "_connection_state", None), "body", None)
    if parameter is None or not isinstance(body, bytes):
        return []
    if not body:
        return [{"field": "body", "code": "missing", "message": "a JSON body is required"}]
    return body_errors(parameter.annotation, body)


def on_http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Problem]:
    status = error.status_code
    if status == 400:
        errors = _all_body_errors(request)
        detail = "the request is not valid" if english(request) else "请求内容不符合要求"
        if errors:
            return problem(request, 400, "validation_failed", detail, errors=errors)
    code = {
        401: "unauthorized",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        415: "unsupported_media_type",
        429: "too_many_requests",
        503: "unavailable",
    }.get(status, "http_error")
    headers = dict(error.headers or {})
    if isinstance(error, NotAuthorizedException):
        headers["WWW-Authenticate"] = 'Bearer realm="bangfu"'
    detail = str(error.detail) if english(request) else TITLES.get(status, ("错误", ""))[0]
    return problem(request, status, code, detail, headers=headers or None)


def on_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    log.error("http.unexpected_error", path=request.url.path, exc_info=error)
    detail = "an unexpected error occurred" if english(request) else "服务器发生意外错误"
    return problem(request, 500, "internal_error", detail)


# Seconds a client should wait before retrying while the database is away: a PostgreSQL restart
# or failover usually takes a few seconds.
RETRY_AFTER = 5


def on_database_error(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    """503 with `Retry-After` when the database is away for now; 503 naming the primary when
    this process reads a replica (docs/operations.md, "Read load"); any other error is a bug."""
    if isinstance(error, asyncpg.ReadOnlySQLTransactionError):
        detail = (
            "this node serves reads from a replica: send commands to the primary"
            if english(request)
            else "本节点为只读副本，请向主节点提交操作"
        )
        return problem(request, 503, "read_only_replica", detail)
    if not is_unavailable(error):
        return on_unexpected(request, error)
    log.warning(
        "http.database_unavailable",
        path=request.url.path,
        error=type(error).__name__,
        reason=str(error)[:300],
    )
    detail = (
        "the database is unavailable for the moment: retry later"
        if english(request)
        else "数据库暂时不可用，请稍后重试"
    )
    return problem(
        request,
        503,
        "database_unavailable",
        detail,
        headers={"Retry-After": str(RETRY_AFTER)},
        retry_after=RETRY_AFTER,
    )


HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: on_domain_error,
    ValidationException: on_validation,
    HTTPException: on_http_error,
    asyncpg.PostgresError: on_database_error,
    asyncpg.InterfaceError: on_database_error,
    asyncpg.exceptions.InternalClientError: on_database_error,
    OSError: on_database_error,  # connection refused, a missing socket, a pool timeout
    Exception: on_unexpected,
}
