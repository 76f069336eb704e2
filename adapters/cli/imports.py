"""`bangfu import files`: bring existing household files in from a spreadsheet, with their history.

    bangfu import files FILES.xlsx --unit 130306001 [--user U] [--report R.json] [--workers N]

Recorded as `POST /api/v1/imports` records it, approvals under the district holding `--unit`.
Exit status 2 when refused; refused rows are listed (and written to `--report`), not fatal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from rich.console import Console

from adapters.cli import progress
from adapters.cli.shared import refusal_exits_2
from adapters.pg.policies import PgPolicies
from adapters.runtime.bootstrap import Runtime
from adapters.services import importer
from domain.units import UnitCode
from domain.values import Actor, Level, Role

console = Console()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `import files` to `bangfu`'s subparsers."""
    imp = sub.add_parser("import", help="导入: bring existing spreadsheets in")
    what = imp.add_subparsers(dest="import_what", required=True)
    f = what.add_parser("files", help="import household files with their history")
    f.add_argument("file", type=Path, help="the files, xlsx or csv (UTF-8 or GBK)")
    f.add_argument(
        "--unit",
        required=True,
        help="the base-level union (or a subtree, with a 基层工会代码 column)",
    )
    f.add_argument("--user", default="import", help="recorded as the importing approver")
    f.add_argument("--report", type=Path, help="write the refused rows as JSON")
    f.add_argument(
        "--workers",
        type=int,
        help="processes building the files (default: one per CPU for 4,000 rows or more)",
    )


def approver_of(unit: str) -> str:
    """The unit an import's approvals are recorded under: the district holding `unit` (below a
    provincial or city non-geographic union, the union holding a base-level `unit`)."""
    code = UnitCode(unit)
    district = code.at(Level.DISTRICT)
    if district is not None:
        return district.value
    parent = code.parent
    return parent.value if code.implied_level is Level.BASE and parent is not None else code.value


@refusal_exits_2
async def run(rt: Runtime, args: argparse.Namespace) -> int:
    """0 when done, 2 when refused."""
    path: Path = args.file
    book = await PgPolicies(rt.store, rt.codec).book()
    with progress.bar() as bar:
        task = bar.add_task("导入 importing rows", total=None)
        report = await importer.import_files(
            files=rt.files,
            codec=rt.codec,
            book=book,
            actor=Actor(args.user, approver_of(args.unit), Role.APPROVER),
            unit=args.unit,
            data=await asyncio.to_thread(path.read_bytes),
            name=path.name,
            today=rt.clock.today(),
            progress=progress.done_of(bar, task),
            workers=args.workers,
        )
    console.print(
        f"导入 {path.name}：{report.rows} 行，新建 {report.created} 户（{report.events} 个事件），"
        f"已存在跳过 {report.skipped} 户，拒绝 {len(report.refused)} 行"
    )
    for e in report.refused[:20]:
        console.print(f"  第{e.row}行 {e.column}：{e.reason}")
    if args.report:
        args.report.write_text(
            json.dumps(report.as_json(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return 0
