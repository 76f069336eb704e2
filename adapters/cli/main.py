"""The `bangfu` command line.

    bangfu serve [--host H] [--port P]                          the HTTP API (docs at /schema)
    bangfu token --unit CODE --role ROLE [--user U] [--ttl 8h]  mint a bearer token
    bangfu demo [--files N] [--seed S] [--if-empty] [--bulk]   build a realistic demo province
    bangfu verify [--attachments]                               check every hash chain (+ scans)
    bangfu summary                                              what is stored, by status
    bangfu migrate                                              apply schema migrations
    bangfu projections run [--every SECONDS]                    keep the read models up to date
    bangfu projections rebuild [ledger|statistics]              rebuild read models from zero
    bangfu projections status                                   how far behind each read model is
    bangfu export ledger --unit CODE [--out FILE] [--status S]  the ledger of a subtree as xlsx
    bangfu spot-check --unit CODE [--sample N | --fraction F] [--seed S] [--as-of DATE]
                      [--status S] [--level L] [--out FILE]     spot-check files by replay
    bangfu reconcile LEDGER.xlsx --unit CODE --as-of DATE       paper ledger against the files
    bangfu import files FILE.xlsx --unit CODE                   bring in existing files
    bangfu civil-affairs LIST.xlsx --unit CODE                  match a civil-affairs list
    bangfu sync pull --from URL --token T [--follow]            pull a downstream node
    bangfu sync status | new-epoch                              sync state; after a restore
    bangfu keys status | rotate | retire VERSION                keys of personal data
    bangfu files shred FILE_ID --reason TEXT                    erase a file's personal data

With no BANGFU_DATABASE_URL, every command uses the embedded PostgreSQL in BANGFU_DATA_DIR
(default ./.bangfu). Exit status: 0 on success, 1 when `verify` finds a broken link, 2 on a
usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.table import Table

from adapters.cli import keys as cli_keys
from adapters.cli import paper as cli_paper
from adapters.cli import progress
from adapters.cli import spotcheck as cli_spotcheck
from adapters.cli import sync as cli_sync
from adapters.http.auth import Tokens
from adapters.pg import reads
from adapters.pg.policies import PgPolicies, seed_demo_policies
from adapters.pg.projector import Lag, rebuild_all
from adapters.pg.repository import replay
from adapters.pg.store import StoredEvent
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.bootstrap import Runtime, runtime
from adapters.runtime.logging import configure
from adapters.runtime.secrets import load_secret
from adapters.runtime.settings import Settings
from adapters.services import attachments, demo
from adapters.sheets import ledger as exports
from domain.errors import DomainError
from domain.household import HouseholdFile
from domain.units import UnitCode
from domain.values import Category, Cause, FileLevel, Role, Status, WorkerKind, label

console = Console(stderr=False)


async def _count_files(rt: Runtime) -> int:
    return int(
        await rt.pool.fetchval(
            "SELECT count(*) FROM events WHERE version = 1 AND type = 'household.applied'"
        )
    )


async def cmd_demo(rt: Runtime, args: argparse.Namespace) -> int:
    await PgUnitDirectory(rt.pool).load(demo.units())
    await seed_demo_policies(PgPolicies(rt.store, rt.codec))
    if args.if_empty and await _count_files(rt):
        console.print("演示数据已存在，跳过生成 (demo data already present; skipped)")
        return 0
    with progress.bar() as bar:
        task = bar.add_task("生成演示档案 building demo files", total=args.files)
        events = await demo.build(
            files=rt.files,
            clock=rt.clock,
            count=args.files,
            seed=args.seed,
            bulk=args.bulk,
            progress=lambda n: bar.advance(task, n),
        )
    console.print(
        f"已生成 {args.files} 户档案，{events} 个事件 "
        f"(built {args.files} household files, {events} events)"
    )
    return 0


async def cmd_verify(rt: Runtime, args: argparse.Namespace) -> int:
    total = int(await rt.pool.fetchval("SELECT count(*) FROM events"))
    with progress.bar() as bar:
        task = bar.add_task("校验哈希链 verifying hash chains", total=total)
        report = await rt.store.verify(progress=lambda n: bar.advance(task, n))
    attached = 0
    if getattr(args, "attachments", False):
        attached = await _verify_attachments(rt)
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


async def _verify_attachments(rt: Runtime) -> int:
    """Re-hash every attachment's content against its event; 1 when one is missing or altered."""
    checks = await attachments.verify_all(rt.store, attachments.PgContentStore(rt.pool, rt.keyring))
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


ATTACHMENT_STATES = {
    "missing": "缺失 MISSING",
    "altered": "被篡改 ALTERED",
    "unreadable": "无法解密",
}


async def _replay_all(rt: Runtime) -> list[HouseholdFile]:
    households: list[HouseholdFile] = []
    current: list[StoredEvent] = []
    async for event in rt.store.scan(type_prefix="household."):
        if current and current[0].stream_id != event.stream_id:
            households.append(replay(rt.codec, current))  # type: ignore[arg-type]
            current = []
        current.append(event)
    if current:
        households.append(replay(rt.codec, current))  # type: ignore[arg-type]
    return households


async def cmd_summary(rt: Runtime, args: argparse.Namespace) -> int:
    events = int(await rt.pool.fetchval("SELECT count(*) FROM events"))
    households = await _replay_all(rt)
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


async def cmd_migrate(rt: Runtime, args: argparse.Namespace) -> int:
    console.print("schema is up to date")  # runtime() has applied any pending migration
    return 0


def _lag_line(name: str, lag: Lag) -> str:
    return f"{name}: {lag.events} events, {lag.seconds:.1f} s behind"


async def cmd_projections(rt: Runtime, args: argparse.Namespace) -> int:
    return await {
        "run": _projections_run,
        "rebuild": _projections_rebuild,
        "status": _projections_status,
    }[args.action](rt, args)


async def _projections_status(rt: Runtime, args: argparse.Namespace) -> int:
    table = Table(title="读模型 read models")
    table.add_column("名称 projection")
    table.add_column("落后事件 events behind", justify="right")
    table.add_column("落后秒数 seconds behind", justify="right")
    table.add_column("位置 position")
    for name, lag in (await rt.projections.lag()).items():
        table.add_row(name, str(lag.events), f"{lag.seconds:.1f}", lag.position)
    console.print(table)
    return 0


async def _projections_run(rt: Runtime, args: argparse.Namespace) -> int:
    """Run the read models until Ctrl-C (or SIGTERM), printing the lag every few seconds."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running = asyncio.create_task(rt.projections.run(stop), name="bangfu-projections")
    console.print("读模型运行中，按 Ctrl-C 停止 (projections running; Ctrl-C stops)")
    try:
        while not stop.is_set():
            lags = await rt.projections.lag()
            console.print("; ".join(_lag_line(n, lag) for n, lag in lags.items()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=args.every)
    finally:
        stop.set()
        rt.wakeups.poke()
        await running
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    console.print("已停止 (stopped)")
    return 0


async def _projections_rebuild(rt: Runtime, args: argparse.Namespace) -> int:
    """Rebuild from zero into fresh tables, swapped in when ready; the service keeps answering
    from the old ones meanwhile."""
    chosen = [p for p in rt.projections.projections if args.name in (None, p.name)]
    total = int(await rt.pool.fetchval("SELECT count(*) FROM events"))
    names = "、".join(p.name for p in chosen)
    with progress.bar() as bar:  # one read of the log feeds every chosen read model
        task = bar.add_task(f"重建 rebuilding {names}", total=total)
        read = await rebuild_all(rt.store, rt.codec, chosen, progress=partial(bar.advance, task))
    for projection in chosen:
        console.print(f"已重建 {projection.name}：{read} 个事件 (rebuilt from {read} events)")
    return 0


async def cmd_export(rt: Runtime, args: argparse.Namespace) -> int:
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


DEMO_TOKENS = (
    ("基层工会经办人 base-level clerk", "130306001", Role.CLERK, "clerk-li"),
    ("区总工会审核人 district approver", "130306", Role.APPROVER, "approver-wang"),
    ("省总工会抽查员 province inspector", "13", Role.INSPECTOR, "inspector-zhao"),
)


def _ttl(text: str) -> timedelta:
    units = {"m": 60, "h": 3600, "d": 86400}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise argparse.ArgumentTypeError("a lifetime such as 30m, 8h or 7d")
    return timedelta(seconds=int(text[:-1]) * units[text[-1]])


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    tokens = Tokens(load_secret(settings.secret, settings.data_dir))
    try:
        token = tokens.mint(
            user=args.user or f"{args.role}-{args.unit}",
            unit=args.unit,
            role=Role(args.role),
            ttl=args.ttl,
        )
    except DomainError as error:
        console.print(f"[red]error:[/red] {error.message}")
        return 2
    print(token)
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 — only the server needs it

    tokens = Tokens(load_secret(settings.secret, settings.data_dir))
    base = f"http://{args.host}:{args.port}"
    print(f"bangfu API 文档 docs: {base}/schema  (OpenAPI: {base}/schema/openapi.json)")
    for title, unit, role, user in DEMO_TOKENS:
        token = tokens.mint(user=user, unit=unit, role=role, ttl=timedelta(hours=12))
        print(f"{title} ({unit}, {role.value}):\n  Authorization: Bearer {token}")
    uvicorn.run(
        "adapters.http.app:served",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    return 0


COMMANDS = {
    "demo": cmd_demo,
    "verify": cmd_verify,
    "summary": cmd_summary,
    "migrate": cmd_migrate,
    "projections": cmd_projections,
    "export": cmd_export,
    "spot-check": cli_spotcheck.run,
    "reconcile": cli_paper.run,
    "import": cli_paper.run,
    "civil-affairs": cli_paper.run,
    "sync": cli_sync.run,
    "keys": cli_keys.run,
    "files": cli_keys.run,
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="bangfu", description="帮扶 — hardship-worker household files"
    )
    sub = top.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="build a realistic demo province through the use cases")
    d.add_argument("--files", type=int, default=300, help="households to build (default 300)")
    d.add_argument("--seed", type=int, default=2020, help="random seed (same seed, same province)")
    d.add_argument("--if-empty", action="store_true", help="do nothing if files already exist")
    d.add_argument(
        "--bulk",
        action="store_true",
        help="build in memory and store through the bulk path (for large data)",
    )
    v = sub.add_parser("verify", help="check every stream's hash chain; exit 1 on a broken link")
    v.add_argument(
        "--attachments",
        action="store_true",
        help="also re-hash every attachment's content (missing or altered: exit 1)",
    )
    sub.add_parser("summary", help="files by status and category")
    sub.add_parser("migrate", help="apply schema migrations")
    cli_spotcheck.add_parser(sub)
    cli_paper.add_parser(sub)
    cli_sync.add_parser(sub)
    cli_keys.add_parser(sub)
    s = sub.add_parser("serve", help="run the HTTP API")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p = sub.add_parser("projections", help="run, rebuild or inspect the read models")
    actions = p.add_subparsers(dest="action", required=True)
    r = actions.add_parser("run", help="keep the read models up to date until Ctrl-C")
    r.add_argument(
        "--every", type=float, default=10.0, help="print the lag every N seconds (default 10)"
    )
    b = actions.add_parser(
        "rebuild", help="rebuild from zero (all when none is named); the old tables serve meanwhile"
    )
    b.add_argument("name", nargs="?", choices=("ledger", "statistics"), help="one read model")
    actions.add_parser("status", help="how many events and seconds each read model is behind")
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
    t = sub.add_parser("token", help="mint a bearer token for the API")
    t.add_argument("--unit", required=True, help="unit code, e.g. 130306001")
    t.add_argument("--role", required=True, choices=[r.value for r in Role])
    t.add_argument("--user", help="user name (default: role-unit)")
    t.add_argument("--ttl", type=_ttl, default=timedelta(hours=8), help="lifetime: 30m, 8h, 7d")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "files", 1) < 1:
        parser().error("--files must be at least 1")
    settings = Settings.from_env()
    configure(json=settings.log_json)

    async def run() -> int:
        listen = args.command == "projections" and args.action == "run"
        async with runtime(settings, listen=listen) as rt:
            return await COMMANDS[args.command](rt, args)

    try:
        if args.command == "token":
            return cmd_token(settings, args)
        if args.command == "serve":
            return cmd_serve(settings, args)
        return asyncio.run(run())
    except RuntimeError as error:  # configuration problems, e.g. a data folder path too long
        console.print(f"[red]error:[/red] {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
