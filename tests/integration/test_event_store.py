"""The event store's contract, on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import asyncpg
import pytest

from adapters.pg.codec import EventCodec
from adapters.pg.migrations import available, migrate
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import START, Cursor, PostgresEventStore, StreamHead, chain
from domain import usecases
from domain.commands import Apply, Approve, Assist, Reject
from domain.errors import (
    ConcurrencyError,
    DomainError,
    InvalidIdNumber,
    NotFound,
    NotPermitted,
)
from domain.household import Head, HouseholdFile
from domain.values import Actor, Role, Status
from tests.builders import (
    APPRAISAL,
    APPROVAL,
    APPROVER,
    ASSISTANCE,
    CLERK,
    FixedClock,
    ProvincePolicies,
    application,
    approved_file,
    verification,
)
from tests.tampering import tamper


async def count_events(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events"))


class TestAppendingAndReading:
    async def test_a_saved_file_reads_back_equal_to_the_original(self, files: PgFileRepository):
        household = approved_file()

        await files.save(household)
        loaded = await files.get(household.id)

        assert loaded.version == household.version == 4
        assert (loaded.status, loaded.category, loaded.means) == (
            household.status,
            household.category,
            household.means,
        )
        assert loaded.head == household.head

    async def test_a_stream_reads_up_to_a_version(self, files: PgFileRepository):
        household = approved_file()
        await files.save(household)

        at_two = await files.get(household.id, version=2)

        assert (at_two.version, at_two.status) == (2, Status.VERIFIED)

    async def test_a_stream_reads_up_to_a_recorded_time(
        self, files: PgFileRepository, store: PostgresEventStore
    ):
        household = approved_file()
        await files.save(household)
        rows = await store.read_stream(household.id)

        as_of = await files.get(household.id, as_of=rows[2].recorded_at)
        before_all = rows[0].recorded_at - timedelta(microseconds=1)

        assert as_of.version == 3
        with pytest.raises(NotFound):
            await files.get(household.id, as_of=before_all)

    async def test_an_unknown_file_is_not_found(self, files: PgFileRepository):
        with pytest.raises(NotFound):
            await files.get(uuid4())

    async def test_several_streams_append_in_one_transaction(
        self, files: PgFileRepository, store: PostgresEventStore
    ):
        first, second = approved_file(), approved_file()

        await files.save(first, second)

        assert [len(await store.read_stream(f.id)) for f in (first, second)] == [4, 4]

    async def test_stored_types_are_registered_names_not_module_paths(
        self, files: PgFileRepository, pool: asyncpg.Pool
    ):
        household = approved_file()
        await files.save(household)

        rows = await pool.fetch("SELECT type, payload FROM events ORDER BY version")

        assert [r["type"] for r in rows] == [
            "household.applied",
            "household.verified",
            "household.appraised",
            "household.approved",
        ]
        assert not any(b"domain." in bytes(r["payload"]) for r in rows)
        assert not any(b"originator" in bytes(r["payload"]) for r in rows)


class TestOptimisticConcurrency:
    async def test_a_stale_version_raises_and_writes_nothing(
        self, files: PgFileRepository, pool: asyncpg.Pool
    ):
        household = approved_file()
        await files.save(household)
        first = await files.get(household.id)
        second = await files.get(household.id)
        first.assist(actor=CLERK, today=FixedClock().day, **ASSISTANCE)
        await files.save(first)
        second.assist(actor=CLERK, today=FixedClock().day, **ASSISTANCE)

        with pytest.raises(ConcurrencyError):
            await files.save(second)

        assert await count_events(pool) == 5

    async def test_a_stale_stream_in_a_multi_stream_append_writes_nothing_of_any_stream(
        self, files: PgFileRepository, pool: asyncpg.Pool
    ):
        one, two = approved_file(), approved_file()
        await files.save(one, two)
        stale_two = await files.get(two.id)
        fresh_two = await files.get(two.id)
        fresh_two.assist(actor=CLERK, today=FixedClock().day, **ASSISTANCE)
        await files.save(fresh_two)
        one_again = await files.get(one.id)
        for f in (one_again, stale_two):
            f.assist(actor=CLERK, today=FixedClock().day, **ASSISTANCE)

        with pytest.raises(ConcurrencyError):
            await files.save(one_again, stale_two)

        assert await count_events(pool) == 9
        assert (await files.get(one.id)).version == 4

    async def test_a_writer_that_claims_a_head_the_stream_never_had_is_refused(
        self,
        store: PostgresEventStore,
        files: PgFileRepository,
        codec: EventCodec,
        pool: asyncpg.Pool,
    ):
        household = approved_file()
        await files.save(household)
        name, payload = codec.encode(approved_file().collect_events()[1])
        forged_head = bytes(32)

        row = chain(forged_head, household.id, 5, name, payload, datetime.now(UTC), "130306001")

        with pytest.raises(ConcurrencyError):
            await store.append([row], [StreamHead(household.id, 4, forged_head)])
        assert await count_events(pool) == 4

    async def test_twenty_concurrent_commands_on_one_file_give_exactly_one_winner_per_version(
        self, files: PgFileRepository, pool: asyncpg.Pool
    ):
        household = approved_file()
        await files.save(household)
        clock = FixedClock()

        async def assist() -> bool:
            try:
                await usecases.act_on_file(
                    files=files,
                    policies=ProvincePolicies(),
                    clock=clock,
                    actor=CLERK,
                    file_id=household.id,
                    command=Assist(**ASSISTANCE),
                    expected_version=4,
                )
            except ConcurrencyError:
                return False
            return True

        results = await asyncio.gather(*(assist() for _ in range(20)))

        assert results.count(True) == 1
        assert (await files.get(household.id)).version == 5
        assert await count_events(pool) == 5


class TestRefusedCommandsLeaveNothing:
    """Whatever the reason for a refusal, the store holds exactly what it held before."""

    @pytest.mark.parametrize(
        ("command", "actor_is_base_approver", "fields"),
        [
            pytest.param(
                Assist, False, {**ASSISTANCE, "amount": Decimal("-1")}, id="negative money"
            ),
            pytest.param(
                Assist, False, {**ASSISTANCE, "kind": "pocket_money"}, id="unknown enum value"
            ),
            pytest.param(
                Approve,
                False,
                {
                    "approved_on": FixedClock().day,
                    "file_level": "district",
                    "poverty_line": Decimal("550"),
                },
                id="wrong state",
            ),
            pytest.param(
                Reject,
                True,
                {"rejected_on": FixedClock().day, "reason": "x"},
                id="wrong state for a base-level approver",
            ),
        ],
    )
    async def test_a_refused_command(
        self,
        files: PgFileRepository,
        pool: asyncpg.Pool,
        command: type[Assist | Approve | Reject],
        actor_is_base_approver: bool,
        fields: dict,
    ):

        household = approved_file()
        await files.save(household)
        actor = Actor("x", "130306001", Role.APPROVER) if actor_is_base_approver else APPROVER

        with pytest.raises(DomainError):
            await usecases.act_on_file(
                files=files,
                policies=ProvincePolicies(),
                clock=FixedClock(),
                actor=actor,
                file_id=household.id,
                command=command(**fields),
            )

        assert await count_events(pool) == 4

    async def test_an_application_with_a_bad_id_number(
        self, files: PgFileRepository, pool: asyncpg.Pool
    ):

        with pytest.raises(InvalidIdNumber):
            await usecases.open_file(
                files=files,
                clock=FixedClock(),
                actor=CLERK,
                command=Apply(**application(head=Head("张三", "11010519491231002Y"))),
            )

        assert await count_events(pool) == 0

    async def test_an_approval_by_a_base_level_union(
        self, files: PgFileRepository, pool: asyncpg.Pool
    ):

        household = HouseholdFile.receive_application(
            actor=CLERK, today=FixedClock().day, **application()
        )
        household.verify(actor=CLERK, today=FixedClock().day, **verification())
        household.appraise(actor=CLERK, today=FixedClock().day, **APPRAISAL)
        await files.save(household)

        with pytest.raises(NotPermitted):
            await usecases.act_on_file(
                files=files,
                policies=ProvincePolicies(),
                clock=FixedClock(),
                actor=Actor("x", "130306001", Role.APPROVER),
                file_id=household.id,
                command=Approve(**APPROVAL),
            )

        assert await count_events(pool) == 3

    async def test_a_stale_expected_version(self, files: PgFileRepository, pool: asyncpg.Pool):
        household = approved_file()
        await files.save(household)

        with pytest.raises(ConcurrencyError):
            await usecases.act_on_file(
                files=files,
                policies=ProvincePolicies(),
                clock=FixedClock(),
                actor=CLERK,
                file_id=household.id,
                command=Assist(**ASSISTANCE),
                expected_version=3,
            )

        assert await count_events(pool) == 4


class TestBulkAppend:
    async def test_many_new_files_are_appended_through_copy(
        self, files: PgFileRepository, store: PostgresEventStore
    ):
        batch = [approved_file() for _ in range(300)]

        await files.save_many(batch)

        assert len(await store.read_log(START, limit=5000)) == 1200
        assert (await store.verify()).ok

    async def test_a_bulk_append_with_one_conflicting_stream_writes_nothing(
        self, files: PgFileRepository, pool: asyncpg.Pool
    ):
        existing = approved_file()
        await files.save(existing)
        clash = await files.get(existing.id)
        winner = await files.get(existing.id)
        winner.assist(actor=CLERK, today=FixedClock().day, **ASSISTANCE)
        await files.save(winner)
        clash.assist(actor=CLERK, today=FixedClock().day, **ASSISTANCE)
        batch = [approved_file() for _ in range(50)] + [clash]

        with pytest.raises(ConcurrencyError):
            await files.save_many(batch)

        assert await count_events(pool) == 5

    async def test_a_files_next_append_chains_onto_its_bulk_appended_events(
        self, files: PgFileRepository, store: PostgresEventStore
    ):
        household = approved_file()
        await files.save_many([household])

        household.assist(actor=CLERK, today=FixedClock().day, **ASSISTANCE)
        await files.save(household)

        assert (await store.verify()).ok


class TestConsumerPositions:
    async def test_a_position_is_saved_with_the_consumers_own_writes(self, store, pool):
        async with pool.acquire() as conn, conn.transaction():
            await store.save_position(conn, "ledger", Cursor(10, 20))

        assert await store.position("ledger") == Cursor(10, 20)

    async def test_a_rolled_back_transaction_keeps_the_old_position(self, store, pool):
        async with pool.acquire() as conn, conn.transaction():
            await store.save_position(conn, "ledger", Cursor(10, 20))

        async def fail_half_way() -> None:
            async with pool.acquire() as conn, conn.transaction():
                await store.save_position(conn, "ledger", Cursor(11, 30))
                raise RuntimeError("the consumer failed half-way")

        with pytest.raises(RuntimeError):
            await fail_half_way()

        assert await store.position("ledger") == Cursor(10, 20)

    async def test_an_unknown_consumer_starts_at_the_beginning(self, store):
        assert await store.position("nobody") == START


class TestHashChain:
    async def test_an_untouched_log_verifies(
        self, files: PgFileRepository, store: PostgresEventStore
    ):
        await files.save(approved_file(), approved_file())

        report = await store.verify()

        assert report.ok
        assert (report.streams, report.events) == (2, 8)

    @pytest.mark.parametrize(
        ("column", "change"),
        [
            (
                "payload",
                "payload = convert_to(replace(convert_from(payload, 'UTF8'), '9600', '1600'),"
                " 'UTF8')",
            ),
            ("type", "type = 'household.visited'"),
            ("recorded_at", "recorded_at = recorded_at + interval '1 day'"),
            ("unit", "unit = '130306002'"),
            ("refers_to", "refers_to = gen_random_uuid()"),
        ],
    )
    async def test_an_altered_event_is_named_as_the_first_broken_link(
        self,
        files: PgFileRepository,
        store: PostgresEventStore,
        pool: asyncpg.Pool,
        column: str,
        change: str,
    ):
        good, bad = approved_file(), approved_file()
        await files.save(good, bad)
        original = await pool.fetchval(
            f"SELECT {column} FROM events WHERE stream_id = $1 AND version = 2", bad.id
        )

        await tamper(
            pool, f"UPDATE events SET {change} WHERE stream_id = $1 AND version = 2", bad.id
        )
        changed = await pool.fetchval(
            f"SELECT {column} IS DISTINCT FROM $2 FROM events WHERE stream_id = $1 AND version = 2",
            bad.id,
            original,
        )
        report = await store.verify()

        assert changed
        assert [(b.stream_id, b.version) for b in report.broken] == [(bad.id, 2)]

    async def test_a_deleted_event_is_reported_as_a_missing_version(
        self, files: PgFileRepository, store: PostgresEventStore, pool: asyncpg.Pool
    ):
        household = approved_file()
        await files.save(household)

        await tamper(pool, "DELETE FROM events WHERE stream_id = $1 AND version = 3", household.id)
        report = await store.verify()

        assert [(b.stream_id, b.version) for b in report.broken] == [(household.id, 3)]
        assert "missing" in report.broken[0].reason


class TestMigrations:
    async def test_applying_migrations_again_changes_nothing(self, pool: asyncpg.Pool):
        async with pool.acquire() as conn:
            applied = await migrate(conn)
            versions = [
                r["version"]
                for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
            ]

        assert applied == []
        assert versions == [m.version for m in available()]

    async def test_a_fresh_database_is_migrated_from_nothing(self, server_url: str, make_database):
        url = make_database()
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("DROP TABLE events, consumer_positions, schema_migrations")

            applied = await migrate(conn)
            again = await migrate(conn)

            assert applied == [m.version for m in available()]
            assert again == []
        finally:
            await conn.close()


async def test_the_file_repository_chains_transferred_files_under_their_new_unit(
    files: PgFileRepository, pool: asyncpg.Pool
):
    household = approved_file()
    household.transfer(
        actor=CLERK,
        transferred_on=FixedClock().day,
        to_unit="130306002",
        reason="调动",
        today=FixedClock().day,
    )

    await files.save(household)

    units = [r["unit"] for r in await pool.fetch("SELECT unit FROM events ORDER BY version")]
    assert units == ["130306001"] * 4 + ["130306002"]


def test_codec_round_trips_every_event_of_a_full_lifecycle(codec: EventCodec):
    household = approved_file()
    for event in household.collect_events():
        name, payload = codec.encode(event)

        decoded = codec.decode(
            name,
            payload,
            stream_id=event.originator_id,
            version=event.originator_version,
            recorded_at=event.timestamp,
        )

        assert decoded == event
