"""An operator creates the first admin of a fresh node from the shell; a newcomer runs the demo
(`make run`: `bangfu demo` then `bangfu serve` on a terminal) and stops it with Ctrl-C."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from adapters.pg.accounts import PgAccounts
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.settings import Settings
from adapters.services.accounts import AccountService
from tests.serving import load_units

pytestmark = pytest.mark.slow

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def bangfu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_the_operator_creates_the_first_admin_who_signs_in(
    database_url: str, pool: asyncpg.Pool, tmp_path: Path
):
    await load_units(database_url)
    env = {"BANGFU_DATABASE_URL": database_url, "BANGFU_DATA_DIR": str(tmp_path)}

    created = bangfu(
        "users", "create", "--user", "admin-sun", "--unit", "13", "--role", "admin", env=env
    )
    events = bangfu("users", "events", "admin-sun", env=env)

    assert created.returncode == 0, created.stdout + created.stderr
    password = created.stdout.strip().splitlines()[-1]
    service = AccountService.from_settings(
        Settings(database_url=database_url, data_dir=tmp_path, log_json=True),
        PgAccounts(pool),
        PgUnitDirectory(pool),
    )
    session = await service.sign_in(user="admin-sun", password=password, address="127.0.0.1")
    assert session.account.must_change is True  # the first sign-in changes it
    assert "created" in events.stdout
    assert "operator:" in events.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _read_until(fd: int, marker: str, seconds: float) -> str:
    text = ""
    deadline = time.monotonic() + seconds
    while marker not in text and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            text += chunk.decode("utf-8", errors="replace")
    return ANSI.sub("", text)


@pytest.mark.parametrize(
    "stop", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["ctrl-c", "sigterm", "sighup"]
)
def test_make_run_prints_the_console_and_demo_accounts_and_a_stop_ends_it_cleanly(
    stop: signal.Signals,
):
    with tempfile.TemporaryDirectory(prefix="bfr-") as folder:
        data_dir = Path(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BANGFU_")}
        env.update(BANGFU_DATA_DIR=str(data_dir), TERM="xterm", COLUMNS="160")
        built = subprocess.run(
            [sys.executable, "-m", "adapters.cli", "demo", "--files", "2"],
            env={**env, "BANGFU_LOG_JSON": "1"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert built.returncode == 0, built.stdout + built.stderr
        assert "attachment.added" not in built.stderr  # the demo's generated scans, unannounced
        kept = data_dir / "demo_accounts.json"
        accounts = json.loads(kept.read_text(encoding="utf-8"))
        port = _free_port()
        controller, terminal = pty.openpty()
        server = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--port", str(port)],
            env=env,
            stdout=terminal,
            stderr=terminal,
            start_new_session=True,
        )
        os.close(terminal)
        try:
            started = _read_until(controller, "Ctrl-C", 120)
            for _ in range(200):
                try:
                    page = httpx.get(f"http://127.0.0.1:{port}/console/sign-in", timeout=5)
                    break
                except httpx.TransportError:
                    time.sleep(0.3)
            server.send_signal(stop)
            ended = _read_until(controller, "PostgreSQL", 60)
            status = server.wait(timeout=60)
        finally:
            if server.poll() is None:
                server.kill()
            os.close(controller)

        assert oct(kept.stat().st_mode & 0o777) == "0o600"
        assert [(a["user"], a["unit"], a["role"]) for a in accounts] == [
            ("clerk-li", "130306001", "clerk"),
            ("approver-wang", "130306", "approver"),
            ("inspector-zhao", "13", "inspector"),
            ("admin-sun", "13", "admin"),
        ]
        assert f"console: http://127.0.0.1:{port}/" in started
        for account in accounts:
            assert f"{account['user']} / {account['password']}" in started
        assert page.status_code == 200
        output = started + ended
        assert "pgserver" not in output  # its INFO lines are hidden
        assert not re.search(r'^\{"', output, re.MULTILINE)  # readable lines, not JSON
        assert status == 0, output
        assert "已停止 (stopped)" in ended
        assert "the embedded PostgreSQL" in ended
        assert "has stopped" in ended
        assert not (data_dir / "pg" / "postmaster.pid").exists()
