"""Who counts as a hardship household: the income test, the categories and the exclusions."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.eligibility import Exclusions, Means, Thresholds, categorise, judge
from domain.errors import InvalidValue, NotEligible
from domain.values import Category, CategoryScheme

LINE = Decimal("550")
V2016, V2019 = CategoryScheme.V2016, CategoryScheme.V2019
EXCLUSIONS = [f.name for f in fields(Exclusions)]
DEFAULTS = Thresholds()


def per_capita(monthly: str, *, losses: str = "0") -> Means:
    """A one-person household whose adjusted income is `monthly` yuan a month."""
    return Means(
        annual_income=Decimal(monthly) * 12,
        rigid_expenses=Decimal("0"),
        members_living_together=1,
        hardship_losses=Decimal(losses),
    )


def category(
    means: Means,
    scheme: CategoryScheme = V2019,
    *,
    accidental_event: bool = False,
    thresholds: Thresholds = DEFAULTS,
    line: Decimal = LINE,
) -> Category | None:
    return categorise(
        means,
        poverty_line=line,
        scheme=scheme,
        accidental_event=accidental_event,
        thresholds=thresholds,
    )


class TestAdjustedPerCapitaIncome:
    def test_is_income_less_rigid_expenses_over_twelve_months_and_the_members(self):
        means = Means(Decimal("13200"), Decimal("1200"), 2)

        assert means.adjusted_per_capita() == Decimal("500.00")

    def test_is_rounded_half_up_to_the_fen(self):
        means = Means(Decimal("1000.02"), Decimal("0"), 1)  # 83.335

        assert means.adjusted_per_capita() == Decimal("83.34")

    def test_may_be_negative_when_rigid_expenses_exceed_income(self):
        means = Means(Decimal("1200"), Decimal("2400"), 1)

        assert means.adjusted_per_capita() == Decimal("-100.00")

    def test_needs_at_least_the_head_living_in_the_household(self):
        with pytest.raises(InvalidValue) as refused:
            Means(Decimal("1200"), Decimal("0"), 0)

        assert refused.value.field == "members_living_together"


class TestThe2019Scheme:
    def test_puts_a_household_below_the_line_in_deep_hardship(self):
        assert category(per_capita("549.99")) is Category.DEEP

    def test_puts_a_household_exactly_at_the_line_in_relative_hardship(self):
        assert category(per_capita("550")) is Category.RELATIVE

    def test_puts_a_household_below_twice_the_line_in_relative_hardship(self):
        assert category(per_capita("1099.99")) is Category.RELATIVE

    def test_finds_a_household_exactly_at_twice_the_line_not_eligible(self):
        assert category(per_capita("1100")) is None

    def test_puts_a_household_with_an_accident_and_heavy_losses_in_accidental_hardship(self):
        means = per_capita("2000", losses="19200.01")  # just over 80% of 24000

        assert category(means, accidental_event=True) is Category.ACCIDENTAL

    def test_needs_losses_above_not_at_the_ratio_for_accidental_hardship(self):
        means = per_capita("2000", losses="19200")  # exactly 80%

        assert category(means, accidental_event=True) is None

    def test_needs_an_accidental_event_for_accidental_hardship(self):
        means = per_capita("2000", losses="24000")

        assert category(means, accidental_event=False) is None

    def test_follows_the_regional_loss_ratio(self):
        means = per_capita("2000", losses="12000.01")  # just over 50%

        assert category(
            means,
            accidental_event=True,
            thresholds=Thresholds(accidental_loss_ratio=Decimal("0.5")),
        ) is (Category.ACCIDENTAL)

    def test_prefers_the_income_category_when_income_is_low(self):
        means = per_capita("500", losses="6000")

        assert category(means, accidental_event=True) is Category.DEEP


class TestThe2016Scheme:
    def test_puts_a_household_below_the_line_on_dibao(self):
        assert category(per_capita("549.99"), V2016) is Category.DIBAO

    def test_puts_a_household_at_the_line_on_the_margin(self):
        assert category(per_capita("550"), V2016) is Category.MARGINAL

    def test_puts_a_household_at_one_and_a_half_times_the_line_on_the_margin(self):
        assert category(per_capita("825"), V2016) is Category.MARGINAL

    def test_finds_a_household_above_one_and_a_half_times_the_line_not_eligible(self):
        assert category(per_capita("825.01"), V2016) is None

    def test_accepts_an_accident_household_up_to_three_times_the_line(self):
        assert category(per_capita("1650"), V2016, accidental_event=True) is Category.ACCIDENT

    def test_refuses_an_accident_household_above_three_times_the_line(self):
        assert category(per_capita("1650.01"), V2016, accidental_event=True) is None

    def test_follows_the_regional_marginal_multiple(self):
        thresholds = Thresholds(marginal_multiple=Decimal("2"))

        assert category(per_capita("1100"), V2016, thresholds=thresholds) is Category.MARGINAL


class TestThePovertyLine:
    @pytest.mark.parametrize("line", [Decimal("0"), Decimal("-550")])
    def test_must_be_positive(self, line):
        with pytest.raises(InvalidValue) as refused:
            category(per_capita("100"), line=line)

        assert refused.value.field == "poverty_line"


class TestJudgement:
    def test_gives_the_category_of_an_eligible_household(self):
        verdict = judge(
            per_capita("300"), Exclusions(), poverty_line=LINE, scheme=V2019, accidental_event=False
        )

        assert verdict is Category.DEEP

    def test_refuses_a_household_above_the_standard(self):
        with pytest.raises(NotEligible) as refused:
            judge(
                per_capita("1100"),
                Exclusions(),
                poverty_line=LINE,
                scheme=V2019,
                accidental_event=False,
            )

        assert "1100.00" in refused.value.reasons[0]

    @pytest.mark.parametrize("criterion", EXCLUSIONS)
    def test_refuses_a_household_meeting_any_one_exclusion_whatever_its_income(self, criterion):
        with pytest.raises(NotEligible) as refused:
            judge(
                per_capita("0"),
                Exclusions(**{criterion: True}),
                poverty_line=LINE,
                scheme=V2019,
                accidental_event=False,
            )

        assert refused.value.reasons == (f"exclusion criterion applies: {criterion}",)

    def test_names_every_reason_at_once(self):
        exclusions = Exclusions(two_or_more_homes=True, car_or_luxury=True)

        with pytest.raises(NotEligible) as refused:
            judge(
                per_capita("5000"),
                exclusions,
                poverty_line=LINE,
                scheme=V2019,
                accidental_event=False,
            )

        assert len(refused.value.reasons) == 3

    def test_gives_a_chinese_reason_for_each_exclusion(self):
        with pytest.raises(NotEligible) as refused:
            judge(
                per_capita("0"),
                Exclusions(two_or_more_homes=True),
                poverty_line=LINE,
                scheme=V2019,
                accidental_event=False,
            )

        assert "两套" in refused.value.zh


class TestExclusions:
    def test_apply_none_by_default(self):
        assert Exclusions().applying() == ()

    def test_name_the_criteria_that_apply(self):
        exclusions = Exclusions(private_travel_abroad=True, idle_use_of_machinery=True)

        assert exclusions.applying() == ("private_travel_abroad", "idle_use_of_machinery")

    def test_are_the_six_of_the_source(self):
        assert EXCLUSIONS == [
            "two_or_more_homes",
            "shop_or_employs_others",
            "costly_schooling",
            "private_travel_abroad",
            "car_or_luxury",
            "idle_use_of_machinery",
        ]


# ---------------------------------------------------------------------- properties

# "Deeper" is smaller; not eligible is the shallowest of all.
DEPTH = {
    Category.DEEP: 0,
    Category.RELATIVE: 1,
    Category.ACCIDENTAL: 2,
    Category.DIBAO: 0,
    Category.MARGINAL: 1,
    Category.ACCIDENT: 2,
    None: 3,
}

yuan = st.decimals(min_value=0, max_value=500_000, places=2)


class TestCategorisation:
    @settings(max_examples=200, deadline=None)
    @given(
        income=yuan,
        raise_by=st.decimals(min_value=0, max_value=100_000, places=2),
        rigid=st.decimals(min_value=0, max_value=50_000, places=2),
        members=st.integers(1, 8),
        losses=yuan,
        accidental_event=st.booleans(),
        scheme=st.sampled_from(CategoryScheme),
        line=st.decimals(min_value=100, max_value=2000, places=2),
    )
    def test_never_moves_a_household_deeper_when_its_income_rises(
        self, income, raise_by, rigid, members, losses, accidental_event, scheme, line
    ):
        before = Means(income, rigid, members, losses)
        after = Means(income + raise_by, rigid, members, losses)

        depths = [
            DEPTH[
                categorise(m, poverty_line=line, scheme=scheme, accidental_event=accidental_event)
            ]
            for m in (before, after)
        ]

        assert depths[0] <= depths[1]

    @settings(max_examples=100, deadline=None)
    @given(
        income=yuan,
        rigid=yuan,
        members=st.integers(1, 8),
        losses=yuan,
        accidental_event=st.booleans(),
        scheme=st.sampled_from(CategoryScheme),
    )
    def test_gives_only_a_category_of_the_files_scheme(
        self, income, rigid, members, losses, accidental_event, scheme
    ):
        found = categorise(
            Means(income, rigid, members, losses),
            poverty_line=LINE,
            scheme=scheme,
            accidental_event=accidental_event,
        )

        assert (
            found is None
            or found
            in {
                V2019: {Category.DEEP, Category.RELATIVE, Category.ACCIDENTAL},
                V2016: {Category.DIBAO, Category.MARGINAL, Category.ACCIDENT},
            }[scheme]
        )
