"""An operator watches the read models keep up with the writes, through /metrics and /health."""

from __future__ import annotations

import asyncio
import re

import asyncpg

from tests.conftest import Api
from tests.e2e.http_helpers import application


async def lag(api: Api) -> dict[str, float]:
    text = (await api.client.get("/metrics")).text
    return {
        f"{m[1]}.{m[2]}": float(m[3])
        for m in re.finditer(
            r'^bangfu_projection_lag_(\w+)\{projection="(\w+)"\} ([0-9.]+)$', text, re.M
        )
    }


async def test_the_ledger_catches_up_with_new_files_and_metrics_show_no_lag(
    api: Api, database_url: str
):
    clerk = api.auth("130306001", "clerk", **{"content-type": "application/json"})
    created = [
        await api.client.post("/api/v1/files", json=application(), headers=clerk) for _ in range(3)
    ]
    ids = {r.json()["id"] for r in created}

    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(200):  # the runner in `serve` is woken by the writes; give it 10 s at most
            rows = await conn.fetch(
                "SELECT file_id FROM ledger WHERE file_id = ANY($1::uuid[])", list(ids)
            )
            after = await lag(api)
            if len(rows) == len(ids) and not any(after.values()):
                break
            await asyncio.sleep(0.05)
    finally:
        await conn.close()

    assert {str(r["file_id"]) for r in rows} == ids
    assert after == {
        "events.ledger": 0,
        "events.statistics": 0,
        "seconds.ledger": 0,
        "seconds.statistics": 0,
    }
