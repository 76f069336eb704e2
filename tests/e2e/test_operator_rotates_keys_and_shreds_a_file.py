"""An operator builds a demo province with the CLI — its personal data is nowhere in the events
table in clear — shreds one household's personal data, rotates the key-encryption key, retires
the old one, and every hash chain and every other file still reads as before."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import asyncpg
import pytest

from adapters.pg.codec import EventCodec
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pii.keyring import Keyring
from adapters.runtime.secrets import load_pii_keys
from domain.privacy import ERASED
from tests.e2e.test_operator_builds_demo_and_detects_tampering import bangfu

pytestmark = pytest.mark.slow

_LAST_EVENT = """
SELECT DISTINCT ON (stream_id) stream_id, type FROM events
WHERE type LIKE 'household.%' ORDER BY stream_id, version DESC
"""


async def heads(pool: asyncpg.Pool, data_dir: Path) -> dict[UUID, tuple[str, str, str, str]]:
    """Every file's head (name, ID number, phone, bank card), read with the node's keys."""
    keyring = Keyring(pool, load_pii_keys(None, data_dir))
    files = PgFileRepository(PostgresEventStore(pool, keyring=keyring), EventCodec(keyring=keyring))
    found = {}
    for (stream_id,) in await pool.fetch(
        "SELECT stream_id FROM events WHERE type = 'household.applied'"
    ):
        head = (await files.get(stream_id)).head
        found[stream_id] = (head.name, head.id_number, head.phone, head.bank_card)
    return found


async def test_demo_shred_rotate_retire_and_everything_still_verifies(
    database_url: str, tmp_path: Path, pool: asyncpg.Pool
):
    def cli(*args: str) -> tuple[int, str]:
        done = bangfu(*args, database_url=database_url, tmp_path=tmp_path)
        return done.returncode, done.stdout + done.stderr

    code, out = cli("demo", "--files", "30", "--seed", "5")
    assert code == 0, out
    before = await heads(pool, tmp_path)
    stored = b"\n".join(bytes(r[0]) for r in await pool.fetch("SELECT payload FROM events"))
    for _name, number, phone, card in before.values():
        assert number.encode() not in stored
        assert phone.encode() not in stored
        assert not card or card.encode() not in stored

    last = {r[0]: r[1] for r in await pool.fetch(_LAST_EVENT)}
    closed = next(s for s, t in last.items() if t == "household.exited")
    still_open = next(s for s, t in last.items() if t == "household.assisted")

    code, out = cli("files", "shred", str(still_open), "--reason", "本人申请")
    assert code == 1, out
    code, out = cli("files", "shred", str(closed), "--reason", "本人申请删除个人信息")
    assert code == 0, out
    assert "已销毁" in out

    code, out = cli("verify")
    assert code == 0, out
    code, out = cli("keys", "status")
    assert code == 0, out
    assert "1 (current)" in out

    code, out = cli("keys", "rotate")
    assert code == 0, out
    assert "re-wrapped under KEK version 2" in out
    code, out = cli("keys", "retire", "2")
    assert code == 1, out
    code, out = cli("keys", "retire", "1")
    assert code == 0, out
    assert [line.split(":")[0] for line in (tmp_path / "pii_keys").read_text().split()] == ["2"]

    code, out = cli("verify")
    assert code == 0, out
    code, out = cli("summary")
    assert code == 0, out
    after = await heads(pool, tmp_path)
    assert after.pop(closed) == (ERASED, ERASED, ERASED, ERASED)
    before.pop(closed)
    assert after == before
