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
    """The levels of the union tree (全国总工会 / 省总工会 / 市总工会 / 区县总工会 / 基层工会).

    A unit's level is stored with it (`domain.units.Units`): a region's and a base-level union's
    agree with their codes; a non-geographic union's (产业、系统、企业工会) is what it was
    registered at (docs/decisions/0014-a-tree-that-reaches-the-nation.md)."""

    NATION = "nation"
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    BASE = "base"

    @property
    def rank(self) -> int:
        """-1 for the nation, 0 for a province, 3 for a base-level union: higher levels have
        smaller ranks."""
        return _LEVEL_RANK[self]

    def is_district_or_above(self) -> bool:
        return self.rank <= _LEVEL_RANK[Level.DISTRICT]


_LEVEL_RANK = {Level.NATION: -1, Level.PROVINCE: 0, Level.CITY: 1, Level.DISTRICT: 2, Level.BASE: 3}


class UnitKind(StrEnum):
    """What a unit of the tree is: the union of a region, a non-geographic union, or a base-level
    union. A non-geographic union's code names its kind by a letter (`domain.units`)."""

    REGIONAL = "regional"  # 地方总工会: the nation, a province, a city, a district
    INDUSTRY = "industry"  # 产业工会
    SYSTEM = "system"  # 系统工会
    ENTERPRISE = "enterprise"  # 企业工会 (with base-level unions below it)
    BASE = "base"  # 基层工会


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


class FindingCheck(StrEnum):
    """What a clerk's check of a civil-affairs finding (民政比对) found."""

    CONFIRMED = "confirmed"  # 核实属实，已处理
    UNFOUNDED = "unfounded"  # 核实不属实


class FollowUpOutcome(StrEnum):
    """What a 回头看 visit to an exited household found (seed 001)."""

    STABLE = "stable"  # 稳定脱困
    AT_RISK = "at_risk"  # 有返困风险
    BACK_IN_HARDSHIP = "back_in_hardship"  # 已返困


# ------------------------------------------------------------------ the 档案表's personal profile
# (the national 档案表 fields, DOMAIN.md "What a file holds"; seed 002 表一–表三; seed 001 附件1)


class PoliticalStatus(StrEnum):
    """政治面貌."""

    PARTY_MEMBER = "party_member"
    PROBATIONARY_MEMBER = "probationary_member"
    LEAGUE_MEMBER = "league_member"
    DEMOCRATIC_PARTY = "democratic_party"
    MASSES = "masses"


class MaritalStatus(StrEnum):
    """婚姻状况."""

    SINGLE = "single"
    MARRIED = "married"
    DIVORCED = "divorced"
    WIDOWED = "widowed"


class HukouType(StrEnum):
    """户口性质."""

    URBAN = "urban"
    RURAL = "rural"
    RESIDENT = "resident"


class HousingType(StrEnum):
    """住房类型 (seed 002 表一/表二's notes: 自建房、自购商品房、廉租房、经济适用房、租房)."""

    SELF_BUILT = "self_built"
    BOUGHT = "bought"
    LOW_RENT = "low_rent"
    AFFORDABLE = "affordable"
    RENTED = "rented"
    PUBLIC_RENTAL = "public_rental"
    DORMITORY = "dormitory"
    NONE = "none"
    OTHER = "other"


class HousingStructure(StrEnum):
    """住房结构."""

    STEEL_CONCRETE = "steel_concrete"
    BRICK_CONCRETE = "brick_concrete"
    BRICK_WOOD = "brick_wood"
    EARTH_WOOD = "earth_wood"
    OTHER = "other"


class WorkStatus(StrEnum):
    """就业状况."""

    EMPLOYED = "employed"
    LAID_OFF = "laid_off"
    UNEMPLOYED = "unemployed"
    FLEXIBLE = "flexible"
    SICK_LEAVE = "sick_leave"
    RETIRED = "retired"
    OTHER = "other"


class EmployerNature(StrEnum):
    """单位性质."""

    STATE_OWNED = "state_owned"
    COLLECTIVE = "collective"
    PRIVATE = "private"
    FOREIGN = "foreign"
    JOINT_STOCK = "joint_stock"
    PUBLIC_INSTITUTION = "public_institution"
    GOVERNMENT = "government"
    SELF_EMPLOYED = "self_employed"
    OTHER = "other"


class ModelWorker(StrEnum):
    """劳模称号: the highest the worker holds (none: 无)."""

    NONE = "none"
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"
    DISTRICT = "district"


class DisabilityKind(StrEnum):
    """残疾类别 (the 残疾证's seven kinds). Personal (health): stored sealed as its code."""

    VISION = "vision"
    HEARING = "hearing"
    SPEECH = "speech"
    PHYSICAL = "physical"
    INTELLECTUAL = "intellectual"
    MENTAL = "mental"
    MULTIPLE = "multiple"


class DisabilityGrade(StrEnum):
    """残疾等级 (一级 the most severe)."""

    FIRST = "1"
    SECOND = "2"
    THIRD = "3"
    FOURTH = "4"


class Education(StrEnum):
    """文化程度."""

    NONE = "none"
    PRESCHOOL = "preschool"
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    VOCATIONAL = "vocational"
    COLLEGE = "college"
    BACHELOR = "bachelor"
    POSTGRADUATE = "postgraduate"


class AidType(StrEnum):
    """帮扶类型, ticked on seed 002 表一/表二 (在所属类型上打“√”)."""

    PRODUCTION = "production"
    TRAINING = "training"
    SCHOOLING = "schooling"
    MEDICAL = "medical"
    SAFETY_NET = "safety_net"


class Insurance(StrEnum):
    """五险一金缴纳情况, by seed 002 表三's codes (A1–A3 pension, B1–B3 medical, C work injury,
    D unemployment, E maternity, F housing fund)."""

    A1 = "A1"
    A2 = "A2"
    A3 = "A3"
    B1 = "B1"
    B2 = "B2"
    B3 = "B3"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class NeedKind(StrEnum):
    """The eight kinds of seed 001's 困难清单 (附件1) and of a plan's measures (附件3's
    分类帮扶措施)."""

    EMPLOYMENT = "employment"
    TRAINING = "training"
    SCHOOLING = "schooling"
    MEDICAL_INSURANCE = "medical_insurance"
    SOCIAL_INSURANCE = "social_insurance"
    HOUSING = "housing"
    DIBAO = "dibao"
    OTHER = "other"


# The Chinese label of every enumeration value, as the source forms and notices word it (seeds
# 000–004, DOMAIN.md glossary): what a clerk reads on screen, in sheets and in messages, and
# what a spreadsheet may say (with the synonyms of `SYNONYMS_ZH`). `tests/unit/test_values.py`
# checks that every value of every enumeration has one.
_LABELS: tuple[tuple[StrEnum, str], ...] = (
    (Level.NATION, "全国总工会"),
    (Level.PROVINCE, "省总工会"),
    (Level.CITY, "市总工会"),
    (Level.DISTRICT, "区县总工会"),
    (Level.BASE, "基层工会"),
    (UnitKind.REGIONAL, "地方总工会"),
    (UnitKind.INDUSTRY, "产业工会"),
    (UnitKind.SYSTEM, "系统工会"),
    (UnitKind.ENTERPRISE, "企业工会"),
    (UnitKind.BASE, "基层工会"),
    (Role.CLERK, "基层工会经办人"),
    (Role.APPROVER, "审核人员"),
    (Role.INSPECTOR, "抽查人员"),
    (Role.ADMIN, "系统管理员"),
    (Role.SYNC, "上级节点同步账户"),
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
    (CategoryScheme.V2016, "2016年认定标准（低保户、低保边缘户、意外致困户）"),
    (CategoryScheme.V2019, "2019年认定标准（深度困难、相对困难、意外致困）"),
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
    (Sex.MALE, "男"),
    (Sex.FEMALE, "女"),
    (Relation.SPOUSE, "配偶"),
    (Relation.CHILD, "子女"),
    (Relation.PARENT, "父母"),
    (Relation.SIBLING, "兄弟姐妹"),
    (Relation.GRANDCHILD, "孙子女"),
    (Relation.OTHER, "其他"),
    (MemberStatus.EMPLOYED, "在职"),
    (MemberStatus.UNEMPLOYED, "无业"),
    (MemberStatus.RETIRED, "退休"),
    (MemberStatus.STUDENT, "学生"),
    (MemberStatus.PRESCHOOL, "学龄前"),
    (MemberStatus.OTHER, "其他"),
    (ExitKind.OUT_OF_HARDSHIP, "脱困"),
    (ExitKind.RELIEVED, "解困"),
    (ExitKind.CANCELLED, "注销"),
    (ExitKind.DELETED, "删除"),
    (Sex.MALE, "男"),
    (Sex.FEMALE, "女"),
    (FindingCheck.CONFIRMED, "核实属实，已处理"),
    (FindingCheck.UNFOUNDED, "核实不属实"),
    (FollowUpOutcome.STABLE, "稳定脱困"),
    (FollowUpOutcome.AT_RISK, "有返困风险"),
    (FollowUpOutcome.BACK_IN_HARDSHIP, "已返困"),
    (ExitReason.INCOME_ABOVE_LINE, "家庭人均收入超过标准"),
    (ExitReason.SAFETY_NET, "纳入政府兜底保障"),
    (ExitReason.DEATH, "死亡"),
    (ExitReason.INELIGIBLE, "不符合建档条件"),
    (ExitReason.RETIRED, "退休"),
    (ExitReason.MOVED, "迁出"),
    (ExitReason.ERRONEOUS_RECORD, "错误录入"),
    (ExitReason.DUPLICATE, "重复建档"),
    # 分类帮扶措施 (seed 001, forms 1 and 3; seed 004, 四、(二)(三))
    (AssistanceKind.EMPLOYMENT, "就业创业"),
    (AssistanceKind.TRAINING, "技能培训"),
    (AssistanceKind.EDUCATION_AID, "子女助学"),
    (AssistanceKind.MEDICAL_AID, "医疗救助"),
    (AssistanceKind.SOCIAL_INSURANCE, "社保"),
    (AssistanceKind.HOUSING, "住房"),
    (AssistanceKind.DIBAO_SAFETY_NET, "低保兜底"),
    (AssistanceKind.LIVING_AID, "生活救助"),
    (AssistanceKind.MICRO_LOAN, "小额贷款"),
    (AssistanceKind.LEGAL_AID, "法律援助"),
    (AssistanceKind.OTHER, "其他"),
    # 分类型帮扶部门 (seed 001, form 3; seed 004, 四、(二))
    (Department.HUMAN_RESOURCES, "人社"),
    (Department.EDUCATION, "教育"),
    (Department.CIVIL_AFFAIRS, "民政"),
    (Department.MEDICAL_INSURANCE, "医保"),
    (Department.HOUSING, "房管"),
    (Department.UNION, "工会"),
    (Department.EMPLOYER, "所在单位"),
    # the documents a file holds (seed 003, attachments 1–6; seed 000, 证明材料 (1)–(4))
    (Material.APPLICATION, "困难职工申报表"),
    (Material.AUTHORISATION, "授权书（声明书）"),
    (Material.ID_COPY, "身份证复印件"),
    (Material.HUKOU_COPY, "户口簿复印件"),
    (Material.INCOME_PROOF, "工资收入证明"),
    (Material.APPRAISAL_MINUTES, "民主评议会议记录"),
    (Material.PUBLICITY_LIST, "困难职工名单公示"),
    (Material.DIAGNOSIS, "诊断证明书"),
    (Material.MEDICAL_BILLS, "治疗费用票据"),
    (Material.ENROLMENT_PROOF, "学生证或在校证明"),
    (Material.DISASTER_ASSESSMENT, "受灾评损证明"),
    (Material.DIBAO_CERTIFICATE, "低保证"),
    (Material.LABOUR_CONTRACT, "劳动合同"),
    (Material.UNEMPLOYMENT_PROOF, "失业证明"),
    (Material.DISABILITY_CERTIFICATE, "残疾证"),
    (Material.EXIT_EVIDENCE, "退出证明材料"),
    (Material.OTHER, "其他材料"),
    (RecheckResult.STILL_ELIGIBLE, "仍符合条件"),
    (RecheckResult.CATEGORY_CHANGED, "困难类别变化"),
    (RecheckResult.EXIT_DUE, "应予退出"),
    (PoliticalStatus.PARTY_MEMBER, "中共党员"),
    (PoliticalStatus.PROBATIONARY_MEMBER, "中共预备党员"),
    (PoliticalStatus.LEAGUE_MEMBER, "共青团员"),
    (PoliticalStatus.DEMOCRATIC_PARTY, "民主党派"),
    (PoliticalStatus.MASSES, "群众"),
    (MaritalStatus.SINGLE, "未婚"),
    (MaritalStatus.MARRIED, "已婚"),
    (MaritalStatus.DIVORCED, "离异"),
    (MaritalStatus.WIDOWED, "丧偶"),
    (HukouType.URBAN, "城镇户口"),
    (HukouType.RURAL, "农业户口"),
    (HukouType.RESIDENT, "居民户口"),
    (HousingType.SELF_BUILT, "自建房"),
    (HousingType.BOUGHT, "自购商品房"),
    (HousingType.LOW_RENT, "廉租房"),
    (HousingType.AFFORDABLE, "经济适用房"),
    (HousingType.RENTED, "租房"),
    (HousingType.PUBLIC_RENTAL, "公共租赁住房"),
    (HousingType.DORMITORY, "单位宿舍"),
    (HousingType.NONE, "无房"),
    (HousingType.OTHER, "其他住房"),
    (HousingStructure.STEEL_CONCRETE, "钢混结构"),
    (HousingStructure.BRICK_CONCRETE, "砖混结构"),
    (HousingStructure.BRICK_WOOD, "砖木结构"),
    (HousingStructure.EARTH_WOOD, "土木结构"),
    (HousingStructure.OTHER, "其他结构"),
    (WorkStatus.EMPLOYED, "在岗"),
    (WorkStatus.LAID_OFF, "下岗"),
    (WorkStatus.UNEMPLOYED, "失业"),
    (WorkStatus.FLEXIBLE, "灵活就业"),
    (WorkStatus.SICK_LEAVE, "病休"),
    (WorkStatus.RETIRED, "退休"),
    (WorkStatus.OTHER, "其他"),
    (EmployerNature.STATE_OWNED, "国有企业"),
    (EmployerNature.COLLECTIVE, "集体企业"),
    (EmployerNature.PRIVATE, "私营企业"),
    (EmployerNature.FOREIGN, "外资企业"),
    (EmployerNature.JOINT_STOCK, "股份制企业"),
    (EmployerNature.PUBLIC_INSTITUTION, "事业单位"),
    (EmployerNature.GOVERNMENT, "机关"),
    (EmployerNature.SELF_EMPLOYED, "个体工商户"),
    (EmployerNature.OTHER, "其他"),
    (ModelWorker.NONE, "无"),
    (ModelWorker.NATIONAL, "全国劳动模范"),
    (ModelWorker.PROVINCIAL, "省部级劳动模范"),
    (ModelWorker.CITY, "地市级劳动模范"),
    (ModelWorker.DISTRICT, "区县级劳动模范"),
    (DisabilityKind.VISION, "视力残疾"),
    (DisabilityKind.HEARING, "听力残疾"),
    (DisabilityKind.SPEECH, "言语残疾"),
    (DisabilityKind.PHYSICAL, "肢体残疾"),
    (DisabilityKind.INTELLECTUAL, "智力残疾"),
    (DisabilityKind.MENTAL, "精神残疾"),
    (DisabilityKind.MULTIPLE, "多重残疾"),
    (DisabilityGrade.FIRST, "一级"),
    (DisabilityGrade.SECOND, "二级"),
    (DisabilityGrade.THIRD, "三级"),
    (DisabilityGrade.FOURTH, "四级"),
    (Education.NONE, "未上学"),
    (Education.PRESCHOOL, "学龄前"),
    (Education.PRIMARY, "小学"),
    (Education.JUNIOR, "初中"),
    (Education.SENIOR, "高中"),
    (Education.VOCATIONAL, "中专"),
    (Education.COLLEGE, "大专"),
    (Education.BACHELOR, "本科"),
    (Education.POSTGRADUATE, "研究生"),
    # 帮扶类型 (seed 002 表一/表二)
    (AidType.PRODUCTION, "发展生产"),
    (AidType.TRAINING, "教育培训"),
    (AidType.SCHOOLING, "助学帮扶"),
    (AidType.MEDICAL, "医疗救助"),
    (AidType.SAFETY_NET, "保障兜底"),
    # 五险一金 (seed 002 表三, 填表说明 2)
    (Insurance.A1, "A1城镇职工养老保险"),
    (Insurance.A2, "A2城镇职工灵活再就业养老保险"),
    (Insurance.A3, "A3农村养老保险"),
    (Insurance.B1, "B1城镇职工医疗保险"),
    (Insurance.B2, "B2城镇居民医疗保险"),
    (Insurance.B3, "B3新型农村合作医疗保险"),
    (Insurance.C, "C工伤保险"),
    (Insurance.D, "D失业保险"),
    (Insurance.E, "E生育保险"),
    (Insurance.F, "F住房公积金"),
    # 困难类型 (seed 001 附件1) and 分类帮扶措施 (附件3)
    (NeedKind.EMPLOYMENT, "就业创业"),
    (NeedKind.TRAINING, "技能培训"),
    (NeedKind.SCHOOLING, "子女助学"),
    (NeedKind.MEDICAL_INSURANCE, "医保"),
    (NeedKind.SOCIAL_INSURANCE, "社保"),
    (NeedKind.HOUSING, "住房"),
    (NeedKind.DIBAO, "低保"),
    (NeedKind.OTHER, "其它"),
)

# What clerks write for the same value besides its label (spreadsheets, paper ledgers): accepted
# wherever a sheet is read (`adapters/sheets/reading.py: enum_by_label`), never shown. A synonym
# is unique within its enumeration; `tests/unit/test_sheets.py` table-tests them. Keyed by
# (class, value) in `SYNONYMS_ZH`, as `LABELS_ZH` is.
_SYNONYMS: tuple[tuple[StrEnum, tuple[str, ...]], ...] = (
    (Status.APPROVED, ("已认定", "已建档", "在册")),
    (Status.SENT_BACK, ("退回",)),
    (Status.REJECTED, ("不予认定",)),
    (Status.OUT_OF_HARDSHIP, ("脱困",)),
    (Status.RELIEVED, ("解困",)),
    (Status.CANCELLED, ("注销",)),
    (Status.DELETED, ("删除",)),
    (Status.RETURNED, ("返困",)),
    (Category.DEEP, ("深度", "深度困难职工")),
    (Category.RELATIVE, ("相对", "相对困难职工")),
    (Category.ACCIDENTAL, ("意外致困职工",)),
    (Category.MARGINAL, ("低保边缘", "低保边缘家庭")),
    (Category.DIBAO, ("低保家庭",)),
    (FileLevel.NATIONAL, ("全国", "国家级", "全总级")),
    (FileLevel.PROVINCIAL, ("省", "省总级")),
    (FileLevel.CITY, ("市级", "地市", "市")),
    (FileLevel.DISTRICT, ("区县", "县级", "区级", "旗级", "县区级", "旗区级")),
    (FileLevel.BASE, ("基层级", "基层工会")),
    (Cause.ILLNESS, ("疾病", "患病", "重病", "大病", "重大疾病", "因病致困", "病")),
    (Cause.DISABILITY, ("残疾", "因残致困", "残")),
    (Cause.EDUCATION, ("子女上学", "子女就学", "上学", "因学致困", "助学")),
    (Cause.DISASTER, ("自然灾害", "受灾", "灾害", "因灾致困")),
    (Cause.ACCIDENT, ("意外事故", "突发事件", "事故", "意外伤害")),
    (Cause.UNEMPLOYMENT, ("失业", "下岗", "下岗失业", "待业")),
    (Cause.LOW_WAGE, ("低收入", "工资低", "收入偏低", "工资收入低")),
    (Cause.ENTERPRISE_DIFFICULTY, ("企业经营困难", "企业停产", "企业停产半停产")),
    (Cause.SINGLE_PARENT, ("单亲家庭",)),
    (Cause.HOUSING, ("住房", "无房")),
    (Cause.OTHER, ("其它",)),
    (WorkerKind.URBAN, ("城镇", "职工", "城镇困难职工")),
    (WorkerKind.MIGRANT, ("进城务工人员", "农民工职工")),
    (Sex.MALE, ("男性",)),
    (Sex.FEMALE, ("女性",)),
    (Relation.SPOUSE, ("妻", "夫", "妻子", "丈夫", "爱人", "夫妻")),
    (Relation.CHILD, ("儿子", "女儿", "子", "女", "长子", "次子", "长女", "次女", "儿女")),
    (Relation.PARENT, ("父亲", "母亲", "父", "母")),
    (Relation.SIBLING, ("兄弟", "姐妹", "哥哥", "弟弟", "姐姐", "妹妹", "兄", "弟", "姐", "妹")),
    (Relation.GRANDCHILD, ("孙子", "孙女", "外孙", "外孙女")),
    (Relation.OTHER, ("其它",)),
    (MemberStatus.EMPLOYED, ("在岗", "就业", "务工", "在业", "工作")),
    (MemberStatus.UNEMPLOYED, ("失业", "待业", "下岗")),
    (MemberStatus.RETIRED, ("离退休", "已退休", "退休人员")),
    (MemberStatus.STUDENT, ("在校", "在校学生", "在读", "上学")),
    (MemberStatus.PRESCHOOL, ("学龄前儿童", "幼儿", "婴幼儿")),
    (MemberStatus.OTHER, ("其它",)),
    (ExitKind.OUT_OF_HARDSHIP, ("已脱困",)),
    (ExitKind.RELIEVED, ("已解困",)),
    (ExitKind.CANCELLED, ("已注销",)),
    (ExitKind.DELETED, ("已删除",)),
    (ExitReason.INCOME_ABOVE_LINE, ("收入超过标准", "收入高于标准", "收入超标", "收入增加")),
    (ExitReason.SAFETY_NET, ("政府兜底", "纳入低保", "兜底保障")),
    (ExitReason.DEATH, ("去世", "病故", "亡故")),
    (ExitReason.INELIGIBLE, ("不符合条件", "不符合标准")),
    (ExitReason.MOVED, ("调离", "迁走", "离职")),
    (ExitReason.ERRONEOUS_RECORD, ("录入错误", "误录")),
    (ExitReason.DUPLICATE, ("重复", "重复录入")),
    (AssistanceKind.EMPLOYMENT, ("就业", "创业", "就业帮扶", "职业介绍", "发展生产")),
    (AssistanceKind.TRAINING, ("培训", "教育培训", "职业培训")),
    (AssistanceKind.EDUCATION_AID, ("助学", "助学帮扶", "金秋助学")),
    (AssistanceKind.MEDICAL_AID, ("医疗", "医疗保障", "医保", "大病救助", "医疗互助")),
    (AssistanceKind.SOCIAL_INSURANCE, ("社会保险", "社保政策落实")),
    (AssistanceKind.HOUSING, ("住房保障", "公共租赁住房")),
    (AssistanceKind.DIBAO_SAFETY_NET, ("低保", "保障兜底", "兜底保障", "社会救助兜底")),
    (AssistanceKind.LIVING_AID, ("临时救助", "生活补助", "送温暖")),
    (AssistanceKind.MICRO_LOAN, ("贷款", "小额担保贷款")),
    (AssistanceKind.LEGAL_AID, ("法律",)),
    (AssistanceKind.OTHER, ("其它", "其它困难")),
    (
        Department.HUMAN_RESOURCES,
        ("人社部门", "人社局", "人力资源和社会保障局", "人力资源社会保障局"),
    ),
    (Department.EDUCATION, ("教育部门", "教育局")),
    (Department.CIVIL_AFFAIRS, ("民政部门", "民政局")),
    (Department.MEDICAL_INSURANCE, ("医保部门", "医保局", "医疗保障局")),
    (Department.HOUSING, ("房管部门", "房管局", "住建局", "住房和城乡建设局")),
    (Department.UNION, ("工会部门", "总工会", "区总工会", "县总工会", "市总工会")),
    (Department.EMPLOYER, ("单位", "用人单位", "本单位", "工作单位")),
    # what clerks call the proof materials in an import sheet's 附件 column (seed 003's list)
    (Material.APPLICATION, ("申报表", "申请表", "困难职工申请表")),
    (Material.AUTHORISATION, ("授权书", "声明书")),
    (Material.ID_COPY, ("身份证", "身份证明")),
    (Material.HUKOU_COPY, ("户口簿", "户口本", "户口")),
    (Material.INCOME_PROOF, ("收入证明", "工资证明", "职工(家庭成员)工资收入证明")),
    (Material.APPRAISAL_MINUTES, ("评议记录", "会议记录", "民主评议记录")),
    (Material.PUBLICITY_LIST, ("公示", "公示名单", "名单公示")),
    (Material.DIAGNOSIS, ("诊断证明", "诊断书", "病历")),
    (Material.MEDICAL_BILLS, ("医疗票据", "医疗费用票据", "治疗费用复印件", "医药费发票")),
    (Material.ENROLMENT_PROOF, ("学生证", "在校证明", "入学通知书")),
    (Material.DISASTER_ASSESSMENT, ("受灾证明", "评损证明", "受灾评损")),
    (Material.DIBAO_CERTIFICATE, ("低保证明", "低保证书")),
    (Material.LABOUR_CONTRACT, ("合同", "劳动合同书")),
    (Material.UNEMPLOYMENT_PROOF, ("失业证", "失业登记证", "下岗证")),
    (Material.DISABILITY_CERTIFICATE, ("残疾人证",)),
    (Material.EXIT_EVIDENCE, ("退出证明", "脱困证明")),
    (Material.OTHER, ("其他", "其它")),
)

# Keyed by (class, value): StrEnum members of different classes with the same value compare and
# hash equal ("city" is both a Level and a FileLevel), so the class must be part of the key.
LABELS_ZH: dict[tuple[type[StrEnum], str], str] = {(type(k), k.value): v for k, v in _LABELS}
SYNONYMS_ZH: dict[tuple[type[StrEnum], str], tuple[str, ...]] = {
    (type(k), k.value): v for k, v in _SYNONYMS
}


def label(value: StrEnum) -> str:
    """The Chinese label of an enumeration value (every value has one; the code is a last resort
    for a value added without its label, which `tests/unit/test_values.py` refuses)."""
    return LABELS_ZH.get((type(value), value.value), value.value)


def synonyms(value: StrEnum) -> tuple[str, ...]:
    """What clerks write for an enumeration value besides its label (`_SYNONYMS`)."""
    return SYNONYMS_ZH.get((type(value), value.value), ())


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
        amount = Decimal(value) if not isinstance(value, Decimal) else value  # type: ignore[arg-type]  # any object: Decimal() raises TypeError (caught below) for one it cannot read
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
