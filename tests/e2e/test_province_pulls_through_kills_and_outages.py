"""Two real nodes — two PostgreSQL servers, two `bangfu serve` processes, HTTP on loopback: the
district keeps writing while the province pulls it in the background; the province is killed
mid-page again and again; the district goes offline for a while. At the end both hold the same
events with the same hashes, and the province counts the district's files as the district does.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx

from tests.e2e.sync_helpers import (
    DISTRICT,
    HASH_KEY,
    PROVINCE,
    SECRET,
    load_units,
    log_of,
    server_of,
    stock_of,
    sync_token,
    write_district_files,
)
from tests.e2e.test_province_pulls_a_district_node import project

ROOT = Path(__file__).resolve().parents[2]
KILLS = 4
PAGE = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "BANGFU_DATABASE_URL": database_url,
        "BANGFU_DATA_DIR": str(data_dir),
        "BANGFU_SECRET": SECRET,
        "BANGFU_HASH_KEY": HASH_KEY,
        "BANGFU_PROJECTIONS": "off",
        **extra,
    }


async def start_node(
    url: str, port: int, log: Path, data: Path, **extra: str
) -> asyncio.subprocess.Process:
    """`bangfu serve` on a loopback port, as a node is run; returns once it answers."""
    with log.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "adapters.cli", "serve", "--host", "127.0.0.1",
            "--port", str(port),
            cwd=ROOT, env=env(url, data, **extra), stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )  # fmt: skip
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/health/live")).status_code == 200:
                    return process
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"the node did not start; its log: {log}")


async def start_district(url: str, port: int, log: Path, data: Path) -> asyncio.subprocess.Process:
    return await start_node(url, port, log, data, BANGFU_NODE_CODE=DISTRICT)


async def start_puller(
    url: str, district_port: int, log: Path, data: Path
) -> asyncio.subprocess.Process:
    """The province's `bangfu serve` (on a port of its own), which pulls the district on
    `district_port` in the background, pages of `PAGE` events."""
    downstreams = [
        {
            "code": DISTRICT,
            "url": f"http://127.0.0.1:{district_port}",
            "token": sync_token(DISTRICT),
        }
    ]
    return await start_node(
        url,
        free_port(),
        log,
        data,
        BANGFU_NODE_CODE=PROVINCE,
        BANGFU_DOWNSTREAMS=json.dumps(downstreams),
        BANGFU_SYNC_INTERVAL="0.05",
        BANGFU_SYNC_PAGE=str(PAGE),
    )


async def kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    await process.wait()


async def test_province_pulls_a_writing_district_through_kills_and_an_outage(
    node_database: Callable[[int], str], tmp_path: Path
) -> None:
    district_url, province_url = node_database(0), node_database(1)  # a server each
    district = await asyncpg.create_pool(district_url, min_size=1, max_size=4)
    province = await asyncpg.create_pool(province_url, min_size=1, max_size=4)
    assert district is not None
    assert province is not None
    port, rng = free_port(), random.Random(7)
    logs = tmp_path / "district.log", tmp_path / "province.log"
    processes: list[asyncio.subprocess.Process] = []
    try:
        assert await server_of(district) != await server_of(province)
        await load_units(district)
        await load_units(province)
        await write_district_files(district, count=60, seed=11)
        processes.append(await start_district(district_url, port, logs[0], tmp_path / "d"))
        writing = asyncio.create_task(write_district_files(district, count=40, seed=12))

        for _ in range(KILLS):  # killed at random moments, mostly with a page in hand
            province_node = await start_puller(province_url, port, logs[1], tmp_path / "p")
            await asyncio.sleep(rng.uniform(0.3, 1.2))
            await kill(province_node)
        processes.append(await start_puller(province_url, port, logs[1], tmp_path / "p"))

        await kill(processes[0])  # the district goes offline for a while
        await asyncio.sleep(3)
        processes[0] = await start_district(district_url, port, logs[0], tmp_path / "d")
        await writing

        for _ in range(600):
            if await log_of(province) == await log_of(district):
                break
            await asyncio.sleep(0.1)
        await project(district)
        await project(province)

        assert await log_of(province) == await log_of(district)
        assert await province.fetchval("SELECT count(*) FROM events") == await district.fetchval(
            "SELECT count(*) FROM events"
        )
        assert await stock_of(province, DISTRICT) == await stock_of(district, DISTRICT)
        assert "sync.pull_failed" in logs[1].read_text()  # the outage was seen, and outlived
        assert await province.fetchval("SELECT count(*) FROM sync_quarantine") == 0
    finally:
        for process in processes:
            if process.returncode is None:
                await kill(process)
        await district.close()
        await province.close()
