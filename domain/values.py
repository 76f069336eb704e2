"""Value types of the domain: enumerations with their Chinese labels, money, dates and the actor.

Enumerations are `StrEnum`s whose values are the stored codes (stable; never renamed without an
alias). `label(x)` gives the Chinese label a clerk reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import NewType
from uuid import UUID

from domain.errors import InvalidValue

FileId = NewType("FileId", UUID)


class Level(StrEnum):
    """The four levels of the union tree (省总工会 / 市总工会 / 区县总工会 / 基层工会)."""

    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    BASE = "base"

    @property
    def rank(self) -> int:
        """0 for a province, 3 for a base-level union: higher levels have smaller ranks."""
        return _LEVEL_RANK[self]

    def is_district_or_above(self) -> bool:
        return self.rank <= _LEVEL_RANK[Level.DISTRICT]


_LEVEL_RANK = {Level.PROVINCE: 0, Level.CITY: 1, Level.DISTRICT: 2, Level.BASE: 3}


class Role(StrEnum):
    CLERK = "clerk"  # 基层工会经办人
    APPROVER = "approver"  # 帮扶中心审核人
    INSPECTOR = "inspector"  # 抽查 / 核对
    ADMIN = "admin"
    SYNC = "sync"  # a machine account of an upstream node


class Status(StrEnum):
    APPLIED = "applied"
    VERIFIED = "verified"
    APPRAISED = "appraised"
    APPROVED = "approved"
    SENT_BACK = "sent_back"
    REJECTED = "rejected"
    OUT_OF_HARDSHIP = "out_of_hardship"
    RELIEVED = "relieved"
    CANCELLED = "cancelled"
    DELETED = "deleted"
    RETURNED = "returned"


class CategoryScheme(StrEnum):
    """Which generation of categories a file was judged under (domain-research.md §2.2, §2.3)."""

    V2016 = "v2016"  # 低保户 / 低保边缘户 / 意外致困户
    V2019 = "v2019"  # 深度困难 / 相对困难 / 意外致困


class Category(StrEnum):
    DEEP = "deep"
    RELATIVE = "relative"
    ACCIDENTAL = "accidental"
    # the 2016 scheme
    DIBAO = "dibao"
    MARGINAL = "marginal"
    ACCIDENT = "accident"


SCHEME_CATEGORIES: dict[CategoryScheme, tuple[Category, ...]] = {
    CategoryScheme.V2019: (Category.DEEP, Category.RELATIVE, Category.ACCIDENTAL),
    CategoryScheme.V2016: (Category.DIBAO, Category.MARGINAL, Category.ACCIDENT),
}


class FileLevel(StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"
    DISTRICT = "district"
    BASE = "base"


class Cause(StrEnum):
    ILLNESS = "illness"
    DISABILITY = "disability"
    EDUCATION = "education"
    DISASTER = "disaster"
    ACCIDENT = "accident"
    UNEMPLOYMENT = "unemployment"
    LOW_WAGE = "low_wage"
    ENTERPRISE_DIFFICULTY = "enterprise_difficulty"
    SINGLE_PARENT = "single_parent"
    HOUSING = "housing"
    OTHER = "other"


class WorkerKind(StrEnum):
    URBAN = "urban"
    MIGRANT = "migrant"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Relation(StrEnum):
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    GRANDCHILD = "grandchild"
    OTHER = "other"


class MemberStatus(StrEnum):
    EMPLOYED = "employed"
    UNEMPLOYED = "unemployed"
    RETIRED = "retired"
    STUDENT = "student"
    PRESCHOOL = "preschool"
    OTHER = "other"


class ExitKind(StrEnum):
    OUT_OF_HARDSHIP = "out_of_hardship"  # 脱困
    RELIEVED = "relieved"  # 解困
    CANCELLED = "cancelled"  # 注销
    DELETED = "deleted"  # 删除


class ExitReason(StrEnum):
    INCOME_ABOVE_LINE = "income_above_line"
    SAFETY_NET = "safety_net"
    DEATH = "death"
    INELIGIBLE = "ineligible"
    RETIRED = "retired"
    MOVED = "moved"
    ERRONEOUS_RECORD = "erroneous_record"
    DUPLICATE = "duplicate"


class AssistanceKind(StrEnum):
    EMPLOYMENT = "employment"
    TRAINING = "training"
    EDUCATION_AID = "education_aid"
    MEDICAL_AID = "medical_aid"
    SOCIAL_INSURANCE = "social_insurance"
    HOUSING = "housing"
    DIBAO_SAFETY_NET = "dibao_safety_net"
    LIVING_AID = "living_aid"
    MICRO_LOAN = "micro_loan"
    LEGAL_AID = "legal_aid"
    OTHER = "other"


class Department(StrEnum):
    HUMAN_RESOURCES = "human_resources"  # 人社
    EDUCATION = "education"  # 教育
    CIVIL_AFFAIRS = "civil_affairs"  # 民政
    MEDICAL_INSURANCE = "medical_insurance"  # 医保
    HOUSING = "housing"  # 房管
    UNION = "union"  # 工会
    EMPLOYER = "employer"  # 所在单位


class Material(StrEnum):
    """Documents on file (附件)."""

    APPLICATION = "application"
    AUTHORISATION = "authorisation"
    ID_COPY = "id_copy"
    HUKOU_COPY = "hukou_copy"
    INCOME_PROOF = "income_proof"
    APPRAISAL_MINUTES = "appraisal_minutes"
    PUBLICITY_LIST = "publicity_list"
    DIAGNOSIS = "diagnosis"
    MEDICAL_BILLS = "medical_bills"
    ENROLMENT_PROOF = "enrolment_proof"
    DISASTER_ASSESSMENT = "disaster_assessment"
    DIBAO_CERTIFICATE = "dibao_certificate"
    LABOUR_CONTRACT = "labour_contract"
    UNEMPLOYMENT_PROOF = "unemployment_proof"
    DISABILITY_CERTIFICATE = "disability_certificate"
    EXIT_EVIDENCE = "exit_evidence"
    OTHER = "other"


class RecheckResult(StrEnum):
    STILL_ELIGIBLE = "still_eligible"
    CATEGORY_CHANGED = "category_changed"
    EXIT_DUE = "exit_due"


_LABELS: tuple[tuple[StrEnum, str], ...] = (
    (Level.PROVINCE, "省总工会"),
    (Level.CITY, "市总工会"),
    (Level.DISTRICT, "区县总工会"),
    (Level.BASE, "基层工会"),
    (Status.APPLIED, "已申请"),
    (Status.VERIFIED, "已入户调查"),
    (Status.APPRAISED, "已评议公示"),
    (Status.APPROVED, "在档"),
    (Status.SENT_BACK, "已退回"),
    (Status.REJECTED, "不予建档"),
    (Status.OUT_OF_HARDSHIP, "已脱困"),
    (Status.RELIEVED, "已解困"),
    (Status.CANCELLED, "已注销"),
    (Status.DELETED, "已删除"),
    (Status.RETURNED, "返困待审"),
    (Category.DEEP, "深度困难"),
    (Category.RELATIVE, "相对困难"),
    (Category.ACCIDENTAL, "意外致困"),
    (Category.DIBAO, "低保户"),
    (Category.MARGINAL, "低保边缘户"),
    (Category.ACCIDENT, "意外致困户"),
    (FileLevel.NATIONAL, "全国级"),
    (FileLevel.PROVINCIAL, "省级"),
    (FileLevel.CITY, "地市级"),
    (FileLevel.DISTRICT, "区县级"),
    (FileLevel.BASE, "基层"),
    (Cause.ILLNESS, "因病"),
    (Cause.DISABILITY, "因残"),
    (Cause.EDUCATION, "因学"),
    (Cause.DISASTER, "因灾"),
    (Cause.ACCIDENT, "意外"),
    (Cause.UNEMPLOYMENT, "失业下岗"),
    (Cause.LOW_WAGE, "收入低"),
    (Cause.ENTERPRISE_DIFFICULTY, "企业困难"),
    (Cause.SINGLE_PARENT, "单亲"),
    (Cause.HOUSING, "住房困难"),
    (Cause.OTHER, "其他"),
    (WorkerKind.URBAN, "城镇职工"),
    (WorkerKind.MIGRANT, "农民工"),
    (ExitKind.OUT_OF_HARDSHIP, "脱困"),
    (ExitKind.RELIEVED, "解困"),
    (ExitKind.CANCELLED, "注销"),
    (ExitKind.DELETED, "删除"),
    (Sex.MALE, "男"),
    (Sex.FEMALE, "女"),
)


# Keyed by (class, value): StrEnum members of different classes with the same value compare and
# hash equal ("city" is both a Level and a FileLevel), so the class must be part of the key.
LABELS_ZH: dict[tuple[type[StrEnum], str], str] = {(type(k), k.value): v for k, v in _LABELS}


def label(value: StrEnum) -> str:
    """The Chinese label of an enumeration value, or its code where none is defined."""
    return LABELS_ZH.get((type(value), value.value), value.value)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: recorded on every event (the audit trail's 'who')."""

    user: str
    unit: str
    role: Role


_CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000000")  # a trillion yuan: far beyond any household's figures


def money(value: object, field: str = "amount") -> Decimal:
    """Parse an amount of yuan into a `Decimal` rounded to the fen; refuse NaN and negatives.

    Accepts `Decimal`, `int` or a decimal string. A `float` is refused: money never passes
    through binary floating point.
    """
    if isinstance(value, (bool, float)):
        raise InvalidValue(
            field,
            "money must be a decimal string or integer, not a float",
            zh="金额须为十进制数，不能是浮点数",
        )
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidValue(field, f"not an amount: {value!r}", zh="不是有效金额") from None
    if not amount.is_finite():
        raise InvalidValue(field, "amount must be finite", zh="金额须为有限数")
    if amount < 0:
        raise InvalidValue(field, "amount must not be negative", zh="金额不能为负数")
    if amount > MAX_AMOUNT:
        raise InvalidValue(field, f"amount above {MAX_AMOUNT} yuan", zh="金额过大")
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP) + 0  # + 0 turns -0.00 into 0.00


DATE_EXAMPLE = "2026-11-21"


def iso_day(text: str, field: str) -> date:
    """Parse a date written in ISO 8601 (2026-11-21), as the API and the command line take it."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidValue(
            field, f"a date such as {DATE_EXAMPLE}", zh=f"日期格式应为{DATE_EXAMPLE}"
        ) from None


def business_date(
    value: date,
    *,
    today: date,
    field: str,
    not_before: date | None = None,
    not_before_field: str = "",
) -> date:
    """Check a business date: explicit, not in the future, and not before an earlier step."""
    if not isinstance(value, date):
        raise InvalidValue(field, "a date is required", zh="须填写日期")
    if isinstance(value, datetime):
        raise InvalidValue(field, "a date without a time is required", zh="须填写日期（不含时间）")
    if value > today:
        raise InvalidValue(field, f"{value.isoformat()} is in the future", zh="日期不能晚于今天")
    if not_before is not None and value < not_before:
        raise InvalidValue(
            field,
            f"{value.isoformat()} is before {not_before_field} {not_before.isoformat()}",
            zh=f"日期不能早于{not_before_field}（{not_before.isoformat()}）",
        )
    return value
