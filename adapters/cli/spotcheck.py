"""`bangfu spot-check`: sample the files of a subtree, check each by replay, write the report.

    bangfu spot-check --unit 1303 --sample 200 --seed 7 --out report.xlsx
    bangfu spot-check --unit 13 --fraction 0.01 --status approved --level city --as-of 2026-11-21

The check runs as an inspector of `--unit` (or `--role approver`, for a district); it is recorded
in that unit's spot-check stream exactly as `POST /api/v1/spot-checks` records it. The read models
are caught up first (unless `--no-catch-up`), so the frame is the ledger as the log stands now.
Registered in `adapters.cli` as `add_parser(sub)` and `run(rt, args)`.
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rich.console import Console
from rich.table import Table

from adapters.cli import progress
from adapters.cli.shared import day
from adapters.runtime.bootstrap import Runtime
from adapters.services.spotcheck import Request, run_spot_check
from adapters.sheets import spotcheck_report as report
from domain.errors import DomainError
from domain.spotcheck import Strata
from domain.values import Actor, Level, Role, Status

console = Console()
DEFAULT_SAMPLE = 200


def _fraction(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError("a fraction such as 0.05") from None
    if not Decimal(0) < value <= Decimal(1):
        raise argparse.ArgumentTypeError("a fraction above 0 and at most 1")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `spot-check` subcommand to `bangfu`'s subparsers."""
    p = sub.add_parser(
        "spot-check",
        help="抽查: sample files of a subtree, check each by replay, write the xlsx report",
    )
    p.add_argument("--unit", required=True, help="the subtree to check (and the checking unit)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--sample", type=int, help=f"files to draw (default {DEFAULT_SAMPLE})")
    size.add_argument("--fraction", type=_fraction, help="or a share of the frame, e.g. 0.05")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same sample)")
    p.add_argument("--as-of", type=day, help="the day the rules judge on (default today)")
    p.add_argument(
        "--status",
        action="append",
        choices=[s.value for s in Status],
        help="only files in this status, one stratum each (repeat for several)",
    )
    p.add_argument(
        "--stratum-unit",
        action="append",
        help="only files of this unit's subtree, one stratum each (repeat for several)",
    )
    p.add_argument(
        "--level",
        choices=[lv.value for lv in Level],
        help="one stratum per unit at this level, e.g. district",
    )
    p.add_argument("--user", default="cli", help="recorded as the checker (default cli)")
    p.add_argument(
        "--role",
        default=Role.INSPECTOR.value,
        choices=[Role.INSPECTOR.value, Role.APPROVER.value],
        help="the checker's role (default inspector)",
    )
    p.add_argument("--out", type=Path, help="the xlsx report (default spot-check-UNIT-ID.xlsx)")
    p.add_argument(
        "--no-catch-up",
        action="store_true",
        help="check against the ledger as it is, without catching the read models up first",
    )


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    """Run the spot-check; 0 when it is recorded (whatever it found), 2 when it was refused."""
    if not args.no_catch_up:
        await rt.projections.catch_up()
    actor = Actor(args.user, args.unit, Role(args.role))
    request = Request(
        scope=args.unit,
        as_of=args.as_of or rt.clock.today(),
        seed=args.seed,
        sample=None if args.fraction is not None else (args.sample or DEFAULT_SAMPLE),
        fraction=args.fraction,
        strata=Strata(
            tuple(Status(s) for s in args.status or ()),
            tuple(args.stratum_unit or ()),
            Level(args.level) if args.level else None,
        ),
    )
    try:
        with progress.bar() as bar:
            task = bar.add_task("抽查 checking files", total=None)
            check = await run_spot_check(
                store=rt.store,
                codec=rt.codec,
                actor=actor,
                request=request,
                progress=progress.done_of(bar, task),
            )
    except DomainError as error:
        console.print(f"[red]error:[/red] {error.zh} ({error.message})")
        return 2
    summary = check.summary
    assert summary is not None  # noqa: S101 — run_spot_check returns a completed check
    names = await report.unit_names(rt.pool, report.units_of(check))
    out: Path = args.out or Path(f"spot-check-{check.scope}-{check.id}.xlsx")
    with out.open("wb") as sink:
        report.write_xlsx(check, sink, names=names)

    console.print(
        f"抽查 {check.id}：范围 {check.scope}，抽样框 {check.frame_size} 户，"
        f"抽查 {summary.files_checked} 户，{summary.files_with_findings} 户有问题，"
        f"共 {summary.findings} 个问题 (log position {check.log_position}, seed {check.seed})"
    )
    rates = Table(title="评估指标 rates")
    rates.add_column("指标")
    rates.add_column("比率", justify="right")
    rates.add_column("分子/分母", justify="right")
    for name, rate in (
        ("错评率 wrong recognition", summary.wrong_recognition),
        ("错退率 wrong exit", summary.wrong_exit),
        ("结对帮扶覆盖率 pairing coverage", summary.pairing_coverage),
    ):
        rates.add_row(name, rate.percent(), f"{rate.numerator}/{rate.denominator}")
    console.print(rates)
    rules = Table(title="按规则 findings by rule")
    for column in ("规则", "说明", "问题数", "档案数"):
        rules.add_column(column)
    for row in report.by_rule(summary):
        rules.add_row(row.rule, row.title, str(row.findings), str(row.files))
    console.print(rules)
    console.print(f"报告已写入 {out} (report written to {out})")
    return 0
