"""The ledger.xlsx writer's per-column fast path writes every row byte for byte as the generic
path does (`_cell` of each of `ledger_cells`): for any mix of missing values, empty and spaced
text, XML specials, control characters, Chinese, datetimes, unknown codes, lists and amounts, in a
dict or in a row like asyncpg's `Record`, and after its caches have filled. And a workbook it
writes reads back in openpyxl: Chinese headers, dates, labels and escaped text."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from adapters.sheets.ledger import LedgerWorkbook, _cell, _row_xml, ledger_cells
from domain.civil_affairs import FINDINGS, Record
from domain.values import Category, Cause, FileLevel, Sex, Status

CODES = [v.value for kind in (Sex, FileLevel, Category, Cause, Status) for v in kind]

# what the writer escapes, drops or keeps the spaces of, and the Chinese it mostly writes
TRICKY = st.sampled_from(
    ["&", "<", ">", '"', "'", " ", "\t", "\n", "\r", "\u3000", "\xa0", "\x85", "\x7f"]
    + [chr(c) for c in range(32)]
    + ["王", "秀", "英", "𠮷", "区", "号", "、", "；", "*", "1"]
)
# text as PostgreSQL holds it: no lone surrogates, which no UTF-8 sheet could hold either
TEXT = st.text(st.one_of(TRICKY, st.characters(codec="utf-8")), max_size=12)
FREE_TEXT = st.one_of(
    st.none(),
    st.just(""),
    TEXT,
    st.builds(lambda t: f" {t} ", TEXT),
    st.sampled_from(["王秀英", "抚宁区机械厂", "A&B <公司>", "&amp;", "130306********0220"]),
    st.sampled_from([Status.APPROVED, Sex.FEMALE]),  # a `str` that is not exactly one
    st.integers(),
)


def codes(kind: type[StrEnum]) -> st.SearchStrategy[Any]:
    """A stored code of `kind`, another kind's, one no kind knows, or none."""
    return st.one_of(
        st.none(),
        st.just(""),
        st.sampled_from([v.value for v in kind]),
        st.sampled_from(CODES),
        st.sampled_from(list(kind)),
        TEXT,
    )


def lists(element: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.just([]), st.lists(element, max_size=4))


DAYS = st.one_of(
    st.none(),
    st.dates(),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 1, 10)),  # days asked again
    st.datetimes(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))])),
)
ROWS = st.fixed_dictionaries(
    {
        "head_name": FREE_TEXT,
        "head_sex": codes(Sex),
        "id_masked": FREE_TEXT,
        "phone_masked": FREE_TEXT,
        "employer": FREE_TEXT,
        "address": FREE_TEXT,
        "applied_on": DAYS,
        "file_level": codes(FileLevel),
        "category": codes(Category),
        "primary_cause": codes(Cause),
        "secondary_causes": lists(codes(Cause)),
        "status": codes(Status),
        "unit_name": FREE_TEXT,
        "unit": FREE_TEXT,
        "approved_on": DAYS,
        "assistance_count": st.one_of(st.none(), st.integers(min_value=0), st.booleans()),
        "assistance_total": st.one_of(
            st.none(),
            st.decimals(places=2, min_value=0, max_value=10**12),
            st.decimals(allow_nan=True, allow_infinity=True),
            st.integers(),
        ),
        "last_visited_on": DAYS,
        "next_recheck_due": DAYS,
        "exited_on": DAYS,
        "civil_affairs": lists(st.one_of(st.sampled_from(list(Record)), TEXT)),
        "civil_affairs_on": DAYS,
        "civil_affairs_to_act": lists(st.one_of(st.sampled_from(sorted(FINDINGS)), TEXT)),
    }
)


class RecordLike:
    """A row as asyncpg gives it: read by column name, but iterating over its values, not its
    keys, and nothing of a dict's `get` or `keys`."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values.values())

    def __len__(self) -> int:
        return len(self._values)


def generic(number: int, row: Any) -> str:
    return "".join(map(_cell, ledger_cells(number, row)))


def sheet_xml(book: io.BytesIO) -> str:
    with zipfile.ZipFile(book) as z:
        return z.read("xl/worksheets/sheet1.xml").decode()


ROW = {
    "head_name": " 李𠮷",
    "head_sex": "female",
    "id_masked": "130306********0220",
    "phone_masked": "139****5678",
    "employer": "A&B <机械厂>\x0b",
    "address": "抚宁区建设路12号",
    "applied_on": date(2026, 1, 5),
    "file_level": "district",
    "category": "deep",
    "primary_cause": "illness",
    "secondary_causes": ["low_wage", "housing"],
    "status": "approved",
    "unit": "130306001",
    "unit_name": None,
    "approved_on": datetime(2026, 1, 25, 23, 30, tzinfo=UTC),
    "assistance_count": 2,
    "assistance_total": Decimal("1300.00"),
    "last_visited_on": None,
    "next_recheck_due": date(2027, 1, 25),
    "exited_on": None,
    "civil_affairs": ["vehicle"],
    "civil_affairs_on": date(2026, 6, 1),
    "civil_affairs_to_act": ["vehicle_not_declared"],
}


class TestTheFastPath:
    @settings(max_examples=500, deadline=None)
    @given(number=st.integers(min_value=1, max_value=10**7), row=ROWS)
    def test_writes_a_dict_row_as_the_generic_path_does(
        self, number: int, row: dict[str, Any]
    ) -> None:
        expected = generic(number, row)

        written = _row_xml(number, row)

        assert written == expected

    @settings(max_examples=300, deadline=None)
    @given(number=st.integers(min_value=1, max_value=10**7), row=ROWS)
    def test_writes_a_record_like_row_as_the_generic_path_does(
        self, number: int, row: dict[str, Any]
    ) -> None:
        expected = generic(number, RecordLike(row))

        written = _row_xml(number, RecordLike(row))

        assert written == expected

    @settings(max_examples=50, deadline=None)
    @given(batches=st.lists(st.lists(ROWS, max_size=5), max_size=4))
    def test_appends_each_batch_s_rows_as_the_generic_path_numbers_and_writes_them(
        self, batches: list[list[dict[str, Any]]]
    ) -> None:
        rows = [row for batch in batches for row in batch]
        expected = "".join(
            f'<row r="{n + 1}">{generic(n, row)}</row>' for n, row in enumerate(rows, start=1)
        )
        out = io.BytesIO()
        book = LedgerWorkbook(out)

        for batch in batches:
            book.append(batch)
        book.close()

        xml = sheet_xml(out)
        written = xml[xml.index("</row>") + len("</row>") : xml.index("</sheetData>")]
        assert written == expected
        assert book.rows == len(rows)

    def test_writes_a_datetime_as_its_own_day_after_an_equal_instant_of_another_day(
        self,
    ) -> None:
        evening = datetime(2026, 1, 25, 23, 30, tzinfo=UTC)
        morning = evening.astimezone(timezone(timedelta(hours=8)))  # 2026-01-26 07:30
        first = _row_xml(1, {**ROW, "approved_on": evening})

        second = _row_xml(1, {**ROW, "approved_on": morning})

        assert second == generic(1, {**ROW, "approved_on": morning})
        assert second != first


def midnight(day: date) -> datetime:
    """A date cell as openpyxl reads it: a datetime of no time zone, at midnight."""
    return datetime.combine(day, time())


class TestAWrittenLedger:
    def test_reads_back_in_openpyxl_with_its_headers_dates_labels_and_escaped_text(self) -> None:
        out = io.BytesIO()
        book = LedgerWorkbook(out)
        book.append([ROW, RecordLike({**ROW, "status": "archived", "head_sex": None})])
        book.close()

        sheet = load_workbook(io.BytesIO(out.getvalue()), read_only=True)["困难职工档案台账"]
        cells = list(sheet.iter_rows(values_only=True))

        assert cells[0][:4] == ("序号", "户主姓名", "性别", "身份证号码")
        assert cells[1][:3] == (1, " 李𠮷", "女")
        assert cells[1][5] == "A&B <机械厂>"
        assert cells[1][7] == midnight(date(2026, 1, 5))
        assert cells[1][8:12] == ("区县级", "深度困难", "因病、收入低、住房困难", "在档")
        assert cells[1][12] == "130306001"
        assert cells[1][13] == midnight(date(2026, 1, 25))
        assert cells[1][14:16] == (2, 1300)
        assert cells[1][19] == "车辆"
        assert (cells[2][0], cells[2][2], cells[2][11]) == (2, "", "archived")
