"""A civil-affairs list (民政比对) run against the files shows on their ledger rows — kept up batch
by batch, the same after a rebuild from zero — and the ledger is filtered and exported by it."""

from __future__ import annotations

import io
from datetime import date
from importlib import resources
from uuid import UUID

import asyncpg
import pytest
from openpyxl import load_workbook

from adapters.pg import reads
from adapters.pg.codec import EventCodec
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.services import civil_affairs
from adapters.sheets import ledger as exports
from domain.household import HouseholdFile
from domain.idnumber import make_id_number
from domain.privacy import keyed_hash
from domain.values import ExitKind, ExitReason
from projections.ledger import BEIJING
from tests.builders import APPROVER, CLERK, TODAY, approved_file
from tests.integration.test_projections import KEY, rebuild_all, runner, snapshot

FLAGS = (
    "SELECT civil_affairs, civil_affairs_on, civil_affairs_to_act FROM ledger WHERE file_id = $1"
)


class Households:
    """Three approved files of Funing: one the list finds open, one it finds after its exit, one
    it does not name."""

    def __init__(self) -> None:
        self.open = approved_file()
        self.closed = approved_file()
        self.closed.exit(
            actor=CLERK,
            exited_on=date(2026, 6, 1),
            kind=ExitKind.CANCELLED,
            reason=ExitReason.MOVED,
            explanation="迁往外省",
            evidence=("迁移证明",),
            today=TODAY,
        )
        self.untouched = approved_file()

    def all(self) -> list[HouseholdFile]:
        return [self.open, self.closed, self.untouched]

    def civil_affairs_list(self) -> bytes:
        stranger = make_id_number("130306", date(1961, 3, 3), 771).value
        return (
            "民政比对名单\n身份证号码,比对类型,日期\n"
            f"{self.open.head.id_number},死亡,2026-09-01\n"
            f"{self.open.members[0].id_number},低保,2026-09-01\n"
            f"{self.closed.head.id_number},车辆,2026-09-01\n"
            f"{stranger},房产,2026-09-01\n"
            "13030619750404001,车辆,2026-09-01\n"
        ).encode("gb18030")


async def matched(store: PostgresEventStore, files: PgFileRepository) -> Households:
    """The households saved and on the ledger, then the list run against Funing."""
    households = Households()
    for household in households.all():
        await files.save(household)
    await runner(store).catch_up()
    _, refused = await civil_affairs.run_matching(
        store=store,
        codec=EventCodec(),
        hasher=lambda number: keyed_hash(KEY, number),
        actor=APPROVER,
        scope="130306",
        data=households.civil_affairs_list(),
        name="民政比对.csv",
    )
    assert [(e.row, e.column) for e in refused] == [(7, "身份证号码")]
    return households


async def run_day(pool: asyncpg.Pool) -> date:
    """The Beijing day the matching run was recorded on."""
    at = await pool.fetchval(
        "SELECT max(recorded_at) FROM events WHERE type = 'civil_affairs.matched'"
    )
    return at.astimezone(BEIJING).date()


async def flags(pool: asyncpg.Pool, file_id: UUID) -> tuple[object, ...]:
    return tuple(await pool.fetchrow(FLAGS, file_id))


class TestACivilAffairsListOnTheLedger:
    async def test_marks_the_rows_of_the_files_it_matched_with_what_to_act_on(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        households = await matched(store, files)
        versions = await pool.fetch(
            "SELECT file_id, version, updated_at FROM ledger ORDER BY file_id"
        )

        await runner(store).catch_up()

        day = await run_day(pool)
        assert await flags(pool, households.open.id) == (
            ["dibao", "death"],
            day,
            ["death_on_open_file"],
        )
        assert await flags(pool, households.closed.id) == (["vehicle"], day, [])
        assert await flags(pool, households.untouched.id) == ([], None, [])
        assert (
            await pool.fetch("SELECT file_id, version, updated_at FROM ledger ORDER BY file_id")
            == versions
        )

    async def test_kept_up_in_small_batches_equals_a_rebuild_from_zero(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        households = await matched(store, files)
        await runner(store, batch=2).catch_up()  # the run's events fall in several batches
        incremental = await snapshot(pool)

        await rebuild_all(store)

        assert await snapshot(pool) == incremental
        assert (await flags(pool, households.open.id))[2] == ["death_on_open_file"]

    async def test_is_refilled_when_its_migration_runs_again(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await matched(store, files)
        await runner(store).catch_up()
        before = await snapshot(pool)
        migration = resources.files("infra").joinpath("migrations", "0006_ledger_civil_affairs.sql")

        await pool.execute(migration.read_text(encoding="utf-8"))
        emptied = await pool.fetchval("SELECT count(*) FROM ledger")
        await runner(store).catch_up()

        assert emptied == 0
        assert await snapshot(pool) == before


class TestTheLedgerReadByCivilAffairs:
    @pytest.mark.parametrize(
        ("where", "expected"),
        [
            ({"civil_affairs": ("death",)}, {"open"}),
            ({"civil_affairs": ("vehicle", "death")}, {"open", "closed"}),
            ({"civil_affairs": ("property",)}, set()),
            ({"civil_affairs_to_act": True}, {"open"}),
            ({"civil_affairs_to_act": False}, {"closed", "untouched"}),
            ({"civil_affairs": ("vehicle",), "civil_affairs_to_act": True}, set()),
        ],
    )
    async def test_filters_by_the_kinds_matched_and_by_findings_to_act_on(
        self,
        store: PostgresEventStore,
        files: PgFileRepository,
        where: dict[str, object],
        expected: set[str],
    ):
        households = await matched(store, files)
        await runner(store).catch_up()
        names = {
            households.open.id: "open",
            households.closed.id: "closed",
            households.untouched.id: "untouched",
        }

        rows, _ = await reads.ledger_page(
            store.pool,
            reads.LedgerFilter(root="130306", **where),
            limit=50,
        )

        assert {names[r["file_id"]] for r in rows} == expected

    async def test_exports_the_kinds_the_day_and_the_findings_in_words(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        households = await matched(store, files)
        await runner(store).catch_up()
        out = io.BytesIO()

        await exports.write_ledger(
            reads.ledger_rows(store.pool, reads.LedgerFilter(root="130306")), out
        )

        sheet = load_workbook(io.BytesIO(out.getvalue()), read_only=True).worksheets[0]
        header, *rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
        masked = await pool.fetchval(
            "SELECT id_masked FROM ledger WHERE file_id = $1", households.open.id
        )
        (row,) = [dict(zip(header, r, strict=True)) for r in rows if r[3] == masked]
        assert row["民政比对"] == "低保、死亡"
        assert row["民政比对日期"].date() == await run_day(pool)
        assert row["民政比对待处理"] == "户主已死亡，档案仍在册：应注销"
