"""The `bangfu` command line.

    bangfu serve [--host H] [--port P]                          the HTTP API (docs at /schema)
    bangfu token --unit CODE --role ROLE [--user U] [--ttl 8h]  mint a bearer token
    bangfu demo [--files N] [--seed S] [--if-empty] [--bulk]   build a realistic demo province
    bangfu verify                                               check every hash chain
    bangfu summary                                              what is stored, by status
    bangfu migrate                                              apply schema migrations

With no BANGFU_DATABASE_URL, every command uses the embedded PostgreSQL in BANGFU_DATA_DIR
(default ./.bangfu). Exit status: 0 on success, 1 when `verify` finds a broken link, 2 on a
usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from adapters import demo
from adapters.bootstrap import Runtime, runtime
from adapters.http.auth import Tokens
from adapters.keys import load_secret
from adapters.logging import configure
from adapters.pg.repository import replay
from adapters.pg.store import StoredEvent
from adapters.pg.units import PgUnitDirectory
from adapters.settings import Settings
from domain.errors import DomainError
from domain.household import HouseholdFile
from domain.values import Role, Status, label

console = Console(stderr=False)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not sys.stderr.isatty(),
    )


async def _count_files(rt: Runtime) -> int:
    return int(
        await rt.pool.fetchval(
            "SELECT count(*) FROM events WHERE version = 1 AND type = 'household.applied'"
        )
    )


async def cmd_demo(rt: Runtime, args: argparse.Namespace) -> int:
    await PgUnitDirectory(rt.pool).load(demo.units())
    if args.if_empty and await _count_files(rt):
        console.print("演示数据已存在，跳过生成 (demo data already present; skipped)")
        return 0
    with _progress() as bar:
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
    with _progress() as bar:
        task = bar.add_task("校验哈希链 verifying hash chains", total=total)
        report = await rt.store.verify(progress=lambda n: bar.advance(task, n))
    if report.ok:
        console.print(
            f"哈希链完整 (all hash chains intact): {report.streams} streams, {report.events} events"
        )
        return 0
    for link in report.broken:
        console.print(
            f"[red]BROKEN[/red] stream {link.stream_id} version {link.version}: {link.reason}"
        )
    console.print(f"{len(report.broken)} stream(s) with a broken link out of {report.streams}")
    return 1


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


COMMANDS = {"demo": cmd_demo, "verify": cmd_verify, "summary": cmd_summary, "migrate": cmd_migrate}


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
    sub.add_parser("verify", help="check every stream's hash chain; exit 1 on a broken link")
    sub.add_parser("summary", help="files by status and category")
    sub.add_parser("migrate", help="apply schema migrations")
    s = sub.add_parser("serve", help="run the HTTP API")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
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
        async with runtime(settings) as rt:
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
