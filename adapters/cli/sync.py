"""`bangfu sync …`: pull a downstream node by hand, see the sync status, mark a restore.

    bangfu sync pull --from URL --token T [--code CODE] [--key K] [--limit N] [--from-start]
                     [--follow]
    bangfu sync status
    bangfu sync new-epoch      run on a node restored from a backup, before it serves again

`pull` reads the downstream's feed up to its end into this node's log, with a progress bar on a
terminal (events pulled of those behind) and a summary at the end (added, already held,
quarantined, pages); `--follow` keeps pulling (backing off while the downstream is away) until
Ctrl-C. `--code` is the subtree the downstream owns (default: what its `/api/v1/node` says).
`--from-start` re-reads the whole feed, adding only what is missing — and quarantining what
contradicts what is held. `--key` is the sync key shared with the downstream (default: its "key"
in BANGFU_DOWNSTREAMS), without which its files' personal data cannot be read here.
Exit status: 0 when done, 1 when a page was refused or the downstream could not be read.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

import httpx
from rich.console import Console
from rich.table import Table

from adapters.cli import progress
from adapters.pii.sealing import parse_key
from adapters.runtime.bootstrap import Runtime
from adapters.sync.node import Downstream, epoch, new_epoch
from adapters.sync.pull import PageRefused, Puller, PullError, raise_alert, record_error, status

console = Console()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("sync", help="upstream sync: pull a downstream node, status, new epoch")
    actions = s.add_subparsers(dest="action", required=True)
    p = actions.add_parser("pull", help="pull a downstream node's feed into this node")
    p.add_argument("--from", dest="url", required=True, help="the downstream's base URL")
    p.add_argument("--token", required=True, help="a sync-role token the downstream accepts")
    p.add_argument("--code", help="the subtree the downstream owns (default: as it says)")
    p.add_argument("--key", help="the sync key shared with the downstream (base64)")
    p.add_argument("--limit", type=int, default=2000, help="events per page (default 2000)")
    p.add_argument("--from-start", action="store_true", help="re-read the whole feed")
    p.add_argument("--follow", action="store_true", help="keep pulling until Ctrl-C")
    actions.add_parser("status", help="per downstream: cursor, behind, last success and error")
    actions.add_parser("new-epoch", help="give this (restored) database a new epoch")


async def _node_code(url: str, token: str) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(
            url.rstrip("/") + "/api/v1/node", headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
        body = response.json()
    return str(body.get("subtree") or body["code"])


async def _pull(rt: Runtime, args: argparse.Namespace) -> int:
    try:
        code = args.code or await _node_code(args.url, args.token)
        configured = {d.code: d.key for d in rt.node.downstreams}
        key = parse_key(args.key, "--key") if args.key else configured.get(code)
        downstream = Downstream(code, args.url.rstrip("/"), args.token, key)
    except (httpx.HTTPError, KeyError, ValueError) as error:
        console.print(f"[red]cannot ask {args.url} which node it is:[/red] {error}")
        return 1
    if args.from_start:
        await rt.pool.execute("UPDATE sync_downstreams SET cursor = '' WHERE code = $1", code)
    puller = Puller(
        rt.pool,
        downstream,
        limit=args.limit,
        attachments_in_flight=rt.node.attachments_in_flight,
        on_stored=rt.wakeups.poke,
        keyring=rt.keyring,
        claims=rt.files.claim_streams,
    )
    try:
        if args.follow:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await puller.run(stop, interval=1.0)
            return 0
        with progress.bar() as bar:
            task = bar.add_task(f"pulling {code}", total=None)
            behind = [0]  # events of the feed not yet pulled

            # drawn again after every page, not only on the bar's clock: a page is the unit
            # of progress the operator can check against `bangfu sync status`
            def total(n: int) -> None:  # at the start, and again if the feed is re-read
                behind[0] = n
                bar.update(task, total=n, completed=0, description=f"pulling {code}, {n} behind")
                bar.refresh()

            def advance(n: int) -> None:
                behind[0] = max(0, behind[0] - n)
                bar.update(task, advance=n, description=f"pulling {code}, {behind[0]} behind")
                bar.refresh()

            pulled = await puller.catch_up(total=total, advance=advance)
    except PageRefused as error:
        await record_error(rt.pool, downstream, str(error))
        await raise_alert(rt.pool, code, "page_refused", str(error))
        console.print(f"[red]refused:[/red] {error}")
        return 1
    except PullError as error:
        await record_error(rt.pool, downstream, str(error))
        console.print(f"[red]failed:[/red] {error}")
        return 1
    finally:
        await puller.close()
    console.print(
        f"{code}: {pulled.added} events added, {pulled.skipped} already held,"
        f" {pulled.quarantined} quarantined, in {pulled.pages} page"
        + ("" if pulled.pages == 1 else "s")
        + (f" (read again from the start {pulled.restarts}×: restored)" if pulled.restarts else "")
    )
    return 0


async def _status(rt: Runtime, args: argparse.Namespace) -> int:
    node = rt.node
    console.print(
        f"node {node.code or '-'} (subtree {node.subtree or '-'}), epoch {await epoch(rt.pool)}"
    )
    table = Table(
        "downstream",
        "cursor",
        "behind",
        "received",
        "last success",
        "last error",
        "quarantined",
        "alerts",
    )
    for s in await status(rt.pool, node.downstreams):
        table.add_row(
            s.code,
            s.cursor or "-",
            "?" if s.behind is None else str(s.behind),
            str(s.received),
            s.last_success.isoformat(timespec="seconds") if s.last_success else "-",
            (s.last_error or "-")[:80],
            str(s.quarantined),
            str(s.alerts),
        )
    console.print(table)
    return 0


async def _new_epoch(rt: Runtime, args: argparse.Namespace) -> int:
    console.print(f"new epoch: {await new_epoch(rt.pool)}")
    return 0


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    action = {"pull": _pull, "status": _status, "new-epoch": _new_epoch}[args.action]
    with contextlib.suppress(KeyboardInterrupt):
        return await action(rt, args)
    return 130
