"""`bangfu units`: the union tree of this node — register a unit, list a subtree.

    bangfu units create CODE NAME [--level L] [--approves]   register a unit below its parent
    bangfu units list [--root CODE]                          the units of a subtree

A region's and a base-level union's level follows from its code ("13", "1303", "130306",
"130306001"; the nation is "00"). A non-geographic union — 产业 C, 系统 X, 企业 Q and two
digits under its parent's code: `bangfu units create 13C01 河北省教育工会 --approves`, or on
the national node `bangfu units create 00C01 中国教育工会 --approves` — acts at `--level`
(province, city or district; default district, province below the nation) and approves its
subtree's files only with `--approves` (seed 003: "县级或县级以上工会（省有关产业工会）"); its
base-level unions are its code and 3 to 6 digits ("13C01001").
docs/decisions/0014-a-tree-that-reaches-the-nation.md.

Exit status: 0 on success, 1 when refused (the reason in Chinese and English).
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from adapters.runtime.bootstrap import Runtime
from domain.errors import DomainError
from domain.values import Level, UnitKind, label

console = Console()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `units create` and `units list` to `bangfu`'s subparsers."""
    u = sub.add_parser("units", help="the union tree: register a unit, list a subtree")
    units = u.add_subparsers(dest="action", required=True)
    c = units.add_parser("create", help="register a unit below its registered parent")
    c.add_argument("code", help='its code: "130306011", or "13C01" for an industry union')
    c.add_argument("name", help="its name (1 to 100 characters)")
    c.add_argument(
        "--level",
        choices=[lv.value for lv in (Level.PROVINCE, Level.CITY, Level.DISTRICT)],
        help="a non-geographic union's level (default district; province below the nation)",
    )
    c.add_argument(
        "--approves",
        action="store_true",
        default=None,
        help="a non-geographic union that approves its subtree's files",
    )
    ls = units.add_parser("list", help="the units of a subtree, in code order")
    ls.add_argument("--root", default="00", help="the subtree's root (default: every unit)")


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    try:
        if args.action == "create":
            created = await rt.units.create(
                args.code,
                args.name,
                level=Level(args.level) if args.level else None,
                approves=args.approves,
            )
        else:
            found = await rt.units.subtree(args.root)
    except DomainError as error:
        console.print(f"[red]refused:[/red] {error.zh} ({error.message})")
        return 1
    if args.action == "create":
        deciding = "，审批其辖区档案" if created.approves else ""
        console.print(
            f"已登记 {created.code} {created.name}"
            f"（{label(UnitKind(created.kind))}，{label(Level(created.level))}{deciding}）"
        )
        return 0
    table = Table("代码 code", "名称 name", "上级 parent", "层级 level", "类别 kind", "审批")
    for row in found:
        table.add_row(
            row.code,
            row.name,
            row.parent or "",
            label(Level(row.level)),
            label(UnitKind(row.kind)),
            "是" if row.approves else "",
        )
    console.print(table)
    return 0
