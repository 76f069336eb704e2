"""A provincial industry union registered as approving (seed 003: "县级或县级以上工会
（省有关产业工会）") approves the files of its base-level unions, over the API on a real
PostgreSQL, and is refused outside its subtree; a system union not registered as approving
decides nothing; the tree's refusals are in Chinese and write nothing
(docs/decisions/0014-a-tree-that-reaches-the-nation.md).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from domain.errors import InvalidValue, RuleViolated
from domain.policy import Parameters
from domain.units import NATION
from domain.values import Actor, Level, Role
from tests.builders import person_id
from tests.conftest import Api
from tests.e2e.http_helpers import API, BASE, BODIES, JSON, assert_problem, file_in
from tests.e2e.read_model_helpers import projected
from tests.parameters import EFFECTIVE_ON, LINE

INDUSTRY = "13C01"  # 河北省教育工会 (a provincial industry union), approving
INDUSTRY_BASE = "13C01001"  # a school's union below it
SYSTEM = "130306X01"  # a district's system union, not approving
SYSTEM_BASE = "130306X01001"


async def register(api: Api) -> None:
    admin = api.auth("13", "admin", **JSON)
    for body in (
        {"code": INDUSTRY, "name": "河北省教育工会", "approves": True},
        {"code": INDUSTRY_BASE, "name": "某中学工会"},
        {"code": SYSTEM, "name": "抚宁区卫生系统工会"},
        {"code": SYSTEM_BASE, "name": "某卫生院工会"},
    ):
        response = await api.client.post(f"{API}/units", json=body, headers=admin)
        assert response.status_code == 201, response.text


async def approve(api: Api, file_id: str, unit: str) -> object:
    return await api.client.post(
        f"{API}/files/{file_id}/approval",
        json=BODIES["approval"],
        headers=api.auth(unit, "approver", **JSON),
    )


class TestAnIndustryUnion:
    async def test_is_registered_with_its_kind_level_and_approval(self, api: Api):
        await register(api)

        response = await api.client.get(
            f"{API}/units", params={"root": INDUSTRY}, headers=api.auth("13", "inspector")
        )

        assert response.status_code == 200, response.text
        assert [
            (u["code"], u["parent"], u["level"], u["kind_label"], u["approves"])
            for u in response.json()
        ] == [
            (INDUSTRY, "13", "district", "产业工会", True),
            (INDUSTRY_BASE, INDUSTRY, "base", "基层工会", False),
        ]

    async def test_approves_a_file_of_its_base_level_union(self, api: Api):
        await register(api)
        file_id = await file_in(api, "appraised", INDUSTRY_BASE)

        response = await approve(api, file_id, INDUSTRY)

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "approved"
        trail = await api.client.get(
            f"{API}/files/{file_id}/events", headers=api.auth(INDUSTRY, "approver")
        )
        assert trail.json()["events"][-1]["actor"]["unit"] == INDUSTRY

    async def test_reads_its_own_files_in_the_ledger_and_statistics_and_no_others(self, api: Api):
        await register(api)
        mine = await file_in(api, "appraised", INDUSTRY_BASE)
        await file_in(api, "appraised", BASE)
        await approve(api, mine, INDUSTRY)
        await projected(api)
        headers = api.auth(INDUSTRY, "approver")

        ledger = await api.client.get(f"{API}/ledger", headers=headers)
        stats = await api.client.get(f"{API}/stats", params={"level": "base"}, headers=headers)
        province = await api.client.get(
            f"{API}/stats", params={"level": "district"}, headers=api.auth("13", "inspector")
        )

        assert [i["file_id"] for i in ledger.json()["items"]] == [mine]
        assert stats.status_code == 200, stats.text
        assert (stats.json()["figures"]["level"], stats.json()["figures"]["level_label"]) == (
            "district",
            "区县总工会",
        )
        assert [c["unit"] for c in stats.json()["children"]] == [INDUSTRY_BASE]
        assert INDUSTRY in [c["unit"] for c in province.json()["children"]]

    async def test_imports_a_sheet_of_its_base_level_unions_files_over_the_api(self, api: Api):
        await register(api)
        sheet = (
            "户主姓名,身份证号码,申请时间,入户调查时间,调查人,家庭年收入,刚性支出,致困原因,"
            "评议时间,公示开始,公示结束,审批时间,基层工会代码\n"
            f"张一,{person_id()},2023-03-02,2023-03-09,赵一、钱二,9600,1200,因病,"
            f"2023-03-12,2023-03-13,2023-03-20,2023-03-25,{INDUSTRY_BASE}\n"
        ).encode("gb18030")

        response = await api.client.post(
            f"{API}/imports",
            files={"file": ("files.csv", sheet, "text/csv")},
            data={"unit": INDUSTRY},
            headers=api.auth(INDUSTRY, "approver"),
        )

        assert response.status_code == 201, response.text
        assert (response.json()["created"], response.json()["refused"]) == (1, [])

    async def test_is_refused_a_file_outside_its_subtree_as_if_it_did_not_exist(self, api: Api):
        await register(api)
        file_id = await file_in(api, "appraised", BASE)

        response = await approve(api, file_id, INDUSTRY)

        assert_problem(response, 404)
        unchanged = await api.client.get(
            f"{API}/files/{file_id}", headers=api.auth("130306", "approver")
        )
        assert unchanged.json()["status"] == "appraised"

    async def test_a_district_approves_its_own_files_as_before(self, api: Api):
        await register(api)
        file_id = await file_in(api, "appraised", BASE)

        response = await approve(api, file_id, "130306")

        assert response.status_code == 200, response.text


class TestASystemUnionNotApproving:
    async def test_is_refused_the_approval_of_its_own_subtrees_file_in_chinese(self, api: Api):
        await register(api)
        file_id = await file_in(api, "appraised", SYSTEM_BASE)

        response = await api.client.post(
            f"{API}/files/{file_id}/approval",
            json=BODIES["approval"],
            headers=api.auth(SYSTEM, "approver", **JSON, **{"accept-language": "zh-CN"}),
        )

        body = assert_problem(response, 403)
        assert body["rule"] == "district_or_above"
        assert body["detail"] == (
            "审批、退回、审核不予建档、删除和销毁个人信息须由区县级及以上工会"
            "或登记为审批单位的产业、系统工会办理"
        )

    async def test_is_refused_in_english_naming_who_may_approve(self, api: Api):
        await register(api)
        file_id = await file_in(api, "appraised", SYSTEM_BASE)

        response = await api.client.post(
            f"{API}/files/{file_id}/approval",
            json=BODIES["approval"],
            headers=api.auth(SYSTEM, "approver", **JSON, **{"accept-language": "en"}),
        )

        assert assert_problem(response, 403)["detail"] == (
            "only a district (county) union or above, or an industry or system union registered"
            f" as approving, may approve; {SYSTEM} is a non-approving system union"
        )

    async def test_its_district_approves_the_file(self, api: Api):
        await register(api)
        file_id = await file_in(api, "appraised", SYSTEM_BASE)

        response = await approve(api, file_id, "130306")

        assert response.status_code == 200, response.text


class TestRegistering:
    @pytest.fixture
    async def units(self, pool: asyncpg.Pool) -> PgUnitDirectory:
        directory = PgUnitDirectory(pool)
        await directory.load({"13": "河北省总工会", "1303": "秦皇岛市总工会"})
        await directory.create(INDUSTRY, "河北省教育工会", approves=True)
        return directory

    async def units_stored(self, pool: asyncpg.Pool) -> int:
        return int(await pool.fetchval("SELECT count(*) FROM units"))

    async def test_refuses_a_level_above_the_parents_in_chinese(
        self, units: PgUnitDirectory, pool: asyncpg.Pool
    ):
        before = await self.units_stored(pool)

        with pytest.raises(InvalidValue) as refused:
            await units.create("13C01Q01", "某集团工会", level=Level.PROVINCE)

        assert refused.value.zh.endswith(
            "产业、系统、企业工会的层级应为省、市或区县级，且不高于上级单位"
        )
        assert await self.units_stored(pool) == before

    @pytest.mark.parametrize("code", ["13C01001Q01", "13C00", "13C1", "13c01", "13K01", "0013"])
    async def test_refuses_a_code_that_is_no_path_of_the_tree_in_chinese(
        self, units: PgUnitDirectory, pool: asyncpg.Pool, code: str
    ):
        before = await self.units_stored(pool)

        with pytest.raises(InvalidValue) as refused:
            await units.create(code, "某工会")

        assert "单位代码" in refused.value.zh or "非地域工会编号" in refused.value.zh
        assert await self.units_stored(pool) == before

    async def test_refuses_a_region_at_another_level_than_its_code_in_chinese(
        self, units: PgUnitDirectory
    ):
        with pytest.raises(InvalidValue) as refused:
            await units.create("1301", "石家庄市总工会", level=Level.DISTRICT)

        assert refused.value.zh.endswith("单位1301按代码为市总工会，不能登记为区县总工会")

    async def test_refuses_a_union_whose_parent_is_not_registered_in_chinese(
        self, units: PgUnitDirectory
    ):
        with pytest.raises(RuleViolated) as refused:
            await units.create("1302X01", "唐山市某系统工会")

        assert refused.value.zh == "上级单位1302不存在"

    async def test_the_registry_learns_a_union_registered_by_another_process(
        self, units: PgUnitDirectory, pool: asyncpg.Pool
    ):
        elsewhere = PgUnitDirectory(pool)
        await elsewhere.registry()  # loaded before the union below is registered
        await units.create("1303X01", "秦皇岛市卫生系统工会", level=Level.CITY, approves=True)

        known = await elsewhere.registry("1303X01")

        assert known.level("1303X01") is Level.CITY
        assert known.approves("1303X01")


NATIONAL = "00C01"  # a national industry union (全国产业工会), approving
NATIONAL_BASE = "00C01001"


async def register_national(api: Api, pool: asyncpg.Pool) -> None:
    """The nation, its industry union and a base-level union below it, with the nation's
    parameters ("000000": the nearest region above "00C01001", docs/rules.md)."""
    await PgUnitDirectory(pool).load({NATION: "中华全国总工会"})
    await PgPolicies(PostgresEventStore(pool), EventCodec()).set_parameters(
        actor=Actor("admin", NATION, Role.ADMIN),
        region="000000",
        parameters=Parameters(EFFECTIVE_ON, LINE),
        reason="测试数据：全国参数",
    )
    admin = api.auth(NATION, "admin", **JSON)
    for body in (
        {"code": NATIONAL, "name": "中国教育工会", "approves": True},
        {"code": NATIONAL_BASE, "name": "某部属高校工会"},
    ):
        response = await api.client.post(f"{API}/units", json=body, headers=admin)
        assert response.status_code == 201, response.text


class TestANationalIndustryUnion:
    async def test_stands_beside_the_provinces_below_the_nation(self, api: Api, pool: asyncpg.Pool):
        await register_national(api, pool)

        response = await api.client.get(
            f"{API}/units", params={"root": NATIONAL}, headers=api.auth(NATION, "inspector")
        )

        assert [(u["code"], u["parent"], u["level"], u["approves"]) for u in response.json()] == [
            (NATIONAL, NATION, "province", True),
            (NATIONAL_BASE, NATIONAL, "base", False),
        ]

    async def test_approves_its_own_files_and_reads_only_them(self, api: Api, pool: asyncpg.Pool):
        await register_national(api, pool)
        theirs = await file_in(api, "appraised", BASE)
        mine = await file_in(api, "appraised", NATIONAL_BASE)

        approved = await approve(api, mine, NATIONAL)
        refused = await approve(api, theirs, NATIONAL)
        await projected(api)
        ledger = await api.client.get(f"{API}/ledger", headers=api.auth(NATIONAL, "approver"))

        assert approved.status_code == 200, approved.text
        assert_problem(refused, 404)
        assert [i["file_id"] for i in ledger.json()["items"]] == [mine]

    async def test_is_seen_by_the_nation_and_not_by_a_province(self, api: Api, pool: asyncpg.Pool):
        await register_national(api, pool)
        provincial = await file_in(api, "approved", BASE)
        national = await file_in(api, "approved", NATIONAL_BASE)
        await projected(api)

        def ledger(unit: str) -> Any:
            return api.client.get(f"{API}/ledger", headers=api.auth(unit, "inspector"))

        def approved(unit: str) -> Any:
            return api.client.get(f"{API}/stats", headers=api.auth(unit, "inspector"))

        nation, province = await ledger(NATION), await ledger("13")
        counted = {u: (await approved(u)).json()["figures"] for u in (NATION, "13", NATIONAL)}

        assert {i["file_id"] for i in nation.json()["items"]} == {provincial, national}
        assert [i["file_id"] for i in province.json()["items"]] == [provincial]
        on_record = {u: approved_count(f) for u, f in counted.items()}
        assert on_record == {NATION: 2, "13": 1, NATIONAL: 1}


def approved_count(figures: dict[str, Any]) -> int:
    return sum(
        f["count"]
        for g in figures["stock"]
        if g["dimension"] == "status"
        for f in g["figures"]
        if f["key"] == "approved"
    )
