"""With no database URL, bangfu starts its own PostgreSQL in the data folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def bangfu(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BANGFU_DATABASE_URL"}
    env.update(BANGFU_DATA_DIR=str(data_dir), BANGFU_LOG_JSON="1")
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_and_summary_use_an_embedded_server_in_the_data_folder():
    with tempfile.TemporaryDirectory(prefix="bfe-") as folder:
        data_dir = Path(folder)

        built = bangfu("demo", "--files", "3", data_dir=data_dir)
        summary = bangfu("summary", data_dir=data_dir)

        assert built.returncode == 0, built.stderr
        assert (data_dir / "pg" / "PG_VERSION").exists()
        assert "embedded PostgreSQL" in summary.stdout
        assert "3 户" in summary.stdout


def test_a_data_folder_too_long_for_a_socket_is_a_clear_error(tmp_path: Path):
    too_long = tmp_path / ("x" * 120)

    result = bangfu("summary", data_dir=too_long)

    assert result.returncode == 2
    assert "too long for a PostgreSQL Unix socket" in result.stdout
