"""`bangfu demo`: build a realistic demo province through the use cases.

    bangfu demo [--files N] [--seed S] [--if-empty] [--bulk]

The units and the demo policies are loaded first (idempotent); `--if-empty` then does nothing
when files already exist. The same seed builds the same province.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from adapters.cli import progress
from adapters.cli import users as cli_users
from adapters.pg.attachments import PgContentStore
from adapters.pg.policies import PgPolicies, seed_demo_policies
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.bootstrap import Runtime
from adapters.services import demo

console = Console(stderr=False)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `demo` to `bangfu`'s subparsers."""
    d = sub.add_parser("demo", help="build a realistic demo province through the use cases")
    d.add_argument("--files", type=int, default=300, help="households to build (default 300)")
    d.add_argument("--seed", type=int, default=2020, help="random seed (same seed, same province)")
    d.add_argument("--if-empty", action="store_true", help="do nothing if files already exist")
    d.add_argument(
        "--bulk",
        action="store_true",
        help="build in memory and store through the bulk path (for large data)",
    )


async def _count_files(rt: Runtime) -> int:
    return int(
        await rt.pool.fetchval(
            "SELECT count(*) FROM events WHERE version = 1 AND type = 'household.applied'"
        )
    )


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    await PgUnitDirectory(rt.pool).load(demo.units())
    await seed_demo_policies(PgPolicies(rt.store, rt.codec))
    made = await cli_users.ensure_demo_accounts(rt)
    console.print(
        f"演示账户 demo accounts: {', '.join(a['user'] for a in made)}"
        f" (passwords in {rt.settings.data_dir / cli_users.DEMO_FILE})"
    )
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
            contents=PgContentStore(rt.pool, rt.keyring),
        )
    console.print(
        f"已生成 {args.files} 户档案，{events} 个事件 "
        f"(built {args.files} household files, {events} events)"
    )
    return 0
