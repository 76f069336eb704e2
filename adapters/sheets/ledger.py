"""The ledger (台账) as an xlsx workbook with the Chinese headers of the source ledgers.

Columns follow the paper ledgers of seed 000 (附件2) and seed 001 (附件3) — 序号, 户主姓名, 性别,
身份证号码, 联系电话, 工作单位, 家庭地址, 建档时间, 档案级别, 困难类别, 致困原因, 状态 — then what
the electronic ledger adds, civil-affairs matching (民政比对) last: what the lists matched, the day
of the latest run, and the findings a clerk must still act on, in words. ID numbers and phones
are masked, codes are written as their Chinese labels. openpyxl's write-only mode streams rows
to disk as they come, so a province's ledger needs no more memory than a batch; the
(synchronous) spreadsheet work runs in a worker thread so the server keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Sequence
from datetime import date
from enum import StrEnum
from typing import IO, Any, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from domain.civil_affairs import finding_label, record_label
from domain.values import Category, Cause, FileLevel, Sex, Status, label

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (header, width in characters)
LEDGER_HEADERS: tuple[tuple[str, int], ...] = (
    ("序号", 6),
    ("户主姓名", 10),
    ("性别", 6),
    ("身份证号码", 21),
    ("联系电话", 14),
    ("工作单位", 24),
    ("家庭地址", 30),
    ("建档时间", 12),
    ("档案级别", 10),
    ("困难类别", 10),
    ("致困原因", 18),
    ("状态", 10),
    ("所属基层工会", 26),
    ("审批时间", 12),
    ("帮扶次数", 9),
    ("帮扶金额(元)", 13),
    ("最近走访", 12),
    ("下次复核", 12),
    ("退出时间", 12),
    ("民政比对", 16),
    ("民政比对日期", 13),
    ("民政比对待处理", 40),
)


def labelled(kind: type[StrEnum], code: str | None) -> str | None:
    """The Chinese label of a stored code (the code itself if it is not a known value)."""
    if code is None:
        return None
    try:
        return label(kind(code))
    except ValueError:
        return code


def causes_text(primary: str | None, secondary: Sequence[str]) -> str:
    """致困原因 as a ledger writes it: the primary cause first, then the others."""
    names = [labelled(Cause, c) for c in (primary, *secondary) if c]
    return "、".join(n for n in names if n)


def civil_affairs_text(kinds: Sequence[str]) -> str:
    """民政比对 as a clerk reads it: 死亡、车辆."""
    return "、".join(record_label(k) for k in kinds)


def to_act_text(rules: Sequence[str]) -> str:
    """民政比对待处理: the words of each outstanding finding, one after the other."""
    return "；".join(finding_label(r) for r in rules)


class LedgerRow(Protocol):
    """One row of the ledger read model by column name: an asyncpg `Record` (not a `Mapping`:
    it iterates over values) or a dict."""

    def __getitem__(self, key: str, /) -> Any: ...


def ledger_cells(number: int, row: LedgerRow) -> list[Any]:
    """One ledger row's values, in the order of `LEDGER_HEADERS`."""
    return [
        number,
        row["head_name"],
        labelled(Sex, row["head_sex"]) or "",
        row["id_masked"],
        row["phone_masked"],
        row["employer"],
        row["address"],
        row["applied_on"],
        labelled(FileLevel, row["file_level"]) or "",
        labelled(Category, row["category"]) or "",
        causes_text(row["primary_cause"], row["secondary_causes"] or ()),
        labelled(Status, row["status"]),
        row["unit_name"] or row["unit"],
        row["approved_on"],
        row["assistance_count"],
        row["assistance_total"],
        row["last_visited_on"],
        row["next_recheck_due"],
        row["exited_on"],
        civil_affairs_text(row["civil_affairs"] or ()),
        row["civil_affairs_on"],
        to_act_text(row["civil_affairs_to_act"] or ()),
    ]


class LedgerWorkbook:
    """A write-only workbook of one ledger sheet: `append` rows, then `save`."""

    def __init__(self, title: str = "困难职工档案台账") -> None:
        self.book = Workbook(write_only=True)
        self.sheet: WriteOnlyWorksheet = self.book.create_sheet(title[:31])
        for index, (_, width) in enumerate(LEDGER_HEADERS, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width
        self.sheet.freeze_panes = "A2"
        self.sheet.append([header for header, _ in LEDGER_HEADERS])
        self.rows = 0

    def _cell(self, value: Any) -> Any:
        if isinstance(value, date):
            # set after, not passed in: the stubs of `WriteOnlyCell(ws, value)` omit `date`, which
            # openpyxl's cell takes (the call only sets `value` when it is not None)
            cell = WriteOnlyCell(self.sheet)
            cell.value = value
            cell.number_format = "yyyy-mm-dd"
            return cell
        return value

    def append(self, rows: Sequence[LedgerRow]) -> None:
        for row in rows:
            self.rows += 1
            self.sheet.append([self._cell(v) for v in ledger_cells(self.rows, row)])

    def save(self, out: IO[bytes]) -> None:
        self.book.save(out)


async def write_ledger(
    batches: AsyncIterable[Sequence[LedgerRow]],
    out: IO[bytes],
    *,
    title: str = "困难职工档案台账",
) -> int:
    """Write the ledger rows arriving in `batches` to `out` as xlsx; return the rows written."""
    book = LedgerWorkbook(title)
    async for rows in batches:
        await asyncio.to_thread(book.append, rows)
    await asyncio.to_thread(book.save, out)
    return book.rows
