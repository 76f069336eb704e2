"""`bangfu import files`: bring existing household files in from a spreadsheet, with their history.

    bangfu import files FILES.xlsx --unit 130306001 [--attachments SCANS/ or SCANS.zip]
                        [--user U] [--report R.json] [--workers N]

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
from adapters.pg.attachments import PgContentStore
from adapters.pg.policies import PgPolicies
from adapters.runtime.bootstrap import Runtime
from adapters.services import importer
from adapters.sheets.scans import ScanError, scans_at
from domain.attachments import AttachmentLimits
from domain.errors import InvalidValue
from domain.units import UnitCode
from domain.values import Actor, Level, Role

console = Console()

SHAPE = """\
One row per household, with the headers of the forms (户主姓名, 身份证号码, 申请时间 … see the
README's import section). A household with more than one assistance or visit takes more rows
with the same 身份证号码: each adds its 帮扶时间/分类帮扶措施/分类型帮扶部门/帮扶金额 and its
走访时间/结对帮扶干部姓名/走访内容; its other cells are left blank or repeated unchanged. A
household is imported whole or not at all; a wrong row is reported with row, column and reason.

家庭成员: 姓名/关系/身份证号码/状态[/年收入] separated by ；
  王某/配偶/130306198002030028/在岗/24000；刘小明/儿子/130306200909010033/在校
家庭年收入 is the household's total (the head's own is the total less the members' incomes), or
give 户主年收入 (and 家庭年收入, if given, must be the sum).

附件: 材料:文件名 separated by ；, the files in --attachments (a folder or a zip), by path or by
a name found once there, JPEG/PNG/PDF, at most 20 MB each and 200 MB a household:
  授权书:扫描件/张一授权书.jpg；诊断证明:张一诊断.pdf
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `import files` to `bangfu`'s subparsers."""
    imp = sub.add_parser("import", help="导入: bring existing spreadsheets in")
    what = imp.add_subparsers(dest="import_what", required=True)
    f = what.add_parser(
        "files",
        help="import household files with their history",
        description=SHAPE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("file", type=Path, help="the files, xlsx or csv (UTF-8 or GBK)")
    f.add_argument(
        "--attachments",
        type=Path,
        metavar="DIR_OR_ZIP",
        help="the folder or zip holding the scans the sheet's 附件 column names",
    )
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
    approver = approver_of(args.unit)
    source = None
    if args.attachments is not None:
        try:
            source = scans_at(args.attachments)
        except ScanError as error:
            raise InvalidValue("attachments", str(error), zh=str(error)) from None
    scans = importer.Scans(
        repository=rt.files,
        contents=PgContentStore(rt.pool, rt.keyring),
        source=source,
        limits=AttachmentLimits(
            rt.settings.attachment_max_bytes, rt.settings.household_attachments_max_bytes
        ),
    )
    try:
        with progress.bar() as bar:
            task = bar.add_task("导入 importing rows", total=None)
            report = await importer.import_files(
                files=rt.files,
                codec=rt.codec,
                book=book,
                actor=Actor(args.user, approver, Role.APPROVER),
                unit=args.unit,
                data=await asyncio.to_thread(path.read_bytes),
                name=path.name,
                today=rt.clock.today(),
                progress=progress.done_of(bar, task),
                workers=args.workers,
                scans=scans,
                units=await rt.units.registry(approver),
            )
    finally:
        if source is not None:
            source.close()
    console.print(
        f"导入 {path.name}：{report.rows} 行，新建 {report.created} 户（{report.events} 个事件），"
        f"已存在跳过 {report.skipped} 户，拒绝 {len(report.refused)} 行"
        + (f"，附件 {report.scans} 份" if report.scans else "")
    )
    for e in report.refused[:20]:
        console.print(f"  第{e.row}行 {e.column}：{e.reason}")
    if args.report:
        args.report.write_text(
            json.dumps(report.as_json(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return 0
