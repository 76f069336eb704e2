"""Regional parameters as events: the poverty line and the rules' other numbers, per region and
effective date (DOMAIN.md: "where a rule varies by region, make it configurable per region and
date").

One stream per region code (a province "130000", a city "130300" or a district "130306"). Each
`ParametersSet` event fixes every parameter from its effective date on. A decision is always
judged by the values in force for the household's region on the decision's date: the district's
own values if it has any, else its city's, else its province's.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.authorization import Act, authorise
from domain.eligibility import Thresholds
from domain.errors import InvalidValue, NotFound, RuleViolated
from domain.values import Actor, CategoryScheme, money

_NAMESPACE = UUID("6b3a1d0e-6b61-4e67-8a75-62616e676675")  # fixed: policy stream ids are derived


@dataclass(frozen=True, slots=True)
class Parameters:
    """Every regional number a rule needs, as set from one effective date."""

    effective_on: date
    poverty_line: Decimal  # 低保标准, yuan per person per month
    publicity_days: int = 5  # minimum days a list is posted
    visit_period_days: int = 90  # a visit at least this often (Taoyuan: quarterly)
    exit_months_above_line: int = 6  # 脱困: months above the line
    accidental_loss_ratio: Decimal = Decimal("0.8")  # 意外致困: losses above this share of income
    scheme: CategoryScheme = CategoryScheme.V2019


def policy_id(region: str) -> UUID:
    """The stream of a region's parameters: derived from the code, so anyone can find it."""
    return uuid5(_NAMESPACE, f"policy:{region}")


def region_code(code: str) -> str:
    """A 6-digit GB/T 2260 region code, as given (else `InvalidValue`)."""
    if not (isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit()):
        raise InvalidValue(
            "region", "a 6-digit GB/T 2260 region code", zh="行政区划代码应为6位数字"
        )
    return code


class RegionalPolicy(Aggregate):
    """The parameters of one region over time."""

    class Opened(Aggregate.Created):
        actor: Actor
        region: str

    class ParametersSet(Aggregate.Event):
        actor: Actor
        parameters: Parameters
        reason: str

    @classmethod
    def open(cls, *, actor: Actor, region: str) -> RegionalPolicy:
        code = region_code(region)
        _check_admin(actor, code)
        return cls._create(cls.Opened, id=policy_id(code), actor=actor, region=code)

    @event(Opened)
    def __init__(self, *, actor: Actor, region: str) -> None:
        self.region = region
        self.history: tuple[Parameters, ...] = ()

    def set(self, *, actor: Actor, parameters: Parameters, reason: str) -> None:
        """Set every parameter from `parameters.effective_on` on (an admin of the region)."""
        _check_admin(actor, self.region)
        line = money(parameters.poverty_line, "poverty_line")
        if line <= 0:
            raise InvalidValue("poverty_line", "must be positive", zh="低保标准须大于零")
        for name in ("publicity_days", "visit_period_days", "exit_months_above_line"):
            value = getattr(parameters, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 3660:
                raise InvalidValue(name, "a whole number from 1", zh="须为正整数")
        if not Decimal(0) < parameters.accidental_loss_ratio <= Decimal(5):
            raise InvalidValue("accidental_loss_ratio", "between 0 and 5", zh="比例应在0至5之间")
        if any(p.effective_on == parameters.effective_on for p in self.history):
            raise InvalidValue(
                "effective_on",
                "parameters are already set from that date",
                zh="该生效日期已有参数，请使用其他日期",
            )
        if not (reason or "").strip():
            raise InvalidValue("reason", "say why (the notice or decision)", zh="须说明依据")
        self._set(actor=actor, parameters=parameters, reason=reason.strip())

    @event(ParametersSet)
    def _set(self, *, actor: Actor, parameters: Parameters, reason: str) -> None:
        self.history = tuple(sorted((*self.history, parameters), key=lambda p: p.effective_on))

    def in_force(self, on: date) -> Parameters | None:
        """The parameters in force on a date (None before the first effective date)."""
        dates = [p.effective_on for p in self.history]
        index = bisect.bisect_right(dates, on) - 1
        return self.history[index] if index >= 0 else None


def _check_admin(actor: Actor, region: str) -> None:
    """May `actor` set the parameters of `region`? The authorisation table's `SET_POLICY` row,
    about the unit that holds the region (province "13" for "130000", city "1303" for "130300")."""
    holder = region[:2] if region[2:] == "0000" else region[:4] if region[4:] == "00" else region
    authorise(actor, Act.SET_POLICY, holder)


def fallback(region: str) -> tuple[str, str, str]:
    """Where a region's parameters are looked for: the region, its city, its province."""
    return (region, region[:4] + "00", region[:2] + "0000")


@dataclass(frozen=True)
class PolicyBook:
    """The parameters of every region, for looking up what was in force (used by rules)."""

    policies: dict[str, RegionalPolicy]

    def source(self, region: str, on: date) -> tuple[str, Parameters] | None:
        """The region whose parameters are in force for `region` on a date, with them: the
        district's own first, then its city's, then its province's (None if none are)."""
        for code in fallback(region):
            policy = self.policies.get(code)
            found = policy.in_force(on) if policy is not None else None
            if found is not None:
                return code, found
        return None

    def in_force(self, region: str, on: date) -> Parameters:
        """District first, then its city, then its province."""
        found = self.source(region, on)
        if found is not None:
            return found[1]
        raise NotFound(
            f"no parameters in force for region {region} on {on.isoformat()}",
            zh=f"地区{region}在{on.isoformat()}没有生效的参数",
        )


def parameters_missing(region: str, on: date) -> RuleViolated:
    """The refusal of a decision in a region with no parameters in force on its date: it names
    the region and how an admin sets them."""
    return RuleViolated(
        "regional_parameters_in_force",
        f"no regional parameters (poverty line and the rules' other numbers) are in force for"
        f" region {region} on {on.isoformat()}: an admin of the region sets them with"
        f" POST /api/v1/policies/{region}",
        zh=f"地区{region}在{on.isoformat()}没有生效的地区参数（低保标准等），"
        f"请本地区管理员先设置：POST /api/v1/policies/{region}",
        field="region",
    )


def thresholds_of(parameters: Parameters) -> Thresholds:
    """The category thresholds the regional parameters set."""
    return Thresholds(accidental_loss_ratio=parameters.accidental_loss_ratio)
