"""The demo province looks real and is built through the domain's rules."""

from __future__ import annotations

from collections import Counter

from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.services import demo
from adapters.services.files import every_file
from domain.idnumber import parse_id_number
from domain.values import Status
from tests.builders import FixedClock


async def test_a_demo_province_has_full_lifecycles_valid_ids_and_rare_names(
    files: PgFileRepository, store: PostgresEventStore
):
    written = await demo.build(files=files, clock=FixedClock(), count=150, seed=11)

    households = await every_file(files)
    statuses = Counter(h.status for h in households)
    people = [(h.region, p) for h in households for p in (h.head, *h.members)]

    assert written == len(await store.read_log(limit=100_000))
    assert len(households) == 150
    assert statuses[Status.APPROVED] > 30
    assert statuses[Status.OUT_OF_HARDSHIP] > 10
    assert sum(h.returns for h in households) >= 1
    assert all(parse_id_number(p.id_number).region == region for region, p in people)
    assert any(ord(ch) > 0xFFFF for _, p in people for ch in p.name)
    assert 2.7 <= len(people) / len(households) <= 3.2
    assert (await store.verify()).ok


async def test_the_bulk_path_builds_the_same_province_as_the_use_cases(
    files: PgFileRepository, store: PostgresEventStore
):
    planner_a, planner_b = (demo.Planner(today=FixedClock().day, seed=5) for _ in range(2))
    plans = [planner_a.plan() for _ in range(30)]

    for plan in plans:
        await demo.run_plan(plan, files=files, clock=FixedClock())
    in_memory = [demo.build_in_memory(planner_b.plan(), today=FixedClock().day) for _ in range(30)]
    stored = [await files.get(plan.file_id) for plan in plans]

    assert [state(h) for h in in_memory] == [state(h) for h in stored]


def state(household: object) -> dict[str, object]:
    """Everything a file knows, but for when it was recorded and its unsaved events."""
    skip = {"_pending_events", "_created_on", "_modified_on", "_stored_chain_head"}
    return {k: v for k, v in vars(household).items() if k not in skip}
