"""Money in Decimal yuan, business dates passed in from the edge, and the Chinese labels."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.values import FileLevel, Level, Status, business_date, label, money

TODAY = date(2026, 11, 21)


class TestMoney:
    @pytest.mark.parametrize(
        ("value", "yuan"),
        [
            (Decimal("12.3"), Decimal("12.30")),
            (12, Decimal("12.00")),
            ("12.345", Decimal("12.35")),
            ("0.005", Decimal("0.01")),
            ("0.004", Decimal("0.00")),
            (" 7 ", Decimal("7.00")),
            ("1e3", Decimal("1000.00")),
        ],
    )
    def test_is_a_decimal_rounded_half_up_to_the_fen(self, value, yuan):
        amount = money(value)

        assert (type(amount), amount, amount.as_tuple().exponent) == (Decimal, yuan, -2)

    @pytest.mark.parametrize("value", [Decimal("-0.01"), -1, "-5", Decimal("-0.006")])
    def test_refuses_a_negative_amount(self, value):
        with pytest.raises(InvalidValue, match="negative"):
            money(value)

    @pytest.mark.parametrize("value", [12.5, 0.0, float("nan"), float("inf")])
    def test_refuses_a_float(self, value):
        with pytest.raises(InvalidValue, match="float"):
            money(value)

    @pytest.mark.parametrize("value", [True, False])
    def test_refuses_a_boolean(self, value):
        with pytest.raises(InvalidValue):
            money(value)

    @pytest.mark.parametrize(
        "value",
        [
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("Infinity"),
            "NaN",
            "Infinity",
            "-Infinity",
            "inf",
        ],
    )
    def test_refuses_nan_and_infinity(self, value):
        with pytest.raises(InvalidValue, match="finite"):
            money(value)

    @pytest.mark.parametrize("value", ["", "五百", "12,00", None, [], "0x10"])
    def test_refuses_what_is_not_an_amount(self, value):
        with pytest.raises(InvalidValue):
            money(value)

    def test_names_the_field_in_its_refusal(self):
        with pytest.raises(InvalidValue) as refused:
            money("-1", "rigid_expenses")

        assert refused.value.field == "rigid_expenses"

    def test_refuses_an_amount_too_large_to_hold_with_invalid_value(self):
        with pytest.raises(InvalidValue):
            money("1e30")

    @settings(max_examples=200, deadline=None)
    @given(st.decimals(allow_nan=True, allow_infinity=True, max_value=Decimal("1e20")))
    def test_either_gives_a_non_negative_amount_in_fen_or_refuses(self, value):
        try:
            amount = money(value)
        except InvalidValue:
            return

        assert amount >= 0
        assert amount.as_tuple().exponent == -2


class TestABusinessDate:
    def test_may_be_today(self):
        assert business_date(TODAY, today=TODAY, field="applied_on") == TODAY

    def test_cannot_be_after_today(self):
        with pytest.raises(InvalidValue) as refused:
            business_date(date(2026, 11, 22), today=TODAY, field="applied_on")

        assert refused.value.field == "applied_on"

    def test_cannot_be_before_the_previous_step(self):
        with pytest.raises(InvalidValue, match="before 申请日期"):
            business_date(
                date(2026, 3, 1),
                today=TODAY,
                field="verified_on",
                not_before=date(2026, 3, 2),
                not_before_field="申请日期",
            )

    def test_may_be_the_day_of_the_previous_step(self):
        day = date(2026, 3, 2)

        assert business_date(day, today=TODAY, field="verified_on", not_before=day) == day

    @pytest.mark.parametrize("value", [None, "2026-03-02", 20260302])
    def test_must_be_a_date(self, value):
        with pytest.raises(InvalidValue, match="date is required"):
            business_date(value, today=TODAY, field="applied_on")

    def test_refuses_a_date_and_time_with_invalid_value(self):
        with pytest.raises(InvalidValue):
            business_date(datetime(2026, 3, 2, 9, 30), today=TODAY, field="applied_on")  # noqa: DTZ001


class TestLabels:
    def test_give_the_chinese_name_of_a_status(self):
        assert label(Status.APPROVED) == "在档"

    def test_tell_a_city_file_level_from_a_city_union(self):
        assert (label(FileLevel.CITY), label(Level.CITY)) == ("地市级", "市总工会")
