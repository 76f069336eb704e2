"""The file page and the new-file form.

The file page shows a file as the signed-in account may read it (`services.files.readable`: a file
outside its subtree is the same not-found page as one that does not exist): its summary, masked;
the timeline of its events, each with who and when; the file as of any version or day
(`?version=N`, `?as_of=2026-03-20`); and, on the current file, each lifecycle action the file's
status and the account's role allow, as a form of `forms.ACTIONS`. A posted form runs the
use case the API runs, with the version the page showed as the expected version (a file changed
meanwhile is refused, not overwritten); refusals come back beside their fields, nothing written.

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

import uuid
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect, Template

from adapters.http.console import forms
from adapters.http.console.common import (
    CONSOLE,
    ERRORS,
    form_guard,
    lang_of,
    read_fields,
    refused_csrf,
    render,
    same,
    signed_in,
)
from adapters.http.problems import status_of
from adapters.http.views import event_out, file_out
from adapters.pg.policies import PgPolicies
from adapters.runtime.bootstrap import Runtime
from adapters.services import files as file_reads
from adapters.services.accounts import Session
from domain import usecases
from domain.authorization import Act, authorise
from domain.errors import COMMANDS_ZH, DomainError, InvalidValue, NotFound, RuleViolated, field_zh
from domain.household import HouseholdFile
from domain.values import Actor, Level, Relation, Role, label

# the events of a file's timeline, as a clerk calls them
EVENTS_ZH = {
    "applied": "申请建档",
    "verified": "入户调查",
    "appraised": "民主评议与公示",
    "approved": "审核认定",
    "sent_back": "退回",
    "rejected": "不予建档",
    "assisted": "帮扶",
    "plan_agreed": "帮扶计划",
    "visited": "走访",
    "revised": "动态调整",
    "rechecked": "年度复核",
    "exited": "退出",
    "returned": "返困",
    "transferred": "移交",
    "personal_data_erased": "销毁个人信息",
    "category_confirmed": "确认复核类别变化",
    "kept_on_record": "保留（应予退出）",
    "finding_checked": "民政比对核实",
    "followed_up": "回头看",
    "disclosed": "查看未脱敏信息",
}


def _event_label(kind: str, english: bool) -> str:
    name = kind.rpartition(".")[2]
    return name.replace("_", " ") if english else EVENTS_ZH.get(name, COMMANDS_ZH.get(name, name))


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "；".join(f"{field_zh(k) or k}：{_shown(v)}" for k, v in value.items() if v)
    if isinstance(value, list):
        return "、".join(_shown(v) for v in value)
    if value is True:
        return "是"
    if value is False:
        return "否"
    return str(value)


def _timeline(rt: Runtime, events: Any, english: bool) -> list[dict[str, Any]]:
    rows = []
    for stored in events:
        event = event_out(rt.codec, stored, masked=True)
        actor = event.actor
        role = ""
        if actor is not None:
            role = actor.role if english else label(Role(actor.role))
        details = [
            (k if english else (field_zh(k) or k), _shown(v))
            for k, v in event.fields.items()
            if v not in (None, "", [], {}) and k not in {"originator_id", "originator_version"}
        ]
        rows.append(
            {
                "version": event.version if event.stream_id == stored.stream_id else None,
                "own": event.refers_to is None,
                "label": _event_label(event.type, english),
                "at": event.recorded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "who": f"{actor.user}（{role}，{actor.unit}）" if actor else "",
                "details": details[:12],
            }
        )
    return rows


def _as_of(request: Request[Any, Any, Any]) -> tuple[int | None, datetime | None]:
    raw_version = request.query_params.get("version") or ""
    raw_day = request.query_params.get("as_of") or ""
    version = None
    if raw_version:
        if not (raw_version.isdigit() and 0 < int(raw_version) < 2_147_483_647):
            raise InvalidValue("version", "a version number", zh="版本号应为正整数")
        version = int(raw_version)
    when = None
    if raw_day:
        try:
            when = datetime.fromisoformat(raw_day)
        except ValueError:
            raise InvalidValue(
                "as_of", "a day such as 2026-11-21", zh="日期格式应为 2026-11-21"
            ) from None
        if when.tzinfo is None:
            if len(raw_day) == 10:  # a day: the file as it was at that day's end
                when = datetime.combine(date.fromisoformat(raw_day), time.max)
            when = when.replace(tzinfo=UTC)
    return version, when


def _offered(actor: Actor, household: HouseholdFile, level: Level) -> list[forms.Action]:
    return [a for a in forms.ACTIONS if a.offered(actor, household, level)]


def _defaults(action: forms.Action, today: date) -> dict[str, list[str]]:
    return {f.path: [today.isoformat()] for f in action.fields if f.today}


async def _file_page(
    request: Request[Any, Any, Any],
    state: State,
    session: Session,
    file_id: UUID,
    *,
    status: int = 200,
    failed: tuple[forms.Action, forms.Posted] | None = None,
) -> Template:
    rt: Runtime = state.rt
    actor = session.actor
    current = await file_reads.readable(rt.files, actor, file_id)
    version, when = _as_of(request) if failed is None else (None, None)
    household = current
    if version is not None or when is not None:
        household = await file_reads.as_it_was(rt.files, file_id, version=version, as_of=when)
    english = lang_of(request) == "en"
    today = rt.clock.today()
    actions = []
    if household is current:
        level = (await rt.units.registry(actor.unit)).acting_level(actor.unit)
        for action in _offered(actor, current, level):
            posted = failed[1] if failed is not None and failed[0] is action else None
            actions.append(
                forms.Shown(
                    action,
                    action.en if english else action.zh,
                    posted.values if posted else _defaults(action, today),
                    posted.errors if posted else {},
                    open=posted is not None,
                )
            )
    events = await file_reads.trail(rt.files, file_id)
    unit = current.establishing_unit
    unit_name = (await state.units.get(unit)).name if await state.units.exists(unit) else ""
    return render(
        request,
        state,
        "file.html",
        status=status,
        session=session,
        csrf=session.csrf,
        file=file_out(household, masked=True),
        level_label=label(household.file_level) if household.file_level else "",
        relations={r.value: r.value if english else label(r) for r in Relation},
        current_version=current.version,
        as_of=household is not current,
        asked_version=request.query_params.get("version") or "",
        asked_day=request.query_params.get("as_of") or "",
        unit_name=unit_name,
        timeline=_timeline(rt, events, english),
        actions=actions,
        done=forms.DONE.get(request.query_params.get("done") or ""),
    )


@get(f"{CONSOLE}/files/{{file_id:uuid}}", include_in_schema=False, exception_handlers=ERRORS)
async def file_page(
    file_id: FromPath[UUID], request: Request[Any, Any, Any], state: State
) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    return await _file_page(request, state, session, file_id)


@post(
    f"{CONSOLE}/files/{{file_id:uuid}}/{{slug:str}}",
    include_in_schema=False,
    before_request=form_guard,
    exception_handlers=ERRORS,
)
async def act_on_file(
    file_id: FromPath[UUID], slug: FromPath[str], request: Request[Any, Any, Any], state: State
) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    values = await read_fields(request)
    if not same((values.get("csrf") or [""])[0], session.csrf):
        return refused_csrf(request, state)
    rt: Runtime = state.rt
    actor = session.actor
    await file_reads.readable(rt.files, actor, file_id)  # outside the subtree: not found
    action = forms.BY_SLUG.get(slug)
    if action is None:
        raise NotFound(f"no action {slug}", zh="没有这个操作")
    lang = lang_of(request)
    posted = forms.read(action, values, lang)
    status = 422
    if not posted.errors:
        raw_version = (values.get("version") or [""])[0]
        expected = int(raw_version) if raw_version.isdigit() and len(raw_version) < 10 else None
        try:
            await usecases.act_on_file(
                files=rt.files,
                policies=PgPolicies(rt.store, rt.codec),
                clock=rt.clock,
                actor=actor,
                file_id=file_id,
                command=forms.build(action, posted).command(),
                expected_version=expected,
                units=await rt.units.registry(actor.unit),
            )
        except DomainError as error:
            forms.refused(action, posted, error, lang)
            status = status_of(error)
        else:
            return Redirect(f"{CONSOLE}/files/{file_id}?done={slug}", status_code=303)
    return await _file_page(
        request, state, session, file_id, status=status, failed=(action, posted)
    )


# ------------------------------------------------------------------------------ a new file


def _new_page(
    request: Request[Any, Any, Any],
    state: State,
    session: Session,
    *,
    status: int = 200,
    posted: forms.Posted | None = None,
) -> Template:
    action = forms.APPLICATION
    rt: Runtime = state.rt
    values = (
        posted.values
        if posted is not None
        else {
            **_defaults(action, rt.clock.today()),
            "establishing_unit": [session.account.unit],
            "head.union_member": ["on"],
            "head.ethnicity": ["汉族"],
            "scheme": ["v2019"],
        }
    )
    english = lang_of(request) == "en"
    return render(
        request,
        state,
        "new_file.html",
        status=status,
        session=session,
        csrf=session.csrf,
        form=forms.Shown(
            action,
            action.en if english else action.zh,
            values,
            posted.errors if posted else {},
            open=True,
        ),
        file_id=(values.get("file_id") or [str(uuid.uuid4())])[0],
    )


@get(f"{CONSOLE}/files/new", include_in_schema=False, exception_handlers=ERRORS)
async def new_file_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    authorise(session.actor, Act.APPLY, session.actor.unit)
    return _new_page(request, state, session)


@post(
    f"{CONSOLE}/files",
    include_in_schema=False,
    before_request=form_guard,
    exception_handlers=ERRORS,
)
async def new_file(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    values = await read_fields(request)
    if not same((values.get("csrf") or [""])[0], session.csrf):
        return refused_csrf(request, state)
    rt: Runtime = state.rt
    actor = session.actor
    authorise(actor, Act.APPLY, actor.unit)
    lang = lang_of(request)
    action = forms.APPLICATION
    posted = forms.read(action, values, lang)
    raw_id = (values.get("file_id") or [""])[0]
    try:
        file_id = UUID(raw_id)
    except ValueError:
        file_id = uuid.uuid4()
    status = 422
    if not posted.errors:
        try:
            unit = posted.body.get("establishing_unit", "")
            if not await state.units.exists(unit):
                authorise(actor, Act.APPLY, unit)  # outside the subtree: refused as any file
                raise RuleViolated(
                    "unit_exists",
                    f"unit {unit} is not registered",
                    zh=f"建档工会{unit}不存在",
                    field="establishing_unit",
                )
            body = forms.build(action, posted)
            body.file_id = file_id
            household = await usecases.open_file(
                files=rt.files, clock=rt.clock, actor=actor, command=body.command()
            )
        except DomainError as error:
            forms.refused(action, posted, error, lang)
            status = status_of(error)
        else:
            return Redirect(f"{CONSOLE}/files/{household.id}?done=application", status_code=303)
    posted.values["file_id"] = [str(file_id)]
    return _new_page(request, state, session, status=status, posted=posted)


ROUTES = [file_page, act_on_file, new_file_page, new_file]
