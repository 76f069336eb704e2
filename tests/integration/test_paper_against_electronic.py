"""Paper against electronic: a ledger reconciled, existing files imported, a civil-affairs list
matched — on a real PostgreSQL."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

from adapters.pg import reads
from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.services import civil_affairs, importer, reconcile
from adapters.sheets import ledger as exports
from domain.household import HouseholdFile
from domain.idnumber import make_id_number
from domain.policy import Parameters
from domain.privacy import keyed_hash
from domain.values import Actor, Role
from tests.builders import (
    APPRAISAL,
    APPROVAL,
    APPROVER,
    BASE,
    CLERK,
    TODAY,
    application,
    approved_file,
    verification,
)
from tests.integration.test_projections import KEY, runner

CHINA = ZoneInfo("Asia/Shanghai")
INSPECTOR = Actor("inspector-zhao", "130306", Role.INSPECTOR)


def hasher(number: str) -> bytes:
    return keyed_hash(KEY, number)


def today() -> date:
    return datetime.now(CHINA).date()


async def export_ledger(store: PostgresEventStore, root: str = "130306") -> bytes:
    await runner(store).catch_up()
    out = io.BytesIO()
    await exports.write_ledger(reads.ledger_rows(store.pool, reads.LedgerFilter(root=root)), out)
    return out.getvalue()


def backdate(household: HouseholdFile, days: int) -> None:
    """Make the pending events look recorded `days` ago (as if entered last month)."""
    when = datetime.now(CHINA) - timedelta(days=days)
    for e in household._pending_events:
        object.__setattr__(e, "timestamp", when)


async def run(store: PostgresEventStore, data: bytes, *, on: date, name: str = "ledger.xlsx"):
    return await reconcile.reconcile(
        store=store,
        codec=EventCodec(keyring=store.keyring),
        hasher=hasher,
        actor=INSPECTOR,
        scope="130306",
        ledger_date=on,
        data=data,
        name=name,
    )


def kinds(result: reconcile.Reconciliation) -> list[tuple[str, str, str, str]]:
    return sorted((f.kind, str(f.file_id), f.field, f.paper) for f in result.findings)


class TestAnExportedLedgerReconciled:
    async def test_reports_exactly_the_cells_and_rows_changed_on_paper(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        made = [approved_file() for _ in range(6)]
        await files.save(*made)
        book = load_workbook(io.BytesIO(await export_ledger(store)))
        sheet = book.active
        assert sheet is not None
        header = [c.value for c in sheet[1]]
        col = {h: i + 1 for i, h in enumerate(header)}
        by_masked = {sheet.cell(r, col["身份证号码"]).value: r for r in range(2, sheet.max_row + 1)}
        row_of = {
            f.id: by_masked[f.head.id_number[:6] + "********" + f.head.id_number[-4:]] for f in made
        }
        a, b, c, d = made[:4]
        sheet.cell(row_of[a.id], col["家庭地址"]).value = "抚宁区新地址9号"
        sheet.cell(row_of[b.id], col["状态"]).value = "已脱困"
        duplicate = [cell.value for cell in sheet[row_of[d.id]]]
        newcomer = make_id_number("130306", date(1970, 1, 1), 999).value
        sheet.delete_rows(row_of[c.id])
        sheet.append(duplicate)
        sheet.append([99, "李四", "男", newcomer, "", "", "", "2026-01-01"])
        out = io.BytesIO()
        book.save(out)

        result = await run(store, out.getvalue(), on=today())

        assert kinds(result) == sorted(
            [
                ("field_mismatch", str(a.id), "家庭地址", "抚宁区新地址9号"),
                ("status_mismatch", str(b.id), "状态", "已脱困"),
                ("electronic_only", str(c.id), "户主姓名", ""),
                ("duplicate", str(d.id), "身份证号码", duplicate[col["身份证号码"] - 1]),
                ("paper_only", "None", "户主姓名", "李四"),
            ]
        )
        assert result.summary is not None
        assert result.summary.matched == 5

    async def test_records_the_run_and_each_finding_referring_to_its_file(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        household = approved_file()
        await files.save(household)
        ledger = await export_ledger(store)
        book = load_workbook(io.BytesIO(ledger))
        sheet = book.active
        assert sheet is not None
        sheet.cell(2, 7).value = "别处"
        out = io.BytesIO()
        book.save(out)

        result = await run(store, out.getvalue(), on=today())

        referring = await store.read_referring(household.id)
        assert [e.type for e in referring] == ["reconciliation.finding_recorded"]
        loaded = await reconcile.load_reconciliation(
            store, EventCodec(keyring=store.keyring), result.id
        )
        assert loaded.findings == result.findings


class TestALedgerDatedLastMonth:
    async def _file_approved_this_month(self, files: PgFileRepository) -> HouseholdFile:
        household = HouseholdFile.receive_application(actor=CLERK, today=TODAY, **application())
        household.verify(actor=CLERK, today=TODAY, **verification())
        household.appraise(actor=CLERK, today=TODAY, **APPRAISAL)
        backdate(household, 40)
        await files.save(household)
        household.approve(actor=APPROVER, today=TODAY, **APPROVAL)
        await files.save(household)
        return household

    def _paper(self, household: HouseholdFile) -> bytes:
        text = (
            "户主姓名,身份证号码,状态\n"
            f"{household.head.name},{household.head.id_number},已评议公示\n"
        )
        return text.encode("gb18030")

    async def test_is_compared_with_last_months_state(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        household = await self._file_approved_this_month(files)

        result = await run(
            store, self._paper(household), on=today() - timedelta(days=30), name="l.csv"
        )

        assert kinds(result) == []

    async def test_would_show_the_status_change_on_todays_date(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        household = await self._file_approved_this_month(files)

        result = await run(store, self._paper(household), on=today(), name="l.csv")

        assert [(f.kind, f.paper, f.electronic) for f in result.findings] == [
            ("status_mismatch", "已评议公示", "在档")
        ]


class TestACivilAffairsList:
    async def test_records_matches_and_names_what_a_clerk_must_act_on(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        household = approved_file()
        await files.save(household)
        await runner(store).catch_up()
        member = household.members[0].id_number
        stranger = make_id_number("130306", date(1960, 2, 2), 777).value
        text = (
            "民政比对名单\n\n身份证号码,比对类型,日期\n"
            f"{household.head.id_number},车辆,2026-05-01\n"
            f"{household.head.id_number},死亡,2026-06-01\n"
            f"{member},低保,2026-06-01\n"
            f"{stranger},房产,2026-06-01\n"
            "12345,车辆,2026-06-01\n"
        )

        run_, errors = await civil_affairs.run_matching(
            store=store,
            codec=EventCodec(keyring=store.keyring),
            hasher=hasher,
            actor=APPROVER,
            scope="130306",
            data=text.encode("gb18030"),
            name="list.csv",
        )

        assert sorted((m.row, m.assessment.rule, m.assessment.severity) for m in run_.matches) == [
            (4, "vehicle_not_declared", "act"),
            (5, "death_on_open_file", "act"),
            (6, "dibao_recipient", "info"),
        ]
        assert [(e.row, e.column) for e in errors] == [(8, "身份证号码")]
        trail = await store.read_referring(household.id)
        assert [e.type for e in trail] == ["civil_affairs.matched"] * 3


# ------------------------------------------------------------------------------ import


IMPORT_HEADERS = [
    "户主姓名", "身份证号码", "联系电话", "工作单位", "家庭地址", "申请时间", "入户调查时间",
    "调查人", "家庭年收入", "刚性支出", "致困原因", "评议时间", "公示开始", "公示结束",
    "审批时间", "档案级别",
]  # fmt: skip
BAD_KINDS = ("check", "name", "future", "one_investigator", "date")


def import_rows(
    n: int, bad_share: float, seed: int = 6
) -> tuple[list[list[object]], dict[int, str]]:
    """`n` rows, about `bad_share` of them bad in one of five ways; the bad rows by sheet row."""
    rng = random.Random(seed)
    rows: list[list[object]] = []
    bad: dict[int, str] = {}
    for i in range(n):
        # a distinct person per row
        number = make_id_number(
            "130306", date(1960 + (i // 1000) % 40, 1 + (i // 83) % 12, 1 + i % 28), i % 997
        )
        row: list[object] = [
            f"王{i}", number.value, "13912345678", "抚宁区机械厂", "骊城大街1号",
            "2023-03-02", "2023-03-09", "赵一、钱二", "9600", "1200", "因病",
            "2023-03-12", "2023-03-13", "2023-03-20", "2023-03-25", "区县级",
        ]  # fmt: skip
        if rng.random() < bad_share:
            kind = BAD_KINDS[i % len(BAD_KINDS)]
            if kind == "check":
                row[1] = number.value[:17] + ("0" if number.value[17] != "0" else "1")
            elif kind == "name":
                row[0] = ""
            elif kind == "future":
                row[14] = "2099-01-01"
            elif kind == "one_investigator":
                row[7] = "赵一"
            else:
                row[5] = "去年春天"
            bad[i + 4] = kind  # two title lines and the header above the first row
        rows.append(row)
    return rows, bad


def import_sheet(rows: list[list[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("档案")
    sheet.append(["抚宁区困难职工档案（导入）"])
    sheet.append(["填报单位：130306001"])
    sheet.append(IMPORT_HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def seed_policy(store: PostgresEventStore) -> None:
    await PgPolicies(store, EventCodec(keyring=store.keyring)).set_parameters(
        actor=Actor("admin", "13", Role.ADMIN),
        region="130300",
        parameters=Parameters(date(2015, 1, 1), Decimal("550")),
        reason="test",
    )


async def do_import(store: PostgresEventStore, data: bytes) -> importer.ImportReport:
    return await importer.import_files(
        files=PgFileRepository(store, EventCodec(keyring=store.keyring)),
        codec=EventCodec(keyring=store.keyring),
        book=await PgPolicies(store, EventCodec(keyring=store.keyring)).book(),
        actor=APPROVER,
        unit=BASE,
        data=data,
        name="files.xlsx",
        today=TODAY,
    )


class TestAnImport:
    async def test_creates_files_with_their_history_and_refuses_bad_rows(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        await seed_policy(store)
        rows, bad = import_rows(40, 0.2)

        report = await do_import(store, import_sheet(rows))

        assert {e.row for e in report.refused} == set(bad)
        assert report.created == 40 - len(bad)
        good = next(i for i in range(40) if i + 4 not in bad)
        household = await files.get(importer.file_id_for(BASE, str(rows[good][1])))
        assert household.status == "approved"
        assert (household.applied_on, household.approved_on) == (
            date(2023, 3, 2),
            date(2023, 3, 25),
        )
        assert household.version == 4

    @pytest.mark.slow
    async def test_of_ten_thousand_rows_reports_the_bad_imports_the_good_and_runs_once(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        await seed_policy(store)
        rows, bad = import_rows(10_000, 0.03)
        data = import_sheet(rows)

        report = await do_import(store, data)
        again = await do_import(store, data)

        columns = {
            "check": "身份证号码",
            "name": "户主姓名",
            "future": "审批时间",
            "one_investigator": "调查人",
            "date": "申请时间",
        }
        assert sorted((e.row, e.column) for e in report.refused) == sorted(
            (row, columns[kind]) for row, kind in bad.items()
        )
        assert all(e.reason for e in report.refused)
        assert report.created == 10_000 - len(bad)
        assert report.events == 4 * report.created
        versions = dict(
            await store.pool.fetch(
                "SELECT stream_id, max(version) FROM events WHERE type LIKE 'household.%'"
                " GROUP BY stream_id"
            )
        )
        assert len(versions) == report.created
        assert set(versions.values()) == {4}
        assert (again.created, again.skipped, len(again.refused)) == (0, report.created, len(bad))
