"""The real app served by uvicorn on a free loopback port: on the test's own event loop (`served`)
or in a thread of its own for synchronous drivers such as Selenium (`ServerThread`)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import uvicorn

from adapters.http.app import asgi
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.settings import Settings
from adapters.services import demo
from tests.parameters import set_province_parameters


async def load_units(database_url: str) -> None:
    """The demo union tree and the province's regional parameters (tests/parameters.py), as the
    `api` fixture gives its app: a served app that approves files judges them by the latter."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert pool is not None
    try:
        await PgUnitDirectory(pool).load(demo.units())
        await set_province_parameters(pool)
    finally:
        await pool.close()


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[str]:
    """The app of `settings` (the demo union tree and parameters loaded) until the block ends:
    its URL."""
    assert settings.database_url is not None
    await load_units(settings.database_url)
    server = uvicorn.Server(
        uvicorn.Config(asgi(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


class ServerThread:
    """`served` in a thread with its own event loop; `url` once started, `stop()` to end it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = ""
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bangfu-test-server", daemon=True)

    def start(self) -> ServerThread:
        self._thread.start()
        self._started.wait(timeout=120)
        if self._error is not None:
            raise self._error
        if not self.url:
            raise RuntimeError("the test server did not start within 120 s")
        return self

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with served(self.settings) as url:
                self.url = url
                self._started.set()
                await self._stop.wait()

        try:
            asyncio.run(main())
        except BaseException as error:  # shown by start() or stop() in the test's thread
            self._error = error
            self._started.set()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)
