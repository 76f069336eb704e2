"""A read replica (docs/operations.md, "Read load"): `bangfu serve` pointed at a PostgreSQL hot
standby of the primary, with `BANGFU_PROJECTIONS=off`, starts without writing anything (no
migrations, no key canary, no LISTEN), serves the primary's files and read models, and answers
commands with 503 `read_only_replica` naming the primary."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import pgserver
import pytest

from domain.values import Role
from tests.e2e.fault_helpers import (
    HASH_KEY,
    ROOT,
    SECRET,
    Served,
    free_port,
    own_postgres,
    token,
)


def bangfu(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


async def wait_for(url: str, query: str, expected: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        conn = await asyncpg.connect(url)
        try:
            found = await conn.fetchval(query)
        finally:
            await conn.close()
        if found == expected or time.monotonic() > deadline:
            assert found == expected, query
            return
        await __import__("asyncio").sleep(0.2)


@pytest.mark.slow
async def test_serves_the_primarys_reads_and_refuses_commands_naming_the_primary(
    tmp_path: Path,
) -> None:
    with own_postgres() as primary:
        data = tmp_path / "data"
        env = {
            **os.environ,
            "BANGFU_DATABASE_URL": primary.url,
            "BANGFU_DATA_DIR": str(data),
            "BANGFU_SECRET": SECRET,
            "BANGFU_HASH_KEY": HASH_KEY,
        }
        bangfu(env, "demo", "--files", "12")
        bangfu(env, "projections", "rebuild")
        user = primary.server.system_user
        folder = Path(tempfile.mkdtemp(prefix="bfsb-", dir="/tmp"))
        standby = folder / "pg"
        if os.geteuid() == 0 and user:
            shutil.chown(folder, user=user)
        pgserver.pg_basebackup(
            ["-d", primary.url, "-D", str(standby), "-R", "-X", "stream"], user=user, timeout=120
        )
        port = free_port()
        pgserver.pg_ctl(
            [
                "-w",
                "-o", f"-c port={port} -c listen_addresses= -c unix_socket_directories={folder}",
                "-l", str(folder / "log"),
                "start",
            ],
            pgdata=standby,
            user=user,
            timeout=60,
        )  # fmt: skip
        replica_url = f"postgresql://postgres@/postgres?host={folder}&port={port}"
        try:
            await wait_for(replica_url, "SELECT pg_is_in_recovery()", True)
            await wait_for(replica_url, "SELECT count(*) FROM ledger", 12)
            served = Served(replica_url, data, tmp_path / "replica.log", BANGFU_PROJECTIONS="off")
            await served.start()
            try:
                inspector = {"Authorization": f"Bearer {token('13', Role.INSPECTOR, 'insp')}"}
                async with httpx.AsyncClient(base_url=served.base, timeout=30) as client:
                    ledger = await client.get("/api/v1/ledger?unit=13&limit=50", headers=inspector)
                    assert ledger.status_code == 200, ledger.text
                    items = ledger.json()["items"]
                    assert len(items) == 12
                    one = await client.get(
                        f"/api/v1/files/{items[0]['file_id']}", headers=inspector
                    )
                    assert one.status_code == 200, one.text
                    assert one.json()["head"]["name"] not in ("", "无法解密")
                    approved = next(i for i in items if i["status"] == "approved")
                    holder = approved["unit"]
                    clerk = {"Authorization": f"Bearer {token(holder, Role.CLERK, 'clerk')}"}
                    refused = await client.post(
                        f"/api/v1/files/{approved['file_id']}/visits",
                        json={"visited_on": "2026-11-01", "cadre": "赵一", "content": "入户走访"},
                        headers=clerk,
                    )
                    assert refused.status_code == 503, refused.text
                    assert refused.json()["code"] == "read_only_replica"
                    assert (await client.get("/health/live")).status_code == 200
                log = (tmp_path / "replica.log").read_text()
                assert "Application startup failed" not in log
            finally:
                await served.kill()
        finally:
            pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=standby, user=user)
            shutil.rmtree(folder, ignore_errors=True)
