"""Queries over the read-model tables, each limited to the subtree of one unit.

The ledger in pages (filters, a whitelisted sort, keyset pagination), the statistics of a unit and
of its children at a level, the approval queue, the due lists and the duplicates. The HTTP API and
the CLI both read through here; neither builds SQL of its own.

Every subtree condition is `adapters.pg.units.subtree_sql`: a base-level union's code may be a
prefix of a sibling's ("130306001" and "1303060011"), so a bare `LIKE code || '%'` would be wrong.
Every value from a client is a bound parameter; column names and orders only ever come from the
fixed tables below.

Behind those conditions, the database itself limits every read here to the same subtree: each
function reads through `scoped`, one read-only transaction as the reader role with `bangfu.scope`
naming the subtree, and row-level security (migration 0009) hides every read-model row outside
it — so a condition forgotten or wrong here still cannot show another union's files.
"""

# ruff: noqa: S608 — the SQL here is built from the fixed fragments of this module only (column
# names, `SORTS`, `subtree_sql`); every value a client sends is a bound parameter.

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

import asyncpg

from adapters.pg.conn import Conn
from adapters.pg.migrations import READER_ROLE, SCOPE
from adapters.pg.readmodels import LEDGER_COLUMNS
from adapters.pg.units import subtree_sql
from domain.errors import InvalidValue
from domain.household import OPEN
from domain.units import NATION, UnitCode
from domain.values import Level, Status, UnitKind

OPEN_STATUSES = sorted(s.value for s in OPEN)  # as the read models store them
# the files that hold their people under 一户一档 (docs/rules.md): the duplicates list's
HOLDING_STATUSES = sorted(s.value for s in OPEN | {Status.RELIEVED})
FOLLOW_UP_STATUSES = (Status.OUT_OF_HARDSHIP, Status.RELIEVED)  # 脱困 and 解困: the 回头看 review

# Every ledger column a reader may see: never the keyed hash of the ID number.
_SHOWN = ", ".join(f"l.{c}" for c in LEDGER_COLUMNS if c != "id_hash")


_UNIT_CODE = re.compile(r"[0-9]{2}[0-9CQX]{0,30}")  # digits and kind letters (domain/units.py)


@asynccontextmanager
async def scoped(
    pool: asyncpg.Pool,
    root: str,
    *,
    in_index_order: bool = False,
    custom_plans: bool = False,
    generic_plans: bool = False,
) -> AsyncIterator[Conn]:
    """A connection in a read-only transaction that sees, of the read models, only the subtree of
    `root` — whatever its queries' own conditions say (row-level security, migration 0009): it
    acts as the reader role, which the policies bind (the service's own role owns the tables and
    is not bound), with the scope set to `root`.

    One round trip opens it: BEGIN and both `SET LOCAL`s go in one simple-protocol message, the
    unit code written into it as a literal (checked first to be digits and kind letters only).
    Role and scope end with the transaction, so the connection goes back to the pool as it came.
    All the queries of one read see one snapshot (repeatable read): a queue's page and its total
    agree.

    `in_index_order`: the planner may not sort (`enable_sort` off for the transaction), so a
    page is read off an index that gives its order — see `LedgerFilter.in_index_order`.

    `custom_plans`: every execution is planned for its own values (`plan_cache_mode`), never by
    the prepared statement's generic plan. asyncpg prepares each statement once per connection,
    and from the sixth execution PostgreSQL may keep a generic plan that cannot see the subtree
    or the days bound: at 200,000 files the province's follow-up page went from 3 ms to 131 ms
    (and the approvals queue from 3 to 16 ms) at the sixth request (bench/growth.py,
    docs/benchmarks.md "Growth"). Planning these small statements costs well under a
    millisecond.

    `generic_plans`: every execution takes the prepared statement's generic plan, planned once
    a connection — for a statement whose plan the other settings already fix (a page in its
    index's order). Left to PostgreSQL (`auto`), a district's unfiltered ledger page was
    planned again at every request (its generic plan's estimate dearer than the custom
    plans'), 0.6–0.9 ms of a 1.3 ms read, and its filtered pages took the generic plan at 1
    million events but not at 10 million: the same walk, ≈ 0.5 ms dearer (docs/benchmarks.md
    "Growth")."""
    if not _UNIT_CODE.fullmatch(root):
        raise ValueError(f"not a unit code: {root!r}")
    async with pool.acquire() as conn:
        try:
            await conn.execute(
                f"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;"
                f" SET LOCAL ROLE {READER_ROLE}; SET LOCAL {SCOPE} = '{root}'"
                + ("; SET LOCAL enable_sort = off" if in_index_order else "")
                + ("; SET LOCAL plan_cache_mode = force_custom_plan" if custom_plans else "")
                + ("; SET LOCAL plan_cache_mode = force_generic_plan" if generic_plans else "")
            )
            yield conn
        except BaseException:
            with contextlib.suppress(Exception):  # a lost connection: the pool discards it
                await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")


def _select(*extra: str) -> str:
    columns = ", ".join((_SHOWN, "u.name AS unit_name", *extra))
    return f"SELECT {columns} FROM ledger l LEFT JOIN units u ON u.code = l.unit"


_SELECT = _select()


@dataclass(frozen=True)
class SortKey:
    """A sort the ledger offers: the SQL expression, and how to read its value from a cursor."""

    expression: str
    parse: Callable[[str], Any]
    sql_type: str


def _no_nulls(column: str, sentinel: str) -> str:
    # A keyset over a nullable column needs a total order: files never approved sort after every
    # approved one (before them when descending), through a sentinel beyond any real date.
    return f"COALESCE(l.{column}, {sentinel})"


SORTS: dict[str, SortKey] = {
    "applied_on": SortKey("l.applied_on", date.fromisoformat, "date"),
    "approved_on": SortKey(
        _no_nulls("approved_on", "DATE '9999-12-31'"), date.fromisoformat, "date"
    ),
    "head_name": SortKey("l.head_name", str, "text"),
    "assistance_total": SortKey("l.assistance_total", Decimal, "numeric"),
    "updated_at": SortKey("l.updated_at", datetime.fromisoformat, "timestamptz"),
}


@dataclass(frozen=True)
class LedgerFilter:
    """Which ledger rows: a subtree, and any of the values given for each other field."""

    root: str
    statuses: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    file_levels: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    worker_kinds: tuple[str, ...] = ()
    name: str | None = None  # a substring of the head's name
    civil_affairs: tuple[str, ...] = ()  # any of these kinds matched by civil affairs
    civil_affairs_to_act: bool | None = None  # with (True) or without (False) findings to act on
    open_only: bool = False  # only files still open (OPEN_STATUSES)
    updated_before: datetime | None = None  # unchanged since (the console's 一年未更新)
    never_assisted: bool = False  # no assistance recorded yet (the console's 未帮扶过)
    # the head's profile (issue 14)
    political_statuses: tuple[str, ...] = ()
    model_workers: tuple[str, ...] = ()
    disabilities: tuple[str, ...] = ()
    dilapidated: bool | None = None  # lives in a 危房 (True) or not (False)

    @property
    def leading(self) -> str | None:
        """The column a page's index leads with (migration 0023): a base union's own code, a
        district's stored district; None for any other unit (the province-wide sort indexes
        of migration 0014)."""
        code = UnitCode(self.root)
        if code.kind is UnitKind.BASE:
            return "l.unit"
        return "l.district" if code.implied_level is Level.DISTRICT else None

    @property
    def in_index_order(self) -> bool:
        """Whether a page is read off its district's or base union's index of the sort
        (`leading`, migration 0023), the planner forbidden to sort. It would sort: the policy's
        range on the unit, whose ends it cannot know when it plans, makes it guess a district
        holds a few hundred files, so it read every file of the district (or the union) and
        sorted them — 5,648 rows for a district's `q=王` page at 60,000 files, growing with
        the district (docs/benchmarks.md, "Growth"). The index's walk reads 51 rows, or 51 /
        the filters' share of the district, whatever its number of files. Not with a
        civil-affairs filter: its partial index holds only the files it may match (migration
        0021), and those are few."""
        return (
            self.leading is not None
            and not self.civil_affairs
            and self.civil_affairs_to_act is None
        )

    def where(self, params: list[Any]) -> str:
        """The SQL condition, appending its values to `params`."""

        def bind(value: Any) -> str:
            params.append(value)
            return f"${len(params)}"

        # A base-level union's subtree is itself (`bangfu_subtree_end`, migration 0020): said
        # as an equality, the planner takes its files first (the unit's index) whatever the
        # filter, and the statement is not the one a province's page runs, so the two never share
        # a cached plan — a base union's `q=王` page had walked the province's sort index, 200,000
        # rows for 45 (docs/benchmarks.md "Growth", docs/explain/).
        #
        # A district (a region of six digits) likewise by its stored district (projections/
        # ledger.py `units`: every file under the district and no other): equalities of a
        # column, leakproof, which the planner may take as index conditions under row-level
        # security, so the pages read the district's own files in the sort's order
        # (`ledger_district_by_…`, and a base union `ledger_unit_by_…`, migration 0023)
        # instead of walking the province's sort index for the district's share of it.
        #
        # `= ANY` of one code, not `=`: an equality with a value makes the planner drop the
        # column from the order wanted (it is constant), and the province's sort index then
        # gives that order as well — it took `ledger_by_updated_at` for a district, 27,410 rows
        # for 51. Ordered by (column, sort, file id), only the district's or union's index does.
        leading = self.leading
        conditions = [
            f"{leading} = ANY({bind([self.root])}::text[])"
            if leading
            else subtree_sql("l.unit", bind(self.root))
        ]
        for column, values in (
            ("status", self.statuses),
            ("category", self.categories),
            ("file_level", self.file_levels),
            ("worker_kind", self.worker_kinds),
            ("political_status", self.political_statuses),
            ("model_worker", self.model_workers),
            ("disability", self.disabilities),
        ):
            if values:
                conditions.append(f"l.{column} = ANY({bind(list(values))}::text[])")
        if self.causes:
            causes = bind(list(self.causes))
            conditions.append(
                f"(l.primary_cause = ANY({causes}::text[])"
                f" OR l.secondary_causes && {causes}::text[])"
            )
        if self.name:
            conditions.append(f"strpos(l.head_name, {bind(self.name)}) > 0")
        if self.civil_affairs:
            # the first term is the predicate of the partial index ledger_civil_affairs
            # (migration 0021), which `&&` alone cannot use under row-level security
            conditions.append(
                "cardinality(l.civil_affairs) > 0"
                f" AND l.civil_affairs && {bind(list(self.civil_affairs))}::text[]"
            )
        if self.civil_affairs_to_act is not None:
            # word for word the predicate of the partial index ledger_civil_affairs_to_act
            flagged = "cardinality(l.civil_affairs_to_act) > 0"
            conditions.append(flagged if self.civil_affairs_to_act else f"NOT {flagged}")
        if self.open_only:
            conditions.append(f"l.status = ANY({bind(OPEN_STATUSES)}::text[])")
        if self.updated_before is not None:
            conditions.append(f"l.updated_at < {bind(self.updated_before)}::timestamptz")
        if self.never_assisted:
            conditions.append("l.assistance_count = 0")
        if self.dilapidated is not None:
            conditions.append("l.dilapidated" if self.dilapidated else "l.dilapidated IS FALSE")
        return " AND ".join(conditions)


# How a cursor's value reads back, by the listing it belongs to: the ledger's sorts, the
# approval queue and the due lists (each pages by its own key and the file id).
KEYS: dict[str, Callable[[str], Any]] = {
    **{name: key.parse for name, key in SORTS.items()},
    "approvals": datetime.fromisoformat,
    "visits": date.fromisoformat,
    "rechecks": date.fromisoformat,
    "follow_up": date.fromisoformat,
    "exit": date.fromisoformat,
}

# ------------------------------------------------------------------------------ the ledger


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the sort it belongs to, the last row's sort value and file id."""

    sort: str
    value: Any
    file_id: UUID

    def encode(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, date) else str(self.value)
        raw = json.dumps([self.sort, value, str(self.file_id)], ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, sort: str) -> Cursor:
        """The cursor a previous page returned; refused when forged or from another sort."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            name, value, file_id = json.loads(raw)
            cursor = cls(name, KEYS[name](value), UUID(file_id))
        except (ValueError, TypeError, KeyError, InvalidOperation, binascii.Error):
            cursor = None
        if cursor is None or cursor.sort != sort:
            raise InvalidValue(
                "cursor",
                "not a cursor this listing returned (with the same sort)",
                zh="分页游标无效（须使用同一排序下返回的游标）",
            )
        return cursor


def _sort_value(record: asyncpg.Record, sort: str) -> Any:
    if sort == "approved_on":
        return record["approved_on"] or date(9999, 12, 31)
    return record[sort]


def _order(sort: str, descending: bool, leading: str | None = None) -> str:
    direction = "DESC" if descending else "ASC"
    first = f"{leading} {direction}, " if leading else ""
    return f"{first}{SORTS[sort].expression} {direction}, l.file_id {direction}"


# A name search's candidates (migration 0025, docs/decisions/0021): a page reads the files whose
# name holds the rarest character of `q` in the subtree when there are at most this many, and
# walks its sort's index otherwise — a character that common finds a page's matches within
# 51 × subtree / NAME_CANDIDATES rows of the walk.
NAME_CANDIDATES = 2000
_NAME_PROBES = 8  # characters of `q` counted, at most (any one's files hold every match)
# What a candidate costs in rows of the walk: a lookup by the primary key and a share of the
# sort, 7–14 µs, against 1.5–2 µs a row of an index's walk (bench/ledger_growth.py, 60,000
# files, a noisy machine: on the side of the walk)
CANDIDATE_PRICE = 7


async def rarest_characters(conn: Conn, where: LedgerFilter) -> tuple[str, ...]:
    """The candidates' characters `_choose` gives (() for a walk)."""
    return (await _choose(conn, where))[0]


async def _choose(conn: Conn, where: LedgerFilter) -> tuple[tuple[str, ...], str]:
    """The character of `where.name` the fewest files of the subtree have in their head's
    name — and the next rarest, when it too is held by at most `NAME_CANDIDATES` — if reading
    the files that hold them is the cheaper page; () when the walk of the sort's index is. Each
    character's files are counted only up to `NAME_CANDIDATES + 1` index entries of
    `ledger_name_chars`, whatever the subtree.

    A `q` of one character matches exactly the files that hold it, c of the subtree's S: the
    walk reads ≈ 51 × S / c rows for its page, the candidates c — read them when
    c × CANDIDATE_PRICE ≤ 51 × S / c (S from the statistics' stock by status: a few rows).
    A `q` of several characters matches at most the files holding its two rarest, often far
    fewer (a full name): the walk reads 51 × S / matches, unknown and up to the whole subtree,
    so the candidates are read whenever c ≤ NAME_CANDIDATES — those holding both, so that only
    they are looked up in the ledger.

    With them, the rarest character whatever its count: a page in the default order reads its
    holders in that order instead of the walk (`ledger_page`)."""
    characters = list(dict.fromkeys(where.name or ""))[:_NAME_PROBES]
    if not characters:
        return (), ""
    one = len(where.name or "") == 1
    # One character is counted only up to the first c past the walk's price (c × c × PRICE >
    # 51 × S), so that the probe of a common one reads about √(51 × S / PRICE) index entries
    # rather than NAME_CANDIDATES (a district's 王: 2,001 → 616 at 52,000 files), and
    # several are counted up to NAME_CANDIDATES + 1: in both, a count at its limit is a walk.
    rows = await conn.fetch(
        "WITH s AS (SELECT coalesce(sum(t.count), 0) AS files FROM stats_stock t"
        "  WHERE t.unit = ANY($4::text[]) AND t.dimension = 'status'),"
        " cap AS (SELECT CASE WHEN $5::bool"
        "  THEN least($3::bigint, floor(sqrt(51.0 * s.files / $6::int))::bigint) + 1"
        "  ELSE $3::bigint + 1 END AS n FROM s)"
        " SELECT x.ch, (SELECT count(*) FROM (SELECT FROM ledger_name_chars c"
        f" WHERE c.ch = x.ch AND {subtree_sql('c.unit', '$2')}"
        "  LIMIT (SELECT cap.n FROM cap)) s) AS n,"
        " (SELECT s.files FROM s) AS files"
        " FROM unnest($1::text[]) AS x (ch)",
        characters,
        where.root,
        NAME_CANDIDATES,
        _NATIONS_ROWS if where.root == NATION else [where.root],
        one,
        CANDIDATE_PRICE,
    )
    counted = {r["ch"]: r["n"] for r in rows}
    rarest = sorted(characters, key=lambda ch: counted[ch])
    found = counted[rarest[0]]
    if found > NAME_CANDIDATES:
        return (), rarest[0]
    if one and found * found * CANDIDATE_PRICE > 51 * rows[0]["files"]:
        return (), rarest[0]
    return tuple(ch for ch in rarest[:2] if counted[ch] <= NAME_CANDIDATES), rarest[0]


async def ledger_page(
    pool: asyncpg.Pool,
    where: LedgerFilter,
    *,
    sort: str = "applied_on",
    descending: bool = False,
    after: Cursor | None = None,
    limit: int = 50,
    by_characters: bool = True,
) -> tuple[list[asyncpg.Record], Cursor | None]:
    """One page of ledger rows and the cursor of the next page (None on the last).
    `by_characters=False`: a name search walks the sort's index whatever its characters (the
    old path, which tests and bench/ledger_growth.py compare with)."""
    key = SORTS[sort]
    params: list[Any] = []
    condition = where.where(params)
    # a district's or base union's page: its index's order, the cursor's row from its first
    # column, so that the cursor is where the walk starts (one code: the rows' order is the
    # same as without it)
    leading = where.leading if where.in_index_order else None
    cursor_at = 0
    if after is not None:
        # a date goes as text: asyncpg sends `date.max` (the never-approved rows' sentinel,
        # 9999-12-31) as 'infinity', which sorts after the sentinel and would end the walk
        value = after.value.isoformat() if isinstance(after.value, date) else after.value
        cast = f"::text::{key.sql_type}" if isinstance(after.value, date) else f"::{key.sql_type}"
        params += [value, after.file_id]
        cursor_at = len(params) - 1  # its value's parameter, the file id's the next
        compare = "<" if descending else ">"
        if leading:
            params.append(where.root)
            condition += (
                f" AND ({leading}, {key.expression}, l.file_id) {compare}"
                f" (${len(params)}::text, ${len(params) - 2}{cast}, ${len(params) - 1}::uuid)"
            )
        else:
            condition += (
                f" AND ({key.expression}, l.file_id) {compare}"
                f" (${len(params) - 1}{cast}, ${len(params)}::uuid)"
            )
    params.append(limit + 1)
    limit_at = len(params)
    order = _order(sort, descending, leading)
    # a district's or base union's name search in the default order may read the holders of one
    # of its characters in that order (migration 0027), if its page is read in its index's order
    # (not with a civil-affairs filter: `LedgerFilter.in_index_order`)
    in_order = sort == "applied_on" and leading is not None
    # a district's or base union's page in its index's order has one plan, the walk (or, for a
    # name, the holders' index, `in_order`): planned once a connection (`scoped`); a name read
    # otherwise — candidates, or their probe first — is planned as PostgreSQL sees fit
    fixed = leading is not None and (not where.name or (in_order and len(where.name) == 1))
    async with scoped(
        pool, where.root, in_index_order=leading is not None, generic_plans=fixed
    ) as conn:
        rare: tuple[str, ...] = ()
        holder = ""
        if where.name and by_characters:
            if in_order and len(where.name) == 1:
                holder = where.name  # every holder of the one character is a match: no probe
            else:
                rare, rarest = await _choose(conn, where)
                holder = "" if rare or not in_order else rarest
        if holder and leading:
            select, order = _holders(holder, where.root, leading, descending, cursor_at, params)
        elif rare:
            if leading is not None:
                await conn.execute("SET LOCAL enable_sort = on")
            select = _candidates(rare, where.root, params)
        else:
            select = _SELECT
        statement = f"{select} WHERE {condition} ORDER BY {order} LIMIT ${limit_at}"
        if holder or rare:
            statement = _named(statement, sort, descending)
        rows = await conn.fetch(statement, *params)
    if len(rows) <= limit:
        return list(rows), None
    last = rows[limit - 1]
    return list(rows[:limit]), Cursor(sort, _sort_value(last, sort), last["file_id"])


def _holders(
    holder: str,
    root: str,
    leading: str,
    descending: bool,
    cursor_at: int,
    params: list[Any],
) -> tuple[str, str]:
    """The select and order of a page in the default order that reads the holders of the
    character `holder` in the subtree in that order, off their own index (a district's or a base
    union's: migration 0027), each looked up by its key; `ledger_page`'s
    condition, unchanged, follows — the walk's rows in its order, reading ≈ 51 × holders ÷
    matches rows (docs/decisions/0021); a cursor's day is `$cursor_at` and its file id the
    next (0: no cursor).

    A district or base union is an equality of the index's second column (`c.district = $n`),
    not the condition's `= ANY`: an array on a column after the first keeps a btree scan from
    giving its order (PostgreSQL 16), and the scan read every holder of the province from the
    first district on — 1,143 rows for a district's 51 `王` at 57,000 files."""
    params += [holder, root]
    held = f"c.ch = ${len(params) - 1}::text"
    column = {"l.district": "district", "l.unit": "unit"}[leading]
    held += f" AND c.{column} = ${len(params)}::text"
    if cursor_at:
        held += (
            f" AND (c.applied_on, c.file_id) {'<' if descending else '>'}"
            f" (${cursor_at}::text::date, ${cursor_at + 1}::uuid)"
        )
    direction = "DESC" if descending else "ASC"
    return (
        f"SELECT {_SHOWN} FROM (SELECT c.file_id, c.applied_on"
        f" FROM ledger_name_chars c WHERE {held}) k CROSS JOIN LATERAL"
        " (SELECT * FROM ledger l WHERE l.file_id = k.file_id OFFSET 0) l",
        f"k.applied_on {direction}, k.file_id {direction}",
    )


def _named(page: str, sort: str, descending: bool) -> str:
    """A page read by its name's characters (`_holders`, `_candidates`) with its units' names,
    joined to the page's rows once they are found: beside each lookup the planner scanned the
    units table once a row (126 units, ≈ 9 µs a row: ≈ 0.5 ms of a district's 1 ms `王`
    page at 57,000 files), and a scalar subquery did the same for every match before the sort.
    The page's order again, over its few rows."""
    order = _order(sort, descending).replace("l.", "p.")
    return (
        f"SELECT p.*, u.name AS unit_name FROM ({page}) p LEFT JOIN units u ON u.code = p.unit"
        f" ORDER BY {order}"
    )


def _candidates(rare: tuple[str, ...], root: str, params: list[Any]) -> str:
    """The select of a page that reads the files whose name holds the rarest characters of `q`
    in the subtree — at most NAME_CANDIDATES — each by its primary key (a lateral subquery the
    planner may not flatten: it took the policy's range on the unit for a few rows and read a
    base union whole); `ledger_page`'s condition, unchanged, and the sort follow: the same rows
    in the same order (migration 0025, docs/decisions/0021); the units' names are joined to the
    page once found (`_named`)."""
    params.append(root)
    scope = subtree_sql("c.unit", f"${len(params)}")
    holding = []
    for ch in rare:
        params.append(ch)
        holding.append(
            "SELECT c.file_id FROM ledger_name_chars c"
            f" WHERE c.ch = ${len(params)}::text AND {scope}"
        )
    return (
        f"SELECT {_SHOWN} FROM ({' INTERSECT '.join(holding)}) k CROSS JOIN LATERAL"
        " (SELECT * FROM ledger l WHERE l.file_id = k.file_id OFFSET 0) l"
    )


async def ledger_rows(
    pool: asyncpg.Pool,
    where: LedgerFilter,
    *,
    sort: str = "applied_on",
    descending: bool = False,
    batch: int = 2000,
) -> AsyncIterator[list[asyncpg.Record]]:
    """Every matching row in batches, read through a server-side cursor (for exports)."""
    params: list[Any] = []
    sql = f"{_SELECT} WHERE {where.where(params)} ORDER BY {_order(sort, descending)}"
    async with scoped(pool, where.root) as conn:
        cursor = await conn.cursor(sql, *params)
        while rows := await cursor.fetch(batch):
            yield list(rows)


# ------------------------------------------------------------------------------ queues, due lists


def _in_order(
    root: str,
    leading: str | None,
    key: str,
    key_type: str,
    condition: str,
    bounds: Sequence[Any],
    after: Cursor | None,
) -> tuple[str, str, list[Any]]:
    """The condition, order and parameters of a list's page in `key` order, then file id, in the
    subtree of `root`: with `leading` (a base union's code, a district's stored district) read off
    an index led by that column, the root bound as `$1` — an array, `= ANY`, leakproof under
    row-level security — else by the code range; the list's `bounds` from `$2`. The cursor's row
    comparison (the leading column is the root on every row) starts the index's walk at it."""
    scope = f"{leading} = ANY($1::text[])" if leading else subtree_sql("l.unit", "$1")
    params: list[Any] = [[root] if leading else root, *bounds]
    where = f"{scope} AND {condition}"
    order = f"{leading}, {key}, l.file_id" if leading else f"{key}, l.file_id"
    if after is not None:
        params += [after.value, after.file_id]
        values = f"${len(params) - 1}::{key_type}, ${len(params)}::uuid"
        where += f" AND ({order}) > ({'$1[1], ' if leading else ''}{values})"
    return where, order, params


async def approval_queue(
    pool: asyncpg.Pool, root: str, *, limit: int, after: Cursor | None = None
) -> tuple[list[asyncpg.Record], int, Cursor | None]:
    """Files awaiting an approver in the subtree, longest waiting first: appraised files, and
    files whose re-check found another category (`category_pending`) to confirm. One page, how
    many there are in all, and the cursor of the next page (None on the last).

    The page is read in order off a partial index holding the queue alone (migration 0026): a
    district's or a base union's own entries (`LedgerFilter.leading`, as the ledger's pages,
    decision 0020), the whole queue's above them. Before, the page took both lists' files of the
    province (`ledger_awaiting_approval`, 0014, and `ledger_category_pending`, 0015) and sorted
    them, so a district's page grew with the province: 1.9 ms at 57,000 files, 8.6 ms at
    570,000 (docs/benchmarks.md, "Growth")."""
    leading = LedgerFilter(root).leading
    page, order, params = _in_order(
        root,
        leading,
        "l.updated_at",
        "timestamptz",
        "(l.status = 'appraised' OR l.category_pending IS NOT NULL)",
        (),
        after,
    )
    async with scoped(pool, root, in_index_order=leading is not None, custom_plans=True) as conn:
        rows = await conn.fetch(
            f"{_SELECT} WHERE {page} ORDER BY {order} LIMIT ${len(params) + 1}",
            *params,
            limit + 1,
        )
        total = await counted(conn, root, "approvals")
    following = None
    if len(rows) > limit:
        last = rows[limit - 1]
        following = Cursor("approvals", last["updated_at"], last["file_id"])
    return list(rows[:limit]), int(total), following


def months_before(day: date, months: int) -> date:
    """The same day of the month `months` earlier (the month's last day where it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    first_of_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return date(year, month + 1, min(day.day, (first_of_next - timedelta(days=1)).day))


@dataclass(frozen=True)
class Due:
    """One due list: its condition over the ledger (binding `bounds` from `$2` on), its order,
    and the SQL expression of the day each file fell (or falls) due."""

    condition: str
    bounds: tuple[date, ...]
    key: str  # the list's order: this, then the file id (a partial index of migration 0014)
    due_on: str
    # the key's days in the list, the range `counted` sums: from (None: ever), until (excluded)
    days: tuple[date | None, date]


def due_list(kind: str, *, as_of: date, visit_days: int, follow_up_months: int) -> Due:
    """The due list `kind` as of a day."""
    if kind == "visits":
        # approved files whose last visit (or, never visited, the approval) is older than the
        # period: visited on day D, the next visit is due on D + period
        last = "COALESCE(l.last_visited_on, l.approved_on)"
        return Due(
            f"l.status = 'approved' AND {last} < $2::date",
            (as_of - timedelta(days=visit_days),),
            last,
            f"{last} + {int(visit_days)}",
            (None, as_of - timedelta(days=visit_days)),
        )
    if kind == "rechecks":
        return Due(
            "l.status = 'approved' AND l.next_recheck_due <= $2::date",
            (as_of,),
            "l.next_recheck_due",
            "l.next_recheck_due",
            (None, _through(as_of)),
        )
    if kind == "follow_up":
        # out of hardship or relieved within the last months (both ends included): each is due
        # for the 回头看 review until the months have passed since its exit
        statuses = ", ".join(f"'{s.value}'" for s in FOLLOW_UP_STATUSES)
        return Due(
            f"l.status IN ({statuses}) AND l.exited_on BETWEEN $2::date AND $3::date",
            (months_before(as_of, follow_up_months), as_of),
            "l.exited_on",
            f"(l.exited_on + {int(follow_up_months)} * interval '1 month')::date",
            (months_before(as_of, follow_up_months), _through(as_of)),
        )
    if kind == "exit":
        # approved or relieved files due to exit (a newly found exclusion, a re-check above the
        # standard), until they exit or an approver keeps them
        return Due(
            "l.status IN ('approved', 'relieved') AND l.exit_due IS NOT NULL"
            " AND l.exit_due_on <= $2::date",
            (as_of,),
            "l.exit_due_on",  # (the partial index `ledger_exit_due` of migration 0015)
            "l.exit_due_on",
            (None, _through(as_of)),
        )
    raise InvalidValue("kind", f"no due list {kind!r}", zh="到期清单类别无效")


async def due(
    pool: asyncpg.Pool,
    root: str,
    kind: str,
    *,
    as_of: date,
    visit_days: int = 90,
    follow_up_months: int = 12,
    limit: int = 500,
    after: Cursor | None = None,
) -> tuple[list[asyncpg.Record], int, Cursor | None]:
    """One page of a due list in the subtree (each file with `due_on`), how many there are in
    all, and the cursor of the next page (None on the last).

    A base union's page is read in order off its own entries of the list (`l.unit = ANY($1)`,
    leakproof, and a partial index of each list led by the unit, migration 0026), as its ledger
    pages are (decision 0020): off the province's index of the list, filtered by the union, its
    follow-up page had grown 3.5 → 18.5 ms from 57,000 to 570,000 files (docs/benchmarks.md,
    "Growth"). A district's and any larger unit's page walks the list's own index (migration
    0014), where the subtree's share of the list is large enough to stay flat."""
    spec = due_list(kind, as_of=as_of, visit_days=visit_days, follow_up_months=follow_up_months)
    own = LedgerFilter(root).leading == "l.unit"  # a base union
    page, order, params = _in_order(
        root, "l.unit" if own else None, spec.key, "date", spec.condition, spec.bounds, after
    )
    async with scoped(pool, root, in_index_order=own, custom_plans=True) as conn:
        rows = await conn.fetch(
            f"{_select(f'{spec.due_on} AS due_on', f'{spec.key} AS due_key')} WHERE {page}"
            f" ORDER BY {order} LIMIT ${len(params) + 1}",
            *params,
            limit + 1,
        )
        total = await counted(conn, root, kind, spec.days)
    following = None
    if len(rows) > limit:
        last = rows[limit - 1]
        following = Cursor(kind, last["due_key"], last["file_id"])
    return list(rows[:limit]), int(total), following


def _through(day: date) -> date:
    """The day after `day`: the end, not included, of a range up to `day` included."""
    return day + timedelta(days=1) if day < date.max else date.max  # (sent as infinity)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def first_of_next_month(day: date) -> date:
    if (day.year, day.month) == (date.max.year, date.max.month):
        return date.max  # (sent as infinity)
    return first_of_month(day.replace(day=28) + timedelta(days=4))


EVER = date.min  # (asyncpg sends it as -infinity: before every day)


def counted_ranges(days: tuple[date | None, date]) -> tuple[tuple[date, date], ...]:
    """The days `[since, until)` of a list as the counts of migration 0028 read them: the day
    rows before the first whole month, the month rows of the whole months (by their first day),
    and the day rows after the last — each `[from, until)`, an empty one where there is none."""
    since, until = days
    months_until = first_of_month(until)
    if since is None:
        return ((EVER, EVER), (EVER, months_until), (months_until, until))
    months_from = since if since.day == 1 else first_of_next_month(since)
    if months_from > months_until:  # within one month: its days
        return ((since, until), (since, since), (until, until))
    return ((since, months_from), (months_from, months_until), (months_until, until))


def counted_sql(kind: str, days: tuple[date | None, date] | None) -> tuple[str, list[Any]]:
    """The statement of `counted` and its parameters from `$2` on (`$1` is the root)."""
    if days is None:  # the queue's kinds: a fixed day
        return (
            "SELECT coalesce(sum(c.n), 0) FROM ledger_counts c WHERE c.scope = $1 AND c.kind = $2",
            [kind],
        )
    # three index ranges of the counts' primary key (scope, kind, day), one scan each
    parts = " UNION ALL ".join(
        f"SELECT c.n FROM ledger_counts c WHERE c.scope = $1 AND c.kind = ${k}"
        f" AND c.day >= ${k + 1}::date AND c.day < ${k + 2}::date"
        for k in (2, 5, 8)
    )
    (head, head_until), (months, months_until), (tail, until) = counted_ranges(days)
    params: list[Any] = [kind, head, head_until, f"{kind}/month", months, months_until]
    return f"SELECT coalesce(sum(t.n), 0) FROM ({parts}) AS t", [*params, kind, tail, until]


async def counted(
    conn: Conn, root: str, kind: str, days: tuple[date | None, date] | None = None
) -> int:
    """How many files of the subtree of `root` are in the list `kind` (with `days`, the range of
    the list's key: from, None for ever, until, not included): a sum of the maintained counts of
    migrations 0022 and 0028 — at most 31 + 31 day rows and a row per month, however many files
    the subtree holds and however many days hold them — where a `count(*)` read every entry of
    the list. Exact: kept in the transaction of every ledger write."""
    sql, params = counted_sql(kind, days)
    return int(await conn.fetchval(sql, root, *params))


# ------------------------------------------------------------------------------ the work list


@dataclass(frozen=True)
class WorkCounts:
    """How many files wait in each of the console's work lists, and the oldest approval's day."""

    counts: dict[str, int]
    oldest_waiting: datetime | None
    category_changes: int = 0  # of the approvals waiting, re-check category changes to confirm


def work_filters(root: str, kind: str, *, now: datetime) -> LedgerFilter | None:
    """The ledger filter of a work list that is a plain ledger condition (None for the queue and
    the due lists, which have their own order and day)."""
    if kind == "civil_affairs":
        return LedgerFilter(root=root, civil_affairs_to_act=True)
    if kind == "unchanged":
        return LedgerFilter(root=root, open_only=True, updated_before=now - timedelta(days=365))
    if kind == "never_assisted":
        return LedgerFilter(root=root, statuses=(Status.APPROVED.value,), never_assisted=True)
    return None


DUE_KINDS = ("visits", "rechecks", "follow_up", "exit")
LEDGER_KINDS = ("civil_affairs", "unchanged", "never_assisted")


async def work_counts(
    pool: asyncpg.Pool,
    root: str,
    *,
    now: datetime,
    as_of: date,
    visit_days: int = 90,
    follow_up_months: int = 12,
) -> WorkCounts:
    """The size of every work list of the subtree, read in one snapshot."""
    counts: dict[str, int] = {}
    async with scoped(pool, root) as conn:
        # the approval queue's files (`approval_queue`): appraised ones and re-check category
        # changes to confirm; the oldest is the first of the queue's page (its index's order)
        counts["approvals"] = await counted(conn, root, "approvals")
        changes = await counted(conn, root, "category_changes")
        oldest: datetime | None = await conn.fetchval(
            f"SELECT l.updated_at FROM ledger l WHERE {subtree_sql('l.unit', '$1')}"
            " AND (l.status = 'appraised' OR l.category_pending IS NOT NULL)"
            " ORDER BY l.updated_at, l.file_id LIMIT 1",
            root,
        )
        for kind in DUE_KINDS:
            spec = due_list(
                kind, as_of=as_of, visit_days=visit_days, follow_up_months=follow_up_months
            )
            counts[kind] = await counted(conn, root, kind, spec.days)
        for kind in LEDGER_KINDS:
            where = work_filters(root, kind, now=now)
            if where is None:
                raise ValueError(f"not a ledger work list: {kind}")
            params: list[Any] = []
            condition = where.where(params)
            counts[kind] = int(
                await conn.fetchval(f"SELECT count(*) FROM ledger l WHERE {condition}", *params)
            )
    return WorkCounts(counts, oldest, changes)


# ------------------------------------------------------------------------------ duplicates


@dataclass
class Duplicate:
    """One person in several open or relieved files: the files the caller may see, and how many
    others."""

    id_masked: str | None
    files: list[asyncpg.Record] = field(default_factory=list)
    others: int = 0


@dataclass(frozen=True)
class PersonKey:
    """Where a person stands in the duplicates list, after the file of its cursor: the first
    file the reader sees of it gives the order (its application day and id); `rank` tells apart
    the people whose first file is the same one (heads and members of one household), in an
    order the reader never sees (the keyed hash's)."""

    applied_on: date
    rank: int

    def __str__(self) -> str:
        return f"{self.applied_on.isoformat()}#{self.rank}"

    @classmethod
    def parse(cls, text: str) -> PersonKey:
        day, rank = text.split("#")
        if not rank.isdigit() or not 0 < int(rank) < 2**31:  # a forged one: not for the database
            raise ValueError(f"not a rank: {rank!r}")
        return cls(date.fromisoformat(day), int(rank))


KEYS["duplicates"] = PersonKey.parse

# Each person of the subtree's duplicate rows at the first of its files the reader sees, ranked
# among the people of that same file: the list's order, a cursor's place in it.
_FIRSTS = (
    "SELECT f.id_hash, f.applied_on, f.file_id, row_number() OVER"
    " (PARTITION BY f.applied_on, f.file_id ORDER BY f.id_hash) AS rank"
    " FROM (SELECT DISTINCT ON (d.id_hash) d.id_hash, d.applied_on, d.file_id"
    " FROM ledger_duplicate_files d WHERE {subtree}"
    " ORDER BY d.id_hash, d.applied_on, d.file_id) f"
)


async def duplicates(
    pool: asyncpg.Pool, root: str, *, limit: int = 50, after: Cursor | None = None
) -> tuple[list[Duplicate], int, Cursor | None]:
    """People (by keyed ID hash, head or member) in more than one open or relieved file across
    ALL units, at least one of them in the subtree; files outside it are only counted. One page
    of `limit` people, how many there are in all, and the cursor of the next page (None on the
    last).

    The ledger projection keeps `ledger_duplicate_files` (migration 0024), a row per file of
    every person in several, with the file's unit and how many files the person is in: both
    statements read only the subtree's rows of it (by the unit's index; the row-level security
    compares the same column), so their cost is the subtree's duplicates and the page, not the
    province's files. People come in the order of the first file of theirs the reader sees
    (application day, file id), and a page holds whole people: a person's files are never split
    across pages."""
    subtree = subtree_sql("d.unit", "$1")
    params: list[Any] = [root]
    page = ""
    if after is not None:
        key: PersonKey = after.value
        params += [key.applied_on, after.file_id, key.rank]
        page = " WHERE (f.applied_on, f.file_id, f.rank) > ($2::date, $3::uuid, $4::bigint)"
    params.append(limit + 1)
    async with scoped(pool, root) as conn:
        rows = await conn.fetch(
            f"WITH firsts AS ({_FIRSTS.format(subtree=subtree)}),"
            f" page AS (SELECT * FROM firsts f{page}"
            f" ORDER BY f.applied_on, f.file_id, f.rank LIMIT ${len(params)})"
            " SELECT p.applied_on AS first_on, p.file_id AS first_file, p.rank,"
            " d.id_hash, d.role, d.files AS open_files, l.file_id, l.unit, u.name AS unit_name,"
            " l.status, l.head_name, l.id_masked, l.applied_on"
            # each person's rows by the primary key: a lateral subquery that `OFFSET 0` keeps
            # from being flattened into a join, so it runs once per person of the page — never
            # a scan of the subtree's rows per person, whatever the table's statistics say
            " FROM page p CROSS JOIN LATERAL (SELECT d.id_hash, d.role, d.files, d.file_id,"
            f" d.applied_on FROM ledger_duplicate_files d WHERE d.id_hash = p.id_hash"
            f" AND {subtree} OFFSET 0) d"
            " JOIN ledger l ON l.file_id = d.file_id LEFT JOIN units u ON u.code = l.unit"
            " ORDER BY p.applied_on, p.file_id, p.rank, d.applied_on, d.file_id",
            *params,
        )
        total = await conn.fetchval(
            f"SELECT count(DISTINCT d.id_hash) FROM ledger_duplicate_files d WHERE {subtree}", root
        )
    people: dict[bytes, list[asyncpg.Record]] = {}
    for row in rows:
        people.setdefault(bytes(row["id_hash"]), []).append(row)
    found = []
    for visible in list(people.values())[:limit]:
        heads = [f["id_masked"] for f in visible if f["role"] == "head"]
        others = visible[0]["open_files"] - len(visible)
        found.append(Duplicate(heads[0] if heads else None, visible, others))
    following = None
    if len(people) > limit:
        last = found[-1].files[0]
        following = Cursor(
            "duplicates", PersonKey(last["first_on"], last["rank"]), last["first_file"]
        )
    return found, int(total), following


# ------------------------------------------------------------------------------ statistics


StockRow = tuple[str, str, int]  # dimension, key, count
FlowRow = tuple[str, str, int, Decimal]  # metric, key, count, amount


@dataclass
class Figures:
    stock: list[StockRow] = field(default_factory=list)
    flow: list[FlowRow] = field(default_factory=list)


# The rows the nation's figures sum: every province's (a two-digit code), and the nation's own,
# which counts only the files of national non-geographic unions ("00C01…": `path_of` reaches
# "00" for them alone, never for a province's file)
_NATIONS_ROWS = [NATION, *(f"{n:02d}" for n in range(1, 100))]


async def unit_figures(pool: asyncpg.Pool, unit: str, period: str) -> Figures:
    """The stock counters of one unit and its flows in one period ("2026" or "2026-03"); the
    nation's are the sums of its provinces' and of its own row (projections/statistics.py counts
    a file up to its province, or up to the nation for a national non-geographic union's file),
    read by the tables' primary keys."""
    if unit == NATION:
        async with scoped(pool, unit) as conn:
            stock = await conn.fetch(
                "SELECT dimension, key, sum(count)::bigint FROM stats_stock"
                " WHERE unit = ANY($1::text[]) AND count <> 0 GROUP BY dimension, key"
                " HAVING sum(count) <> 0 ORDER BY dimension, key",
                _NATIONS_ROWS,
            )
            flow = await conn.fetch(
                "SELECT metric, key, sum(count)::bigint, sum(amount) FROM stats_flow"
                " WHERE unit = ANY($1::text[]) AND period = $2 GROUP BY metric, key"
                " ORDER BY metric, key",
                _NATIONS_ROWS,
                period,
            )
        return Figures([tuple(r) for r in stock], [tuple(r) for r in flow])
    async with scoped(pool, unit) as conn:
        stock = await conn.fetch(
            "SELECT dimension, key, count FROM stats_stock WHERE unit = $1 AND count <> 0", unit
        )
        flow = await conn.fetch(
            "SELECT metric, key, count, amount FROM stats_flow WHERE unit = $1 AND period = $2",
            unit,
            period,
        )
    return Figures([tuple(r) for r in stock], [tuple(r) for r in flow])


async def children_figures(
    pool: asyncpg.Pool,
    root: str,
    level: Level,
    period: str,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> tuple[dict[str, Figures], str | None]:
    """The figures of the units of `level` registered in the subtree of `root` (with nothing
    counted yet, a unit has empty figures), in code order: a page of at most `limit` units
    after the code `after`, and the code to pass as `after` for the next page (None on the
    last). Each page reads the figures of its own units only, by the tables' primary keys."""
    async with scoped(pool, root) as conn:
        codes = [
            r["code"]
            for r in await conn.fetch(
                f"SELECT code FROM units WHERE {subtree_sql('code', '$1')} AND level = $2"
                " AND code > $3 ORDER BY code LIMIT $4",
                root,
                level.value,
                after or "",
                None if limit is None else limit + 1,
            )
        ]
        following = None
        if limit is not None and len(codes) > limit:
            codes, following = codes[:limit], codes[limit - 1]
        found: dict[str, Figures] = {code: Figures() for code in codes}
        for r in await conn.fetch(
            "SELECT unit, dimension, key, count FROM stats_stock"
            " WHERE unit = ANY($1::text[]) AND count <> 0",
            codes,
        ):
            found[r["unit"]].stock.append((r["dimension"], r["key"], r["count"]))
        for r in await conn.fetch(
            "SELECT unit, metric, key, count, amount FROM stats_flow"
            " WHERE unit = ANY($1::text[]) AND period = $2",
            codes,
            period,
        ):
            found[r["unit"]].flow.append((r["metric"], r["key"], r["count"], r["amount"]))
    return found, following


async def unit_names(pool: asyncpg.Pool, codes: list[str]) -> dict[str, str]:
    rows = await pool.fetch("SELECT code, name FROM units WHERE code = ANY($1::text[])", codes)
    return {r["code"]: r["name"] for r in rows}
