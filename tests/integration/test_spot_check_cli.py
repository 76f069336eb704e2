"""`bangfu spot-check`: the subcommand's parser and its run, on the composition root's runtime
(registered in `adapters.cli` by `add_parser` and `run`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import openpyxl
import pytest

from adapters.cli import spotcheck as cli_spotcheck
from adapters.pg.policies import PgPolicies, seed_demo_policies
from adapters.runtime.bootstrap import runtime
from adapters.runtime.settings import Settings
from adapters.services import demo
from tests.builders import FixedClock


def parse(*argv: str) -> argparse.Namespace:
    top = argparse.ArgumentParser(prog="bangfu")
    cli_spotcheck.add_parser(top.add_subparsers(dest="command", required=True))
    return top.parse_args(["spot-check", *argv])


class TestTheSpotCheckCommand:
    async def test_checks_a_sample_and_writes_the_workbook(
        self, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ):
        out = tmp_path / "report.xlsx"
        args = parse("--unit", "1303", "--sample", "15", "--seed", "7", "--out", str(out))
        settings = Settings(database_url=database_url, data_dir=tmp_path, log_json=True)
        async with runtime(settings) as rt:
            await demo.build(files=rt.files, clock=FixedClock(), count=80, seed=3, bulk=True)
            await seed_demo_policies(PgPolicies(rt.store, rt.codec))

            status = await cli_spotcheck.run(rt, args)

            stream_types = await rt.pool.fetch(
                "SELECT type, count(*) FROM events WHERE type LIKE 'spotcheck.%' GROUP BY type"
            )
        assert status == 0
        book = openpyxl.load_workbook(out)
        assert book.sheetnames == ["抽查汇总", "问题清单"]
        summary = {row[0]: row[1] for row in book["抽查汇总"].iter_rows(values_only=True)}
        assert summary["抽查档案数"] == 15
        assert summary["随机种子"] == "7"
        assert dict(stream_types) == {
            "spotcheck.started": 1,
            "spotcheck.file_checked": 15,
            "spotcheck.completed": 1,
        }
        assert "错评率" in capsys.readouterr().out

    async def test_refuses_a_base_level_union_with_status_2(
        self, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ):
        args = parse("--unit", "130306001", "--out", str(tmp_path / "never.xlsx"))
        settings = Settings(database_url=database_url, data_dir=tmp_path, log_json=True)
        async with runtime(settings) as rt:
            status = await cli_spotcheck.run(rt, args)

        assert status == 2
        assert "抽查须由区县级及以上工会组织" in capsys.readouterr().out
        assert not (tmp_path / "never.xlsx").exists()

    def test_takes_either_a_sample_or_a_fraction(self):
        with pytest.raises(SystemExit):
            parse("--unit", "1303", "--sample", "5", "--fraction", "0.1")

    def test_reads_strata_from_repeated_flags(self):
        args = parse(
            "--unit", "13", "--fraction", "0.05", "--status", "approved", "--status",
            "out_of_hardship", "--level", "city", "--as-of", "2026-11-21",
        )  # fmt: skip

        assert (args.status, args.level, str(args.fraction), args.as_of.isoformat()) == (
            ["approved", "out_of_hardship"],
            "city",
            "0.05",
            "2026-11-21",
        )
