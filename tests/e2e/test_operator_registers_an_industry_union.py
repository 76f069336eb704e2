"""An operator registers a provincial industry union from the shell (`bangfu units create`),
lists its subtree, and is refused a bad code in Chinese."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from adapters.pg.units import PgUnitDirectory
from tests.serving import load_units


def bangfu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        env={**os.environ, **env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_the_operator_registers_an_approving_industry_union_and_lists_it(
    database_url: str, pool: asyncpg.Pool, tmp_path: Path
):
    await load_units(database_url)
    env = {"BANGFU_DATABASE_URL": database_url, "BANGFU_DATA_DIR": str(tmp_path)}

    union = bangfu("units", "create", "13C01", "河北省教育工会", "--approves", env=env)
    await PgUnitDirectory(pool).create("13C01001", "某中学工会")
    listed = bangfu("units", "list", "--root", "13C01", env=env)
    refused = bangfu("units", "create", "13C00", "某工会", env=env)

    assert union.returncode == 0, union.stdout + union.stderr
    assert "已登记 13C01 河北省教育工会（产业工会，区县总工会，审批其辖区档案）" in union.stdout
    assert "13C01001" in listed.stdout
    assert "产业工会" in listed.stdout
    rows = await pool.fetch(
        "SELECT code, parent, level, kind, approves FROM units WHERE code LIKE '13C%' ORDER BY code"
    )
    assert [tuple(r) for r in rows] == [
        ("13C01", "13", "district", "industry", True),
        ("13C01001", "13C01", "base", "base", False),
    ]
    assert refused.returncode == 1
    assert "非地域工会编号应从01起" in refused.stdout


async def test_the_operator_of_the_national_node_registers_a_national_industry_union(
    database_url: str, pool: asyncpg.Pool, tmp_path: Path
):
    await PgUnitDirectory(pool).load({"00": "中华全国总工会"})
    env = {"BANGFU_DATABASE_URL": database_url, "BANGFU_DATA_DIR": str(tmp_path)}

    union = bangfu("units", "create", "00C01", "中国教育工会", "--approves", env=env)

    assert union.returncode == 0, union.stdout + union.stderr
    assert "已登记 00C01 中国教育工会（产业工会，省总工会，审批其辖区档案）" in union.stdout
    row = await pool.fetchrow(
        "SELECT parent, level, kind, approves FROM units WHERE code = '00C01'"
    )
    assert tuple(row) == ("00", "province", "industry", True)
