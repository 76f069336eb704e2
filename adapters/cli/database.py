"""`bangfu verify`, `bangfu summary` and `bangfu migrate`: the state of the database itself.

bangfu verify      check every stream's hash chain; exit 1 on a broken link
    --attachments  also re-hash every attachment's content against its event
bangfu summary     files by status and category, replayed from the log
bangfu migrate     apply schema migrations (opening the runtime applies them)
"""

from __future__ import annotations

import argparse
from collections import Counter

from rich.console import Console
from rich.table import Table

from adapters.cli import progress
from adapters.pg.attachments import PgContentStore
from adapters.runtime.bootstrap import Runtime
from adapters.services import attachments
from adapters.services import files as file_reads
from domain.values import Status, label

console = Console(stderr=False)
COMMANDS = ("verify", "summary", "migrate")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `verify`, `summary` and `migrate` to `bangfu`'s subparsers."""
    v = sub.add_parser("verify", help="check every stream's hash chain; exit 1 on a broken link")
    v.add_argument(
        "--attachments",
        action="store_true",
        help="also re-hash every attachment's content (missing or altered: exit 1)",
    )
    sub.add_parser("summary", help="files by status and category")
    sub.add_parser("migrate", help="apply schema migrations")


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    """Dispatch on `args.command`."""
    if args.command == "verify":
        return await _verify(rt, attachments_too=args.attachments)
    if args.command == "summary":
        return await _summary(rt)
    console.print("schema is up to date")  # runtime() has applied any pending migration
    return 0


async def _verify(rt: Runtime, *, attachments_too: bool = False) -> int:
    total = int(await rt.pool.fetchval("SELECT count(*) FROM events"))
    with progress.bar() as bar:
        task = bar.add_task("校验哈希链 verifying hash chains", total=total)
        report = await rt.store.verify(progress=lambda n: bar.advance(task, n))
    attached = await _verify_attachments(rt) if attachments_too else 0
    if report.ok:
        console.print(
            f"哈希链完整 (all hash chains intact): {report.streams} streams, {report.events} events"
        )
        return attached
    for link in report.broken:
        console.print(
            f"[red]BROKEN[/red] stream {link.stream_id} version {link.version}: {link.reason}"
        )
    console.print(f"{len(report.broken)} stream(s) with a broken link out of {report.streams}")
    return 1


ATTACHMENT_STATES = {
    "missing": "缺失 MISSING",
    "altered": "被篡改 ALTERED",
    "unreadable": "无法解密",
}


async def _verify_attachments(rt: Runtime) -> int:
    """Re-hash every attachment's content against its event; 1 when one is missing or altered
    (an erased one is reported as erased: its key was destroyed on request)."""
    checks = await attachments.verify_all(rt.store, PgContentStore(rt.pool, rt.keyring))
    for c in checks.checked:
        if c.state not in {"ok", "erased"}:
            console.print(
                f"[red]{ATTACHMENT_STATES[c.state]}[/red] file {c.file_id} attachment"
                f" {c.attachment_id} ({c.kind.value}): {c.state}"
            )
    for orphan in checks.orphans:
        console.print(f"[red]无对应事件 orphan[/red] content {orphan} recorded by no event")
    console.print(
        f"附件 attachments: {checks.count('ok')} 完好 intact, {checks.count('erased')} 已销毁"
        f" erased, {checks.count('missing')} 缺失 missing, {checks.count('altered')} 被篡改"
        f" altered, {checks.count('unreadable')} 无法解密 unreadable, {len(checks.orphans)}"
        " orphan(s)"
    )
    return 0 if checks.ok else 1


async def _summary(rt: Runtime) -> int:
    events = int(await rt.pool.fetchval("SELECT count(*) FROM events"))
    households = await file_reads.every_file(rt.files)
    by_status = Counter(h.status for h in households)
    by_category = Counter(h.category for h in households if h.status is Status.APPROVED)
    table = Table(title=f"档案概况 — {len(households)} 户 / {events} 个事件")
    table.add_column("状态 status")
    table.add_column("户数 files", justify="right")
    for status in Status:
        if by_status[status]:
            table.add_row(f"{label(status)} ({status.value})", str(by_status[status]))
    console.print(table)
    categories = Table(title="在档困难类别 categories of open files")
    categories.add_column("类别 category")
    categories.add_column("户数 files", justify="right")
    for category, n in sorted(by_category.items(), key=lambda kv: -kv[1]):
        if category is not None:
            categories.add_row(f"{label(category)} ({category.value})", str(n))
    console.print(categories)
    source = (
        "BANGFU_DATABASE_URL"
        if rt.settings.database_url
        else f"embedded PostgreSQL in {rt.settings.data_dir / 'pg'}"
    )
    console.print(f"数据库 database: {source}")
    console.print(
        "下一步 next: `bangfu verify` checks every file's hash chain; "
        "`make test` runs the whole suite."
    )
    return 0
