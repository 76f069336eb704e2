"""The domain and the projections hold no SQL: every query is built in `adapters/pg/` (or in the
adapters that run it). The import-linter contracts in pyproject keep database libraries out of
these packages; this test keeps SQL text out, which no import contract can see."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = ("domain", "projections")

# A statement or a condition as SQL is written here (keywords in capitals, as in every query of
# adapters/pg/), then what must follow the keyword in SQL; prose in docstrings stays clear of it.
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b"
    r"|\bINSERT\s+INTO\b"
    r"|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\bWHERE\b[\s\S]*(=|\bLIKE\b|\bIN\b|\bIS\b)"
    r"|\bCASE\s+WHEN\b"
    r"|\bCREATE\s+(TABLE|INDEX|VIEW)\b"
    r"|\$\d+\b"
)


def sql_literals(source: str) -> list[tuple[int, str]]:
    """The string literals of `source` (f-strings' literal parts joined) that read as SQL."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "{…}" for part in node.values
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if SQL.search(text):
            found.append((node.lineno, text))
    return found


class TestTheScan:
    @pytest.mark.parametrize(
        "source",
        [
            'QUERY = "SELECT id FROM events WHERE unit = $1"',
            "def f(c: str) -> str:\n    return f\"({c} LIKE {c} || '%')  WHERE {c} = 1\"",
            "S = ('(CASE WHEN length(x) >= 9 THEN x = y' \" ELSE x LIKE y || '%' END)\")",
            'S = "UPDATE ledger SET status = 1"',
            'S = "DELETE FROM idempotency_keys"',
        ],
    )
    def test_finds_sql_in_a_literal(self, source: str):
        assert sql_literals(source)

    @pytest.mark.parametrize(
        "source",
        [
            '"""Select the files where the poverty line applies; update the plan."""',
            'zh = "单位代码只能为数字"',
            'DELETED = "deleted"',
        ],
    )
    def test_leaves_prose_alone(self, source: str):
        assert sql_literals(source) == []


class TestTheDomainAndTheProjections:
    @pytest.mark.parametrize(
        "path",
        sorted(p.relative_to(ROOT) for package in PURE for p in (ROOT / package).rglob("*.py")),
        ids=str,
    )
    def test_hold_no_sql(self, path: Path):
        found = sql_literals((ROOT / path).read_text(encoding="utf-8"))

        assert found == [], f"SQL in {path} (build it in adapters/pg/): {found}"
