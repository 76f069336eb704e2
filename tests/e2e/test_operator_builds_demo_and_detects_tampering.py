"""An operator builds a demo province with the CLI, verifies it, and catches a tampered event."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.tampering import tamper

pytestmark = pytest.mark.slow


def bangfu(*args: str, database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BANGFU_DATABASE_URL": database_url,
        "BANGFU_DATA_DIR": str(tmp_path),
        "BANGFU_LOG_JSON": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_demo_then_verify_then_tamper_then_verify_names_the_event(
    database_url: str, tmp_path: Path
):
    built = bangfu(
        "demo", "--files", "40", "--seed", "7", database_url=database_url, tmp_path=tmp_path
    )
    assert built.returncode == 0, built.stderr
    assert "40 household files" in built.stdout

    clean = bangfu("verify", database_url=database_url, tmp_path=tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "all hash chains intact" in clean.stdout

    conn = await asyncpg.connect(database_url)
    try:
        target = await conn.fetchrow(
            "SELECT stream_id, version FROM events WHERE type = 'household.assisted' LIMIT 1"
        )
        await tamper(
            conn,
            "UPDATE events SET payload = convert_to(replace(convert_from(payload, 'UTF8'),"
            " '\"amount\":\"', '\"amount\":\"9'), 'UTF8') WHERE stream_id = $1 AND version = $2",
            target["stream_id"],
            target["version"],
        )
    finally:
        await conn.close()
    tampered = bangfu("verify", database_url=database_url, tmp_path=tmp_path)

    assert tampered.returncode == 1
    assert f"stream {target['stream_id']} version {target['version']}" in tampered.stdout


def test_demo_if_empty_adds_nothing_the_second_time(database_url: str, tmp_path: Path):
    bangfu("demo", "--files", "5", database_url=database_url, tmp_path=tmp_path)

    again = bangfu(
        "demo", "--files", "5", "--if-empty", database_url=database_url, tmp_path=tmp_path
    )
    summary = bangfu("summary", database_url=database_url, tmp_path=tmp_path)

    assert again.returncode == 0
    assert "skipped" in again.stdout
    assert "5 户" in summary.stdout


def test_a_bad_argument_is_a_usage_error(database_url: str, tmp_path: Path):
    result = bangfu("demo", "--files", "0", database_url=database_url, tmp_path=tmp_path)

    assert result.returncode == 2
    assert "--files must be at least 1" in result.stderr
