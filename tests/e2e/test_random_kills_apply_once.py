"""The projection runner is killed at random points — some exactly inside a batch's transaction,
after its rows are written and before its position is, or after both and before the commit —
while clerks keep recording: each time the batch is rolled back whole and applied again once,
so at the end the read models equal a rebuild from zero and every event counted exactly once.

The kill points come from a fixed, recorded seed. A `rows` or `position` kill uses
`tests/e2e/run_projections_pausing.py`, which stops dead at a chosen batch with its transaction
open; the test confirms in `pg_stat_activity` that the runner's session is inside a transaction
that has written (it holds a transaction id) before it sends SIGKILL. An `anywhere` kill lands at
a random moment of a running catch-up, as in test_projection_runner_survives_kills.py.

The province's sync puller is killed the same way — inside a page's transaction, after the
page's events are written and before its cursor is (`tests/e2e/run_sync_pull_pausing.py`) — while
the district keeps writing: at the end the province holds exactly the district's events, none
lost, none twice, and counts as the district does. (test_province_pulls_through_kills_and_outages.py
kills it at random moments instead, and takes the district offline.)
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from adapters.pg.codec import EventCodec
from adapters.pg.projector import rebuild
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pii.sealing import KeyEncryptionKeys
from adapters.services import demo
from tests.builders import TODAY, FixedClock
from tests.e2e.sync_helpers import (
    DISTRICT,
    PROVINCE,
    load_units,
    log_of,
    stock_of,
    sync_token,
    write_district_files,
)
from tests.e2e.test_projection_runner_survives_kills import (
    BATCH,
    HASH_KEY,
    ROOT,
    kill,
    projections,
    snapshot,
    start_runner,
    tally_of_the_log,
    tally_of_the_tables,
    wait_until_caught_up,
)
from tests.e2e.test_province_pulls_a_district_node import project
from tests.e2e.test_province_pulls_through_kills_and_outages import (
    env,
    free_port,
    start_district,
    start_puller,
)

SEED = int(os.environ.get("BANGFU_FAULT_SEED") or 20_260_108)
FIRST_FILES = 200
PAGE = 40  # events a sync page
PULL_KILLS = 4
FILES_PER_ROUND = 6
ROUNDS = ("rows", "rows", "position", "position", "anywhere", "anywhere")


async def batches_left(store: PostgresEventStore) -> int:
    """Batches the runner will commit before it is caught up, over every projection."""
    return sum(
        [
            math.ceil(await store.count_after(await store.position(p.name)) / BATCH)
            for p in projections()
        ]
    )


async def start_pausing(
    database_url: str, log: Path, pause_at: int, phase: str, keys: KeyEncryptionKeys
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BANGFU_DATABASE_URL": database_url,
        "BANGFU_HASH_KEY": HASH_KEY,
        "BANGFU_PII_KEYS": keys.text().replace("\n", ","),  # the writers' keys: same ledger
    }
    with log.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.e2e.run_projections_pausing",
            str(BATCH), str(pause_at), phase,
            cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=stderr,
        )  # fmt: skip
    assert process.stdout is not None
    ready = await asyncio.wait_for(process.stdout.readline(), timeout=60)
    assert ready == b"ready\n", f"the runner did not start; its log: {log}"
    return process


async def runner_inside_a_written_transaction(pool: asyncpg.Pool) -> bool:
    """Whether the runner's session is idle inside a transaction that has written rows."""
    return bool(
        await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'bangfu' AND state = 'idle in transaction'"
            " AND backend_xid IS NOT NULL"
        )
    )


@pytest.mark.slow
async def test_runner_killed_inside_its_batches_applies_every_event_once(
    database_url: str,
    pool: asyncpg.Pool,
    store: PostgresEventStore,
    files: PgFileRepository,
    tmp_path: Path,
):
    rng = random.Random(SEED)
    log = tmp_path / "runner.log"
    await demo.build(files=files, clock=FixedClock(), count=FIRST_FILES, seed=SEED, bulk=True)
    planner = demo.Planner(today=TODAY, seed=SEED + 1)
    rounds = list(ROUNDS)
    rng.shuffle(rounds)
    landed: list[str] = []

    for phase in rounds:
        recording = asyncio.gather(
            *(
                demo.run_plan(planner.plan(), files=files, clock=FixedClock())
                for _ in range(FILES_PER_ROUND)
            )
        )
        if phase == "anywhere":
            runner = await start_runner(database_url, log, store.keyring.keks)
            await asyncio.sleep(rng.uniform(0.05, 0.5))
            landed.append(phase)
        else:
            pause_at = rng.randint(1, max(1, await batches_left(store)))
            runner = await start_pausing(database_url, log, pause_at, phase, store.keyring.keks)
            assert runner.stdout is not None
            line = await asyncio.wait_for(runner.stdout.readline(), timeout=60)
            assert line.startswith(f"paused {phase} ".encode()), line
            assert await runner_inside_a_written_transaction(pool), phase
            landed.append(f"{phase}@{pause_at}:{line.split()[-1].decode()}")
        await kill(runner)
        await recording

    runner = await start_runner(database_url, log, store.keyring.keks)
    try:
        await wait_until_caught_up(store)
    finally:
        await kill(runner)
    kept_up = await snapshot(pool)
    counted = await tally_of_the_tables(pool)
    for projection in projections():
        await rebuild(store, EventCodec(keyring=store.keyring), projection, batch=173)
    rebuilt = await snapshot(pool)

    where = f"seed {SEED}: kills {landed}"
    assert len(kept_up["ledger"]) == FIRST_FILES + len(ROUNDS) * FILES_PER_ROUND, where
    assert kept_up == rebuilt, where
    assert counted == await tally_of_the_log(pool), where


async def start_pausing_puller(
    url: str, port: int, log: Path, data: Path, pause_at: int
) -> asyncio.subprocess.Process:
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
            sys.executable, "-m", "tests.e2e.run_sync_pull_pausing", str(PAGE), str(pause_at),
            cwd=ROOT, env=env(url, data, **extra), stdout=asyncio.subprocess.PIPE, stderr=stderr,
        )  # fmt: skip
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), 60) == b"ready\n", log
    return process


@pytest.mark.slow
async def test_puller_killed_inside_its_pages_loses_nothing_and_stores_nothing_twice(
    make_database: Callable[[], str], tmp_path: Path
):
    rng = random.Random(SEED)
    district_url, province_url = make_database(), make_database()
    district = await asyncpg.create_pool(district_url, min_size=1, max_size=4)
    province = await asyncpg.create_pool(province_url, min_size=1, max_size=4)
    assert district is not None
    assert province is not None
    port = free_port()
    logs = tmp_path / "district.log", tmp_path / "puller.log"
    processes: list[asyncio.subprocess.Process] = []
    landed: list[int] = []
    try:
        await load_units(district)
        await load_units(province)
        await write_district_files(district, count=60, seed=SEED)
        processes.append(await start_district(district_url, port, logs[0], tmp_path / "d"))
        writing = asyncio.create_task(write_district_files(district, count=30, seed=SEED + 1))

        for _ in range(PULL_KILLS):
            pause_at = rng.randint(1, 3)
            puller = await start_pausing_puller(
                province_url, port, logs[1], tmp_path / "p", pause_at
            )
            assert puller.stdout is not None
            assert await asyncio.wait_for(puller.stdout.readline(), 60) == b"paused\n", logs[1]
            assert await runner_inside_a_written_transaction(province)
            await kill(puller)
            landed.append(pause_at)
        processes.append(await start_puller(province_url, port, logs[1], tmp_path / "p"))
        await writing

        for _ in range(600):
            if await log_of(province) == await log_of(district):
                break
            await asyncio.sleep(0.1)
        await project(district)
        await project(province)

        where = f"seed {SEED}: killed at pages {landed}"
        assert await log_of(province) == await log_of(district), where
        assert await province.fetchval("SELECT count(*) FROM events") == await district.fetchval(
            "SELECT count(*) FROM events"
        ), where
        assert await stock_of(province, DISTRICT) == await stock_of(district, DISTRICT), where
        assert await province.fetchval("SELECT count(*) FROM sync_quarantine") == 0, where
    finally:
        for process in processes:
            if process.returncode is None:
                await kill(process)
        await district.close()
        await province.close()
