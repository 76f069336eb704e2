"""`bangfu projections …`: run, rebuild or inspect the read models.

bangfu projections run [--every SECONDS]          keep the read models up to date until Ctrl-C
bangfu projections rebuild [ledger|statistics] [--files N]
                                                 rebuild from zero, N files in memory at once;
                                                 the old tables serve meanwhile
bangfu projections status                         how far behind each read model is
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from functools import partial

from rich.console import Console
from rich.table import Table

from adapters.cli import progress
from adapters.pg.projector import FILES_PER_BATCH, Lag, rebuild_all
from adapters.runtime.bootstrap import Runtime

console = Console(stderr=False)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `projections run | rebuild | status` to `bangfu`'s subparsers."""
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
    b.add_argument(
        "--files",
        type=int,
        default=FILES_PER_BATCH,
        help=f"files held in memory at once (default {FILES_PER_BATCH:,}; fewer: less memory)",
    )
    actions.add_parser("status", help="how many events and seconds each read model is behind")


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    return await {
        "run": _run,
        "rebuild": _rebuild,
        "status": _status,
    }[args.action](rt, args)


def _lag_line(name: str, lag: Lag) -> str:
    return f"{name}: {lag.events} events, {lag.seconds:.1f} s behind"


async def _status(rt: Runtime, args: argparse.Namespace) -> int:
    table = Table(title="读模型 read models")
    table.add_column("名称 projection")
    table.add_column("落后事件 events behind", justify="right")
    table.add_column("落后秒数 seconds behind", justify="right")
    table.add_column("位置 position")
    for name, lag in (await rt.projections.lag()).items():
        table.add_row(name, str(lag.events), f"{lag.seconds:.1f}", lag.position)
    console.print(table)
    return 0


async def _run(rt: Runtime, args: argparse.Namespace) -> int:
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


async def _rebuild(rt: Runtime, args: argparse.Namespace) -> int:
    """Rebuild from zero into fresh tables, swapped in when ready; the service keeps answering
    from the old ones meanwhile."""
    chosen = [p for p in rt.projections.projections if args.name in (None, p.name)]
    total = int(await rt.pool.fetchval("SELECT count(*) FROM events"))
    names = "、".join(p.name for p in chosen)
    with progress.bar() as bar:  # one read of the log feeds every chosen read model
        task = bar.add_task(f"重建 rebuilding {names}", total=total)
        read = await rebuild_all(
            rt.store,
            rt.codec,
            chosen,
            files=max(1, args.files),
            progress=partial(bar.advance, task),
        )
    for projection in chosen:
        console.print(f"已重建 {projection.name}：{read} 个事件 (rebuilt from {read} events)")
    return 0
