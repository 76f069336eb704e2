"""The pure parts of reading the ledger: page cursors, month arithmetic of the due lists, the
ranges of days and months a due list's total sums, and the cells of an exported ledger row."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.pg.reads import EVER, SORTS, Cursor, LedgerFilter, counted_ranges, months_before
from adapters.sheets.ledger import LEDGER_HEADERS, causes_text, labelled, ledger_cells
from domain.errors import InvalidValue
from domain.values import Category, Status
from projections.ledger import head_sex

VALUES = {
    "applied_on": st.dates(),
    "approved_on": st.dates(),
    "head_name": st.text(min_size=0, max_size=20),
    "assistance_total": st.decimals(min_value=0, max_value=10**12, places=2),
    "updated_at": st.datetimes(timezones=st.just(UTC)),
}


class TestACursor:
    @pytest.mark.parametrize("sort", list(SORTS))
    @given(data=st.data(), file_id=st.uuids())
    def test_reads_back_the_sort_value_and_file_it_was_made_from(
        self, sort: str, data: st.DataObject, file_id: UUID
    ):
        value = data.draw(VALUES[sort])
        cursor = Cursor(sort, value, file_id)

        assert Cursor.decode(cursor.encode(), sort) == cursor

    def test_is_url_safe_text(self):
        cursor = Cursor("head_name", "张𠀀/+?&", uuid4())

        assert cursor.encode().isascii()
        assert not set(cursor.encode()) & set("+/=&?")

    def test_of_another_sort_is_refused(self):
        text = Cursor("head_name", "张三", uuid4()).encode()

        with pytest.raises(InvalidValue) as refused:
            Cursor.decode(text, "applied_on")

        assert refused.value.field == "cursor"

    @pytest.mark.parametrize("text", ["", "!!!", "bm90LWpzb24", "WzEsMiwzXQ", "WyJ4IiwxLDJd"])
    def test_that_was_not_made_here_is_refused(self, text: str):
        with pytest.raises(InvalidValue):
            Cursor.decode(text, "applied_on")


class TestMonthsBefore:
    @pytest.mark.parametrize(
        ("day", "months", "expected"),
        [
            (date(2026, 11, 21), 12, date(2025, 11, 21)),
            (date(2026, 11, 21), 6, date(2026, 5, 21)),
            (date(2026, 1, 15), 1, date(2025, 12, 15)),
            (date(2026, 3, 31), 1, date(2026, 2, 28)),
            (date(2024, 2, 29), 12, date(2023, 2, 28)),
            (date(2026, 12, 31), 120, date(2016, 12, 31)),
        ],
    )
    def test_keeps_the_day_of_the_month_or_the_month_s_last(
        self, day: date, months: int, expected: date
    ):
        assert months_before(day, months) == expected


def summed(days: list[date], ranges: tuple[tuple[date, date], ...]) -> int:
    """What `counted` sums off counts kept by day and by month (migration 0028): the day rows of
    the first and last range, the month rows — one per month, on its first day — of the middle."""
    (head, head_until), (months, months_until), (tail, until) = ranges
    by_month = [d.replace(day=1) for d in days]
    return (
        sum(head <= d < head_until for d in days)
        + sum(months <= m < months_until for m in by_month)
        + sum(tail <= d < until for d in days)
    )


SOME_DAYS = st.lists(st.dates(date(2015, 1, 1), date(2030, 12, 31)), max_size=60)
A_DAY = st.dates(date(2014, 1, 1), date(2031, 12, 31))


class TestTheRangesATotalSums:
    @given(days=SOME_DAYS, since=A_DAY | st.none(), until=A_DAY)
    def test_count_each_day_of_the_list_once_and_no_other(
        self, days: list[date], since: date | None, until: date
    ):
        ranges = counted_ranges((since, until))

        expected = sum((since is None or since <= d) and d < until for d in days)
        assert summed(days, ranges) == expected

    @given(since=A_DAY | st.none(), until=A_DAY)
    def test_read_at_most_a_month_of_days_at_each_end(self, since: date | None, until: date):
        (head, head_until), (months, months_until), (tail, end) = counted_ranges((since, until))

        assert (head_until - head).days <= 31
        assert (end - tail).days <= 31
        assert (months.day == 1 and months_until.day == 1) or months >= months_until

    @pytest.mark.parametrize(
        ("since", "until", "expected"),
        [
            (  # the visits of a whole calendar: the months before the bound's, then its days
                None,
                date(2026, 9, 2),
                ((EVER, EVER), (EVER, date(2026, 9, 1)), (date(2026, 9, 1), date(2026, 9, 2))),
            ),
            (  # a follow-up's year from the 21st: the days to the month's end, the whole months
                date(2025, 11, 21),
                date(2026, 11, 22),
                (
                    (date(2025, 11, 21), date(2025, 12, 1)),
                    (date(2025, 12, 1), date(2026, 11, 1)),
                    (date(2026, 11, 1), date(2026, 11, 22)),
                ),
            ),
            (  # from a month's first day: that month is whole
                date(2026, 3, 1),
                date(2026, 5, 1),
                (
                    (date(2026, 3, 1), date(2026, 3, 1)),
                    (date(2026, 3, 1), date(2026, 5, 1)),
                    (date(2026, 5, 1), date(2026, 5, 1)),
                ),
            ),
            (  # within one month: its days alone
                date(2026, 3, 5),
                date(2026, 3, 20),
                (
                    (date(2026, 3, 5), date(2026, 3, 20)),
                    (date(2026, 3, 5), date(2026, 3, 5)),
                    (date(2026, 3, 20), date(2026, 3, 20)),
                ),
            ),
        ],
    )
    def test_split_a_range_into_days_months_and_days(
        self, since: date | None, until: date, expected: tuple[tuple[date, date], ...]
    ):
        assert counted_ranges((since, until)) == expected


class TestALedgerFilter:
    def test_binds_every_value_and_uses_the_subtree_condition(self):
        params: list[object] = []

        sql = LedgerFilter(
            root="1303", statuses=("approved",), causes=("illness",), name="王'; --"
        ).where(params)

        assert params == ["1303", ["approved"], ["illness"], "王'; --"]
        assert "王" not in sql
        assert "l.unit ~>=~ $1::text AND l.unit ~<~ bangfu_subtree_end($1::text)" in sql

    def test_reads_a_district_by_its_stored_district(self):
        params: list[object] = []

        sql = LedgerFilter(root="130306", name="王").where(params)

        assert params == [["130306"], "王"]
        assert sql.startswith("l.district = ANY($1::text[]) AND ")
        assert "bangfu_subtree_end" not in sql

    @pytest.mark.parametrize("root", ["130306001", "13C01001", "130306Q01002"])
    def test_reads_a_base_level_union_by_its_own_code(self, root: str):
        params: list[object] = []

        sql = LedgerFilter(root=root, name="王").where(params)

        assert params == [[root], "王"]
        assert sql.startswith("l.unit = ANY($1::text[]) AND ")
        assert "bangfu_subtree_end" not in sql

    @pytest.mark.parametrize("root", ["13", "1303", "13C01", "130306Q01", "1303C01"])
    def test_reads_any_other_unit_by_its_subtree_s_range(self, root: str):
        params: list[object] = []

        sql = LedgerFilter(root=root).where(params)

        assert sql == "(l.unit ~>=~ $1::text AND l.unit ~<~ bangfu_subtree_end($1::text))"


ROW = {
    "head_name": "李𠮷",
    "head_sex": "female",
    "id_masked": "130306********0220",
    "phone_masked": "139****5678",
    "employer": "抚宁区机械厂",
    "address": "抚宁区建设路12号",
    "applied_on": date(2026, 1, 5),
    "file_level": "district",
    "category": "deep",
    "primary_cause": "illness",
    "secondary_causes": ["low_wage", "housing"],
    "status": "approved",
    "unit": "130306001",
    "unit_name": "抚宁区机械厂工会",
    "approved_on": date(2026, 1, 25),
    "assistance_count": 2,
    "assistance_total": Decimal("1300.00"),
    "last_visited_on": None,
    "next_recheck_due": date(2027, 1, 25),
    "exited_on": None,
    "civil_affairs": ["vehicle", "death"],
    "civil_affairs_on": date(2026, 6, 1),
    "civil_affairs_to_act": ["vehicle_not_declared", "death_on_open_file"],
}


class TestAnExportedLedgerRow:
    def test_has_one_cell_per_header_with_codes_as_chinese_labels(self):
        cells = dict(zip([h for h, _ in LEDGER_HEADERS], ledger_cells(7, ROW), strict=True))

        assert cells == {
            "序号": 7,
            "户主姓名": "李𠮷",
            "性别": "女",
            "身份证号码": "130306********0220",
            "联系电话": "139****5678",
            "工作单位": "抚宁区机械厂",
            "家庭地址": "抚宁区建设路12号",
            "建档时间": date(2026, 1, 5),
            "档案级别": "区县级",
            "困难类别": "深度困难",
            "致困原因": "因病、收入低、住房困难",
            "状态": "在档",
            "所属基层工会": "抚宁区机械厂工会",
            "审批时间": date(2026, 1, 25),
            "帮扶次数": 2,
            "帮扶金额(元)": Decimal("1300.00"),
            "最近走访": None,
            "下次复核": date(2027, 1, 25),
            "退出时间": None,
            "民政比对": "车辆、死亡",
            "民政比对日期": date(2026, 6, 1),
            "民政比对待处理": (
                "民政比对有车辆，入户调查答复为无：应核实；户主已死亡，档案仍在册：应注销"
            ),
        }

    def test_names_the_unit_by_its_code_when_it_has_no_name(self):
        cells = ledger_cells(1, {**ROW, "unit_name": None, "category": None, "head_sex": None})

        assert (cells[12], cells[9], cells[2]) == ("130306001", "", "")

    def test_starts_with_the_headers_of_the_source_ledgers(self):
        assert [h for h, _ in LEDGER_HEADERS][:12] == [
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
        ]


class TestLabels:
    def test_of_a_known_code_are_chinese(self):
        assert (labelled(Status, "out_of_hardship"), labelled(Category, "marginal")) == (
            "已脱困",
            "低保边缘户",
        )

    def test_of_an_unknown_code_are_the_code(self):
        assert labelled(Status, "archived") == "archived"

    def test_of_no_code_are_none(self):
        assert labelled(Status, None) is None

    def test_of_causes_list_the_primary_first(self):
        assert causes_text("disability", ["illness"]) == "因残、因病"
        assert causes_text(None, []) == ""


class TestTheHeadsSex:
    @pytest.mark.parametrize(
        ("number", "sex"),
        [("11010519491231002X", "female"), ("440524188001010014", "male")],
    )
    def test_is_read_off_the_sequence_digit(self, number: str, sex: str):
        assert head_sex(number) == sex

    @pytest.mark.parametrize("number", ["", "12345", "1101051949123100AX"])
    def test_is_unknown_for_a_number_that_does_not_say(self, number: str):
        assert head_sex(number) is None


def test_a_timestamp_cursor_keeps_its_microseconds():
    moment = datetime(2026, 3, 2, 8, 30, 1, 123456, tzinfo=UTC)

    decoded = Cursor.decode(Cursor("updated_at", moment, uuid4()).encode(), "updated_at")

    assert decoded.value == moment
