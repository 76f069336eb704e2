"""Reading the spreadsheets clerks make: xlsx and csv (UTF-8 or GBK) with the Chinese headers
of the source forms (户主姓名, 性别, 身份证号码, 联系电话, 建档时间, 档案级别, 困难类别,
致困原因, 工作单位, 家庭地址, 状态 …).

Two layers. `grid_of(data, name)` is the only I/O-shaped part: it turns the bytes of a workbook or
a csv into a grid of cell values (merged title cells read as their top-left value and blanks).
Everything after it is pure and table-tested (`tests/unit/test_sheets.py`):

- `find_header(grid, columns)`: the header row is the first of the top rows that names the
  required columns — clerks put one or two title lines above it ("XX工会困难职工档案台账",
  "填报单位：… 日期：…"), often merged across the sheet;
- `read_table(grid, columns)`: every later non-blank row as {field: cleaned text}, with its
  1-based row number as the spreadsheet shows it;
- cell parsers (`text`, `day`, `amount`, `id_number`, `enum_by_label`) that raise `CellError` with
  the column's Chinese header and the reason, so each bad row is reported as row / column / reason;
  an enumeration is read from its Chinese label or a synonym clerks write (妻/丈夫 for 配偶,
  疾病 for 因病, 失业 for 无业: `domain.values.SYNONYMS_ZH`), and a wrong one lists the labels.

Aliases: each field has the header of the forms and the variants clerks write (身份证号 for
身份证号码, 建档日期 for 建档时间 …); callers add their own with `Columns.with_aliases`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Any, Literal, TypeVar, overload

from domain.errors import DomainError
from domain.idnumber import normalise, parse_id_number
from domain.values import LABELS_ZH, SYNONYMS_ZH

HEADER_SEARCH_ROWS = 20  # a header is looked for in the first rows only
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_SPACES = re.compile(r"\s+")

E = TypeVar("E", bound=StrEnum)


class CellError(ValueError):
    """A cell that cannot be read: the column (its header as the sheet has it) and the reason."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RowError:
    """A refused row: its number as the spreadsheet shows it, the column and why."""

    row: int
    column: str
    reason: str


@dataclass(frozen=True)
class Columns:
    """The fields a sheet may have: field → (the form's header, *aliases); `required` fields
    must all be present for a row to count as the header."""

    names: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]

    def with_aliases(self, extra: Mapping[str, Iterable[str]]) -> Columns:
        merged = {k: (*v, *extra.get(k, ())) for k, v in self.names.items()}
        return Columns(merged, self.required)

    def header(self, name: str) -> str:
        """The form's header of a field (how errors name the column)."""
        return self.names[name][0]


@dataclass(frozen=True)
class Table:
    """A sheet read under its header: the header's row number, which fields it has (field →
    0-based column index), and every non-blank row below as (row number, {field: text})."""

    header_row: int
    fields: Mapping[str, int]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    headers: Mapping[str, str] = field(default_factory=dict)  # field → header as written


# ------------------------------------------------------------------------------ I/O: bytes → grid


def decode_text(data: bytes) -> str:
    """A csv's text: UTF-8 (with or without a BOM), else GB18030 (a superset of GBK and GB2312,
    what Excel on a Chinese Windows writes)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the signature of an Excel 97–2003 .xls
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


def is_workbook(data: bytes, name: str = "") -> bool:
    """A workbook (xlsx/xlsm/xlsb, Excel 97–2003 xls, ods) by its content, else by its name."""
    return data[:2] == b"PK" or data[:8] == _OLE or name.lower().endswith(_WORKBOOK_SUFFIXES)


def grid_of(data: bytes, name: str = "") -> list[list[Any]]:
    """The first sheet of a workbook (by content, whatever the name) or a csv, as rows of values.

    Workbooks are read with calamine (Rust; python-calamine): a 100,000-row xlsx reads in about
    a second, where openpyxl's read-only mode takes twenty (decision 0002). Merged cells read as
    their top-left value and blanks, as in openpyxl; numbers come as floats, dates as dates.
    """
    if is_workbook(data, name):
        from python_calamine import CalamineWorkbook  # noqa: PLC0415 — only workbooks need it

        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            return [
                list(row) for row in book.get_sheet_by_index(0).to_python(skip_empty_area=False)
            ]
        finally:
            book.close()
    return [list(row) for row in csv.reader(io.StringIO(decode_text(data)))]


# ------------------------------------------------------------------------------ pure: grid → table


def clean(value: Any) -> str:
    """A cell as text: full-width letters and digits to ASCII, runs of spaces to one, trimmed.
    Dates keep their ISO form; whole numbers stored as floats lose the '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _SPACES.sub(" ", str(value).translate(_FULL_WIDTH)).strip()


def _header_key(value: Any) -> str:
    # headers are compared without spaces, line breaks and a trailing "(元)"-style unit or "*"
    return re.sub(r"[\s*＊:：]", "", clean(value)).replace("（", "(").replace("）", ")")


def find_header(grid: Sequence[Sequence[Any]], columns: Columns) -> tuple[int, dict[str, int]]:
    """The 0-based index of the header row and field → column index; `CellError` if none of the
    first rows names every required column."""
    lookup: dict[str, str] = {}
    for name, aliases in columns.names.items():
        for alias in aliases:
            lookup[_header_key(alias)] = name
    best: tuple[int, dict[str, int]] | None = None
    for index, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for col, value in enumerate(row):
            field = lookup.get(_header_key(value))
            if field is not None and field not in found:
                found[field] = col
        if all(r in found for r in columns.required):
            if best is None or len(found) > len(best[1]):
                best = (index, found)
            break
    if best is None:
        missing = "、".join(columns.header(r) for r in columns.required)
        raise CellError("表头", f"前{HEADER_SEARCH_ROWS}行中未找到包含{missing}的表头行")
    return best


def read_table(grid: Sequence[Sequence[Any]], columns: Columns) -> Table:
    """The rows under the header, blank rows skipped, each with its spreadsheet row number."""
    index, found = find_header(grid, columns)
    header = grid[index]
    rows: list[tuple[int, dict[str, str]]] = []
    for number, row in enumerate(grid[index + 1 :], start=index + 2):
        cells = {name: clean(row[col]) if col < len(row) else "" for name, col in found.items()}
        if not any(cells.values()):
            continue
        rows.append((number, cells))
    return Table(index + 1, found, rows, {n: clean(header[c]) for n, c in found.items()})


# ------------------------------------------------------------------------------ cell parsers

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_PATTERN = re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$")


def text(value: str, column: str, *, required: bool = False, limit: int = 2000) -> str:
    if required and not value:
        raise CellError(column, "不能为空")
    if len(value) > limit:
        raise CellError(column, f"不能超过{limit}个字符")
    return value


# `required=True` gives a value or raises `CellError`: the overloads let mypy know it
@overload
def day(value: str, column: str, *, required: Literal[True]) -> date: ...
@overload
def day(value: str, column: str, *, required: bool = False) -> date | None: ...
def day(value: str, column: str, *, required: bool = False) -> date | None:
    """A date as clerks write it: 2020-01-05, 2020/1/5, 2020.1.5, 2020年1月5日, 20200105; a
    month alone (2020年1月, 2020-01) means its first day."""
    if not value:
        if required:
            raise CellError(column, "不能为空")
        return None
    value = value.split(" ", maxsplit=1)[0].split("T", maxsplit=1)[0]
    for pattern in _DATE_PATTERNS:
        m = pattern.match(value)
        if m:
            break
    else:
        m = _MONTH_PATTERN.match(value)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), 1)
            except ValueError:
                raise CellError(column, f"日期{value}不存在") from None
        raise CellError(column, f"无法识别的日期：{value}")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise CellError(column, f"日期{value}不存在") from None


_YES = frozenset({"是", "有", "存在", "y", "yes", "true", "1", "√", "✓", "✔"})
_NO = frozenset(
    {"否", "无", "没有", "不存在", "n", "no", "false", "0", "×", "✗", "✘", "-", "—", "/"}
)


def says_no(value: str) -> bool:
    """Whether a cell answers no (否/无/×/N/0 …)."""
    return value.strip().lower() in _NO


def yes_no(value: str, column: str) -> bool | None:
    """An answer as clerks tick it: 是/有/√/Y/1 or 否/无/×/N/0; blank is None (not answered)."""
    if not value:
        return None
    answer = value.strip().lower()
    if answer in _YES:
        return True
    if answer in _NO:
        return False
    raise CellError(column, f"应填“是”或“否”：{value}")


@overload
def amount(value: str, column: str, *, required: Literal[True]) -> Decimal: ...
@overload
def amount(value: str, column: str, *, required: bool = False) -> Decimal | None: ...
def amount(value: str, column: str, *, required: bool = False) -> Decimal | None:
    """Yuan: '12,345.6', '12345元', '1.2万' (ten thousands) read as Decimal, never float."""
    if not value:
        if required:
            raise CellError(column, "不能为空")
        return None
    raw = value.replace(",", "").replace("，", "").removesuffix("元").strip()
    scale = Decimal(1)
    if raw.endswith("万"):
        raw, scale = raw[:-1], Decimal(10000)
    try:
        number = Decimal(raw) * scale
    except InvalidOperation:
        raise CellError(column, f"不是有效金额：{value}") from None
    if not number.is_finite() or number < 0:
        raise CellError(column, f"不是有效金额：{value}")
    return number.quantize(Decimal("0.01"))


def id_number(value: str, column: str) -> str:
    """A normalised, valid 18-character ID number; 15-digit legacy numbers are converted."""
    if not value:
        raise CellError(column, "不能为空")
    try:
        return parse_id_number(value, field=column, allow_legacy=True).value
    except DomainError as error:
        # the column is named once, by the row error, not again in its reason
        raise CellError(column, error.zh.removeprefix(f"{column}：")) from None


def masked_id(value: str) -> str | None:
    """The normalised text of a masked ID number ('130306********002X'), None if not masked."""
    if "*" not in value and "＊" not in value:
        return None
    return normalise(value.replace("＊", "*"))


@cache
def _labels_of(kind: type[StrEnum]) -> dict[str, str]:
    """Label, synonym or code → code, for one enumeration (labels first, then what clerks write
    for them: `domain.values.SYNONYMS_ZH`). Keys are compared without spaces and with
    ASCII brackets, as `_label_key` makes them."""
    found: dict[str, str] = {}
    for (cls, code), zh in LABELS_ZH.items():
        if cls is kind:
            found.setdefault(_label_key(zh), code)
            found.setdefault(code, code)
    for (cls, code), words in SYNONYMS_ZH.items():
        if cls is kind:
            for word in words:
                found.setdefault(_label_key(word), code)
    return found


def _label_key(value: str) -> str:
    return re.sub(r"\s", "", value).replace("（", "(").replace("）", ")").lower()


# An office written with its place ("县医保局", "抚宁区民政局", seed 001 form 3): the place is a
# prefix ending in 省/市/县/区/旗, tried off when the whole text names nothing.
_PLACE = re.compile(r"^.{0,12}?[省市县区旗]")


def labels_accepted(kind: type[StrEnum]) -> str:
    """The labels of an enumeration, as an error lists them ('可填：…')."""
    return "、".join(zh for (cls, _), zh in LABELS_ZH.items() if cls is kind)


@overload
def enum_by_label(kind: type[E], value: str, column: str, *, required: Literal[True]) -> E: ...
@overload
def enum_by_label(
    kind: type[E], value: str, column: str, *, required: bool = False
) -> E | None: ...
def enum_by_label(kind: type[E], value: str, column: str, *, required: bool = False) -> E | None:
    """An enumeration value from its Chinese label (as the forms write it), one of the synonyms
    clerks write for it (配偶/妻/丈夫, 因病/疾病/患病, 无业/失业 …) or its code; `CellError`
    with the labels accepted otherwise."""
    if not value:
        if required:
            raise CellError(column, "不能为空")
        return None
    labels = _labels_of(kind)
    key = _label_key(value)
    code = labels.get(key)
    if code is None:
        place = _PLACE.match(key)
        if place is not None and place.end() < len(key):
            code = labels.get(key[place.end() :])
    if code is not None:
        return kind(code)
    raise CellError(column, f"无法识别：{value}（可填：{labels_accepted(kind)}）")


def split_list(value: str) -> list[str]:
    """'疾病、残疾,失业' → ['疾病', '残疾', '失业'] (the separators clerks use)."""
    return [p.strip() for p in re.split(r"[、,，;；/]", value) if p.strip()]
