"""`bangfu export ledger`: the ledger (台账) of a subtree as an xlsx workbook.

    bangfu export ledger --unit CODE [--out FILE] [--status S] [--category C] [--file-level L]
                         [--cause C] [--worker-kind K]

Reads through `adapters.pg.reads`, as the HTTP export does. Exit status 2 for a bad unit code.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from adapters.pg import reads
from adapters.runtime.bootstrap import Runtime
from adapters.sheets import ledger as exports
from domain.errors import DomainError
from domain.units import UnitCode
from domain.values import Category, Cause, FileLevel, Status, WorkerKind

console = Console(stderr=False)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `export ledger` to `bangfu`'s subparsers."""
    e = sub.add_parser("export", help="export a read model to a spreadsheet")
    what = e.add_subparsers(dest="what", required=True)
    x = what.add_parser("ledger", help="the ledger (台账) of a subtree as xlsx")
    x.add_argument("--unit", required=True, help="unit code: the subtree to export, e.g. 130306")
    x.add_argument("--out", type=Path, help="the xlsx file (default ledger-UNIT-DATE.xlsx)")
    for flag, kind in (
        ("--status", Status),
        ("--category", Category),
        ("--file-level", FileLevel),
        ("--cause", Cause),
        ("--worker-kind", WorkerKind),
    ):
        x.add_argument(
            flag,
            action="append",
            choices=[v.value for v in kind],
            help="only these (repeat for several)",
        )


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    try:
        root = UnitCode(args.unit)
    except DomainError as error:
        console.print(f"[red]error:[/red] {error.message}")
        return 2
    out: Path = args.out or Path(f"ledger-{root.value}-{rt.clock.today().isoformat()}.xlsx")
    where = reads.LedgerFilter(
        root=root.value,
        statuses=tuple(args.status or ()),
        categories=tuple(args.category or ()),
        file_levels=tuple(args.file_level or ()),
        causes=tuple(args.cause or ()),
        worker_kinds=tuple(args.worker_kind or ()),
    )
    with out.open("wb") as sink:
        rows = await exports.write_ledger(reads.ledger_rows(rt.pool, where), sink)
    console.print(f"已导出 {rows} 户到 {out} (exported {rows} files to {out})")
    return 0
