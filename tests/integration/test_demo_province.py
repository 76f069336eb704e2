"""The demo province looks real and is built through the domain's rules."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from adapters.pg.attachments import PgContentStore
from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies, seed_demo_policies
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pii.keyring import Keyring
from adapters.services import attachments, demo
from adapters.services.files import every_file
from adapters.services.spotcheck import Request, run_spot_check
from domain.idnumber import parse_id_number
from domain.rules import Context, check, history_of
from domain.values import Actor, Role, Status
from tests.builders import FixedClock
from tests.integration.spotcheck_helpers import project


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


# The findings the demo plants on purpose: visits, plans and re-checks now and then missed
# (R28, R18, R20) and, on its older files kept on paper only, materials ticked with no scan
# (R04s, R15s). Anything else on a demo file is a bug in the demo or in a rule.
PLANTED = frozenset({"R28", "R18", "R20", "R04s", "R15s"})
UNSCANNED = frozenset({"R04s", "R15s"})


def planned(count: int, seed: int) -> list[demo.Plan]:
    planner = demo.Planner(today=FixedClock().day, seed=seed)
    return [planner.plan() for _ in range(count)]


async def test_the_demo_attaches_scans_so_its_clean_files_stay_clean(
    files: PgFileRepository, store: PostgresEventStore, codec: EventCodec, keyring: Keyring
):
    contents = PgContentStore(store.pool, keyring)
    # seed 12: a province with a few paper-only files (the demo's 脱困 revisions draw from the
    # same generator, so the seed that gave some before gives none now)
    plans = planned(30, seed=12)

    written = await demo.build(
        files=files, clock=FixedClock(), count=30, seed=12, contents=contents
    )
    events_written = len(await store.read_log(limit=100_000))
    await seed_demo_policies(PgPolicies(store, codec))

    context = Context(policies=await PgPolicies(store, codec).book(), as_of=FixedClock().day)
    found: dict[UUID, set[str]] = {}
    for plan in plans:
        stored = await store.read_stream(plan.file_id)
        events = [
            codec.decode(
                e.type,
                e.payload,
                stream_id=e.stream_id,
                version=e.version,
                recorded_at=e.recorded_at,
            )
            for e in stored
        ]
        found[plan.file_id] = {f.rule for f in check(history_of(cast(Any, events)), context)}
    paper_only = {p.file_id for p in plans if not p.scans}
    report = await attachments.verify_all(store, contents)
    assert written == events_written
    assert set().union(*found.values()) <= PLANTED
    assert {f for f, rules in found.items() if rules & UNSCANNED} == paper_only
    assert 0 < len(paper_only) < 10
    assert report.ok
    assert len(report.checked) == sum(len(p.scans) for p in plans) > 60


async def test_the_bulk_path_attaches_the_same_scans_as_the_use_cases(
    files: PgFileRepository, store: PostgresEventStore, keyring: Keyring
):
    contents = PgContentStore(store.pool, keyring)
    plans = planned(12, seed=5)

    for plan in plans:
        await demo.run_plan(plan, files=files, clock=FixedClock(), contents=contents)
    in_memory = [
        demo.build_in_memory(p, today=FixedClock().day, scans=True) for p in planned(12, seed=5)
    ]
    stored = [await files.get(plan.file_id) for plan in plans]

    assert [state(h) for h in in_memory] == [state(h) for h in stored]
    assert sum(len(h.attachments) for h in stored) == sum(len(p.scans) for p in plans) > 20


async def test_the_demos_spot_check_finds_only_what_the_demo_plants(
    files: PgFileRepository, store: PostgresEventStore, codec: EventCodec, keyring: Keyring
):
    contents = PgContentStore(store.pool, keyring)
    plans = planned(80, seed=3)
    await demo.build(
        files=files, clock=FixedClock(), count=80, seed=3, bulk=True, contents=contents
    )
    await seed_demo_policies(PgPolicies(store, codec))
    await project(store)

    spot = await run_spot_check(
        store=store,
        codec=codec,
        actor=Actor("inspector-zhao", "13", Role.INSPECTOR),
        request=Request(scope="13", as_of=FixedClock().day, fraction=Decimal(1), seed=1),
    )

    rules = {r.file_id: {f.rule for f in r.findings} for r in spot.results}
    assert len(rules) == len(plans)
    assert set().union(*rules.values()) <= PLANTED
    assert {f for f, found in rules.items() if found & UNSCANNED} == {
        p.file_id for p in plans if not p.scans
    }


def test_the_demo_of_make_run_holds_files_in_review_and_a_queue_for_its_approver():
    today = FixedClock().day
    planner = demo.Planner(today=today)  # the seed `make run` builds with
    households = [demo.build_in_memory(planner.plan(), today=today) for _ in range(300)]
    context = Context(policies=demo.DemoPolicies().policy_book, as_of=today)
    stages = {Status.APPLIED, Status.VERIFIED, Status.APPRAISED}

    in_review = [h for h in households if h.status in stages]
    awaiting = [h.establishing_unit for h in in_review if h.status is Status.APPRAISED]
    found = {f.rule for h in in_review for f in check(history_of(h.collect_events()), context)}

    assert {h.status for h in in_review} == stages  # a clerk's files at each stage of review
    assert 15 <= len(in_review) <= 60  # the weeks of a filing round, not a backlog
    assert any(unit.startswith("130306") for unit in awaiting)  # approver-wang's 待审批
    assert found <= PLANTED
