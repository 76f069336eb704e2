"""The console over loopback HTTP: accounts made directly through the accounts service (their
password already their own), sessions signed in with httpx, files made over the API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from adapters.http.auth import Tokens
from adapters.pg.accounts import PgAccounts
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.settings import Settings
from adapters.services.accounts import AccountService
from domain.values import Role
from tests.conftest import SECRET, Api
from tests.serving import served

PASSWORD = "晴天-Harbour-47"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found[1]


async def make_account(database_url: str, data_dir: Path, user: str, unit: str, role: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        service = AccountService.from_settings(
            Settings(database_url=database_url, data_dir=data_dir, log_json=True),
            PgAccounts(pool),
            PgUnitDirectory(pool),
        )
        await service.create(
            None, user=user, unit=unit, role=Role(role), password=PASSWORD, must_change=False
        )
    finally:
        await pool.close()


@dataclass
class Console:
    url: str
    pool: asyncpg.Pool
    api: Api
    database_url: str
    data_dir: Path

    @asynccontextmanager
    async def person(self, user: str, unit: str, role: str) -> AsyncIterator[httpx.AsyncClient]:
        """A signed-in browser-like client of a new account."""
        await make_account(self.database_url, self.data_dir, user, unit, role)
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            page = await client.get("/console/sign-in")
            signed = await client.post(
                "/console/sign-in",
                data={"csrf": csrf_of(page.text), "user": user, "password": PASSWORD},
            )
            assert signed.status_code == 303, signed.text
            yield client

    async def events(self, file_id: str) -> list[str]:
        rows = await self.pool.fetch(
            "SELECT type FROM events WHERE stream_id = $1 ORDER BY version", file_id
        )
        return [r["type"] for r in rows]


@asynccontextmanager
async def console(database_url: str, pool: asyncpg.Pool, data_dir: Path) -> AsyncIterator[Console]:
    settings = Settings(database_url=database_url, data_dir=data_dir, log_json=True, secret=SECRET)
    async with (
        served(settings) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield Console(url, pool, Api(client, Tokens(SECRET)), database_url, data_dir)
