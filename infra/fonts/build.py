"""Builds the committed font of the printed forms (adapters/forms/fontdata/, decision 0013) from
Noto Sans CJK SC 2.004 (SIL Open Font License 1.1): the characters the forms need, the Regular
weight of the variable font, with TrueType outlines.

    python infra/fonts/build.py NotoSansCJK-VF.otf.ttc [--face 2] [--out adapters/forms/fontdata]

The source collection is not a dependency of bangfu: get it from Noto's releases (the variable
OTC; any copy whose name table says "Version 2.004" gives the same result), run this once, and
commit the result with its licence. TrueType (glyf) outlines, not the source's CFF2: PDF readers
take TrueType in a CIDFontType2 everywhere (poppler rejects an embedded CFF2 table), and a glyf
subset is copied glyph by glyph without reinterpreting charstrings, so a document's subset
costs milliseconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fontTools.varLib import instancer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from adapters.forms.fonts import FAMILY, NOTICE

MAX_ERR = 1.0  # font units (of 1,000): the quadratic curves stay within a thousandth of an em


def build(source: Path, face: int, out: Path) -> None:
    started = time.perf_counter()
    font = TTFont(source, fontNumber=face, lazy=False)
    wanted = {c for c in font.getBestCmap() if not hangul(c)}
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "vhea", "vmtx", "VORG", "STAT", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)
    print(f"subset: {len(font.getGlyphOrder())} glyphs ({time.perf_counter() - started:.0f} s)")
    font = instancer.instantiateVariableFont(font, {"wght": 400}, static=True)
    print(f"Regular instance ({time.perf_counter() - started:.0f} s)")
    to_truetype(font)
    rename(font)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{FAMILY}.ttf"
    font.save(target)
    print(f"{target}: {target.stat().st_size / 1e6:.1f} MB ({time.perf_counter() - started:.0f} s)")


def hangul(code: int) -> bool:
    """Korean letters and syllables: the one script of the source a Chinese form never holds."""
    return any(
        low <= code <= high
        for low, high in ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF))
    )


def to_truetype(font: TTFont) -> None:
    """CFF/CFF2 outlines to quadratic glyf outlines (fontTools' otf2ttf recipe)."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, MAX_ERR, reverse_direction=True))
        glyphs[name] = pen.glyph()
    for tag in ("CFF ", "CFF2", "VORG"):
        if tag in font:
            del font[tag]
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for field in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    maxp.maxComponentDepth = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    head = font["head"]
    head.glyphDataFormat = 0
    head.indexToLocFormat = 1
    font.sfntVersion = "\x00\x01\x00\x00"
    font.recalcBBoxes = True


def rename(font: TTFont) -> None:
    """A modified version under the OFL may not use a reserved name ("Source"): it takes its own."""
    name = font["name"]
    full = f"{FAMILY} Regular"
    for record in list(name.names):
        if record.nameID == 0:
            record.string = NOTICE
        elif record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID in (2, 17):
            record.string = "Regular"
        elif record.nameID == 3:
            record.string = f"2.004;{FAMILY}-Regular;bangfu subset"
        elif record.nameID == 4:
            record.string = full
        elif record.nameID == 6:
            record.string = f"{FAMILY}-Regular"
    name.names = [r for r in name.names if r.nameID not in (16, 17)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path)
    parser.add_argument("--face", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("adapters/forms/fontdata"))
    args = parser.parse_args()
    build(args.source, args.face, args.out)


if __name__ == "__main__":
    main()
