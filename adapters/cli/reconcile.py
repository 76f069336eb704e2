"""`bangfu reconcile`: a paper ledger (台账) against the electronic files.

    bangfu reconcile LEDGER.xlsx --unit 130306 --as-of 2026-10-31 --out report.xlsx [--json R]

Recorded exactly as `POST /api/v1/reconciliations` records it. Exit status 2 when refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from rich.console import Console

from adapters.cli import progress
from adapters.cli.shared import day, refusal_exits_2
from adapters.runtime.bootstrap import Runtime
from adapters.services import reconcile
from domain.reconciliation import KINDS
from domain.values import Actor, Role

console = Console()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `reconcile` to `bangfu`'s subparsers."""
    p = sub.add_parser("reconcile", help="台账核对: a paper ledger against the electronic files")
    p.add_argument("ledger", type=Path, help="the ledger, xlsx or csv (UTF-8 or GBK)")
    p.add_argument("--unit", required=True, help="the subtree reconciled (and the checking unit)")
    p.add_argument("--as-of", type=day, help="the ledger's date (default today)")
    p.add_argument("--user", default="cli")
    p.add_argument("--role", default=Role.INSPECTOR.value, choices=[r.value for r in Role][:3])
    p.add_argument("--out", type=Path, help="the xlsx report (default reconciliation-ID.xlsx)")
    p.add_argument("--json", type=Path, help="also write the report as JSON")


@refusal_exits_2
async def run(rt: Runtime, args: argparse.Namespace) -> int:
    """0 when done, 2 when refused."""
    path: Path = args.ledger
    with progress.bar() as bar:
        task = bar.add_task("核对 reading the files", total=None)
        result = await reconcile.reconcile(
            store=rt.store,
            codec=rt.codec,
            hasher=rt.hasher,
            actor=Actor(args.user, args.unit, Role(args.role)),
            scope=args.unit,
            ledger_date=args.as_of or rt.clock.today(),
            data=await asyncio.to_thread(path.read_bytes),
            name=path.name,
            progress=progress.done_of(bar, task),
        )
    data = reconcile.report_json(result)
    out: Path = args.out or Path(f"reconciliation-{result.id}.xlsx")
    with out.open("wb") as sink:
        reconcile.write_xlsx(result, sink)
    if args.json:
        args.json.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(
        f"台账核对 {result.id}：台账 {data['rows']} 行，匹配 {data['matched']} 户，"
        f"电子档案 {data['files']} 户"
    )
    for kind, count in data["by_kind"].items():
        console.print(f"  {KINDS[kind]}: {count}")
    console.print(f"报告已写入 {out} (report written to {out})")
    return 0
