"""Reading clerks' spreadsheets: encodings, headers below titles, merged cells, cell parsing."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from enum import StrEnum

import pytest
from openpyxl import Workbook

from adapters.services.reconcile import LEDGER_COLUMNS
from adapters.sheets import reading as sheets
from domain.values import (
    AssistanceKind,
    Category,
    Cause,
    Department,
    ExitKind,
    ExitReason,
    FileLevel,
    MemberStatus,
    Relation,
    Sex,
    Status,
    WorkerKind,
)

NUMBER = "11010519491231002X"


class TestACell:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("2020-01-05", date(2020, 1, 5)),
            ("2020/1/5", date(2020, 1, 5)),
            ("2020.1.5", date(2020, 1, 5)),
            ("2020年1月5日", date(2020, 1, 5)),
            ("20200105", date(2020, 1, 5)),
            ("2020年3月", date(2020, 3, 1)),
            ("2020-01-05 00:00:00", date(2020, 1, 5)),
            ("", None),
        ],
    )
    def test_reads_a_date_as_clerks_write_it(self, raw: str, expected: date | None) -> None:
        assert sheets.day(raw, "建档时间") == expected

    @pytest.mark.parametrize("raw", ["去年", "2020-02-30", "2020-13-01"])
    def test_refuses_a_date_that_is_not_one_naming_the_column(self, raw: str) -> None:
        with pytest.raises(sheets.CellError) as caught:
            sheets.day(raw, "建档时间")
        assert caught.value.column == "建档时间"

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("12,345.6", "12345.60"), ("9600元", "9600.00"), ("1.2万", "12000.00"), ("0", "0.00")],
    )
    def test_reads_an_amount_as_a_decimal(self, raw: str, expected: str) -> None:
        assert sheets.amount(raw, "家庭年收入") == Decimal(expected)

    @pytest.mark.parametrize(
        "raw",
        [
            NUMBER,
            "11010519491231002x",
            "１１０１０５１９４９１２３１００２Ｘ",
            " 110105 19491231 002X ",
        ],
    )
    def test_normalises_an_id_number(self, raw: str) -> None:
        assert sheets.id_number(sheets.clean(raw), "身份证号码") == NUMBER

    def test_converts_a_fifteen_digit_legacy_number(self) -> None:
        assert sheets.id_number("110105491231002", "身份证号码") == NUMBER

    def test_refuses_a_wrong_check_character_with_the_reason(self) -> None:
        with pytest.raises(sheets.CellError) as caught:
            sheets.id_number("110105194912310020", "身份证号码")
        assert "校验码" in caught.value.reason

    def test_reads_a_status_by_its_chinese_label(self) -> None:
        assert sheets.enum_by_label(Status, "在档", "状态") is Status.APPROVED


class TestAHeader:
    def test_is_found_below_title_lines_and_blank_rows_are_skipped(self) -> None:
        grid = [
            ["某工会困难职工档案台账", None, None],
            ["填报日期：2026年10月", None, None],
            ["序号", "户主 姓名", "身份证号"],
            [1, "张三", NUMBER],
            [None, None, None],
            [2, "李四", "110105491231002"],
        ]

        table = sheets.read_table(grid, LEDGER_COLUMNS)

        assert table.header_row == 3
        assert table.rows == [
            (4, {"head_name": "张三", "id_number": NUMBER}),
            (6, {"head_name": "李四", "id_number": "110105491231002"}),
        ]

    def test_accepts_configured_aliases(self) -> None:
        grid = [["户主名字", "证件号"], ["张三", NUMBER]]
        columns = LEDGER_COLUMNS.with_aliases({"head_name": ["户主名字"], "id_number": ["证件号"]})

        assert sheets.read_table(grid, columns).rows == [
            (2, {"head_name": "张三", "id_number": NUMBER})
        ]

    def test_missing_is_reported(self) -> None:
        with pytest.raises(sheets.CellError, match="表头"):
            sheets.read_table([["a", "b"], ["c", "d"]], LEDGER_COLUMNS)


class TestAFile:
    def test_in_gbk_csv_reads_correctly(self) -> None:
        data = "户主姓名,身份证号码,家庭地址\n张三,11010519491231002x,抚宁区骊城大街\n".encode(
            "gbk"
        )

        table = sheets.read_table(sheets.grid_of(data, "台账.csv"), LEDGER_COLUMNS)

        assert table.rows == [
            (
                2,
                {
                    "head_name": "张三",
                    "id_number": "11010519491231002x",
                    "address": "抚宁区骊城大街",
                },
            )
        ]

    def test_in_utf8_csv_with_a_bom_reads_correctly(self) -> None:
        data = "\ufeff户主姓名,身份证号码\n张𠀀,11010519491231002X\n".encode()

        table = sheets.read_table(sheets.grid_of(data, "台账.csv"), LEDGER_COLUMNS)

        assert table.rows == [(2, {"head_name": "张𠀀", "id_number": NUMBER})]

    def test_in_xlsx_with_a_two_line_merged_title_reads_correctly(self) -> None:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet["A1"] = "抚宁区总工会困难职工档案台账"
        sheet.merge_cells("A1:D1")
        sheet["A2"] = "填报单位：骊城街道工会"
        sheet.merge_cells("A2:D2")
        sheet.append(["序号", "户主姓名", "身份证号码", "建档时间"])
        sheet.append([1, "张三", NUMBER, date(2020, 1, 5)])
        sheet.append([None, None, None, None])
        sheet.append([2, "李四", "110105491231002", "2020/2/1"])
        out = io.BytesIO()
        book.save(out)

        table = sheets.read_table(sheets.grid_of(out.getvalue(), "台账.xlsx"), LEDGER_COLUMNS)

        assert table.header_row == 3
        assert table.rows == [
            (4, {"head_name": "张三", "id_number": NUMBER, "applied_on": "2020-01-05"}),
            (6, {"head_name": "李四", "id_number": "110105491231002", "applied_on": "2020/2/1"}),
        ]


# Every enumeration column the importer and the ledger reader parse: what clerks write → the value.
WRITTEN = [
    *[(Relation, w, Relation.SPOUSE) for w in ("配偶", "妻", "夫", "丈夫", "妻子", "爱人")],
    *[(Relation, w, Relation.CHILD) for w in ("子女", "儿子", "女儿", "子", "女")],
    *[(Relation, w, Relation.PARENT) for w in ("父母", "父亲", "母亲")],
    (Relation, "兄弟姐妹", Relation.SIBLING),
    (Relation, "孙女", Relation.GRANDCHILD),
    (Relation, "其它", Relation.OTHER),
    *[(MemberStatus, w, MemberStatus.UNEMPLOYED) for w in ("无业", "失业", "待业")],
    *[(MemberStatus, w, MemberStatus.EMPLOYED) for w in ("在职", "在岗", "就业")],
    *[(MemberStatus, w, MemberStatus.STUDENT) for w in ("学生", "在校学生", "在读")],
    (MemberStatus, "退休", MemberStatus.RETIRED),
    (MemberStatus, "学龄前", MemberStatus.PRESCHOOL),
    *[(Cause, w, Cause.ILLNESS) for w in ("因病", "疾病", "患病", "重大疾病")],
    *[(Cause, w, Cause.DISABILITY) for w in ("因残", "残疾")],
    *[(Cause, w, Cause.EDUCATION) for w in ("因学", "子女上学")],
    *[(Cause, w, Cause.DISASTER) for w in ("因灾", "自然灾害")],
    *[(Cause, w, Cause.UNEMPLOYMENT) for w in ("失业下岗", "失业", "下岗")],
    (Cause, "其它", Cause.OTHER),
    *[(Category, w, Category.DEEP) for w in ("深度困难", "深度")],
    (Category, "相对困难", Category.RELATIVE),
    (Category, "意外致困", Category.ACCIDENTAL),
    (Category, "低保边缘户", Category.MARGINAL),
    *[(FileLevel, w, FileLevel.DISTRICT) for w in ("区县级", "县级", "区级", "旗级")],
    *[(FileLevel, w, FileLevel.NATIONAL) for w in ("全国级", "国家级")],
    (FileLevel, "地市级", FileLevel.CITY),
    *[(WorkerKind, w, WorkerKind.MIGRANT) for w in ("农民工", "进城务工人员")],
    *[(ExitKind, w, ExitKind.OUT_OF_HARDSHIP) for w in ("脱困", "已脱困")],
    (ExitKind, "解困", ExitKind.RELIEVED),
    (ExitKind, "注销", ExitKind.CANCELLED),
    *[(ExitReason, w, ExitReason.INCOME_ABOVE_LINE) for w in ("家庭人均收入超过标准", "收入超标")],
    *[(ExitReason, w, ExitReason.DEATH) for w in ("死亡", "去世")],
    (ExitReason, "纳入政府兜底保障", ExitReason.SAFETY_NET),
    *[(AssistanceKind, w, AssistanceKind.MEDICAL_AID) for w in ("医疗救助", "医疗保障")],
    *[(AssistanceKind, w, AssistanceKind.EDUCATION_AID) for w in ("子女助学", "金秋助学")],
    (AssistanceKind, "就业创业", AssistanceKind.EMPLOYMENT),
    (AssistanceKind, "保障兜底", AssistanceKind.DIBAO_SAFETY_NET),
    *[(Department, w, Department.MEDICAL_INSURANCE) for w in ("医保", "医保局", "县医保局")],
    *[(Department, w, Department.CIVIL_AFFAIRS) for w in ("民政", "抚宁区民政局")],
    (Department, "人力资源和社会保障局", Department.HUMAN_RESOURCES),
    (Department, "所在单位", Department.EMPLOYER),
    *[(Status, w, Status.OUT_OF_HARDSHIP) for w in ("已脱困", "脱困")],
    (Status, "在档", Status.APPROVED),
    (Sex, "女", Sex.FEMALE),
    # the stored code is still read, in any case, and spaces and full-width brackets do not matter
    (Relation, "spouse", Relation.SPOUSE),
    (Cause, "ILLNESS", Cause.ILLNESS),
    (Category, "深度 困难", Category.DEEP),
]


class TestAnEnumerationCell:
    @pytest.mark.parametrize(
        ("kind", "written", "expected"), WRITTEN, ids=[f"{k.__name__}:{w}" for k, w, _ in WRITTEN]
    )
    def test_reads_the_label_or_a_synonym_clerks_write(
        self, kind: type[StrEnum], written: str, expected: StrEnum
    ) -> None:
        assert sheets.enum_by_label(kind, written, "列") is expected

    def test_with_a_wrong_label_names_the_column_and_the_labels_accepted(self) -> None:
        with pytest.raises(sheets.CellError) as caught:
            sheets.enum_by_label(Relation, "邻居", "家庭成员")

        assert caught.value.column == "家庭成员"
        assert (
            caught.value.reason
            == "无法识别：邻居（可填：配偶、子女、父母、兄弟姐妹、孙子女、其他）"
        )

    def test_with_a_place_before_nothing_known_is_refused(self) -> None:
        with pytest.raises(sheets.CellError, match="可填"):
            sheets.enum_by_label(Department, "县城", "分类型帮扶部门")

    def test_blank_is_none_unless_required(self) -> None:
        assert sheets.enum_by_label(Cause, "", "致困原因") is None
        with pytest.raises(sheets.CellError, match="不能为空"):
            sheets.enum_by_label(Cause, "", "致困原因", required=True)
