"""The background pull loops of `bangfu serve`: one `Puller` per configured downstream.

Started and stopped with the projection runner by the composition root
(`adapters.runtime.bootstrap.background`):

    pullers = sync_service.start(rt, stop, rt.node)      # after `stop = asyncio.Event()`
    ...
    finally:
        stop.set()
        await sync_service.stopped(pullers)
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.sync.node import NodeSettings
from adapters.sync.pull import Puller

if TYPE_CHECKING:  # the composition root starts these loops: no import cycle at run time
    from adapters.runtime.bootstrap import Runtime


@dataclass
class Running:
    pullers: list[Puller]
    tasks: list[asyncio.Task[None]]


def start(rt: Runtime, stop: asyncio.Event, node: NodeSettings) -> Running:
    """Start pulling every downstream of `node`."""
    settings = node
    pullers = [
        Puller(
            rt.pool,
            downstream,
            limit=settings.page,
            attachments_in_flight=settings.attachments_in_flight,
            on_stored=rt.wakeups.poke,
            keyring=rt.keyring,
            claims=rt.files.claim_streams,
        )
        for downstream in settings.downstreams
    ]
    tasks = [
        asyncio.create_task(
            p.run(stop, interval=settings.interval), name=f"bangfu-sync-{p.downstream.code}"
        )
        for p in pullers
    ]
    return Running(pullers, tasks)


async def stopped(running: Running) -> None:
    """Wait for the loops to end (after `stop` was set) and close their HTTP clients."""
    for task in running.tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for puller in running.pullers:
        await puller.close()
