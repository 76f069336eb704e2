"""`bangfu reconcile`, `bangfu import files` and `bangfu civil-affairs`: paper against electronic.

    bangfu reconcile LEDGER.xlsx --unit 130306 --as-of 2026-10-31 --out report.xlsx
    bangfu import files FILES.xlsx --unit 130306001
    bangfu civil-affairs LIST.csv --unit 130306

Registered in `adapters.cli` as `add_parser(sub)` and `run(rt, args)`. Each is recorded exactly as
its HTTP route records it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import date
from pathlib import Path

from rich.console import Console

from adapters.cli import progress
from adapters.pg.policies import PgPolicies
from adapters.runtime.bootstrap import Runtime
from adapters.services import civil_affairs, importer, reconcile
from domain.errors import DomainError
from domain.reconciliation import KINDS
from domain.units import UnitCode
from domain.values import Actor, Level, Role

console = Console()
COMMANDS = ("reconcile", "import", "civil-affairs")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a date such as 2026-11-21") from None


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `reconcile`, `import files` and `civil-affairs` to `bangfu`'s subparsers."""
    p = sub.add_parser("reconcile", help="台账核对: a paper ledger against the electronic files")
    p.add_argument("ledger", type=Path, help="the ledger, xlsx or csv (UTF-8 or GBK)")
    p.add_argument("--unit", required=True, help="the subtree reconciled (and the checking unit)")
    p.add_argument("--as-of", type=_day, help="the ledger's date (default today)")
    p.add_argument("--user", default="cli")
    p.add_argument("--role", default=Role.INSPECTOR.value, choices=[r.value for r in Role][:3])
    p.add_argument("--out", type=Path, help="the xlsx report (default reconciliation-ID.xlsx)")
    p.add_argument("--json", type=Path, help="also write the report as JSON")

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

    c = sub.add_parser(
        "civil-affairs", help="民政比对: match a civil-affairs list against the files"
    )
    c.add_argument("list", type=Path, help="the list, xlsx or csv: 身份证号码, 比对类型, 日期")
    c.add_argument("--unit", required=True, help="the subtree matched (and the running unit)")
    c.add_argument("--user", default="cli")
    c.add_argument("--role", default=Role.APPROVER.value, choices=[r.value for r in Role][:3])
    c.add_argument("--json", type=Path, help="write the report as JSON")


def approver_of(unit: str) -> str:
    """The unit an import's approvals are recorded under: the district holding `unit`."""
    code = UnitCode(unit)
    district = code.at(Level.DISTRICT)
    return district.value if district is not None else code.value


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    """Dispatch on `args.command`; 0 when done, 2 when refused."""
    try:
        if args.command == "reconcile":
            return await _reconcile(rt, args)
        if args.command == "import":
            return await _import(rt, args)
        return await _civil_affairs(rt, args)
    except DomainError as error:
        console.print(f"[red]error:[/red] {error.zh} ({error.message})")
        return 2


async def _reconcile(rt: Runtime, args: argparse.Namespace) -> int:
    path: Path = args.ledger
    with progress.bar() as bar:
        task = bar.add_task("核对 reading the files", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = await reconcile.reconcile(
            store=rt.store,
            codec=rt.codec,
            hasher=rt.hasher,
            actor=Actor(args.user, args.unit, Role(args.role)),
            scope=args.unit,
            ledger_date=args.as_of or rt.clock.today(),
            data=await asyncio.to_thread(path.read_bytes),
            name=path.name,
            progress=advance,
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


async def _import(rt: Runtime, args: argparse.Namespace) -> int:
    path: Path = args.file
    book = await PgPolicies(rt.store, rt.codec).book()
    with progress.bar() as bar:
        task = bar.add_task("导入 importing rows", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = await importer.import_files(
            files=rt.files,
            codec=rt.codec,
            book=book,
            actor=Actor(args.user, approver_of(args.unit), Role.APPROVER),
            unit=args.unit,
            data=await asyncio.to_thread(path.read_bytes),
            name=path.name,
            today=rt.clock.today(),
            progress=advance,
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


async def _civil_affairs(rt: Runtime, args: argparse.Namespace) -> int:
    path: Path = args.list
    result, errors = await civil_affairs.run_matching(
        store=rt.store,
        codec=rt.codec,
        hasher=rt.hasher,
        actor=Actor(args.user, args.unit, Role(args.role)),
        scope=args.unit,
        data=await asyncio.to_thread(path.read_bytes),
        name=path.name,
    )
    data = civil_affairs.report_json(result, errors)
    console.print(f"民政比对 {result.id}：名单 {data['rows']} 行，命中 {data['matches']} 条")
    for f in data["findings"]:
        if f["severity"] == "act":
            console.print(f"  [bold]第{f['row']}行[/bold] 档案 {f['file_id']}：{f['text']}")
    if args.json:
        args.json.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0
