"""Reading clerks' spreadsheets: encodings, headers below titles, merged cells, cell parsing."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from adapters.services.reconcile import LEDGER_COLUMNS
from adapters.sheets import reading as sheets
from domain.values import Status

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
