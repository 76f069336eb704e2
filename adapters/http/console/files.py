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

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from adapters.http.console import forms
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
from adapters.http.views import event_out, file_out
from adapters.pg.policies import PgPolicies
from adapters.pg.unit_records import PgUnitRecords
from adapters.runtime.bootstrap import Runtime
from adapters.runtime.limits import principal
from adapters.services import files as file_reads
from adapters.services import forms as printing
from adapters.services.accounts import Session
from domain import usecases
from domain.attachments import Attachment
from domain.authorization import Act, authorise, may
from domain.errors import COMMANDS_ZH, DomainError, InvalidValue, NotFound, RuleViolated, field_zh
from domain.household import HouseholdFile
from domain.printing import FORM_TITLES, HouseholdForm
from domain.privacy import mask_card, mask_id, mask_phone
from domain.units import UnitCode
from domain.values import (
    Actor,
    AidType,
    AssistanceKind,
    Category,
    CategoryScheme,
    Cause,
    Department,
    DisabilityGrade,
    DisabilityKind,
    Education,
    EmployerNature,
    ExitKind,
    ExitReason,
    FileLevel,
    FindingCheck,
    FollowUpOutcome,
    HousingStructure,
    HousingType,
    HukouType,
    Insurance,
    Level,
    MaritalStatus,
    Material,
    MemberStatus,
    ModelWorker,
    NeedKind,
    PoliticalStatus,
    Relation,
    Role,
    WorkerKind,
    WorkStatus,
    label,
)

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


# The enumeration an event's field holds a code of, shown by its Chinese label: by the field's
# name, or by the name and where it stands (the event, or the record or list it is in) where a
# name means different things (`kind` of a task, a housing, an assistance; a task's
# `department` is free text, an assistance's one of `Department`).
CODES_OF: dict[str, type[StrEnum]] = {
    "political_status": PoliticalStatus,
    "marital_status": MaritalStatus,
    "education": Education,
    "hukou_type": HukouType,
    "work_status": WorkStatus,
    "employer_nature": EmployerNature,
    "model_worker": ModelWorker,
    "disability": DisabilityKind,
    "disability_grade": DisabilityGrade,
    "aid_types": AidType,
    "insurance": Insurance,
    "structure": HousingStructure,
    "relation": Relation,
    "worker_kind": WorkerKind,
    "file_level": FileLevel,
    "primary_cause": Cause,
    "secondary_causes": Cause,
    "cause": Cause,
    "materials": Material,
    "scheme": CategoryScheme,
    "category": Category,
}
CODES_IN: dict[tuple[str, str], type[StrEnum]] = {
    ("tasks", "kind"): NeedKind,
    ("needs", "kind"): NeedKind,
    ("housing", "kind"): HousingType,
    ("home_housing", "kind"): HousingType,
    ("assisted", "kind"): AssistanceKind,
    ("assisted", "department"): Department,
    ("exited", "kind"): ExitKind,
    ("exited", "reason"): ExitReason,
    ("members", "status"): MemberStatus,
    ("finding_checked", "result"): FindingCheck,
    ("followed_up", "result"): FollowUpOutcome,
}


def _shown(value: Any, name: str = "", within: str = "", english: bool = False) -> str:
    """An event's field as the timeline shows it: records and lists spelled out, an
    enumeration's code as its Chinese label (`name`: the field's, `within`: the event's or the
    record's it is in)."""
    if isinstance(value, dict):
        return "；".join(
            f"{k if english else field_zh(k) or k}：{_shown(v, k, name or within, english)}"
            for k, v in value.items()
            if v
        )
    if isinstance(value, list):
        return "、".join(_shown(v, name, within, english) for v in value)
    if value is True:
        return "yes" if english else "是"
    if value is False:
        return "no" if english else "否"
    codes = CODES_IN.get((within, name)) or CODES_OF.get(name)
    if not english and codes is not None and value in {m.value for m in codes}:
        return label(codes(value))
    return str(value)


def _timeline(rt: Runtime, events: Any, english: bool) -> list[dict[str, Any]]:
    rows = []
    for stored in events:
        event = event_out(rt.codec, stored, masked=True)
        actor = event.actor
        role = ""
        if actor is not None:
            role = actor.role if english else label(Role(actor.role))
        within = event.type.rpartition(".")[2]
        details = [
            (
                k if english else (field_zh(k) or k),
                mask_text(_shown(v)) if k == "name" else _shown(v, k, within, english),
            )
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
    return [
        forms.for_file(a, household) for a in forms.ACTIONS if a.offered(actor, household, level)
    ]


@dataclass(frozen=True)
class Named:
    """What the file page says was just done, for the acts that are not lifecycle forms."""

    zh: str
    en: str


DONE = {"attachment": Named("上传附件", "Attach a scan")}

_DIGITS = re.compile(r"[0-9]{6,}[0-9Xx]?")


def mask_text(text: str) -> str:
    """Free text (a scan's file name) as the masked views show it: a run of digits as long as an
    ID number, a phone or a bank card number masked as those are (`domain.privacy`)."""

    def masked(found: re.Match[str]) -> str:
        run = found.group(0)
        if len(run) in {15, 18}:
            return mask_id(run)
        if len(run) == 11:
            return mask_phone(run)
        return mask_card(run)

    return _DIGITS.sub(masked, text)


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def _attachment_row(a: Attachment, *, unmasked: bool, english: bool) -> dict[str, Any]:
    return {
        "id": str(a.attachment_id),
        "kind": a.kind.value if english else label(a.kind),
        "name": a.name if unmasked else mask_text(a.name),
        "size": _size(a.size),
        "on": a.added_on.isoformat(),
        "media": a.media_type.value,
    }


def _may_attach(actor: Actor, household: HouseholdFile) -> bool:
    try:
        household.may_attach(actor=actor)
    except DomainError:
        return False
    return True


@dataclass(frozen=True)
class Side:
    """A failed post of one of the file page's own forms (attach, open a scan, print, unmask):
    the values it sent and its errors, by `form.field`."""

    values: dict[str, str]
    errors: dict[str, str]


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
    side: Side | None = None,
    purpose: str | None = None,
) -> Template:
    """The file page; `purpose`: shown unmasked, that read recorded with this purpose."""
    rt: Runtime = state.rt
    actor = session.actor
    current = await file_reads.readable(rt.files, actor, file_id)
    level = UnitCode(actor.unit).level
    version, when = _as_of(request) if failed is None and side is None else (None, None)
    household = current
    if version is not None or when is not None:
        household = await file_reads.as_it_was(rt.files, file_id, version=version, as_of=when)
    english = lang_of(request) == "en"
    today = rt.clock.today()
    actions = []
    if household is current:
        level = (await rt.units.registry(actor.unit)).acting_level(actor.unit)
        for action in _offered(actor, current, level):
            posted = failed[1] if failed is not None and failed[0].slug == action.slug else None
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
        file=file_out(household, masked=purpose is None),
        purpose=purpose,
        may_unmask=may(actor.role, level, Act.UNMASK),
        attachments=[
            _attachment_row(a, unmasked=purpose is not None, english=english)
            for a in household.attachments
        ],
        may_attach=household is current and _may_attach(actor, current),
        materials=[(m.value, m.value if english else label(m)) for m in Material],
        printable=[(f.value, f.value if english else FORM_TITLES[f.value]) for f in HouseholdForm]
        if may(actor.role, level, Act.PRINT)
        else [],
        side=side or Side({}, {}),
        level_label=label(household.file_level) if household.file_level else "",
        relations={r.value: r.value if english else label(r) for r in Relation},
        current_version=current.version,
        as_of=household is not current,
        asked_version=request.query_params.get("version") or "",
        asked_day=request.query_params.get("as_of") or "",
        unit_name=unit_name,
        timeline=_timeline(rt, events, english),
        actions=actions,
        done=forms.DONE.get(request.query_params.get("done") or "")
        or DONE.get(request.query_params.get("done") or ""),
        here=f"{CONSOLE}/files/{file_id}" if request.method != "GET" else None,
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
    post = await signed_post(request, state)
    if not isinstance(post, Posted):
        return post
    session, values = post.session, post.fields
    rt: Runtime = state.rt
    actor = session.actor
    current = await file_reads.readable(rt.files, actor, file_id)  # outside: not found
    action = forms.BY_SLUG.get(slug)
    if action is None:
        raise NotFound(f"no action {slug}", zh="没有这个操作")
    action = forms.for_file(action, current)
    lang = lang_of(request)
    posted = forms.read(action, values, lang, household=current)
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
                meetings=PgUnitRecords(rt.store, rt.codec),
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


def _side_error(request: Request[Any, Any, Any], form: str, error: DomainError) -> Side:
    """A refusal of a side form, beside its purpose (or above the form)."""
    where = "purpose" if error.field == "purpose" else ""
    return Side({}, {f"{form}.{where}": message(request, error)})


@post(
    f"{CONSOLE}/files/{{file_id:uuid}}/unmasked",
    status_code=200,
    include_in_schema=False,
    before_request=form_guard,
    exception_handlers=ERRORS,
)
async def unmasked_file(
    file_id: FromPath[UUID], request: Request[Any, Any, Any], state: State
) -> Template | Redirect:
    """The file page with its personal data in clear, for a stated purpose: recorded on the
    file's trail as the API's `unmask=true` read of the file is (`services.files.disclose`)."""
    post = await signed_post(request, state)
    if not isinstance(post, Posted):
        return post
    session, values = post.session, post.values
    rt: Runtime = state.rt
    actor = session.actor
    current = await file_reads.readable(rt.files, actor, file_id)
    purpose = values.get("purpose", "")
    try:
        act = await file_reads.disclose(
            rt.files,
            actor=actor,
            household=current,
            purpose=purpose,
            view="file",
            admit=lambda: state.limits.unmasking.check(principal(actor.user, actor.unit)),
        )
    except InvalidValue as error:
        side = _side_error(request, "unmask", error)
        side.values["unmask.purpose"] = purpose
        return await _file_page(request, state, session, file_id, status=422, side=side)
    return await _file_page(request, state, session, file_id, purpose=act.purpose)


@post(
    f"{CONSOLE}/files/{{file_id:uuid}}/print",
    status_code=200,
    include_in_schema=False,
    before_request=form_guard,
    exception_handlers=ERRORS,
)
async def print_file_form(
    file_id: FromPath[UUID], request: Request[Any, Any, Any], state: State
) -> Template | Redirect | Response[bytes]:
    """One of the household's forms as a PDF (`services.forms.print_household`, as the API's
    print): a purpose is required and the print is recorded on the file's trail."""
    post = await signed_post(request, state)
    if not isinstance(post, Posted):
        return post
    session, values = post.session, post.values
    rt: Runtime = state.rt
    actor = session.actor
    await file_reads.readable(rt.files, actor, file_id)
    raw_form, purpose = values.get("form", ""), values.get("purpose", "")
    raw_version = values.get("version", "")
    version = int(raw_version) if raw_version.isdigit() and len(raw_version) < 10 else None
    kept = {"print.form": raw_form, "print.purpose": purpose}
    english = lang_of(request) == "en"
    if raw_form not in {f.value for f in HouseholdForm}:
        error = "choose one of the list" if english else "请从列表中选择"
        side = Side(kept, {"print.form": error})
        return await _file_page(request, state, session, file_id, status=422, side=side)
    try:
        printed = await printing.print_household(
            rt,
            state.form_key,
            actor=actor,
            file_id=file_id,
            form=HouseholdForm(raw_form),
            version=version,
            purpose=purpose,
            admit=lambda: state.limits.printing.check(principal(actor.user, actor.unit)),
        )
    except InvalidValue as error:
        side = _side_error(request, "print", error)
        side.values.update(kept)
        return await _file_page(request, state, session, file_id, status=422, side=side)
    return pdf_response(printed, f"{raw_form}-{file_id}")


def pdf_response(printed: printing.Printed, name: str) -> Response[bytes]:
    """A printed form as the API hands it out (`adapters/http/forms.py`)."""
    return Response(
        printed.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{name}.pdf"',
            "X-Bangfu-Verification-Code": printed.code,
            "Cache-Control": "no-store",
        },
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
    post = await signed_post(request, state)
    if not isinstance(post, Posted):
        return post
    session, values = post.session, post.fields
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


ROUTES = [file_page, unmasked_file, print_file_form, act_on_file, new_file_page, new_file]
