"""The font the forms are printed in: Noto Sans CJK SC, brought by the `manimgx-fonts-cjk`
package (SIL Open Font License 1.1; docs/decisions/0012-paper-forms.md).

The package ships one 33 MB variable-font collection. Subsetting it for every document costs
1–3 s, so a node prepares once a face of the characters forms nearly always hold — ASCII, the
CJK and full-width punctuation, the symbols and the 6,763 hanzi of GB 2312 — and keeps it in a
cache folder (`BANGFU_FONT_CACHE`, default `~/.cache/bangfu/fonts`); preparing takes about
20 s on first use. A text holding a character outside that face (a rare character of a name)
is printed with the whole collection as the fallback: slower, never missing what Noto has.
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import cache
from importlib import metadata, resources
from pathlib import Path

PACKAGE = "manimgx_fonts_cjk"
COLLECTION = "NotoSansCJK-VF.otf.ttc"
SC_FACE = 2  # the collection's faces: JP, KR, SC, TC, HK
_lock = threading.Lock()


def collection() -> Path:
    """The whole Noto Sans CJK collection the package ships."""
    return Path(str(resources.files(PACKAGE).joinpath(COLLECTION)))


def _gb2312() -> set[int]:
    chars: set[int] = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return chars


@cache
def common_characters() -> frozenset[int]:
    """The characters of the prepared face."""
    chars = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFF60))
    chars |= {0xB7, 0xD7, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x2116, 0x221A}
    chars |= {0x2103, 0x25A1, 0x2610, 0x2611, 0x2612, 0x33A1, 0x2460, 0x2461, 0x2462}
    return frozenset(chars | _gb2312())


def cache_folder() -> Path:
    configured = os.environ.get("BANGFU_FONT_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bangfu" / "fonts"


def _prepared_name() -> str:
    version = metadata.version("manimgx-fonts-cjk")
    digest = hashlib.sha256(",".join(map(str, sorted(common_characters()))).encode()).hexdigest()
    return f"noto-sans-sc-common-{version}-{digest[:12]}.otf"


@cache
def prepared() -> Path:
    """The prepared face (built on first use, then read from the cache folder)."""
    path = cache_folder() / _prepared_name()
    with _lock:
        if path.exists():
            return path
        from fontTools import subset  # type: ignore[import-untyped]  # fontTools ships no type information  # noqa: PLC0415 — only the first use pays the import
        from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # fontTools ships no type information  # noqa: PLC0415

        font = TTFont(collection(), fontNumber=SC_FACE, lazy=True)
        options = subset.Options()
        options.layout_features = []
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.drop_tables += ["GSUB", "GPOS", "BASE", "vhea", "vmtx", "VORG", "STAT"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=common_characters())
        subsetter.subset(font)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        font.save(temporary)
        temporary.replace(path)
        return path


def needs_fallback(texts: list[str]) -> bool:
    """True when some character of `texts` is outside the prepared face."""
    common = common_characters()
    return any(ord(c) not in common for text in texts for c in text if c not in "\n\t")
