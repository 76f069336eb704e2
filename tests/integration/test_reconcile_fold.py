"""The reconciliation's electronic side is folded (`projections.as_of`), not replayed: these tests
show the fold says what the aggregate says — each file's compared fields, and whether the file is
in the subtree — at instants all through a demo province's history, on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest

from adapters.pg.codec import EventCodec
from adapters.pg.repository import PgFileRepository, replay
from adapters.pg.store import PostgresEventStore, StoredEvent
from adapters.services import demo, reconcile
from adapters.services.reconcile import CHINA
from domain.errors import InvalidValue
from domain.events import EVENT_NAMES
from domain.household import HouseholdFile
from domain.policy import Parameters
from domain.reconciliation import Reconciliation, electronic_fields
from domain.units import UnitCode
from domain.values import Actor, Category, Cause, ExitKind, ExitReason, Role
from projections import as_of
from tests.builders import APPROVER, BASE, TODAY, FixedClock, approved_file
from tests.e2e.test_operator_rebuilds_and_exports_with_the_cli import bangfu_on_a_terminal

pytestmark = pytest.mark.slow

FILES = 150
OTHER_DISTRICT_BASE = "130302001"  # Haigang district: a transfer out of Funing (130306)
CLERK = Actor("clerk", BASE, Role.CLERK)

Fields = dict[UUID, dict[str, str]]


@dataclass
class Province:
    """A demo province plus the files the demo never makes, and every stored household event."""

    events: list[StoredEvent]
    crafted: list[UUID]  # the hand-made files, whose every event is an instant worth checking

    def instants(self, ids: Sequence[UUID] | None = None) -> list[datetime]:
        chosen = set(ids) if ids is not None else None
        return sorted(
            {e.recorded_at for e in self.events if chosen is None or e.stream_id in chosen}
        )


async def _save(files: PgFileRepository, household: HouseholdFile) -> None:
    """Store what the file has pending: each save is its own recorded instant."""
    await files.save(household)


async def crafted_files(files: PgFileRepository) -> list[UUID]:
    """A head revised, a re-check that changes the category, a return for a new cause and a
    transfer to another district — each command stored on its own, so that instants fall
    between them."""
    revised, rechecked, returned, moved = (approved_file() for _ in range(4))
    for household in (revised, rechecked, returned, moved):
        await _save(files, household)

    head = replace(revised.head, name="张新名", employer="抚宁区新厂", address="抚宁区新路2号")
    revised.revise(
        actor=CLERK, effective_on=date(2026, 6, 1), reason="户主信息变更", head=head, today=TODAY
    )
    await _save(files, revised)

    rechecked.recheck(
        actor=CLERK,
        rechecked_on=date(2026, 6, 1),
        parameters=Parameters(date(2015, 1, 1), Decimal("300")),  # the line fell: relative
        today=TODAY,
    )
    await _save(files, rechecked)
    # the re-check's category takes effect when an approver confirms it
    rechecked.confirm_category(actor=APPROVER, confirmed_on=date(2026, 6, 2), today=TODAY)
    await _save(files, rechecked)
    assert rechecked.category is Category.RELATIVE

    returned.exit(
        actor=CLERK,
        exited_on=date(2026, 6, 1),
        # 解困 (a 脱困 would rest on six months of recorded means, which this history lacks)
        kind=ExitKind.RELIEVED,
        reason=ExitReason.SAFETY_NET,
        explanation="纳入低保",
        evidence=("低保证",),
        today=TODAY,
    )
    await _save(files, returned)
    returned.return_(
        actor=CLERK,
        returned_on=date(2026, 8, 1),
        reason="突发残疾",
        cause=Cause.DISABILITY,
        today=TODAY,
    )
    await _save(files, returned)
    assert returned.primary_cause is Cause.DISABILITY

    moved.transfer(
        actor=CLERK,
        transferred_on=date(2026, 6, 1),
        to_unit=OTHER_DISTRICT_BASE,
        reason="职工调动工作单位",
        today=TODAY,
    )
    await _save(files, moved)
    return [revised.id, rechecked.id, returned.id, moved.id]


@pytest.fixture
async def province(files: PgFileRepository, store: PostgresEventStore) -> Province:
    # one command at a time (not the bulk path): every event has its own recorded instant, and
    # all files at once, so that at an instant in the middle most files are half-way through
    await demo.build(files=files, clock=FixedClock(), count=FILES, seed=11, concurrency=FILES)
    crafted = await crafted_files(files)
    events = [e for e in await store.read_log(limit=100_000) if e.type.startswith("household.")]
    return Province(events, crafted)


def replayed(
    codec: EventCodec, events: Sequence[StoredEvent], cutoff: datetime
) -> dict[UUID, HouseholdFile]:
    """The reference: every household file replayed through the aggregate from its events
    recorded before `cutoff` (file id → aggregate)."""
    streams: dict[UUID, list[StoredEvent]] = {}
    for e in events:
        if e.recorded_at < cutoff:
            streams.setdefault(e.stream_id, []).append(e)
    found: dict[UUID, HouseholdFile] = {}
    for file_id, stream in streams.items():
        household = replay(codec, sorted(stream, key=lambda e: e.version))
        assert isinstance(household, HouseholdFile)
        found[file_id] = household
    return found


def in_scope(households: Mapping[UUID, HouseholdFile], scope: str) -> Fields:
    return {
        file_id: electronic_fields(h)
        for file_id, h in households.items()
        if UnitCode(h.establishing_unit).is_within(UnitCode(scope))
    }


async def folded(store: PostgresEventStore, scope: str, cutoff: datetime) -> Fields:
    rows = await reconcile.files_as_of(
        store, EventCodec(keyring=store.keyring), UnitCode(scope), cutoff
    )
    return {file_id: electronic_fields(row) for file_id, row in rows.items()}


def differences(fast: Fields, reference: Fields) -> list[str]:
    """What differs, file by file, for a readable failure."""
    out = [f"{i} only folded" for i in fast.keys() - reference.keys()]
    out += [f"{i} only replayed" for i in reference.keys() - fast.keys()]
    out += [
        f"{i}: folded {fast[i]} replayed {reference[i]}"
        for i in fast.keys() & reference.keys()
        if fast[i] != reference[i]
    ]
    return out


def transfer_scopes(events: Sequence[StoredEvent], codec: EventCodec) -> set[str]:
    """The units files were transferred from and to, and their districts."""
    scopes: set[str] = set()
    for e in events:
        if e.type == "household.transferred":
            fields = codec.decode_fields(e.type, e.payload)
            for unit in (fields.from_unit, fields.to_unit):
                scopes |= {unit, unit[:6]}
    return scopes


class TestTheFoldSaysWhatTheAggregateSays:
    @pytest.mark.parametrize(
        ("read_batch", "files_a_query"),
        [(reconcile.READ_BATCH, reconcile.FILES_A_QUERY), (7, 13)],
        ids=["default batches", "streams split across batches and queries"],
    )
    async def test_for_every_file_and_subtree_at_instants_through_the_history(
        self,
        province: Province,
        store: PostgresEventStore,
        monkeypatch: pytest.MonkeyPatch,
        read_batch: int,
        files_a_query: int,
    ) -> None:
        monkeypatch.setattr(reconcile, "READ_BATCH", read_batch)
        monkeypatch.setattr(reconcile, "FILES_A_QUERY", files_a_query)
        codec = EventCodec(keyring=store.keyring)
        everything = province.instants()
        # eight instants across the whole history (the first sees nothing yet, the last all)
        spread = [everything[len(everything) * k // 8] for k in range(8)]
        spread.append(everything[-1] + timedelta(seconds=1))
        scopes = {"13", "130306", "130302", BASE, OTHER_DISTRICT_BASE}
        scopes |= transfer_scopes(province.events, codec)
        # and every instant of the hand-made files, in the subtrees they move between
        checks = [(t, sorted(scopes)) for t in spread]
        checks += [
            (t, ["13", "130306", "130302", BASE, OTHER_DISTRICT_BASE])
            for t in province.instants(province.crafted)
        ]

        compared = 0
        for cutoff, subtrees in checks:
            households = replayed(codec, province.events, cutoff)
            for scope in subtrees:
                reference = in_scope(households, scope)
                fast = await folded(store, scope, cutoff)
                assert not differences(fast, reference), (scope, cutoff)
                compared += len(reference)

        assert compared > 1000

    async def test_the_history_checked_has_what_the_fold_must_get_right(
        self, province: Province, store: PostgresEventStore
    ) -> None:
        """Not a vacuous comparison: the province has every folded kind of event, files that
        change between the instants checked, and files that change subtree."""
        assert {e.type for e in province.events} >= as_of.FOLDED
        everything = province.instants()
        middle, end = everything[len(everything) // 2], everything[-1] + timedelta(seconds=1)
        then, now = await folded(store, "13", middle), await folded(store, "13", end)
        assert 0 < len(then) < len(now)
        assert sum(then[i] != now[i] for i in then) > FILES // 4
        revised, rechecked, returned, moved = province.crafted
        assert now[revised]["head_name"] == "张新名"
        assert now[rechecked]["category"] == "相对困难"
        assert now[returned]["causes"].startswith("因残")
        assert moved in await folded(store, "130306", province.instants([moved])[-1])
        assert moved not in await folded(store, "130306", end)
        assert moved in await folded(store, "130302", end)


class TestASheetThatIsNoTable:
    async def test_is_refused_records_nothing_and_leaves_the_connection_free(
        self, files: PgFileRepository, database_url: str
    ) -> None:
        await files.save(*(approved_file() for _ in range(3)))
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
        assert pool is not None
        try:
            store = PostgresEventStore(pool)

            with pytest.raises(InvalidValue) as refused:
                await reconciled(store, "一些文字，不是台账\n".encode())
            # the pool's one connection is back: a read left holding it would hang this run
            again = await asyncio.wait_for(reconciled(store, "户主姓名,身份证号码\n".encode()), 60)

            assert "表头" in refused.value.zh
            assert again.summary is not None
            assert again.summary.files == 3
            started = "SELECT count(*) FROM events WHERE type = 'reconciliation.started'"
            assert await pool.fetchval(started) == 1
        finally:
            await pool.close()


async def reconciled(store: PostgresEventStore, data: bytes) -> Reconciliation:
    return await reconcile.reconcile(
        store=store,
        codec=EventCodec(keyring=store.keyring),
        hasher=lambda number: number.encode(),
        actor=Actor("inspector", "130306", Role.INSPECTOR),
        scope="130306",
        ledger_date=datetime.now(CHINA).date(),
        data=data,
        name="ledger.csv",
    )


def test_every_household_event_is_either_folded_or_known_to_change_nothing_compared() -> None:
    household = {name for name in EVENT_NAMES if name.startswith("household.")}

    assert household == as_of.FOLDED | as_of.UNCHANGING
    assert not as_of.FOLDED & as_of.UNCHANGING


class TestProgress:
    async def test_is_reported_as_the_files_are_read(
        self, files: PgFileRepository, store: PostgresEventStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await files.save(*(approved_file() for _ in range(5)))
        monkeypatch.setattr(reconcile, "READ_BATCH", 4)  # four events at a time: a file a batch
        heard: list[tuple[int, int]] = []

        read = await reconcile.files_as_of(
            store,
            EventCodec(),
            UnitCode("130306"),
            datetime.now().astimezone() + timedelta(seconds=1),
            progress=lambda done, total: heard.append((done, total)),
        )

        assert len(read) == 5
        assert heard[-1] == (5, 5)
        assert [done for done, _ in heard] == sorted(done for done, _ in heard)
        assert any(done < 5 for done, _ in heard)

    async def test_the_cli_draws_a_bar_for_the_read(
        self, files: PgFileRepository, database_url: str, tmp_path: Path
    ) -> None:
        made = [approved_file() for _ in range(3)]
        await files.save(*made)
        ledger = tmp_path / "ledger.csv"
        ledger.write_bytes(
            f"户主姓名,身份证号码\n{made[0].head.name},{made[0].head.id_number}\n".encode("gb18030")
        )

        status, output = bangfu_on_a_terminal(
            "reconcile",
            str(ledger),
            "--unit",
            "130306",
            "--out",
            str(tmp_path / "report.xlsx"),
            database_url=database_url,
            tmp_path=tmp_path,
        )

        assert status == 0, output
        assert re.search(r"核对 reading the files.*3/3", output), output
        assert "匹配 1 户" in output
