"""The union tree as stored rows: list a subtree, create and rename units; and `subtree_sql`,
the SQL form of `domain.units.UnitCode.is_within` that every subtree query uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from domain.errors import InvalidValue, NotFound, RuleViolated
from domain.units import UnitCode


def subtree_sql(column: str, parameter: str) -> str:
    """A SQL condition: `column` holds a unit within the unit code bound to `parameter`.

    A range in code order, `[root, bangfu_subtree_end(root))` (migration 0014: a base-level
    union is only itself, a higher unit every code that starts with its own): the
    `text_pattern_ops` indexes on unit codes serve it in a generic plan too, where a
    `LIKE $1 || '%'` would not be."""
    return (
        f"({column} ~>=~ {parameter}::text AND {column} ~<~ bangfu_subtree_end({parameter}::text))"
    )


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str
    parent: str | None
    level: str
    updated_at: datetime


class PgUnitDirectory:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def exists(self, code: str) -> bool:
        return bool(await self.pool.fetchval("SELECT 1 FROM units WHERE code = $1", code))

    async def get(self, code: str) -> Unit:
        row = await self.pool.fetchrow(
            "SELECT code, name, parent, level, updated_at FROM units WHERE code = $1", code
        )
        if row is None:
            raise NotFound(f"no unit {code}", zh="单位不存在")
        return Unit(*row)

    async def subtree(self, root: str) -> list[Unit]:
        """The unit `root` and every unit below it, in code order."""
        rows = await self.pool.fetch(
            "SELECT code, name, parent, level, updated_at FROM units"  # noqa: S608 — constants
            f" WHERE {subtree_sql('code', '$1')} ORDER BY code",
            root,
        )
        return [Unit(*r) for r in rows]

    async def create(self, code: str, name: str) -> Unit:
        unit = UnitCode(code)
        name = _name(name)
        parent = unit.parent
        async with self.pool.acquire() as conn, conn.transaction():
            if parent is not None and not await conn.fetchval(
                "SELECT 1 FROM units WHERE code = $1", parent.value
            ):
                raise RuleViolated(
                    "parent_exists",
                    f"the parent unit {parent} does not exist",
                    zh=f"上级单位{parent}不存在",
                    field="code",
                )
            try:
                row = await conn.fetchrow(
                    "INSERT INTO units (code, name, parent, level) VALUES ($1, $2, $3, $4)"
                    " RETURNING code, name, parent, level, updated_at",
                    unit.value,
                    name,
                    parent.value if parent else None,
                    unit.level.value,
                )
            except asyncpg.UniqueViolationError:
                raise RuleViolated(
                    "unit_code_unique",
                    f"unit {code} already exists",
                    zh=f"单位代码{code}已存在",
                    field="code",
                ) from None
        assert row is not None  # noqa: S101 — INSERT ... RETURNING returns the row it inserted
        return Unit(*row)

    async def rename(self, code: str, name: str) -> Unit:
        row = await self.pool.fetchrow(
            "UPDATE units SET name = $2, updated_at = now() WHERE code = $1"
            " RETURNING code, name, parent, level, updated_at",
            code,
            _name(name),
        )
        if row is None:
            raise NotFound(f"no unit {code}", zh="单位不存在")
        return Unit(*row)

    async def load(self, tree: Mapping[str, str]) -> int:
        """Insert every unit of `tree` (code → name) not yet present, parents first."""
        records = [
            (code, name, UnitCode(code).parent, UnitCode(code).level.value)
            for code, name in sorted(tree.items(), key=lambda kv: len(kv[0]))
        ]
        status = await self.pool.execute(
            "INSERT INTO units (code, name, parent, level)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
            " ON CONFLICT (code) DO NOTHING",
            [r[0] for r in records],
            [r[1] for r in records],
            [r[2].value if r[2] else None for r in records],
            [r[3] for r in records],
        )
        return int(status.split()[-1])


def _name(name: str) -> str:
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned or len(cleaned) > 100 or "\x00" in cleaned:
        raise InvalidValue(
            "name", "a unit name has 1 to 100 characters", zh="单位名称应为1至100个字符"
        )
    return cleaned
