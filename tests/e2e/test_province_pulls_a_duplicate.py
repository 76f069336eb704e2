"""一户一档 across nodes: the province pulls a district's file for a person the province already
holds in a file of its own (a district without a node). The pull stores the district's events as
they are — one writer per stream — and records the duplicate instead of refusing the page; the
province cancels its own file as 重复建档 naming the pulled one, which then holds the person."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest

from adapters.pg.codec import EventCodec
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.sync.node import Downstream, NodeSettings
from adapters.sync.pull import Puller
from domain.commands import Apply, Exit
from domain.household import Head, HouseholdFile
from domain.onefile import AlreadyFiled
from domain.privacy import keyed_hash
from domain.usecases import act_on_file, open_file
from domain.values import Actor, ExitKind, ExitReason, Role
from tests.builders import TODAY, FixedClock, ProvincePolicies, application, person_id
from tests.e2e.sync_helpers import DISTRICT, HASH_KEY, load_units, served, sync_token

pytestmark = pytest.mark.slow

DISTRICT_BASE = "130306001"
PROVINCE_HELD_BASE = "130302001"  # a district with no node of its own: the province writes it


def hasher(number: str) -> bytes:
    return keyed_hash(HASH_KEY.encode(), number)


def headed_by(unit: str, person: str) -> HouseholdFile:
    clerk = Actor("clerk", unit, Role.CLERK)
    fields = {**application(unit), "head": Head("孙𠀀", person, "13912345678")}
    return HouseholdFile.receive_application(actor=clerk, today=TODAY, **fields)


async def holder(pool: asyncpg.Pool, person: str) -> UUID | None:
    return await pool.fetchval(
        "SELECT file_id FROM person_claims WHERE person_hash = $1", hasher(person)
    )


async def test_a_pulled_duplicate_is_recorded_and_resolved_by_the_province(
    node_database: Callable[[int], str], tmp_path: Path
) -> None:
    district_url, province_url = node_database(0), node_database(0)
    district = await asyncpg.create_pool(district_url, min_size=1, max_size=4)
    province = await asyncpg.create_pool(province_url, min_size=1, max_size=6)
    try:
        for pool in (district, province):
            await load_units(pool)
        person = person_id()
        at_district = PgFileRepository(PostgresEventStore(district), EventCodec(), hasher=hasher)
        at_province = PgFileRepository(PostgresEventStore(province), EventCodec(), hasher=hasher)
        pulled = headed_by(DISTRICT_BASE, person)
        await at_district.save(pulled)
        own = headed_by(PROVINCE_HELD_BASE, person)
        await at_province.save(own)

        async with served(district_url, tmp_path / "d", NodeSettings(DISTRICT, DISTRICT)) as url:
            pulling = Puller(
                province,
                Downstream(DISTRICT, url, sync_token(DISTRICT)),
                claims=at_province.claim_streams,
            )
            await pulling.catch_up()
            await pulling.close()
        stored = await province.fetchval(
            "SELECT count(*) FROM events WHERE stream_id = $1", pulled.id
        )
        recorded = await province.fetchval("SELECT file_id FROM person_claim_duplicates")
        held_before = await holder(province, person)
        await act_on_file(
            files=at_province,
            clock=FixedClock(),
            actor=Actor("approver-province", "13", Role.APPROVER),
            file_id=own.id,
            command=Exit(
                exited_on=TODAY,
                kind=ExitKind.CANCELLED,
                reason=ExitReason.DUPLICATE,
                explanation="与抚宁区档案重复",
                evidence=("核查记录",),
                kept_file_id=pulled.id,
            ),
            policies=ProvincePolicies(),
        )

        assert (stored, recorded, held_before) == (1, pulled.id, own.id)
        assert await holder(province, person) == pulled.id
        assert await province.fetchval("SELECT count(*) FROM person_claim_duplicates") == 0
        with pytest.raises(AlreadyFiled):
            await open_file(
                files=at_province,
                clock=FixedClock(),
                actor=Actor("clerk", PROVINCE_HELD_BASE, Role.CLERK),
                command=Apply(**{**application(PROVINCE_HELD_BASE), "head": Head("孙𠀀", person)}),
            )
    finally:
        await district.close()
        await province.close()
