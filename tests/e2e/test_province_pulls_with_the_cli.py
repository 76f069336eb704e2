"""An operator at the province pulls a district node by hand: `bangfu sync pull --from URL
--token T` in a terminal shows a progress bar (events pulled of those behind) and ends with a
summary.

The command runs as its own process on the province's PostgreSQL server, against the district
node served over HTTP on loopback from another server; its terminal is a pseudo-terminal, so the
bar is drawn as an operator sees it (in a pipe or CI log it stays silent).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import struct
import sys
import termios
from collections.abc import Callable
from pathlib import Path

import asyncpg

from tests.e2e.sync_helpers import (
    DISTRICT,
    load_units,
    log_of,
    served,
    sync_token,
    write_district_files,
)
from tests.e2e.test_province_pulls_a_district_node import DISTRICT_NODE

ROOT = Path(__file__).resolve().parents[2]
STYLE = re.compile(r"\x1b\[[0-9;]*m")  # colours: dropped
MOVES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")  # redraws: line breaks


def _read_all(master: int) -> bytes:
    """Everything written to the terminal until the last writer closes it."""
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the command ended and its side of the terminal is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


async def in_terminal(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run `bangfu ARGS` on a 120-column pseudo-terminal; its exit status and what it showed."""
    master, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "adapters.cli", *args,
            stdin=terminal, stdout=terminal, stderr=terminal, cwd=ROOT, env=env,
        )  # fmt: skip
        os.close(terminal)
        shown = await asyncio.to_thread(_read_all, master)
        status = await process.wait()
    finally:
        os.close(master)
    return status, MOVES.sub("\n", STYLE.sub("", shown.decode(errors="replace")))


async def test_a_pull_by_hand_shows_its_progress_and_a_summary(
    node_database: Callable[[int], str], tmp_path: Path
) -> None:
    district_url, province_url = node_database(0), node_database(1)
    district = await asyncpg.create_pool(district_url, min_size=1, max_size=4)
    province = await asyncpg.create_pool(province_url, min_size=1, max_size=2)
    try:
        await load_units(district)
        await write_district_files(district, count=12, seed=21)
        behind = len(await log_of(district, DISTRICT))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("BANGFU_")},
            "BANGFU_DATABASE_URL": province_url,
            "BANGFU_DATA_DIR": str(tmp_path / "province"),
            "BANGFU_LOG_JSON": "1",
            "TERM": "xterm-256color",
            "COLUMNS": "120",
        }
        async with served(district_url, tmp_path / "district", DISTRICT_NODE) as url:
            status, shown = await in_terminal(
                "sync", "pull", "--from", url, "--token", sync_token(DISTRICT), "--limit", "40",
                env=env,
            )  # fmt: skip
            again, shown_again = await in_terminal(
                "sync", "pull", "--from", url, "--token", sync_token(DISTRICT), env=env
            )
        held = await log_of(province, DISTRICT)
        expected = await log_of(district, DISTRICT)
    finally:
        await district.close()
        await province.close()

    assert status == 0, shown
    assert behind > 80  # more than two pages of 40
    # the bar, drawn after every page: how many events of how many, how many are left
    bars = re.findall(rf"pulling {DISTRICT}, (\d+) behind\D+(\d+)/(\d+)", shown)
    drawn = [(int(left), int(done), int(of)) for left, done, of in bars]
    assert drawn[0] == (behind, 0, behind)
    assert (behind - 40, 40, behind) in drawn
    assert (behind - 80, 80, behind) in drawn
    assert drawn[-1] == (0, behind, behind)
    pages = -(-behind // 40)
    assert (
        f"{DISTRICT}: {behind} events added, 0 already held, 0 quarantined, in {pages} pages"
        in shown
    )
    assert held == expected
    assert again == 0, shown_again
    assert f"{DISTRICT}: 0 events added, 0 already held, 0 quarantined, in 1 page" in shown_again
