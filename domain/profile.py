"""The paper forms' fields that the lifecycle's core does not need but the file must hold (issue
14): the head's profile (housing, land, disability …), the plan's measures one by one, the
困难清单 a visit finds, the quarter's cost lines, the pairing's two contacts.

Value types of the events, validated here before an event is triggered: every check names its
field (the path a body sends) and refuses in Chinese, so a refusal leaves nothing written.
Sources: the national 档案表 fields (docs/domain-research.md §3), seed 002 表一–表五 and 表七,
seed 001 附件1–3 (docs/decisions/0012-paper-forms.md lists them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from domain.errors import InvalidValue
from domain.values import (
    DisabilityGrade,
    DisabilityKind,
    HousingStructure,
    HousingType,
    NeedKind,
    money,
)

MAX_TEXT = 2000
MAX_SHORT = 64
MAX_AREA = Decimal("100000")  # 亩 or ㎡: far beyond any household's

E = TypeVar("E", bound=StrEnum)


def text(value: object, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """A free-text field, stripped and bounded (as `domain.household`'s)."""
    if not isinstance(value, str):
        raise InvalidValue(field, "must be text", zh="须为文本")
    value = value.strip()
    if required and not value:
        raise InvalidValue(field, "must not be empty", zh="不能为空")
    if len(value) > limit:
        raise InvalidValue(field, f"longer than {limit} characters", zh=f"不能超过{limit}个字符")
    if "\x00" in value:
        raise InvalidValue(field, "contains a NUL character", zh="含有非法字符")
    return value


def code(value: object, kind: type[E], field: str, what: str) -> E | None:
    """An optional enumeration value: None (not recorded) or one of `kind`'s."""
    if value is None:
        return None
    if not isinstance(value, kind):
        raise InvalidValue(field, f"unknown {kind.__name__} code", zh=f"{what}无效")
    return value


def codes(values: object, kind: type[E], field: str, what: str) -> tuple[E, ...]:
    """Ticked values of `kind`, each once, in the order given."""
    if not isinstance(values, (tuple, list)) or not all(isinstance(v, kind) for v in values):
        raise InvalidValue(field, f"unknown {kind.__name__} code", zh=f"{what}无效")
    return tuple(dict.fromkeys(values))


def sealed_code(value: object, kind: type[E], field: str, what: str) -> str:
    """A personal enumeration kept as its code in a text field, so it can be stored sealed
    (`adapters/pii`: an erased value reads as a marker, which no enumeration decodes)."""
    if value == "":
        return ""
    if not isinstance(value, str) or value not in {m.value for m in kind}:
        raise InvalidValue(field, f"unknown {kind.__name__} code", zh=f"{what}无效")
    return value


def area(value: Decimal | None, field: str) -> Decimal | None:
    """An area (亩 or ㎡), two decimals, not negative."""
    if value is None:
        return None
    try:
        checked = money(value, field)
    except InvalidValue:
        raise InvalidValue(
            field, "an area is a number not below 0", zh="面积须为不小于0的数"
        ) from None
    if checked > MAX_AREA:
        raise InvalidValue(field, f"above {MAX_AREA}", zh=f"面积不能超过{MAX_AREA}")
    return checked


@dataclass(frozen=True, slots=True)
class Housing:
    """住房情况: type, structure, area in ㎡ and whether it is a 危房 (seed 002 表一/表二)."""

    kind: HousingType | None = None
    structure: HousingStructure | None = None
    area: Decimal | None = None
    dilapidated: bool | None = None  # 是否危房; None: not recorded


def check_housing(housing: Housing | None, field: str) -> Housing | None:
    if housing is None:
        return None
    if not isinstance(housing, Housing):
        raise InvalidValue(field, "a housing record", zh="住房情况无效")
    if housing.dilapidated is not None and not isinstance(housing.dilapidated, bool):
        raise InvalidValue(f"{field}.dilapidated", "true or false", zh="须为是或否")
    return replace(
        housing,
        kind=code(housing.kind, HousingType, f"{field}.kind", "住房类型"),
        structure=code(housing.structure, HousingStructure, f"{field}.structure", "住房结构"),
        area=area(housing.area, f"{field}.area"),
    )


@dataclass(frozen=True, slots=True)
class Land:
    """A migrant worker's land at home, in 亩 (seed 002 表一): 耕地 (水田, 旱地), 林地 (经济林,
    用材林) and 养殖水面."""

    paddy: Decimal | None = None
    dry: Decimal | None = None
    economic_forest: Decimal | None = None
    timber_forest: Decimal | None = None
    aquaculture: Decimal | None = None


def check_land(land: Land | None, field: str) -> Land | None:
    if land is None:
        return None
    if not isinstance(land, Land):
        raise InvalidValue(field, "a land record", zh="土地情况无效")
    return Land(
        paddy=area(land.paddy, f"{field}.paddy"),
        dry=area(land.dry, f"{field}.dry"),
        economic_forest=area(land.economic_forest, f"{field}.economic_forest"),
        timber_forest=area(land.timber_forest, f"{field}.timber_forest"),
        aquaculture=area(land.aquaculture, f"{field}.aquaculture"),
    )


def check_disability(kind: str, grade: str, field: str) -> tuple[str, str]:
    """残疾类别 and 等级: both or neither."""
    k = sealed_code(kind, DisabilityKind, f"{field}.disability", "残疾类别")
    g = sealed_code(grade, DisabilityGrade, f"{field}.disability_grade", "残疾等级")
    if bool(k) != bool(g):
        raise InvalidValue(
            f"{field}.disability_grade",
            "a disability is recorded with its kind and grade",
            zh="残疾类别和残疾等级须同时填写",
        )
    return k, g


@dataclass(frozen=True, slots=True)
class Pairing:
    """结对帮扶, two levels of contact (两级联系人): the pairing cadre's unit, post and phone —
    the cadre is the plan's `helper` — and the union's contact with their phone. The contact
    card (联系卡) shows them. Staff contacts, not the household's personal data."""

    cadre_unit: str = ""
    cadre_post: str = ""
    cadre_phone: str = ""
    union_contact: str = ""
    union_contact_phone: str = ""


def check_pairing(pairing: Pairing | None, field: str = "pairing") -> Pairing | None:
    if pairing is None:
        return None
    if not isinstance(pairing, Pairing):
        raise InvalidValue(field, "a pairing record", zh="结对帮扶信息无效")
    return Pairing(
        cadre_unit=text(pairing.cadre_unit, f"{field}.cadre_unit", limit=200),
        cadre_post=text(pairing.cadre_post, f"{field}.cadre_post", limit=MAX_SHORT),
        cadre_phone=phone(pairing.cadre_phone, f"{field}.cadre_phone"),
        union_contact=text(pairing.union_contact, f"{field}.union_contact", limit=MAX_SHORT),
        union_contact_phone=phone(pairing.union_contact_phone, f"{field}.union_contact_phone"),
    )


def phone(value: object, field: str) -> str:
    """A contact phone: digits, spaces, '-' and '+', at most 32 characters."""
    checked = text(value, field, limit=32)
    if checked and not all(c.isdigit() or c in " -+" for c in checked):
        raise InvalidValue(field, "digits, spaces, '-' or '+'", zh="电话号码只能包含数字")
    return checked


@dataclass(frozen=True, slots=True)
class PlanMeasure:
    """One measure of a plan, as seed 001's 任务清单 (附件3) and seed 002 表七 list them: its kind,
    what it is, the helping department, the lead unit and its responsible leader, the
    establishing union's leader, the pairing contact and the union contact, the deadline; and,
    when the plan is agreed again, its completion (完成情况)."""

    kind: NeedKind
    content: str
    department: str = ""  # 分类型帮扶部门, e.g. 县医保局
    lead_unit: str = ""  # 牵头单位
    lead_leader: str = ""  # 牵头单位责任领导
    union_leader: str = ""  # 建档工会领导
    pairing_contact: str = ""  # 结对帮扶联系人
    union_contact: str = ""  # 工会联系人
    deadline: date | None = None  # 完成时限
    completion: str = ""  # 完成情况
    completed_on: date | None = None


def check_measures(
    items: tuple[PlanMeasure, ...], *, agreed_on: date, today: date, field: str = "tasks"
) -> tuple[PlanMeasure, ...]:
    if not isinstance(items, (tuple, list)):
        raise InvalidValue(field, "a list of measures", zh="帮扶措施无效")
    checked: list[PlanMeasure] = []
    for i, m in enumerate(items):
        where = f"{field}[{i}]"
        if not isinstance(m, PlanMeasure):
            raise InvalidValue(where, "a measure", zh="帮扶措施无效")
        kind = code(m.kind, NeedKind, f"{where}.kind", "帮扶措施类型")
        if kind is None:
            raise InvalidValue(f"{where}.kind", "a measure has a kind", zh="须填写帮扶措施类型")
        if m.deadline is not None and (not isinstance(m.deadline, date) or m.deadline < agreed_on):
            raise InvalidValue(
                f"{where}.deadline",
                "the deadline is on or after the agreement",
                zh="完成时限不能早于计划日期",
            )
        if m.completed_on is not None and (
            not isinstance(m.completed_on, date) or m.completed_on > today
        ):
            raise InvalidValue(
                f"{where}.completed_on", "not in the future", zh="完成日期不能晚于今天"
            )
        completion = text(m.completion, f"{where}.completion")
        if m.completed_on is not None and not completion:
            raise InvalidValue(
                f"{where}.completion",
                "a completed measure says how it was completed",
                zh="已完成的措施须填写完成情况",
            )
        checked.append(
            PlanMeasure(
                kind=kind,
                content=text(m.content, f"{where}.content", required=True),
                department=text(m.department, f"{where}.department", limit=200),
                lead_unit=text(m.lead_unit, f"{where}.lead_unit", limit=200),
                lead_leader=text(m.lead_leader, f"{where}.lead_leader", limit=MAX_SHORT),
                union_leader=text(m.union_leader, f"{where}.union_leader", limit=MAX_SHORT),
                pairing_contact=text(m.pairing_contact, f"{where}.pairing_contact", limit=200),
                union_contact=text(m.union_contact, f"{where}.union_contact", limit=200),
                deadline=m.deadline,
                completion=completion,
                completed_on=m.completed_on,
            )
        )
    return tuple(checked)


@dataclass(frozen=True, slots=True)
class Need:
    """One row of seed 001's 困难清单和帮扶建议 (附件1): of a kind, the problem found, the
    policies the household already enjoys, and the suggestion."""

    kind: NeedKind
    problem: str
    policies: str = ""  # 已享受政策
    suggestion: str = ""  # 帮扶建议


def check_needs(needs: tuple[Need, ...], field: str = "needs") -> tuple[Need, ...]:
    if not isinstance(needs, (tuple, list)):
        raise InvalidValue(field, "a list of needs", zh="困难清单无效")
    seen: set[NeedKind] = set()
    checked: list[Need] = []
    for i, n in enumerate(needs):
        where = f"{field}[{i}]"
        if not isinstance(n, Need):
            raise InvalidValue(where, "a need", zh="困难清单无效")
        kind = code(n.kind, NeedKind, f"{where}.kind", "困难类型")
        if kind is None:
            raise InvalidValue(f"{where}.kind", "a need has a kind", zh="须填写困难类型")
        if kind in seen:
            raise InvalidValue(f"{where}.kind", "one row per kind", zh="同一困难类型只能填写一行")
        seen.add(kind)
        checked.append(
            Need(
                kind=kind,
                problem=text(n.problem, f"{where}.problem", required=True),
                policies=text(n.policies, f"{where}.policies"),
                suggestion=text(n.suggestion, f"{where}.suggestion"),
            )
        )
    return tuple(checked)


@dataclass(frozen=True, slots=True)
class QuarterCosts:
    """家庭季度成本支出情况, seed 002 表五's six lines in yuan (农业生产经营 for migrants)."""

    insurance: Decimal | None = None  # 五险一金交费
    farming: Decimal | None = None  # 农业生产经营成本（限农民工）
    education: Decimal | None = None
    medical: Decimal | None = None
    housing: Decimal | None = None
    living: Decimal | None = None  # 生活及其他成本

    def total(self) -> Decimal:
        lines = (
            self.insurance,
            self.farming,
            self.education,
            self.medical,
            self.housing,
            self.living,
        )
        return sum((v for v in lines if v is not None), Decimal("0.00"))


COST_LINES = ("insurance", "farming", "education", "medical", "housing", "living")


def check_costs(
    costs: QuarterCosts | None, *, migrant: bool, field: str = "costs"
) -> QuarterCosts | None:
    if costs is None:
        return None
    if not isinstance(costs, QuarterCosts):
        raise InvalidValue(field, "the quarter's cost lines", zh="季度支出无效")
    if costs.farming is not None and not migrant:
        raise InvalidValue(
            f"{field}.farming",
            "farming costs are recorded for migrant workers only",
            zh="农业生产经营成本仅限农民工填写",
        )
    values = {
        name: None
        if getattr(costs, name) is None
        else money(getattr(costs, name), f"{field}.{name}")
        for name in COST_LINES
    }
    return QuarterCosts(**values)
