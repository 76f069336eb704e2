"""Clerks keep sending commands while the operator's server is killed with SIGKILL again and again
and restarted: every command the service acknowledged is in the store exactly once, nothing else
is, the hash chains verify, and the read models catch up with the log.

`bangfu serve` runs as a real process on a loopback port. Four clients take files through the
lifecycle, each command with its own `Idempotency-Key`; when a connection is cut (the kill) or
refused (the restart), the client sends the same request with the same key again until it is
acknowledged. A request whose response was lost may or may not have committed: its retry is then
either a replay of the first result (`Idempotent-Replayed: true`) or its first execution — never
a second event. The kill moments are drawn from a fixed, recorded seed.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.services import demo
from tests.e2e.fault_helpers import JOURNEY, Client, Sent, Served
from tests.e2e.test_projection_runner_survives_kills import (
    tally_of_the_log,
    tally_of_the_tables,
)
from tests.parameters import set_province_parameters

SEED = int(os.environ.get("BANGFU_FAULT_SEED") or 20_260_108)
CLIENTS = 4
KILLS = 4
EVENT_OF = {"apply": "household.applied", **dict(JOURNEY)}


async def lags(base: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        response = await http.get("/health/ready")
    checks: dict[str, str] = response.json().get("checks", {})
    return {k: v for k, v in checks.items() if k.startswith("projection.")}


async def wait_until_caught_up(base: str, *, seconds: float = 60) -> dict[str, str]:
    """Poll /health/ready until every read model is 0 events behind."""
    last: dict[str, str] = {}
    for _ in range(int(seconds / 0.2)):
        last = await lags(base)
        if last and all(v.startswith("0 events") for v in last.values()):
            return last
        await asyncio.sleep(0.2)
    pytest.fail(f"the read models did not catch up within {seconds} s: {last}")


async def household_events(pool: asyncpg.Pool) -> dict[str, list[tuple[int, str]]]:
    """Each file's events as (version, type), in version order."""
    rows = await pool.fetch(
        "SELECT stream_id, version, type FROM events WHERE type LIKE 'household.%'"
        " ORDER BY stream_id, version"
    )
    files: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in rows:
        files[str(row["stream_id"])].append((row["version"], row["type"]))
    return files


def file_of(sent: Sent) -> str:
    return str(sent.body["id"])


@pytest.mark.slow
async def test_every_acknowledged_command_is_stored_once_through_repeated_kill_9(
    make_database: Callable[[], str], tmp_path: Path
):
    rng = random.Random(SEED)
    database_url = make_database()
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    assert pool is not None
    await PgUnitDirectory(pool).load(demo.units())
    await set_province_parameters(pool)  # commands are judged by the parameters in force
    served = Served(database_url, tmp_path / "data", tmp_path / "serve.log")
    clients = [Client(served.base, f"c{n}") for n in range(CLIENTS)]
    stop = asyncio.Event()
    moments: list[float] = []
    try:
        await served.start()
        load = [asyncio.create_task(c.journeys(stop)) for c in clients]
        for _ in range(KILLS):
            moments.append(round(rng.uniform(0.4, 2.0), 2))
            await asyncio.sleep(moments[-1])
            await served.kill()
            await served.start()
        await asyncio.sleep(rng.uniform(0.4, 2.0))
        stop.set()
        await asyncio.gather(*load)
        caught_up = await wait_until_caught_up(served.base)

        sent = [s for c in clients for s in c.sent]
        stored = await household_events(pool)
        report = await PostgresEventStore(pool).verify()
        # the province's regional parameters (set before the load) are the only other stream
        policy_events = await pool.fetchval(
            "SELECT count(*) FROM events WHERE type LIKE 'policy.%'"
        )
        counted, logged = await tally_of_the_tables(pool), await tally_of_the_log(pool)
        heads_behind = await pool.fetchval(
            "SELECT count(*) FROM (SELECT stream_id, max(version) AS head FROM events"
            " WHERE type LIKE 'household.%' GROUP BY stream_id) h"
            " LEFT JOIN ledger l ON l.file_id = h.stream_id"
            " WHERE l.version IS DISTINCT FROM h.head"
        )

        # Sending acknowledged requests again, with their keys, gives their first results and
        # appends nothing.
        async with httpx.AsyncClient(base_url=served.base, timeout=15) as http:
            replays = []
            for first in rng.sample(sent, k=min(20, len(sent))):
                copy = Sent(first.key, first.path, first.command, first.payload)
                owner = next(c for c in clients if first in c.sent)
                await owner.until_acknowledged(http, copy)
                replays.append((first, copy))
        after_replays = await household_events(pool)
    finally:
        stop.set()
        if served.running:
            await served.kill()
        await pool.close()

    seed = f"seed {SEED}, kills after {moments} s"
    acknowledged: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for s in sent:
        acknowledged[file_of(s)].append((s.body["version"], EVENT_OF[s.command]))
    cut = [s for s in sent if s.lost]
    assert served.starts == KILLS + 1
    assert all(s.status in (200, 201) for s in sent), seed
    assert len(sent) > 50, f"too little load to mean anything: {len(sent)} commands ({seed})"
    assert cut, f"no kill cut a request in flight ({seed})"
    assert {f: sorted(a) for f, a in acknowledged.items()} == dict(stored), seed
    assert report.ok, report.broken
    assert report.events == sum(map(len, stored.values())) + policy_events
    assert heads_behind == 0, seed
    assert counted.per_file == logged.per_file, seed
    assert counted.files == logged.files, seed
    assert counted.flows == {k: v for k, v in logged.flows.items() if v[0]}, seed
    assert all(v.startswith("0 events") for v in caught_up.values())
    assert [(c.body, c.replayed) for _, c in replays] == [(f.body, True) for f, _ in replays]
    assert after_replays == stored
    print(
        f"\n{len(sent)} commands; {len(cut)} cut in flight and sent again, of which"
        f" {sum(s.replayed for s in cut)} had committed (replayed);"
        f" {sum(s.refused for s in sent)} attempts refused while restarting; {seed}"
    )
