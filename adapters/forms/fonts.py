"""The font the forms are printed in, and the small font each document embeds (decision 0013).

The project brings its font itself: `fontdata/BangfuFormsSansSC.ttf` is Noto Sans CJK SC 2.004
(SIL Open Font License 1.1, `fontdata/OFL.txt`) cut to the characters a Chinese form can hold —
every character of GB 18030's two-byte set (GBK, all of GB 2312 included), CJK Extension A, the
compatibility ideographs, the Extension B and later characters Noto draws, punctuation, symbols,
Latin, kana — at the Regular weight, with TrueType outlines (`infra/fonts/build.py` made it).

It is parsed once per process (`master`); each document then gets its own font holding only the
characters it prints (`face`), built in milliseconds by copying those glyphs' bytes, so what
fpdf2 subsets and embeds per document is a few hundred glyphs, never the whole font.

A character the font lacks is never printed blank: its code maps to a box (the font's
`.notdef` outline, a visible rectangle) whose text is still the character itself, so the
paper shows where a hand-written correction goes and a copy of the text still finds the
name; `Face.missing` names such characters so the form can say so (`adapters.forms.pdf`).
"""

from __future__ import annotations

import copy
import io
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from fontTools.fontBuilder import FontBuilder  # type: ignore[import-untyped]  # fontTools ships no type information
from fontTools.ttLib import TTFont, newTable  # type: ignore[import-untyped]  # fontTools ships no type information

FAMILY = "BangfuFormsSansSC"
FILE = f"{FAMILY}.ttf"
LICENCE = "OFL.txt"
NOTICE = (
    "Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name 'Source'. "
    "Noto Sans CJK SC 2.004, subset for bangfu's forms."
)
OFL = "This Font Software is licensed under the SIL Open Font License, Version 1.1."
OFL_URL = "https://openfontlicense.org"


def face_file() -> Path:
    """The committed font."""
    return Path(str(resources.files("adapters.forms").joinpath("fontdata", FILE)))


@dataclass(frozen=True, slots=True)
class Face:
    """One document's font: the glyphs of the characters it prints, as a TrueType file."""

    data: bytes
    missing: tuple[str, ...]  # characters the font lacks, printed as a box


def _printed(code: int) -> bool:
    return code >= 0x20 and not 0x7F <= code < 0xA0


class _Master:
    """The committed font, parsed once: its character map, metrics and each glyph's bytes."""

    def __init__(self, path: Path) -> None:
        # read whole (11 MB): the tables are decoded on demand from memory, no file kept open
        font = TTFont(
            io.BytesIO(path.read_bytes()), lazy=True, recalcBBoxes=False, recalcTimestamp=False
        )
        self.cmap: dict[int, str] = font.getBestCmap()
        self.glyphs: dict[str, Any] = font["glyf"].glyphs  # undecoded: each glyph's bytes
        self.metrics: dict[str, tuple[int, int]] = font["hmtx"].metrics
        self.tables = {tag: font[tag] for tag in ("head", "hhea", "maxp", "OS/2", "post")}
        self.units_per_em: int = font["head"].unitsPerEm
        self.lock = threading.Lock()

    def face(self, characters: Iterable[str]) -> Face:
        codes = sorted({ord(c) for c in characters if _printed(ord(c))})
        order = [".notdef"]
        cmap: dict[int, str] = {}
        missing: list[str] = []
        for code in codes:
            name = self.cmap.get(code)
            if name is None:
                missing.append(chr(code))
                name = f"missing.u{code:X}"
            cmap[code] = name
            order.append(name)
        order = list(dict.fromkeys(order))  # characters sharing a glyph list it once
        glyphs = {n: self.glyphs[".notdef" if n.startswith("missing.") else n] for n in order}
        metrics = {n: self.metrics[".notdef" if n.startswith("missing.") else n] for n in order}
        with self.lock:  # the tables are shared; compiling one sets fields in it
            font = TTFont(recalcBBoxes=False, recalcTimestamp=False)
            font.setGlyphOrder(order)
            for tag, table in self.tables.items():
                font[tag] = copy.copy(table)
            font["post"].formatType = 3.0
            font["maxp"].numGlyphs = len(order)
            builder = FontBuilder(font=font)
            builder.setupCharacterMap(cmap)
            builder.setupNameTable(
                {
                    "copyright": NOTICE,
                    "familyName": FAMILY,
                    "styleName": "Regular",
                    "uniqueFontIdentifier": f"{FAMILY}-Regular;document subset",
                    "fullName": f"{FAMILY} Regular",
                    "psName": f"{FAMILY}-Regular",
                    "licenseDescription": OFL,
                    "licenseInfoURL": OFL_URL,
                },
                windows=True,
                mac=False,
            )
            hmtx = font["hmtx"] = newTable("hmtx")
            hmtx.metrics = metrics
            font["loca"] = newTable("loca")
            glyf = font["glyf"] = newTable("glyf")
            glyf.glyphOrder = order
            glyf.glyphs = glyphs
            out = io.BytesIO()
            font.save(out)
        return Face(out.getvalue(), tuple(missing))


_lock = threading.Lock()


@cache
def _master() -> _Master:
    return _Master(face_file())


def master() -> _Master:
    """The committed font, parsed on first use and kept for the process."""
    with _lock:
        return _master()


def face(characters: Iterable[str]) -> Face:
    """A font of exactly `characters` (boxes for those the font lacks), for one document."""
    return master().face(characters)


def common_characters() -> frozenset[int]:
    """Every character the font draws."""
    return frozenset(master().cmap)
