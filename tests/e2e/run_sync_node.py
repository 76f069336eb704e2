"""A node process for the sync journeys, until `bangfu serve` registers the sync routes and loops.

    python -m tests.e2e.run_sync_node serve PORT    the app with the sync routes (uvicorn)
    python -m tests.e2e.run_sync_node pull          the pull loops of BANGFU_DOWNSTREAMS

Configured by the environment as `bangfu serve` is (BANGFU_DATABASE_URL, BANGFU_SECRET,
BANGFU_NODE_*, BANGFU_DOWNSTREAMS). `pull` prints `ready` once connected and pulls until killed.
"""

from __future__ import annotations

import asyncio
import logging
import sys

import uvicorn

from adapters.bootstrap import runtime
from adapters.logging import configure
from adapters.settings import Settings
from adapters.sync import service
from adapters.sync.node import NodeSettings
from tests.e2e.sync_helpers import sync_app


async def pull(limit: int) -> None:
    node = NodeSettings.from_env()
    async with runtime(Settings.from_env()) as rt:
        stop = asyncio.Event()
        running = service.start(rt, stop, node)
        for puller in running.pullers:
            puller.limit = limit
        print("ready", flush=True)
        await asyncio.gather(*running.tasks)  # never stopped: killed


def main() -> None:
    configure(json=True, level=logging.INFO)
    if sys.argv[1] == "serve":
        app = sync_app(Settings.from_env(), NodeSettings.from_env())
        uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
    else:
        asyncio.run(pull(int(sys.argv[2])))


if __name__ == "__main__":
    main()
