"""The forms of a unit's own records and plans — 民主评议会议记录, 精准帮扶任务清单 (PDF and xlsx),
解困脱困考核表 — printed for a demo unit: every field's value is on the paper, each page has the
right size and carries the print's code, and the print is recorded like the others."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
import pytest_asyncio
from openpyxl import load_workbook

from adapters.forms.household import day
from adapters.forms.unit import TASK_HEADINGS, period_bounds, plan_in_force
from adapters.pg.codec import EventCodec
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.unit_records import PgUnitRecords
from adapters.pii.keyring import Keyring
from adapters.runtime.secrets import load_pii_keys
from adapters.services import demo
from adapters.services import forms as printing
from domain.errors import NotFound, OutOfScope, RuleViolated
from domain.household import HouseholdFile
from domain.printing import UnitForm
from domain.unit_records import AssessmentItem, Meeting, Vote, unit_records_id
from domain.values import Actor, Role
from tests.builders import FixedClock
from tests.integration.test_printed_forms import (
    A4,
    INSPECTOR,
    KEY,
    flat,
    printable,
    runtime_of,
    size,
    text_of,
)

SHARED = pytest.mark.asyncio(loop_scope="module")
LANDSCAPE = (842, 595)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rt(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Any]:
    """A demo province (each appraisal citing the meeting its union recorded)."""
    pool = await asyncpg.create_pool(module_database_url, min_size=1, max_size=8)
    assert pool is not None
    try:
        keyring = Keyring(pool, load_pii_keys(None, Path(tmp_path_factory.mktemp("unitforms"))))
        store = PostgresEventStore(pool, keyring=keyring)
        files = PgFileRepository(store, EventCodec(keyring=keyring))
        shared = await runtime_of(pool, store, files)
        shared.records = PgUnitRecords(store, files.codec)
        await demo.build(files=files, clock=FixedClock(), count=40, seed=3)
        yield shared
    finally:
        await pool.close()


async def busiest_union(rt: Any) -> tuple[str, str, list[Meeting]]:
    """The base union with the most meetings in one year: (union, year, its meetings)."""
    meetings = await rt.records.meetings(actor=INSPECTOR, unit="13")
    by: dict[tuple[str, int], list[Meeting]] = {}
    for m in meetings:
        by.setdefault((m.unit, m.held_on.year), []).append(m)
    (unit, year), found = max(by.items(), key=lambda kv: (len(kv[1]), kv[0]))
    return unit, str(year), found


@SHARED
class TestTheDemo:
    async def test_every_appraisal_cites_a_meeting_of_its_union_that_voted_on_it(self, rt: Any):
        everything = await rt.files.every_file()
        appraised = 0

        for household in everything:
            rows = await rt.store.read_stream(household.id)
            for row in rows:
                event = rt.codec.decode(
                    row.type,
                    row.payload,
                    stream_id=row.stream_id,
                    version=row.version,
                    recorded_at=row.recorded_at,
                )
                if isinstance(event, HouseholdFile.Appraised):
                    appraised += 1
                    assert event.meeting_id is not None
                    # the union the file was in then (a transferred file has moved since)
                    held = await rt.records.meeting(row.unit, event.meeting_id)
                    assert held is not None
                    assert held.vote_of(household.id) is not None
                    assert held.held_on == event.appraised_on

        assert appraised > 0

    async def test_a_vote_is_on_the_files_trail(self, rt: Any):
        _, _, meetings = await busiest_union(rt)
        voted = meetings[0].votes[0].file_id

        trail = await rt.files.trail(voted)

        assert "unit.file_voted" in [e.type for e in trail]


@SHARED
class TestTheMinutes:
    async def test_print_every_meeting_of_the_period_one_page_each(self, rt: Any):
        unit, year, meetings = await busiest_union(rt)
        heads = {h.id: h.head for h in await rt.files.every_file()}

        printed = await printing.print_unit(
            rt,
            KEY,
            actor=INSPECTOR,
            unit=unit,
            form=UnitForm.MINUTES,
            period=year,
            purpose="档案检查",
        )

        text, pages = text_of(printed.pdf)
        expected = [
            "民主评议会议记录",
            *(
                value
                for m in meetings
                for value in (
                    day(m.held_on),
                    m.place,
                    m.chair,
                    m.recorder,
                    m.summary,
                    f"{m.expected}人",
                    f"{m.present}人",
                    *m.attendees,
                )
            ),
            *(
                heads[v.file_id].name
                for m in meetings
                for v in m.votes
                if printable(heads[v.file_id].name)
            ),
            *(f"{v.in_favour}{v.against}{v.abstaining}通过" for m in meetings for v in m.votes),
        ]
        assert [v for v in expected if flat(v) not in text] == []
        assert len(pages) == len(meetings)
        assert {size(p) for p in pages} == {A4}
        assert all(flat(printed.code) in flat(p.extract_text()) for p in pages)
        assert printed.files == sum(len(m.votes) for m in meetings)

    async def test_the_print_is_one_disclosure_per_voted_file_and_verifies(self, rt: Any):
        unit, year, meetings = await busiest_union(rt)

        printed = await printing.print_unit(
            rt,
            KEY,
            actor=INSPECTOR,
            unit=unit,
            form=UnitForm.MINUTES,
            period=year,
            purpose="档案检查",
        )
        checked = await printing.verify(rt, actor=INSPECTOR, code=printed.code)

        voted = {v.file_id for m in meetings for v in m.votes}
        listed = {f.file_id for f in checked.files}
        assert listed == voted | {unit_records_id(unit)}
        assert checked.matches
        trail = await rt.files.trail(next(iter(voted)))
        assert printed.code.replace("-", "").encode() in b"".join(
            e.payload for e in trail if e.type == "access.file_printed"
        )


@SHARED
class TestTheTaskList:
    async def test_lists_each_measure_of_every_open_files_plan_on_landscape_pages(self, rt: Any):
        period = str(FixedClock().day.year)
        _, end = period_bounds(period)

        printed = await printing.print_unit(
            rt,
            KEY,
            actor=INSPECTOR,
            unit="13",
            form=UnitForm.TASKS,
            period=period,
            purpose="任务督办",
        )

        text, pages = text_of(printed.pdf)
        checked = await printing.verify(rt, actor=INSPECTOR, code=printed.code)
        listed = {f.file_id for f in checked.files}
        on_paper = [h for h in await rt.files.every_file() if h.id in listed]
        plans = [await plan_of(rt, h.id, end) for h in on_paper]
        expected = [
            *TASK_HEADINGS,
            *(h.head.id_number for h in on_paper),
            *(h.head.phone for h in on_paper),
            *(h.head.name for h in on_paper if printable(h.head.name)),
            *(m for p in plans for m in p.measures),
            *(p.helper for p in plans),
            *(day(p.deadline) for p in plans if not p.tasks),
            # a plan's measures one by one (domain/profile.py): their own columns
            *(
                v
                for p in plans
                for t in p.tasks
                for v in (t.department, t.lead_leader, t.union_leader, t.union_contact)
            ),
            *(day(t.deadline or p.deadline) for p in plans for t in p.tasks),
        ]
        assert any(p.tasks for p in plans)
        assert printed.files == len(on_paper) > 0
        assert [v for v in expected if flat(v) not in text] == []
        assert {size(p) for p in pages} == {LANDSCAPE}
        assert all(flat(printed.code) in flat(p.extract_text()) for p in pages)

    async def test_as_a_workbook_holds_the_same_rows_and_the_code(self, rt: Any):
        period = str(FixedClock().day.year)
        _, end = period_bounds(period)

        printed = await printing.print_unit(
            rt,
            KEY,
            actor=INSPECTOR,
            unit="13",
            form=UnitForm.TASKS,
            period=period,
            purpose="任务督办",
            sheet=True,
        )

        rows = list(load_workbook(io.BytesIO(printed.pdf)).active.iter_rows(values_only=True))
        checked = await printing.verify(rt, actor=INSPECTOR, code=printed.code)
        on_paper = [
            h for h in await rt.files.every_file() if h.id in {f.file_id for f in checked.files}
        ]
        measures = sum([len((await plan_of(rt, h.id, end)).measures) for h in on_paper])
        assert printed.code in str(rows[0])
        assert tuple(rows[1]) == TASK_HEADINGS
        assert len(rows) == 2 + measures
        assert {r[3] for r in rows[2:]} == {h.head.id_number for h in on_paper}

    async def test_only_the_task_list_is_a_workbook(self, rt: Any):
        with pytest.raises(Exception, match="format"):
            await printing.print_unit(
                rt,
                KEY,
                actor=INSPECTOR,
                unit="13",
                form=UnitForm.LEDGER,
                period="2026",
                purpose="核对",
                sheet=True,
            )


async def plan_of(rt: Any, file_id: Any, end: date) -> HouseholdFile.PlanAgreed:
    h, _ = await printing._household(rt, file_id, None)
    plan = plan_in_force(h, end)
    assert plan is not None
    return plan


ITEMS = (
    AssessmentItem("帮助两户困难职工解困脱困", "一户一策，落实医保和就业帮扶", "已完成两户"),
    AssessmentItem("结对帮扶全覆盖", "每季度入户走访一次", "全年走访四次"),
)


@SHARED
class TestTheAssessment:
    async def test_prints_the_units_goals_measures_and_opinions_on_one_page(self, rt: Any):
        unit, _, _ = await busiest_union(rt)
        clerk = demo.actor_for(Role.CLERK, unit)
        recorded = await rt.records.assess(
            actor=clerk,
            clock=FixedClock(),
            unit=unit,
            period="2025",
            recorded_on=FixedClock().day,
            items=ITEMS,
            opinion="完成年度目标",
            responsible="刘建国",
            liaison="陈丽",
            reviewer_opinion="考核合格",
        )

        printed = await printing.print_unit(
            rt,
            KEY,
            actor=clerk,
            unit=unit,
            form=UnitForm.ASSESSMENT,
            period="2025",
            purpose="年度考核",
        )

        text, pages = text_of(printed.pdf)
        expected = [
            "困难职工解困脱困考核表",
            "预期目标",
            "目标完成情况",
            *(v for i in ITEMS for v in (i.goal, i.measures, i.completion)),
            recorded.opinion,
            recorded.responsible,
            recorded.liaison,
            recorded.reviewer_opinion,
            day(recorded.recorded_on),
            "2025",
        ]
        assert [v for v in expected if flat(v) not in text] == []
        assert len(pages) == 1
        assert size(pages[0]) == A4
        assert flat(printed.code) in text

    async def test_verifies_and_later_says_changed_since(self, rt: Any):
        unit, _, _ = await busiest_union(rt)
        clerk = demo.actor_for(Role.CLERK, unit)
        args: dict[str, Any] = {
            "actor": clerk,
            "clock": FixedClock(),
            "unit": unit,
            "period": "2024",
            "recorded_on": FixedClock().day,
            "items": ITEMS,
        }
        await rt.records.assess(**args)
        printed = await printing.print_unit(
            rt,
            KEY,
            actor=clerk,
            unit=unit,
            form=UnitForm.ASSESSMENT,
            period="2024",
            purpose="年度考核",
        )

        fresh = await printing.verify(rt, actor=INSPECTOR, code=printed.code)
        await rt.records.assess(**{**args, "items": ITEMS[:1]})
        later = await printing.verify(rt, actor=INSPECTOR, code=printed.code)

        assert fresh.matches
        assert not fresh.changed_since
        assert later.changed_since
        assert [c.type for c in later.files[0].changes] == ["unit.assessment_recorded"]

    async def test_of_a_period_with_none_is_not_found(self, rt: Any):
        unit, _, _ = await busiest_union(rt)

        with pytest.raises(NotFound):
            await printing.print_unit(
                rt,
                KEY,
                actor=INSPECTOR,
                unit=unit,
                form=UnitForm.ASSESSMENT,
                period="2019",
                purpose="年度考核",
            )


@SHARED
class TestRecordingAMeeting:
    async def test_refuses_a_file_of_another_union_and_writes_nothing(self, rt: Any):
        unit, _, meetings = await busiest_union(rt)
        stranger = next(h for h in await rt.files.every_file() if h.establishing_unit != unit)
        before = await rt.records.events(unit)

        with pytest.raises(RuleViolated) as refused:
            await rt.records.record_meeting(
                actor=demo.actor_for(Role.CLERK, unit),
                clock=FixedClock(),
                files=rt.files,
                unit=unit,
                meeting_id=uuid4(),
                held_on=FixedClock().day,
                place="会议室",
                chair="刘建国",
                recorder="陈丽",
                attendees=["刘建国", "陈丽", "王海燕"],
                expected=3,
                summary="评议",
                votes=[Vote(stranger.id, 3, 0, 0)],
            )

        assert refused.value.rule == "voted_file_of_the_union"
        assert await rt.records.events(unit) == before
        assert meetings

    async def test_is_out_of_scope_for_a_clerk_of_another_union(self, rt: Any):
        unit, _, _ = await busiest_union(rt)
        other = Actor("clerk", "130306999" if unit != "130306999" else "130306998", Role.CLERK)

        with pytest.raises(OutOfScope):
            await rt.records.meetings(actor=other, unit=unit)
