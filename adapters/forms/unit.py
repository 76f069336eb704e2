"""The forms of one unit and period, from its files' events: 困难职工名单公示 (the files whose
publicity began in the period; seed 003's template 5) and 困难职工台账 (the files approved by the
end of the period and not closed before it; seed 003's template 8, seed 000's 台账)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from adapters.forms.household import Household, day, yuan
from adapters.forms.pdf import Block, Paper, Paragraph, Section, Signatures, Stamp, Table
from domain.printing import FORM_TITLES, UnitForm

SOURCES = {
    UnitForm.PUBLICITY: "依据：河北省总工会困难职工建档模板5（困难职工名单公示）",
    UnitForm.LEDGER: "依据：河北省总工会模板8（解困脱困帮扶台账）；太极委发〔2019〕29号台账",
}
PAPER = {UnitForm.PUBLICITY: Paper.A4, UnitForm.LEDGER: Paper.A4_LANDSCAPE}


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


def included(form: UnitForm, h: Household, start: date, end: date) -> bool:
    """Whether the file belongs on the unit's form for the period."""
    if form is UnitForm.PUBLICITY:
        a = h.appraised
        return a is not None and start <= a.publicity_start <= end
    f = h.file
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
        blocks = (
            Paragraph(
                f"经本单位民主评议，以下{len(rows)}户职工家庭拟建立困难职工档案，现予公示。"
                "公示期间如有异议，请向本单位工会反映。"
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
