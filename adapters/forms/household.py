"""The forms of one household, laid out as the seeds print them, from the file's events as of a
version: `sections(form, paper)` gives the `adapters.forms.pdf` sections of one form.

Sources (docs/decisions/0012-paper-forms.md): 授权书 and 申报表 — seed 003's templates 1–2;
档案表 — the national 档案表 fields (domain-research §3) with seed 002 表三's 家庭成员信息;
解困脱困方案 — seed 002 表四/表七; 走访记录表 — seed 001 附件2; 帮扶台账 — seed 000's 帮扶情况表
and seed 003's template 8; 联系卡 — seed 003's template 7.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
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
from domain.values import Cause, Material, label

SOURCES = {
    HouseholdForm.AUTHORISATION: "依据：河北省总工会困难职工建档模板1（授权书/声明书）",
    HouseholdForm.APPLICATION: "依据：河北省总工会困难职工建档模板2（困难职工申报表）",
    HouseholdForm.FILE: "依据：全国困难职工档案表；桃源县工作手册表三（家庭成员信息）",
    HouseholdForm.PLAN: "依据：桃源县工作手册表四、表七（解困脱困方案）",
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
        Signatures(("申请人签字", "基层工会意见（盖章）", "区县总工会意见（盖章）")),
    ]
    return blocks


def file_form(h: Household) -> list[Block]:
    f, approved = h.file, h.approved
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
        Grid(_head_rows(h), WIDE6),
        Paragraph("家庭成员信息", bold=True),
        _members(h, f.members),
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
        Grid(
            (
                (
                    lab("建档人"),
                    val(h.applied.actor.user),
                    lab("审核人"),
                    val(approved.actor.user if approved else ""),
                    lab("录入人"),
                    val(h.applied.actor.user),
                ),
                (lab("审核意见"), val(approved.opinion if approved else "", 5)),
            ),
            WIDE6,
        ),
        Signatures(("基层工会意见（盖章）", "系统工会意见（盖章）")),
    ]


def plan(h: Household) -> list[Block]:
    plans: list[HouseholdFile.PlanAgreed | None] = [*h.of(HouseholdFile.PlanAgreed)]
    blocks: list[Block] = []
    head = h.file.head
    for p in plans or [None]:
        blocks += [
            Grid(
                (
                    (lab("职工姓名"), val(head.name), lab("帮扶单位"), val(h.unit_name)),
                    (
                        lab("帮扶责任人"),
                        val(p.helper if p else ""),
                        lab("时间"),
                        val(day(p.agreed_on) if p else ""),
                    ),
                ),
                (20, 35, 20, 35),
            ),
            Paragraph("一、致困原因", bold=True),
            Paragraph(f"{h.cause()}。{h.verified.narrative if h.verified else ''}"),
            Paragraph("二、脱困计划及主要保障措施", bold=True),
            Table(
                ("序号", "帮扶措施"),
                tuple((str(i), m) for i, m in enumerate(p.measures, 1)) if p else (),
                (8, 92),
                empty_rows=0 if p else 3,
            ),
            Paragraph("三、预期目标", bold=True),
            Paragraph(p.goals if p else ""),
            Paragraph(
                f"完成时限：{day(p.deadline) if p else ''}    "
                + f"职工本人签字确认：{'已签字' if p and p.signed_by_worker else ''}"
            ),
        ]
    blocks.append(Signatures(("职工签字", "帮扶责任人签字")))
    return blocks


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
    cadres = "、".join(dict.fromkeys(v.cadre for v in rows))
    return [
        _header1(h),
        Grid(((lab("结对帮扶干部姓名"), val(cadres or h.file.helper or "")),), (25, 75)),
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
        Paragraph(
            "填表说明：详细记录结对帮扶干部或工会工作人员入户走访情况，作为结对帮扶制度落实情况的备查依据。",
            size=8,
        ),
        Signatures(("建档工会签字", "结对帮扶干部签字")),
    ]


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
    f, head = h.file, h.file.head
    return [
        Grid(
            (
                (lab("姓名"), val(head.name), lab("类别"), val(h.category())),
                (lab("工作单位"), val(head.employer, 3)),
                (lab("建档工会"), val(h.unit_name, 3)),
                (lab("帮扶责任人"), val(f.helper or "", 3)),
                (lab("档案编号"), val(str(f.id)[:8]), lab("级别"), val(h.level())),
            ),
            (13, 30, 9, 20),
        ),
    ]


BUILDERS = {
    HouseholdForm.AUTHORISATION: authorisation,
    HouseholdForm.APPLICATION: application,
    HouseholdForm.FILE: file_form,
    HouseholdForm.PLAN: plan,
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
