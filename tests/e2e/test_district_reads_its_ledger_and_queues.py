"""A district's aid centre reads its ledger (filtered, sorted, page by page), exports it to xlsx
and works through its approval queue."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest

from adapters.http.readmodels import DUE_PAGE, STATS_PAGE
from adapters.pg.codec import EventCodec
from adapters.pg.projector import rebuild
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pii.keyring import Keyring
from adapters.runtime.bootstrap import read_models
from adapters.runtime.secrets import load_hash_key, load_pii_keys
from domain.idnumber import IdNumber
from domain.privacy import keyed_hash
from tests.builders import person_id
from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    DISTRICT,
    JSON,
    OTHER_DISTRICT,
    PROVINCE,
    application,
    assert_problem,
    doer,
    file_in,
    run,
)
from tests.e2e.read_model_helpers import (
    ID_MASKED,
    PHONE_MASKED,
    all_pages,
    build_province,
    projected,
    workbook_rows,
)

pytestmark = pytest.mark.slow

CITY = "1303"
HEADERS = (
    "序号",
    "户主姓名",
    "性别",
    "身份证号码",
    "联系电话",
    "工作单位",
    "家庭地址",
    "建档时间",
    "档案级别",
    "困难类别",
    "致困原因",
    "状态",
    "所属基层工会",
    "审批时间",
    "帮扶次数",
    "帮扶金额(元)",
    "最近走访",
    "下次复核",
    "退出时间",
    "民政比对",
    "民政比对日期",
    "民政比对待处理",
)


@pytest.fixture
async def province(api: Api, files: PgFileRepository) -> Api:
    await build_province(files)
    await projected(api)
    return api


async def ids(pool: asyncpg.Pool, sql: str, *args: Any) -> list[str]:
    return [str(r[0]) for r in await pool.fetch(sql, *args)]


# The SQL each sort means, written out independently of the service's keyset queries (PostgreSQL
# puts NULLs last ascending and first descending: files not yet approved come after the others).
SORTS = {
    "applied_on": "applied_on, file_id",
    "-applied_on": "applied_on DESC, file_id DESC",
    "approved_on": "approved_on, file_id",
    "-approved_on": "approved_on DESC, file_id DESC",
    "head_name": "head_name, file_id",
    "-head_name": "head_name DESC, file_id DESC",
    "assistance_total": "assistance_total, file_id",
    "-assistance_total": "assistance_total DESC, file_id DESC",
    "updated_at": "updated_at, file_id",
    "-updated_at": "updated_at DESC, file_id DESC",
}


class TestThePagesOfTheLedger:
    @pytest.mark.parametrize("sort", list(SORTS))
    async def test_walk_every_file_of_the_province_once_in_the_order_asked(
        self, province: Api, pool: asyncpg.Pool, sort: str
    ):
        inspector = province.auth(PROVINCE, "inspector")

        items = await all_pages(province, inspector, f"sort={sort}", limit=17)

        expected = await ids(pool, f"SELECT file_id FROM ledger ORDER BY {SORTS[sort]}")
        assert len(expected) >= 160
        assert [i["file_id"] for i in items] == expected

    async def test_walk_a_filtered_subtree_without_duplicates_or_gaps(
        self, province: Api, pool: asyncpg.Pool
    ):
        approver = province.auth(DISTRICT, "approver")

        items = await all_pages(
            province, approver, "status=approved&sort=-assistance_total", limit=3
        )

        expected = await ids(
            pool,
            "SELECT file_id FROM ledger WHERE district = $1 AND status = 'approved'"
            " ORDER BY assistance_total DESC, file_id DESC",
            DISTRICT,
        )
        assert len(expected) > 3
        assert [i["file_id"] for i in items] == expected


# query → the rows it must select, as a condition on the ledger table
FILTERS = {
    "status=approved": "status = 'approved'",
    "status=approved&status=out_of_hardship": "status IN ('approved', 'out_of_hardship')",
    "category=deep": "category = 'deep'",
    "file_level=district": "file_level = 'district'",
    "worker_kind=migrant": "worker_kind = 'migrant'",
    "cause=illness": "(primary_cause = 'illness' OR 'illness' = ANY(secondary_causes))",
    "q=王": "strpos(head_name, '王') > 0",
    "status=approved&cause=education": "status = 'approved'"
    " AND (primary_cause = 'education' OR 'education' = ANY(secondary_causes))",
}


class TestTheFiltersOfTheLedger:
    @pytest.mark.parametrize("query", list(FILTERS))
    async def test_select_exactly_the_matching_files_of_the_unit_asked(
        self, province: Api, pool: asyncpg.Pool, query: str
    ):
        inspector = province.auth(PROVINCE, "inspector")

        items = await all_pages(province, inspector, f"unit={CITY}&{query}", limit=50)

        expected = await ids(
            pool,
            f"SELECT file_id FROM ledger WHERE city = $1 AND {FILTERS[query]}"
            " ORDER BY applied_on, file_id",
            CITY,
        )
        everything = await ids(pool, "SELECT file_id FROM ledger WHERE city = $1", CITY)
        assert 0 < len(expected) < len(everything)
        assert [i["file_id"] for i in items] == expected

    async def test_match_a_cause_that_is_only_secondary(self, api: Api):
        file_id = await file_in(api, "verified")  # primary illness by default
        other = await api.client.post(
            f"{API}/files", json=application(), headers=doer(api, "apply")
        )
        await run(
            api,
            other.json()["id"],
            "verification",
            primary_cause="low_wage",
            secondary_causes=["education"],
        )
        await projected(api)

        found = await all_pages(api, api.auth(DISTRICT, "approver"), "cause=education")

        assert [i["file_id"] for i in found] == [other.json()["id"]]
        assert file_id not in {i["file_id"] for i in found}

    async def test_refuse_an_unknown_value(self, api: Api):
        refused = await api.client.get(
            f"{API}/ledger?status=pending", headers=api.auth(DISTRICT, "approver")
        )

        assert_problem(refused, 400)


class TestTheRowsOfTheLedger:
    async def test_carry_the_columns_of_the_paper_ledger_with_id_and_phone_masked(self, api: Api):
        number = person_id()
        head = {
            "name": "李𠮷",
            "id_number": number,
            "phone": "13912345678",
            "employer": "抚宁区机械厂",
            "address": "抚宁区建设路12号",
        }
        created = await api.client.post(
            f"{API}/files", json=application(head=head), headers=doer(api, "apply")
        )
        await projected(api)

        (item,) = await all_pages(api, api.auth(BASE, "clerk"))

        sex = IdNumber(number).sex.value
        assert {k: item[k] for k in ("file_id", "head_name", "head_sex", "head_sex_label")} == {
            "file_id": created.json()["id"],
            "head_name": "李𠮷",
            "head_sex": sex,
            "head_sex_label": {"male": "男", "female": "女"}[sex],
        }
        assert item["id_masked"] == number[:6] + "*" * 8 + number[-4:]
        assert item["phone_masked"] == "139****5678"
        assert (item["employer"], item["address"]) == ("抚宁区机械厂", "抚宁区建设路12号")
        assert (item["status"], item["status_label"]) == ("applied", "已申请")
        assert "id_hash" not in item
        assert number not in str(item)

    async def test_follow_a_revision_of_the_head_s_employer_address_and_phone(self, api: Api):
        head = {"name": "张三", "id_number": person_id(), "phone": "13912345678"}
        created = await api.client.post(
            f"{API}/files", json=application(head=head), headers=doer(api, "apply")
        )
        file_id = created.json()["id"]
        for step in ("verification", "appraisal", "approval"):
            await run(api, file_id, step)
        moved = {**head, "phone": "13800001111", "employer": "新单位", "address": "新地址1号"}
        await run(api, file_id, "revisions", head=moved)
        await projected(api)

        (item,) = await all_pages(api, api.auth(BASE, "clerk"))

        assert (item["phone_masked"], item["employer"], item["address"]) == (
            "138****1111",
            "新单位",
            "新地址1号",
        )

    async def test_never_show_an_id_number_or_phone_unmasked(self, province: Api):
        items = await all_pages(province, province.auth(PROVINCE, "inspector"), limit=200)

        assert all(re.match(ID_MASKED, i["id_masked"]) for i in items)
        assert all(re.match(PHONE_MASKED, i["phone_masked"]) for i in items)
        assert all("id_hash" not in i for i in items)


class TestTheSortAndCursor:
    async def test_refuse_a_sort_not_on_the_list(self, api: Api):
        refused = await api.client.get(
            f"{API}/ledger?sort=id_hash", headers=api.auth(DISTRICT, "approver")
        )

        assert_problem(refused, 400)

    async def test_refuse_a_forged_cursor(self, api: Api):
        refused = await api.client.get(
            f"{API}/ledger?cursor=bm90LWEtY3Vyc29y", headers=api.auth(DISTRICT, "approver")
        )

        body = assert_problem(refused, 422)
        assert body["errors"][0]["field"] == "cursor"

    async def test_refuse_a_cursor_of_another_sort(self, province: Api):
        approver = province.auth(DISTRICT, "approver")
        first = await province.client.get(f"{API}/ledger?sort=head_name&limit=2", headers=approver)

        refused = await province.client.get(
            f"{API}/ledger", params={"cursor": first.json()["next"]}, headers=approver
        )

        assert_problem(refused, 422)


class TestTheApprovalQueue:
    async def test_lists_the_district_s_appraised_files_longest_waiting_first(
        self, province: Api, pool: asyncpg.Pool
    ):
        first = await file_in(province, "appraised")
        second = await file_in(province, "appraised", "130306002")
        elsewhere = await file_in(province, "appraised", "130302001")
        approved = await file_in(province, "approved")
        await projected(province)

        queue = await province.client.get(
            f"{API}/queues/approvals", headers=province.auth(DISTRICT, "approver")
        )

        assert queue.status_code == 200, queue.text
        body = queue.json()
        expected = await ids(
            pool,
            "SELECT file_id FROM ledger WHERE district = $1 AND status = 'appraised'"
            " ORDER BY updated_at, file_id",
            DISTRICT,
        )
        got = [i["file_id"] for i in body["items"]]
        assert got == expected
        assert got[-2:] == [first, second]
        assert elsewhere not in got
        assert approved not in got
        assert body["total"] == len(expected)
        assert {i["status_label"] for i in body["items"]} == {"已评议公示"}


class TestTheDefaultPages:
    """A list read without `limit` is one page whose body does not grow with the province
    (issue 18): its default page, then `next` to the rest, the same items as one long page."""

    @pytest.mark.parametrize(
        ("path", "page", "key"),
        [
            ("/due?kind=visits&visit_days=1", DUE_PAGE, "file_id"),
            ("/due?kind=follow_up&follow_up_months=120", DUE_PAGE, "file_id"),
            ("/stats?level=base", STATS_PAGE, "unit"),
        ],
    )
    async def test_hold_a_page_and_a_cursor_to_the_rest(
        self, province: Api, path: str, page: int, key: str
    ):
        inspector = province.auth(PROVINCE, "inspector")
        whole = (await province.client.get(f"{API}{path}&limit=1000", headers=inspector)).json()
        items = whole.get("items", whole.get("children"))
        assert len(items) > page  # the province holds more than a page

        first = await province.client.get(f"{API}{path}", headers=inspector)
        walked = first.json()
        pages = [walked.get("items", walked.get("children"))]
        while walked["next"] is not None:
            following = f"{API}{path}&cursor={quote(walked['next'])}"
            walked = (await province.client.get(following, headers=inspector)).json()
            pages.append(walked.get("items", walked.get("children")))

        assert first.status_code == 200, first.text
        assert [len(p) for p in pages[:-1]] == [page] * (len(pages) - 1)
        assert [i[key] for p in pages for i in p] == [i[key] for i in items]


class TestTheExport:
    async def test_is_a_workbook_with_the_chinese_headers_and_masked_ids(self, province: Api):
        approver = province.auth(DISTRICT, "approver")

        exported = await province.client.get(
            f"{API}/ledger.xlsx?status=approved&sort=head_name", headers=approver
        )
        listed = await all_pages(province, approver, "status=approved&sort=head_name", limit=500)

        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        disposition = exported.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert f'filename="ledger-{DISTRICT}-' in disposition
        header, *rows = workbook_rows(exported.content)
        assert header == HEADERS
        assert [r[0] for r in rows] == list(range(1, len(listed) + 1))
        assert [r[3] for r in rows] == [i["id_masked"] for i in listed]
        assert all(re.match(ID_MASKED, r[3]) for r in rows)
        assert [r[1] for r in rows] == [i["head_name"] for i in listed]
        assert {r[11] for r in rows} == {"在档"}
        assert [r[12] for r in rows] == [i["unit_name"] for i in listed]
        assert len(rows) > 3

    async def test_writes_codes_as_their_chinese_labels(self, api: Api):
        file_id = await file_in(api, "approved")
        await projected(api)

        exported = await api.client.get(f"{API}/ledger.xlsx", headers=api.auth(BASE, "clerk"))

        (_, row) = workbook_rows(exported.content)
        cells = dict(zip(HEADERS, row, strict=True))
        assert file_id
        assert cells["档案级别"] == "区县级"
        assert cells["致困原因"] == "因病"
        assert cells["状态"] == "在档"
        assert cells["困难类别"] in {"深度困难", "相对困难", "意外致困"}
        assert cells["建档时间"].date().isoformat() == "2026-01-05"
        assert cells["审批时间"].date().isoformat() == "2026-01-25"


class TestARebuildFromZero:
    async def test_leaves_the_ledger_answering_the_same_after_the_swap(
        self, province: Api, store: PostgresEventStore, tmp_path: Path
    ):
        inspector = province.auth(PROVINCE, "inspector")
        before = await all_pages(province, inspector, "sort=head_name", limit=100)
        key = load_hash_key(None, tmp_path)  # the server's keys, in its data folder
        keyring = Keyring(store.pool, load_pii_keys(None, tmp_path))
        server_store = PostgresEventStore(store.pool, keyring=keyring)

        for projection in read_models(lambda number: keyed_hash(key, number)):
            await rebuild(server_store, EventCodec(keyring=keyring), projection)
        after = await all_pages(province, inspector, "sort=head_name", limit=100)
        duplicates = await province.client.get(f"{API}/duplicates", headers=inspector)

        assert after == before
        assert duplicates.status_code == 200


async def test_a_page_of_the_ledger_is_json_with_items_and_next(api: Api):
    await file_in(api, "applied")
    await file_in(api, "applied")
    await projected(api)

    page = await api.client.get(f"{API}/ledger?limit=1", headers=api.auth(BASE, "clerk", **JSON))

    assert page.status_code == 200
    assert set(page.json()) == {"items", "next"}
    assert len(page.json()["items"]) == 1
    assert page.json()["next"]
    assert OTHER_DISTRICT not in page.text
