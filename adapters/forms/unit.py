"""The forms of one unit and period, from its files' events and its own records: 困难职工名单公示
(the files whose publicity began in the period; seed 003's template 5), 民主评议会议记录 (the
meetings held in the period, with their votes; seed 003's template 4), 精准帮扶任务清单 (each
measure of the plan in force of every file open in the period, with its deadline and completion;
seed 001's 附件3), 解困脱困考核表 (the unit's goals, measures and completion recorded for the
period; seed 002's 表六) and 困难职工台账 (the files approved by the end of the period and not
closed before it; seed 003's template 8, seed 000's 台账)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from adapters.forms.household import Household, day, yuan
from adapters.forms.pdf import (
    Block,
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
from domain.household import HouseholdFile
from domain.printing import FORM_TITLES, UnitForm
from domain.unit_records import Assessment, Meeting
from domain.values import ExitKind, label

SOURCES = {
    UnitForm.PUBLICITY: "依据：河北省总工会困难职工建档模板5（困难职工名单公示）",
    UnitForm.MINUTES: "依据：河北省总工会困难职工建档模板4（民主评议会议记录）",
    UnitForm.TASKS: "依据：渭临工发〔2020〕62号附件3（困难职工精准帮扶任务清单）",
    UnitForm.ASSESSMENT: "依据：桃源县解困脱困工作手册表六（困难职工解困脱困考核表）",
    UnitForm.LEDGER: "依据：河北省总工会模板8（解困脱困帮扶台账）；太极委发〔2019〕29号台账",
}
PAPER = {
    UnitForm.PUBLICITY: Paper.A4,
    UnitForm.MINUTES: Paper.A4,
    UnitForm.TASKS: Paper.A4_LANDSCAPE,
    UnitForm.ASSESSMENT: Paper.A4,
    UnitForm.LEDGER: Paper.A4_LANDSCAPE,
}
# The forms read from the unit's own records (domain/unit_records.py), not chosen file by file.
FROM_RECORDS = frozenset({UnitForm.MINUTES, UnitForm.ASSESSMENT})

TASK_HEADINGS = (
    "序号",
    "困难职工姓名",
    "性别",
    "身份证号码",
    "联系电话",
    "工作单位",
    "家庭地址",
    "致困原因",
    "分类帮扶措施",
    "分类型帮扶部门",
    "牵头单位责任领导",
    "建档工会领导",
    "结对帮扶联系人",
    "工会联系人",
    "完成时限",
    "完成情况",
)


def period_bounds(period: str) -> tuple[date, date]:
    """`2026` (a year), `2026-Q2` (a quarter) or `2026-05` (a month) → first and last day."""
    from domain.errors import InvalidValue  # noqa: PLC0415

    try:
        if len(period) == 4:
            year = int(period)
            return date(year, 1, 1), date(year, 12, 31)
        if len(period) == 7 and period[4:6] == "-Q":
            year, quarter = int(period[:4]), int(period[6])
            quarter = quarter if 1 <= quarter <= 4 else 0  # 0: refused below (month 0)
            start = date(year, 3 * quarter - 2, 1)
            end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
            return start, date.fromordinal(end.toordinal() - 1)
        if len(period) == 7 and period[4] == "-":
            year, month = int(period[:4]), int(period[5:])
            start = date(year, month, 1)
            end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
            return start, date.fromordinal(end.toordinal() - 1)
    except ValueError:
        pass
    raise InvalidValue(
        "period",
        "a year (2026), quarter (2026-Q2) or month (2026-05)",
        zh="期间格式应为2026、2026-Q2或2026-05",
    )


def plan_in_force(h: Household, end: date) -> HouseholdFile.PlanAgreed | None:
    """The file's latest plan agreed by `end` (None: no plan yet)."""
    plans = [p for p in h.of(HouseholdFile.PlanAgreed) if p.agreed_on <= end]
    return plans[-1] if plans else None


def included(form: UnitForm, h: Household, start: date, end: date) -> bool:
    """Whether the file belongs on the unit's form for the period."""
    if form is UnitForm.PUBLICITY:
        a = h.appraised
        return a is not None and start <= a.publicity_start <= end
    f = h.file
    if form is UnitForm.TASKS and plan_in_force(h, end) is None:
        return False
    return (
        f.approved_on is not None
        and f.approved_on <= end
        and (f.exited_on is None or f.exited_on >= start)
    )


def section(
    form: UnitForm,
    unit_name: str,
    period: str,
    households: Sequence[Household],
    stamp: Stamp | None,
) -> Section:
    rows: tuple[tuple[str, ...], ...]
    blocks: tuple[Block, ...]
    if form is UnitForm.PUBLICITY:
        rows = tuple(
            (
                str(i),
                h.file.head.name,
                h.sex(h.file.head.id_number),
                h.file.head.employer,
                str(h.file.means.members_living_together if h.file.means else ""),
                h.cause(),
                yuan(h.file.means.adjusted_per_capita() if h.file.means else None),
                f"{day(h.appraised.publicity_start)}至{day(h.appraised.publicity_end)}"
                if h.appraised
                else "",
            )
            for i, h in enumerate(households, 1)
        )
        held = sorted(
            {
                h.appraised.appraised_on
                for h in households
                if h.appraised is not None and h.appraised.meeting_id is not None
            }
        )
        meetings = f"（{'、'.join(day(d) for d in held)}民主评议会议）" if held else ""
        blocks = (
            Paragraph(
                f"经本单位民主评议{meetings}，以下{len(rows)}户职工家庭拟建立困难职工档案，"
                "现予公示。公示期间如有异议，请向本单位工会反映。"
            ),
            Table(
                (
                    "序号",
                    "姓名",
                    "性别",
                    "工作单位",
                    "家庭人口",
                    "致困原因",
                    "月人均收入（元）",
                    "公示期",
                ),
                rows,
                (6, 10, 6, 22, 8, 18, 12, 18),
            ),
            Signatures((f"{unit_name}（盖章）",)),
        )
    else:
        rows = tuple(
            (
                str(i),
                h.file.head.name,
                h.file.head.id_number,
                h.file.head.employer,
                h.category(),
                h.level(),
                day(h.file.approved_on),
                h.file.helper or "",
                str(h.file.assistance_count),
                yuan(h.file.assistance_total),
                "在档" if h.file.exited_on is None else f"{day(h.file.exited_on)}退出",
            )
            for i, h in enumerate(households, 1)
        )
        blocks = (
            Table(
                (
                    "序号",
                    "姓名",
                    "身份证号码",
                    "工作单位",
                    "困难类别",
                    "档案级别",
                    "建档时间",
                    "帮扶责任人",
                    "帮扶次数",
                    "帮扶金额（元）",
                    "状态",
                ),
                rows,
                (5, 9, 20, 20, 10, 9, 14, 10, 7, 11, 12),
            ),
            Paragraph(f"合计：{len(rows)}户"),
        )
    return Section(
        FORM_TITLES[form.value],
        blocks,
        stamp,
        f"{unit_name} · 期间 {period}",
        SOURCES[form],
    )


@dataclass(frozen=True)
class Records:
    """What a unit's own records give its forms: the meetings of the period (民主评议会议记录),
    the 考核表 of the period, and the names of the unions that held them."""

    meetings: Sequence[Meeting] = ()
    assessment: Assessment | None = None
    unit_names: Mapping[str, str] | None = None

    def name_of(self, unit: str) -> str:
        return (self.unit_names or {}).get(unit, unit)


def completion(h: Household, plan: HouseholdFile.PlanAgreed, end: date) -> str:
    """How far a plan's measures were completed by `end`, as the file's events tell it:
    the household out of hardship (脱困/解困), the deadline passed without it, or under way.
    (A completion recorded per measure, `PlanMeasure.completion`, is shown instead.)"""
    out = [e for e in h.of(HouseholdFile.Exited) if e.exited_on <= end]
    if out:
        last = out[-1]
        word = {ExitKind.OUT_OF_HARDSHIP: "已脱困", ExitKind.RELIEVED: "已解困"}
        return f"{word.get(last.kind, '已退出')}（{day(last.exited_on)}）"
    if plan.deadline < end:
        return "期限已过，尚未脱困"
    return "进行中"


def task_rows(
    households: Sequence[Household], end: date, today: date | None = None
) -> list[tuple[str, ...]]:
    """The rows of the 任务清单: one per measure of each file's plan in force by `end`, its
    completion as of the period's end (or `today`, in a period not over yet)."""
    rows: list[tuple[str, ...]] = []
    as_of = end if today is None else min(end, today)
    for h in households:
        plan = plan_in_force(h, end)
        if plan is None:
            continue
        head = h.file.head
        done = completion(h, plan, as_of)
        person = (
            head.name,
            h.sex(head.id_number),
            head.id_number,
            head.phone,
            head.employer,
            head.address,
            h.cause(),
        )
        if plan.tasks:  # the measures one by one, with their columns (domain/profile.py)
            for task in plan.tasks:
                finished = " ".join(x for x in (day(task.completed_on), task.completion) if x)
                rows.append(
                    (
                        str(len(rows) + 1),
                        *person,
                        f"{label(task.kind)}：{task.content}",
                        task.department,
                        " ".join(x for x in (task.lead_unit, task.lead_leader) if x),
                        task.union_leader,
                        task.pairing_contact or plan.helper,
                        task.union_contact,
                        day(task.deadline or plan.deadline),
                        finished or done,
                    )
                )
            continue
        for measure in plan.measures:  # a plan recorded as lines only: those columns blank
            rows.append(
                (
                    str(len(rows) + 1),
                    *person,
                    measure,
                    "",
                    "",
                    "",
                    plan.helper,
                    "",
                    day(plan.deadline),
                    done,
                )
            )
    return rows


def _minutes(
    meeting: Meeting, by_id: Mapping[UUID, Household], unit_name: str
) -> tuple[Block, ...]:
    votes = tuple(
        (
            str(i),
            by_id[v.file_id].file.head.name if v.file_id in by_id else "",
            by_id[v.file_id].file.head.employer if v.file_id in by_id else "",
            by_id[v.file_id].cause() if v.file_id in by_id else "",
            str(v.in_favour),
            str(v.against),
            str(v.abstaining),
            "通过" if v.passed(meeting.present) else "未通过",
        )
        for i, v in enumerate(meeting.votes, 1)
    )
    passed = sum(1 for v in meeting.votes if v.passed(meeting.present))
    return (
        Grid(
            (
                (lab("会议时间"), val(day(meeting.held_on)), lab("会议地点"), val(meeting.place)),
                (lab("主持人"), val(meeting.chair), lab("记录人"), val(meeting.recorder)),
                (
                    lab("应到人数"),
                    val(f"{meeting.expected}人"),
                    lab("实到人数"),
                    val(f"{meeting.present}人"),
                ),
                (lab("参会人员"), val("、".join(meeting.attendees), 3)),
                (lab("召开单位"), val(unit_name, 3)),
            ),
            (18, 32, 18, 32),
        ),
        Paragraph("会议内容", bold=True),
        Paragraph(meeting.summary),
        Paragraph("评议对象及表决结果", bold=True),
        Table(
            ("序号", "姓名", "工作单位", "致困原因", "同意", "不同意", "弃权", "评议结果"),
            votes,
            (6, 12, 26, 20, 8, 8, 8, 12),
        ),
        Paragraph(
            f"本次会议评议{len(votes)}户，经实到{meeting.present}人表决，{passed}户获过半数同意，"
            "同意建立困难职工档案，评议结果在本单位公示。"
        ),
        Signatures(("主持人签字", "记录人签字", "参会人员签字")),
    )


def _tasks(households: Sequence[Household], end: date, today: date | None) -> tuple[Block, ...]:
    rows = task_rows(households, end, today)
    files = len({r[3] for r in rows})
    return (
        Table(
            TASK_HEADINGS,
            tuple(rows),
            (3, 7, 3, 20, 13, 13, 14, 8, 18, 7, 7, 7, 7, 7, 11, 10),
        ),
        Paragraph(f"合计：{files}户，{len(rows)}项帮扶措施"),
        Paragraph(
            "填表说明：结合建档工会和结对帮扶干部提出的帮扶建议，一对一制定帮扶措施，明确牵头单位、"
            "责任人、完成时限。",
            size=8,
        ),
    )


def _assessment(a: Assessment | None) -> tuple[Block, ...]:
    items = a.items if a is not None else ()
    return (
        Table(
            ("序号", "预期目标", "措施", "目标完成情况"),
            tuple((str(i), x.goal, x.measures, x.completion) for i, x in enumerate(items, 1)),
            (6, 32, 36, 26),
            empty_rows=max(0, 4 - len(items)),
        ),
        Grid(
            (
                (lab("帮扶单位意见"), val(a.opinion if a else "", 3)),
                (
                    lab("负责人"),
                    val(a.responsible if a else ""),
                    lab("联络人"),
                    val(a.liaison if a else ""),
                ),
                (lab("考核单位意见"), val(a.reviewer_opinion if a else "", 3)),
                (lab("填表日期"), val(day(a.recorded_on) if a else "", 3)),
            ),
            (22, 28, 22, 28),
        ),
        Signatures(("帮扶单位（盖章）", "考核单位（盖章）")),
    )


def sections(
    form: UnitForm,
    unit_name: str,
    period: str,
    households: Sequence[Household],
    stamp: Stamp | None,
    records: Records = Records(),
    today: date | None = None,
) -> list[Section]:
    """A unit's form for a period as the sections of a PDF: one per meeting for the minutes
    (each meeting starts a page), one for every other form."""
    title = FORM_TITLES[form.value]
    subtitle = f"{unit_name} · 期间 {period}"
    if form is UnitForm.MINUTES:
        by_id = {h.file.id: h for h in households}
        return [
            Section(
                title,
                _minutes(m, by_id, records.name_of(m.unit)),
                stamp,
                f"{records.name_of(m.unit)} · 期间 {period}",
                SOURCES[form],
            )
            for m in records.meetings
        ] or [
            Section(
                title, (Paragraph("本期间未召开民主评议会议。"),), stamp, subtitle, SOURCES[form]
            )
        ]
    if form is UnitForm.TASKS:
        _, end = period_bounds(period)
        return [Section(title, _tasks(households, end, today), stamp, subtitle, SOURCES[form])]
    if form is UnitForm.ASSESSMENT:
        return [Section(title, _assessment(records.assessment), stamp, subtitle, SOURCES[form])]
    return [section(form, unit_name, period, households, stamp)]
