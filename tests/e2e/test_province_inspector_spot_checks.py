"""A province inspector spot-checks a city: draws a sample, reads the report, downloads the
workbook and finds the check in a file's trail; a district cannot check another district; an
admin sets a region's poverty line from a date."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest

from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies, seed_demo_policies
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from tests.conftest import Api
from tests.e2e.http_helpers import API, CITY, DISTRICT, JSON, OTHER_DISTRICT, PROVINCE
from tests.e2e.http_helpers import assert_problem as problem
from tests.e2e.read_model_helpers import build_province, projected

pytestmark = pytest.mark.slow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHECK = {"unit": CITY, "sample": 20, "seed": 7, "as_of": "2026-11-21"}
LINE = {"effective_on": "2026-07-01", "poverty_line": "760.00", "reason": "秦皇岛市低保标准调整"}


@pytest.fixture
async def province(
    api: Api, files: PgFileRepository, store: PostgresEventStore, codec: EventCodec
) -> Api:
    await build_province(files, count=200, seed=5)
    await seed_demo_policies(PgPolicies(store, codec))
    await projected(api)
    return api


def inspector(api: Api, unit: str = PROVINCE) -> dict[str, str]:
    return api.auth(unit, "inspector", "inspector-zhao", **JSON)


async def started(api: Api, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = await api.client.post(f"{API}/spot-checks", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{API}/spot-checks/{response.json()['id']}"
    return dict(response.json())


class TestAProvinceInspector:
    async def test_spot_checks_a_city_and_reads_the_report(self, province: Api):
        report = await started(province, CHECK, inspector(province))

        assert report["completed"] is True
        assert report["unit"] == PROVINCE
        assert report["parameters"]["scope"] == CITY
        assert report["parameters"]["sampled"] == report["summary"]["files_checked"] == 20
        assert {f["unit"][:4] for f in report["files"]} == {CITY}
        assert set(report["rates"]) == {"wrong_recognition", "wrong_exit", "pairing_coverage"}
        assert sum(r["findings"] for r in report["by_rule"]) == len(report["findings"])
        assert sum(u["files"] for u in report["by_unit"]) == 20
        again = await province.client.get(
            f"{API}/spot-checks/{report['id']}", headers=inspector(province)
        )
        assert again.status_code == 200
        assert again.json() == report

    async def test_downloads_the_report_as_a_workbook(self, province: Api):
        report = await started(province, CHECK, inspector(province))

        response = await province.client.get(report["xlsx"], headers=inspector(province))

        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(XLSX)
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        assert book.sheetnames == ["抽查汇总", "问题清单"]
        labels = {row[0] for row in book["抽查汇总"].iter_rows(values_only=True)}
        assert {"抽查档案数", "错评率", "错退率", "结对帮扶覆盖率", "按规则统计"} <= labels
        listing = list(book["问题清单"].iter_rows(values_only=True))
        assert listing[0][:5] == ("序号", "档案编号", "单位代码", "单位名称", "规则编号")
        assert len(listing) == len(report["findings"]) + 1

    async def test_finds_the_check_in_the_trail_of_a_file_it_sampled(self, province: Api):
        report = await started(province, CHECK, inspector(province))
        file_id = report["files"][0]["file_id"]

        trail = await province.client.get(
            f"{API}/files/{file_id}/events", headers=inspector(province)
        )

        assert trail.status_code == 200, trail.text
        checked = [e for e in trail.json()["events"] if e["type"] == "spotcheck.file_checked"]
        assert [e["stream_id"] for e in checked] == [report["id"]]

    async def test_draws_the_same_sample_again_with_the_same_seed(self, province: Api):
        first = await started(province, CHECK, inspector(province))
        again = await started(province, CHECK, inspector(province))

        assert again["parameters"]["frame_digest"] == first["parameters"]["frame_digest"]
        assert [f["file_id"] for f in again["files"]] == [f["file_id"] for f in first["files"]]


class TestADistrictInspector:
    async def test_checks_its_own_district(self, province: Api):
        body = CHECK | {"unit": DISTRICT, "sample": 5}

        report = await started(province, body, inspector(province, DISTRICT))

        assert {f["unit"][:6] for f in report["files"]} == {DISTRICT}

    async def test_cannot_check_another_district(self, province: Api):
        body = CHECK | {"unit": OTHER_DISTRICT, "sample": 5}
        await started(province, body, inspector(province, OTHER_DISTRICT))  # its own may

        response = await province.client.post(
            f"{API}/spot-checks", json=body, headers=inspector(province, DISTRICT)
        )

        problem(response, 404)

    async def test_cannot_read_a_check_of_the_city(self, province: Api):
        report = await started(province, CHECK, inspector(province, CITY))

        for path in (f"{API}/spot-checks/{report['id']}", report["xlsx"]):
            response = await province.client.get(path, headers=inspector(province, DISTRICT))
            problem(response, 404)


class TestAClerk:
    async def test_may_not_spot_check(self, province: Api):
        clerk = province.auth(f"{DISTRICT}001", "clerk", **JSON)

        response = await province.client.post(
            f"{API}/spot-checks", json=CHECK | {"unit": f"{DISTRICT}001"}, headers=clerk
        )

        assert problem(response, 403)["rule"] == "role"


class TestRegionalParameters:
    async def test_an_admin_sets_a_citys_line_from_a_date(self, province: Api):
        admin = province.auth(PROVINCE, "admin", **JSON)

        response = await province.client.post(f"{API}/policies/130300", json=LINE, headers=admin)

        assert response.status_code == 201, response.text
        history = response.json()["history"]
        assert [(p["effective_on"], p["poverty_line"]) for p in history] == [
            ("2015-01-01", "735"),
            ("2026-07-01", "760.00"),
        ]
        assert history[-1]["set_by"]["role"] == "admin"

    async def test_a_district_reads_the_line_of_its_city_in_force(self, province: Api):
        response = await province.client.get(
            f"{API}/policies/{DISTRICT}", headers=inspector(province, DISTRICT)
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["history"] == []
        assert body["in_force"]["region"] == "130300"
        assert body["in_force"]["parameters"]["poverty_line"] == "735"

    async def test_only_an_admin_sets_parameters(self, province: Api):
        response = await province.client.post(
            f"{API}/policies/130300", json=LINE, headers=inspector(province)
        )

        assert problem(response, 403)["rule"] == "role"

    async def test_an_admin_of_another_city_cannot_set_them(self, province: Api):
        admin = province.auth("1301", "admin", **JSON)
        own = {**LINE, "poverty_line": "820.00"}
        mine = await province.client.post(f"{API}/policies/130100", json=own, headers=admin)
        assert mine.status_code == 201, mine.text  # its own city's it may

        response = await province.client.post(f"{API}/policies/130300", json=LINE, headers=admin)

        problem(response, 404)
