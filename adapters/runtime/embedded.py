"""The embedded default database: a private PostgreSQL from the `pgserver` package.

Used when no `BANGFU_DATABASE_URL` is set. pgserver ships the PostgreSQL binaries in its wheel,
initialises a cluster in the data folder on first use, and stops the server when the last
process using it exits. It listens on a Unix socket inside the data folder only — never on the
network.

Migrations run as the cluster's superuser `postgres`; the service logs in as `SERVICE_LOGIN`, a
role with no attributes of its own that may only act as `bangfu_app` (0009). pgserver's cluster
trusts every connection over that socket (`initdb --auth-local=trust`), so the login has no
password: whoever can open the socket — the data folder's owner — could log in as the superuser
anyway. What the separate login adds is that the service's sessions can never become the
superuser (`RESET ROLE` leads back to `SERVICE_LOGIN`, not to `postgres`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import structlog

from adapters.pg.conn import Conn
from adapters.pg.migrations import APP_ROLE

log = structlog.get_logger(__name__)

# A Unix socket path may not exceed 107 bytes; pgserver puts its socket in the data folder.
_MAX_SOCKET_DIR = 90

SERVICE_LOGIN = "bangfu_service"


def start(data_dir: Path) -> tuple[str, Any]:
    """Start (or join) the embedded server in `data_dir/pg`; return its URL and handle."""
    import warnings  # noqa: PLC0415

    # platformdirs (under pgserver) warns when XDG_RUNTIME_DIR is unset, as on servers.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    # imported only when the embedded database is wanted; from its module, as the package's
    # `__init__` re-exports it without saying so (mypy's no-implicit-reexport)
    from pgserver.postgres_server import get_server  # noqa: PLC0415

    pgdata = data_dir / "pg"
    if len(str(pgdata)) > _MAX_SOCKET_DIR:
        raise RuntimeError(
            f"data folder path {pgdata} is too long for a PostgreSQL Unix socket; "
            "set BANGFU_DATA_DIR to a shorter path"
        )
    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    url = f"postgresql://postgres@/postgres?host={pgdata}"
    log.info("database.embedded_started", data_dir=str(pgdata))
    return url, server


def service_url(owner_url: str) -> str:
    """The embedded server's URL for the service's login role (same socket, same database)."""
    parts = urlsplit(owner_url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{SERVICE_LOGIN}@{host}", parts.path, parts.query, ""))


async def ensure_service_login(conn: Conn) -> None:
    """Create the service's login role if it is missing (as the superuser, after migrations)."""
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", SERVICE_LOGIN)
    if not exists:
        try:
            await conn.execute(
                f"CREATE ROLE {SERVICE_LOGIN} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
                f" NOBYPASSRLS IN ROLE {APP_ROLE}"
            )
        except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            return  # another process starting on the same data folder made it first
        log.info("database.service_login_created", role=SERVICE_LOGIN)


def stopped_message(data_dir: Path) -> str:
    """Release this process's hold on the embedded server — pgserver stops it when no other
    process uses it — and say whether it still runs, and how to stop it if it does."""
    import pgserver  # noqa: PLC0415
    from pgserver.postgres_server import PostgresServer  # noqa: PLC0415

    pgdata = data_dir / "pg"
    server = PostgresServer._instances.get(pgdata)
    if server is not None:
        server.cleanup()
    if not (pgdata / "postmaster.pid").exists():
        return f"内嵌 PostgreSQL 已停止 (the embedded PostgreSQL in {pgdata} has stopped)"
    pg_ctl = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
    return (
        f"内嵌 PostgreSQL 仍在运行，另有 bangfu 进程在用 (the embedded PostgreSQL in {pgdata} is"
        f" still running: another bangfu process uses it). 停止 to stop it: {pg_ctl} -D {pgdata}"
        " stop"
    )
