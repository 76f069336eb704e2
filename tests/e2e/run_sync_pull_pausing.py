"""A sync puller that stops dead inside a page's transaction, for the kill tests:

    python -m tests.e2e.run_sync_pull_pausing LIMIT PAUSE_AT

The pull loops of BANGFU_DOWNSTREAMS, as `tests/e2e/run_sync_node.py pull` runs them, with one
seam: when it stores its PAUSE_AT-th page, right after the page's events are written into the
log and before the page's origins and the downstream's new cursor are, it prints `paused` and
waits forever with the transaction open. The test kills it there. Prints `ready` once connected.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

import asyncpg

from adapters.pg.store import NewEvent
from adapters.runtime.bootstrap import runtime
from adapters.runtime.logging import configure
from adapters.runtime.settings import Settings
from adapters.sync import pull, service
from adapters.sync.node import NodeSettings


def pausing_at(page: int) -> None:
    """Make the pull's page store stop after writing the events of its `page`-th page."""
    write = pull.copy_events
    pages = 0

    async def write_then_pause(conn: asyncpg.Connection, events: Sequence[NewEvent]) -> None:
        nonlocal pages
        await write(conn, events)
        pages += 1
        if pages == page:
            print("paused", flush=True)
            await asyncio.Event().wait()  # until killed

    pull.copy_events = write_then_pause  # type: ignore[assignment]


async def main(limit: int, pause_at: int) -> None:
    pausing_at(pause_at)
    async with runtime(Settings.from_env()) as rt:
        running = service.start(rt, asyncio.Event(), NodeSettings.from_env())
        for puller in running.pullers:
            puller.limit = limit
        print("ready", flush=True)
        await asyncio.gather(*running.tasks)  # never stopped: killed


if __name__ == "__main__":
    configure(json=True, level=logging.INFO)
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
