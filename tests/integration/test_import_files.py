"""Bulk import: building in worker processes, the exclusion answers, and two imports of one
sheet at once — on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import date
from decimal import Decimal

import asyncpg
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from openpyxl import Workbook

from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.pii import sealing as pii
from adapters.services import importer
from adapters.sheets import reading as sheets
from domain.eligibility import Exclusions
from domain.errors import NotPermitted
from domain.idnumber import make_id_number
from domain.policy import Parameters, PolicyBook, RegionalPolicy
from domain.units import Units
from domain.values import Actor, Role
from tests.builders import APPROVER, BASE, TODAY
from tests.integration.test_paper_against_electronic import (
    IMPORT_HEADERS,
    do_import,
    import_rows,
    import_sheet,
    seed_policy,
)


def book() -> PolicyBook:
    admin = Actor("admin", "13", Role.ADMIN)
    policy = RegionalPolicy.open(actor=admin, region="130300")
    policy.set(actor=admin, parameters=Parameters(date(2015, 1, 1), Decimal("550")), reason="t")
    return PolicyBook({"130300": policy})


def outcomes_of(found: list[importer.Built | sheets.RowError]) -> list[object]:
    """What must not depend on where a row was built (recorded times, and so hashes, do; and
    each build encrypts with a fresh key: payloads are compared opened)."""
    return [
        o
        if isinstance(o, sheets.RowError)
        else (
            o.row,
            o.file_id,
            [(e.version, e.type, opened(o, e.payload), e.unit) for e in o.events],
        )
        for o in found
    ]


def opened(built: importer.Built, payload: bytes) -> bytes:
    assert built.key is not None
    return pii.open_payload(payload, built.file_id, AESGCM(built.key))


async def collect(rows: list[tuple[int, dict[str, str]]], workers: int) -> list[object]:
    job = importer.Job(BASE, APPROVER, book(), TODAY)
    found: list[importer.Built | sheets.RowError] = []
    async for chunk in importer._built(importer.grouped(rows, BASE), job, workers, EventCodec()):
        found += chunk
    return outcomes_of(found)


class TestBuildingInWorkers:
    async def test_gives_the_same_files_and_refusals_in_the_same_order_as_in_process(
        self,
    ) -> None:
        rows, bad = import_rows(3 * importer.CHUNK + 17, 0.1)
        table = sheets.read_table(
            sheets.grid_of(import_sheet(rows), "f.xlsx"), importer.IMPORT_COLUMNS
        )

        here = await collect(table.rows, workers=1)
        there = await collect(table.rows, workers=2)

        assert there == here
        assert sorted(o.row for o in here if isinstance(o, sheets.RowError)) == sorted(bad)
        assert len(here) == len(table.rows)

    def test_large_sheets_use_every_cpu_and_small_ones_none(self) -> None:
        assert importer.worker_count(importer.PARALLEL_FROM - 1, None) == 1
        assert importer.worker_count(importer.PARALLEL_FROM, None) >= 1
        assert importer.worker_count(10, 3) == 3
        assert importer.worker_count(10, 0) == 1


def exclusion_sheet(rows: list[dict[str, str]]) -> bytes:
    """A csv with the importer's headers plus the given extra columns."""
    extra = sorted({k for r in rows for k in r} - set(IMPORT_HEADERS))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*IMPORT_HEADERS, *extra])
    base_rows, _ = import_rows(len(rows), 0.0)
    for values, cells in zip(base_rows, rows, strict=True):
        writer.writerow([*values, *(cells.get(k, "") for k in extra)])
    return out.getvalue().encode()


async def import_csv(
    store: PostgresEventStore, data: bytes, name: str = "files.csv"
) -> importer.ImportReport:
    return await importer.import_files(
        files=PgFileRepository(store, EventCodec(keyring=store.keyring)),
        codec=EventCodec(keyring=store.keyring),
        book=await PgPolicies(store, EventCodec()).book(),
        actor=APPROVER,
        unit=BASE,
        data=data,
        name=name,
        today=TODAY,
    )


class TestExclusionAnswers:
    async def test_are_recorded_and_one_that_applies_refuses_the_row_under_its_column(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        await seed_policy(store)
        rows = [
            {"私家车或高档消费品": "否", "出国(境)旅游": "无"},
            {"私家车或高档消费品": "是"},
            {"排除情形": "无"},
            {"排除情形": "出国（境）旅游、私家车"},
            {"排除情形": "住豪宅"},
            {"两套以上住宅": "也许"},
        ]
        data = exclusion_sheet(rows)

        report = await import_csv(store, data)

        refused = {e.row: (e.column, e.reason) for e in report.refused}
        assert set(refused) == {3, 5, 6, 7}  # the header is row 1
        assert refused[3][0] == "排除情形"
        assert "私家车" in refused[3][1]
        assert refused[5][0] == "排除情形"
        assert "出国" in refused[5][1]
        assert "私家车" in refused[5][1]
        assert refused[6] == ("排除情形", refused[6][1])
        assert "住豪宅" in refused[6][1]
        assert refused[7][0] == "两套以上住宅"
        assert report.created == 2
        numbers = [r[1] for r in import_rows(len(rows), 0.0)[0]]
        kept = await files.get(importer.file_id_for(BASE, str(numbers[0])))
        assert kept.exclusions == Exclusions()
        assert kept.status == "approved"
        assert kept.head.id_number == str(numbers[0])
        stored = await store.pool.fetchval(
            "SELECT payload FROM events WHERE stream_id = $1 AND version = 1", kept.id
        )
        assert str(numbers[0]).encode() not in stored
        assert b'"enc:1:' in stored

    def test_read_from_one_column_or_one_each(self) -> None:
        assert importer.exclusions_of(
            {"exclusions": "私家车或高档消费品、两套以上住宅"}
        ) == Exclusions(car_or_luxury=True, two_or_more_homes=True)
        assert importer.exclusions_of({"exclusion:costly_schooling": "√"}) == Exclusions(
            costly_schooling=True
        )
        assert importer.exclusions_of({"exclusions": "无"}) == Exclusions()
        assert importer.exclusions_of({}) == Exclusions()


class TestTwoImportsOfOneSheetAtOnce:
    async def test_create_every_file_once_and_neither_fails(
        self, store: PostgresEventStore
    ) -> None:
        await seed_policy(store)
        rows, _ = import_rows(importer.SAVE_BATCH + 300, 0.0)
        data = import_sheet(rows)

        first, second = await asyncio.gather(do_import(store, data), do_import(store, data))

        assert first.created + second.created == len(rows)
        assert first.created + first.skipped == second.created + second.skipped == len(rows)
        count = await store.pool.fetchval(
            "SELECT count(*) FROM events WHERE type = 'household.applied'"
        )
        assert count == len(rows)
        assert await store.pool.fetchval(
            "SELECT count(*) FROM events WHERE type LIKE 'household.%'"
        ) == 4 * len(rows)


@pytest.mark.parametrize("answer", ["是", "有", "√", "Y", "1", "true"])
def test_a_yes_reads_as_yes(answer: str) -> None:
    assert sheets.yes_no(answer, "列") is True


@pytest.mark.parametrize("answer", ["否", "无", "×", "n", "0", "—"])
def test_a_no_reads_as_no(answer: str) -> None:
    assert sheets.yes_no(answer, "列") is False


def test_anything_else_is_refused_naming_the_column() -> None:
    with pytest.raises(sheets.CellError) as caught:
        sheets.yes_no("不清楚", "私家车或高档消费品")
    assert caught.value.column == "私家车或高档消费品"
    assert sheets.yes_no("", "列") is None


# The headers of the seeds' forms (seed 001 forms 1–3, seed 003 attachments, seed 002 table 3),
# with the Chinese labels clerks write in the cells.
FORM_HEADERS = [
    "户主姓名", "性别", "身份证号码", "联系电话", "工作单位", "家庭地址", "建档时间", "职工类别",
    "授权书（声明书）", "入户调查时间", "调查人", "家庭成员", "家庭年收入（元）", "刚性支出（元）",
    "致困原因", "民主评议会议记录", "评议时间", "公示开始时间", "公示结束时间", "审批时间",
    "档案级别", "困难类别", "帮扶时间", "分类帮扶措施", "分类型帮扶部门", "帮扶金额（元）",
    "帮扶责任人", "走访时间", "结对帮扶干部姓名", "走访内容", "家庭季度收入实现情况",
    "退出类别", "退出时间", "退出原因", "退出证明材料", "连续高于标准月数",
]  # fmt: skip


def person(seq: int, born: date = date(1971, 7, 7)) -> str:
    return make_id_number("130306", born, seq).value


def form_row(seq: int, **cells: object) -> list[object]:
    values: dict[str, object] = {
        "户主姓名": f"刘{seq}",
        "性别": "男",
        "身份证号码": person(seq),
        "联系电话": "13912345678",
        "工作单位": "抚宁区机械厂",
        "家庭地址": "骊城大街1号",
        "建档时间": date(2023, 3, 2),
        "职工类别": "城镇职工",
        "授权书（声明书）": "是",
        "入户调查时间": "2023年3月9日",
        "调查人": "赵一、钱二",
        "家庭成员": f"王某/妻/{person(seq + 1, date(1973, 2, 3))}/失业；"
        f"刘小明/儿子/{person(seq + 2, date(2009, 9, 1))}/在校",
        "家庭年收入（元）": "1.2万",
        "刚性支出（元）": 1200,
        "致困原因": "疾病、残疾",
        "民主评议会议记录": "有",
        "评议时间": "2023/3/12",
        "公示开始时间": "2023-03-13",
        "公示结束时间": "2023-03-20",
        "审批时间": "2023-03-25",
        "档案级别": "区县级",
        "困难类别": "深度困难",  # (12000 − 1200) / 12 / 3 = 300 yuan a month, below 550
    }
    values.update(cells)
    return [values.get(h, "") for h in FORM_HEADERS]


def form_sheet(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["抚宁区总工会困难职工档案台账"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=8)
    sheet.append(FORM_HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def import_xlsx(store: PostgresEventStore, data: bytes) -> importer.ImportReport:
    return await import_csv(store, data, "台账.xlsx")


class TestASheetWrittenWithTheLabelsOfTheForms:
    async def test_imports_cleanly_with_its_assistance_visits_and_exits(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        await seed_policy(store)
        assisted = {
            "帮扶时间": "2023-04-10",
            "分类帮扶措施": "医疗救助",
            "分类型帮扶部门": "县医保局",
            "帮扶金额（元）": "1,500元",
            "帮扶责任人": "孙三",
            "走访时间": "2023-05-06",
            "结对帮扶干部姓名": "周五",
            "走访内容": "了解治疗和复工情况",
            "家庭季度收入实现情况": 3000,
        }
        out = {
            "退出类别": "脱困",
            "退出时间": "2024-06-30",
            "退出证明材料": "工资收入证明",
            "连续高于标准月数": 6,
        }
        dead = {
            "退出类别": "注销",
            "退出时间": "2023-08-01",
            "退出原因": "去世",
            "退出证明材料": "死亡证明",
        }
        data = form_sheet(
            [form_row(101, **assisted), form_row(201, **out), form_row(301, **assisted, **dead)]
        )

        report = await import_xlsx(store, data)

        assert (report.created, report.refused) == (3, [])
        first = await files.get(importer.file_id_for(BASE, person(101)))
        assert (first.status, first.category, first.file_level) == ("approved", "deep", "district")
        assert (first.assistance_count, first.last_visited_on) == (1, date(2023, 5, 6))
        assert [m.relation for m in first.members] == ["spouse", "child"]
        second = await files.get(importer.file_id_for(BASE, person(201)))
        assert (second.status, second.exit_kind) == ("out_of_hardship", "out_of_hardship")
        third = await files.get(importer.file_id_for(BASE, person(301)))
        assert third.status == "cancelled"

    async def test_with_a_wrong_label_reports_row_column_and_the_labels_accepted(
        self, store: PostgresEventStore
    ) -> None:
        await seed_policy(store)
        data = form_sheet([form_row(101), form_row(201, 档案级别="乡级")])

        report = await import_xlsx(store, data)

        assert report.created == 1
        (error,) = report.refused
        assert (error.row, error.column) == (4, "档案级别")
        assert error.reason == "无法识别：乡级（可填：全国级、省级、地市级、区县级、基层）"

    async def test_without_document_columns_records_them_as_unknown(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        await seed_policy(store)
        rows, _ = import_rows(1, 0.0)
        without = [h for h in IMPORT_HEADERS if h != "档案级别"]
        out = io.StringIO()
        csv.writer(out).writerows([without, rows[0][: len(without)]])

        report = await import_csv(store, out.getvalue().encode())

        assert report.created == 1
        household = await files.get(importer.file_id_for(BASE, str(rows[0][1])))
        stored = await store.pool.fetch(
            "SELECT payload FROM events WHERE stream_id = $1 ORDER BY version", household.id
        )
        payloads = [json.loads(r["payload"]) for r in stored]
        assert payloads[0]["authorisation_signed"] is None
        assert payloads[2]["minutes_on_file"] is None
        assert (payloads[3]["file_level"], household.file_level) == (None, None)


INDUSTRY = "13C01"  # 河北省教育工会, registered as approving (seed 003: 省有关产业工会)
INDUSTRY_BASE = "13C01001"  # a school's union below it


def industry_sheet(n: int, unit: str = INDUSTRY_BASE) -> bytes:
    """`n` good rows, each naming `unit` as its 基层工会代码."""
    rows, _ = import_rows(n, 0.0)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*IMPORT_HEADERS, "基层工会代码"])
    for row in rows:
        writer.writerow([*row, unit])
    return out.getvalue().encode()


class TestAnImportApprovedByAnIndustryUnion:
    """A sheet of an approving provincial industry union's base-level union: the registry's
    stored levels decide in the worker processes as in the API (decision 14)."""

    @pytest.fixture
    async def registry(self, pool: asyncpg.Pool, store: PostgresEventStore) -> Units:
        directory = PgUnitDirectory(pool)
        await directory.load({"13": "河北省总工会"})
        await directory.create(INDUSTRY, "河北省教育工会", approves=True)
        await directory.create(INDUSTRY_BASE, "某中学工会")
        await directory.create("13X01", "河北省某系统工会")  # not approving
        await PgPolicies(store, EventCodec(keyring=store.keyring)).set_parameters(
            actor=Actor("admin", "13", Role.ADMIN),
            region="130000",  # the province's: the nearest region above 13C01001
            parameters=Parameters(date(2015, 1, 1), Decimal("550")),
            reason="test",
        )
        return await directory.registry()

    async def run(
        self, store: PostgresEventStore, registry: Units, workers: int, actor: Actor
    ) -> importer.ImportReport:
        return await importer.import_files(
            files=PgFileRepository(store, EventCodec(keyring=store.keyring)),
            codec=EventCodec(keyring=store.keyring),
            book=await PgPolicies(store, EventCodec()).book(),
            actor=actor,
            unit=actor.unit,
            data=industry_sheet(6),
            name="files.csv",
            today=TODAY,
            workers=workers,
            units=registry,
        )

    @pytest.mark.parametrize("workers", [1, 2], ids=["in process", "in worker processes"])
    async def test_creates_the_files_approved_by_the_industry_union(
        self,
        store: PostgresEventStore,
        files: PgFileRepository,
        registry: Units,
        workers: int,
    ) -> None:
        report = await self.run(
            store, registry, workers, Actor("approver-liu", INDUSTRY, Role.APPROVER)
        )

        assert (report.refused, report.created, report.workers) == ([], 6, workers)
        rows, _ = import_rows(6, 0.0)
        household = await files.get(importer.file_id_for(INDUSTRY_BASE, str(rows[0][1])))
        assert (household.status, household.unit.value) == ("approved", INDUSTRY_BASE)
        assert household.region == "130000"

    async def test_is_refused_to_a_union_not_registered_as_approving(
        self, store: PostgresEventStore, registry: Units, pool: asyncpg.Pool
    ) -> None:
        with pytest.raises(NotPermitted) as refused:
            await self.run(store, registry, 1, Actor("approver-ma", "13X01", Role.APPROVER))

        assert refused.value.rule == "district_or_above"
        assert await pool.fetchval("SELECT count(*) FROM events WHERE type LIKE '%Applied'") == 0
