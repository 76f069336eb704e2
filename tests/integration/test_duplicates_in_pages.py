"""The duplicates list (一户一档, `GET /duplicates`) in cursor pages with a total, read from the
table the ledger keeps of every duplicated person's files (migration 0024): a walk through the
pages meets every person once and whole, whatever the page size and the subtree; the total is
the subtree's people; row-level security shows a reader only its subtree's rows; and the table
stays right — the same as a rebuild's and as its migration fills it — after a file is cancelled
as a duplicate, exits or is erased."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from adapters.pg import reads
from adapters.pg.migrations import available
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.services import demo
from adapters.services.erasure import erase_personal_data
from domain.errors import InvalidValue
from domain.household import Head, HouseholdFile, Member
from domain.privacy import mask_id
from domain.values import Actor, ExitKind, ExitReason, MemberStatus, Relation, Role
from tests.builders import APPRAISAL, APPROVAL, TODAY, FixedClock, application, verification
from tests.integration.test_projections import rebuild_all, runner

TABLE = "SELECT * FROM ledger_duplicate_files ORDER BY id_hash, file_id"
ROOTS = ("13", "1303", "130306", "130306001", "130306002", "130302", "130302001", "1301")


def head() -> Head:
    """A new person, to head files."""
    fields: dict[str, Any] = application()
    person: Head = fields["head"]
    return person


def kept_masked(household: HouseholdFile) -> str:
    return mask_id(household.head.id_number)


def member_of(person: Head) -> Member:
    return Member("王某", Relation.SPOUSE, person.id_number, MemberStatus.UNEMPLOYED)


def filed(
    unit: str, person: Head, day: int, *, members: tuple[Member, ...] = (), approved: bool = False
) -> HouseholdFile:
    """A file of `unit` headed by `person`, applied for on January `day`, verified (with
    `members`) and appraised, or approved."""
    clerk = Actor("clerk", unit, Role.CLERK)
    household = HouseholdFile.receive_application(
        actor=clerk, today=TODAY, **application(unit, head=person, applied_on=date(2026, 1, day))
    )
    found = verification()
    if members:
        found["members"] = members
    household.verify(actor=clerk, today=TODAY, **found)
    household.appraise(actor=clerk, today=TODAY, **APPRAISAL)
    if approved:
        approver = Actor("approver", unit[:6], Role.APPROVER)
        household.approve(actor=approver, today=TODAY, **APPROVAL)
    return household


@dataclass
class World:
    """The people in several files, each as the files that hold it."""

    people: dict[str, list[HouseholdFile]]

    def units(self, name: str) -> list[str]:
        return [f.establishing_unit for f in self.people[name]]


async def world(store: PostgresEventStore, files: PgFileRepository) -> World:
    """Duplicates in and out of district 130306: a person in three files (two inside, one in
    130302), people only outside, people of one household whose first file is the same (a head
    and a member of file `shared`, each also filed elsewhere), and files of nobody twice."""
    await PgUnitDirectory(store.pool).load(demo.units())
    three, outside, spouse_head, spouse = head(), head(), head(), head()
    shared = filed("130306001", spouse_head, 1, members=(member_of(spouse),))
    people: dict[str, list[HouseholdFile]] = {
        "three": [
            filed("130306001", three, 5),
            filed("130306002", three, 6),
            filed("130302001", three, 2),
        ],
        "outside": [filed("130302001", outside, 3), filed("130302002", outside, 4)],
        "head of shared": [shared, filed("130306002", spouse_head, 20)],
        "member of shared": [shared, filed("130302001", spouse, 21)],
    }
    for n in range(5):  # pairs within the district, applied for on different days
        person = head()
        people[f"pair {n}"] = [filed("130306001", person, 10 + n), filed("130306003", person, 15)]
    singles = [filed("130306001", head(), 7), filed("130302001", head(), 8)]
    await files.save(*{f.id: f for fs in people.values() for f in fs}.values(), *singles)
    await runner(store, batch=5).catch_up()
    return World(people)


def within(unit: str, root: str) -> bool:
    if len(root) >= 9:
        return unit == root
    return unit.startswith(root)


async def walk(pool: asyncpg.Pool, root: str, limit: int) -> tuple[list[reads.Duplicate], int]:
    """Every page of the list, in order; and the total each page gave (all the same)."""
    found: list[reads.Duplicate] = []
    totals, after = set(), None
    while True:
        page, total, after = await reads.duplicates(pool, root, limit=limit, after=after)
        assert len(page) <= limit
        found += page
        totals.add(total)
        if after is None:
            (only,) = totals
            return found, only


def shown(found: list[reads.Duplicate]) -> list[tuple[UUID, ...]]:
    return [tuple(f["file_id"] for f in d.files) for d in found]


class TestThePages:
    @pytest.mark.parametrize("limit", [1, 2, 3, 50])
    async def test_meet_every_person_of_the_subtree_once_and_whole(
        self, store: PostgresEventStore, files: PgFileRepository, limit: int
    ):
        w = await world(store, files)

        for root in ROOTS:
            paged, total = await walk(store.pool, root, limit)
            whole, whole_total, last = await reads.duplicates(store.pool, root, limit=1000)

            expected = sorted(
                tuple(sorted(f.id for f in fs if within(f.establishing_unit, root)))
                for fs in w.people.values()
                if any(within(f.establishing_unit, root) for f in fs)
            )
            assert last is None
            assert shown(paged) == shown(whole), root
            assert sorted(tuple(sorted(p)) for p in shown(paged)) == expected, root
            assert total == whole_total == len(paged) == len(expected), root

    async def test_count_the_files_outside_the_subtree_and_mask_the_head(
        self, store: PostgresEventStore, files: PgFileRepository
    ):
        w = await world(store, files)

        found, _, _ = await reads.duplicates(store.pool, "130306", limit=50)

        three = next(d for d in found if d.files[0]["file_id"] == w.people["three"][0].id)
        assert [f["unit"] for f in three.files] == ["130306001", "130306002"]
        assert three.others == 1
        assert three.id_masked == kept_masked(w.people["three"][0])
        member = next(d for d in found if [f["role"] for f in d.files] == ["member"])
        assert member.id_masked is None  # heads no file the district sees
        assert member.others == 1

    async def test_order_people_by_the_first_file_the_reader_sees(
        self, store: PostgresEventStore, files: PgFileRepository
    ):
        w = await world(store, files)

        found, _, _ = await reads.duplicates(store.pool, "130306", limit=50)

        firsts = [(d.files[0]["applied_on"], d.files[0]["file_id"]) for d in found]
        assert firsts == sorted(firsts)
        # the head and the member of `shared` both come at it, one after the other
        assert firsts[:2] == [(date(2026, 1, 1), w.people["head of shared"][0].id)] * 2

    async def test_split_no_household_whose_people_share_their_first_file_at_a_page_edge(
        self, store: PostgresEventStore, files: PgFileRepository
    ):
        w = await world(store, files)
        shared = w.people["head of shared"][0].id

        first, _, after = await reads.duplicates(store.pool, "130306", limit=1)
        second, _, _ = await reads.duplicates(store.pool, "130306", limit=1, after=after)

        firsts = [first[0].files[0], second[0].files[0]]
        assert [f["file_id"] for f in firsts] == [shared, shared]
        assert sorted(f["role"] for f in firsts) == ["head", "member"]
        assert sorted(len(d.files) for d in (*first, *second)) == [1, 2]  # each person whole

    async def test_go_on_from_an_opaque_cursor_refused_to_another_list(
        self, store: PostgresEventStore, files: PgFileRepository
    ):
        await world(store, files)
        _, _, after = await reads.duplicates(store.pool, "13", limit=2)
        assert after is not None

        text = after.encode()

        assert reads.Cursor.decode(text, "duplicates") == after
        assert "#" not in text  # opaque: no day, rank or file id readable as such
        with pytest.raises(InvalidValue):
            reads.Cursor.decode(text, "approvals")
        with pytest.raises(InvalidValue):
            reads.Cursor.decode(
                reads.Cursor("approvals", TODAY, UUID(int=1)).encode(), "duplicates"
            )
        for forged in ("2026-01-05#99999999999999999999", "2026-01-05#-1", "2026-01-05", "x#1"):
            with pytest.raises(InvalidValue):
                reads.Cursor.decode(
                    reads.Cursor("duplicates", forged, UUID(int=1)).encode(), "duplicates"
                )


class TestRowLevelSecurity:
    async def test_shows_a_reader_only_its_subtrees_rows_even_with_no_condition(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await world(store, files)
        query = "SELECT DISTINCT unit FROM ledger_duplicate_files"

        seen = {}
        for root in ("130306", "130302", "130306001", "1301"):
            async with reads.scoped(pool, root) as conn:
                seen[root] = {r["unit"] for r in await conn.fetch(query)}
        await rebuild_all(store)
        async with reads.scoped(pool, "130302") as conn:
            after_rebuild = {r["unit"] for r in await conn.fetch(query)}

        assert seen == {
            "130306": {"130306001", "130306002", "130306003"},
            "130302": {"130302001", "130302002"},
            "130306001": {"130306001"},
            "1301": set(),
        }
        assert after_rebuild == seen["130302"]
        owner = {r["unit"] for r in await pool.fetch(query)}
        assert owner == seen["130306"] | seen["130302"]


class TestTheTable:
    async def test_is_what_a_rebuild_and_its_migration_make_of_the_same_log(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await world(store, files)
        live = [tuple(r) for r in await pool.fetch(TABLE)]

        await rebuild_all(store)
        rebuilt = [tuple(r) for r in await pool.fetch(TABLE)]
        await pool.execute("TRUNCATE ledger_duplicate_files")
        await pool.execute(next(m for m in available() if m.version == 24).sql)
        migrated = [tuple(r) for r in await pool.fetch(TABLE)]

        assert live == rebuilt == migrated
        assert len(live) == 3 + 2 + 2 + 2 + 5 * 2

    async def test_loses_a_person_whose_duplicates_are_cancelled_or_exit_and_stays_right(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ):
        await PgUnitDirectory(pool).load(demo.units())
        person, other = head(), head()
        kept, cancelled, moved = (
            filed("130306001", person, 2, approved=True),
            filed("130306002", person, 3, approved=True),
            filed("130302001", person, 4, approved=True),
        )
        pair = [filed("130306001", other, 5), filed("130306003", other, 6)]
        await files.save(kept, cancelled, moved, *pair)
        await runner(store).catch_up()
        before, total_before, _ = await reads.duplicates(pool, "13", limit=50)

        # the district cancels its second file as 重复建档, naming the one it keeps
        again = await files.get(cancelled.id)
        again.exit(
            actor=Actor("approver", "130306", Role.APPROVER),
            exited_on=TODAY,
            kind=ExitKind.CANCELLED,
            reason=ExitReason.DUPLICATE,
            explanation="与另一档案重复",
            evidence=("核查记录",),
            kept_file_id=kept.id,
            today=TODAY,
        )
        await files.save(again)
        await runner(store).catch_up()
        after_cancel, _, _ = await reads.duplicates(pool, "13", limit=50)
        # the last other file of the person exits: it is nobody's duplicate any more
        gone = await files.get(moved.id)
        gone.exit(
            actor=Actor("approver", "130302", Role.APPROVER),
            exited_on=TODAY,
            kind=ExitKind.CANCELLED,
            reason=ExitReason.MOVED,
            explanation="调离本地",
            evidence=("调动证明",),
            today=TODAY,
        )
        await files.save(gone)
        # and the cancelled file's personal data is erased
        await erase_personal_data(
            files=files,
            clock=FixedClock(),
            actor=Actor("admin", "130306", Role.ADMIN),
            file_id=cancelled.id,
            reason="本人申请",
        )
        await runner(store).catch_up()
        after, total_after, _ = await reads.duplicates(pool, "13", limit=50)
        live = [tuple(r) for r in await pool.fetch(TABLE)]
        await rebuild_all(store)

        assert total_before == 2
        assert sorted(shown(before)) == sorted(
            [(kept.id, cancelled.id, moved.id), tuple(f.id for f in pair)]
        )
        assert sorted(shown(after_cancel)) == sorted(
            [(kept.id, moved.id), tuple(f.id for f in pair)]
        )
        assert shown(after) == [tuple(f.id for f in pair)]
        assert total_after == 1
        assert live == [tuple(r) for r in await pool.fetch(TABLE)]
        assert {r[1] for r in live} == {f.id for f in pair}
