"""A province pulls a district's attachments with their events: district and province each on a
PostgreSQL server of its own, the district served over HTTP on loopback.

The content travels sealed, as stored, read beside the feed one chunk at a time; the province
opens it with the data key the feed carries wrapped under the shared sync key, re-hashes it
against the event and stores it in the page's transaction. Once pulled, the province serves the
scans with the district offline. Content altered or missing at the district is quarantined like
a tampered event: the event and the stream's later events wait in `sync_quarantine`, alerted,
and nothing of that content is stored.
"""

from __future__ import annotations

import hashlib
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
from adapters.pg.attachments import PgContentStore
from adapters.pg.store import PostgresEventStore
from adapters.pii.keyring import Keyring
from adapters.runtime.secrets import load_pii_keys
from adapters.services import attachments
from adapters.sync.node import Downstream, NodeSettings
from adapters.sync.pull import Puller
from domain.values import Role
from tests.e2e.sync_helpers import (
    DISTRICT,
    PROVINCE,
    SECRET,
    load_units,
    log_of,
    served,
    server_of,
    sync_token,
    write_district_files,
)

pytestmark = pytest.mark.slow

SYNC_KEY = os.urandom(32)
DISTRICT_NODE = NodeSettings(code=DISTRICT, subtree=DISTRICT, upstream_key=SYNC_KEY)
PROVINCE_NODE = NodeSettings(code=PROVINCE, subtree=PROVINCE)
API = "/api/v1"
PURPOSE = {"X-Bangfu-Purpose": "spot check of the proof"}


@pytest.fixture
async def nodes(
    node_database: Callable[[int], str],
) -> AsyncIterator[dict[str, tuple[str, asyncpg.Pool]]]:
    """The district's and the province's databases, each on a PostgreSQL server of its own."""
    made: dict[str, tuple[str, asyncpg.Pool]] = {}
    try:
        for server, name in enumerate(("district", "province")):
            url = node_database(server)
            pool = await asyncpg.create_pool(url, min_size=1, max_size=6)
            assert pool is not None
            await load_units(pool)
            made[name] = (url, pool)
        yield made
    finally:
        for _, pool in made.values():
            await pool.close()


def keyring_of(pool: asyncpg.Pool, data_dir: Path) -> Keyring:
    return Keyring(pool, load_pii_keys(None, data_dir))


async def pull(pool: asyncpg.Pool, keyring: Keyring, url: str) -> None:
    pulling = Puller(
        pool, Downstream(DISTRICT, url, sync_token(DISTRICT), SYNC_KEY), keyring=keyring, limit=40
    )
    try:
        await pulling.catch_up()
    finally:
        await pulling.close()


async def attachments_of(pool: asyncpg.Pool) -> dict[UUID, tuple[UUID, int, str]]:
    rows = await pool.fetch("SELECT attachment_id, stream_id, size, sha256 FROM attachments")
    return {r[0]: (r[1], r[2], bytes(r[3]).hex()) for r in rows}


async def written(tmp_path: Path, district: asyncpg.Pool) -> Keyring:
    keys = keyring_of(district, tmp_path / "d")
    await write_district_files(district, count=6, seed=31, keyring=keys, scans=True)
    return keys


class TestTheProvincePullsAttachments:
    async def test_holds_every_scan_and_serves_it_with_the_district_offline(
        self, nodes: dict[str, Any], tmp_path: Path
    ) -> None:
        (d_url, district), (p_url, province) = nodes["district"], nodes["province"]
        await written(tmp_path, district)
        p_keys = keyring_of(province, tmp_path / "p")

        async with served(d_url, tmp_path / "d", DISTRICT_NODE) as url:
            await pull(province, p_keys, url)
        # the district is offline from here on
        held = await attachments_of(province)
        report = await attachments.verify_all(
            PostgresEventStore(province, keyring=p_keys), PgContentStore(province, p_keys)
        )
        (file_id, size, sha256), attachment_id = next(iter(held.values())), next(iter(held))
        inspector = Tokens(SECRET).mint(
            user="inspector", unit=PROVINCE, role=Role.INSPECTOR, ttl=timedelta(hours=1)
        )
        async with served(p_url, tmp_path / "p", PROVINCE_NODE) as purl, httpx.AsyncClient() as c:
            content = await c.get(
                f"{purl}{API}/files/{file_id}/attachments/{attachment_id}/content",
                headers={"Authorization": f"Bearer {inspector}", **PURPOSE},
            )

        assert await server_of(district) != await server_of(province)
        assert await log_of(province, DISTRICT) == await log_of(district, DISTRICT)
        assert held == await attachments_of(district)
        assert len(held) > 10
        assert report.ok
        assert report.count("ok") == len(held)
        assert content.status_code == 200, content.text
        assert len(content.content) == size
        assert hashlib.sha256(content.content).hexdigest() == sha256
        # stored as the district sealed it: the same data key travelled, wrapped
        assert await province.fetch(
            "SELECT attachment_id, seq, sealed FROM attachment_chunks ORDER BY 1, 2"
        ) == await district.fetch(
            "SELECT attachment_id, seq, sealed FROM attachment_chunks ORDER BY 1, 2"
        )

    async def test_an_altered_or_missing_scan_is_quarantined_with_its_event(
        self, nodes: dict[str, Any], tmp_path: Path
    ) -> None:
        (d_url, district), (_, province) = nodes["district"], nodes["province"]
        await written(tmp_path, district)
        p_keys = keyring_of(province, tmp_path / "p")
        rows = await district.fetch(
            "SELECT a.attachment_id, a.stream_id FROM attachments a ORDER BY a.stored_at"
        )
        streams = {}
        for attachment_id, stream_id in rows:
            streams.setdefault(stream_id, attachment_id)
        (altered_file, altered), (missing_file, missing) = list(streams.items())[:2]
        await district.execute(
            "UPDATE attachment_chunks SET sealed = overlay(sealed placing '\\x00'::bytea from 20)"
            " WHERE attachment_id = $1",
            altered,
        )
        await district.execute("DELETE FROM attachments WHERE attachment_id = $1", missing)

        async with served(d_url, tmp_path / "d", DISTRICT_NODE) as url:
            await pull(province, p_keys, url)

        quarantined = await province.fetch(
            "SELECT stream_id, version, type, reason FROM sync_quarantine ORDER BY 1, 2"
        )
        first = {}  # the first quarantined event of each stream
        for r in quarantined:
            first.setdefault(r["stream_id"], r)
        alerts = await province.fetchval(
            "SELECT count(*) FROM sync_alerts WHERE kind = 'event_quarantined'"
        )
        held = await attachments_of(province)
        district_log = await log_of(district)
        assert set(first) == {altered_file, missing_file}
        assert first[altered_file]["type"] == "household.attachment_added"
        assert "altered" in first[altered_file]["reason"]
        assert "missing" in first[missing_file]["reason"]
        assert alerts == len(quarantined)
        assert altered not in held
        assert missing not in held
        # every other file arrived whole, its scans with it
        spoiled = {altered_file, missing_file}
        assert {e for e in district_log if e[0] not in spoiled} <= await log_of(province)
        assert {a: v for a, v in held.items() if v[0] not in spoiled} == {
            a: v for a, v in (await attachments_of(district)).items() if v[0] not in spoiled
        }
        assert (await PostgresEventStore(province).verify()).ok
