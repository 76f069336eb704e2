"""The union tree: unit codes of four levels, parent and child, "within the subtree of".

A unit code is its path from the province: GB/T 2260 region codes shortened to their meaningful
prefix for the first three levels — province "13" (Hebei), city "1303" (Qinhuangdao), district
"130306" (Funing) — and a base-level union is its district's code followed by 3 to 6 digits
("130306001"). So the level is read off the length, the parent is a prefix, and "within the
subtree of" is a prefix test — which the database can answer from an index as well (the SQL
form of that test is `adapters.pg.units.subtree_sql`: the domain holds no SQL).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidValue
from domain.values import Level

_LEVEL_BY_LENGTH = {2: Level.PROVINCE, 4: Level.CITY, 6: Level.DISTRICT}
BASE_LENGTHS = range(9, 13)


@dataclass(frozen=True, slots=True, order=True)
class UnitCode:
    value: str

    def __post_init__(self) -> None:
        v = self.value
        if not isinstance(v, str) or not v.isascii() or not v.isdigit():
            raise InvalidValue(
                "unit", f"a unit code is digits only: {v!r}", zh="单位代码只能为数字"
            )
        if len(v) not in _LEVEL_BY_LENGTH and len(v) not in BASE_LENGTHS:
            raise InvalidValue(
                "unit",
                f"a unit code has 2, 4, 6 or 9-12 digits: {v!r}",
                zh="单位代码应为2、4、6位（省、市、区县）或9至12位（基层工会）",
            )
        if v[:2] == "00" or (len(v) >= 4 and v[2:4] == "00") or (len(v) >= 6 and v[4:6] == "00"):
            raise InvalidValue(
                "unit",
                f"{v!r} is not a region code below its parent",
                zh="单位代码不是有效的行政区划代码",
            )

    @property
    def level(self) -> Level:
        return _LEVEL_BY_LENGTH.get(len(self.value), Level.BASE)

    @property
    def parent(self) -> UnitCode | None:
        """The unit one level up, or None for a province."""
        cut = {Level.PROVINCE: 0, Level.CITY: 2, Level.DISTRICT: 4, Level.BASE: 6}[self.level]
        return UnitCode(self.value[:cut]) if cut else None

    def ancestors(self) -> tuple[UnitCode, ...]:
        """From the province down to this unit's parent."""
        chain: list[UnitCode] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return tuple(reversed(chain))

    def at(self, level: Level) -> UnitCode | None:
        """This unit's ancestor (or itself) at the given level, if it is at or below it."""
        if level.rank > self.level.rank:
            return None
        return (
            self if level is self.level else next(a for a in self.ancestors() if a.level is level)
        )

    def is_within(self, other: UnitCode) -> bool:
        """True when this unit is `other` or lies below it.

        Province, city and district codes have fixed lengths (2, 4, 6), so below them a prefix
        test is exact; a base-level union has no units below it, and its code may be a prefix of
        a sibling's ("130306001" of "1303060011"), so for it only equality counts.
        """
        if other.level is Level.BASE:
            return self.value == other.value
        return self.value.startswith(other.value)

    @property
    def region(self) -> str:
        """The 6-digit GB/T 2260 code of the district this unit is in (or the padded code)."""
        return self.value[:6].ljust(6, "0")

    def __str__(self) -> str:
        return self.value


def unit(value: str) -> UnitCode:
    return UnitCode(value)
