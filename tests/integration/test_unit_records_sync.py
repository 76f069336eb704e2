"""A union's own records travel upstream with its files: the sync feed of a district carries the
events of its base unions' record streams (filed under the union), and the puller takes them as
events of its subtree; another district's feed holds none of them."""

from __future__ import annotations

from uuid import uuid4

import asyncpg

from adapters.pg.repository import PgFileRepository
from adapters.pg.rows import START
from adapters.pg.store import PostgresEventStore
from adapters.pg.unit_records import PgUnitRecords
from adapters.sync import feed, pull
from adapters.sync.feed import MSGPACK, decode_page
from domain.unit_records import AssessmentItem, Vote, unit_records_id
from domain.values import Actor, Role
from tests.builders import BASE, FixedClock, approved_file


async def page_of(pool: asyncpg.Pool, subtree: str) -> feed.Page:
    async with pool.acquire() as conn:
        plan = await feed.plan_page(conn, node=subtree, subtree=subtree, after=START, limit=1000)
    return decode_page(b"".join([p async for p in feed.stream_page(pool, plan, MSGPACK)]), MSGPACK)


async def test_the_feed_carries_a_unions_meetings_and_assessments(
    pool: asyncpg.Pool, store: PostgresEventStore, files: PgFileRepository
):
    household = approved_file()
    await files.save(household)
    records = PgUnitRecords(store, files.codec)
    clerk = Actor("clerk-li", BASE, Role.CLERK)
    await records.record_meeting(
        actor=clerk,
        clock=FixedClock(),
        files=files,
        unit=BASE,
        meeting_id=uuid4(),
        held_on=FixedClock().day,
        place="会议室",
        chair="刘建国",
        recorder="陈丽",
        attendees=["刘建国", "陈丽", "王海燕"],
        expected=3,
        summary="评议",
        votes=[Vote(household.id, 3, 0, 0)],
    )
    await records.assess(
        actor=clerk,
        clock=FixedClock(),
        unit=BASE,
        period="2026",
        recorded_on=FixedClock().day,
        items=[AssessmentItem("解困脱困一户", "一户一策", "完成")],
    )

    district = await page_of(pool, BASE[:6])
    elsewhere = await page_of(pool, "130302")

    carried = [
        (e.type, e.unit, e.refers_to)
        for e in district.events
        if e.stream_id == unit_records_id(BASE)
    ]
    assert carried == [
        ("unit.opened", BASE, None),
        ("unit.meeting_held", BASE, None),
        ("unit.file_voted", BASE, household.id),
        ("unit.assessment_recorded", BASE, None),
    ]
    assert pull.outside(district.events, BASE[:6]) == []
    assert [e for e in elsewhere.events if e.stream_id == unit_records_id(BASE)] == []
