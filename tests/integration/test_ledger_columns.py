"""The ledger carries the columns of the clerk's paper ledger: the head's sex (read off the ID
number), the phone masked, the employer and the address — kept up to date by revisions, and the
same whether kept up batch by batch or rebuilt from zero."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import asyncpg

from adapters.pg.codec import EventCodec
from adapters.pg.projector import rebuild
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from domain.household import HouseholdFile
from domain.idnumber import make_id_number
from tests.builders import CLERK, TODAY, application, approved_file
from tests.integration.test_projections import runner, snapshot

COLUMNS = "head_sex, phone_masked, employer, address"


async def columns(pool: asyncpg.Pool, household: HouseholdFile) -> tuple[object, ...]:
    row = await pool.fetchrow(f"SELECT {COLUMNS} FROM ledger WHERE file_id = $1", household.id)
    return tuple(row)


class TestTheColumnsOfThePaperLedger:
    async def test_are_taken_from_the_application(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        fields = application()
        woman = make_id_number("130306", date(1980, 2, 3), 22).value  # even sequence: female
        fields["head"] = replace(fields["head"], id_number=woman, phone="13912345678")
        household = HouseholdFile.receive_application(actor=CLERK, today=TODAY, **fields)
        await files.save(household)

        await runner(store).catch_up()

        assert await columns(pool, household) == (
            "female",
            "139****5678",
            "抚宁区某机械厂",
            "抚宁区骊城大街1号",
        )

    async def test_read_a_man_off_an_odd_sequence_digit(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        fields = application()
        man = make_id_number("130306", date(1975, 7, 1), 13).value
        fields["head"] = replace(fields["head"], id_number=man, phone="")
        household = HouseholdFile.receive_application(actor=CLERK, today=TODAY, **fields)
        await files.save(household)

        await runner(store).catch_up()

        assert (await columns(pool, household))[:2] == ("male", "")

    async def test_follow_a_revision_of_the_head(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        household = approved_file()
        await files.save(household)
        live = runner(store)
        await live.catch_up()
        moved = replace(
            household.head,
            phone="13800001111",
            employer="秦皇岛物流公司",
            address="海港区迎宾路8号",
        )
        household.revise(
            actor=CLERK, effective_on=date(2026, 6, 1), reason="调换工作", head=moved, today=TODAY
        )
        await files.save(household)

        await live.catch_up()

        assert (await columns(pool, household))[1:] == (
            "138****1111",
            "秦皇岛物流公司",
            "海港区迎宾路8号",
        )

    async def test_are_the_same_after_a_rebuild_from_zero(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        household = approved_file()
        household.revise(
            actor=CLERK,
            effective_on=date(2026, 6, 1),
            reason="搬家",
            head=replace(household.head, address="抚宁区新址2号"),
            today=TODAY,
        )
        await files.save(household)
        await files.save(approved_file())
        await runner(store).catch_up()
        incremental = await snapshot(pool)

        for projection in runner(store).projections:
            await rebuild(store, EventCodec(keyring=store.keyring), projection)

        assert await snapshot(pool) == incremental
        assert (await columns(pool, household))[3] == "抚宁区新址2号"


class TestTheCausesOfAReturnedFile:
    async def test_are_the_return_s_as_on_the_file(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        from domain.values import ExitKind  # noqa: PLC0415
        from tests.unit.given import departure, homecoming  # noqa: PLC0415

        household = approved_file()
        household.exit(**departure(ExitKind.RELIEVED))  # (a 脱困 rests on recorded means)
        household.return_(**homecoming())
        await files.save(household)

        await runner(store).catch_up()

        row = await pool.fetchrow(
            "SELECT status, primary_cause FROM ledger WHERE file_id = $1", household.id
        )
        assert (row["status"], row["primary_cause"]) == ("returned", str(household.primary_cause))
        assert household.primary_cause == "unemployment"
