"""Personal data at rest: encrypted in the stored payloads, only masked and keyed-hashed in the
read models; keys rotated without touching an event; a household's personal data erased by
destroying its key, with every hash chain still intact."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date
from uuid import UUID

import asyncpg
import msgspec
import pytest

from adapters.pg.codec import EventCodec
from adapters.pg.projector import ProjectionRunner, rebuild_all
from adapters.pg.repository import PgFileRepository, replay
from adapters.pg.store import PostgresEventStore, Wakeups
from adapters.pii.keyring import Keyring
from adapters.pii.sealing import SHREDDED, KeyEncryptionKeys, KeyProblem, new_key_text
from adapters.runtime.bootstrap import read_models
from adapters.services import demo
from adapters.services.erasure import erase_personal_data
from domain.errors import WrongState
from domain.household import HouseholdFile, Member
from domain.privacy import ERASED, keyed_hash
from domain.values import Actor, ExitKind, ExitReason, MemberStatus, Relation, Role
from tests.builders import (
    APPROVER,
    CLERK,
    TODAY,
    FixedClock,
    application,
    approved_file,
    person_id,
)

HASH_KEY = b"personal-data-test-hash-key-" + b"k" * 8
ADMIN = Actor("admin-zhao", "130306", Role.ADMIN)


def runner(store: PostgresEventStore, codec: EventCodec) -> ProjectionRunner:
    return ProjectionRunner(store, codec, read_models(lambda n: keyed_hash(HASH_KEY, n)))


async def personal_values(files: PgFileRepository, ids: list[UUID]) -> dict[str, set[str]]:
    """Every personal value of these files, read back (decrypted) through the repository."""
    found: dict[str, set[str]] = {
        "id_number": set(),
        "phone": set(),
        "bank_card": set(),
        "health": set(),
        "name": set(),
        "address": set(),
    }
    for file_id in ids:
        household = await files.get(file_id)
        people = [household.head, *household.members]
        for person in people:
            for field, seen in found.items():
                value = getattr(person, field, "")
                if value:
                    seen.add(value)
    return found


def leaks(text: bytes, values: dict[str, set[str]], *, fields: tuple[str, ...]) -> list[str]:
    """The values found in `text`: numbers anywhere, words as the value of their own key."""
    out = []
    for field in fields:
        for value in values[field]:
            if field in {"id_number", "phone", "bank_card"}:
                needle = value.encode()
            else:
                needle = b'"' + field.encode() + b'":' + msgspec.json.encode(value)
            if needle in text:
                out.append(f"{field}={value}")
    return out


async def table_text(pool: asyncpg.Pool, table: str) -> bytes:
    rows = await pool.fetch(f"SELECT * FROM {table}")
    return "\n".join(str(tuple(r)) for r in rows).encode()


async def closed_file(files: PgFileRepository, **head: str) -> HouseholdFile:
    household = approved_file()
    if head:
        household = HouseholdFile.receive_application(
            actor=CLERK,
            today=TODAY,
            **application(head=replace(application()["head"], **head)),
        )
    await files.save(household)
    household = await files.get(household.id)
    if household.status.value != "approved":
        household.reject(actor=CLERK, rejected_on=TODAY, reason="不符合条件", today=TODAY)
    else:
        household.exit(
            actor=APPROVER,
            exited_on=TODAY,
            kind=ExitKind.CANCELLED,
            reason=ExitReason.MOVED,
            explanation="迁出本地",
            evidence=("户口迁移证明",),
            today=TODAY,
        )
    await files.save(household)
    return household


class TestTheStoredEvents:
    async def test_hold_no_personal_value_in_clear_after_a_demo(
        self, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await demo.build(files=files, clock=FixedClock(), count=12, seed=3)
        await demo.build(files=files, clock=FixedClock(), count=12, seed=4, bulk=True)
        ids = [
            r[0]
            for r in await pool.fetch(
                "SELECT stream_id FROM events WHERE type = 'household.applied'"
            )
        ]
        values = await personal_values(files, ids)
        assert all(values.values())

        payloads = b"\n".join(bytes(r[0]) for r in await pool.fetch("SELECT payload FROM events"))

        assert leaks(payloads, values, fields=tuple(values)) == []
        assert payloads.count(b'"enc:1:') >= sum(map(len, values.values()))

    async def test_keep_everything_but_personal_data_readable(
        self, files: PgFileRepository, pool: asyncpg.Pool
    ):
        household = approved_file()
        await files.save(household)

        raw = await pool.fetchval(
            "SELECT payload FROM events WHERE stream_id = $1 AND version = 1", household.id
        )
        stored = msgspec.json.decode(raw)

        assert stored["establishing_unit"] == household.establishing_unit
        assert stored["head"]["employer"] == household.head.employer
        assert stored["head"]["id_number"].startswith("enc:1:")

    async def test_read_back_as_they_were_recorded(self, files: PgFileRepository):
        household = approved_file()
        await files.save(household)

        back = await PgFileRepository(files.store, files.codec).get(household.id)

        assert back.head == household.head
        assert back.members == household.members

    async def test_of_a_file_written_before_encryption_still_read_and_gain_a_key_for_new_ones(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        household = approved_file()
        plain = PgFileRepository(PostgresEventStore(pool), EventCodec())  # an older version
        await plain.save(household)

        again = await files.get(household.id)
        again.revise(
            actor=CLERK,
            effective_on=TODAY,
            reason="新增家庭成员",
            members=(
                *again.members,
                Member("张小", Relation.CHILD, person_id(date(2015, 1, 1)), MemberStatus.STUDENT),
            ),
            today=TODAY,
        )
        await files.save(again)

        assert (await files.get(household.id)).head == household.head
        revised = await pool.fetchval(
            "SELECT payload FROM events WHERE stream_id = $1 AND type = 'household.revised'",
            household.id,
        )
        assert b'"enc:1:' in revised
        assert await pool.fetchval(
            "SELECT count(*) FROM personal_keys WHERE stream_id = $1", household.id
        )


class TestTheReadModels:
    async def test_keep_no_clear_id_number_phone_card_or_health(
        self, store: PostgresEventStore, codec: EventCodec, files: PgFileRepository, pool
    ):
        await demo.build(files=files, clock=FixedClock(), count=20, seed=5, bulk=True)
        await runner(store, codec).catch_up()
        ids = [r[0] for r in await pool.fetch("SELECT file_id FROM ledger")]
        values = await personal_values(files, ids)

        for table in ("ledger", "ledger_people", "stats_facts", "stats_stock", "stats_flow"):
            text = await table_text(pool, table)

            assert leaks(text, values, fields=("id_number", "phone", "bank_card")) == [], table
            assert not any(h.encode() in text for h in values["health"] - {"健康"}), table

    async def test_show_masked_numbers_read_from_the_encrypted_events(
        self, store: PostgresEventStore, codec: EventCodec, files: PgFileRepository, pool
    ):
        household = approved_file()
        await files.save(household)

        await runner(store, codec).catch_up()

        row = await pool.fetchrow(
            "SELECT id_masked, head_name, phone_masked FROM ledger WHERE file_id = $1",
            household.id,
        )
        number = household.head.id_number
        assert tuple(row) == (number[:6] + "*" * 8 + number[-4:], "张𠀀", "139****5678")


class TestKeyRotation:
    async def test_rewraps_every_data_key_and_changes_no_event(
        self, store: PostgresEventStore, files: PgFileRepository, keyring: Keyring, pool
    ):
        await demo.build(files=files, clock=FixedClock(), count=15, seed=6, bulk=True)
        ids = [r[0] for r in await pool.fetch("SELECT DISTINCT stream_id FROM personal_keys")]
        before_values = await personal_values(files, ids)
        log = await pool.fetch("SELECT stream_id, version, payload, hash FROM events")
        old = keyring.keks

        keyring.keks = KeyEncryptionKeys.parse(f"{old.text()}\n2:{new_key_text()}")
        rewrapped = await keyring.rewrap(batch=4)

        assert rewrapped == len(ids)
        assert await pool.fetchval("SELECT array_agg(DISTINCT kek_version) FROM personal_keys") == [
            2
        ]
        assert await pool.fetch("SELECT stream_id, version, payload, hash FROM events") == log
        assert (await store.verify()).ok
        # the old KEK retired: a process holding only the new one reads everything
        retired = Keyring(pool, KeyEncryptionKeys({2: keyring.keks.keys[2]}))
        fresh = PgFileRepository(
            PostgresEventStore(pool, keyring=retired), EventCodec(keyring=retired)
        )
        assert await personal_values(fresh, ids) == before_values

    async def test_never_revives_a_key_destroyed_meanwhile(
        self, files: PgFileRepository, keyring: Keyring, pool
    ):
        household = await closed_file(files)
        await erase_personal_data(
            files=files, clock=FixedClock(), actor=ADMIN, file_id=household.id, reason="本人申请"
        )

        keyring.keks = KeyEncryptionKeys.parse(f"{keyring.keks.text()}\n2:{new_key_text()}")
        await keyring.rewrap()

        row = await pool.fetchrow(
            "SELECT wrapped, kek_version FROM personal_keys WHERE stream_id = $1", household.id
        )
        assert tuple(row) == (None, None)

    async def test_a_kek_that_is_not_the_one_the_database_knows_refuses_to_start(
        self, keyring: Keyring, pool: asyncpg.Pool
    ):
        async with pool.acquire() as conn:
            await keyring.check(conn)
            other = Keyring(pool, KeyEncryptionKeys.generate())

            with pytest.raises(KeyProblem, match="version 1"):
                await other.check(conn)


class TestErasure:
    async def test_leaves_the_files_personal_data_erased_and_the_others_as_they_were(
        self, files: PgFileRepository
    ):
        erased, kept = await closed_file(files), await closed_file(files)

        await erase_personal_data(
            files=files, clock=FixedClock(), actor=ADMIN, file_id=erased.id, reason="本人申请"
        )

        keyring = Keyring(files.store.pool, files.store.keyring.keks)  # type: ignore[union-attr]
        fresh = PgFileRepository(  # another process: nothing cached
            PostgresEventStore(files.store.pool, keyring=keyring), EventCodec(keyring=keyring)
        )
        gone = await fresh.get(erased.id)
        assert (gone.head.name, gone.head.id_number, gone.head.phone) == (ERASED,) * 3
        assert {m.id_number for m in gone.members} == {ERASED}
        assert gone.status.value == "cancelled"
        assert (await fresh.get(kept.id)).head == kept.head

    async def test_reads_erased_in_every_earlier_version_too(self, files: PgFileRepository):
        household = await closed_file(files)

        await erase_personal_data(
            files=files, clock=FixedClock(), actor=ADMIN, file_id=household.id, reason="本人申请"
        )

        first = await PgFileRepository(files.store, files.codec).get(household.id, version=1)
        assert first.head.id_number == ERASED

    async def test_leaves_every_hash_chain_intact(
        self, store: PostgresEventStore, files: PgFileRepository
    ):
        await demo.build(files=files, clock=FixedClock(), count=5, seed=8, bulk=True)
        household = await closed_file(files)

        await erase_personal_data(
            files=files, clock=FixedClock(), actor=ADMIN, file_id=household.id, reason="本人申请"
        )

        report = await store.verify()
        assert report.ok
        assert report.events == await store.pool.fetchval("SELECT count(*) FROM events")

    async def test_is_recorded_with_who_when_and_why_and_nothing_personal(
        self, store: PostgresEventStore, files: PgFileRepository
    ):
        household = await closed_file(files)

        await erase_personal_data(
            files=files, clock=FixedClock(), actor=ADMIN, file_id=household.id, reason="本人申请"
        )

        last = (await store.read_stream(household.id))[-1]
        assert last.type == "household.personal_data_erased"
        assert msgspec.json.decode(last.payload) == {
            "actor": {"user": "admin-zhao", "unit": "130306", "role": "admin"},
            "erased_on": TODAY.isoformat(),
            "reason": "本人申请",
        }

    async def test_removes_the_people_so_a_shared_person_no_longer_matches(
        self, store: PostgresEventStore, codec: EventCodec, files: PgFileRepository, pool
    ):
        twin = person_id()
        erased = await closed_file(files, id_number=twin)
        other = approved_file()
        other = HouseholdFile.receive_application(
            actor=CLERK, today=TODAY, **application(head=replace(other.head, id_number=twin))
        )
        await files.save(other)
        await runner(store, codec).catch_up()
        shared = "SELECT count(DISTINCT file_id) FROM ledger_people WHERE id_hash = $1"
        assert await pool.fetchval(shared, keyed_hash(HASH_KEY, twin)) == 2

        await erase_personal_data(
            files=files, clock=FixedClock(), actor=ADMIN, file_id=erased.id, reason="本人申请"
        )
        await runner(store, codec).catch_up()

        assert await pool.fetchval(shared, keyed_hash(HASH_KEY, twin)) == 1
        row = await pool.fetchrow(
            "SELECT head_name, id_masked, id_hash, status FROM ledger WHERE file_id = $1",
            erased.id,
        )
        assert tuple(row) == (ERASED, ERASED, b"", "rejected")

    async def test_gives_the_same_ledger_kept_up_and_rebuilt(
        self, store: PostgresEventStore, codec: EventCodec, files: PgFileRepository, pool
    ):
        await demo.build(files=files, clock=FixedClock(), count=6, seed=9, bulk=True)
        household = await closed_file(files)
        await runner(store, codec).catch_up()
        await erase_personal_data(
            files=files, clock=FixedClock(), actor=ADMIN, file_id=household.id, reason="本人申请"
        )
        await runner(store, codec).catch_up()
        kept_up = await pool.fetch("SELECT * FROM ledger ORDER BY file_id")
        people = await pool.fetch("SELECT * FROM ledger_people ORDER BY file_id, id_hash")

        await rebuild_all(store, codec, runner(store, codec).projections)

        assert await pool.fetch("SELECT * FROM ledger ORDER BY file_id") == kept_up
        assert await pool.fetch("SELECT * FROM ledger_people ORDER BY file_id, id_hash") == people

    async def test_refuses_every_command_afterwards(self, files: PgFileRepository):
        household = await closed_file(files)
        await erase_personal_data(
            files=files, clock=FixedClock(), actor=ADMIN, file_id=household.id, reason="本人申请"
        )

        again = await files.get(household.id)
        with pytest.raises(WrongState):
            again.exit(
                actor=APPROVER,
                exited_on=TODAY,
                kind=ExitKind.DELETED,
                reason=ExitReason.ERRONEOUS_RECORD,
                explanation="误录",
                evidence=("核查记录",),
                today=TODAY,
            )

    async def test_reaches_the_key_cache_of_another_process(
        self, pool: asyncpg.Pool, files: PgFileRepository
    ):
        household = await closed_file(files)
        elsewhere = Keyring(pool, files.store.keyring.keks)  # type: ignore[union-attr]
        await elsewhere.load([household.id])
        listening = Wakeups(pool, on_key_destroyed=elsewhere.heard)
        await listening.start()
        try:
            await erase_personal_data(
                files=files, clock=FixedClock(), actor=ADMIN, file_id=household.id, reason="本人"
            )
            for _ in range(200):
                if elsewhere.entry(household.id) is SHREDDED:
                    break
                await asyncio.sleep(0.01)
        finally:
            await listening.stop()

        assert elsewhere.entry(household.id) is SHREDDED

    async def test_of_a_file_stored_before_encryption_counts_what_stays_in_clear(
        self, pool: asyncpg.Pool, files: PgFileRepository
    ):
        household = approved_file()
        await PgFileRepository(PostgresEventStore(pool), EventCodec()).save(household)
        household = await files.get(household.id)
        household.exit(
            actor=APPROVER,
            exited_on=TODAY,
            kind=ExitKind.CANCELLED,
            reason=ExitReason.MOVED,
            explanation="迁出本地",
            evidence=("户口迁移证明",),
            today=TODAY,
        )
        await files.save(household)

        erased = await erase_personal_data(
            files=files, clock=FixedClock(), actor=ADMIN, file_id=household.id, reason="本人"
        )

        assert erased.plaintext_events == 2  # applied and verified, stored in clear
        events = await files.store.read_stream(household.id)
        assert replay(files.codec, events).head.id_number == ERASED  # type: ignore[union-attr]
