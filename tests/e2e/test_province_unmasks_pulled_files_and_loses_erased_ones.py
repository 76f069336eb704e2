"""A province pulls a district whose personal data is encrypted. With the sync key the two nodes
share, the feed carries each file's data key wrapped under it: the province stores it under its
own key-encryption key, builds its read models and unmasks for its inspectors. When the district
erases a household's personal data, the next pull destroys the province's copy of the key too,
and every hash chain still verifies on both nodes."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from adapters.http.auth import Tokens
from adapters.pg.codec import EventCodec
from adapters.pg.projector import ProjectionRunner
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pii.keyring import Keyring
from adapters.pii.sealing import SHREDDED
from adapters.runtime.bootstrap import read_models
from adapters.runtime.secrets import load_pii_keys
from adapters.sync.node import Downstream, NodeSettings
from adapters.sync.pull import PageRefused, Puller
from domain.household import Head
from domain.privacy import ERASED, UNREADABLE, keyed_hash
from domain.values import Role
from tests.e2e.sync_helpers import (
    DISTRICT,
    HASH_KEY,
    PROVINCE,
    SECRET,
    admin_token,
    load_units,
    log_of,
    served,
    sync_token,
    write_district_files,
)

SYNC_KEY = os.urandom(32)
DISTRICT_NODE = NodeSettings(code=DISTRICT, subtree=DISTRICT, upstream_key=SYNC_KEY)
PROVINCE_NODE = NodeSettings(code=PROVINCE, subtree=PROVINCE)
API = "/api/v1"


@pytest.fixture
async def nodes(make_database: Callable[[], str]) -> AsyncIterator[dict[str, tuple[str, Any]]]:
    made: dict[str, tuple[str, asyncpg.Pool]] = {}
    try:
        for name in ("district", "province"):
            url = make_database()
            pool = await asyncpg.create_pool(url, min_size=1, max_size=6)
            assert pool is not None
            await load_units(pool)
            made[name] = (url, pool)
        yield made
    finally:
        for _, pool in made.values():
            await pool.close()


def keyring_of(pool: asyncpg.Pool, data_dir: Path) -> Keyring:
    """The keys of the node whose data folder is `data_dir` (generated on first use)."""
    return Keyring(pool, load_pii_keys(None, data_dir))


def files_of(keyring: Keyring) -> PgFileRepository:
    return PgFileRepository(
        PostgresEventStore(keyring.pool, keyring=keyring), EventCodec(keyring=keyring)
    )


async def heads(keyring: Keyring) -> dict[UUID, Head]:
    files = files_of(keyring)
    ids = await keyring.pool.fetch("SELECT stream_id FROM events WHERE type = 'household.applied'")
    return {r[0]: (await files.get(r[0])).head for r in ids}


async def pull(pool: asyncpg.Pool, keyring: Keyring, url: str, key: bytes | None) -> None:
    pulling = Puller(
        pool, Downstream(DISTRICT, url, sync_token(DISTRICT), key), keyring=keyring, limit=40
    )
    try:
        await pulling.catch_up()
    finally:
        await pulling.close()


async def closed_file(pool: asyncpg.Pool) -> UUID:
    """A district file whose last event is an exit (closed: its personal data may be erased)."""
    row = await pool.fetchrow(
        "SELECT stream_id FROM (SELECT DISTINCT ON (stream_id) stream_id, type FROM events"
        " ORDER BY stream_id, version DESC) AS last WHERE type = 'household.exited' LIMIT 1"
    )
    assert row is not None
    return UUID(str(row[0]))


class TestWithTheSharedSyncKey:
    async def test_the_province_reads_the_personal_data_the_district_wrote(
        self, nodes: dict[str, Any], tmp_path: Path
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        d_keys, p_keys = keyring_of(district, tmp_path / "d"), keyring_of(province, tmp_path / "p")
        await write_district_files(district, count=12, seed=21, keyring=d_keys)

        async with served(d_url, tmp_path / "d", DISTRICT_NODE) as url:
            await pull(province, p_keys, url, SYNC_KEY)

        assert await log_of(province) == await log_of(district)
        assert await heads(p_keys) == await heads(d_keys)
        # stored under the province's own KEK: the district's key-encryption key never travels
        wrapped = {
            r[0]: bytes(r[1])
            for r in await province.fetch("SELECT stream_id, wrapped FROM personal_keys")
        }
        theirs = {
            r[0]: bytes(r[1])
            for r in await district.fetch("SELECT stream_id, wrapped FROM personal_keys")
        }
        assert wrapped.keys() == theirs.keys()
        assert not set(wrapped.items()) & set(theirs.items())

    async def test_the_provinces_read_models_and_its_inspectors_see_what_the_districts_do(
        self, nodes: dict[str, Any], tmp_path: Path
    ) -> None:
        (d_url, district), (p_url, province) = nodes["district"], nodes["province"]
        d_keys, p_keys = keyring_of(district, tmp_path / "d"), keyring_of(province, tmp_path / "p")
        await write_district_files(district, count=8, seed=22, keyring=d_keys)
        async with served(d_url, tmp_path / "d", DISTRICT_NODE) as url:
            await pull(province, p_keys, url, SYNC_KEY)
        for pool, keys in ((district, d_keys), (province, p_keys)):
            await ProjectionRunner(
                PostgresEventStore(pool, keyring=keys),
                EventCodec(keyring=keys),
                read_models(lambda n: keyed_hash(HASH_KEY.encode(), n)),
            ).catch_up()
        ledger = "SELECT file_id, head_name, id_masked, id_hash FROM ledger ORDER BY file_id"
        assert await province.fetch(ledger) == await district.fetch(ledger)

        file_id, head = next(iter((await heads(d_keys)).items()))
        inspector = Tokens(SECRET).mint(
            user="inspector", unit=PROVINCE, role=Role.INSPECTOR, ttl=timedelta(hours=1)
        )
        async with served(p_url, tmp_path / "p", PROVINCE_NODE) as url, httpx.AsyncClient() as c:
            read = await c.get(
                f"{url}{API}/files/{file_id}?unmask=true",
                headers={"Authorization": f"Bearer {inspector}", "X-Bangfu-Purpose": "spot check"},
            )
        assert read.status_code == 200, read.text
        assert (read.json()["head"]["id_number"], read.json()["head"]["phone"]) == (
            head.id_number,
            head.phone,
        )

    async def test_an_erasure_in_the_district_destroys_the_provinces_copy_of_the_key(
        self, nodes: dict[str, Any], tmp_path: Path
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        d_keys, p_keys = keyring_of(district, tmp_path / "d"), keyring_of(province, tmp_path / "p")
        await write_district_files(district, count=12, seed=23, keyring=d_keys)
        async with served(d_url, tmp_path / "d", DISTRICT_NODE) as url:
            await pull(province, p_keys, url, SYNC_KEY)
            before = await heads(p_keys)
            target = await closed_file(district)

            async with httpx.AsyncClient() as client:
                erased = await client.post(
                    f"{url}{API}/files/{target}/erasure",
                    json={"reason": "本人申请删除个人信息"},
                    headers={"Authorization": f"Bearer {admin_token(DISTRICT)}"},
                )
            assert erased.status_code == 200, erased.text
            await pull(province, p_keys, url, SYNC_KEY)

        after = await heads(keyring_of(province, tmp_path / "p"))  # a fresh process
        assert (after[target].name, after[target].id_number) == (ERASED, ERASED)
        del after[target], before[target]
        assert after == before
        assert await province.fetchval(
            "SELECT wrapped IS NULL FROM personal_keys WHERE stream_id = $1", target
        )
        assert p_keys.entry(target) is SHREDDED  # the puller's own process forgot it at once
        assert (await PostgresEventStore(province).verify()).ok
        assert (await PostgresEventStore(district).verify()).ok


class TestWithoutTheSharedSyncKey:
    async def test_a_key_that_differs_refuses_the_page_and_stores_nothing(
        self, nodes: dict[str, Any], tmp_path: Path
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        d_keys, p_keys = keyring_of(district, tmp_path / "d"), keyring_of(province, tmp_path / "p")
        await write_district_files(district, count=3, seed=24, keyring=d_keys)

        async with served(d_url, tmp_path / "d", DISTRICT_NODE) as url:
            with pytest.raises(PageRefused, match="different keys"):
                await pull(province, p_keys, url, os.urandom(32))

        assert await province.fetchval("SELECT count(*) FROM events") == 0
        assert await province.fetchval("SELECT count(*) FROM personal_keys") == 0

    async def test_the_province_holds_every_event_but_cannot_read_the_personal_data(
        self, nodes: dict[str, Any], tmp_path: Path
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        d_keys, p_keys = keyring_of(district, tmp_path / "d"), keyring_of(province, tmp_path / "p")
        await write_district_files(district, count=3, seed=25, keyring=d_keys)

        async with served(d_url, tmp_path / "d", DISTRICT_NODE) as url:
            await pull(province, p_keys, url, None)

        assert await log_of(province) == await log_of(district)
        assert {h.id_number for h in (await heads(p_keys)).values()} == {UNREADABLE}
        assert (await PostgresEventStore(province).verify()).ok


def test_a_sync_key_is_read_from_the_environment() -> None:
    text = base64.b64encode(SYNC_KEY).decode()
    downstreams = (
        f'[{{"code": "{DISTRICT}", "url": "http://d:8000", "token": "t", "key": "{text}"}}]'
    )

    node = NodeSettings.from_env(
        {
            "BANGFU_UPSTREAM_KEY": text,
            "BANGFU_NODE_CODE": DISTRICT,
            "BANGFU_DOWNSTREAMS": downstreams,
        }
    )

    assert node.upstream_key == SYNC_KEY
    assert node.downstreams[0].key == SYNC_KEY
