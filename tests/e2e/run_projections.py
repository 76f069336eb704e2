"""A stand-alone projection runner for the kill test: `python -m tests.e2e.run_projections BATCH`.

Wired as `adapters.bootstrap.runtime` wires the runner — pool, `PostgresEventStore`,
`EventCodec`, `ProjectionRunner` over `read_models(keyed hash)` — from BANGFU_DATABASE_URL and
BANGFU_HASH_KEY, with a small batch so a catch-up is many transactions. It prints `ready` once
connected, then catches up and tails the log (polling) until it is killed: the test's SIGKILL is
the only way it ends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from adapters.pg.codec import EventCodec
from adapters.pg.projector import ProjectionRunner
from adapters.pg.store import PostgresEventStore
from adapters.pii.keyring import Keyring
from adapters.pii.sealing import KeyEncryptionKeys
from adapters.runtime.bootstrap import open_pool, read_models
from adapters.runtime.logging import configure
from domain.privacy import keyed_hash


async def main(batch: int) -> None:
    key = os.environ["BANGFU_HASH_KEY"].encode()
    pool = await open_pool(os.environ["BANGFU_DATABASE_URL"], size=4)
    keyring = Keyring(pool, KeyEncryptionKeys.parse(os.environ["BANGFU_PII_KEYS"]))
    store = PostgresEventStore(pool, keyring=keyring)
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
    asyncio.run(main(int(sys.argv[1])))
