"""Laying out a form on paper (fpdf2): a form is a list of sections, each a list of blocks —
label/value grids, tables with a heading row, paragraphs, signature lines — and every page of a
section carries its verification stamp (a QR code with the signed token and the short code a
person can type) in the footer.

The layout is data (`Section`, `Grid`, `Table`, …), built from the events by
`adapters.forms.household` and `adapters.forms.unit`; this module only draws it, so the tests
can check a form's content without reading a PDF, and the PDF's text against the same values.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import cast

import segno
import structlog
from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from adapters.forms import fonts

log = structlog.get_logger(__name__)


class Paper(StrEnum):
    A4 = "a4"  # 210 × 297 mm, portrait
    A4_LANDSCAPE = "a4_landscape"
    CARD = "card"  # 85.6 × 54 mm (ISO/IEC 7810 ID-1), landscape


PAPER_MM: dict[Paper, tuple[float, float]] = {
    Paper.A4: (210.0, 297.0),
    Paper.A4_LANDSCAPE: (297.0, 210.0),
    Paper.CARD: (85.6, 54.0),
}


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    span: int = 1
    label: bool = False  # a printed label (shaded), not a value


def label(text: str, span: int = 1) -> Cell:
    return Cell(text, span, label=True)


def value(text: object, span: int = 1) -> Cell:
    return Cell("" if text is None else str(text), span)


@dataclass(frozen=True, slots=True)
class Grid:
    """Rows of label and value cells; each row's spans add up to the number of columns."""

    rows: tuple[tuple[Cell, ...], ...]
    widths: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A heading row (repeated on each page) and rows of values."""

    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...]
    empty_rows: int = 0  # blank rows to fill in by hand after the recorded ones


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    size: float = 10.5
    bold: bool = False


@dataclass(frozen=True, slots=True)
class Signatures:
    labels: tuple[str, ...]


Block = Grid | Table | Paragraph | Signatures


@dataclass(frozen=True, slots=True)
class Stamp:
    """What every page of a section carries: the signed token (as a QR code) and the short code."""

    token: str
    code: str


@dataclass(frozen=True, slots=True)
class Section:
    """One form for one file (or one unit): begins on a new page."""

    title: str
    blocks: tuple[Block, ...]
    stamp: Stamp | None = None
    subtitle: str = ""
    source: str = ""  # the notice the layout follows, printed small under the title

    def texts(self) -> Iterator[str]:
        yield from (self.title, self.subtitle, self.source)
        if self.stamp is not None:
            yield self.stamp.code
        for block in self.blocks:
            if isinstance(block, Grid):
                yield from (c.text for row in block.rows for c in row)
            elif isinstance(block, Table):
                yield from block.headings
                yield from (t for row in block.rows for t in row)
            elif isinstance(block, Paragraph):
                yield block.text
            else:
                yield from block.labels


_CODE = "核验码 {}"
_PAGE = "第 {} 页 · 扫码或输入核验码核对纸质档案与电子档案是否一致"
_DATE_LINE = "                                        年    月    日"
_MISSING = "注：字库缺字 {}，以方框代印，请手写补正。"
# what the layout prints besides the sections' own texts (page numbers, codes, the note above)
_FIXED = "".join((_CODE, _PAGE, _DATE_LINE, _MISSING, "：、U+", *map(chr, range(0x20, 0x7F))))


@dataclass
class _Sheet(FPDF):
    """fpdf2's document with the stamp of the current section in every page's footer."""

    paper: Paper = Paper.A4
    stamp: Stamp | None = None
    section_page: int = 0
    qr_cache: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        width, height = PAPER_MM[self.paper]
        super().__init__(unit="mm", format=(width, height))
        small = self.paper is Paper.CARD
        margin = 3.0 if small else 12.0
        self.set_margins(margin, margin, margin)
        self.set_auto_page_break(auto=True, margin=(14.0 if small else 30.0))

    def header(self) -> None:
        self.section_page += 1

    def footer(self) -> None:
        if self.stamp is None:
            return
        small = self.paper is Paper.CARD
        size = 12.0 if small else 22.0
        width, height = PAPER_MM[self.paper]
        x = width - self.r_margin - size
        y = height - (1.5 if small else 6.0) - size
        self._qr(self.stamp.token, x, y, size)
        self.set_font("noto", size=5 if small else 8)
        self.set_xy(self.l_margin, y + size - (4 if small else 9))
        self.cell(
            x - self.l_margin - 2,
            3 if small else 4.5,
            _CODE.format(self.stamp.code),
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        if not small:
            self.cell(
                x - self.l_margin - 2,
                4.5,
                _PAGE.format(self.section_page),
                align=Align.L,
            )

    def _qr(self, token: str, x: float, y: float, size: float) -> None:
        runs = self.qr_cache.get(token)
        if runs is None:
            matrix = segno.make(token, error="m", micro=False).matrix
            runs = []
            for row, bits in enumerate(matrix):
                start = None
                for col, bit in enumerate((*bits, 0)):
                    if bit and start is None:
                        start = col
                    elif not bit and start is not None:
                        runs.append((row, start, col - start))
                        start = None
            self.qr_cache = {token: runs}
            self._qr_modules = len(matrix)
        module = size / self._qr_modules
        self.set_fill_color(0, 0, 0)
        # one filled path of every run, written as it is (a rect call per run costs more than
        # the rest of the footer)
        k, top = self.k, self.h
        self._out(
            " ".join(
                f"{(x + col * module) * k:.2f} {(top - y - row * module) * k:.2f}"
                f" {length * module * k:.2f} {-module * k:.2f} re"
                for row, col, length in runs
            )
            + " f"
        )


def render(sections: Sequence[Section], paper: Paper = Paper.A4) -> bytes:
    """The sections as one PDF, each beginning on a new page.

    The document embeds a font of exactly the characters it prints (`fonts.face`); a character
    the font lacks prints as a box, with a note on its form naming its code (and a warning in
    the log), never as a blank."""
    sheet = _Sheet(paper=paper)
    face = fonts.face(_FIXED + "".join(t for s in sections for t in s.texts()))
    # fpdf2's own font object over the document's face, read from memory (add_font wants a path)
    font = TTFFont(sheet, cast(Path, io.BytesIO(face.data)), "noto", "")
    # the face's glyphs carry their bounds: fpdf2's subset of it can copy their bytes as they
    # are instead of decoding and re-encoding every outline (most of a document's time)
    font.ttfont.recalcBBoxes = False
    sheet.fonts["noto"] = font
    if face.missing:
        log.warning(
            "form.characters_missing",
            characters=[f"U+{ord(c):04X}" for c in face.missing],
            sections=len(sections),
        )
    for section in sections:
        draw(sheet, section, face.missing)
    return bytes(sheet.output())


def render_many(sections: Iterable[Section], paper: Paper = Paper.A4) -> bytes:
    """Like `render`, for a stream of sections (a unit's files), without holding them all."""
    return render(list(sections), paper)


def draw(sheet: _Sheet, section: Section, missing: Sequence[str] = ()) -> None:
    small = sheet.paper is Paper.CARD
    sheet.stamp = section.stamp
    sheet.section_page = 0
    sheet.add_page()
    sheet.set_font("noto", size=9 if small else 16)
    sheet.cell(
        0, 5 if small else 10, section.title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    if section.subtitle:
        sheet.set_font("noto", size=6 if small else 10)
        sheet.cell(
            0,
            3.5 if small else 6,
            section.subtitle,
            align=Align.C,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    if section.source and not small:
        sheet.set_font("noto", size=7)
        sheet.cell(0, 4, section.source, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    # the note under the title (not on the card: a line more would push it onto a second card;
    # the box and the log's warning still flag the character there)
    lacking = sorted({c for t in section.texts() for c in t} & set(missing)) if missing else []
    if lacking and not small:
        sheet.set_font("noto", size=8)
        sheet.multi_cell(
            0,
            4,
            _MISSING.format("、".join(f"U+{ord(c):04X}" for c in lacking)),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    sheet.ln(1 if small else 2)
    base = 5.5 if small else 9.5
    for block in section.blocks:
        if isinstance(block, Grid):
            _grid(sheet, block, base)
        elif isinstance(block, Table):
            _table(sheet, block, base)
        elif isinstance(block, Paragraph):
            sheet.set_font("noto", size=min(block.size, base + 1))
            sheet.multi_cell(0, base * 0.55, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            sheet.ln(1)
        else:
            sheet.set_font("noto", size=base + 1)
            sheet.ln(4)
            for text in block.labels:
                sheet.cell(0, 8, f"{text}：", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                sheet.cell(
                    0,
                    8,
                    _DATE_LINE,
                    new_x=XPos.LMARGIN,
                    new_y=YPos.NEXT,
                )


_LABEL = FontFace(fill_color=(235, 235, 235))


def _grid(sheet: _Sheet, grid: Grid, size: float) -> None:
    sheet.set_font("noto", size=size)
    with sheet.table(
        col_widths=grid.widths,
        first_row_as_headings=False,
        line_height=size * 0.55,
        padding=0.8,
        text_align="LEFT",
        borders_layout=TableBordersLayout.ALL,
    ) as table:
        for cells in grid.rows:
            row = table.row()
            for cell in cells:
                row.cell(cell.text, colspan=cell.span, style=_LABEL if cell.label else None)
    sheet.ln(1.5)


def _table(sheet: _Sheet, data: Table, size: float) -> None:
    sheet.set_font("noto", size=size)
    with sheet.table(
        col_widths=data.widths,
        headings_style=_LABEL,
        line_height=size * 0.55,
        padding=0.8,
        text_align="LEFT",
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for text in data.headings:
            heading.cell(text)
        for values in data.rows:
            row = table.row()
            for text in values:
                row.cell(text)
        for _ in range(data.empty_rows):
            row = table.row()
            for _ in data.headings:
                row.cell(" ")
    sheet.ln(1.5)
