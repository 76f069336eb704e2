"""The ledger's name search reads the files whose name holds the query's rarest character
(migration 0025, `ledger_name_chars`; adapters/pg/reads.py `rarest_characters`, docs/decisions/
0021): the same rows in the same order as the walk of the sort's index it replaces — at the
province, a district, a base union and a non-geographic union, for a rare character, a common
one, a full name, a name nobody has and a member's name (not searched) — every match once
through the cursors, off the new table's index; and the table stays right after a revision of
the head's name, an erasure, rows written by hand and a rebuild."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import asyncpg
import pytest

from adapters.pg import reads
from adapters.pg.migrations import available
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.services.erasure import erase_personal_data
from domain.household import HouseholdFile
from domain.values import Actor, Level, Role
from tests.builders import TODAY, FixedClock, approved_file
from tests.integration.test_ledger_pages_by_district_and_unit import recorded
from tests.integration.test_projections import rebuild_all, runner
from tests.integration.test_reads_in_pages import appraised, province

DISTRICT, BASE, INDUSTRY, INDUSTRY_BASE = "130306", "130306001", "13C01", "13C01001"
ROOTS = ("13", DISTRICT, BASE, "1303060011", INDUSTRY)
# a rare character (every test file's head, 张𠀀), a common surname of the demo, a full name,
# characters nobody's name holds, a member's name (the builders' spouse, 王𪚥: members are not
# searched), two characters apart
NAMES = ("𠀀", "王", "张𠀀", "龘", "王𪚥", "𠀀张", "张")


async def every_page(
    pool: asyncpg.Pool, where: reads.LedgerFilter, sort: str, descending: bool, *, new: bool
) -> list[Any]:
    seen: list[Any] = []
    after = None
    while True:
        rows, after = await reads.ledger_page(
            pool, where, sort=sort, descending=descending, after=after, limit=4,
            by_characters=new,
        )  # fmt: skip
        seen += [r["file_id"] for r in rows]
        if after is None:
            return seen


async def kept(pool: asyncpg.Pool) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await pool.fetch("SELECT * FROM ledger_name_chars ORDER BY 1, 3, 2")]


async def from_scratch(pool: asyncpg.Pool) -> list[tuple[Any, ...]]:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("CREATE TEMP TABLE scratch (LIKE ledger_name_chars) ON COMMIT DROP")
        await conn.execute("SELECT bangfu_ledger_name_chars_fill('ledger', 'scratch')")
        return [tuple(r) for r in await conn.fetch("SELECT * FROM scratch ORDER BY 1, 3, 2")]


@pytest.fixture
async def ledger(store: PostgresEventStore, files: PgFileRepository) -> asyncpg.Pool:
    """A demo province, test files (张𠀀) in a district's base unions and a non-geographic
    union's."""
    await province(store, files, count=40)
    directory = PgUnitDirectory(store.pool)
    await directory.create(INDUSTRY, "河北省教育工会", level=Level.DISTRICT, approves=True)
    await directory.create(INDUSTRY_BASE, "某中学工会")
    await files.save(*(appraised(u) for u in (BASE, "1303060011", "130302001", BASE)))
    await files.save(*(appraised(INDUSTRY_BASE) for _ in range(3)))
    await runner(store).catch_up()
    return store.pool


class TestANameSearch:
    async def test_reads_the_walks_rows_in_its_order_each_once_through_the_cursors(
        self, ledger: asyncpg.Pool
    ):
        checked = 0
        for root in ROOTS:
            for name in NAMES:
                where = reads.LedgerFilter(root, name=name)
                for sort in reads.SORTS:
                    for descending in (False, True):
                        walked = await every_page(ledger, where, sort, descending, new=False)

                        paged = await every_page(ledger, where, sort, descending, new=True)

                        assert paged == walked, (root, name, sort, descending)
                        assert len(set(paged)) == len(paged)
                        checked += len(paged)
        assert checked > 500
        every = await every_page(ledger, reads.LedgerFilter("13", name="𠀀"), "applied_on",
                                 False, new=True)  # fmt: skip
        assert len(every) > 4  # pages of 4: the cursors were walked
        assert not await every_page(ledger, reads.LedgerFilter("13", name="𪚥"), "applied_on",
                                    False, new=True)  # fmt: skip

    async def test_shows_every_column_the_walk_shows(self, ledger: asyncpg.Pool):
        for root in ("13", DISTRICT, BASE):
            where = reads.LedgerFilter(root, name="张𠀀")

            new, _ = await reads.ledger_page(ledger, where)
            walked, _ = await reads.ledger_page(ledger, where, by_characters=False)

            assert [dict(r) for r in new] == [dict(r) for r in walked]
            assert any(r["unit_name"] for r in new)  # (a test unit may have no name)

    async def test_with_other_filters_reads_the_same_rows(self, ledger: asyncpg.Pool):
        for root in ("13", DISTRICT, BASE):
            for fields in ({"statuses": ("appraised",)}, {"categories": ("deep",)}):
                where = reads.LedgerFilter(root, name="𠀀", **fields)

                paged = await every_page(ledger, where, "head_name", True, new=True)

                assert paged == await every_page(ledger, where, "head_name", True, new=False)

    async def test_of_a_common_character_walks_the_sorts_index(
        self, ledger: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setattr(reads, "NAME_CANDIDATES", 0)  # every character that is found

        used = await page_plan(ledger, reads.LedgerFilter(DISTRICT, name="𠀀"), "updated_at")
        nobody = await page_plan(ledger, reads.LedgerFilter(DISTRICT, name="龘"), "updated_at")
        for root in ROOTS:
            for sort in ("updated_at", "applied_on"):
                paged = await every_page(
                    ledger, reads.LedgerFilter(root, name="张𠀀"), sort, True, new=True
                )
                assert paged == await every_page(
                    ledger, reads.LedgerFilter(root, name="张𠀀"), sort, True, new=False
                )

        assert "ledger_name_chars" not in used
        assert used.startswith("ledger_district_by_updated_at")
        assert "ledger_name_chars" in nobody  # nobody's: its none are read

    async def test_of_one_character_walks_where_its_files_cost_more_than_the_walk(
        self, ledger: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setattr(reads, "CANDIDATE_PRICE", 10**9)  # a candidate dearer than any walk

        one = await page_plan(ledger, reads.LedgerFilter(DISTRICT, name="𠀀"), "updated_at")
        several = await page_plan(ledger, reads.LedgerFilter(DISTRICT, name="张𠀀"), "updated_at")
        repeated = await page_plan(ledger, reads.LedgerFilter(DISTRICT, name="𠀀𠀀"), "updated_at")

        assert "ledger_name_chars" not in one
        assert "ledger_name_chars" in several  # its matches may be far fewer
        assert "ledger_name_chars" in repeated

    async def test_of_one_character_counts_its_files_no_further_than_the_walks_price(
        self, ledger: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setattr(reads, "CANDIDATE_PRICE", 10**6)  # √(51 × S / price) < 1 file
        held = await ledger.fetchval("SELECT count(*) FROM ledger_name_chars WHERE ch = '𠀀'")

        one = await probed(ledger, "𠀀")
        several = await probed(ledger, "张𠀀")

        assert held > 2
        assert one == ((), {"𠀀": 1})  # counted to the price's first file past it, then walked
        assert several[1]["𠀀"] == held  # several characters: counted to NAME_CANDIDATES + 1

    async def test_of_a_rare_character_reads_its_candidates_by_the_new_index(
        self, ledger: asyncpg.Pool
    ):
        await ledger.execute("ANALYZE ledger; ANALYZE ledger_name_chars")

        for root in ("13", DISTRICT, BASE, INDUSTRY):
            for sort in ("applied_on", "updated_at", "head_name"):
                used = await page_plan(ledger, reads.LedgerFilter(root, name="张𠀀"), sort)

                assert "ledger_name_chars" in used, (root, sort)
                assert "ledger_pkey" in used, (root, sort)


class TestANameSearchInTheDefaultOrder:
    """A district's or base union's page in the default order (`sort=applied_on`) whose `q` is
    not read as candidates reads the holders of `q`'s rarest character in that order, off
    migration 0027's indexes: a page of a common character reads its 51 holders, not ≈ 51 ×
    files ÷ holders rows of the walk (docs/decisions/0021)."""

    async def test_of_one_character_reads_its_holders_in_order_off_the_roots_index(
        self, ledger: asyncpg.Pool
    ):
        await ledger.execute("ANALYZE ledger; ANALYZE ledger_name_chars")
        expected = {
            DISTRICT: "ledger_name_chars_by_district_applied_on",
            BASE: "ledger_name_chars_by_unit_applied_on",
        }

        for root, index in expected.items():
            for name in ("王", "𠀀"):
                used, sorted_ = await page_plan_sorts(ledger, reads.LedgerFilter(root, name=name))

                assert used.startswith(index), (root, name, used)
                assert "ledger_pkey" in used, (root, name)
                assert not sorted_, (root, name)  # in the index's order: no sort

    async def test_of_a_common_longer_name_reads_its_rarest_characters_holders_in_order(
        self, ledger: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setattr(reads, "NAME_CANDIDATES", 0)  # no character is rare enough

        used, sorted_ = await page_plan_sorts(ledger, reads.LedgerFilter(DISTRICT, name="张𠀀"))

        assert used.startswith("ledger_name_chars_by_district_applied_on")
        assert not sorted_

    async def test_reads_the_walks_rows_with_other_filters_each_once_through_the_cursors(
        self, ledger: asyncpg.Pool
    ):
        for root in ROOTS:
            for fields in (
                {"categories": ("deep",)},
                {"statuses": ("appraised",)},
                {"civil_affairs_to_act": False},  # a district's page then walks: not in order
            ):
                where = reads.LedgerFilter(root, name="王", **fields)  # type: ignore[arg-type]
                for descending in (False, True):
                    paged = await every_page(ledger, where, "applied_on", descending, new=True)

                    assert paged == await every_page(
                        ledger, where, "applied_on", descending, new=False
                    ), (root, fields, descending)
                    assert len(set(paged)) == len(paged)

    async def test_keeps_the_walk_where_a_civil_affairs_filter_takes_the_page_off_its_index(
        self, ledger: asyncpg.Pool
    ):
        where = reads.LedgerFilter(DISTRICT, name="王", civil_affairs_to_act=False)

        _, statements = await recorded(ledger, lambda pool: reads.ledger_page(pool, where))
        _, in_order = await recorded(
            ledger, lambda pool: reads.ledger_page(pool, dataclasses.replace(where,
                                                   civil_affairs_to_act=None))
        )  # fmt: skip

        assert "ORDER BY k.applied_on" not in statements[-1][0]  # candidates, or the walk
        assert "ORDER BY k.applied_on" in in_order[-1][0]  # the holders in order


async def probed(pool: asyncpg.Pool, name: str) -> tuple[tuple[str, ...], dict[str, int]]:
    """What `rarest_characters` chose for a province's `q`, and the count of each character its
    probe returned."""
    counts: dict[str, int] = {}
    async with reads.scoped(pool, "13") as conn:

        class Seeing:
            async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
                rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
                counts.update({r["ch"]: r["n"] for r in rows})
                return rows

        chosen = await reads.rarest_characters(Seeing(), reads.LedgerFilter("13", name=name))  # type: ignore[arg-type]
    return chosen, counts


async def page_plan(pool: asyncpg.Pool, where: reads.LedgerFilter, sort: str = "applied_on") -> str:
    """The indexes the page's statement reads (`page_plan_sorts`)."""
    return (await page_plan_sorts(pool, where, sort))[0]


async def page_plan_sorts(
    pool: asyncpg.Pool, where: reads.LedgerFilter, sort: str = "applied_on"
) -> tuple[str, bool]:
    """The indexes the page's statement reads, in a generic plan, and whether it sorts before
    its `LIMIT` (a holders' page sorts its 51 rows once found, `reads._named`), in the
    transaction `ledger_page` opened (reader role, row-level security, its planner settings) —
    sequential scans off: the test's tables are a few pages, where a scan is cheapest; what is
    proved is that the page's conditions are index conditions under row-level security (bench/
    ledger_growth.py shows the plans of 20,000 and 60,000 files)."""
    settings, statements = await recorded(
        pool, lambda recording: reads.ledger_page(recording, where, sort=sort)
    )
    sql, args = statements[-1]
    async with pool.acquire() as conn:
        for setting in settings[:-1]:  # BEGIN…, and the SETs; not the COMMIT
            await conn.execute(setting)
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await conn.execute("SET LOCAL enable_seqscan = off")
        found = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
        await conn.execute("ROLLBACK")
    indexes: list[str] = []
    sorts: list[str] = []

    def walk(node: dict[str, Any], limited: bool = False) -> None:
        if "Index Name" in node:
            indexes.append(str(node["Index Name"]))
        if limited and node["Node Type"] in ("Sort", "Incremental Sort"):
            sorts.append(node["Node Type"])
        for child in node.get("Plans", []):
            walk(child, limited or node["Node Type"] == "Limit")

    walk((json.loads(found) if isinstance(found, str) else found)[0]["Plan"])
    return ",".join(indexes), bool(sorts)


class TestTheCharactersTable:
    async def test_follows_a_revised_name_an_erasure_and_rows_written_by_hand(
        self, ledger: asyncpg.Pool, files: PgFileRepository, store: PostgresEventStore
    ):
        household = approved_file(DISTRICT + "002")
        await files.save(household)
        await runner(store).catch_up()
        clerk = Actor("clerk", DISTRICT + "002", Role.CLERK)
        stored: HouseholdFile = await files.get(household.id)
        stored.revise(
            actor=clerk, effective_on=TODAY, reason="更正户主姓名", today=TODAY,
            head=dataclasses.replace(stored.head, name="欧阳龘"),
        )  # fmt: skip
        await files.save(stored)
        await runner(store).catch_up()
        renamed = await every_page(ledger, reads.LedgerFilter("13", name="龘"), "applied_on",
                                   False, new=True)  # fmt: skip
        erased = await ledger.fetchval(
            "SELECT file_id FROM ledger WHERE status IN ('out_of_hardship', 'cancelled')"
            " ORDER BY file_id LIMIT 1"
        )
        named = await ledger.fetchval("SELECT head_name FROM ledger WHERE file_id = $1", erased)
        await erase_personal_data(
            files=files, clock=FixedClock(), actor=Actor("admin", "13", Role.ADMIN),
            file_id=erased, reason="本人申请",
        )  # fmt: skip
        await runner(store).catch_up()
        await ledger.execute("UPDATE ledger SET unit = '1303060011' WHERE file_id = $1",
                             household.id)  # fmt: skip
        await ledger.execute("DELETE FROM ledger WHERE unit = '130302001'")

        assert renamed == [household.id]
        assert await kept(ledger) == await from_scratch(ledger)
        assert not await ledger.fetch(
            "SELECT 1 FROM ledger_name_chars WHERE file_id = $1 AND ch = '𠀀'", household.id
        )  # the old name's characters went
        names = await ledger.fetchval("SELECT head_name FROM ledger WHERE file_id = $1", erased)
        assert names != named  # the erasure took the name
        assert {r["ch"] for r in await ledger.fetch(
            "SELECT ch FROM ledger_name_chars WHERE file_id = $1", erased
        )} == set(names)  # fmt: skip
        assert (
            await ledger.fetchval(
                "SELECT unit FROM ledger_name_chars WHERE file_id = $1 LIMIT 1", household.id
            )
            == "1303060011"
        )

    async def test_is_rebuilt_with_the_ledger_and_kept_after(
        self, ledger: asyncpg.Pool, store: PostgresEventStore, files: PgFileRepository
    ):
        before = await kept(ledger)
        await ledger.execute("DELETE FROM ledger_name_chars WHERE ch = '王'")  # to be rebuilt

        await rebuild_all(store)
        rebuilt = await kept(ledger)
        await files.save(approved_file(BASE))
        await runner(store).catch_up()  # the rebuilt ledger keeps its characters: the triggers

        assert rebuilt == before
        assert await kept(ledger) != rebuilt
        assert await kept(ledger) == await from_scratch(ledger)

    async def test_is_filled_by_its_migration_from_the_ledger_as_it_stands(
        self, ledger: asyncpg.Pool
    ):
        before = await kept(ledger)
        await ledger.execute("TRUNCATE ledger_name_chars")
        migration = next(m for m in available() if m.name == "ledger_name_chars_in_order")

        await ledger.execute(migration.sql)

        assert await kept(ledger) == before
        assert before
