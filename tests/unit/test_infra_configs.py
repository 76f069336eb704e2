"""The deployment examples of infra/ are checked by their own tools where those are installed:
PostgreSQL reads the primary's and the replica's settings (`postgres -C`), systemd verifies the
units (`systemd-analyze verify`), nginx tests the proxy (`nginx -t`); without the tool, the test
is skipped and says which tool to install."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

INFRA = Path(__file__).resolve().parents[2] / "infra"
BANGFU = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "bangfu"


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed: the {name} check of infra/ is skipped")
    return found


def unprivileged(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as nobody."""
    if os.geteuid() != 0:
        return command
    return [tool("runuser"), "-u", "nobody", "--", *command]


class TestThePostgresqlSettings:
    @pytest.mark.parametrize("name", ["primary.conf", "replica.conf"])
    def test_are_read_by_postgres(self, name: str):
        postgres = tool("postgres")
        # a folder outside pytest's own (which only its owner may enter): run as nobody, the
        # server must reach it
        folder = Path(tempfile.mkdtemp(prefix="bangfu-pgconf-"))
        folder.chmod(0o755)
        config = folder / name
        config.write_text((INFRA / "postgresql" / name).read_text())
        data = folder / "data"
        data.mkdir(mode=0o777)
        data.chmod(0o777)
        config.chmod(0o644)

        checked = subprocess.run(
            unprivileged(
                [postgres, f"--config-file={config}", "-D", str(data), "-C", "shared_buffers"]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)

        assert checked.returncode == 0, checked.stderr
        assert checked.stdout.strip() == "1048576"  # 8GB in pages of 8 kB


class TestTheSystemdUnits:
    @pytest.mark.parametrize("name", ["bangfu-serve.service", "bangfu-projections.service"])
    def test_verify(self, name: str, tmp_path: Path):
        analyze = tool("systemd-analyze")
        if not BANGFU.exists():
            pytest.skip("no .venv/bin/bangfu to stand for the installed command (make install)")
        unit = tmp_path / name
        unit.write_text(
            (INFRA / "systemd" / name)
            .read_text()
            .replace("/opt/bangfu/.venv/bin/bangfu", str(BANGFU))
        )

        checked = subprocess.run(
            [analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, check=False
        )

        assert checked.returncode == 0, checked.stderr
        assert "Unknown" not in checked.stderr, checked.stderr


class TestTheReverseProxy:
    def test_passes_nginx_t(self, tmp_path: Path):
        nginx = tool("nginx")
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=bangfu.example.org",
                "-keyout",
                str(tmp_path / "bangfu.key"),
                "-out",
                str(tmp_path / "bangfu.crt"),
            ],
            capture_output=True,
            check=True,
        )
        config = tmp_path / "nginx.conf"
        config.write_text(
            (INFRA / "proxy" / "nginx.conf").read_text().replace("/etc/bangfu/tls", str(tmp_path))
        )

        checked = subprocess.run(
            [nginx, "-t", "-c", str(config), "-p", str(tmp_path), "-g", f"pid {tmp_path}/n.pid;"],
            capture_output=True,
            text=True,
            check=False,
        )

        assert checked.returncode == 0, checked.stderr
