"""An inspector reads the statistics of a unit and of each unit one level down: the files now by
status, category, cause, level and worker kind, and the year's or month's flows."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from adapters.pg.repository import PgFileRepository
from tests.conftest import Api
from tests.e2e.http_helpers import API, CITY, DISTRICT, PROVINCE, assert_problem, run
from tests.e2e.read_model_helpers import build_province, household_in, projected

pytestmark = pytest.mark.slow

UNIT = "130306001"


@pytest.fixture
async def province(api: Api, files: PgFileRepository) -> Api:
    await build_province(files, count=150, seed=3)
    await projected(api)
    return api


async def stats(api: Api, headers: dict[str, str], **params: str) -> dict[str, Any]:
    answered = await api.client.get(f"{API}/stats", params=params, headers=headers)
    assert answered.status_code == 200, answered.text
    return dict(answered.json())


def stock(figures: dict[str, Any]) -> Counter[tuple[str, str]]:
    return Counter(
        {(g["dimension"], f["key"]): f["count"] for g in figures["stock"] for f in g["figures"]}
    )


def flow(figures: dict[str, Any]) -> dict[tuple[str, str], tuple[int, Decimal]]:
    return {
        (g["metric"], f["key"]): (f["count"], Decimal(f["amount"]))
        for g in figures["flow"]
        for f in g["figures"]
    }


def summed(children: list[dict[str, Any]]) -> tuple[Counter[tuple[str, str]], dict[Any, Any]]:
    total_stock: Counter[tuple[str, str]] = Counter()
    total_flow: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for child in children:
        total_stock.update(stock(child))
        for key, (n, amount) in flow(child).items():
            before = total_flow.get(key, (0, Decimal(0)))
            total_flow[key] = (before[0] + n, before[1] + amount)
    return +total_stock, total_flow


class TestTheFiguresOfEachUnitOneLevelDown:
    @pytest.mark.parametrize(
        ("unit", "level", "children"),
        [
            (PROVINCE, "city", {"1301", "1302", "1303", "1304"}),
            (CITY, "district", {"130302", "130303", "130304", "130306"}),
            (DISTRICT, "base", {f"130306{i:03d}" for i in range(1, 11)}),
        ],
    )
    async def test_add_up_to_the_unit_s_own(
        self, province: Api, unit: str, level: str, children: set[str]
    ):
        inspector = province.auth(PROVINCE, "inspector")

        body = await stats(province, inspector, unit=unit, level=level, period="2026")

        assert {c["unit"] for c in body["children"]} == children
        assert {c["level"] for c in body["children"]} == {level}
        own_stock, own_flow = stock(body["figures"]), flow(body["figures"])
        assert own_stock
        assert own_flow
        assert summed(body["children"]) == (own_stock, own_flow)

    async def test_count_every_file_of_the_unit_once_by_status(
        self, province: Api, pool: asyncpg.Pool
    ):
        body = await stats(province, province.auth(CITY, "inspector"))

        by_status = {
            key: n
            for (dimension, key), n in stock(body["figures"]).items()
            if dimension == "status"
        }
        rows = await pool.fetch(
            "SELECT status, count(*) FROM ledger WHERE city = $1 GROUP BY status", CITY
        )
        assert by_status == {r["status"]: r["count"] for r in rows}
        assert body["figures"]["unit"] == CITY
        assert body["figures"]["level_label"] == "市总工会"
        assert body["children"] == []


class TestTheFiguresOfOneHousehold:
    async def test_show_its_status_category_and_cause_with_chinese_labels(self, api: Api):
        await household_in(api, "approved", UNIT)
        await projected(api)

        body = await stats(api, api.auth(UNIT, "clerk"), period="2026")

        groups = {g["dimension"]: g for g in body["figures"]["stock"]}
        assert [(f["key"], f["label"], f["count"]) for f in groups["status"]["figures"]] == [
            ("approved", "在档", 1)
        ]
        assert [(f["key"], f["label"]) for f in groups["cause"]["figures"]] == [("illness", "因病")]
        assert [(f["key"], f["label"]) for f in groups["file_level"]["figures"]] == [
            ("district", "区县级")
        ]
        assert groups["status"]["label"] == "档案状态"
        assert flow(body["figures"])[("new", "")] == (1, Decimal(0))

    async def test_show_assistance_in_the_month_and_year_it_was_given(self, api: Api):
        file_id = await household_in(api, "approved", UNIT)
        await run(api, file_id, "assistance", UNIT)  # 800.00 on 2026-02-10
        await projected(api)
        clerk = api.auth(UNIT, "clerk")

        february = await stats(api, clerk, period="2026-02")
        march = await stats(api, clerk, period="2026-03")
        year = await stats(api, clerk, period="2026")

        assistance = [k for k in flow(year["figures"]) if k[0] == "assistance"]
        assert len(assistance) == 1
        assert flow(february["figures"])[assistance[0]] == (1, Decimal("800.00"))
        assert flow(year["figures"])[assistance[0]] == (1, Decimal("800.00"))
        assert assistance[0] not in flow(march["figures"])


class TestTheStatisticsParameters:
    async def test_default_to_the_current_year(self, api: Api):
        body = await stats(api, api.auth(DISTRICT, "approver"))

        assert body["period"] == str(datetime.now(ZoneInfo("Asia/Shanghai")).year)

    async def test_refuse_a_level_that_is_not_below_the_unit(self, api: Api):
        refused = await api.client.get(
            f"{API}/stats?unit={CITY}&level=city", headers=api.auth(PROVINCE, "inspector")
        )

        body = assert_problem(refused, 422)
        assert body["errors"][0]["field"] == "level"

    @pytest.mark.parametrize("period", ["2026-13", "26", "2026-3", "last year"])
    async def test_refuse_a_period_that_is_not_a_year_or_month(self, api: Api, period: str):
        refused = await api.client.get(
            f"{API}/stats", params={"period": period}, headers=api.auth(PROVINCE, "inspector")
        )

        assert_problem(refused, 400)
