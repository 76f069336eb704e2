"""Versioned, idempotent schema migrations from `infra/migrations/NNNN_name.sql`, applied on start.

Each file runs once, in its own transaction, recorded in `schema_migrations`. An advisory lock
keeps two processes starting together from applying the same file twice.

Migrations run as the schema's owner, never as the service's role: from 0009 on the service acts
as `APP_ROLE`, which may not change the schema nor UPDATE or DELETE events, and reads the read
models for the API as `READER_ROLE`, under row-level security (docs/security.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import structlog

from adapters.pg.conn import Conn

log = structlog.get_logger(__name__)

_LOCK_KEY = 0x62616E6766750001  # "bangfu" + 1: any constant unique to this application
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

APP_ROLE = "bangfu_app"  # the service's group role (infra/migrations/0009_*.sql)
READER_ROLE = "bangfu_reader"  # reads the read models under row-level security
SCOPE = "bangfu.scope"  # the setting naming the subtree a reader may see of the read models


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    found = []
    for entry in resources.files("infra").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


async def migrate(conn: Conn) -> list[int]:
    """Apply every migration not yet applied; return the versions applied now."""
    applied_now: list[int] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in available():
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
            log.info("schema.migrated", version=migration.version, name=migration.name)
            applied_now.append(migration.version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now


async def pending(conn: Conn) -> list[int]:
    """Versions not yet applied (for readiness checks)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    done = set()
    if exists:
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
    return [m.version for m in available() if m.version not in done]
