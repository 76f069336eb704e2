"""The litestar application: routes under /api/v1, OpenAPI at /schema, health at /health.

Controllers are thin: parse (msgspec), authenticate (bearer JWT), call the same use case the CLI
and importers call, map the result. Scope is enforced by the domain (`authorise`): a file outside
the caller's subtree is 404, an act the role or level may not perform is 403 naming the rule.

This module does not use `from __future__ import annotations`: litestar reads the handlers'
annotations as objects, and the factory of the command routes sets each route's own body type
there (`documented(body)`), where mypy sees the `CommandBody` that builds a typed command.
"""

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from uuid import UUID

import structlog
from litestar import Litestar, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import RedocRenderPlugin
from litestar.openapi.spec import Components, Example, SecurityScheme
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from adapters.forms.codes import FormKey
from adapters.http import accounts as account_routes
from adapters.http import (
    attachments,
    console,
    forms,
    idempotency,
    paper,
    problems,
    readmodels,
    spotchecks,
    sync,
    unit_records,
)
from adapters.http import tokens as token_routes
from adapters.http.auth import Authenticator, Tokens
from adapters.http.headers import SecurityHeaders
from adapters.http.problems import Problem
from adapters.http.schemas import (
    EXAMPLES,
    OPENAPI_PLUGINS,
    ApplicationIn,
    AppraisalIn,
    ApprovalIn,
    AssistanceIn,
    CategoryConfirmationIn,
    CommandBody,
    ErasureIn,
    ErasureOut,
    ExitIn,
    FileOut,
    FindingCheckIn,
    FollowUpIn,
    Health,
    KeepIn,
    PlanIn,
    RecheckIn,
    RejectionIn,
    RenameIn,
    ReturnIn,
    RevisionIn,
    SendBackIn,
    TrailOut,
    TransferIn,
    UnitIn,
    UnitOut,
    VerificationIn,
    VisitIn,
)
from adapters.http.validation import refuse_invalid_body
from adapters.http.views import event_out, file_out
from adapters.pg.faults import is_unavailable
from adapters.pg.migrations import pending
from adapters.pg.policies import PgPolicies
from adapters.pg.unit_records import PgUnitRecords
from adapters.pg.units import PgUnitDirectory, Unit
from adapters.runtime.bootstrap import Runtime, background, runtime
from adapters.runtime.limits import Limits, principal
from adapters.runtime.logging import configure
from adapters.runtime.secrets import load_secret
from adapters.runtime.settings import Settings
from adapters.services import files as file_reads
from adapters.services.accounts import TOKEN_PREFIX
from adapters.services.erasure import erase_personal_data
from adapters.sync import pull
from adapters.sync.node import NodeSettings
from domain import usecases
from domain.authorization import Act, authorise
from domain.errors import InvalidValue, RuleViolated
from domain.units import UnitCode
from domain.values import Actor, Level, UnitKind, label

log = structlog.get_logger("bangfu.http")

API = "/api/v1"
MAX_BODY = 1024 * 1024  # a household file is a few KB; uploads get their own limits
PURPOSE_HEADER = "X-Bangfu-Purpose"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


# ------------------------------------------------------------------------------ dependencies


def documented(body: type) -> Any:
    """The annotation litestar reads for a JSON body of type `body`, with its example from
    `schemas.EXAMPLES`."""
    value = EXAMPLES.get(body)
    examples = [Example(summary="example", value=value)] if value is not None else None
    return Annotated[body, Body(media_type=RequestEncodingType.JSON, examples=examples)]


class _Documented:
    """`Documented[T]`: a JSON body of type T, with its example from `schemas.EXAMPLES`."""

    def __class_getitem__(cls, body: type) -> Any:
        return documented(body)


_Body = TypeVar("_Body")

if TYPE_CHECKING:
    # to mypy a documented body is the body itself; the example is for the document only
    Documented = Annotated[_Body, "documented"]
else:
    Documented = _Documented

PROBLEMS = {
    status: ResponseSpec(
        Problem, media_type=problems.MEDIA_TYPE, generate_examples=False, description=description
    )
    for status, description in {
        400: "the body is malformed or a field has the wrong type: every bad field is listed",
        401: "no valid bearer token",
        403: "the role or level may not do this: `rule` names the rule",
        404: "no such file or unit in the caller's subtree",
        409: "the file's state does not allow this step, or the file changed meanwhile, or"
        " (一户一档, `already_filed`) a person in it heads or is a member of another open or"
        " relieved file",
        412: "`If-Match` does not match the file's version: `current_version` says what it is",
        413: "the body is larger than allowed",
        415: "the body is not `application/json`",
        422: "a value or rule of the domain refused the request: `errors` and `rule` say why",
        429: "too many requests of this kind lately: retry after `Retry-After` seconds",
        503: "the database is unavailable for the moment: retry after `Retry-After` seconds",
    }.items()
}


# litestar's `State` holds Any; the lifespan (below) put these there
def provide_runtime(state: State) -> Runtime:
    rt: Runtime = state.rt
    return rt


def provide_units(state: State) -> PgUnitDirectory:
    units: PgUnitDirectory = state.units
    return units


async def provide_actor(request: Request[Any, Any, Any], state: State) -> Actor:
    client = request.client.host if request.client is not None else ""
    authorization = request.headers.get("authorization", "")
    actor: Actor
    if authorization.partition(" ")[2].strip().startswith(TOKEN_PREFIX):  # a personal token
        actor = await account_routes.personal_actor(state, authorization, client)
    else:
        actor = state.auth.actor(authorization, client)
    request.scope["state"]["user"] = actor.user
    request.scope["state"]["unit"] = actor.unit
    return actor


def if_match(request: Request[Any, Any, Any]) -> int | None:
    """The expected version from `If-Match: "N"` (None when absent)."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip().strip('"')
    if raw.strip() == "*":  # RFC 9110: matches any current version of an existing file
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        raise InvalidValue(
            "If-Match", 'expected an ETag such as "5"', zh='If-Match 应为版本号，如 "5"'
        )
    request.scope["state"]["if_match"] = int(value)
    return int(value)


def _utf8_header(raw: str) -> str:
    """Header values arrive as latin-1 text; a client sending UTF-8 (a Chinese purpose) means
    those bytes as UTF-8."""
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


# ------------------------------------------------------------------------------ files


@post(
    f"{API}/files",
    status_code=201,
    responses=PROBLEMS,
    tags=["files"],
    summary="申请 — open a household file",
    description="A base-level union receives a written application with the signed "
    "authorisation. Returns the new file with its ETag (version 1).",
)
async def apply_for_file(
    data: Documented[ApplicationIn],
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    rt: NamedDependency[Runtime],
    units: NamedDependency[PgUnitDirectory],
) -> Response[FileOut]:
    if not await units.exists(data.establishing_unit):
        # outside the caller's subtree a missing unit is hidden like any other (404, not 422)
        authorise(actor, Act.APPLY, UnitCode(data.establishing_unit))
        raise RuleViolated(
            "unit_exists",
            f"unit {data.establishing_unit} is not registered",
            zh=f"建档工会{data.establishing_unit}不存在",
            field="establishing_unit",
        )

    async def action(files: Any) -> idempotency.Outcome:
        household = await usecases.open_file(
            files=files, clock=rt.clock, actor=actor, command=data.command()
        )
        headers = {**etag(household.version), "Location": f"{API}/files/{household.id}"}
        return 201, file_out(household), headers

    return await idempotency.run(request, rt, actor, action)


def command_route(path: str, body: type[CommandBody], summary: str) -> HTTPRouteHandler:
    """A POST route running the lifecycle command its body builds (`domain.commands`) on a file."""

    async def handler(
        file_id: FromPath[UUID],
        data: CommandBody,  # to litestar: `documented(body)`, set below
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> Response[FileOut]:
        expected = if_match(request)

        async def action(files: Any) -> idempotency.Outcome:
            household = await usecases.act_on_file(
                files=files,
                clock=rt.clock,
                actor=actor,
                file_id=file_id,
                command=data.command(),
                policies=PgPolicies(rt.store, rt.codec),
                expected_version=expected,
                meetings=PgUnitRecords(rt.store, rt.codec),
                units=await rt.units.registry(actor.unit),
            )
            return 200, file_out(household), etag(household.version)

        return await idempotency.run(request, rt, actor, action)

    # litestar reads the body's type (and its example) from the annotation, which mypy cannot
    # take from a variable: mypy sees a `CommandBody`, litestar the route's own body type
    handler.__annotations__["data"] = documented(body)
    handler.__name__ = handler.__qualname__ = f"file_{path.replace('-', '_')}"
    return post(
        f"{API}/files/{{file_id:uuid}}/{path}",
        status_code=200,
        responses=PROBLEMS,
        tags=["files"],
        summary=summary,
        description=f"{summary}. Send `If-Match` with the ETag you read to refuse the "
        "command (412) if the file changed meanwhile; `Idempotency-Key` to "
        "make retries safe.",
    )(handler)


COMMAND_ROUTES = [
    command_route("verification", VerificationIn, "入户调查 — record the home investigation"),
    command_route("appraisal", AppraisalIn, "民主评议与公示 — record appraisal and publicity"),
    command_route("approval", ApprovalIn, "审核认定 — approve (district level or above)"),
    command_route("send-back", SendBackIn, "退回 — send back for rework (district level or above)"),
    command_route("rejection", RejectionIn, "不予建档 — reject"),
    command_route("assistance", AssistanceIn, "帮扶 — record assistance delivered"),
    command_route("plan", PlanIn, "帮扶计划 — record the agreed plan"),
    command_route("visits", VisitIn, "走访 — record a visit"),
    command_route("revisions", RevisionIn, "动态调整 — record changed facts"),
    command_route("rechecks", RecheckIn, "年度复核 — record the periodic re-check"),
    command_route("exit", ExitIn, "脱困/解困/注销/删除 — exit the file"),
    command_route("return", ReturnIn, "返困 — re-open an exited file"),
    command_route("transfer", TransferIn, "移交 — transfer to another base-level union"),
    command_route(
        "finding-checks",
        FindingCheckIn,
        "民政比对核实 — record the check of a civil-affairs finding (confirmed or unfounded)",
    ),
    command_route(
        "follow-ups",
        FollowUpIn,
        "回头看 — record a follow-up visit to a household out of hardship or relieved",
    ),
    command_route(
        "category-confirmations",
        CategoryConfirmationIn,
        "确认类别变化 — confirm the category a re-check found (district level or above)",
    ),
    command_route(
        "keep",
        KeepIn,
        "保留 — keep a file that is due to exit, with the reason (district level or above)",
    ),
]


async def _readable(rt: Runtime, actor: Actor, file_id: FromPath[UUID]) -> Any:
    """The current file, if the caller may read it (404 outside its subtree, 403 for its role)."""
    return await file_reads.readable(rt.files, actor, file_id)


async def _disclose(
    request: Request[Any, Any, Any], rt: Runtime, actor: Actor, household: Any, view: str
) -> None:
    await file_reads.disclose(
        rt.files,
        actor=actor,
        household=household,
        purpose=_utf8_header(request.headers.get(PURPOSE_HEADER.lower(), "")),
        view=view,
        admit=lambda: request.app.state.limits.unmasking.check(principal(actor.user, actor.unit)),
    )


@get(
    f"{API}/files/{{file_id:uuid}}",
    responses=PROBLEMS,
    tags=["files"],
    summary="读取档案 — a file, now or at a point in its history",
    description="Replays the file's events. `version=N` or `as_of=TIMESTAMP` (recorded time) "
    "replays it up to that point. Personal data is masked unless `unmask=true` with an "
    f"`{PURPOSE_HEADER}` header, allowed to approvers and inspectors in scope, and "
    "recorded in the file's trail.",
)
async def read_file(
    file_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    rt: NamedDependency[Runtime],
    as_of: FromQuery[datetime | None] = None,
    version: Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)] = None,
    unmask: FromQuery[bool] = False,
) -> Response[FileOut]:
    current = await _readable(rt, actor, file_id)
    household = current
    if version is not None or as_of is not None:
        household = await file_reads.as_it_was(rt.files, file_id, version=version, as_of=as_of)
    if unmask:
        await _disclose(request, rt, actor, current, "file")
    return Response(file_out(household, masked=not unmask), headers=etag(household.version))


@get(
    f"{API}/files/{{file_id:uuid}}/events",
    responses=PROBLEMS,
    tags=["files"],
    summary="档案轨迹 — the audit trail of a file",
    description="Every event of the file with its type, business fields, actor, recorded time, "
    "version and hash, and the acts of other streams that refer to it (such as "
    "unmasked reads), in recorded order.",
)
async def read_trail(
    file_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    rt: NamedDependency[Runtime],
    unmask: FromQuery[bool] = False,
) -> Response[TrailOut]:
    current = await _readable(rt, actor, file_id)
    if unmask:
        await _disclose(request, rt, actor, current, "events")
    events = await file_reads.trail(rt.files, file_id)
    trail = TrailOut(
        file_id=file_id,
        version=current.version,
        masked=not unmask,
        events=[event_out(rt.codec, e, masked=not unmask) for e in events],
    )
    return Response(trail, headers=etag(current.version))


@post(
    f"{API}/files/{{file_id:uuid}}/erasure",
    status_code=200,
    responses=PROBLEMS,
    tags=["files"],
    summary="销毁个人信息 — erase a household's personal data on request (admin)",
    description="Destroys the data key of a closed file (rejected, exited or deleted): its "
    "names, ID numbers, phone, address, health details and bank card read as 已销毁 from then "
    "on, in every event, read model and upstream node; the events, hashes and figures stay "
    "and the hash chain still verifies. Recorded in the file's trail (who, when, why: the "
    "reason must not hold personal data). Only an admin of a district or above; the file "
    "accepts no command afterwards. `plaintext_events` counts events stored in clear before "
    "encryption, whose personal data cannot be erased.",
)
async def erase_file(
    file_id: FromPath[UUID],
    data: Documented[ErasureIn],
    actor: NamedDependency[Actor],
    rt: NamedDependency[Runtime],
) -> ErasureOut:
    erased = await erase_personal_data(
        files=rt.files,
        clock=rt.clock,
        actor=actor,
        file_id=file_id,
        reason=data.reason,
        units=await rt.units.registry(actor.unit),
    )
    return ErasureOut(
        file_id=erased.file_id,
        version=erased.version,
        erased_on=erased.erased_on,
        plaintext_events=erased.plaintext_events,
    )


# ------------------------------------------------------------------------------ units


def _unit_out(unit: Unit) -> UnitOut:
    return UnitOut(
        unit.code,
        unit.name,
        unit.parent,
        unit.level,
        label(Level(unit.level)),
        unit.kind,
        label(UnitKind(unit.kind)),
        unit.approves,
    )


@get(
    f"{API}/units",
    responses=PROBLEMS,
    tags=["units"],
    summary="工会组织 — the union tree below a unit",
)
async def list_units(
    actor: NamedDependency[Actor],
    units: NamedDependency[PgUnitDirectory],
    root: FromQuery[str | None] = None,
) -> list[UnitOut]:
    start = root or actor.unit
    authorise(actor, Act.READ_UNITS, start)
    return [_unit_out(u) for u in await units.subtree(start)]


@get(f"{API}/units/{{code:str}}", responses=PROBLEMS, tags=["units"], summary="工会 — one unit")
async def read_unit(
    code: FromPath[str], actor: NamedDependency[Actor], units: NamedDependency[PgUnitDirectory]
) -> UnitOut:
    authorise(actor, Act.READ_UNITS, code)
    return _unit_out(await units.get(code))


@post(
    f"{API}/units",
    status_code=201,
    responses=PROBLEMS,
    tags=["units"],
    summary="新增工会 — create a unit (admin)",
)
async def create_unit(
    data: Documented[UnitIn], actor: NamedDependency[Actor], units: NamedDependency[PgUnitDirectory]
) -> UnitOut:
    authorise(actor, Act.MANAGE_UNITS, data.code)
    return _unit_out(
        await units.create(data.code, data.name, level=data.level, approves=data.approves)
    )


@patch(
    f"{API}/units/{{code:str}}",
    responses=PROBLEMS,
    tags=["units"],
    summary="更名 — rename a unit (admin)",
)
async def rename_unit(
    code: FromPath[str],
    data: Documented[RenameIn],
    actor: NamedDependency[Actor],
    units: NamedDependency[PgUnitDirectory],
) -> UnitOut:
    authorise(actor, Act.MANAGE_UNITS, code)
    return _unit_out(await units.rename(code, data.name))


# ------------------------------------------------------------------------------ health


@get(
    "/health/live",
    tags=["health"],
    summary="the process is up",
    sync_to_thread=False,
    security=[{}],
)
def live() -> Health:
    return Health("live")


@get(
    "/health/ready",
    tags=["health"],
    summary="database reachable and migrations applied",
    security=[{}],
)
async def ready(rt: NamedDependency[Runtime]) -> Response[Health]:
    try:
        async with rt.pool.acquire(timeout=2) as conn:
            waiting = await pending(conn)
        lags = await rt.projections.lag()
    except Exception as error:
        if not is_unavailable(error):
            raise
        return Response(
            Health("unavailable", {"database": f"{type(error).__name__}: {str(error)[:200]}"}),
            status_code=503,
        )
    if waiting:
        return Response(
            Health("unavailable", {"migrations": f"pending: {waiting}"}), status_code=503
        )
    checks = {"database": "ok", "migrations": "applied"}
    for name, lag in lags.items():
        checks[f"projection.{name}"] = f"{lag.events} events, {lag.seconds:.1f} s behind"
    return Response(Health("ready", checks))


@get(
    "/metrics",
    tags=["health"],
    summary="Prometheus metrics: projection lag",
    security=[{}],
    media_type="text/plain; version=0.0.4",
)
async def metrics(rt: NamedDependency[Runtime], state: State) -> str:
    lines = [
        "# HELP bangfu_projection_lag_events Events a read model has not applied yet.",
        "# TYPE bangfu_projection_lag_events gauge",
    ]
    lags = await rt.projections.lag()
    lines += [
        f'bangfu_projection_lag_events{{projection="{n}"}} {lag.events}' for n, lag in lags.items()
    ]
    lines += [
        "# HELP bangfu_projection_lag_seconds Age of the oldest event a read model has not"
        " applied.",
        "# TYPE bangfu_projection_lag_seconds gauge",
    ]
    lines += [
        f'bangfu_projection_lag_seconds{{projection="{n}"}} {lag.seconds:.3f}'
        for n, lag in lags.items()
    ]
    node: NodeSettings = state.node
    lines += pull.metrics_lines(await pull.status(rt.pool, node.downstreams))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ the app


class RequestLog:
    """One log line per request (request id, user, unit, route, status, duration), and the
    request id returned in `X-Request-ID`. Wraps the whole app, so 404s and 413s are logged too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else time.time_ns().to_bytes(8).hex()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            handler = scope.get("route_handler")
            route = next(iter(handler.paths)) if handler is not None else scope["path"]
            log.info(
                "http.request",
                request_id=request_id,
                method=scope["method"],
                route=route,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                user=state.get("user"),
                unit=state.get("unit"),
            )


async def _media_type_guard(request: Request[Any, Any, Any]) -> None:
    # async on purpose: litestar runs a synchronous hook in a worker thread, on every request
    if request.method in {"POST", "PATCH", "PUT"}:
        content_type = request.headers.get("content-type", "")
        if not content_type.split(";")[0].strip().lower() == "application/json":
            raise HTTPException(status_code=415, detail="send the body as application/json")
        # strictly as documented, before litestar's lax conversion (adapters/http/validation.py)
        await refuse_invalid_body(request, authenticate=lambda r: provide_actor(r, r.app.state))


def create_app(settings: Settings, *, node: NodeSettings | None = None) -> Litestar:
    """Build the app from the settings read at the entry (`served`) and the node's sync settings
    (by default a node that pulls from no one); its lifespan opens the composition root
    (`adapters.runtime.bootstrap`: database, migrations, read models, pulls of downstream nodes)
    and closes it all at the end."""
    config = settings
    node = node if node is not None else NodeSettings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with (
            runtime(config, node=node, listen=True) as rt,
            background(rt, projections=config.projections),
        ):
            app.state.rt = rt
            secret = load_secret(config.secret, config.data_dir)
            app.state.tokens = Tokens(secret)
            app.state.form_key = FormKey.from_secret(secret)
            app.state.limits = Limits.from_settings(config)
            app.state.auth = Authenticator(app.state.tokens, app.state.limits.failed_auth)
            app.state.units = rt.units
            app.state.node = rt.node
            app.state.settings = config
            app.state.accounts = rt.accounts
            yield

    return Litestar(
        route_handlers=[
            apply_for_file,
            *COMMAND_ROUTES,
            read_file,
            read_trail,
            erase_file,
            list_units,
            read_unit,
            create_unit,
            rename_unit,
            *readmodels.routes(PROBLEMS),
            *spotchecks.routes(PROBLEMS),
            *paper.routes(PROBLEMS, config),
            *forms.routes(PROBLEMS),
            *unit_records.routes(PROBLEMS),
            *attachments.routes(PROBLEMS, config),
            *sync.routes(PROBLEMS, node),
            *token_routes.routes(PROBLEMS),
            *account_routes.routes(PROBLEMS),
            *console.routes(config),
            live,
            ready,
            metrics,
        ],
        dependencies={
            "rt": Provide(provide_runtime, sync_to_thread=False),
            "units": Provide(provide_units, sync_to_thread=False),
            "actor": Provide(provide_actor),
        },
        exception_handlers=problems.HANDLERS,
        lifespan=[lifespan],
        before_request=_media_type_guard,
        request_max_body_size=MAX_BODY,
        plugins=[*OPENAPI_PLUGINS],
        template_config=console.TEMPLATES,
        openapi_config=OpenAPIConfig(
            title="bangfu 帮扶 API",
            version="1",
            path="/schema",
            # Redoc from bangfu itself, no fonts from Google: the docs work on a closed network
            render_plugins=[
                RedocRenderPlugin(
                    js_url=f"{console.STATIC_PATH}/redoc.standalone.js", google_fonts=False
                )
            ],
            description="Hardship-worker household files (困难职工档案). Every command appends an "
            "event; every read replays them. Errors are RFC 9457 problem details.",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"bearer": []}],
        ),
        debug=False,
    )


def asgi(settings: Settings, node: NodeSettings | None = None) -> ASGIApp:
    """The served application: the litestar app with security headers, in the request log."""
    return RequestLog(
        SecurityHeaders(create_app(settings, node=node), hsts_max_age=settings.hsts_max_age)
    )


def served() -> ASGIApp:
    """The factory `bangfu serve` hands to uvicorn (each worker process builds its own app): the
    entry where a server process reads its settings from the environment, once."""
    settings = Settings.from_env()
    node = NodeSettings.from_env()
    configure(json=settings.log_json)
    return asgi(settings, node)
