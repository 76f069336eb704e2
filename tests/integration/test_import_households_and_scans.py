"""Import sheets that record what the forms say (issues 13 and 17), on a real PostgreSQL: members'
own incomes, a household over several rows (more than one assistance and visit), and the scans a
sheet names in a folder or zip beside it — each household whole or not at all, its scans with it."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from openpyxl import Workbook

from adapters.pg.attachments import PgContentStore
from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.services import attachments, importer
from adapters.services.scans import scan
from adapters.sheets.scans import FolderScans, ScanError, ScanSource, ZipScans
from domain.attachments import AttachmentLimits
from domain.rules import Context, check, history_of
from domain.values import Material
from tests.builders import APPROVER, BASE, TODAY
from tests.integration.test_import_files import FORM_HEADERS, form_row, person
from tests.integration.test_paper_against_electronic import seed_policy

EXTRA = ["户主年收入", "附件"]
HEADERS = [*FORM_HEADERS, *EXTRA]
JPEG = scan(1, "image/jpeg")
PDF = scan(2, "application/pdf")


def full_row(seq: int, **cells: object) -> list[object]:
    """A household's row with every column of the forms filled (`form_row`), and the extras."""
    return [*form_row(seq, **cells), *(cells.get(h, "") for h in EXTRA)]


def more_row(seq: int, **cells: object) -> list[object]:
    """A further row of the same household: its ID number and what the row adds."""
    values: dict[str, object] = {"身份证号码": person(seq), **cells}
    return [values.get(h, "") for h in HEADERS]


def sheet(rows: list[list[object]]) -> bytes:
    book = Workbook()
    page = book.active
    assert page is not None
    page.append(["抚宁区总工会困难职工档案台账"])
    page.append(HEADERS)
    for row in rows:
        page.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def run(
    store: PostgresEventStore,
    data: bytes,
    source: ScanSource | None = None,
    limits: AttachmentLimits = AttachmentLimits(),  # noqa: B008 — frozen
) -> importer.ImportReport:
    codec = EventCodec(keyring=store.keyring)
    files = PgFileRepository(store, codec)
    return await importer.import_files(
        files=files,
        codec=codec,
        book=await PgPolicies(store, codec).book(),
        actor=APPROVER,
        unit=BASE,
        data=data,
        name="台账.xlsx",
        today=TODAY,
        scans=importer.Scans(
            repository=files,
            contents=PgContentStore(store.pool, store.keyring),
            source=source,
            limits=limits,
        ),
    )


async def nothing_stored_for(store: PostgresEventStore, seq: int) -> bool:
    """No event and no attachment content for the household of `seq`."""
    file_id = importer.file_id_for(BASE, person(seq))
    events = await store.pool.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", file_id)
    content = await store.pool.fetchval(
        "SELECT count(*) FROM attachments WHERE stream_id = $1", file_id
    )
    return events == 0 and content == 0


async def findings(store: PostgresEventStore, seq: int) -> set[str]:
    """The rules a spot-check's replay finds broken on the household's file."""
    codec = EventCodec(keyring=store.keyring)
    stored = await store.read_stream(importer.file_id_for(BASE, person(seq)))
    events = [
        codec.decode(
            e.type, e.payload, stream_id=e.stream_id, version=e.version, recorded_at=e.recorded_at
        )
        for e in stored
    ]
    context = Context(policies=await PgPolicies(store, codec).book(), as_of=TODAY)
    return {f.rule for f in check(history_of(cast(Any, events)), context)}


# ------------------------------------------------------------------------------ issue 13 (a)


class TestMembersOwnIncomes:
    async def test_are_read_from_the_fifth_part_and_the_total_split_between_head_and_members(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        await seed_policy(store)
        members = f"王某/妻/{person(102)}/在岗/4800；刘小明/儿子/{person(103)}/在校"  # 12000 in all
        data = sheet([full_row(101, 家庭成员=members)])

        report = await run(store, data)

        assert (report.created, report.refused) == (1, [])
        household = await files.get(importer.file_id_for(BASE, person(101)))
        assert [m.annual_income for m in household.members] == [Decimal("4800.00"), Decimal(0)]
        assert household.means is not None
        assert household.means.annual_income == Decimal("12000.00")
        assert household.means.head_income == Decimal("7200.00")
        assert household.means.members_income == Decimal("4800.00")

    async def test_take_the_heads_own_income_from_its_column_and_check_the_total(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        await seed_policy(store)
        members = f"王某/配偶/{person(102)}/在岗/0.6万"  # 3000 + 6000: 325 a month, below 550
        data = sheet(
            [
                full_row(101, 家庭成员=members, 户主年收入=3000, **{"家庭年收入（元）": ""}),
                full_row(201, 家庭成员=f"王某/配偶/{person(202)}/在岗/0.6万", 户主年收入=3000),
            ]
        )

        report = await run(store, data)

        assert report.created == 1
        household = await files.get(importer.file_id_for(BASE, person(101)))
        assert household.means is not None
        assert household.means.annual_income == Decimal("9000.00")
        ((error),) = report.refused
        assert (error.row, error.column) == (4, "家庭年收入")
        assert error.reason == "12000.00元不等于户主年收入3000.00元与家庭成员年收入6000.00元之和"
        assert await nothing_stored_for(store, 201)


# ------------------------------------------------------------------------------ issue 13 (b)

FIRST = {
    "帮扶时间": "2023-04-10",
    "分类帮扶措施": "医疗救助",
    "分类型帮扶部门": "县医保局",
    "帮扶金额（元）": "1,500元",
    "走访时间": "2023-05-06",
    "结对帮扶干部姓名": "周五",
    "走访内容": "了解治疗情况",
}
SECOND_ASSISTANCE = {
    "帮扶时间": "2023-09-01",
    "分类帮扶措施": "金秋助学",
    "分类型帮扶部门": "教育局",
    "帮扶金额（元）": 2000,
}
SECOND_VISIT = {"走访时间": "2023-08-06", "结对帮扶干部姓名": "周五", "走访内容": "复工"}


class TestAHouseholdOverSeveralRows:
    async def test_records_every_rows_assistance_and_visit_on_one_file(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        await seed_policy(store)
        data = sheet(
            [
                full_row(101, **FIRST),
                full_row(201),
                more_row(101, **SECOND_ASSISTANCE),
                full_row(101, **SECOND_VISIT),  # the household's cells repeated unchanged
            ]
        )

        report = await run(store, data)

        assert (report.created, report.refused) == (2, [])
        household = await files.get(importer.file_id_for(BASE, person(101)))
        assert household.assistance_count == 2
        assert household.assistance_total == Decimal("3500.00")
        assert household.last_visited_on.isoformat() == "2023-08-06"
        kinds = [e.type for e in await store.read_stream(household.id)]
        assert kinds.count("household.assisted") == 2
        assert kinds.count("household.visited") == 2

    async def test_with_a_wrong_row_is_refused_at_that_row_and_column_and_nothing_is_stored(
        self, store: PostgresEventStore
    ) -> None:
        await seed_policy(store)
        data = sheet(
            [
                full_row(101, **FIRST),
                full_row(201),
                more_row(101, **(SECOND_ASSISTANCE | {"分类帮扶措施": "发红包"})),
            ]
        )

        report = await run(store, data)

        assert report.created == 1
        ((error),) = report.refused
        assert (error.row, error.column) == (5, "分类帮扶措施")
        assert error.reason.startswith("无法识别：发红包（可填：")
        assert "医疗救助" in error.reason
        assert await nothing_stored_for(store, 101)

    async def test_whose_rows_disagree_on_the_household_is_refused_at_the_later_row(
        self, store: PostgresEventStore
    ) -> None:
        await seed_policy(store)
        data = sheet([full_row(101, **FIRST), full_row(101, 建档时间="2023-03-05", **SECOND_VISIT)])

        report = await run(store, data)

        ((error),) = report.refused
        assert (error.row, error.column) == (4, "申请时间")  # named as the form heads it
        assert "与同一户第3行的“2023-03-02”不一致：2023-03-05" in error.reason
        assert await nothing_stored_for(store, 101)

    async def test_that_repeats_a_row_adding_nothing_is_refused_as_a_duplicate(
        self, store: PostgresEventStore
    ) -> None:
        await seed_policy(store)
        data = sheet([full_row(101), full_row(101)])

        report = await run(store, data)

        ((error),) = report.refused
        assert (error.row, error.column) == (4, "身份证号码")
        assert error.reason.startswith("与第3行重复")

    async def test_exiting_before_a_later_rows_visit_is_refused_at_the_exit(
        self, store: PostgresEventStore
    ) -> None:
        await seed_policy(store)
        leaves = {
            "退出类别": "注销",
            "退出时间": "2023-07-01",
            "退出原因": "去世",
            "退出证明材料": "死亡证明",
        }
        data = sheet([full_row(101, **FIRST, **leaves), more_row(101, **SECOND_VISIT)])

        report = await run(store, data)

        ((error),) = report.refused
        assert (error.row, error.column) == (3, "退出时间")
        assert "早于第4行的帮扶或走访时间" in error.reason
        assert await nothing_stored_for(store, 101)


# ------------------------------------------------------------------------------ issue 17

# 授权书 by path, the evidence of 疾病 and 残疾 (the rows' causes) by a name found once
SCANNED = "授权书:扫描件/刘101授权书.jpg；诊断证明：刘101诊断.pdf；残疾证:刘101残疾证.png"


def folder(tmp_path: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        path = tmp_path / "scans" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return tmp_path / "scans"


def zipped(files: dict[str, bytes]) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    out.seek(0)
    return out


GOOD = {
    "扫描件/刘101授权书.jpg": JPEG,
    "其他/刘101诊断.pdf": PDF,
    "其他/刘101残疾证.png": scan(3),
}


class TestScansNamedByTheSheet:
    async def test_from_a_folder_are_stored_with_the_file_and_count_as_its_evidence(
        self, store: PostgresEventStore, files: PgFileRepository, tmp_path: Path
    ) -> None:
        await seed_policy(store)
        data = sheet([full_row(101, 附件=SCANNED), full_row(201)])

        report = await run(store, data, FolderScans(folder(tmp_path, GOOD)))

        assert (report.created, report.scans, report.refused) == (2, 3, [])
        household = await files.get(importer.file_id_for(BASE, person(101)))
        assert household.scanned() == {
            Material.AUTHORISATION,
            Material.DIAGNOSIS,
            Material.DISABILITY_CERTIFICATE,
        }
        assert {a.name for a in household.attachments} == {
            "刘101授权书.jpg",
            "刘101诊断.pdf",
            "刘101残疾证.png",
        }
        contents = PgContentStore(store.pool, store.keyring)
        assert {c.state for c in await attachments.check_file(contents, household)} == {"ok"}
        assert not {"R04", "R04s", "R15", "R15s"} & await findings(store, 101)
        # the same household without its scans: judged by its ticks, as before attachments
        assert {"R04s", "R15"} <= await findings(store, 201)

    async def test_from_a_zip_are_found_by_path_or_by_a_name_found_once(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        await seed_policy(store)
        archive = zipped({f"材料/{k}": v for k, v in GOOD.items()})

        report = await run(store, sheet([full_row(101, 附件=SCANNED)]), ZipScans(archive))

        assert (report.created, report.scans, report.refused) == (1, 3, [])
        again = await run(store, sheet([full_row(101, 附件=SCANNED)]), ZipScans(archive))
        assert (again.created, again.skipped, again.scans) == (0, 1, 0)
        household = await files.get(importer.file_id_for(BASE, person(101)))
        assert len(household.attachments) == 3
        stored = await store.pool.fetchval(
            "SELECT count(*) FROM attachments WHERE stream_id = $1", household.id
        )
        assert stored == 3

    async def test_from_a_windows_zip_are_found_by_their_chinese_names(
        self, store: PostgresEventStore
    ) -> None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            z.writestr("XXXXXX.jpg", JPEG)
        # as Windows' own zip writes it: the name in GBK (as long), without the UTF-8 flag
        out = io.BytesIO(out.getvalue().replace(b"XXXXXX.jpg", "授权书.jpg".encode("gbk")))
        await seed_policy(store)

        report = await run(store, sheet([full_row(101, 附件="授权书:授权书.jpg")]), ZipScans(out))

        assert (report.created, report.scans, report.refused) == (1, 1, [])

    @pytest.mark.parametrize(
        ("named", "scans", "reason"),
        [
            ("授权书:没有.jpg", GOOD, "附件文件夹或压缩包中没有“没有.jpg”"),
            (
                "授权书:假的.jpg",
                {"假的.jpg": b"GIF89a not a scan at all"},
                "不是JPEG、PNG图片或PDF文件",
            ),
            ("授权书:坏的.jpg", {"坏的.jpg": JPEG[:40]}, "不是可读取的图片"),
            ("授权书:大的.jpg", {"大的.jpg": JPEG + bytes(4000)}, "超过单个附件"),
            ("授权书:../刘101授权书.jpg", GOOD, "路径不能跳出附件文件夹或压缩包"),
            ("授权书:/etc/passwd", GOOD, "路径不能跳出附件文件夹或压缩包"),
            ("授权书", GOOD, "应为 材料:文件名：授权书"),
            ("照片:刘101授权书.jpg", GOOD, "无法识别：照片（可填：困难职工申报表、"),
        ],
    )
    async def test_that_cannot_be_taken_refuse_the_household_at_the_row_naming_them(
        self, store: PostgresEventStore, named: str, scans: dict[str, bytes], reason: str
    ) -> None:
        await seed_policy(store)
        # the household's first scan is good: a bad second one leaves nothing of either stored
        data = sheet(
            [
                full_row(101, 附件="身份证:扫描件/刘101授权书.jpg", **FIRST),
                more_row(101, 附件=named),
            ]
        )
        limits = AttachmentLimits(per_file=len(JPEG) + 1000, per_household=10 * len(JPEG))

        report = await run(store, data, ZipScans(zipped({**GOOD, **scans})), limits)

        ((error),) = report.refused
        assert (error.row, error.column) == (4, "附件")
        assert reason in error.reason
        assert report.created == 0
        assert await nothing_stored_for(store, 101)

    async def test_over_the_households_limit_refuse_it(self, store: PostgresEventStore) -> None:
        await seed_policy(store)
        data = sheet([full_row(101, 附件="授权书:a.jpg；身份证:b.jpg；户口簿:c.jpg")])
        limits = AttachmentLimits(per_file=len(JPEG), per_household=2 * len(JPEG))
        archive = zipped({"a.jpg": JPEG, "b.jpg": JPEG, "c.jpg": JPEG})

        report = await run(store, data, ZipScans(archive), limits)

        ((error),) = report.refused
        assert (error.row, error.column) == (3, "附件")
        assert "本户附件合计超过" in error.reason
        assert await nothing_stored_for(store, 101)

    async def test_in_a_zip_bomb_are_refused_without_being_read(
        self, store: PostgresEventStore
    ) -> None:
        await seed_policy(store)
        bomb = zipped({"炸弹.jpg": JPEG[:16] + bytes(64 * 1024 * 1024)})  # 64 MB of zeros
        assert len(bomb.getvalue()) < 200 * 1024

        report = await run(store, sheet([full_row(101, 附件="授权书:炸弹.jpg")]), ZipScans(bomb))

        ((error),) = report.refused
        assert (error.row, error.column) == (3, "附件")
        assert "超过单个附件20MB的上限" in error.reason
        assert await nothing_stored_for(store, 101)

    def test_in_a_zip_whose_header_lies_about_the_size_are_read_no_further_than_the_limit(
        self,
    ) -> None:
        liar = ZipScans(zipped({"炸弹.jpg": JPEG[:16] + bytes(64 * 1024 * 1024)}))
        liar.zip.getinfo("炸弹.jpg").file_size = 1000  # says 1000 bytes, holds 64 MB

        with pytest.raises(ScanError) as refused:
            liar.read("炸弹.jpg", 20 * 1024 * 1024)

        assert "无法从压缩包中读取" in str(refused.value)  # stopped at 1000 bytes: a bad CRC
        liar.zip.getinfo("炸弹.jpg").file_size = 30 * 1024 * 1024  # says 30 MB, holds 64 MB
        with pytest.raises(ScanError) as refused:
            liar.read("炸弹.jpg", 20 * 1024 * 1024)
        assert "超过单个附件20MB的上限" in str(refused.value)

    async def test_without_the_folder_or_zip_refuse_the_households_naming_them(
        self, store: PostgresEventStore
    ) -> None:
        await seed_policy(store)
        data = sheet([full_row(101, 附件=SCANNED), full_row(201)])

        report = await run(store, data)

        assert report.created == 1
        ((error),) = report.refused
        assert (error.row, error.column) == (3, "附件")
        assert "须一并提供附件文件夹或压缩包" in error.reason
        assert await nothing_stored_for(store, 101)

    async def test_out_of_a_folder_through_a_link_are_never_read(
        self, store: PostgresEventStore, tmp_path: Path
    ) -> None:
        await seed_policy(store)
        secret = tmp_path / "secret.jpg"
        secret.write_bytes(JPEG)
        scans = folder(tmp_path, {"a.jpg": JPEG})
        (scans / "link.jpg").symlink_to(secret)

        report = await run(
            store, sheet([full_row(101, 附件="授权书:link.jpg")]), FolderScans(scans)
        )

        ((error),) = report.refused
        assert "路径不能跳出附件文件夹" in error.reason
        assert await nothing_stored_for(store, 101)

    async def test_on_a_file_that_has_left_are_attached_before_its_exit_and_break_no_rule(
        self, store: PostgresEventStore, files: PgFileRepository, tmp_path: Path
    ) -> None:
        await seed_policy(store)
        out = {
            "退出类别": "脱困",
            "退出时间": "2024-06-30",
            "退出证明材料": "工资收入证明",
            "连续高于标准月数": 6,
        }
        data = sheet([full_row(101, 附件=SCANNED, **FIRST, **out), full_row(201, **FIRST, **out)])

        report = await run(store, data, FolderScans(folder(tmp_path, GOOD)))

        assert (report.created, report.scans, report.refused) == (2, 3, [])
        household = await files.get(importer.file_id_for(BASE, person(101)))
        assert (household.status, len(household.attachments)) == ("out_of_hardship", 3)
        kinds = [e.type for e in await store.read_stream(household.id)]
        assert kinds.index("household.attachment_added") < kinds.index("household.exited")
        scanned, unscanned = await findings(store, 101), await findings(store, 201)
        assert scanned == unscanned - {"R04s", "R15"}
