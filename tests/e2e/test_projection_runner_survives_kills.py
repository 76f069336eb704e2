"""An operator's projection runner is killed again and again while clerks keep recording: once it
is let finish, its tables equal a rebuild from zero and every event has counted exactly once.

The runner is a real process (`tests/e2e/run_projections.py`, wired as the service wires it)
with batches of 50 events, so a catch-up is many transactions; it is killed with SIGKILL at
random moments — mostly in the middle of a catch-up, often with a batch's transaction open —
while more files are recorded through the use cases, and restarted each time.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest

from adapters.pg.codec import EventCodec
from adapters.pg.projector import rebuild
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import START, PostgresEventStore
from adapters.pii.sealing import KeyEncryptionKeys
from adapters.runtime.bootstrap import read_models
from adapters.services import demo
from domain.privacy import keyed_hash
from tests.builders import TODAY, FixedClock

ROOT = Path(__file__).resolve().parents[2]
HASH_KEY = "kill-test-hash-key-" + "z" * 20
BATCH = 50
KILLS = 5
FIRST_FILES = 300  # about 4,000 events: some 80 batches per projection to catch up
FILES_PER_ROUND = 8  # recorded through the use cases while each runner lives
TABLES = {
    "ledger": "SELECT * FROM ledger ORDER BY file_id",
    "ledger_people": "SELECT * FROM ledger_people ORDER BY file_id, id_hash",
    "stats_facts": "SELECT * FROM stats_facts ORDER BY file_id",
    "stats_stock": "SELECT * FROM stats_stock WHERE count <> 0 ORDER BY unit, dimension, key",
    "stats_flow": "SELECT * FROM stats_flow ORDER BY unit, period, metric, key",
    "ledger_counts": "SELECT * FROM ledger_counts ORDER BY scope, kind, day",
}


def projections() -> list:
    return read_models(lambda number: keyed_hash(HASH_KEY.encode(), number))


async def start_runner(
    database_url: str, log: Path, keys: KeyEncryptionKeys
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BANGFU_DATABASE_URL": database_url,
        "BANGFU_HASH_KEY": HASH_KEY,
        "BANGFU_PII_KEYS": keys.text().replace("\n", ","),  # the writers' keys: same ledger
    }
    with log.open("ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.e2e.run_projections",
            str(BATCH),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    assert process.stdout is not None
    ready = await asyncio.wait_for(process.stdout.readline(), timeout=60)
    assert ready == b"ready\n", f"the runner did not start; its log: {log}"
    return process


async def kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    assert await process.wait() == -signal.SIGKILL


async def behind(store: PostgresEventStore) -> int:
    """Events not yet applied, summed over the projections."""
    return sum([await store.count_after(await store.position(p.name)) for p in projections()])


async def wait_until_caught_up(store: PostgresEventStore, *, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.1)):
        if not await behind(store):
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"the runner is still {await behind(store)} events behind after {seconds} s")


async def snapshot(pool: asyncpg.Pool) -> dict[str, list[tuple]]:
    return {name: [tuple(r) for r in await pool.fetch(sql)] for name, sql in TABLES.items()}


@dataclass
class Tally:
    """What must have been counted once per event: for each file its assistance count and total
    and its last version; province-wide, the files and each flow's count and amount."""

    per_file: dict[UUID, tuple[int, Decimal, int]]
    files: int
    flows: dict[str, tuple[int, Decimal]]


async def tally_of_the_log(pool: asyncpg.Pool) -> Tally:
    codec = EventCodec()  # amounts only: no personal field is read
    count: Counter[str] = Counter()
    assisted: dict[UUID, list[Decimal]] = defaultdict(list)
    last: dict[UUID, int] = {}
    approved: set[UUID] = set()
    for event in await pool.fetch(
        "SELECT stream_id, version, type, payload FROM events WHERE type LIKE 'household.%'"
    ):
        stream, kind = event["stream_id"], event["type"]
        count[kind] += 1
        last[stream] = max(last.get(stream, 0), event["version"])
        if kind == "household.assisted":
            assisted[stream].append(codec.decode_fields(kind, event["payload"]).amount)
        elif kind == "household.approved":
            approved.add(stream)
    none = Decimal(0)
    return Tally(
        per_file={
            stream: (len(assisted[stream]), sum(assisted[stream], none), version)
            for stream, version in last.items()
        },
        files=count["household.applied"],
        flows={
            "assistance": (count["household.assisted"], sum(map(sum, assisted.values()), none)),
            # the same assistance again, split by the file's status (regular aid of 解困 files)
            "assistance_by_status": (
                count["household.assisted"],
                sum(map(sum, assisted.values()), none),
            ),
            "exit": (count["household.exited"], none),
            "return": (count["household.returned"], none),
            "new": (len(approved), none),
        },
    )


async def tally_of_the_tables(pool: asyncpg.Pool) -> Tally:
    ledger = await pool.fetch(
        "SELECT file_id, assistance_count, assistance_total, version FROM ledger"
    )
    files = await pool.fetchval(
        "SELECT sum(count) FROM stats_stock WHERE unit = '13' AND dimension = 'status'"
    )
    flows = await pool.fetch(
        "SELECT metric, sum(count), sum(amount) FROM stats_flow"
        " WHERE unit = '13' AND length(period) = 4 GROUP BY metric"
    )
    return Tally(
        per_file={r[0]: (r[1], r[2], r[3]) for r in ledger},
        files=files,
        flows={metric: (n, amount) for metric, n, amount in flows},
    )


@pytest.mark.slow
async def test_killed_runner_restarts_to_tables_equal_to_a_rebuild_with_each_event_once(
    database_url: str,
    pool: asyncpg.Pool,
    store: PostgresEventStore,
    files: PgFileRepository,
    tmp_path: Path,
):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    log = tmp_path / "runner.log"
    await demo.build(files=files, clock=FixedClock(), count=FIRST_FILES, seed=seed, bulk=True)
    planner = demo.Planner(today=TODAY, seed=seed + 1)
    interrupted = 0  # kills that found the runner moving and not yet caught up

    for _ in range(KILLS):
        runner = await start_runner(database_url, log, store.keyring.keks)
        before = {p.name: await store.position(p.name) for p in projections()}
        recording = asyncio.gather(
            *(
                demo.run_plan(planner.plan(), files=files, clock=FixedClock())
                for _ in range(FILES_PER_ROUND)
            )
        )
        await asyncio.sleep(rng.uniform(0.05, 0.5))
        await kill(runner)
        await recording
        moved = any([await store.position(name) != at for name, at in before.items()])
        interrupted += moved and await behind(store) > 0
    runner = await start_runner(database_url, log, store.keyring.keks)
    try:
        await wait_until_caught_up(store)
    finally:
        await kill(runner)
    kept_up = await snapshot(pool)
    counted = await tally_of_the_tables(pool)
    for projection in projections():
        await rebuild(store, EventCodec(keyring=store.keyring), projection, batch=211)
    rebuilt = await snapshot(pool)

    assert interrupted >= 1, f"no kill landed during a catch-up (seed {seed})"
    assert len(kept_up["ledger"]) == FIRST_FILES + KILLS * FILES_PER_ROUND
    assert kept_up == rebuilt, f"seed {seed}"
    assert counted == await tally_of_the_log(pool), f"seed {seed}"


class RecordingConnection:
    """Stands in for a connection: keeps the SQL and arguments it is asked to run."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    async def fetch(self, sql: str, *args: object) -> list[object]:
        self.calls.append((sql, args))
        return []


def plan_nodes(node: dict) -> Iterator[dict]:
    yield node
    for child in node.get("Plans", ()):
        yield from plan_nodes(child)


class TestEveryBatchTheRunnerReads:
    async def test_follows_the_log_order_index_instead_of_sorting_the_whole_log(
        self, pool: asyncpg.Pool, store: PostgresEventStore
    ):
        reader = RecordingConnection()
        await store.read_log(START, BATCH, conn=reader)  # type: ignore[arg-type]
        ((sql, args),) = reader.calls

        async with pool.acquire() as conn, conn.transaction():
            # the plan as if the log were large: a scan of the whole table is never the answer
            await conn.execute("SET LOCAL enable_seqscan = off")
            await conn.execute("SET LOCAL enable_bitmapscan = off")
            (plan,) = json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args))

        nodes = list(plan_nodes(plan["Plan"]))
        assert [n["Node Type"] for n in nodes if n["Node Type"] == "Sort"] == []
        assert any(n.get("Index Name") == "events_log_order" for n in nodes)
