"""`bangfu civil-affairs`: match a civil-affairs list (民政比对) against the files.

    bangfu civil-affairs LIST.csv --unit 130306 [--user U] [--role R] [--json R.json]

Recorded exactly as its HTTP route records it. Exit status 2 when refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from rich.console import Console

from adapters.cli.shared import refusal_exits_2
from adapters.runtime.bootstrap import Runtime
from adapters.services import civil_affairs
from domain.values import Actor, Role

console = Console()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `civil-affairs` to `bangfu`'s subparsers."""
    c = sub.add_parser(
        "civil-affairs", help="民政比对: match a civil-affairs list against the files"
    )
    c.add_argument("list", type=Path, help="the list, xlsx or csv: 身份证号码, 比对类型, 日期")
    c.add_argument("--unit", required=True, help="the subtree matched (and the running unit)")
    c.add_argument("--user", default="cli")
    c.add_argument("--role", default=Role.APPROVER.value, choices=[r.value for r in Role][:3])
    c.add_argument("--json", type=Path, help="write the report as JSON")


@refusal_exits_2
async def run(rt: Runtime, args: argparse.Namespace) -> int:
    """0 when done, 2 when refused."""
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
