"""The union tree: unit codes as paths, parent and child, "within the subtree of", and the stored
levels of the registry (`Units`).

A unit code is its path from the province (docs/decisions/0014-a-tree-that-reaches-the-nation.md):

- the regions: GB/T 2260 codes shortened to their meaningful prefix — province "13" (Hebei), city
  "1303" (Qinhuangdao), district "130306" (Funing) — and the nation, "00", above every province;
- a non-geographic union (产业、系统、企业工会) below the nation, a province, city or district, or
  below another non-geographic union: its parent's code, a letter of its kind (C 产业, X 系统,
  Q 企业) and two digits — "13C01" (a provincial industry union), "130306X02", "13C01Q01",
  "00C01" (a national industry union, 全国产业工会);
- a base-level union: its district's or non-geographic union's code followed by 3 to 6 digits
  ("130306001", "13C01001", "00C01001").

So the parent is the code without its last segment and "within the subtree of" is a prefix test
(the nation holds everything; "00C01" holds only the codes that start with it) — which the
database answers from an index as well (the SQL form is
`adapters.pg.units.subtree_sql`: the domain holds no SQL). The code implies the level of a region
and of a base-level union, as it always did; a non-geographic union's level, and whether it
approves its subtree's files, are stored (`Units`, loaded once by the composition root): every
decision that depends on a level asks the registry, not the code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from domain.errors import InvalidValue, NotFound
from domain.values import Level, UnitKind, label

NATION = "00"
_LEVEL_BY_LENGTH = {2: Level.PROVINCE, 4: Level.CITY, 6: Level.DISTRICT}
BASE_LENGTHS = range(9, 13)
KIND_LETTERS = {"C": UnitKind.INDUSTRY, "X": UnitKind.SYSTEM, "Q": UnitKind.ENTERPRISE}
LETTER_OF_KIND = {kind: letter for letter, kind in KIND_LETTERS.items()}
# a region's digits, then non-geographic segments (a kind letter and two digits), then a base
# union's 3 to 6 digits
_SHAPE = re.compile(r"(\d{2}(?:\d{2}){0,2})((?:[CXQ]\d{2})*)(\d{3,6})?")
_SEGMENT = re.compile(r"[CXQ]\d{2}")

_WRONG_SHAPE_ZH = (
    "单位代码应为2、4、6位数字（省、市、区县），其后可接产业（C）、系统（X）、企业（Q）工会代码"
    "（字母加2位数字），基层工会在区县或非地域工会代码后加3至6位数字；全国总工会为00"
)


@dataclass(frozen=True, slots=True)
class _Parsed:
    region: str  # the digits of the region ("13", "1303", "130306"), or "00" for the nation
    segments: tuple[str, ...]  # non-geographic segments, outermost first ("C01", "Q01")
    base: str  # a base-level union's own digits, or ""


@lru_cache(maxsize=65536)
def _parse(v: str) -> _Parsed:
    if v == NATION:
        return _Parsed(NATION, (), "")
    match = _SHAPE.fullmatch(v) if v.isascii() else None
    digits = v.isascii() and v.isdigit()
    if match is None or (digits and len(v) not in _LEVEL_BY_LENGTH and len(v) not in BASE_LENGTHS):
        if digits:
            raise InvalidValue(
                "unit",
                f"a unit code has 2, 4, 6 or 9-12 digits: {v!r}",
                zh="单位代码应为2、4、6位（省、市、区县）或9至12位（基层工会）",
            )
        raise InvalidValue("unit", f"not a unit code: {v!r}", zh=_WRONG_SHAPE_ZH)
    region, tail, base = match.group(1), match.group(2), match.group(3) or ""
    pairs = [region[i : i + 2] for i in range(0, len(region), 2)]
    national = region == NATION and tail != ""  # a national non-geographic union's subtree
    if "00" in pairs and not national:
        raise InvalidValue(
            "unit",
            f"{v!r} is not a region code below its parent",
            zh="单位代码不是有效的行政区划代码",
        )
    segments = tuple(_SEGMENT.findall(tail))
    if any(s[1:] == "00" for s in segments):
        raise InvalidValue(
            "unit",
            f"{v!r}: a non-geographic union is numbered from 01",
            zh="非地域工会编号应从01起",
        )
    if base and not segments and len(region) != 6:
        raise InvalidValue(
            "unit",
            f"{v!r}: a base-level union lies below a district or a non-geographic union",
            zh="基层工会须设在区县或产业、系统、企业工会之下",
        )
    return _Parsed(region, segments, base)


@dataclass(frozen=True, slots=True, order=True)
class UnitCode:
    value: str

    def __post_init__(self) -> None:
        v = self.value
        if not isinstance(v, str) or not v.isascii() or not v.isalnum():
            raise InvalidValue(
                "unit",
                f"a unit code is digits (and a kind letter) only: {v!r}",
                zh="单位代码只能为数字和非地域工会的类别字母",
            )
        _parse(v)

    @property
    def kind(self) -> UnitKind:
        parsed = _parse(self.value)
        if parsed.base:
            return UnitKind.BASE
        if parsed.segments:
            return KIND_LETTERS[parsed.segments[-1][0]]
        return UnitKind.REGIONAL

    @property
    def is_nation(self) -> bool:
        return self.value == NATION

    @property
    def implied_level(self) -> Level | None:
        """The level the code implies: a region's or a base-level union's; None for a
        non-geographic union, whose level is stored (`Units.level`)."""
        parsed = _parse(self.value)
        if parsed.base:
            return Level.BASE
        if parsed.segments:
            return None
        if parsed.region == NATION:
            return Level.NATION
        return _LEVEL_BY_LENGTH[len(parsed.region)]

    @property
    def level(self) -> Level:
        """The level of a region or a base-level union, as the code says; a non-geographic
        union's is stored: refused here (ask `Units.level`)."""
        found = self.implied_level
        if found is None:
            raise InvalidValue(
                "unit",
                f"the level of the non-geographic union {self.value} is stored: ask the registry",
                zh=f"非地域工会{self.value}的层级以单位登记为准",
            )
        return found

    @property
    def parent(self) -> UnitCode | None:
        """The unit one segment up, or None for a province and the nation (the nation holds
        every province without being a prefix of its code)."""
        parsed = _parse(self.value)
        if parsed.base:
            return UnitCode(self.value[: -len(parsed.base)])
        if parsed.segments:
            return UnitCode(self.value[:-3])
        if len(parsed.region) == 2:
            return None
        return UnitCode(self.value[:-2])

    def ancestors(self) -> tuple[UnitCode, ...]:
        """From the province (the nation, for a national non-geographic union's subtree) down
        to this unit's parent."""
        chain: list[UnitCode] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return tuple(reversed(chain))

    def at(self, level: Level) -> UnitCode | None:
        """This unit's ancestor (or itself) at the given level of the regions and base-level
        unions, if it is at or below it (non-geographic unions have no level in the code)."""
        if level is Level.NATION:
            return UnitCode(NATION)
        mine = self.implied_level
        if mine is level:
            return self
        return next((a for a in self.ancestors() if a.implied_level is level), None)

    def is_within(self, other: UnitCode) -> bool:
        """True when this unit is `other` or lies below it.

        Every segment above a base-level union has a fixed length, so below it a prefix test is
        exact; a base-level union has no units below it, and its code may be a prefix of a
        sibling's ("130306001" of "1303060011"), so for it only equality counts. Everything lies
        within the nation.
        """
        if other.value == NATION:
            return True
        if _parse(other.value).base:
            return self.value == other.value
        return self.value.startswith(other.value)

    def regions(self) -> tuple[str, str, str]:
        """The province, city and district this unit lies in (a level it does not lie in — a
        provincial industry union has no city — is the deepest region above it)."""
        region = _parse(self.value).region
        return region[:2], region[:4], region[:6]

    @property
    def region(self) -> str:
        """The 6-digit GB/T 2260 code of the nearest region at or above this unit, padded: the
        region whose parameters a file of this unit is judged by (docs/rules.md, "Regional
        parameters") — "130306" for "130306X01001", "130000" for a provincial industry union
        and its base-level unions ("13C01001"), "000000" (the nation's) for "00C01001"."""
        return _parse(self.value).region.ljust(6, "0")

    def __str__(self) -> str:
        return self.value


def unit(value: str) -> UnitCode:
    return UnitCode(value)


@lru_cache(maxsize=65536)
def regions_of(code: str) -> tuple[str, str, str]:
    """`UnitCode(code).regions()`, remembered: the ledger asks it for every row it writes."""
    return UnitCode(code).regions()


@lru_cache(maxsize=65536)
def path_of(code: str) -> tuple[str, ...]:
    """The codes from the province down to `code` itself: the units whose figures count a file
    of `code` (projections/statistics.py)."""
    node = UnitCode(code)
    return (*(a.value for a in node.ancestors()), node.value)


@dataclass(frozen=True, slots=True)
class UnitEntry:
    """One registered unit: its stored level and kind, and whether it approves its subtree's
    files (a region at district level or above, or a non-geographic union registered so)."""

    code: str
    level: Level
    kind: UnitKind
    approves: bool

    @property
    def acting_level(self) -> Level:
        """The level its people act at: its own if it approves, otherwise a base-level union's
        (a non-geographic union that does not approve works on files but decides none)."""
        return self.level if self.approves else Level.BASE


def entry_for(
    code: str, *, level: Level | None = None, approves: bool | None = None, parent: Level | None
) -> UnitEntry:
    """The entry a new unit is registered with, refused in Chinese where the code, its level and
    its parent's level (None: no parent registered, or a province) disagree.

    A region and a base-level union take the level their code implies (a different one is
    refused) and approve at district level and above; a non-geographic union takes `level`
    (default: district; province below the nation, where it stands beside the provinces), at or
    below its parent's and above a base-level union's, and approves when registered so."""
    unit = UnitCode(code)
    implied = unit.implied_level
    if implied is not None:
        if level is not None and level is not implied:
            raise InvalidValue(
                "level",
                f"{code} is a {implied.value} unit by its code, not {level.value}",
                zh=f"单位{code}按代码为{label(implied)}，不能登记为{label(level)}",
            )
        deciding = implied.is_district_or_above()
        if approves is not None and approves is not deciding:
            raise InvalidValue(
                "approves",
                f"whether {code} approves follows from its level",
                zh="地方总工会和基层工会是否审批由其层级决定",
            )
        return UnitEntry(code, implied, unit.kind, deciding)
    above = unit.parent
    chosen = level or (Level.PROVINCE if above is not None and above.is_nation else Level.DISTRICT)
    if chosen in (Level.NATION, Level.BASE) or (parent is not None and chosen.rank < parent.rank):
        raise InvalidValue(
            "level",
            f"a non-geographic union acts at province, city or district level, not above its"
            f" parent: {chosen.value}",
            zh="产业、系统、企业工会的层级应为省、市或区县级，且不高于上级单位",
        )
    return UnitEntry(code, chosen, unit.kind, bool(approves))


@dataclass(frozen=True, slots=True)
class Units:
    """The registry of units as loaded from storage: code → entry. A code not registered is
    judged by its code alone — a region's or base-level union's level is implied — so a node
    keeps working for units it has not registered; a non-geographic union must be registered."""

    entries: Mapping[str, UnitEntry] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: Iterable[UnitEntry]) -> Units:
        return cls({e.code: e for e in entries})

    def with_entry(self, entry: UnitEntry) -> Units:
        return Units({**self.entries, entry.code: entry})

    def entry(self, code: UnitCode | str) -> UnitEntry:
        text = code.value if isinstance(code, UnitCode) else code
        found = self.entries.get(text)
        if found is not None:
            return found
        parsed = UnitCode(text)
        implied = parsed.implied_level
        if implied is None:
            raise NotFound(
                f"the non-geographic union {text} is not registered",
                zh=f"单位{text}未登记（产业、系统、企业工会须先登记）",
            )
        return UnitEntry(text, implied, parsed.kind, implied.is_district_or_above())

    def level(self, code: UnitCode | str) -> Level:
        return self.entry(code).level

    def acting_level(self, code: UnitCode | str) -> Level:
        return self.entry(code).acting_level

    def approves(self, code: UnitCode | str) -> bool:
        return self.entry(code).approves

    def stored_only(self) -> Units:
        """The entries the codes do not imply (the non-geographic unions'): the same answers
        for every code, in a value small enough to send to another process (the importer's
        workers) — a region's or base-level union's stored entry is the one its code implies."""
        return Units({c: e for c, e in self.entries.items() if UnitCode(c).implied_level is None})


GEOGRAPHIC = Units()  # nothing registered: every level as its code implies it
