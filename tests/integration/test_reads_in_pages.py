"""The read models' lists in pages whose cost does not grow with the province (migration 0014):
queues and due lists page by a cursor with their totals, the statistics' children page by code,
the duplicates come from a table the ledger keeps — the same batch by batch as after a rebuild —
and a rebuild's shadow tables get every index of the live ones."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import asyncpg
from openpyxl import load_workbook

from adapters.pg import reads
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.services import demo
from adapters.sheets import ledger as exports
from domain.household import HouseholdFile
from domain.values import Actor, Level, Role
from tests.builders import APPRAISAL, CLERK, TODAY, FixedClock, application, verification
from tests.integration.test_projections import rebuild_all, runner

AS_OF = date(2026, 12, 1)


async def province(store: PostgresEventStore, files: PgFileRepository, count: int = 80) -> None:
    await PgUnitDirectory(store.pool).load(demo.units())
    planner = demo.Planner(today=TODAY, seed=7)
    for _ in range(count):
        await demo.run_plan(planner.plan(), files=files, clock=FixedClock())
    await runner(store).catch_up()


async def every_page(read: Any, limit: int) -> tuple[list[Any], int]:
    rows: list[Any] = []
    after = None
    while True:
        page, total, after = await read(limit=limit, after=after)
        rows += page
        if after is None:
            return rows, total


def ids(rows: list[asyncpg.Record]) -> list[Any]:
    return [r["file_id"] for r in rows]


def appraised(unit: str = "130306001", head: Any = None) -> HouseholdFile:
    """A file awaiting approval, with its own head or the given one."""
    clerk = Actor("clerk", unit, Role.CLERK)
    fields = application(unit)
    if head is not None:
        fields["head"] = head
    household = HouseholdFile.receive_application(actor=clerk, today=TODAY, **fields)
    household.verify(actor=clerk, today=TODAY, **verification())
    household.appraise(actor=clerk, today=TODAY, **APPRAISAL)
    return household


class TestTheApprovalQueue:
    async def test_reads_in_cursor_pages_the_same_files_as_in_one(
        self, store: PostgresEventStore, files: PgFileRepository
    ):
        await files.save(*(appraised(unit) for unit in ("130306001", "130302001") * 3))
        await runner(store).catch_up()
        whole, total, last = await reads.approval_queue(store.pool, "13", limit=1000)

        paged, paged_total = await every_page(
            lambda **kw: reads.approval_queue(store.pool, "13", **kw), limit=2
        )

        assert last is None
        assert total == len(whole) > 2
        assert paged_total == total
        assert ids(paged) == ids(whole)


class TestTheDueLists:
    async def test_read_in_cursor_pages_the_same_files_as_in_one(
        self, store: PostgresEventStore, files: PgFileRepository
    ):
        await province(store, files)

        for kind in ("visits", "rechecks", "follow_up"):
            whole, total, _ = await reads.due(store.pool, "13", kind, as_of=AS_OF, limit=1000)
            paged, paged_total = await every_page(
                lambda kind=kind, **kw: reads.due(store.pool, "13", kind, as_of=AS_OF, **kw),
                limit=3,
            )

            assert paged_total == total == len(whole), kind
            assert ids(paged) == ids(whole), kind
            assert [r["due_on"] for r in paged] == [r["due_on"] for r in whole], kind
        assert total > 3  # the last list had more than one page


class TestTheStatisticsChildren:
    async def test_page_by_code_through_every_registered_unit_of_the_level(
        self, store: PostgresEventStore, files: PgFileRepository
    ):
        await province(store, files)
        registered = sorted(c for c in demo.units() if len(c) >= 9)
        whole, last = await reads.children_figures(store.pool, "13", Level.BASE, "2026")

        seen: list[str] = []
        after = None
        while True:
            page, after = await reads.children_figures(
                store.pool, "13", Level.BASE, "2026", after=after, limit=7
            )
            seen += page
            assert all(sorted(page[c].stock) == sorted(whole[c].stock) for c in page)
            if after is None:
                break

        assert last is None
        assert seen == list(whole) == registered


class TestTheDuplicates:
    async def test_are_kept_batch_by_batch_as_a_rebuild_finds_them(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        first = HouseholdFile.receive_application(actor=CLERK, today=TODAY, **application())
        twins = [appraised(unit, first.head) for unit in ("130306001", "130302001")]
        await files.save(first, *twins)
        live = runner(store, batch=1)
        await live.catch_up()
        table = "SELECT * FROM ledger_duplicate_files ORDER BY file_id"
        kept = [tuple(r) for r in await pool.fetch(table)]
        found, total, _ = await reads.duplicates(pool, "130306")

        await rebuild_all(store)
        rebuilt = [tuple(r) for r in await pool.fetch(table)]

        assert [r["files"] for r in await pool.fetch(table)] == [3, 3, 3]
        assert rebuilt == kept
        assert total == 1
        (person,) = found
        assert sorted(f["unit"] for f in person.files) == ["130306001", "130306001"]
        assert person.others == 1

    async def test_lose_a_person_whose_other_files_closed(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        first = HouseholdFile.receive_application(actor=CLERK, today=TODAY, **application())
        second = appraised("130306001", first.head)
        await files.save(first, second)
        await runner(store).catch_up()
        before, _, _ = await reads.duplicates(pool, "13")
        again = await files.get(second.id)
        again.reject(
            actor=Actor("approver", "130306", Role.APPROVER),
            rejected_on=date(2026, 3, 20),
            reason="重复建档",
            today=TODAY,
        )
        await files.save(again)

        await runner(store).catch_up()

        assert len(before) == 1
        assert await reads.duplicates(pool, "13") == ([], 0, None)
        assert await pool.fetchval("SELECT count(*) FROM ledger_duplicate_files") == 0


class TestARebuild:
    async def test_gives_its_tables_every_index_of_the_live_ones_under_their_names(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await province(store, files, count=10)
        query = (
            "SELECT tablename, indexname, regexp_replace(indexdef, '^.* USING ', '') FROM"
            " pg_indexes WHERE schemaname = current_schema() ORDER BY tablename, indexname"
        )
        before = [tuple(r) for r in await pool.fetch(query)]

        await rebuild_all(store)

        assert [tuple(r) for r in await pool.fetch(query)] == before
        assert ("ledger", "ledger_by_head_name", "btree (head_name, file_id)") in before


class TestTheWorkbook:
    async def test_reads_back_as_the_cells_of_the_ledger_rows(self):
        rows = [
            {
                "head_name": f"王{n} <&> \x07",
                "head_sex": "male",
                "id_masked": "130306********0011",
                "phone_masked": "",
                "employer": " 抚宁区某厂 ",
                "address": "骊城大街",
                "applied_on": date(2026, 1, 5),
                "file_level": "district",
                "category": None,
                "primary_cause": "illness",
                "secondary_causes": [],
                "status": "approved",
                "unit_name": None,
                "unit": "130306001",
                "approved_on": None,
                "assistance_count": 2,
                "assistance_total": 1234.5,
                "last_visited_on": None,
                "next_recheck_due": date(2027, 1, 5),
                "exited_on": None,
                "civil_affairs": [],
                "civil_affairs_on": None,
                "civil_affairs_to_act": [],
            }
            for n in range(3)
        ]

        async def batches() -> Any:
            yield rows[:2]
            yield rows[2:]

        out = io.BytesIO()
        written = await exports.write_ledger(batches(), out)
        sheet = load_workbook(io.BytesIO(out.getvalue()), read_only=True).worksheets[0]
        header, *back = [tuple(r) for r in sheet.iter_rows(values_only=True)]

        assert written == 3
        assert header == tuple(h for h, _ in exports.LEDGER_HEADERS)
        for number, (row, cells) in enumerate(zip(rows, back, strict=True), start=1):
            expected = exports.ledger_cells(number, row)
            assert cells[0] == number
            assert cells[1] == f"王{number - 1} <&> "  # the control character is dropped
            assert cells[5] == " 抚宁区某厂 "
            assert cells[7].date() == date(2026, 1, 5)
            assert cells[13] is None
            assert cells[15] == 1234.5
            assert [c or "" for c in cells[8:13]] == [e or "" for e in expected[8:13]]
