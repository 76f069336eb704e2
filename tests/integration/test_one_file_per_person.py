"""一户一档 on a real PostgreSQL: the claim on a person is taken with the append, so of two
files for one person exactly one is stored — also when they are opened at the same moment — and
a closed file lets its people go (docs/rules.md, `one_file_per_person`)."""

from __future__ import annotations

import asyncio
import io
from uuid import UUID

import asyncpg
import pytest
from openpyxl import Workbook

from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.services import demo, importer
from domain.commands import Apply, Exit, Return, Revise, Verify
from domain.errors import OutOfScope
from domain.household import Head, HouseholdFile, Member
from domain.onefile import AlreadyFiled, claims
from domain.privacy import keyed_hash
from domain.usecases import act_on_file, open_file
from domain.values import Actor, Cause, ExitKind, ExitReason, MemberStatus, Relation, Role
from tests.builders import (
    APPROVER,
    BASE,
    OTHER_BASE,
    TODAY,
    FixedClock,
    ProvincePolicies,
    application,
    approved_file,
    person_id,
    verification,
)
from tests.integration.test_paper_against_electronic import (
    IMPORT_HEADERS,
    import_rows,
    seed_policy,
)

KEY = b"k" * 32
CLOCK = FixedClock()
POLICIES = ProvincePolicies()
OTHER_DISTRICT_BASE = "130302001"


def hasher(number: str) -> bytes:
    return keyed_hash(KEY, number)


@pytest.fixture
def claiming(store: PostgresEventStore, codec: EventCodec) -> PgFileRepository:
    """The repository as the composition root builds it: with the hash key, keeping claims."""
    return PgFileRepository(store, codec, hasher=hasher)


def clerk(unit: str = BASE) -> Actor:
    return Actor(f"clerk-{unit}", unit, Role.CLERK)


def applying(unit: str, head_id: str) -> Apply:
    fields = application(unit)
    head: Head = fields.pop("head")
    return Apply(head=Head(head.name, head_id, head.phone), **fields)


async def open_for(files: PgFileRepository, unit: str, head_id: str) -> HouseholdFile:
    return await open_file(
        files=files, clock=CLOCK, actor=clerk(unit), command=applying(unit, head_id)
    )


async def act(
    files: PgFileRepository, file_id: UUID, command: object, actor: Actor | None = None
) -> HouseholdFile:
    return await act_on_file(
        files=files,
        clock=CLOCK,
        actor=actor or clerk(),
        file_id=file_id,
        command=command,  # type: ignore[arg-type]  # a lifecycle command of each test
        policies=POLICIES,
    )


def member(id_number: str) -> Member:
    return Member("孙二", Relation.SIBLING, id_number, MemberStatus.EMPLOYED)


def verifying(*members: Member) -> Verify:
    fields = verification(members=members)
    del fields["parameters"]
    return Verify(**fields)


async def events_of(pool: asyncpg.Pool, file_id: UUID) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", file_id))


async def holder_of(pool: asyncpg.Pool, id_number: str) -> UUID | None:
    return await pool.fetchval(
        "SELECT file_id FROM person_claims WHERE person_hash = $1", hasher(id_number)
    )


class TestOpeningAFile:
    async def test_for_a_person_who_heads_another_open_file_is_refused_storing_nothing(
        self, claiming: PgFileRepository, pool: asyncpg.Pool
    ):
        person = person_id()
        first = await open_for(claiming, BASE, person)
        second = applying(OTHER_BASE, person)

        with pytest.raises(AlreadyFiled) as refused:
            await open_file(files=claiming, clock=CLOCK, actor=clerk(OTHER_BASE), command=second)

        assert refused.value.field == "head.id_number"
        assert await pool.fetchval("SELECT count(*) FROM events WHERE unit = $1", OTHER_BASE) == 0
        assert await holder_of(pool, person) == first.id

    async def test_for_a_person_who_is_a_member_of_another_open_file_is_refused(
        self, claiming: PgFileRepository
    ):
        person = person_id()
        household = await open_for(claiming, BASE, person_id())
        await act(claiming, household.id, verifying(member(person)))

        with pytest.raises(AlreadyFiled) as refused:
            await open_for(claiming, OTHER_BASE, person)

        # a clerk of 130306002 may not see 130306001's file: it is outside the caller's subtree
        assert (refused.value.holder, refused.value.holder_unit) == (None, None)
        assert refused.value.field == "head.id_number"

    async def test_outside_the_callers_subtree_names_neither_file_nor_unit(
        self, claiming: PgFileRepository
    ):
        person = person_id()
        await open_for(claiming, BASE, person)

        with pytest.raises(AlreadyFiled) as refused:
            await open_for(claiming, OTHER_DISTRICT_BASE, person)

        assert (refused.value.holder, refused.value.holder_unit) == (None, None)
        assert BASE not in refused.value.zh
        assert BASE not in refused.value.message


class TestTwoClerksOpeningFilesForOnePersonAtOnce:
    async def test_exactly_one_of_many_wins(self, claiming: PgFileRepository, pool: asyncpg.Pool):
        person = person_id()
        units = [f"130306{n:03d}" for n in range(1, 9)]

        outcomes = await asyncio.gather(
            *(open_for(claiming, unit, person) for unit in units), return_exceptions=True
        )

        stored = [o for o in outcomes if isinstance(o, HouseholdFile)]
        refused = [o for o in outcomes if isinstance(o, AlreadyFiled)]
        assert (len(stored), len(refused)) == (1, len(units) - 1)
        assert await holder_of(pool, person) == stored[0].id
        assert await pool.fetchval("SELECT count(DISTINCT stream_id) FROM events") == 1

    async def test_the_second_waits_for_the_first_and_is_refused_once_it_commits(
        self, claiming: PgFileRepository, pool: asyncpg.Pool
    ):
        person = person_id()
        first = HouseholdFile.receive_application(
            actor=clerk(BASE), today=TODAY, **{**application(BASE), "head": Head("甲", person)}
        )
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            await claiming.bound(conn).save(first)  # claimed, not yet committed
            second = asyncio.create_task(open_for(claiming, OTHER_BASE, person))
            await waiting_on_a_lock(pool)
            await transaction.commit()

        with pytest.raises(AlreadyFiled):
            await second
        assert await holder_of(pool, person) == first.id
        assert await pool.fetchval("SELECT count(DISTINCT stream_id) FROM events") == 1

    async def test_the_second_wins_when_the_first_rolls_back(
        self, claiming: PgFileRepository, pool: asyncpg.Pool
    ):
        person = person_id()
        first = HouseholdFile.receive_application(
            actor=clerk(BASE), today=TODAY, **{**application(BASE), "head": Head("甲", person)}
        )
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            await claiming.bound(conn).save(first)
            second = asyncio.create_task(open_for(claiming, OTHER_BASE, person))
            await waiting_on_a_lock(pool)
            await transaction.rollback()

        stored = await second
        assert await holder_of(pool, person) == stored.id


async def waiting_on_a_lock(pool: asyncpg.Pool) -> None:
    """Until some session waits on a lock (the second insert of the same person's hash)."""
    for _ in range(2000):
        if await pool.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted"):
            return
        await asyncio.sleep(0.005)
    raise AssertionError("no session came to wait on the claim")


class TestPeopleLeavingAFile:
    async def test_a_revision_that_adds_a_member_another_file_holds_is_refused(
        self, claiming: PgFileRepository, pool: asyncpg.Pool
    ):
        person = person_id()
        await open_for(claiming, OTHER_BASE, person)
        household = approved_file()
        await claiming.save(household)
        version = household.version

        with pytest.raises(AlreadyFiled) as refused:
            await act(claiming, household.id, revising(member(person)))

        assert refused.value.field == "members[0].id_number"
        assert await events_of(pool, household.id) == version

    async def test_a_member_removed_by_a_revision_may_be_filed_again(
        self, claiming: PgFileRepository, pool: asyncpg.Pool
    ):
        household = approved_file()
        await claiming.save(household)
        spouse = household.members[0].id_number
        await act(claiming, household.id, revising(member(person_id())))

        own = await open_for(claiming, OTHER_BASE, spouse)

        assert await holder_of(pool, spouse) == own.id

    async def test_an_exit_lets_the_people_go_and_a_return_is_refused_once_filed_elsewhere(
        self, claiming: PgFileRepository, pool: asyncpg.Pool
    ):
        household = approved_file()
        await claiming.save(household)
        head = household.head.id_number
        await act(claiming, household.id, moved_away())
        elsewhere = await open_for(claiming, OTHER_BASE, head)

        with pytest.raises(AlreadyFiled):
            await act(claiming, household.id, coming_back())

        assert (await claiming.get(household.id)).status == "cancelled"
        assert await holder_of(pool, head) == elsewhere.id

    async def test_a_return_takes_the_people_back_when_nobody_else_holds_them(
        self, claiming: PgFileRepository, pool: asyncpg.Pool
    ):
        household = approved_file()
        await claiming.save(household)
        await act(claiming, household.id, moved_away())
        assert await holder_of(pool, household.head.id_number) is None

        await act(claiming, household.id, coming_back())

        assert await holder_of(pool, household.head.id_number) == household.id


class TestADuplicateStoredAsItCame:
    """A pulled file is stored as its node wrote it: a duplicate is recorded, not refused, and
    resolved by cancelling one file as 重复建档 naming the one kept."""

    async def test_is_recorded_and_takes_the_claim_when_the_other_is_cancelled_as_duplicate(
        self, claiming: PgFileRepository, files: PgFileRepository, pool: asyncpg.Pool
    ):
        person = person_id()
        kept_here = await open_for(claiming, BASE, person)
        pulled = approved_file(OTHER_DISTRICT_BASE)
        pulled.revise(
            actor=clerk(OTHER_DISTRICT_BASE),
            effective_on=TODAY,
            reason="成员变化",
            members=(member(person),),
            today=TODAY,
        )
        await files.save(pulled)  # as a pull stores it: no claims taken
        async with pool.acquire() as conn, conn.transaction():
            await claiming.claim_streams(conn, [pulled.id])
        recorded = await pool.fetch("SELECT file_id FROM person_claim_duplicates")
        province = Actor("approver-province", "13", Role.APPROVER)

        await act(claiming, kept_here.id, duplicate_of(pulled.id), actor=province)

        assert [r["file_id"] for r in recorded] == [pulled.id]
        assert await holder_of(pool, person) == pulled.id
        assert await pool.fetchval("SELECT count(*) FROM person_claim_duplicates") == 0
        with pytest.raises(AlreadyFiled):
            await open_for(claiming, BASE, person)

    async def test_cancelling_names_a_kept_file_the_approver_may_see(
        self, claiming: PgFileRepository
    ):
        household = await open_for(claiming, BASE, person_id())
        elsewhere = await open_for(claiming, OTHER_DISTRICT_BASE, person_id())
        district = Actor("approver-wang", "130306", Role.APPROVER)

        with pytest.raises(OutOfScope):  # the same 404 as a file that does not exist
            await act(claiming, household.id, duplicate_of(elsewhere.id), actor=district)

    async def test_filling_the_claims_from_the_log_keeps_the_first_file_and_records_the_rest(
        self,
        store: PostgresEventStore,
        codec: EventCodec,
        files: PgFileRepository,
        pool: asyncpg.Pool,
    ):
        person = person_id()
        first = HouseholdFile.receive_application(
            actor=clerk(BASE), today=TODAY, **{**application(BASE), "head": Head("甲", person)}
        )
        await files.save(first)
        later = HouseholdFile.receive_application(
            actor=clerk(OTHER_BASE),
            today=TODAY,
            **{**application(OTHER_BASE), "head": Head("甲", person)},
        )
        await files.save(later)
        filling = PgFileRepository(store, codec, hasher=hasher)

        filled = await filling.fill_claims()
        again = await filling.fill_claims()

        assert filled == (2, 1)
        assert again is None
        assert await holder_of(pool, person) == first.id
        assert await pool.fetchval("SELECT file_id FROM person_claim_duplicates") == later.id


class TestAnImport:
    async def test_refuses_a_row_whose_person_another_file_holds_and_stores_the_rest(
        self, claiming: PgFileRepository, store: PostgresEventStore, pool: asyncpg.Pool
    ):
        await seed_policy(store)
        rows, _ = import_rows(4, 0.0, seed=31)
        taken = str(rows[2][1])
        holder = await open_for(claiming, OTHER_BASE, taken)

        report = await run_import(claiming, store, sheet(rows))

        assert [(e.row, e.column) for e in report.refused] == [(6, "身份证号码")]
        assert str(holder.id) in report.refused[0].reason
        assert OTHER_BASE in report.refused[0].reason
        assert report.created == 3
        assert await holder_of(pool, taken) == holder.id

    async def test_refuses_a_row_whose_person_an_earlier_row_holds(
        self, claiming: PgFileRepository, store: PostgresEventStore, pool: asyncpg.Pool
    ):
        await seed_policy(store)
        rows, _ = import_rows(3, 0.0, seed=32)
        members = ["", "", f"王某/兄弟姐妹/{rows[0][1]}/在职"]

        report = await run_import(claiming, store, sheet(rows, members))

        assert [(e.row, e.column) for e in report.refused] == [(6, "家庭成员")]
        assert "第4行" in report.refused[0].reason
        assert report.created == 2

    async def test_records_a_file_cancelled_as_duplicate_holding_nobody(
        self, claiming: PgFileRepository, store: PostgresEventStore, pool: asyncpg.Pool
    ):
        await seed_policy(store)
        rows, _ = import_rows(1, 0.0, seed=33)
        exit_columns = {
            "退出类别": ["注销"],
            "退出时间": ["2026-06-30"],
            "退出原因": ["重复"],
            "退出证明材料": ["核查记录"],
        }

        report = await run_import(claiming, store, sheet(rows, extra=exit_columns))

        assert (report.created, report.refused) == (1, [])
        assert await holder_of(pool, str(rows[0][1])) is None
        assert await open_for(claiming, OTHER_BASE, str(rows[0][1]))


def sheet(
    rows: list[list[object]],
    members: list[str] | None = None,
    extra: dict[str, list[str]] | None = None,
) -> bytes:
    extra = extra or {}
    book = Workbook(write_only=True)
    page = book.create_sheet("档案")
    page.append(["抚宁区困难职工档案（导入）"])
    page.append(["填报单位：130306001"])
    page.append([*IMPORT_HEADERS, "家庭成员", *extra])
    for i, row in enumerate(rows):
        page.append([*row, members[i] if members else "", *(v[i] for v in extra.values())])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def run_import(
    files: PgFileRepository, store: PostgresEventStore, data: bytes
) -> importer.ImportReport:
    return await importer.import_files(
        files=files,
        codec=EventCodec(keyring=store.keyring),
        book=await PgPolicies(store, EventCodec(keyring=store.keyring)).book(),
        actor=APPROVER,  # of the district: it may see every file of 130306
        unit=BASE,
        data=data,
        name="files.xlsx",
        today=TODAY,
    )


def revising(*members: Member) -> Revise:
    return Revise(effective_on=TODAY, reason="家庭成员变化", members=members)


def moved_away() -> Exit:
    return Exit(
        exited_on=TODAY,
        kind=ExitKind.CANCELLED,
        reason=ExitReason.MOVED,
        explanation="调离本地",
        evidence=("调动证明",),
    )


def coming_back() -> Return:
    return Return(returned_on=TODAY, reason="再次失业", cause=Cause.UNEMPLOYMENT)


def duplicate_of(kept: UUID) -> Exit:
    return Exit(
        exited_on=TODAY,
        kind=ExitKind.CANCELLED,
        reason=ExitReason.DUPLICATE,
        explanation="与另一档案重复",
        evidence=("核查记录",),
        kept_file_id=kept,
    )


class TestTheDemoProvince:
    """The demo plants no duplicate (adapters/services/demo.py `PLANTED_FINDINGS`): it builds
    through a repository that keeps claims, on both of its paths."""

    @pytest.mark.parametrize("bulk", [False, True])
    async def test_builds_with_each_person_held_by_one_file(
        self, claiming: PgFileRepository, pool: asyncpg.Pool, bulk: bool
    ):
        await demo.build(files=claiming, clock=CLOCK, count=60, seed=11, bulk=bulk)

        households = await claiming.every_file()
        held = {c.id_number for h in households for c in claims(h)}
        assert await pool.fetchval("SELECT count(*) FROM person_claims") == len(held) > 60
        assert await pool.fetchval("SELECT count(*) FROM person_claim_duplicates") == 0

    async def test_a_demo_added_to_a_node_draws_again_whom_the_node_holds(
        self, claiming: PgFileRepository
    ):
        await demo.build(files=claiming, clock=CLOCK, count=30, seed=11)
        first = {c.id_number for h in await claiming.every_file() for c in claims(h)}
        same_people = demo.Planner(today=CLOCK.today(), seed=11)
        plans = [same_people.plan() for _ in range(30)]

        drawn = await demo.unfiled(claiming, demo.Planner(today=CLOCK.today(), seed=12), plans)

        people = [n for p in drawn for n in p.people]
        assert len(drawn) == 30
        assert people
        assert not first.intersection(people)
        assert await claiming.held(people) == set()
        assert await claiming.held(sorted(first)) == first
