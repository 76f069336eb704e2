"""Helpers for the fault journeys: `bangfu serve` as a real process, a PostgreSQL of a test's own
that can be stopped and started, and clients that keep sending commands through it all.

A `Client` sends each command with its own `Idempotency-Key` and insists on an answer: when the
connection is refused or cut, or the service answers 503, it sends the same request with the same
key again (soon: the test cannot wait out `Retry-After`) until the service acknowledges it. `Sent`
keeps what it saw: attempts refused, attempts cut in flight, 503s, and whether the final answer was
a replay — a replay after a cut attempt means that attempt had committed although its response
never arrived.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pgserver

from adapters.http.auth import Tokens
from domain.values import Role
from tests.e2e.http_helpers import API, BASE, BODIES, JSON, application, verification

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fault-test-secret-" + "f" * 40
HASH_KEY = "fault-test-hash-key-" + "k" * 20
DISTRICT = BASE[:6]

# A file's way through the lifecycle, as the load drives it: the command and the event it appends.
JOURNEY: tuple[tuple[str, str], ...] = (
    ("verification", "household.verified"),
    ("appraisal", "household.appraised"),
    ("approval", "household.approved"),
    ("assistance", "household.assisted"),
    ("visits", "household.visited"),
    ("assistance", "household.assisted"),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def token(unit: str, role: Role, user: str) -> str:
    return Tokens(SECRET).mint(user=user, unit=unit, role=role, ttl=timedelta(hours=2))


# ------------------------------------------------------------------------------ the server


class Served:
    """`bangfu serve` on a loopback port, as an operator starts it; restartable after a kill."""

    def __init__(self, database_url: str, data_dir: Path, log: Path, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **os.environ,
            "BANGFU_DATABASE_URL": database_url,
            "BANGFU_DATA_DIR": str(data_dir),
            "BANGFU_SECRET": SECRET,
            "BANGFU_HASH_KEY": HASH_KEY,
            "BANGFU_LOG_JSON": "1",
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, *, seconds: float = 60) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "adapters.cli", "serve", "--port", str(self.port),
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.starts += 1
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(base_url=self.base, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    break
                try:
                    if (await client.get("/health/live")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"bangfu serve did not start; its log: {self.log}")

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing, connections to PostgreSQL cut mid-transaction."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None


# ------------------------------------------------------------------------------ PostgreSQL


class OwnPostgres:
    """A PostgreSQL server for one test, in a short folder under /tmp, that the test may stop
    (`pg_ctl stop -m fast`: sessions are ended, new connections refused) and start again."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bfpg-", dir="/tmp"))
        self.server = pgserver.get_server(self.folder / "pg", cleanup_mode="delete")
        self.pgdata = self.server.pgdata
        self.url = self.server.get_uri()
        self._socket_dir = self.server.get_postmaster_info().socket_dir
        self.log = self.pgdata / "log"

    def stop(self) -> None:
        pgserver.pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        pgserver.pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {self._socket_dir}", "-l", str(self.log), "start"],
            pgdata=self.pgdata,
            user=self.server.system_user,
            timeout=60,
        )

    @property
    def up(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()

    def close(self) -> None:
        if self.up:
            self.stop()
        self.server.cleanup()  # removes the data folder (the server is stopped already)
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    postgres = OwnPostgres()
    try:
        yield postgres
    finally:
        postgres.close()


# ------------------------------------------------------------------------------ the load


@dataclass
class Sent:
    """One command as a client sent it, and what finally came of it."""

    key: str
    path: str
    command: str
    payload: dict[str, Any]
    attempts: int = 0
    refused: int = 0  # attempts that found no server to connect to (nothing was sent)
    lost: int = 0  # attempts sent whose connection was cut before an answer came
    unavailable: int = 0  # attempts answered 503
    status: int | None = None
    body: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False
    retry_after: list[str] = field(default_factory=list)


class Client:
    """A clerk (and the district's approver) taking files through the lifecycle, each command
    sent until acknowledged — the same request with the same `Idempotency-Key` each time."""

    def __init__(self, base: str, name: str, *, seconds: float = 120) -> None:
        self.base = base
        self.name = name
        self.sent: list[Sent] = []
        self.unexpected: list[str] = []
        self.deadline = time.monotonic() + seconds
        self._clerk = {"Authorization": f"Bearer {token(BASE, Role.CLERK, f'clerk-{name}')}"}
        self._approver = {
            "Authorization": f"Bearer {token(DISTRICT, Role.APPROVER, f'approver-{name}')}"
        }

    async def journeys(self, stop: asyncio.Event) -> None:
        """Open files and take each through `JOURNEY` until `stop`; a command started is always
        finished (acknowledged), so that the client knows the outcome of everything it sent."""
        async with httpx.AsyncClient(base_url=self.base, timeout=15) as http:
            while not stop.is_set():
                opened = await self.send(http, f"{API}/files", "apply", application())
                file_id = opened.body["id"]
                for command, _ in JOURNEY:
                    if stop.is_set():
                        break
                    body = verification() if command == "verification" else BODIES[command]
                    await self.send(http, f"{API}/files/{file_id}/{command}", command, body)

    async def send(
        self, http: httpx.AsyncClient, path: str, command: str, body: dict[str, Any]
    ) -> Sent:
        sent = Sent(key=f"{self.name}-{len(self.sent)}", path=path, command=command, payload=body)
        self.sent.append(sent)
        await self.until_acknowledged(http, sent)
        return sent

    async def until_acknowledged(self, http: httpx.AsyncClient, sent: Sent) -> None:
        headers = {
            **(self._approver if sent.command in {"approval"} else self._clerk),
            **JSON,
            "Idempotency-Key": sent.key,
        }
        while True:
            if time.monotonic() > self.deadline:
                raise AssertionError(f"{sent.key} {sent.path} still not acknowledged: {sent}")
            sent.attempts += 1
            try:
                response = await http.post(sent.path, json=sent.payload, headers=headers)
            except httpx.ConnectError:
                sent.refused += 1
                await asyncio.sleep(0.05)
                continue
            except httpx.TransportError:
                sent.lost += 1
                await asyncio.sleep(0.05)
                continue
            if response.status_code == 503:
                sent.unavailable += 1
                sent.retry_after.append(response.headers.get("retry-after", ""))
                await asyncio.sleep(0.2)  # shorter than Retry-After: the test wants to see it end
                continue
            if response.status_code not in (200, 201):
                self.unexpected.append(
                    f"{sent.key} {sent.path}: {response.status_code} {response.text}"
                )
                raise AssertionError(self.unexpected[-1])
            sent.status = response.status_code
            sent.body = response.json()
            sent.replayed = response.headers.get("idempotent-replayed") == "true"
            return
