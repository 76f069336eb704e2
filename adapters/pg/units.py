"""The union tree as stored rows: list a subtree, create and rename units, the registry of stored
levels (`domain.units.Units`) loaded once and kept; and `subtree_sql`, the SQL form of
`domain.units.UnitCode.is_within` that every subtree query uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from adapters.pg.conn import Conn
from domain.errors import InvalidValue, NotFound, RuleViolated
from domain.units import UnitCode, UnitEntry, Units, entry_for
from domain.values import Level, UnitKind


def subtree_sql(column: str, parameter: str) -> str:
    """A SQL condition: `column` holds a unit within the unit code bound to `parameter`.

    A range in code order, `[root, bangfu_subtree_end(root))` (migrations 0014 and 0020: a
    base-level union is only itself, the nation "00" every code, any other unit every code that
    starts with its own): the
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
    kind: str = UnitKind.REGIONAL.value
    approves: bool = False


_COLUMNS = "code, name, parent, level, updated_at, kind, approves"


class PgUnitDirectory:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.known = Units()  # the registry as last loaded (`registry`)

    async def registry(self, *codes: str) -> Units:
        """The stored levels (`domain.units.Units`), loaded once and read again only when one
        of `codes` is a non-geographic union not yet seen (registered since, perhaps by another
        process: a unit's level never changes once stored, so what was loaded stays true)."""
        missing = [c for c in codes if c not in self.known.entries and _stored_only(c)]
        if not self.known.entries or missing:
            async with self.pool.acquire() as conn:
                self.known = await load_registry(conn)
        return self.known

    async def exists(self, code: str) -> bool:
        return bool(await self.pool.fetchval("SELECT 1 FROM units WHERE code = $1", code))

    async def get(self, code: str) -> Unit:
        row = await self.pool.fetchrow(
            f"SELECT {_COLUMNS} FROM units WHERE code = $1",  # noqa: S608 — constants
            code,
        )
        if row is None:
            raise NotFound(f"no unit {code}", zh="单位不存在")
        return Unit(*row)

    async def subtree(self, root: str) -> list[Unit]:
        """The unit `root` and every unit below it, in code order."""
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM units"  # noqa: S608 — constants
            f" WHERE {subtree_sql('code', '$1')} ORDER BY code",
            root,
        )
        return [Unit(*r) for r in rows]

    async def create(
        self, code: str, name: str, *, level: Level | None = None, approves: bool | None = None
    ) -> Unit:
        """Register a unit below its registered parent. A region's and a base-level union's
        level follows from its code; a non-geographic union's is `level` (default district), and
        it approves its subtree's files when `approves` (domain/units.py `entry_for`)."""
        unit = UnitCode(code)
        name = _name(name)
        parent = unit.parent
        async with self.pool.acquire() as conn, conn.transaction():
            parent_level = None
            if parent is not None:
                parent_level = await conn.fetchval(
                    "SELECT level FROM units WHERE code = $1", parent.value
                )
                if parent_level is None:
                    raise RuleViolated(
                        "parent_exists",
                        f"the parent unit {parent} does not exist",
                        zh=f"上级单位{parent}不存在",
                        field="code",
                    )
            entry = entry_for(
                code,
                level=level,
                approves=approves,
                parent=Level(parent_level) if parent_level else None,
            )
            try:
                row = await conn.fetchrow(
                    "INSERT INTO units (code, name, parent, level, kind, approves)"  # noqa: S608
                    f" VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}",
                    unit.value,
                    name,
                    parent.value if parent else None,
                    entry.level.value,
                    entry.kind.value,
                    entry.approves,
                )
            except asyncpg.UniqueViolationError:
                raise RuleViolated(
                    "unit_code_unique",
                    f"unit {code} already exists",
                    zh=f"单位代码{code}已存在",
                    field="code",
                ) from None
        assert row is not None  # noqa: S101 — INSERT ... RETURNING returns the row it inserted
        self.known = self.known.with_entry(entry)
        return Unit(*row)

    async def rename(self, code: str, name: str) -> Unit:
        row = await self.pool.fetchrow(
            f"UPDATE units SET name = $2, updated_at = now() WHERE code = $1 RETURNING {_COLUMNS}",  # noqa: S608 — constants
            code,
            _name(name),
        )
        if row is None:
            raise NotFound(f"no unit {code}", zh="单位不存在")
        return Unit(*row)

    async def load(self, tree: Mapping[str, str]) -> int:
        """Insert every unit of `tree` (code → name) not yet present, parents first: regions and
        base-level unions, whose levels follow from their codes (register a non-geographic
        union with `create`)."""
        entries = [
            (code, name, entry_for(code, parent=None))
            for code, name in sorted(tree.items(), key=lambda kv: len(kv[0]))
        ]
        status = await self.pool.execute(
            "INSERT INTO units (code, name, parent, level, kind, approves)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
            " $6::boolean[]) ON CONFLICT (code) DO NOTHING",
            [code for code, _, _ in entries],
            [name for _, name, _ in entries],
            [_parent(code) for code, _, _ in entries],
            [e.level.value for _, _, e in entries],
            [e.kind.value for _, _, e in entries],
            [e.approves for _, _, e in entries],
        )
        self.known = Units()  # read again on the next `registry`
        return int(status.split()[-1])


async def load_registry(conn: Conn) -> Units:
    """Every stored unit's level, kind and approval (`domain.units.Units`)."""
    rows = await conn.fetch("SELECT code, level, kind, approves FROM units")
    return Units.of(
        UnitEntry(r["code"], Level(r["level"]), UnitKind(r["kind"]), r["approves"]) for r in rows
    )


def _parent(code: str) -> str | None:
    parent = UnitCode(code).parent
    return parent.value if parent else None


def _stored_only(code: str) -> bool:
    """True for a code whose level only the registry knows (a non-geographic union)."""
    try:
        return UnitCode(code).implied_level is None
    except InvalidValue:
        return False


def _name(name: str) -> str:
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned or len(cleaned) > 100 or "\x00" in cleaned:
        raise InvalidValue(
            "name", "a unit name has 1 to 100 characters", zh="单位名称应为1至100个字符"
        )
    return cleaned
