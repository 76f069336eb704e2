"""The forms of one household, laid out as the seeds print them, from the file's events as of a
version: `sections(form, paper)` gives the `adapters.forms.pdf` sections of one form.

Sources (docs/decisions/0012-paper-forms.md): 授权书 and 申报表 — seed 003's templates 1–2;
档案表 — the national 档案表 fields (domain-research §3) with seed 002 表一–表三 (the head's
profile, a migrant's land and housing at home, 家庭成员信息); 解困脱困方案 — seed 002 表四/表七 with
seed 001 附件3's columns; 困难清单和帮扶建议 — seed 001 附件1; 走访记录表 — seed 001 附件2 with seed
002 表五's quarter lines; 帮扶台账 — seed 000's 帮扶情况表 and seed 003's template 8; 联系卡 — seed
003's template 7.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from adapters.forms.pdf import (
    Block,
    Cell,
    Grid,
    Paper,
    Paragraph,
    Section,
    Signatures,
    Stamp,
    Table,
)
from adapters.forms.pdf import label as lab
from adapters.forms.pdf import value as val
from domain.household import HouseholdFile, Member
from domain.idnumber import parse_id_number
from domain.printing import FORM_TITLES, HouseholdForm
from domain.profile import Housing, Need, PlanMeasure
from domain.values import (
    AidType,
    Cause,
    DisabilityGrade,
    DisabilityKind,
    Material,
    NeedKind,
    WorkerKind,
    label,
)

SOURCES = {
    HouseholdForm.AUTHORISATION: "依据：河北省总工会困难职工建档模板1（授权书/声明书）",
    HouseholdForm.APPLICATION: "依据：河北省总工会困难职工建档模板2（困难职工申报表）",
    HouseholdForm.FILE: "依据：全国困难职工档案表；桃源县工作手册表三（家庭成员信息）",
    HouseholdForm.PLAN: "依据：桃源县工作手册表四、表七（解困脱困方案）",
    HouseholdForm.NEEDS: "依据：渭临工发〔2020〕62号附件1（困难清单和帮扶建议）",
    HouseholdForm.VISITS: "依据：渭临工发〔2020〕62号附件2；桃源县工作手册表五",
    HouseholdForm.AID: "依据：太极委发〔2019〕29号帮扶情况表；河北省总工会模板8（帮扶台账）",
    HouseholdForm.CARD: "依据：河北省总工会模板7（解困脱困联系卡）",
}
PAPER = {HouseholdForm.CARD: Paper.CARD}

E = TypeVar("E")


def day(value: date | None) -> str:
    return "" if value is None else f"{value.year}年{value.month}月{value.day}日"


def yuan(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def named(value: object) -> str:
    """The Chinese label of an optional enumeration value ('' when not recorded)."""
    return "" if value is None else label(value) if isinstance(value, StrEnum) else str(value)


def sealed_label(code: str, kind: type[StrEnum]) -> str:
    """The label of a personal code kept as text (a marker such as 已销毁 as it is)."""
    try:
        return label(kind(code)) if code else ""
    except ValueError:
        return code


def yes_no(value: bool | None) -> str:
    return "" if value is None else "是" if value else "否"


def ticks(chosen: Sequence[AidType]) -> str:
    """帮扶类型 as seed 002 表一 ticks them: every type, the chosen ones marked √."""
    return "  ".join(f"{'√' if t in chosen else '□'}{label(t)}" for t in AidType)


def housing_text(housing: Housing | None) -> str:
    if housing is None:
        return ""
    parts = [
        named(housing.kind),
        named(housing.structure),
        "" if housing.area is None else f"{housing.area}㎡",
        "" if housing.dilapidated is None else ("危房" if housing.dilapidated else "非危房"),
    ]
    return "，".join(p for p in parts if p)


@dataclass(frozen=True)
class Household:
    """A file as of one version, with the events that made it (decoded)."""

    file: HouseholdFile
    events: Sequence[object]
    unit_name: str

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    def sex(self, id_number: str) -> str:
        try:
            return label(parse_id_number(id_number).sex)
        except Exception:
            return ""

    def born(self, id_number: str) -> str:
        try:
            born = parse_id_number(id_number).birth_date
        except Exception:
            return ""
        return f"{born.year}年{born.month}月"

    @property
    def applied(self) -> HouseholdFile.Applied:
        return self.of(HouseholdFile.Applied)[0]

    @property
    def approved(self) -> HouseholdFile.Approved | None:
        found = self.of(HouseholdFile.Approved)
        return found[-1] if found else None

    @property
    def appraised(self) -> HouseholdFile.Appraised | None:
        found = self.of(HouseholdFile.Appraised)
        return found[-1] if found else None

    @property
    def verified(self) -> HouseholdFile.Verified | None:
        found = self.of(HouseholdFile.Verified)
        return found[-1] if found else None

    def cause(self) -> str:
        f = self.file
        if f.primary_cause is None:
            return ""
        return "、".join(label(c) for c in (f.primary_cause, *f.secondary_causes))

    def category(self) -> str:
        return "" if self.file.category is None else label(self.file.category)

    def level(self) -> str:
        return "" if self.file.file_level is None else label(self.file.file_level)

    @property
    def plan(self) -> HouseholdFile.PlanAgreed | None:
        found = self.of(HouseholdFile.PlanAgreed)
        return found[-1] if found else None

    def needs(self) -> dict[NeedKind, tuple[Need, date]]:
        """The 困难清单 as the visits drew it up: of each kind, the latest visit's row."""
        rows: dict[NeedKind, tuple[Need, date]] = {}
        for v in self.of(HouseholdFile.Visited):
            for n in v.needs:
                if n.kind not in rows or rows[n.kind][1] <= v.visited_on:
                    rows[n.kind] = (n, v.visited_on)
        return rows

    def cadre(self) -> tuple[str, str, str]:
        """The pairing cadre's name, 单位及职务 and phone: the plan's, else the latest visit's."""
        p = self.plan
        if p is not None and p.pairing is not None:
            unit_post = " ".join(x for x in (p.pairing.cadre_unit, p.pairing.cadre_post) if x)
            return p.helper, unit_post, p.pairing.cadre_phone
        for v in reversed(self.of(HouseholdFile.Visited)):
            if v.cadre_unit or v.cadre_post or v.cadre_phone:
                return (
                    v.cadre,
                    " ".join(x for x in (v.cadre_unit, v.cadre_post) if x),
                    v.cadre_phone,
                )
        return self.file.helper or "", "", ""

    def disability(self) -> str:
        head = self.file.head
        return " ".join(
            x
            for x in (
                sealed_label(head.disability, DisabilityKind),
                sealed_label(head.disability_grade, DisabilityGrade),
            )
            if x
        )


def _head_rows(h: Household) -> tuple[tuple[Cell, ...], ...]:
    f, head = h.file, h.file.head
    return (
        (
            lab("户主姓名"),
            val(head.name),
            lab("性别"),
            val(h.sex(head.id_number)),
            lab("出生年月"),
            val(h.born(head.id_number)),
        ),
        (lab("身份证号码"), val(head.id_number, 3), lab("联系电话"), val(head.phone)),
        (
            lab("民族"),
            val(head.ethnicity),
            lab("职工类别"),
            val(label(f.worker_kind)),
            lab("健康状况"),
            val(head.health),
        ),
        (lab("工作单位"), val(head.employer, 5)),
        (lab("家庭地址"), val(head.address, 5)),
    )


WIDE6 = (14, 20, 10, 16, 12, 28)


def _members(h: Household, rows: Sequence[Member]) -> Table:
    return Table(
        (
            "姓名",
            "性别",
            "身份证号码",
            "与户主关系",
            "健康状况",
            "人员状态",
            "年收入（元）",
            "共同生活",
        ),
        tuple(
            (
                m.name,
                h.sex(m.id_number),
                m.id_number,
                label(m.relation),
                m.health,
                label(m.status),
                yuan(m.annual_income),
                "是" if m.lives_together else "否",
            )
            for m in rows
        ),
        (12, 6, 28, 10, 12, 10, 12, 8),
        empty_rows=max(0, 3 - len(rows)),
    )


def _profile_rows(h: Household) -> tuple[tuple[Cell, ...], ...]:
    """The head's profile as the 档案表 and seed 002 表一/表二 print it (WIDE6 columns)."""
    head = h.file.head
    return (
        (
            lab("政治面貌"),
            val(named(head.political_status)),
            lab("婚姻状况"),
            val(named(head.marital_status)),
            lab("文化程度"),
            val(named(head.education)),
        ),
        (
            lab("户口性质"),
            val(named(head.hukou_type)),
            lab("户籍所在地"),
            val(head.hukou_place, 3),
        ),
        (
            lab("就业状况"),
            val(named(head.work_status)),
            lab("单位性质"),
            val(named(head.employer_nature)),
            lab("劳模称号"),
            val(named(head.model_worker)),
        ),
        (
            lab("残疾类别及等级"),
            val(h.disability()),
            lab("住房情况"),
            val(housing_text(head.housing), 3),
        ),
        (lab("主要财产"), val(head.main_property, 5)),
        (lab("主要意愿"), val(head.wishes, 5)),
        (lab("帮扶类型"), val(ticks(head.aid_types), 5)),
    )


def _migrant_rows(h: Household) -> tuple[tuple[Cell, ...], ...]:
    """A migrant worker's land and housing at home (seed 002 表一), in WIDE6 columns."""
    head = h.file.head
    if h.file.worker_kind is not WorkerKind.MIGRANT:
        return ()
    land = head.land
    return (
        (
            lab("耕地：水田（亩）"),
            val(yuan(land.paddy) if land else ""),
            lab("旱地（亩）"),
            val(yuan(land.dry) if land else ""),
            lab("养殖水面（亩）"),
            val(yuan(land.aquaculture) if land else ""),
        ),
        (
            lab("林地：经济林（亩）"),
            val(yuan(land.economic_forest) if land else ""),
            lab("用材林（亩）"),
            val(yuan(land.timber_forest) if land else ""),
            lab(""),
            val(""),
        ),
        (lab("祖居地住房"), val(housing_text(head.home_housing), 5)),
        (lab("务工处居地"), val(head.address, 5)),
    )


def _members_more(rows: Sequence[Member]) -> Table:
    """The rest of seed 002 表三 per member: 文化程度, 五险一金 codes, 特长, 单位（学校）."""
    return Table(
        ("姓名", "文化程度", "五险一金缴纳情况", "特长", "单位（学校）"),
        tuple(
            (
                m.name,
                named(m.education),
                "、".join(i.value for i in m.insurance),
                m.skills,
                m.workplace,
            )
            for m in rows
        ),
        (14, 12, 22, 20, 32),
        empty_rows=max(0, 3 - len(rows)),
    )


INSURANCE_NOTE = (
    "五险一金代码：A1城镇职工养老保险、A2城镇职工灵活再就业养老保险、A3农村养老保险；"
    "B1城镇职工医疗保险、B2城镇居民医疗保险、B3新型农村合作医疗保险；C工伤保险；D失业保险；"
    "E生育保险；F住房公积金。"
)


def _signoffs(h: Household) -> Grid:
    """建档人, 审核人, 录入人 and the two unions' opinions with their dates."""
    applied, appraised, approved = h.applied, h.appraised, h.approved
    reviewer = (approved.reviewed_by or approved.actor.user) if approved else ""
    base = (
        f"{appraised.base_opinion}（{day(appraised.appraised_on)}）"
        if appraised and appraised.base_opinion
        else ""
    )
    system = (
        f"{approved.system_opinion}（{day(approved.system_opinion_on)}）"
        if approved and approved.system_opinion
        else ""
    )
    review = (
        f"{approved.opinion}（{day(approved.approved_on)}）"
        if approved and approved.opinion
        else ""
    )
    return Grid(
        (
            (
                lab("建档人"),
                val(applied.filed_by or applied.actor.user),
                lab("审核人"),
                val(reviewer),
                lab("录入人"),
                val(applied.entered_by or applied.actor.user),
            ),
            (lab("基层工会意见"), val(base, 5)),
            (lab("系统工会意见"), val(system, 5)),
            (lab("审核意见"), val(review, 5)),
        ),
        WIDE6,
    )


def authorisation(h: Household) -> list[Block]:
    f, head, applied = h.file, h.file.head, h.applied
    people = "、".join([head.name, *(m.name for m in f.members)])
    text = (
        f"本人{head.name}（身份证号码：{head.id_number}）向{h.unit_name}申请困难职工建档帮扶。"
        "本人及共同生活的家庭成员授权工会及其委托的民政等部门，查询、核对本人及家庭成员的收入、"
        "财产、社会保险、就业等信息，并承诺所提供的信息真实、完整；如有虚报、隐瞒、伪造，"
        "愿意承担相应责任，工会可取消帮扶资格并追回帮扶款物。"
    )
    signed = (
        "是"
        if applied.authorisation_signed
        else "未记录"
        if applied.authorisation_signed is None
        else "否"
    )
    return [
        Grid(
            (
                (lab("申请人"), val(head.name), lab("身份证号码"), val(head.id_number)),
                (lab("授权的家庭成员"), val(people, 3)),
                (lab("建档工会"), val(h.unit_name), lab("申请日期"), val(day(applied.applied_on))),
                (lab("本人签字授权书在档"), val(signed, 3)),
            ),
            (22, 30, 22, 40),
        ),
        Paragraph(text),
        _members(h, f.members) if f.members else Paragraph("（家庭成员在入户调查后登记）"),
        Signatures(("申请人签字", "家庭成员签字")),
    ]


def application(h: Household) -> list[Block]:
    f, applied, verified, appraised, approved = (
        h.file,
        h.applied,
        h.verified,
        h.appraised,
        h.approved,
    )
    means = f.means
    blocks: list[Block] = [
        Grid(
            (
                *_head_rows(h),
                *_profile_rows(h),
                *_migrant_rows(h),
                (
                    lab("建档工会"),
                    val(h.unit_name, 3),
                    lab("申请日期"),
                    val(day(applied.applied_on)),
                ),
                (lab("申请理由"), val(applied.statement, 5)),
                (lab("致困原因"), val(h.cause(), 5)),
            ),
            WIDE6,
        ),
        _members(h, f.members),
        _members_more(f.members),
        Paragraph(INSURANCE_NOTE, size=7.5),
        Grid(
            (
                (
                    lab("家庭年总收入（元）"),
                    val(yuan(means.annual_income) if means else ""),
                    lab("刚性支出（元）"),
                    val(yuan(means.rigid_expenses) if means else ""),
                ),
                (
                    lab("共同生活人数"),
                    val(means.members_living_together if means else ""),
                    lab("月人均（元）"),
                    val(yuan(means.adjusted_per_capita()) if means else ""),
                ),
                (
                    lab("入户调查"),
                    val(
                        f"{day(verified.verified_on)}  调查人：{'、'.join(verified.investigators)}"
                        if verified
                        else "",
                        3,
                    ),
                ),
                (
                    lab("民主评议及公示"),
                    val(
                        f"评议{day(appraised.appraised_on)}；公示{day(appraised.publicity_start)}至{day(appraised.publicity_end)}；异议{appraised.objections}件，已处理{appraised.objections_resolved}件"
                        if appraised
                        else "",
                        3,
                    ),
                ),
                (
                    lab("审核意见"),
                    val(
                        f"{day(approved.approved_on)} 认定为{label(approved.category)}"
                        + (f"，{approved.opinion}" if approved.opinion else "")
                        if approved
                        else "",
                        3,
                    ),
                ),
                (lab("附件材料"), val("、".join(label(m) for m in sorted(f.materials)), 3)),
            ),
            (30, 30, 26, 28),
        ),
        _signoffs(h),
        Signatures(("申请人签字", "基层工会意见（盖章）", "区县总工会意见（盖章）")),
    ]
    return blocks


def file_form(h: Household) -> list[Block]:
    f = h.file
    means = f.means
    ex = f.exclusions.applying() if hasattr(f.exclusions, "applying") else ()
    return [
        Grid(
            (
                (lab("档案编号"), val(str(f.id), 3), lab("档案状态"), val(label(f.status))),
                (
                    lab("困难类别"),
                    val(h.category()),
                    lab("档案级别"),
                    val(h.level()),
                    lab("建档时间"),
                    val(day(f.approved_on)),
                ),
                (lab("建档工会"), val(h.unit_name, 3), lab("行政区划"), val(f.region)),
            ),
            WIDE6,
        ),
        Paragraph("户主信息", bold=True),
        Grid((*_head_rows(h), *_profile_rows(h), *_migrant_rows(h)), WIDE6),
        Paragraph("家庭成员信息", bold=True),
        _members(h, f.members),
        _members_more(f.members),
        Paragraph(INSURANCE_NOTE, size=7.5),
        Paragraph("家庭收入及困难情况", bold=True),
        Grid(
            (
                (
                    lab("家庭年总收入（元）"),
                    val(yuan(means.annual_income) if means else ""),
                    lab("刚性支出（元）"),
                    val(yuan(means.rigid_expenses) if means else ""),
                ),
                (
                    lab("共同生活人数"),
                    val(means.members_living_together if means else ""),
                    lab("月人均收入（元）"),
                    val(yuan(means.adjusted_per_capita()) if means else ""),
                ),
                (
                    lab("低保标准（元/月）"),
                    val(yuan(f.poverty_line)),
                    lab("帮扶次数/金额（元）"),
                    val(f"{f.assistance_count}次 / {yuan(f.assistance_total)}"),
                ),
                (lab("致困原因"), val(h.cause(), 3)),
                (lab("困难情况"), val(h.verified.narrative if h.verified else "", 3)),
                (lab("不予建档情形"), val("、".join(str(e) for e in ex) or "无", 3)),
                (
                    lab("帮扶责任人"),
                    val(f.helper or ""),
                    lab("最近走访"),
                    val(day(f.last_visited_on)),
                ),
                (lab("附件材料"), val("、".join(label(m) for m in sorted(f.materials)), 3)),
            ),
            (30, 28, 30, 26),
        ),
        _signoffs(h),
        Signatures(("基层工会意见（盖章）", "系统工会意见（盖章）")),
    ]


def plan(h: Household) -> list[Block]:
    plans: list[HouseholdFile.PlanAgreed | None] = [*h.of(HouseholdFile.PlanAgreed)]
    blocks: list[Block] = []
    head = h.file.head
    for p in plans or [None]:
        pairing = p.pairing if p else None
        blocks += [
            Grid(
                (
                    (
                        lab("职工姓名"),
                        val(head.name),
                        lab("帮扶单位"),
                        val((p.helping_unit if p else "") or h.unit_name),
                    ),
                    (
                        lab("帮扶责任人"),
                        val(p.helper if p else ""),
                        lab("联系方式"),
                        val(pairing.cadre_phone if pairing else ""),
                    ),
                    (
                        lab("单位及职务"),
                        val(
                            " ".join(x for x in (pairing.cadre_unit, pairing.cadre_post) if x)
                            if pairing
                            else ""
                        ),
                        lab("时间"),
                        val(day(p.agreed_on) if p else ""),
                    ),
                    (
                        lab("工会联系人"),
                        val(pairing.union_contact if pairing else ""),
                        lab("联系电话"),
                        val(pairing.union_contact_phone if pairing else ""),
                    ),
                ),
                (20, 35, 20, 35),
            ),
            Paragraph("一、致困原因", bold=True),
            Paragraph(f"{h.cause()}。{h.verified.narrative if h.verified else ''}"),
            Paragraph("二、脱困计划及主要保障措施", bold=True),
            _measures(p),
            Paragraph("三、预期目标", bold=True),
            Paragraph(p.goals if p else ""),
            Paragraph(
                f"完成时限：{day(p.deadline) if p else ''}    "
                + f"职工本人签字确认：{'已签字' if p and p.signed_by_worker else ''}"
            ),
        ]
    blocks.append(Signatures(("职工签字", "帮扶责任人签字")))
    return blocks


def _measures(p: HouseholdFile.PlanAgreed | None) -> Table:
    """The plan's measures with seed 001 附件3's columns (the lines alone on older plans)."""
    items: Sequence[PlanMeasure] = p.tasks if p else ()
    if p is not None and not items:
        return Table(
            ("序号", "帮扶措施"), tuple((str(i), m) for i, m in enumerate(p.measures, 1)), (8, 92)
        )
    return Table(
        (
            "序号",
            "分类帮扶措施",
            "分类型帮扶部门",
            "牵头单位及责任领导",
            "建档工会领导",
            "结对帮扶联系人",
            "工会联系人",
            "完成时限",
            "完成情况",
        ),
        tuple(
            (
                str(i),
                f"{label(m.kind)}：{m.content}",
                m.department,
                " ".join(x for x in (m.lead_unit, m.lead_leader) if x),
                m.union_leader,
                m.pairing_contact,
                m.union_contact,
                day(m.deadline),
                " ".join(x for x in (day(m.completed_on), m.completion) if x),
            )
            for i, m in enumerate(items, 1)
        ),
        (5, 20, 11, 14, 9, 9, 9, 11, 12),
        empty_rows=0 if p else 3,
    )


def needs(h: Household) -> list[Block]:
    """困难职工当前存在问题困难清单和帮扶建议 (seed 001 附件1): one row per kind of the eight."""
    found = h.needs()
    dates = sorted({on for _, on in found.values()})
    return [
        _header1(h),
        Table(
            ("困难类型", "存在问题及困难", "已享受政策", "帮扶建议"),
            tuple(
                (
                    "其它困难" if kind is NeedKind.OTHER else label(kind),
                    found[kind][0].problem if kind in found else "",
                    found[kind][0].policies if kind in found else "",
                    found[kind][0].suggestion if kind in found else "",
                )
                for kind in NeedKind
            ),
            (14, 32, 24, 30),
        ),
        Paragraph(
            "核查走访日期：" + "、".join(day(d) for d in dates) if dates else "核查走访日期：",
            size=9,
        ),
        Paragraph(
            "填表说明：认真了解困难职工当前还存在的问题和困难，核实是否已享受过相关帮扶政策，"
            "提出切实可行的帮扶建议。",
            size=8,
        ),
        Signatures(("建档工会签字", "结对帮扶干部签字")),
    ]


def _header1(h: Household) -> Grid:
    """The header of seed 001's 附件1 and 附件2."""
    f, head = h.file, h.file.head
    return Grid(
        (
            (
                lab("户主姓名"),
                val(head.name),
                lab("性别"),
                val(h.sex(head.id_number)),
                lab("出生年月"),
                val(h.born(head.id_number)),
                lab("联系电话"),
                val(head.phone),
            ),
            (
                lab("身份证号码"),
                val(head.id_number, 3),
                lab("建档时间"),
                val(day(f.approved_on)),
                lab("档案级别"),
                val(h.level()),
            ),
            (lab("致困原因"), val(h.cause(), 7)),
            (lab("工作单位"), val(head.employer, 7)),
            (lab("家庭地址"), val(head.address, 7)),
        ),
        (12, 14, 8, 8, 10, 14, 10, 20),
    )


def visits(h: Household) -> list[Block]:
    rows = h.of(HouseholdFile.Visited)
    cadre, unit_post, phone = h.cadre()
    cadres = "、".join(dict.fromkeys([*(v.cadre for v in rows), cadre] if cadre else []))
    blocks: list[Block] = [
        _header1(h),
        Grid(
            (
                (
                    lab("结对帮扶干部姓名"),
                    val(cadres),
                    lab("单位及职务"),
                    val(unit_post),
                    lab("联系电话"),
                    val(phone),
                ),
            ),
            (16, 20, 12, 22, 12, 18),
        ),
        Table(
            ("走访时间", "走访内容", "走访干部", "季度收入（元）", "季度支出（元）"),
            tuple(
                (
                    day(v.visited_on),
                    v.content,
                    v.cadre,
                    yuan(v.quarter_income),
                    yuan(v.quarter_costs),
                )
                for v in rows
            ),
            (16, 44, 12, 14, 14),
            empty_rows=max(0, 4 - len(rows)),
        ),
    ]
    migrant = h.file.worker_kind is WorkerKind.MIGRANT
    for v in rows:
        if v.costs is None and not (v.helper_opinion or v.head_opinion or v.cadre_unit):
            continue
        c = v.costs
        blocks.append(Paragraph(f"季度进户工作情况记录（{day(v.visited_on)}）", bold=True))
        blocks.append(
            Grid(
                (
                    (
                        lab("走访干部"),
                        val(v.cadre),
                        lab("单位及职务"),
                        val(" ".join(x for x in (v.cadre_unit, v.cadre_post) if x)),
                        lab("联系电话"),
                        val(v.cadre_phone),
                    ),
                    (lab("家庭季度收入实现情况（元）"), val(yuan(v.quarter_income), 5)),
                    (
                        lab("五险一金交费（元）"),
                        val(yuan(c.insurance) if c else ""),
                        lab("农业生产经营成本（元，限农民工）"),
                        val(yuan(c.farming) if c and migrant else "—" if not migrant else ""),
                        lab("教育成本（元）"),
                        val(yuan(c.education) if c else ""),
                    ),
                    (
                        lab("医疗成本（元）"),
                        val(yuan(c.medical) if c else ""),
                        lab("住房支出（元）"),
                        val(yuan(c.housing) if c else ""),
                        lab("生活及其他成本（元）"),
                        val(yuan(c.living) if c else ""),
                    ),
                    (lab("家庭季度成本支出合计（元）"), val(yuan(v.quarter_costs), 5)),
                    (lab("帮扶责任人意见"), val(v.helper_opinion, 5)),
                    (lab("户主意见"), val(v.head_opinion, 5)),
                ),
                (18, 16, 18, 16, 16, 16),
            )
        )
    blocks += [
        Paragraph(
            "填表说明：详细记录结对帮扶干部或工会工作人员入户走访情况，作为结对帮扶制度落实情况的备查依据。",
            size=8,
        ),
        Signatures(("建档工会签字", "结对帮扶干部签字")),
    ]
    return blocks


def aid(h: Household) -> list[Block]:
    rows = h.of(HouseholdFile.Assisted)
    total = sum((a.amount for a in rows), Decimal("0.00"))
    return [
        _header1(h),
        Table(
            ("序号", "帮扶日期", "帮扶类别", "金额（元）", "责任部门", "帮扶人", "说明"),
            tuple(
                (
                    str(i),
                    day(a.assisted_on),
                    label(a.kind),
                    yuan(a.amount),
                    label(a.department),
                    a.helper,
                    a.note,
                )
                for i, a in enumerate(rows, 1)
            ),
            (6, 16, 14, 12, 14, 12, 26),
            empty_rows=max(0, 3 - len(rows)),
        ),
        Paragraph(f"合计：{len(rows)}次，{yuan(total)}元"),
        Signatures(("经办人签字", "基层工会负责人签字")),
    ]


def card(h: Household) -> list[Block]:
    """The contact card (seed 003 template 7) with the pairing's two contacts (两级联系人)."""
    f, head = h.file, h.file.head
    cadre, unit_post, phone = h.cadre()
    p = h.plan
    pairing = p.pairing if p else None
    level = f" · {h.level()}" if h.level() else ""
    return [
        Grid(
            (
                (lab("姓名"), val(head.name), lab("类别"), val(h.category() + level)),
                (lab("工作单位"), val(head.employer, 3)),
                (lab("建档工会"), val(h.unit_name), lab("编号"), val(str(f.id)[:8])),
                (
                    lab("结对干部"),
                    val(f"{cadre}（{unit_post}）" if unit_post else cadre),
                    lab("电话"),
                    val(phone),
                ),
                (
                    lab("工会联系人"),
                    val(pairing.union_contact if pairing else ""),
                    lab("电话"),
                    val(pairing.union_contact_phone if pairing else ""),
                ),
            ),
            (13, 33, 8, 18),
        ),
    ]


BUILDERS = {
    HouseholdForm.AUTHORISATION: authorisation,
    HouseholdForm.APPLICATION: application,
    HouseholdForm.FILE: file_form,
    HouseholdForm.PLAN: plan,
    HouseholdForm.NEEDS: needs,
    HouseholdForm.VISITS: visits,
    HouseholdForm.AID: aid,
    HouseholdForm.CARD: card,
}


def section(form: HouseholdForm, h: Household, stamp: Stamp | None) -> Section:
    """One household's form as a section of a PDF."""
    builder = BUILDERS[form]
    subtitle = f"{h.unit_name} · 档案版本 {h.file.version}"
    return Section(FORM_TITLES[form.value], tuple(builder(h)), stamp, subtitle, SOURCES[form])


def paper(form: HouseholdForm) -> Paper:
    return PAPER.get(form, Paper.A4)


__all__ = ["BUILDERS", "Cause", "Household", "Material", "paper", "section"]
