"""Every `# type: ignore` in the packages mypy checks (strict: domain/, projections/, adapters/)
names the error it silences and says why, on the same line:

    body.getvalue(),  # type: ignore[arg-type]  # the workbook's bytes; the annotation names …

(mypy reads the reason only after a second `#`). A bare ignore hides every error of its line, now
and after any later change; a reason lets a reader judge whether it still holds."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("domain", "projections", "adapters")

IGNORE = re.compile(r"#\s*type:\s*ignore\b(?P<codes>\[[^\]]*\])?(?P<rest>.*)")
# a reason: a further comment with some words in it, not just a mark
REASON = re.compile(r"^\s*#\s*\S.{8,}")


def unexplained_ignores(source: str) -> list[tuple[int, str]]:
    """The lines of `source` whose `# type: ignore` comment names no error code or gives no
    reason (comments only: a docstring that quotes one is left alone)."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = IGNORE.search(token.string)
        if match is None:
            continue
        if not match["codes"] or not REASON.match(match["rest"]):
            found.append((token.start[0], token.string))
    return found


class TestTheScan:
    @pytest.mark.parametrize(
        "source",
        [
            "x = f()  # type: ignore\n",
            "x = f()  # type: ignore[attr-defined]\n",
            "x = f()  # type: ignore[attr-defined]  #\n",
            "x = f()  # type: ignore[attr-defined]  # why\n",
            "x = f()  # type:ignore  # litestar's State is untyped\n",
            "def f(  # type: ignore[misc]\n    a: int,\n) -> None: ...\n",
        ],
    )
    def test_finds_an_ignore_without_a_code_or_a_reason(self, source: str):
        assert unexplained_ignores(source)

    @pytest.mark.parametrize(
        "source",
        [
            "x = f()  # type: ignore[attr-defined]  # litestar's State is untyped\n",
            "x = f()  # type: ignore[arg-type, misc]  # the stubs omit `date`, which it takes\n",
            '"""A docstring may quote `# type: ignore` freely."""\n',
            "x = '# type: ignore'\n",
        ],
    )
    def test_accepts_a_coded_and_explained_ignore(self, source: str):
        assert unexplained_ignores(source) == []


class TestTheCheckedPackages:
    @pytest.mark.parametrize(
        "path",
        sorted(p.relative_to(ROOT) for package in CHECKED for p in (ROOT / package).rglob("*.py")),
        ids=str,
    )
    def test_explain_every_type_ignore(self, path: Path):
        found = unexplained_ignores((ROOT / path).read_text(encoding="utf-8"))

        assert found == [], (
            f"{path}: a `# type: ignore` names no error code or no reason"
            f" (write `# type: ignore[code]  # why`): {found}"
        )
