"""The embedded default database: a private PostgreSQL from the `pgserver` package.

Used when no `BANGFU_DATABASE_URL` is set. pgserver ships the PostgreSQL binaries in its wheel,
initialises a cluster in the data folder on first use, and stops the server when the last
process using it exits. It listens on a Unix socket inside the data folder only — never on the
network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

# A Unix socket path may not exceed 107 bytes; pgserver puts its socket in the data folder.
_MAX_SOCKET_DIR = 90


def start(data_dir: Path) -> tuple[str, Any]:
    """Start (or join) the embedded server in `data_dir/pg`; return its URL and handle."""
    import warnings  # noqa: PLC0415

    # platformdirs (under pgserver) warns when XDG_RUNTIME_DIR is unset, as on servers.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver  # noqa: PLC0415 — imported only when the embedded database is wanted

    pgdata = data_dir / "pg"
    if len(str(pgdata)) > _MAX_SOCKET_DIR:
        raise RuntimeError(
            f"data folder path {pgdata} is too long for a PostgreSQL Unix socket; "
            "set BANGFU_DATA_DIR to a shorter path"
        )
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    url = f"postgresql://postgres@/postgres?host={pgdata}"
    log.info("database.embedded_started", data_dir=str(pgdata))
    return url, server
