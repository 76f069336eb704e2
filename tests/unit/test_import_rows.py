"""One spreadsheet row to one file (`adapters.services.importer.build_file`, pure): what the sheet
shows is recorded, what it does not show is unknown, and the labels clerks write are read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from adapters.services import importer
from adapters.sheets import reading as sheets
from domain.errors import DomainError
from domain.household import HouseholdFile
from domain.idnumber import make_id_number
from domain.policy import Parameters, PolicyBook, RegionalPolicy
from domain.values import (
    Actor,
    AssistanceKind,
    Category,
    CategoryScheme,
    Department,
    Education,
    ExitKind,
    ExitReason,
    FileLevel,
    Material,
    MemberStatus,
    ModelWorker,
    PoliticalStatus,
    Relation,
    Role,
    Status,
)

from .given import APPROVER, BASE, TODAY

HEAD = make_id_number("130306", date(1975, 4, 4), 11).value
SPOUSE = make_id_number("130306", date(1980, 2, 3), 2).value  # 130306198002030028
CHILD = make_id_number("130306", date(2008, 9, 1), 35).value


def book() -> PolicyBook:
    admin = Actor("admin", "13", Role.ADMIN)
    policy = RegionalPolicy.open(actor=admin, region="130300")
    policy.set(actor=admin, parameters=Parameters(date(2015, 1, 1), Decimal("550")), reason="t")
    return PolicyBook({"130300": policy})


def row(**overrides: str) -> dict[str, str]:
    """A row through approval: 2 people, 9600 a year, 1200 rigid → 350 a month: 深度困难 at 550."""
    cells = {
        "head_name": "张一",
        "id_number": HEAD,
        "applied_on": "2023-03-02",
        "verified_on": "2023-03-09",
        "investigators": "赵一、钱二",
        "members": f"王某/配偶/{SPOUSE}/无业",
        "annual_income": "9600",
        "rigid_expenses": "1200",
        "causes": "疾病",
        "appraised_on": "2023-03-12",
        "publicity_start": "2023-03-13",
        "publicity_end": "2023-03-20",
        "approved_on": "2023-03-25",
    }
    return cells | overrides


def build(cells: dict[str, str]) -> HouseholdFile:
    return importer.build_file(cells, base=BASE, importer=APPROVER, book=book(), today=TODAY)


def event(file: HouseholdFile, kind: type[Any]) -> Any:
    (found,) = [e for e in file.pending_events if isinstance(e, kind)]
    return found


def refused(cells: dict[str, str]) -> sheets.RowError:
    try:
        build(cells)
    except (sheets.CellError, DomainError) as error:
        return importer.refusal(7, error)
    raise AssertionError("the row was imported")


class TestARowsMembers:
    def test_written_with_chinese_labels_are_imported(self) -> None:
        file = build(row())

        (spouse,) = event(file, HouseholdFile.Verified).members
        assert (spouse.relation, spouse.status, spouse.id_number) == (
            Relation.SPOUSE,
            MemberStatus.UNEMPLOYED,
            "130306198002030028",
        )

    def test_written_with_the_synonyms_clerks_use_are_imported(self) -> None:
        file = build(row(members=f"王某/妻/{SPOUSE}/失业；张小明/儿子/{CHILD}/在校"))

        members = event(file, HouseholdFile.Verified).members
        assert [(m.relation, m.status) for m in members] == [
            (Relation.SPOUSE, MemberStatus.UNEMPLOYED),
            (Relation.CHILD, MemberStatus.STUDENT),
        ]

    def test_with_a_wrong_relation_report_row_column_and_the_labels_accepted(self) -> None:
        error = refused(row(members=f"王某/邻居/{SPOUSE}/无业"))

        assert (error.row, error.column) == (7, "家庭成员")
        assert error.reason == "无法识别：邻居（可填：配偶、子女、父母、兄弟姐妹、孙子女、其他）"


class TestMembersIncomes:
    def test_are_the_optional_fifth_part_and_the_head_earns_the_rest_of_the_total(self) -> None:
        file = build(row(members=f"王某/配偶/{SPOUSE}/在岗/3,600元", annual_income="9600"))

        verified = event(file, HouseholdFile.Verified)
        assert [m.annual_income for m in verified.members] == [Decimal("3600.00")]
        assert (verified.means.head_income, verified.means.annual_income) == (
            Decimal("6000.00"),
            Decimal("9600.00"),
        )

    def test_without_a_fifth_part_leave_the_total_to_the_head_as_before(self) -> None:
        file = build(row())

        verified = event(file, HouseholdFile.Verified)
        assert verified.means.head_income == Decimal("9600.00")

    def test_above_the_total_are_refused_under_the_total(self) -> None:
        error = refused(row(members=f"王某/配偶/{SPOUSE}/在岗/1万", annual_income="9600"))

        assert (error.column, error.reason) == (
            "家庭年收入",
            "9600.00元少于家庭成员年收入之和10000.00元",
        )

    def test_that_cannot_be_read_are_refused_under_the_members(self) -> None:
        error = refused(row(members=f"王某/配偶/{SPOUSE}/在岗/很多"))

        assert (error.column, error.reason) == ("家庭成员", "不是有效金额：很多")

    def test_with_the_heads_own_column_need_no_total(self) -> None:
        cells = row(members=f"王某/配偶/{SPOUSE}/在岗/3600", head_income="6000")
        del cells["annual_income"]

        verified = event(build(cells), HouseholdFile.Verified)

        assert verified.means.annual_income == Decimal("9600.00")


class TestRowsOfOneHousehold:
    def test_are_grouped_by_union_and_id_number_however_it_is_written(self) -> None:
        rows = [
            (3, {"id_number": HEAD}),
            (4, {"id_number": SPOUSE}),
            (5, {"id_number": HEAD.lower().replace("x", "X")}),
            (6, {"id_number": HEAD, "unit": "130306002"}),
            (7, {"id_number": "not a number"}),
        ]

        groups = importer.grouped(rows, BASE)

        assert [[r for r, _ in g] for g in groups] == [[3, 5], [4], [6], [7]]

    def test_adding_assistance_to_a_file_not_approved_are_refused_not_dropped(self) -> None:
        first = row()
        del first["approved_on"]
        assisted = {
            "assisted_on": "2023-04-10",
            "assistance_kind": "医疗救助",
            "department": "医保局",
            "amount": "500",
        }
        group = ((3, first), (4, {"id_number": HEAD, **assisted}))

        with pytest.raises(importer.AtRow) as refused:
            importer.build_group(group, base=BASE, importer=APPROVER, book=book(), today=TODAY)

        assert refused.value.row == 4
        assert importer.refusal(4, refused.value.error).column == "帮扶时间"

    def test_name_their_scans_by_material_labels_and_synonyms(self) -> None:
        group = (
            (3, {"attachments": "授权书（声明书）:a.jpg；诊断证明：b.pdf"}),
            (4, {"attachments": "户口本:c.png; 授权书:a.jpg"}),
        )

        named = importer.named_scans(group)

        assert named == [
            (3, Material.AUTHORISATION, "a.jpg"),
            (3, Material.DIAGNOSIS, "b.pdf"),
            (4, Material.HUKOU_COPY, "c.png"),
        ]


class TestARowWithoutDocumentColumns:
    def test_records_the_authorisation_the_minutes_and_the_file_level_as_unknown(self) -> None:
        file = build(row())

        assert event(file, HouseholdFile.Applied).authorisation_signed is None
        assert event(file, HouseholdFile.Appraised).minutes_on_file is None
        assert event(file, HouseholdFile.Approved).file_level is None


class TestARowWithDocumentColumns:
    def test_records_what_they_say(self) -> None:
        file = build(row(authorisation="是", minutes="√", file_level="县级"))

        assert event(file, HouseholdFile.Applied).authorisation_signed is True
        assert event(file, HouseholdFile.Appraised).minutes_on_file is True
        assert event(file, HouseholdFile.Approved).file_level is FileLevel.DISTRICT

    @pytest.mark.parametrize(
        ("column", "header"), [("authorisation", "授权书(声明书)"), ("minutes", "民主评议会议记录")]
    )
    def test_saying_no_is_refused_under_that_column(self, column: str, header: str) -> None:
        error = refused(row(**{column: "否"}))

        assert error.column == header


class TestARowsCategory:
    def test_that_the_means_give_is_recorded(self) -> None:
        file = build(row(category="深度"))

        assert event(file, HouseholdFile.Approved).category is Category.DEEP

    def test_of_the_2016_scheme_opens_the_file_under_that_scheme(self) -> None:
        file = build(row(category="低保户"))

        assert (file.scheme, file.category) == (CategoryScheme.V2016, Category.DIBAO)

    def test_that_the_means_do_not_give_is_refused_naming_both(self) -> None:
        error = refused(row(category="相对困难"))

        assert error.column == "困难类别"
        assert error.reason == "表中为相对困难，按家庭收入和当时的低保标准应为深度困难"


LATER = {
    "assisted_on": "2023-04-10",
    "assistance_kind": "医疗保障",
    "department": "县医保局",
    "amount": "1,200元",
    "helper": "孙三",
    "visited_on": "2023-05-06",
    "cadre": "周五",
    "visit_content": "了解治疗情况",
    "quarter_income": "2400",
}


class TestARowsAssistanceVisitAndExit:
    def test_are_recorded_in_that_order(self) -> None:
        cells = row(
            **LATER,
            exit_kind="注销",
            exited_on="2023-06-30",
            exit_reason="去世",
            exit_evidence="死亡证明",
        )

        file = build(cells)

        names = [type(e).__name__ for e in file.collect_events()][-3:]
        assert names == ["Assisted", "Visited", "Exited"]
        assert file.status is Status.CANCELLED
        assert (file.assistance_count, file.assistance_total) == (1, Decimal("1200.00"))

    def test_assistance_names_its_kind_and_department(self) -> None:
        assisted = event(build(row(**LATER)), HouseholdFile.Assisted)

        assert (assisted.kind, assisted.department) == (
            AssistanceKind.MEDICAL_AID,
            Department.MEDICAL_INSURANCE,
        )

    def test_an_exit_out_of_hardship_takes_its_only_reason_and_the_months(self) -> None:
        cells = row(
            exit_kind="脱困",
            exited_on="2024-06-30",
            exit_evidence="收入证明、工资流水",
            months_above_line="6",
        )

        exited = event(build(cells), HouseholdFile.Exited)

        assert (exited.kind, exited.reason, exited.evidence, exited.months_above_line) == (
            ExitKind.OUT_OF_HARDSHIP,
            ExitReason.INCOME_ABOVE_LINE,
            ("收入证明", "工资流水"),
            6,
        )

    def test_an_exit_without_evidence_is_refused_under_its_column(self) -> None:
        error = refused(row(exit_kind="注销", exited_on="2023-06-30", exit_reason="死亡"))

        assert error.column == "退出证明材料"

    def test_an_exit_dated_before_the_rows_assistance_is_refused(self) -> None:
        cells = row(**LATER, exit_kind="注销", exited_on="2023-04-01", exit_reason="死亡")

        error = refused(cells | {"exit_evidence": "死亡证明"})

        assert error.column == "退出时间"

    def test_a_wrong_assistance_kind_lists_the_kinds_accepted(self) -> None:
        error = refused(row(**(LATER | {"assistance_kind": "送礼"})))

        assert error.column == "分类帮扶措施"
        assert "就业创业" in error.reason


class TestARowWithTheHeadsProfile:
    def test_records_it_read_from_the_labels_clerks_write(self) -> None:
        file = build(
            row(
                political_status="中共党员",
                education="初中",
                model_worker="地市级劳动模范",
                dilapidated="是",
                wishes="稳定就业",
                hukou_place="青龙县",
            )
        )

        head = event(file, HouseholdFile.Applied).head
        assert (head.political_status, head.education, head.model_worker) == (
            PoliticalStatus.PARTY_MEMBER,
            Education.JUNIOR,
            ModelWorker.CITY,
        )
        assert (head.housing.dilapidated, head.wishes, head.hukou_place) == (
            True,
            "稳定就业",
            "青龙县",
        )

    def test_with_an_unknown_label_report_the_column_and_the_labels_accepted(self) -> None:
        error = refused(row(political_status="党员干部"))

        assert (error.row, error.column) == (7, "政治面貌")
        assert "中共党员" in error.reason
