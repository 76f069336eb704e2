"""`bangfu meetings`, `bangfu assessments` and the unit forms they feed, printed by `bangfu forms
print`: parsed by `bangfu`'s own parser and run on the composition root's runtime, as `main`
dispatches them."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from adapters.cli.main import COMMANDS, parser
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.bootstrap import runtime
from adapters.runtime.settings import Settings
from adapters.services import demo
from tests.builders import BASE, approved_file


async def test_a_clerk_records_a_meeting_and_an_assessment_and_prints_them(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    settings = Settings(database_url=database_url, data_dir=tmp_path, log_json=True)
    household = approved_file()

    async def bangfu(*argv: str) -> int:
        args = parser().parse_args(list(argv))
        return await COMMANDS[args.command](rt, args)

    async with runtime(settings) as rt:
        await PgUnitDirectory(rt.pool).load(demo.units())
        await rt.files.save(household)
        voted = f"{household.id}:3:1:0"
        common = [
            "--place",
            "职工之家",
            "--chair",
            "刘建国",
            "--recorder",
            "陈丽",
            "--expected",
            "4",
        ]
        people = ["--attendee", "刘建国", "--attendee", "陈丽", "--attendee", "王海燕"]
        recorded = await bangfu(
            "meetings", "record", "--unit", BASE, "--held-on", "2026-03-12", *common, *people,
            "--attendee", "孙志刚", "--summary", "逐户评议", "--vote", voted,
        )  # fmt: skip
        refused = await bangfu(
            "meetings", "record", "--unit", BASE[:6], "--held-on", "2026-03-12", *common,
            *people, "--summary", "逐户评议", "--vote", voted,
        )  # fmt: skip
        listed = await bangfu("meetings", "list", "--unit", BASE[:6], "--period", "2026")
        assessed = await bangfu(
            "assessments", "record", "--unit", BASE, "--period", "2026",
            "--recorded-on", "2026-11-20", "--item", "解困脱困一户|一户一策|已完成",
            "--responsible", "刘建国",
        )  # fmt: skip
        minutes, sheet = tmp_path / "minutes.pdf", tmp_path / "tasks.xlsx"
        printed = await bangfu(
            "forms", "print", "--unit", BASE, "--form", "minutes", "--period", "2026",
            "--purpose", "档案检查", "--out", str(minutes),
        )  # fmt: skip
        exported = await bangfu(
            "forms", "print", "--unit", BASE, "--form", "tasks", "--period", "2026",
            "--purpose", "任务督办", "--out", str(sheet),
        )  # fmt: skip

    out = capsys.readouterr().out
    assert (recorded, refused, listed, assessed, printed, exported) == (0, 2, 0, 0, 0, 0)
    assert "评议1户" in out
    assert "通过1户" in out
    assert "共1次会议" in out
    assert "1项已记录" in out
    assert minutes.read_bytes().startswith(b"%PDF")
    rows = list(load_workbook(sheet).active.iter_rows(values_only=True))
    assert tuple(rows[1])[:2] == ("序号", "困难职工姓名")
