"""The 精准帮扶任务清单 (seed 001's 附件3) as an xlsx workbook: a title line with the unit, the
period and the print's verification code, the form's Chinese headings, then one row per measure.

Written by the ledger's streaming writer (`adapters.sheets.ledger`: the sheet's XML straight into
a deflated zip member), so a province's list costs one row at a time. Unlike the ledger's
download, this is a print of personal data in clear: the service records it as one (it carries
the same verification code as the PDF would).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

from adapters.sheets.ledger import _HEAD, _NS, _PARTS, _REL, _text

WIDTHS = (6, 10, 6, 21, 14, 22, 28, 16, 28, 14, 14, 14, 14, 12, 14, 18)


def workbook(
    headings: Sequence[str], rows: Sequence[Sequence[str]], *, title: str, code: str
) -> bytes:
    """The rows under their headings in one sheet, after a title line naming the print."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=3) as book:
        for name, text in _PARTS.items():
            book.writestr(name, text)
        book.writestr(
            "xl/workbook.xml",
            _HEAD + f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets><sheet name="任务清单" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            columns = "".join(
                f'<col min="{i}" max="{i}" width="{WIDTHS[(i - 1) % len(WIDTHS)]}" '
                'customWidth="1"/>'
                for i in range(1, len(headings) + 1)
            )
            sheet.write(
                (
                    _HEAD + f'<worksheet xmlns="{_NS}" xmlns:r="{_REL}"><sheetViews><sheetView '
                    'workbookViewId="0"><pane ySplit="2" topLeftCell="A3" activePane='
                    '"bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView>'
                    '</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
                    f"<cols>{columns}</cols><sheetData>"
                    f'<row r="1">{_text(title)}{_text(code)}</row>'
                    f'<row r="2">{"".join(_text(h) for h in headings)}</row>'
                ).encode()
            )
            for number, row in enumerate(rows, start=3):
                cells = "".join(_text(str(v)) for v in row)
                sheet.write(f'<row r="{number}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


__all__ = ["WIDTHS", "workbook"]
