"""The ledger (台账) as an xlsx workbook with the Chinese headers of the source ledgers.

Columns follow the paper ledgers of seed 000 (附件2) and seed 001 (附件3) — 序号, 户主姓名, 性别,
身份证号码, 联系电话, 工作单位, 家庭地址, 建档时间, 档案级别, 困难类别, 致困原因, 状态 — then what
the electronic ledger adds, civil-affairs matching (民政比对) last: what the lists matched, the day
of the latest run, and the findings a clerk must still act on, in words. ID numbers and phones
are masked, codes are written as their Chinese labels.

A province's ledger is 200,000 rows: the sheet's XML is written here, row by row, straight into
a deflated zip member (`zipfile` streams a member of unknown size with a data descriptor), so the
memory held is one batch of rows, whatever the province — openpyxl, even in write-only mode,
keeps work per cell that makes it several times slower. Strings are written inline (no shared
string table to hold), dates as serial days with a `yyyy-mm-dd` format. The (synchronous) work
runs in a worker thread, so the server keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import re
import zipfile
from collections.abc import AsyncIterable, Callable, Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any, Protocol

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


@functools.lru_cache(maxsize=1024)  # a province's export asks the same few codes 200,000 times
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


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PARTS = {
    "[Content_Types].xml": _HEAD
    + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
    "_rels/.rels": _HEAD + f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
    f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/_rels/workbook.xml.rels": _HEAD + f'<Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
    # style 1: a date (yyyy-mm-dd)
    "xl/styles.xml": _HEAD + f'<styleSheet xmlns="{_NS}"><numFmts count="1"><numFmt '
    'numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><fonts count="1"><font><sz val="11"/>'
    '<name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill '
    'patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
    'xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" '
    'applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
    'builtinId="0"/>'
    "</cellStyles></styleSheet>",
}
# XML 1.0 has no place for most control characters: dropped, as a clerk's sheet never meant them
_ESCAPE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        **{chr(c): None for c in range(32) if c not in (9, 10, 13)},
    }
)
# what `_ESCAPE` changes: most text holds none of it, and a search is several times cheaper than
# `translate`, which looks up every character of a name or an address (Chinese text most of all)
_SPECIAL = re.compile("[" + "".join(re.escape(chr(c)) for c in _ESCAPE) + "]")
_EPOCH = date(1899, 12, 30).toordinal()  # day 0 of a spreadsheet's serial dates


def _text(value: str) -> str:
    escaped = value.translate(_ESCAPE)
    if escaped != escaped.strip():
        return f'<c t="inlineStr"><is><t xml:space="preserve">{escaped}</t></is></c>'
    return f'<c t="inlineStr"><is><t>{escaped}</t></is></c>'


def _cell(value: Any) -> str:
    kind = type(value)  # the common cases by their exact type first: 4.4 million cells a province
    if kind is str:
        return _text(value)
    if value is None:
        return "<c/>"
    if kind is date:
        return f'<c s="1"><v>{value.toordinal() - _EPOCH}</v></c>'
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, date):  # a datetime is a date too: its day
        return f'<c s="1"><v>{value.toordinal() - _EPOCH}</v></c>'
    return f"<c><v>{value}</v></c>"


# The fast path of a ledger row: each column written knowing what `ledger_cells` puts in it,
# byte for byte what `_cell` writes of it (tests/unit/test_ledger_xlsx_rows.py). A province's
# export is 200,000 rows of 22 cells (docs/benchmarks.md "Growth"), and a province asks the same
# few labels, causes and days 200,000 times: their finished cells are cached, so that they are
# neither labelled, escaped nor formatted again. The caches are bounded, as `labelled`'s is.


def _code_cell(kind: type[StrEnum], *, blank: bool) -> Callable[[Any], str]:
    """The finished cell of a stored code of `kind`: its label, as `ledger_cells` writes it
    (`blank`: no code is an empty text, as 性别, 档案级别 and 困难类别 are; else an empty cell)."""

    # `typed`: a code equal to one of another type (1 and True) may be written apart by `_cell`
    @functools.lru_cache(maxsize=1024, typed=True)
    def cell(code: Any) -> str:
        value = labelled(kind, code)
        return _cell((value or "") if blank else value)

    return cell


_SEX_CELL = _code_cell(Sex, blank=True)
_FILE_LEVEL_CELL = _code_cell(FileLevel, blank=True)
_CATEGORY_CELL = _code_cell(Category, blank=True)
_STATUS_CELL = _code_cell(Status, blank=False)


@functools.lru_cache(maxsize=4096)  # a primary cause and a few others: some hundreds of mixes
def _causes_cell(primary: Any, secondary: tuple[Any, ...]) -> str:
    return _cell(causes_text(primary, secondary))


@functools.lru_cache(maxsize=1024)  # five kinds of record, mostly none
def _civil_affairs_cell(kinds: tuple[Any, ...]) -> str:
    return _cell(civil_affairs_text(kinds))


@functools.lru_cache(maxsize=1024)  # a handful of findings, mostly none
def _to_act_cell(rules: tuple[Any, ...]) -> str:
    return _cell(to_act_text(rules))


# a day's cell: the days of a province's ledger are a few thousand (a decade and the due dates)
_day_cell = functools.lru_cache(maxsize=8192)(_cell)


def _date(value: Any) -> str:
    # only a `date` (or no date) is cached: an aware datetime may equal one of another day
    if type(value) is date or value is None:
        return _day_cell(value)
    return _cell(value)


def _free_text(value: Any) -> str:
    # names, masked ID numbers and phones, addresses are nearly all distinct: never cached; but
    # text with nothing to escape and no space to keep at either end (nearly all of it) is
    # written as it is, without `translate` looking up each of its characters
    if type(value) is not str:
        return _cell(value)
    if _SPECIAL.search(value) or value != value.strip():
        return _text(value)
    return f'<c t="inlineStr"><is><t>{value}</t></is></c>'


def _number(value: Any) -> str:
    if type(value) is int or type(value) is Decimal:
        return f"<c><v>{value}</v></c>"
    return _cell(value)


def _row_xml(number: int, row: LedgerRow) -> str:
    """One ledger row's cells: `"".join(map(_cell, ledger_cells(number, row)))`, about twice as
    fast (each column in the order of `LEDGER_HEADERS`)."""
    text, day = _free_text, _date
    return (
        f"{_number(number)}"
        f"{text(row['head_name'])}"
        f"{_SEX_CELL(row['head_sex'])}"
        f"{text(row['id_masked'])}"
        f"{text(row['phone_masked'])}"
        f"{text(row['employer'])}"
        f"{text(row['address'])}"
        f"{day(row['applied_on'])}"
        f"{_FILE_LEVEL_CELL(row['file_level'])}"
        f"{_CATEGORY_CELL(row['category'])}"
        f"{_causes_cell(row['primary_cause'], tuple(row['secondary_causes'] or ()))}"
        f"{_STATUS_CELL(row['status'])}"
        f"{text(row['unit_name'] or row['unit'])}"
        f"{day(row['approved_on'])}"
        f"{_number(row['assistance_count'])}"
        f"{_number(row['assistance_total'])}"
        f"{day(row['last_visited_on'])}"
        f"{day(row['next_recheck_due'])}"
        f"{day(row['exited_on'])}"
        f"{_civil_affairs_cell(tuple(row['civil_affairs'] or ()))}"
        f"{day(row['civil_affairs_on'])}"
        f"{_to_act_cell(tuple(row['civil_affairs_to_act'] or ()))}"
    )


class LedgerWorkbook:
    """One ledger sheet written as it comes: `append` rows, then `close`; `out` holds the
    workbook then (it needs no seeking: a socket's or a pipe's writer will do)."""

    def __init__(self, out: IO[bytes], title: str = "困难职工档案台账") -> None:
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=3)
        for name, text in _PARTS.items():
            self.zip.writestr(name, text)
        sheet = title[:31].translate(_ESCAPE).replace('"', "&quot;")
        self.zip.writestr(
            "xl/workbook.xml",
            _HEAD + f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets><sheet name="{sheet}" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        self.sheet = self.zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        columns = "".join(
            f'<col min="{i}" max="{i}" width="{width}" customWidth="1"/>'
            for i, (_, width) in enumerate(LEDGER_HEADERS, start=1)
        )
        header = "".join(_text(h) for h, _ in LEDGER_HEADERS)
        self.sheet.write(
            (
                _HEAD + f'<worksheet xmlns="{_NS}" xmlns:r="{_REL}"><sheetViews><sheetView '
                'workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
                'state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
                f'<sheetFormatPr defaultRowHeight="15"/><cols>{columns}</cols><sheetData>'
                f'<row r="1">{header}</row>'
            ).encode()
        )
        self.rows = 0

    def append(self, rows: Sequence[LedgerRow]) -> None:
        parts = []
        for row in rows:
            self.rows += 1
            cells = _row_xml(self.rows, row)
            parts.append(f'<row r="{self.rows + 1}">{cells}</row>')
        self.sheet.write("".join(parts).encode())

    def close(self) -> None:
        self.sheet.write(b"</sheetData></worksheet>")
        self.sheet.close()
        self.zip.close()


async def write_ledger(
    batches: AsyncIterable[Sequence[LedgerRow]],
    out: IO[bytes],
    *,
    title: str = "困难职工档案台账",
) -> int:
    """Write the ledger rows arriving in `batches` to `out` as xlsx; return the rows written.

    Each batch is written before the next is read. Reading the next one meanwhile was measured
    no faster (`bench/xlsx.py`, docs/benchmarks.md "Growth"): asyncpg decodes rows under the
    GIL that the writer's formatting needs, and two cores are shared with PostgreSQL."""
    book = LedgerWorkbook(out, title)
    async for rows in batches:
        await asyncio.to_thread(book.append, rows)
    await asyncio.to_thread(book.close)
    return book.rows
