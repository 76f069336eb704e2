"""Printed forms: how long a form takes to render beside the same form with no data, and the
peak memory of a whole unit's files in one PDF (docs/benchmarks.md, "Forms").

    python bench/forms.py            # 档案表 ×100, 名单公示 of 200 names ×10, unit print of 1,000
    python bench/forms.py --quick    # ×20, ×3, 100 files

Files are built in memory by the demo's planner through the domain commands (no database: this
measures the layout and the PDF, not the reads the service does before). The committed font is
parsed before timing, as a running server has it after its first print.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

# the repository first, and not this folder: its http.py would shadow the standard library's
sys.path[0] = str(Path(__file__).resolve().parents[1])

from adapters.forms import fonts
from adapters.forms import household as household_forms
from adapters.forms import unit as unit_forms
from adapters.forms.pdf import Cell, Grid, Paragraph, Section, Stamp, Table, render
from adapters.services import demo
from domain.printing import HouseholdForm, UnitForm
from domain.values import AssistanceKind, Department, Role, Status

TODAY = date(2026, 11, 20)
STAMP = Stamp("x" * 240, "K7PD-3QX9-M2AB")


def households(count: int, seed: int = 7) -> list[household_forms.Household]:
    planner = demo.Planner(today=TODAY, seed=seed)
    built = []
    while len(built) < count:
        h = demo.build_in_memory(planner.plan(), today=TODAY)
        built.append(household_forms.Household(h, list(h.pending_events), "抚宁区某某公司工会"))
    return built


def thirty_events() -> household_forms.Household:
    """An approved file brought to 30 events with visits and assistance."""
    for candidate in households(200, seed=3):
        f = candidate.file
        if f.status is Status.APPROVED:
            actor = demo.actor_for(Role.CLERK, f.establishing_unit)
            day = max(f.approved_on, TODAY - timedelta(days=300))
            while f.version < 30:
                day = min(day + timedelta(days=9), TODAY)
                if f.version % 2:
                    f.visit(
                        actor=actor,
                        visited_on=day,
                        cadre="王建国",
                        content="入户走访，了解就业和就医情况",
                        today=TODAY,
                    )
                else:
                    f.assist(
                        actor=actor,
                        assisted_on=day,
                        kind=AssistanceKind.LIVING_AID,
                        amount=Decimal("500.00"),
                        department=Department.UNION,
                        helper="王建国",
                        note="春节慰问",
                        today=TODAY,
                    )
            return household_forms.Household(f, list(f.pending_events), candidate.unit_name)
    raise SystemExit("no approved demo file")


def blank(section: Section) -> Section:
    """The same form with no data: every value cell and table row empty."""
    blocks: list[object] = []
    for block in section.blocks:
        if isinstance(block, Grid):
            rows = tuple(tuple(c if c.label else Cell("", c.span) for c in r) for r in block.rows)
            blocks.append(replace(block, rows=rows))
        elif isinstance(block, Table):
            blocks.append(replace(block, rows=(), empty_rows=len(block.rows)))
        elif isinstance(block, Paragraph):
            blocks.append(replace(block, text=""))
        else:
            blocks.append(block)
    return replace(section, blocks=tuple(blocks))


def timed(section: Section, runs: int, paper) -> tuple[list[float], list[float]]:
    """Each run's wall-clock and CPU milliseconds (the CPU time is what the work costs; on a
    shared machine the wall clock adds the time spent waiting for a core)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, started = time.perf_counter(), time.thread_time()
        render([section], paper)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - started) * 1000)
    return wall, cpu


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(
    name: str,
    data: tuple[list[float], list[float]],
    empty: tuple[list[float], list[float]],
    target: float,
) -> None:
    (wall, cpu), (empty_wall, empty_cpu) = data, empty
    print(
        f"{name}: wall p50 {p(wall, 0.5):.0f} ms, p99 {p(wall, 0.99):.0f} ms"
        f" (CPU p50 {p(cpu, 0.5):.0f} ms, p99 {p(cpu, 0.99):.0f} ms);"
        f" with no data wall p50 {p(empty_wall, 0.5):.0f} ms, p99 {p(empty_wall, 0.99):.0f} ms"
        f" (CPU p50 {p(empty_cpu, 0.5):.0f} ms);"
        f" ratio (p50) wall {p(wall, 0.5) / p(empty_wall, 0.5):.2f},"
        f" CPU {p(cpu, 0.5) / p(empty_cpu, 0.5):.2f};"
        f" target p99 ≤ {target:.0f} ms: wall {'met' if p(wall, 0.99) <= target else 'NOT met'},"
        f" CPU {'met' if p(cpu, 0.99) <= target else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs, lists, files = (20, 3, 100) if args.quick else (100, 10, 1000)
    fonts.master()
    render([Section("预热", (), STAMP)])

    rich = thirty_events()
    section = household_forms.section(HouseholdForm.FILE, rich, STAMP)
    report(
        f"档案表 of a {rich.file.version}-event file (×{runs})",
        timed(section, runs, household_forms.paper(HouseholdForm.FILE)),
        timed(blank(section), runs, household_forms.paper(HouseholdForm.FILE)),
        200,
    )

    appraised = [h for h in households(600, seed=5) if h.appraised is not None][:200]
    listed = unit_forms.section(UnitForm.PUBLICITY, "抚宁区总工会", "2026", appraised, STAMP)
    report(
        f"名单公示 of {len(appraised)} names (×{lists})",
        timed(listed, lists, unit_forms.PAPER[UnitForm.PUBLICITY]),
        timed(blank(listed), lists, unit_forms.PAPER[UnitForm.PUBLICITY]),
        1000,
    )

    unit = households(files, seed=9)
    sections = [household_forms.section(HouseholdForm.FILE, h, STAMP) for h in unit]
    start, started = time.perf_counter(), time.thread_time()
    pdf = render(sections)
    took, took_cpu = time.perf_counter() - start, time.thread_time() - started
    start, started = time.perf_counter(), time.thread_time()
    render([blank(s) for s in sections])
    empty, empty_cpu = time.perf_counter() - start, time.thread_time() - started
    # memory in a run of its own: tracing allocations slows the run it traces several times
    tracemalloc.start()
    render(sections)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"unit print of {files} 档案表 in one PDF: wall {took:.1f} s"
        f" ({took / files * 1000:.0f} ms a file), CPU {took_cpu:.1f} s, {len(pdf) / 1e6:.1f} MB;"
        f" with no data wall {empty:.1f} s, CPU {empty_cpu:.1f} s"
        f" (ratio wall {took / empty:.2f}, CPU {took_cpu / empty_cpu:.2f});"
        f" peak Python memory {peak / 1e6:.0f} MB, process peak RSS {rss:.0f} MB"
    )
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"load average at the end of the run: {' '.join(load)}")


if __name__ == "__main__":
    main()
