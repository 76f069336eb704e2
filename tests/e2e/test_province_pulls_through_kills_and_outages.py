"""Two real nodes — two databases, two bangfu processes, HTTP on loopback: the district keeps
writing while the province pulls; the province's puller is killed mid-page again and again; the
district goes offline for a while. At the end both hold the same events with the same hashes,
and the province counts the district's files as the district does.
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


async def start_district(url: str, port: int, log: Path, data: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.e2e.run_sync_node", "serve", str(port),
            cwd=ROOT, env=env(url, data, BANGFU_NODE_CODE=DISTRICT), stderr=stderr,
        )  # fmt: skip
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/health/live")).status_code == 200:
                    return process
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"the district did not start; its log: {log}")


async def start_puller(url: str, port: int, log: Path, data: Path) -> asyncio.subprocess.Process:
    downstreams = [
        {"code": DISTRICT, "url": f"http://127.0.0.1:{port}", "token": sync_token(DISTRICT)}
    ]
    extra = {
        "BANGFU_NODE_CODE": PROVINCE,
        "BANGFU_DOWNSTREAMS": json.dumps(downstreams),
        "BANGFU_SYNC_INTERVAL": "0.05",
    }
    with log.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.e2e.run_sync_node", "pull", str(PAGE),
            cwd=ROOT, env=env(url, data, **extra), stdout=asyncio.subprocess.PIPE, stderr=stderr,
        )  # fmt: skip
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), 60) == b"ready\n", log
    return process


async def kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    await process.wait()


async def test_province_pulls_a_writing_district_through_kills_and_an_outage(
    make_database: Callable[[], str], tmp_path: Path
) -> None:
    district_url, province_url = make_database(), make_database()
    district = await asyncpg.create_pool(district_url, min_size=1, max_size=4)
    province = await asyncpg.create_pool(province_url, min_size=1, max_size=4)
    assert district is not None
    assert province is not None
    port, rng = free_port(), random.Random(7)
    logs = tmp_path / "district.log", tmp_path / "puller.log"
    processes: list[asyncio.subprocess.Process] = []
    try:
        await load_units(district)
        await load_units(province)
        await write_district_files(district, count=60, seed=11)
        processes.append(await start_district(district_url, port, logs[0], tmp_path / "d"))
        writing = asyncio.create_task(write_district_files(district, count=40, seed=12))

        for _ in range(KILLS):  # killed at random moments, mostly with a page in hand
            puller = await start_puller(province_url, port, logs[1], tmp_path / "p")
            await asyncio.sleep(rng.uniform(0.3, 1.2))
            await kill(puller)
        puller = await start_puller(province_url, port, logs[1], tmp_path / "p")
        processes.append(puller)

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
