"""A spot-check's report: its rows by rule, by unit and finding by finding, and the xlsx workbook
an inspector files (a summary sheet and a findings sheet, in Chinese).

The rows are read off the recorded spot-check (`domain.spotcheck.SpotCheck`), so the JSON report,
the workbook and the CLI all say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import IO, Any
from uuid import UUID

import asyncpg
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from domain.rules import Finding
from domain.spotcheck import TITLES, Rate, SpotCheck, Summary
from domain.values import Level, Status, label

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SEVERITY_ZH = {"error": "严重", "warning": "一般"}


@dataclass(frozen=True, slots=True)
class RuleRow:
    rule: str
    title: str
    title_en: str
    severity: str
    findings: int
    files: int


@dataclass(frozen=True, slots=True)
class UnitRow:
    unit: str
    name: str | None
    files: int
    files_with_findings: int
    findings: int


@dataclass(frozen=True, slots=True)
class FindingRow:
    file_id: UUID
    unit: str
    unit_name: str | None
    finding: Finding

    @property
    def title(self) -> str:
        return TITLES.get(self.finding.rule, (self.finding.rule, "", ""))[0]


def _rule_order(rule: str) -> tuple[int, str]:
    """Rules in catalogue order (R01 … R28), then CHAIN, DRIFT, REPLAY."""
    ids = list(TITLES)
    return (ids.index(rule) if rule in ids else len(ids), rule)


def by_rule(summary: Summary) -> list[RuleRow]:
    return [
        RuleRow(
            rule,
            *TITLES.get(rule, (rule, rule, "error")),
            findings=summary.findings_by_rule[rule],
            files=summary.files_by_rule.get(rule, 0),
        )
        for rule in sorted(summary.findings_by_rule, key=_rule_order)
    ]


def by_unit(summary: Summary, names: Mapping[str, str]) -> list[UnitRow]:
    return [
        UnitRow(unit, names.get(unit), t.files, t.files_with_findings, t.findings)
        for unit, t in summary.by_unit.items()
    ]


def findings(check: SpotCheck, names: Mapping[str, str]) -> list[FindingRow]:
    return [
        FindingRow(result.file_id, result.unit, names.get(result.unit), finding)
        for result, finding in sorted(
            check.findings(), key=lambda rf: (rf[0].unit, rf[0].file_id, _rule_order(rf[1].rule))
        )
    ]


async def unit_names(pool: asyncpg.Pool, codes: list[str]) -> dict[str, str]:
    """The registered names of units (codes without a row are left out)."""
    rows = await pool.fetch("SELECT code, name FROM units WHERE code = ANY($1::text[])", codes)
    return {r["code"]: r["name"] for r in rows}


def units_of(check: SpotCheck) -> list[str]:
    """Every unit a report names: the checking unit, the scope and each checked file's unit."""
    return sorted({check.unit.value, check.scope, *(r.unit for r in check.results)})


def strata_text(check: SpotCheck) -> str:
    strata = check.strata
    parts = []
    if strata.statuses:
        parts.append("状态：" + "、".join(label(Status(s)) for s in strata.statuses))
    if strata.units:
        parts.append("单位：" + "、".join(strata.units))
    if strata.level is not None:
        parts.append(f"按{label(Level(strata.level))}分层")
    return "；".join(parts) or "不分层"


# ------------------------------------------------------------------------------ the workbook

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)


def _rate_cells(rate: Rate) -> list[Any]:
    return [rate.value, f"{rate.numerator}/{rate.denominator}"]


def _widths(sheet: Worksheet, widths: list[int]) -> None:
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width


def _header(sheet: Worksheet, values: list[str]) -> None:
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        cell.font = _BOLD


def write_xlsx(check: SpotCheck, out: IO[bytes], *, names: Mapping[str, str]) -> None:
    """The report as an xlsx workbook: 抽查汇总 (summary) and 问题清单 (findings)."""
    summary = check.summary
    if summary is None:  # a check is recorded complete or not at all, but be explicit
        raise ValueError("the spot-check is not complete")
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 — a new workbook always has its first sheet
    sheet.title = "抽查汇总"
    _widths(sheet, [24, 40, 40, 12, 12, 14])
    sheet.append(["困难职工档案抽查报告"])
    sheet["A1"].font = _TITLE
    scope_name = names.get(check.scope, "")
    parameters: list[tuple[str, Any]] = [
        ("抽查编号", str(check.id)),
        ("抽查单位", f"{check.unit.value} {names.get(check.unit.value, '')}".strip()),
        ("抽查人", f"{check.actor.user}（{check.actor.role}）"),
        ("抽查范围", f"{check.scope} {scope_name}".strip()),
        ("判定日期", check.as_of),
        (
            "样本量",
            check.requested_size if check.fraction is None else f"按比例 {check.fraction}",
        ),
        ("分层", strata_text(check)),
        ("随机种子", str(check.seed)),
        ("台账日志位置", check.log_position),
        ("抽样框户数", check.frame_size),
        ("抽样框摘要（SHA-256）", check.frame_digest),
        ("抽查档案数", summary.files_checked),
        ("有问题档案数", summary.files_with_findings),
        ("问题总数", summary.findings),
    ]
    for name, value in parameters:
        sheet.append([name, value])
        sheet.cell(sheet.max_row, 1).font = _BOLD
        if isinstance(value, date):
            sheet.cell(sheet.max_row, 2).number_format = "yyyy-mm-dd"
    for name, rate, basis in (
        ("错评率", summary.wrong_recognition, "有认定类问题的档案 / 曾获认定的档案"),
        ("错退率", summary.wrong_exit, "有退出类问题的退出档案 / 退出档案"),
        ("结对帮扶覆盖率", summary.pairing_coverage, "有帮扶计划和责任人的在档档案 / 在档档案"),
    ):
        sheet.append([name, *_rate_cells(rate), basis])
        sheet.cell(sheet.max_row, 1).font = _BOLD
        sheet.cell(sheet.max_row, 2).number_format = "0.00%"
        sheet.cell(sheet.max_row, 2).alignment = Alignment(horizontal="left")

    sheet.append([])
    sheet.append(["按规则统计"])
    sheet.cell(sheet.max_row, 1).font = _BOLD
    _header(sheet, ["规则编号", "规则", "Rule", "严重程度", "问题数", "涉及档案数"])
    for r in by_rule(summary):
        sheet.append(
            [
                r.rule,
                r.title,
                r.title_en,
                SEVERITY_ZH.get(r.severity, r.severity),
                r.findings,
                r.files,
            ]
        )
    sheet.append([])
    sheet.append(["按单位统计"])
    sheet.cell(sheet.max_row, 1).font = _BOLD
    _header(sheet, ["单位代码", "单位名称", "抽查档案数", "有问题档案数", "问题数"])
    for u in by_unit(summary, names):
        sheet.append([u.unit, u.name or "", u.files, u.files_with_findings, u.findings])

    listing = book.create_sheet("问题清单")
    _widths(listing, [6, 38, 12, 28, 10, 36, 10, 60, 60, 12])
    listing.freeze_panes = "A2"
    _header(
        listing,
        ["序号", "档案编号", "单位代码", "单位名称", "规则编号", "规则", "严重程度", "问题说明",
         "Finding", "事件版本"],
    )  # fmt: skip
    for number, row in enumerate(findings(check, names), start=1):
        f = row.finding
        listing.append(
            [
                number,
                str(row.file_id),
                row.unit,
                row.unit_name or "",
                f.rule,
                row.title,
                SEVERITY_ZH.get(f.severity, f.severity),
                f.zh,
                f.en,
                ", ".join(str(v) for v in f.versions),
            ]
        )
    book.save(out)
