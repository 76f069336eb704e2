"""An operator runs, rebuilds and inspects the read models from the command line, and exports a
district's ledger to xlsx."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from adapters.pg.repository import PgFileRepository
from tests.e2e.read_model_helpers import build_province, workbook_rows
from tests.integration.test_projections import snapshot

pytestmark = pytest.mark.slow

FILES = 60
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # terminal colours and cursor movements
DISTRICT = "130306"


def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BANGFU_DATABASE_URL": database_url,
        "BANGFU_DATA_DIR": str(tmp_path),
        "BANGFU_LOG_JSON": "1",
        "TERM": "xterm",
        "COLUMNS": "120",
    }


def bangfu(*args: str, database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        env=environment(database_url, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def bangfu_on_a_terminal(*args: str, database_url: str, tmp_path: Path) -> tuple[int, str]:
    """Run the CLI with its output on a pseudo-terminal (where progress bars are drawn); return
    the exit status and everything it wrote, without the terminal's control sequences."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", *args],
        env=environment(database_url, tmp_path),
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    written = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the process closed its end
            break
        if not chunk:
            break
        written += chunk
    os.close(controller)
    text = written.decode("utf-8", errors="replace")
    return process.wait(timeout=300), ANSI.sub("", text)


@pytest.fixture
async def events(files: PgFileRepository, pool: asyncpg.Pool) -> int:
    await build_province(files, count=FILES, seed=8)
    return int(await pool.fetchval("SELECT count(*) FROM events"))


class TestRebuild:
    async def test_rebuilds_every_read_model_from_the_log_with_a_progress_bar(
        self, events: int, pool: asyncpg.Pool, database_url: str, tmp_path: Path
    ):
        status, output = bangfu_on_a_terminal(
            "projections", "rebuild", database_url=database_url, tmp_path=tmp_path
        )

        assert status == 0, output
        # one read of the log feeds every read model: one bar for the pass over all of them
        assert re.search(rf"rebuilding ledger、statistics.*{events}/{events}", output), output
        assert f"rebuilt from {events} events" in output
        assert await pool.fetchval("SELECT count(*) FROM ledger") == FILES
        assert (
            await pool.fetchval(
                "SELECT sum(count) FROM stats_stock WHERE unit = '13' AND dimension = 'status'"
            )
            == FILES
        )

    async def test_rebuilds_only_the_read_model_named(
        self, events: int, pool: asyncpg.Pool, database_url: str, tmp_path: Path
    ):
        rebuilt = bangfu(
            "projections", "rebuild", "ledger", database_url=database_url, tmp_path=tmp_path
        )

        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert "已重建 ledger" in rebuilt.stdout
        assert "statistics" not in rebuilt.stdout
        assert await pool.fetchval("SELECT count(*) FROM ledger") == FILES
        assert await pool.fetchval("SELECT count(*) FROM stats_stock") == 0

    async def test_rebuilds_a_few_files_at_a_time_to_the_same_tables(
        self, events: int, pool: asyncpg.Pool, database_url: str, tmp_path: Path
    ):
        bangfu("projections", "rebuild", database_url=database_url, tmp_path=tmp_path)
        whole = await snapshot(pool)

        rebuilt = bangfu(
            "projections", "rebuild", "--files", "7", database_url=database_url, tmp_path=tmp_path
        )

        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert len(whole["ledger"]) == FILES
        assert await snapshot(pool) == whole

    async def test_reports_the_lag_before_and_after(
        self, events: int, database_url: str, tmp_path: Path
    ):
        before = bangfu("projections", "status", database_url=database_url, tmp_path=tmp_path)
        bangfu("projections", "rebuild", database_url=database_url, tmp_path=tmp_path)
        after = bangfu("projections", "status", database_url=database_url, tmp_path=tmp_path)

        assert before.returncode == after.returncode == 0
        assert re.search(rf"ledger\s*│\s*{events}\s*│", before.stdout), before.stdout
        assert re.search(r"ledger\s*│\s*0\s*│", after.stdout), after.stdout
        assert re.search(r"statistics\s*│\s*0\s*│", after.stdout), after.stdout

    def test_refuses_a_read_model_it_does_not_know(self, database_url: str, tmp_path: Path):
        refused = bangfu(
            "projections", "rebuild", "gossip", database_url=database_url, tmp_path=tmp_path
        )

        assert refused.returncode == 2
        assert "invalid choice" in refused.stderr


class TestRun:
    async def test_keeps_the_read_models_up_to_date_until_interrupted(
        self, events: int, pool: asyncpg.Pool, database_url: str, tmp_path: Path
    ):
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "adapters.cli", "projections", "run", "--every", "0.2"),
            env=environment(database_url, tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 120
            while await pool.fetchval("SELECT count(*) FROM ledger") < FILES:
                assert process.returncode is None
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
        finally:
            process.send_signal(signal.SIGINT)
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        out, err = stdout.decode(), stderr.decode()

        assert process.returncode == 0, err
        assert re.search(r"ledger: \d+ events, [\d.]+ s behind", out), out
        assert "stopped" in out


class TestExport:
    async def test_writes_the_district_s_ledger_to_an_xlsx_file(
        self, events: int, pool: asyncpg.Pool, database_url: str, tmp_path: Path
    ):
        bangfu("projections", "rebuild", "ledger", database_url=database_url, tmp_path=tmp_path)
        out = tmp_path / "台账.xlsx"

        exported = bangfu(
            "export",
            "ledger",
            "--unit",
            DISTRICT,
            "--status",
            "approved",
            "--status",
            "out_of_hardship",
            "--out",
            str(out),
            database_url=database_url,
            tmp_path=tmp_path,
        )

        assert exported.returncode == 0, exported.stdout + exported.stderr
        header, *rows = workbook_rows(out.read_bytes())
        assert header[:4] == ("序号", "户主姓名", "性别", "身份证号码")
        expected = await pool.fetch(
            "SELECT id_masked FROM ledger WHERE district = $1"
            " AND status IN ('approved', 'out_of_hardship') ORDER BY applied_on, file_id",
            DISTRICT,
        )
        assert [r[3] for r in rows] == [r["id_masked"] for r in expected]
        assert {r[11] for r in rows} <= {"在档", "已脱困"}
        assert rows
        assert f"exported {len(rows)} files" in exported.stdout

    def test_refuses_a_unit_code_that_is_not_one(self, database_url: str, tmp_path: Path):
        refused = bangfu(
            "export", "ledger", "--unit", "13x", database_url=database_url, tmp_path=tmp_path
        )

        assert refused.returncode == 2
        assert "unit code" in refused.stdout
