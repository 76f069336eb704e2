"""What the benchmarks share: a database server to measure on, fresh databases, a fixed clock.

Imported by the benchmark scripts of this folder (run as `python bench/NAME.py`, which puts this
folder first on the path).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from adapters.pg.codec import EventCodec
from adapters.pg.store import PostgresEventStore
from adapters.pii.keyring import Keyring
from adapters.pii.sealing import KeyEncryptionKeys


@dataclass(frozen=True)
class FixedClock:
    """A clock that says the same day, so generated provinces are the same every run."""

    day: date

    def today(self) -> date:
        return self.day


@contextmanager
def server() -> Iterator[str]:
    """The admin URL of BANGFU_BENCH_DATABASE_URL, or of a private pgserver in /tmp."""
    url = os.environ.get("BANGFU_BENCH_DATABASE_URL")
    if url:
        yield url
        return
    import pgserver  # noqa: PLC0415 — only when no server is given

    folder = Path(tempfile.mkdtemp(prefix="bfbench-"))
    handle = pgserver.get_server(folder / "pg", cleanup_mode="stop")
    try:
        yield handle.get_uri()
    finally:
        handle.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def encrypting(pool: asyncpg.Pool) -> tuple[PostgresEventStore, EventCodec]:
    """A store and codec as the service has them: personal data encrypted with per-file data
    keys under a key-encryption key made for the run."""
    keyring = Keyring(pool, KeyEncryptionKeys.generate())
    return PostgresEventStore(pool, keyring=keyring), EventCodec(keyring=keyring)


def cold(store: PostgresEventStore) -> None:
    """Forget every unwrapped data key, as a freshly started process has none."""
    if store.keyring is not None:
        store.keyring.clear()
