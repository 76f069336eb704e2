"""`bangfu import files` and `bangfu civil-affairs`: parsed by `bangfu`'s own parser and run on
the composition root's runtime, as `main` dispatches them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.cli.main import COMMANDS, parser
from adapters.runtime.bootstrap import runtime
from adapters.runtime.settings import Settings
from tests.integration.test_paper_against_electronic import import_rows, import_sheet, seed_policy


class TestTheImportFilesCommand:
    async def test_creates_the_files_and_reports_the_refused_rows(
        self, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ):
        rows, bad = import_rows(8, 0.5, seed=11)
        sheet, report = tmp_path / "files.xlsx", tmp_path / "refused.json"
        sheet.write_bytes(import_sheet(rows))
        args = parser().parse_args(
            ["import", "files", str(sheet), "--unit", "130306001", "--report", str(report)]
        )
        settings = Settings(database_url=database_url, data_dir=tmp_path, log_json=True)
        async with runtime(settings) as rt:
            await seed_policy(rt.store)

            status = await COMMANDS[args.command](rt, args)

        assert bad
        assert status == 0
        out = capsys.readouterr().out
        assert f"新建 {len(rows) - len(bad)} 户" in out
        assert f"拒绝 {len(bad)} 行" in out
        assert json.loads(report.read_text(encoding="utf-8"))

    async def test_refuses_a_malformed_unit_with_status_2(
        self, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ):
        rows, _ = import_rows(2, 0.0)
        sheet = tmp_path / "files.xlsx"
        sheet.write_bytes(import_sheet(rows))
        args = parser().parse_args(["import", "files", str(sheet), "--unit", "13x"])
        settings = Settings(database_url=database_url, data_dir=tmp_path, log_json=True)
        async with runtime(settings) as rt:
            status = await COMMANDS[args.command](rt, args)

        assert status == 2
        assert "error:" in capsys.readouterr().out


class TestTheCivilAffairsCommand:
    async def test_matches_a_list_and_writes_the_report(
        self, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ):
        listed, report = tmp_path / "list.csv", tmp_path / "report.json"
        listed.write_bytes(
            "民政比对名单\n身份证号码,比对类型,日期\n130306197504040011,车辆,2026-09-01\n".encode(
                "gb18030"
            )
        )
        args = parser().parse_args(
            ["civil-affairs", str(listed), "--unit", "130306", "--json", str(report)]
        )
        settings = Settings(database_url=database_url, data_dir=tmp_path, log_json=True)
        async with runtime(settings) as rt:
            status = await COMMANDS[args.command](rt, args)

        assert status == 0
        assert "名单 1 行" in capsys.readouterr().out
        assert json.loads(report.read_text(encoding="utf-8"))["rows"] == 1
