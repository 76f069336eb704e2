"""Bulk import: building in worker processes, the exclusion answers, and two imports of one
sheet at once — on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pii import sealing as pii
from adapters.services import importer
from adapters.sheets import reading as sheets
from domain.eligibility import Exclusions
from domain.policy import Parameters, PolicyBook, RegionalPolicy
from domain.values import Actor, Role
from tests.builders import APPROVER, BASE, TODAY
from tests.integration.test_paper_against_electronic import (
    IMPORT_HEADERS,
    do_import,
    import_rows,
    import_sheet,
    seed_policy,
)


def book() -> PolicyBook:
    admin = Actor("admin", "13", Role.ADMIN)
    policy = RegionalPolicy.open(actor=admin, region="130300")
    policy.set(actor=admin, parameters=Parameters(date(2015, 1, 1), Decimal("550")), reason="t")
    return PolicyBook({"130300": policy})


def outcomes_of(found: list[importer.Built | sheets.RowError]) -> list[object]:
    """What must not depend on where a row was built (recorded times, and so hashes, do; and
    each build encrypts with a fresh key: payloads are compared opened)."""
    return [
        o
        if isinstance(o, sheets.RowError)
        else (
            o.row,
            o.file_id,
            [(e.version, e.type, opened(o, e.payload), e.unit) for e in o.events],
        )
        for o in found
    ]


def opened(built: importer.Built, payload: bytes) -> bytes:
    assert built.key is not None
    return pii.open_payload(payload, built.file_id, AESGCM(built.key))


async def collect(rows: list[tuple[int, dict[str, str]]], workers: int) -> list[object]:
    job = importer.Job(BASE, APPROVER, book(), TODAY)
    found: list[importer.Built | sheets.RowError] = []
    async for chunk in importer._built(rows, job, workers, EventCodec()):
        found += chunk
    return outcomes_of(found)


class TestBuildingInWorkers:
    async def test_gives_the_same_files_and_refusals_in_the_same_order_as_in_process(
        self,
    ) -> None:
        rows, bad = import_rows(3 * importer.CHUNK + 17, 0.1)
        table = sheets.read_table(
            sheets.grid_of(import_sheet(rows), "f.xlsx"), importer.IMPORT_COLUMNS
        )

        here = await collect(table.rows, workers=1)
        there = await collect(table.rows, workers=2)

        assert there == here
        assert sorted(o.row for o in here if isinstance(o, sheets.RowError)) == sorted(bad)
        assert len(here) == len(table.rows)

    def test_large_sheets_use_every_cpu_and_small_ones_none(self) -> None:
        assert importer.worker_count(importer.PARALLEL_FROM - 1, None) == 1
        assert importer.worker_count(importer.PARALLEL_FROM, None) >= 1
        assert importer.worker_count(10, 3) == 3
        assert importer.worker_count(10, 0) == 1


def exclusion_sheet(rows: list[dict[str, str]]) -> bytes:
    """A csv with the importer's headers plus the given extra columns."""
    extra = sorted({k for r in rows for k in r} - set(IMPORT_HEADERS))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*IMPORT_HEADERS, *extra])
    base_rows, _ = import_rows(len(rows), 0.0)
    for values, cells in zip(base_rows, rows, strict=True):
        writer.writerow([*values, *(cells.get(k, "") for k in extra)])
    return out.getvalue().encode()


async def import_csv(store: PostgresEventStore, data: bytes) -> importer.ImportReport:
    return await importer.import_files(
        files=PgFileRepository(store, EventCodec(keyring=store.keyring)),
        codec=EventCodec(keyring=store.keyring),
        book=await PgPolicies(store, EventCodec()).book(),
        actor=APPROVER,
        unit=BASE,
        data=data,
        name="files.csv",
        today=TODAY,
    )


class TestExclusionAnswers:
    async def test_are_recorded_and_one_that_applies_refuses_the_row_under_its_column(
        self, store: PostgresEventStore, files: PgFileRepository
    ) -> None:
        await seed_policy(store)
        rows = [
            {"私家车或高档消费品": "否", "出国(境)旅游": "无"},
            {"私家车或高档消费品": "是"},
            {"排除情形": "无"},
            {"排除情形": "出国（境）旅游、私家车"},
            {"排除情形": "住豪宅"},
            {"两套以上住宅": "也许"},
        ]
        data = exclusion_sheet(rows)

        report = await import_csv(store, data)

        refused = {e.row: (e.column, e.reason) for e in report.refused}
        assert set(refused) == {3, 5, 6, 7}  # the header is row 1
        assert refused[3][0] == "排除情形"
        assert "私家车" in refused[3][1]
        assert refused[5][0] == "排除情形"
        assert "出国" in refused[5][1]
        assert "私家车" in refused[5][1]
        assert refused[6] == ("排除情形", refused[6][1])
        assert "住豪宅" in refused[6][1]
        assert refused[7][0] == "两套以上住宅"
        assert report.created == 2
        numbers = [r[1] for r in import_rows(len(rows), 0.0)[0]]
        kept = await files.get(importer.file_id_for(BASE, str(numbers[0])))
        assert kept.exclusions == Exclusions()
        assert kept.status == "approved"
        assert kept.head.id_number == str(numbers[0])
        stored = await store.pool.fetchval(
            "SELECT payload FROM events WHERE stream_id = $1 AND version = 1", kept.id
        )
        assert str(numbers[0]).encode() not in stored
        assert b'"enc:1:' in stored

    def test_read_from_one_column_or_one_each(self) -> None:
        assert importer.exclusions_of(
            {"exclusions": "私家车或高档消费品、两套以上住宅"}
        ) == Exclusions(car_or_luxury=True, two_or_more_homes=True)
        assert importer.exclusions_of({"exclusion:costly_schooling": "√"}) == Exclusions(
            costly_schooling=True
        )
        assert importer.exclusions_of({"exclusions": "无"}) == Exclusions()
        assert importer.exclusions_of({}) == Exclusions()


class TestTwoImportsOfOneSheetAtOnce:
    async def test_create_every_file_once_and_neither_fails(
        self, store: PostgresEventStore
    ) -> None:
        await seed_policy(store)
        rows, _ = import_rows(importer.SAVE_BATCH + 300, 0.0)
        data = import_sheet(rows)

        first, second = await asyncio.gather(do_import(store, data), do_import(store, data))

        assert first.created + second.created == len(rows)
        assert first.created + first.skipped == second.created + second.skipped == len(rows)
        count = await store.pool.fetchval(
            "SELECT count(*) FROM events WHERE type = 'household.applied'"
        )
        assert count == len(rows)
        assert await store.pool.fetchval(
            "SELECT count(*) FROM events WHERE type LIKE 'household.%'"
        ) == 4 * len(rows)


@pytest.mark.parametrize("answer", ["是", "有", "√", "Y", "1", "true"])
def test_a_yes_reads_as_yes(answer: str) -> None:
    assert sheets.yes_no(answer, "列") is True


@pytest.mark.parametrize("answer", ["否", "无", "×", "n", "0", "—"])
def test_a_no_reads_as_no(answer: str) -> None:
    assert sheets.yes_no(answer, "列") is False


def test_anything_else_is_refused_naming_the_column() -> None:
    with pytest.raises(sheets.CellError) as caught:
        sheets.yes_no("不清楚", "私家车或高档消费品")
    assert caught.value.column == "私家车或高档消费品"
    assert sheets.yes_no("", "列") is None
