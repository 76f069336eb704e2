"""The work list: what waits for the signed-in account, each list with its count on the home page
and its own page of files.

- `approvals` (approvers): files appraised and publicised and re-checks' category changes to
  confirm (the approval queue holds both), oldest first, with days waiting;
- `visits`, `rechecks`, `follow_up`, `exit` (clerks, approvers): approved files not visited for
  90 days, annual re-checks due, files out of hardship or relieved in the last 12 months (回头看),
  files due to exit (应予退出) until they exit or an approver keeps them;
- `civil_affairs`, `unchanged`, `never_assisted` (every reader): files with civil-affairs
  findings to act on, open files unchanged for a year (一年未改的档案), approved files never
  assisted (未帮扶过档案).

The queue and the due lists are the API's (`reads.approval_queue`, `reads.due`); the other three
are ledger conditions (`reads.work_filters`). All count in one snapshot (`reads.work_counts`).

`duplicates` (重复建档, approvers and inspectors in the menu): the API's duplicates list
(`reads.duplicates`), 50 people a page with a link to the next.

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect, Template

from adapters.http.console.common import CONSOLE, ERRORS, lang_of, render, signed_in
from adapters.http.readmodels import DUPLICATES_PAGE, duplicates_out, ledger_item
from adapters.pg import reads
from adapters.runtime.bootstrap import Runtime
from adapters.services.accounts import Session
from domain.authorization import Act, authorise
from domain.errors import NotFound
from domain.values import Role

LIST_LIMIT = 200


@dataclass(frozen=True)
class WorkList:
    kind: str
    zh: str
    en: str
    roles: frozenset[Role]


_BASE = frozenset({Role.CLERK, Role.APPROVER})
_READERS = frozenset({Role.CLERK, Role.APPROVER, Role.INSPECTOR, Role.ADMIN})

WORK: tuple[WorkList, ...] = (
    WorkList("approvals", "待审批（评议公示后）", "Awaiting approval", frozenset({Role.APPROVER})),
    WorkList("visits", "走访逾期", "Visits overdue", _BASE),
    WorkList("rechecks", "年度复核到期", "Re-checks due", _BASE),
    WorkList("follow_up", "回头看到期", "Follow-up (回头看) due", _BASE),
    WorkList("exit", "应予退出", "Exit due", _BASE),
    WorkList("civil_affairs", "民政比对待处理", "Civil-affairs findings to act on", _READERS),
    WorkList("unchanged", "一年未更新的档案", "Open files unchanged for a year", _READERS),
    WorkList("never_assisted", "在档未帮扶过的档案", "Approved files never assisted", _READERS),
)
BY_KIND = {w.kind: w for w in WORK}


@dataclass(frozen=True)
class Line:
    """One work list on the home page: its name, count and link."""

    kind: str
    title: str
    count: int
    href: str
    note: str = ""


async def lines(request: Request[Any, Any, Any], state: State, session: Session) -> list[Line]:
    """The signed-in account's work lists with their counts (none for a role that may not read
    files)."""
    actor = session.actor
    if actor.role not in _READERS:
        return []
    authorise(actor, Act.READ, actor.unit)
    rt: Runtime = state.rt
    now = datetime.now(UTC)
    found = await reads.work_counts(rt.pool, actor.unit, now=now, as_of=rt.clock.today())
    english = lang_of(request) == "en"
    shown = []
    for work in WORK:
        if actor.role not in work.roles:
            continue
        note = ""
        if work.kind == "approvals" and found.oldest_waiting is not None:
            days = (now - found.oldest_waiting).days
            note = f"oldest waiting {days} days" if english else f"最久已等待 {days} 天"
            if found.category_changes:
                changes = found.category_changes
                note += (
                    f"; {changes} re-check category changes to confirm"
                    if english
                    else f"，其中复核类别变更待确认 {changes} 件"
                )
        shown.append(
            Line(
                work.kind,
                work.en if english else work.zh,
                found.counts[work.kind],
                f"{CONSOLE}/work/{work.kind}",
                note,
            )
        )
    return shown


@get(f"{CONSOLE}/work/{{kind:str}}", include_in_schema=False, exception_handlers=ERRORS)
async def work_list(
    kind: FromPath[str], request: Request[Any, Any, Any], state: State
) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    work = BY_KIND.get(kind)
    if work is None:
        raise NotFound(f"no work list {kind}", zh="没有这个工作清单")
    actor = session.actor
    authorise(actor, Act.READ, actor.unit)
    rt: Runtime = state.rt
    root = actor.unit
    now = datetime.now(UTC)
    today = rt.clock.today()
    if kind == "approvals":
        rows, total, _ = await reads.approval_queue(rt.pool, root, limit=LIST_LIMIT)
        extra = [f"{(now - r['updated_at']).days}" for r in rows]
    elif kind in reads.DUE_KINDS:
        rows, total, _ = await reads.due(rt.pool, root, kind, as_of=today, limit=LIST_LIMIT)
        extra = [r["due_on"].isoformat() for r in rows]
    else:
        where = reads.work_filters(root, kind, now=now)
        if where is None:
            raise NotFound(f"no work list {kind}", zh="没有这个工作清单")
        rows, _ = await reads.ledger_page(rt.pool, where, sort="updated_at", limit=LIST_LIMIT)
        total = (await reads.work_counts(rt.pool, root, now=now, as_of=today)).counts[kind]
        extra = [r["updated_at"].date().isoformat() for r in rows]
    english = lang_of(request) == "en"
    return render(
        request,
        state,
        "work.html",
        session=session,
        work=work,
        title=work.en if english else work.zh,
        total=total,
        items=list(zip([ledger_item(r) for r in rows], extra, strict=True)),
        limit=LIST_LIMIT,
    )


@get(f"{CONSOLE}/duplicates", include_in_schema=False, exception_handlers=ERRORS)
async def duplicates(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    """重复建档: the people of the account's subtree in more than one open or relieved file
    (`GET /duplicates`), a page at a time with a link to the next."""
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    actor = session.actor
    authorise(actor, Act.READ, actor.unit)
    rt: Runtime = state.rt
    cursor = request.query_params.get("cursor")
    after = reads.Cursor.decode(cursor[:1024], "duplicates") if cursor else None
    found, total, following = await reads.duplicates(
        rt.pool, actor.unit, limit=DUPLICATES_PAGE, after=after
    )
    page = duplicates_out(actor.unit, found, total, following)
    english = lang_of(request) == "en"
    return render(
        request,
        state,
        "duplicates.html",
        session=session,
        title="Filed twice" if english else "重复建档",
        page=page,
        next_href=f"{CONSOLE}/duplicates?{urlencode({'cursor': page.next})}" if page.next else None,
        first_href=f"{CONSOLE}/duplicates" if cursor else None,
    )


ROUTES = [work_list, duplicates]
