"""A projection runner that stops dead inside a batch's transaction, for the kill tests:

    python -m tests.e2e.run_projections_pausing BATCH PAUSE_AT PHASE

Wired as `tests/e2e/run_projections.py` (and so as the service wires its runner), with one seam:
at the PAUSE_AT-th position it saves, it prints `paused PHASE PROJECTION` and waits forever, with
the batch's transaction open —

- PHASE `rows`: the batch's read-model rows are written, its new position is not;
- PHASE `position`: the rows and the new position are written, the transaction not committed.

The test then kills it with SIGKILL, exactly there. It prints `ready` once connected.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import asyncpg

from adapters.pg.codec import EventCodec
from adapters.pg.projector import ProjectionRunner
from adapters.pg.store import Cursor, PostgresEventStore
from adapters.pii.keyring import Keyring
from adapters.pii.sealing import KeyEncryptionKeys
from adapters.runtime.bootstrap import open_pool, read_models
from adapters.runtime.logging import configure
from domain.privacy import keyed_hash

PHASES = ("rows", "position")


class PausingStore(PostgresEventStore):
    def __init__(self, pool: asyncpg.Pool, *, pause_at: int, phase: str, keyring: Keyring) -> None:
        super().__init__(pool, keyring=keyring)
        self.pause_at = pause_at
        self.phase = phase
        self.saves = 0

    async def save_position(  # type: ignore[override]
        self, conn: asyncpg.Connection, name: str, cursor: Cursor
    ) -> None:
        self.saves += 1
        pausing = self.saves == self.pause_at
        if pausing and self.phase == "rows":
            await self._pause(name)
        await PostgresEventStore.save_position(conn, name, cursor)
        if pausing and self.phase == "position":
            await self._pause(name)

    async def _pause(self, name: str) -> None:
        print(f"paused {self.phase} {name}", flush=True)
        await asyncio.Event().wait()  # until killed


async def main(batch: int, pause_at: int, phase: str) -> None:
    assert phase in PHASES, phase
    key = os.environ["BANGFU_HASH_KEY"].encode()
    pool = await open_pool(os.environ["BANGFU_DATABASE_URL"], size=4)
    keyring = Keyring(pool, KeyEncryptionKeys.parse(os.environ["BANGFU_PII_KEYS"]))
    store = PausingStore(pool, pause_at=pause_at, phase=phase, keyring=keyring)
    runner = ProjectionRunner(
        store,
        EventCodec(keyring=keyring),
        read_models(lambda number: keyed_hash(key, number)),
        batch=batch,
    )
    print("ready", flush=True)
    await runner.run(asyncio.Event(), poll=0.02)  # never stopped: killed


if __name__ == "__main__":
    configure(json=True, level=logging.WARNING)
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))
