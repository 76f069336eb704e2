"""Who counts as a hardship household (DOMAIN.md, "Eligibility"; domain-research.md §2).

adjusted per-capita income = (household annual income − rigid expenses) / 12 / members living
together, compared with the poverty line (低保标准, yuan per person per month) in force for the
household's region on the date of the decision. The line and the regional parameters are
passed in: the domain never looks them up itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import InvalidValue, NotEligible
from domain.values import Category, CategoryScheme

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Exclusions:
    """The six criteria that exclude a household whatever its income (seed 000; §2.4).

    Each is the investigators' answer: True means the criterion applies (the household is out).
    """

    two_or_more_homes: bool = False  # 拥有两套（含）以上住宅
    shop_or_employs_others: bool = False  # 拥有商业店铺或雇佣他人从事经营活动
    costly_schooling: bool = False  # 子女就读高收费私立学校或自费出国留学
    private_travel_abroad: bool = False  # 近两年内个人出国（境）旅游
    car_or_luxury: bool = False  # 近两年内购置私家车或高档消费品（残疾人代步车、摩托车除外）
    idle_use_of_machinery: bool = False  # 无业却经常使用机动车、船舶、工程机械或大型农机具

    def applying(self) -> tuple[str, ...]:
        return tuple(name for name in self.__slots__ if getattr(self, name))


EXCLUSION_LABELS_ZH = {
    "two_or_more_homes": "拥有两套（含）以上住宅",
    "shop_or_employs_others": "拥有商业店铺或雇佣他人从事经营活动",
    "costly_schooling": "子女就读高收费私立学校或自费出国留学",
    "private_travel_abroad": "近两年内个人出国（境）旅游",
    "car_or_luxury": "近两年内购置私家车或高档消费品",
    "idle_use_of_machinery": "无业期间经常使用机动车、船舶、工程机械或大型农机具",
}


@dataclass(frozen=True, slots=True)
class Means:
    """The figures a household is judged on (recorded on Verified, Approved and Rechecked).

    `annual_income` is the household's total: the head's own income (`head_income`, wage and
    non-wage) plus every member's (`members_income`). Files recorded before the two parts were
    kept have only the total.
    """

    annual_income: Decimal  # 家庭年总收入: the head's and every member's, non-wage included
    rigid_expenses: Decimal  # 刚性支出: medical, education and other unavoidable costs
    members_living_together: int  # 共同生活的家庭成员人数, the head included
    hardship_losses: Decimal = Decimal("0.00")  # the year's accident/illness costs or losses
    head_income: Decimal | None = None  # 户主本人年收入
    members_income: Decimal | None = None  # 其他家庭成员年收入合计

    def __post_init__(self) -> None:
        if self.members_living_together < 1:
            raise InvalidValue(
                "members_living_together",
                "at least the head lives in the household",
                zh="共同生活人数至少为1",
            )

    def adjusted_per_capita(self) -> Decimal:
        """Yuan per person per month after rigid expenses, rounded to the fen (may be negative)."""
        per_month = (self.annual_income - self.rigid_expenses) / 12 / self.members_living_together
        return per_month.quantize(_CENT, rounding=ROUND_HALF_UP)


def household_means(
    *,
    head_income: Decimal,
    member_incomes: tuple[Decimal, ...],
    rigid_expenses: Decimal,
    members_living_together: int,
    hardship_losses: Decimal,
) -> Means:
    """The household's means from the head's own income and every member's (seed 000: 家庭
    年总收入 is the income of all family members)."""
    members_income = sum(member_incomes, Decimal("0.00"))
    return Means(
        annual_income=head_income + members_income,
        rigid_expenses=rigid_expenses,
        members_living_together=members_living_together,
        hardship_losses=hardship_losses,
        head_income=head_income,
        members_income=members_income,
    )


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Regional parameters that shape the categories (domain-research.md §2.2-§2.3)."""

    accidental_loss_ratio: Decimal = Decimal("0.8")  # Qingdao: costs or losses > 80% of income
    marginal_multiple: Decimal = Decimal("1.5")  # 2016 scheme: 低保边缘户 up to 1.5×
    accident_multiple: Decimal = Decimal("3")  # 2016 scheme: 意外致困户 up to 3×


DEFAULT_THRESHOLDS = Thresholds()


def categorise(
    means: Means,
    *,
    poverty_line: Decimal,
    scheme: CategoryScheme,
    accidental_event: bool,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Category | None:
    """The category the figures put the household in, or None when the income test fails.

    2019 scheme: DEEP below 1× the line, RELATIVE below 2×, ACCIDENTAL when a documented
    disaster, accident or grave illness cost more than the loss ratio of the year's income.
    2016 scheme: DIBAO below 1×, MARGINAL up to 1.5×, ACCIDENT up to 3× with an accident.
    """
    if poverty_line <= 0:
        raise InvalidValue(
            "poverty_line", "the poverty line must be positive", zh="低保标准须大于零"
        )
    income = means.adjusted_per_capita()
    if scheme is CategoryScheme.V2019:
        if income < poverty_line:
            return Category.DEEP
        if income < 2 * poverty_line:
            return Category.RELATIVE
        heavy_losses = (
            means.hardship_losses > thresholds.accidental_loss_ratio * means.annual_income
        )
        if accidental_event and heavy_losses:
            return Category.ACCIDENTAL
        return None
    if income < poverty_line:
        return Category.DIBAO
    if income <= thresholds.marginal_multiple * poverty_line:
        return Category.MARGINAL
    if accidental_event and income <= thresholds.accident_multiple * poverty_line:
        return Category.ACCIDENT
    return None


def judge(
    means: Means,
    exclusions: Exclusions,
    *,
    poverty_line: Decimal,
    scheme: CategoryScheme,
    accidental_event: bool,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Category:
    """Decide eligibility: the category, or `NotEligible` naming every reason."""
    reasons = [f"exclusion criterion applies: {name}" for name in exclusions.applying()]
    reasons_zh = [f"存在不予建档情形：{EXCLUSION_LABELS_ZH[n]}" for n in exclusions.applying()]
    category = categorise(
        means,
        poverty_line=poverty_line,
        scheme=scheme,
        accidental_event=accidental_event,
        thresholds=thresholds,
    )
    if category is None:
        reasons.append(
            f"adjusted per-capita income {means.adjusted_per_capita()} yuan/month is above the"
            f" standard for poverty line {poverty_line}"
        )
        reasons_zh.append(
            f"家庭人均收入{means.adjusted_per_capita()}元/月超过认定标准"
            f"（低保标准{poverty_line}元）"
        )
    if reasons:
        raise NotEligible(tuple(reasons), zh=tuple(reasons_zh))
    assert category is not None  # noqa: S101 — narrowed by the reasons check above
    return category
