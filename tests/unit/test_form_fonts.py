"""The forms' font: every character of a name is on the paper — a rare one the font draws is
embedded and extractable, one no font draws prints as a visible box with a note naming it, never
as a blank — and each document embeds only the characters it prints, as a font PDF readers take."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # fontTools ships no type information
from pypdf import PdfReader

from adapters.forms import fonts
from adapters.forms.pdf import Grid, Paper, Section, Stamp, label, render, value

STAMP = Stamp("t" * 120, "K7PD-3QX9-M2AB")


def form_of(*names: str) -> Section:
    rows = tuple((label("姓名"), value(name)) for name in names)
    return Section("困难职工档案表", (Grid(rows, (1, 3)),), STAMP)


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def embedded_font(pdf: bytes) -> bytes:
    reader = PdfReader(io.BytesIO(pdf))
    font = reader.pages[0]["/Resources"]["/Font"]
    (first,) = font.values()
    descendant = first.get_object()["/DescendantFonts"][0].get_object()
    data: bytes = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
    return data


def test_a_name_with_a_character_of_extension_a_is_printed_and_extractable() -> None:
    name = "王㐂"  # U+3402, CJK Extension A: outside GB 2312, in the font

    pdf = render([form_of(name)])

    assert ord("㐂") in fonts.common_characters()
    assert name in text_of(pdf)
    assert "字库缺字" not in text_of(pdf)


def test_a_character_of_extension_b_that_the_font_draws_is_embedded_not_boxed() -> None:
    name = "吉𠮷"  # U+20BB7, CJK Extension B, one of those Noto draws

    face = fonts.face(name)
    pdf = render([form_of(name)])

    assert face.missing == ()
    assert name in text_of(pdf)
    assert "字库缺字" not in text_of(pdf)


def test_a_character_no_font_has_prints_as_a_box_and_the_form_names_it() -> None:
    name = "张𠀀"  # U+20000, CJK Extension B: not in Noto Sans CJK SC
    assert ord("𠀀") not in fonts.common_characters()

    face = fonts.face("张𠀀")
    pdf = render([form_of(name)])

    assert face.missing == ("𠀀",)
    text = text_of(pdf)
    assert name in text  # the box's text is still the character
    assert "字库缺字U+20000，以方框代印" in text


def test_the_missing_characters_box_is_drawn_not_blank() -> None:
    face = fonts.face("𠀀")

    font = TTFont(io.BytesIO(face.data))
    box = font["glyf"][font.getBestCmap()[0x20000]]
    assert box.numberOfContours > 0  # a visible outline, not an empty glyph
    assert font["hmtx"][font.getBestCmap()[0x20000]][0] > 0


def test_each_document_embeds_only_its_own_characters() -> None:
    small = render([form_of("王芳")])
    large = render([form_of(*(f"王{chr(c)}" for c in range(0x4E00, 0x4E00 + 400)))])

    assert len(embedded_font(small)) < 60_000
    assert len(embedded_font(small)) < len(embedded_font(large))


def test_the_font_is_parsed_once_per_process() -> None:
    assert fonts.master() is fonts.master()


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils not installed")
def test_poppler_reads_the_embedded_font_without_complaint(tmp_path: Path) -> None:
    path = tmp_path / "form.pdf"
    path.write_bytes(render([form_of("王㐂", "张𠀀", "刘德华")]))

    listing = subprocess.run(["pdffonts", path], capture_output=True, check=True, timeout=30)
    text = subprocess.run(["pdftotext", path, "-"], capture_output=True, check=True, timeout=30)

    assert b"CID TrueType" in listing.stdout
    assert b"yes yes yes" in listing.stdout  # embedded, subset, with a ToUnicode map
    assert listing.stderr == b""
    assert text.stderr == b""
    assert "刘德华" in text.stdout.decode()
    assert "王㐂" in text.stdout.decode()


def test_a_card_with_a_character_no_font_has_stays_one_card_with_the_box() -> None:
    pdf = render([form_of("张𠀀")], Paper.CARD)

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert "张𠀀" in text_of(pdf)
    assert "字库缺字" not in text_of(pdf)  # no room for the note: the box and the log flag it
