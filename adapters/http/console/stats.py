"""A unit's statistics with charts drawn on the server as SVG: no script, no chart library, no
network. The figures are the API's (`GET /api/v1/stats`: `adapters.http.readmodels.unit_figures`
over `adapters.pg.reads`); every bar is a link to the ledger filtered to what it counts.

Charts: files now by status, and approved files by category, file level, cause and worker kind;
the period's flows (new files, exits by kind, returns, assistance by category); and, with a
level below the unit's, the children units side by side (one bar each, split by status).

SVG attributes only (`fill`, `width`, …), never a `style` attribute: the console's policy allows
no inline style.

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.datastructures import State
from litestar.response import Redirect, Template

from adapters.http.console.common import CONSOLE, ERRORS, lang_of, render, signed_in
from adapters.http.readmodels import PERIOD, scope, unit_figures
from adapters.http.schemas import UnitFigures
from adapters.pg import reads
from adapters.runtime.bootstrap import Runtime
from adapters.services.accounts import Session
from domain.errors import InvalidValue
from domain.values import Level, Status, label

WIDTH = 560  # the drawing's width; the page scales it to the screen (viewBox)
LABEL = 150  # room for the labels on the left
BAR = 22
GAP = 6
PALETTE = (
    "#b3261e",
    "#1f6feb",
    "#2da44e",
    "#bf8700",
    "#8250df",
    "#cf222e",
    "#0a7b83",
    "#6e7781",
    "#d4a72c",
    "#953800",
    "#116329",
)
# the ledger's filter for each stock dimension (the statistics' `cause` is the primary cause)
LEDGER_FILTER = {
    "status": "status",
    "category": "category",
    "file_level": "file_level",
    "cause": "cause",
    "worker_kind": "worker_kind",
    "regular_aid": "status",  # its keys are the statuses under regular aid (in force, relieved)
}
# The dimensions whose keys are statuses: their bars open the ledger of that status; the others
# count files in force, so theirs open the approved files of that key.
BY_STATUS = frozenset({"status", "regular_aid"})


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    y: int
    width: int
    href: str
    colour: str
    amount: str = ""


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    height: int


def _ledger(unit: str, **filters: str) -> str:
    return f"{CONSOLE}/ledger?" + urlencode({"unit": unit, **filters})


def chart(title: str, items: list[tuple[str, int, str, str]]) -> Chart:
    """A horizontal bar chart of (label, count, link, amount) items, the longest bar full width."""
    top = max((count for _, count, _, _ in items), default=0) or 1
    bars = [
        Bar(
            label=name,
            count=count,
            y=i * (BAR + GAP),
            width=max(1, round((WIDTH - LABEL - 60) * count / top)) if count else 0,
            href=href,
            colour=PALETTE[i % len(PALETTE)],
            amount=amount,
        )
        for i, (name, count, href, amount) in enumerate(items)
    ]
    return Chart(title, bars, max(1, len(bars)) * (BAR + GAP))


def stock_charts(figures: UnitFigures, english: bool) -> list[Chart]:
    charts = []
    for group in figures.stock:
        extra = {} if group.dimension in BY_STATUS else {"status": Status.APPROVED.value}
        items = [
            (
                f.key if english and f.key else f.label,
                f.count,
                _ledger(figures.unit, **extra, **{LEDGER_FILTER[group.dimension]: f.key})
                if f.key
                else _ledger(figures.unit, **extra),
                "",
            )
            for f in group.figures
        ]
        charts.append(chart(group.dimension if english else group.label, items))
    return charts


def flow_charts(figures: UnitFigures, english: bool) -> list[Chart]:
    return [
        chart(
            group.metric if english else group.label,
            [
                (f.key or group.metric if english else f.label, f.count, "", f"{f.amount}")
                for f in group.figures
            ],
        )
        for group in figures.flow
    ]


@dataclass(frozen=True)
class Segment:
    x: int
    width: int
    count: int
    label: str
    href: str
    colour: str


@dataclass(frozen=True)
class Row:
    unit: str
    name: str
    total: int
    y: int
    segments: list[Segment]


def children_chart(children: list[UnitFigures], english: bool) -> tuple[list[Row], list[Any], int]:
    """Each child unit as one bar split by status, on one scale: the units side by side."""
    statuses = list(Status)
    colours = {s.value: PALETTE[i % len(PALETTE)] for i, s in enumerate(statuses)}

    def counts(figures: UnitFigures) -> dict[str, int]:
        group = next((g for g in figures.stock if g.dimension == "status"), None)
        return {f.key: f.count for f in group.figures} if group else {}

    totals = {c.unit: sum(counts(c).values()) for c in children}
    top = max(totals.values(), default=0) or 1
    rows = []
    for i, child in enumerate(children):
        x = LABEL
        segments = []
        for status, count in sorted(
            counts(child).items(),
            key=lambda kv: [s.value for s in statuses].index(kv[0]) if kv[0] in colours else 99,
        ):
            width = round((WIDTH - LABEL - 60) * count / top)
            segments.append(
                Segment(
                    x,
                    width,
                    count,
                    status if english else label(Status(status)) if status in colours else status,
                    _ledger(child.unit, status=status),
                    colours.get(status, "#6e7781"),
                )
            )
            x += width
        rows.append(
            Row(child.unit, child.name or child.unit, totals[child.unit], i * (BAR + GAP), segments)
        )
    legend = [(s.value if english else label(s), colours[s.value]) for s in statuses]
    return rows, legend, max(1, len(rows)) * (BAR + GAP)


@get(f"{CONSOLE}/stats", include_in_schema=False, exception_handlers=ERRORS)
async def stats_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    rt: Runtime = state.rt
    unit = request.query_params.get("unit") or None
    if unit is not None and (not unit.isalnum() or len(unit) > 24):
        raise InvalidValue("unit", "a unit code", zh="单位代码无效")
    root = await scope(session.actor, unit, state.units)
    period = request.query_params.get("period") or str(rt.clock.today().year)
    if not re.fullmatch(PERIOD, period):
        raise InvalidValue(
            "period", "a year or a month", zh="统计期间应为年份（2026）或月份（2026-03）"
        )
    root_level = (await state.units.registry(root.value)).level(root)
    below = [lv for lv in Level if lv.rank > root_level.rank]
    raw_level = request.query_params.get("level") or (below[0].value if below else "")
    level = Level(raw_level) if raw_level in {lv.value for lv in below} else None
    names = await reads.unit_names(rt.pool, [root.value])
    figures = unit_figures(
        root.value,
        names.get(root.value),
        await reads.unit_figures(rt.pool, root.value, period),
        root_level,
    )
    children: list[UnitFigures] = []
    if level is not None:
        found, _ = await reads.children_figures(rt.pool, root.value, level, period)
        child_names = await reads.unit_names(rt.pool, list(found))
        children = [unit_figures(c, child_names.get(c), f, level) for c, f in found.items()]
    english = lang_of(request) == "en"
    rows, legend, rows_height = children_chart(children, english)
    return render(
        request,
        state,
        "stats.html",
        session=session,
        figures=figures,
        period=period,
        levels=[(lv.value, lv.value if english else label(lv)) for lv in below],
        level=level.value if level else "",
        stock=stock_charts(figures, english),
        flow=flow_charts(figures, english),
        rows=rows,
        legend=legend,
        rows_height=rows_height,
        width=WIDTH,
        label_width=LABEL,
        bar=BAR,
    )


ROUTES = [stats_page]
