"""Printing forms and verifying printed ones, for HTTP, the CLI and the benchmark alike.

`print_household` and `print_unit` replay the files as of the version asked for, render the form
(`adapters.forms`), and record the print (`domain.printing.FormPrint`: one `FilePrinted` per
file, on each file's trail) before handing the PDF out; `admit` runs first and raises when the
printer may not print now (the HTTP edge's rate limit). `verify` answers for a short code or a
scanned token: does the paper match the electronic file at the printed version, and which events
came after it (docs/decisions/0012-paper-forms.md).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

import structlog
from eventsourcing.domain import Aggregate

from adapters.forms import household as household_forms
from adapters.forms import unit as unit_forms
from adapters.forms.codes import FormKey, files_digest, read_token, verify_token
from adapters.forms.pdf import Section, Stamp, render
from adapters.pg import forms as form_reads
from adapters.pg.repository import replay
from adapters.pg.unit_records import PgUnitRecords
from adapters.runtime.bootstrap import Runtime
from adapters.sheets import tasks as task_sheet
from domain.authorization import Act, authorise
from domain.errors import InvalidValue, NotFound
from domain.household import HouseholdFile
from domain.printing import (
    FORM_TITLES,
    Form,
    FormPrint,
    HouseholdForm,
    UnitForm,
    authorise_print,
    checked_purpose,
    new_code,
    parse_code,
    print_id,
    shown,
)
from domain.unit_records import unit_records_id
from domain.units import UnitCode
from domain.values import Actor

log = structlog.get_logger(__name__)


def node_name(rt: Runtime) -> str:
    return rt.node.code or rt.node.subtree or "local"


@dataclass(frozen=True)
class Printed:
    pdf: bytes  # the document: a PDF, or the workbook of a unit form printed as a sheet
    code: str  # as printed: XXXX-XXXX-XXXX
    files: int
    parts: tuple[tuple[str, bytes], ...] = ()  # a unit's files printed one PDF each


async def _household(
    rt: Runtime, file_id: UUID, version: int | None
) -> tuple[household_forms.Household, str]:
    rows = await rt.store.read_stream(file_id, up_to_version=version)
    household = replay(rt.codec, rows)
    if not isinstance(household, HouseholdFile):
        raise NotFound(f"no household file {file_id} at that version", zh="档案不存在")
    events = [
        rt.codec.decode(
            r.type, r.payload, stream_id=r.stream_id, version=r.version, recorded_at=r.recorded_at
        )
        for r in rows
    ]
    name = await _unit_name(rt, household.establishing_unit)
    return household_forms.Household(household, events, name), rows[-1].hash.hex()


async def _unit_name(rt: Runtime, code: str) -> str:
    try:
        return (await rt.units.get(code)).name
    except NotFound:
        return code


def _record(
    rt: Runtime, key: FormKey, *, actor: Actor, form: Form, unit: str, period: str, purpose: str
) -> FormPrint:
    return FormPrint.record(
        actor=actor,
        code=new_code(secrets.token_bytes(16)),
        form=form,
        unit=unit,
        period=period,
        purpose=purpose,
        printed_on=rt.clock.today(),
        node=node_name(rt),
        public_key=key.public_hex,
    )


async def print_household(
    rt: Runtime,
    key: FormKey,
    *,
    actor: Actor,
    file_id: UUID,
    form: HouseholdForm,
    version: int | None,
    purpose: str,
    admit: Callable[[], None] = lambda: None,
) -> Printed:
    """One household's form as of `version` (default: now), recorded as a print."""
    current = await rt.files.get(file_id)
    authorise_print(actor, current.unit)
    stated = checked_purpose(purpose)
    admit()
    h, event_hash = await _household(rt, file_id, version)
    act = _record(
        rt,
        key,
        actor=actor,
        form=Form(form.value),
        unit=current.establishing_unit,
        period="",
        purpose=stated,
    )
    act.include(
        file_id=file_id,
        file_unit=current.establishing_unit,
        version=h.file.version,
        event_hash=event_hash,
    )
    token = key.sign(
        {
            "c": act.code,
            "k": form.value,
            "n": act.node,
            "f": str(file_id),
            "v": h.file.version,
            "h": event_hash,
        }
    )
    # drawn in a worker thread: the event loop goes on serving while fpdf2 lays out the pages
    pdf = await asyncio.to_thread(
        render,
        [household_forms.section(form, h, Stamp(token, shown(act.code)))],
        household_forms.paper(form),
    )
    await rt.files.record(act)
    log.info(
        "form.printed", file_id=str(file_id), form=form.value, version=h.file.version, code=act.code
    )
    return Printed(pdf, shown(act.code), 1)


async def _unit_households(
    rt: Runtime, unit: str
) -> AsyncIterator[tuple[household_forms.Household, str]]:
    root = UnitCode(unit)
    for file_id in await form_reads.household_ids(rt.pool, unit):
        h, event_hash = await _household(rt, file_id, None)
        if UnitCode(h.file.establishing_unit).is_within(root):
            yield h, event_hash


async def _records_of(
    rt: Runtime, actor: Actor, unit: str, form: UnitForm, period: str, start: date, end: date
) -> tuple[unit_forms.Records, list[tuple[UUID, str, int, str]], list[UUID]]:
    """What a form of the unit's own records prints: the records, the record streams it rests on
    (stream, unit, version, hash of its last event: recorded on the print, so the code tells
    whether the records changed since) and the files it names (the meetings' votes)."""
    records = PgUnitRecords(rt.store, rt.codec)
    if form is UnitForm.ASSESSMENT:
        found = await records.assessment(actor=actor, unit=unit, period=period)
        stream = await records.events(unit)
        rests = [(stream[-1].stream_id, unit, stream[-1].version, stream[-1].hash.hex())]
        return unit_forms.Records(assessment=found), rests, []
    streams = await records.of_subtree(unit)
    meetings = sorted(
        (m for r, _, _ in streams for m in r.meetings if start <= m.held_on <= end),
        key=lambda m: (m.held_on, m.unit, str(m.meeting_id)),
    )
    held_by = {m.unit for m in meetings}
    rests = [
        (unit_records_id(r.unit), r.unit, version, digest.hex())
        for r, digest, version in streams
        if r.unit in held_by
    ]
    names = {code: await _unit_name(rt, code) for code in sorted(held_by)}
    voted = list(dict.fromkeys(v.file_id for m in meetings for v in m.votes))
    return unit_forms.Records(meetings=meetings, unit_names=names), rests, voted


async def print_unit(
    rt: Runtime,
    key: FormKey,
    *,
    actor: Actor,
    unit: str,
    form: UnitForm,
    period: str,
    purpose: str,
    admit: Callable[[], None] = lambda: None,
    sheet: bool = False,
) -> Printed:
    """A unit's form for `period` (its files as now), recorded as one disclosure per file.

    The minutes and the 考核表 come from the unions' own records (`domain.unit_records`): the
    print also records the version of each record stream it rests on. `sheet`: the 任务清单 as
    an xlsx workbook (`Printed.sheet`) instead of a PDF."""
    authorise_print(actor, UnitCode(unit))
    stated = checked_purpose(purpose)
    start, end = unit_forms.period_bounds(period)
    if sheet and form is not UnitForm.TASKS:
        raise InvalidValue("format", "only the task list is a workbook", zh="仅任务清单可导出表格")
    admit()
    records = unit_forms.Records()
    rests: list[tuple[UUID, str, int, str]] = []
    chosen: list[tuple[household_forms.Household, str]]
    if form in unit_forms.FROM_RECORDS:
        records, rests, voted = await _records_of(rt, actor, unit, form, period, start, end)
        root = UnitCode(unit)
        chosen = [
            (h, digest)
            for h, digest in [await _household(rt, file_id, None) for file_id in voted]
            if UnitCode(h.file.establishing_unit).is_within(root)
        ]
    else:
        chosen = [
            (h, digest)
            async for h, digest in _unit_households(rt, unit)
            if unit_forms.included(form, h, start, end)
        ]
        chosen.sort(
            key=lambda pair: (
                pair[0].file.establishing_unit,
                pair[0].file.applied_on,
                str(pair[0].file.id),
            )
        )
    act = _record(
        rt, key, actor=actor, form=Form(form.value), unit=unit, period=period, purpose=stated
    )
    for h, event_hash in chosen:
        act.include(
            file_id=h.file.id,
            file_unit=h.file.establishing_unit,
            version=h.file.version,
            event_hash=event_hash,
        )
    for stream_id, stream_unit, version, event_hash in rests:
        act.include(
            file_id=stream_id, file_unit=stream_unit, version=version, event_hash=event_hash
        )
    digest = files_digest([(f, v, e) for f, _u, v, e in act.files])
    token = key.sign(
        {"c": act.code, "k": form.value, "n": act.node, "u": unit, "p": period, "d": digest}
    )
    name = await _unit_name(rt, unit)
    stamp = Stamp(token, shown(act.code))
    households = [h for h, _ in chosen]
    if sheet:
        rows = unit_forms.task_rows(households, end, rt.clock.today())
        content = task_sheet.workbook(
            unit_forms.TASK_HEADINGS,
            rows,
            title=f"{FORM_TITLES[form.value]} · {name} · 期间 {period}",
            code=f"核验码 {shown(act.code)}",
        )
    else:
        sections = unit_forms.sections(
            form, name, period, households, stamp, records, rt.clock.today()
        )
        content = await asyncio.to_thread(render, sections, unit_forms.PAPER[form])
    await rt.files.record(act)
    log.info(
        "form.printed", unit=unit, form=form.value, period=period, files=len(chosen), code=act.code
    )
    return Printed(content, shown(act.code), len(chosen))


async def print_unit_files(
    rt: Runtime,
    key: FormKey,
    *,
    actor: Actor,
    unit: str,
    form: HouseholdForm,
    purpose: str,
    progress: Callable[[int, int], None] = lambda done, total: None,
    separate: bool = False,
) -> Printed:
    """Every file's `form` of a unit's subtree in one PDF, each file with its own code (the CLI's
    `bangfu forms print --unit`). The sections are rendered as the files are read; the prints
    are recorded together at the end, after the PDF is complete. `separate`: one PDF per file
    (`parts`, named by file id) instead of one for all."""
    authorise_print(actor, UnitCode(unit))
    stated = checked_purpose(purpose)
    ids = await form_reads.household_ids(rt.pool, unit)
    sections: list[Section] = []
    acts: list[FormPrint] = []
    root = UnitCode(unit)
    for done, file_id in enumerate(ids, 1):
        h, event_hash = await _household(rt, file_id, None)
        if UnitCode(h.file.establishing_unit).is_within(root):
            act = _record(
                rt,
                key,
                actor=actor,
                form=Form(form.value),
                unit=h.file.establishing_unit,
                period="",
                purpose=stated,
            )
            act.include(
                file_id=file_id,
                file_unit=h.file.establishing_unit,
                version=h.file.version,
                event_hash=event_hash,
            )
            token = key.sign(
                {
                    "c": act.code,
                    "k": form.value,
                    "n": act.node,
                    "f": str(file_id),
                    "v": h.file.version,
                    "h": event_hash,
                }
            )
            sections.append(household_forms.section(form, h, Stamp(token, shown(act.code))))
            acts.append(act)
        progress(done, len(ids))
    paper = household_forms.paper(form)
    parts: tuple[tuple[str, bytes], ...] = ()
    if separate:
        parts = tuple(
            (f"{form.value}-{a.files[0][0]}", render([s], paper))
            for a, s in zip(acts, sections, strict=True)
        )
        pdf = b""
    else:
        pdf = render(sections, paper)
    for start in range(0, len(acts), 500):
        await rt.files.record(*acts[start : start + 500])
    return Printed(pdf, "", len(acts), parts)


# ------------------------------------------------------------------------------ verification


@dataclass(frozen=True)
class Change:
    version: int
    type: str
    recorded_at: datetime


@dataclass(frozen=True)
class FileCheck:
    file_id: UUID
    version: int
    matches: bool  # the file's event at `version` has the printed hash
    current_version: int
    changes: tuple[Change, ...]  # the events after the printed version


@dataclass(frozen=True)
class Verification:
    code: str
    form: str
    unit: str
    period: str
    printed_by: str
    printed_on: str
    node: str
    purpose: str
    token_checked: bool
    files: tuple[FileCheck, ...] = field(default_factory=tuple)

    @property
    def matches(self) -> bool:
        return all(f.matches for f in self.files)

    @property
    def changed_since(self) -> bool:
        return any(f.changes for f in self.files)


async def print_unit_of(rt: Runtime, *, code: str | None, token: str | None) -> str:
    """The unit a print is filed for (the CLI verifies as that unit's inspector)."""
    parsed = parse_code(str(read_token(token)["c"])) if token else parse_code(code or "")
    rows = await rt.store.read_stream(print_id(parsed), up_to_version=1)
    if not rows:
        raise NotFound(f"no print with the code {shown(parsed)}", zh="未找到该核验码对应的打印记录")
    created = rt.codec.decode(
        rows[0].type,
        rows[0].payload,
        stream_id=rows[0].stream_id,
        version=1,
        recorded_at=rows[0].recorded_at,
    )
    assert isinstance(created, FormPrint.Printed)  # noqa: S101 — a print stream begins with its print
    return str(created.unit)


async def verify(
    rt: Runtime, *, actor: Actor, code: str | None = None, token: str | None = None
) -> Verification:
    """Check a printed form by its short code or its scanned token (any node holding the print
    record and the files' events). A mistyped code or a forged token is `InvalidValue`; a code no
    print has is `NotFound`."""
    if token:
        payload = read_token(token)
        parsed = parse_code(str(payload["c"]))
    elif code:
        parsed = parse_code(code)
    else:
        raise InvalidValue(
            "code", "give the short code or the token", zh="请输入核验码或扫描二维码"
        )
    rows = await rt.store.read_stream(print_id(parsed))
    if not rows:
        raise NotFound(f"no print with the code {shown(parsed)}", zh="未找到该核验码对应的打印记录")
    act: Aggregate | None = None
    for r in rows:
        event = rt.codec.decode(
            r.type, r.payload, stream_id=r.stream_id, version=r.version, recorded_at=r.recorded_at
        )
        act = event.mutate(act)
    assert isinstance(act, FormPrint)  # noqa: S101 — a print stream holds a print
    # Verifying reveals no personal data (only versions and event types): any reader of the
    # unit's files may verify, as a clerk who finds a paper in a drawer does.
    authorise(actor, Act.READ, UnitCode(act.unit))
    checked = False
    if token:
        payload = verify_token(token, act.public_key)
        expected: dict[str, object] = {"c": act.code, "k": act.form, "n": act.node}
        if len(act.files) == 1 and not act.period:
            file_id, _unit, version, event_hash = act.files[0]
            expected |= {"f": str(file_id), "v": version, "h": event_hash}
        else:
            expected |= {
                "u": act.unit,
                "p": act.period,
                "d": files_digest([(f, v, h) for f, _u, v, h in act.files]),
            }
        if payload != expected:
            raise InvalidValue(
                "token", "the token does not match the print record", zh="二维码与打印记录不符"
            )
        checked = True
    results: list[FileCheck] = []
    for file_id, _unit, version, event_hash in act.files:
        stream = await rt.store.read_stream(file_id)
        at = next((e for e in stream if e.version == version), None)
        later = tuple(
            Change(e.version, e.type, e.recorded_at) for e in stream if e.version > version
        )
        results.append(
            FileCheck(
                file_id=file_id,
                version=version,
                matches=at is not None and at.hash.hex() == event_hash,
                current_version=stream[-1].version if stream else 0,
                changes=later,
            )
        )
    return Verification(
        code=shown(act.code),
        form=act.form,
        unit=act.unit,
        period=act.period,
        printed_by=f"{act.actor.user}@{act.actor.unit}",
        printed_on=act.printed_on.isoformat(),
        node=act.node,
        purpose=act.purpose,
        token_checked=checked,
        files=tuple(results),
    )
