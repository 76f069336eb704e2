"""A spot-check on a real PostgreSQL: every rule from the stored events, a broken chain, a drifted
ledger row, the line in force at each decision, and the same sample for the same seed and log
position — recorded in the checking unit's stream, and in the trail of each file it checked."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies, seed_demo_policies
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.services.spotcheck import Request, load_spot_check, run_spot_check
from domain.errors import NotPermitted, OutOfScope
from domain.household import HouseholdFile
from domain.policy import Parameters
from domain.spotcheck import SpotCheck, Strata
from domain.values import Actor, Level, Role, Status
from tests.integration.spotcheck_helpers import (
    ADMIN,
    INSPECTOR,
    SCOPE,
    as_file,
    funing_line,
    project,
    write,
)
from tests.tampering import tamper
from tests.unit.test_rules import CLERK, TODAY, broken_files, clean_events

CLEAN = 5  # clean files beside the broken ones


def by_file(check: SpotCheck) -> dict[UUID, list[str]]:
    return {r.file_id: sorted(f.rule for f in r.findings) for r in check.results}


async def spot_check(store: PostgresEventStore, codec: EventCodec, **request: Any) -> SpotCheck:
    fields: dict[str, Any] = {"scope": SCOPE, "as_of": TODAY, "fraction": Decimal(1), "seed": 7}
    return await run_spot_check(
        store=store, codec=codec, actor=INSPECTOR, request=Request(**(fields | request))
    )


@pytest.fixture
async def province(store: PostgresEventStore, codec: EventCodec) -> dict[UUID, list[str]]:
    """Clean files and one file breaking each rule, in Funing; the file another file shares a
    person with (R02) is in Haigang, outside the scope. Returns file → the rules it breaks."""
    expected: dict[UUID, list[str]] = {}
    files = []
    for index in range(1, CLEAN + 1):
        files.append(as_file(clean_events(), index))
        expected[UUID(int=index)] = []
    for index, (rule, (events, _)) in enumerate(sorted(broken_files().items()), start=100):
        files.append(as_file(events, index))
        expected[UUID(int=index)] = [rule]
    shared = next(i for i, rule in expected.items() if rule == ["R02"])
    head = next(f for f in files if f[0].originator_id == shared)[0].head
    elsewhere = as_file(clean_events()[:1], 999, unit="130302001")
    files.append([dataclasses.replace(elsewhere[0], head=head)])
    await funing_line(store, codec)
    await write(store, codec, *files)
    await project(store)
    return expected


class TestASpotCheckOfEveryFile:
    async def test_finds_exactly_the_rule_each_file_breaks_on_that_file(
        self, store: PostgresEventStore, codec: EventCodec, province: dict[UUID, list[str]]
    ):
        check = await spot_check(store, codec)

        assert by_file(check) == province

    async def test_names_the_event_versions_each_finding_rests_on(
        self, store: PostgresEventStore, codec: EventCodec, province: dict[UUID, list[str]]
    ):
        check = await spot_check(store, codec)

        assert all(
            f.versions and max(f.versions) <= r.version for r in check.results for f in r.findings
        )

    async def test_counts_every_file_of_the_scope_and_none_outside_it(
        self, store: PostgresEventStore, codec: EventCodec, province: dict[UUID, list[str]]
    ):
        check = await spot_check(store, codec)

        assert check.summary is not None
        assert check.frame_size == check.summary.files_checked == len(province)
        assert check.summary.files_with_findings == len(province) - CLEAN

    async def test_rates_wrong_recognition_wrong_exit_and_pairing(
        self, store: PostgresEventStore, codec: EventCodec, province: dict[UUID, list[str]]
    ):
        check = await spot_check(store, codec)

        summary = check.summary
        assert summary is not None
        # every file was approved once; R10, R11, R13, R16 are recognition rules
        assert (summary.wrong_recognition.numerator, summary.wrong_recognition.denominator) == (
            4,
            len(province),
        )
        # the R22 file exited wrongly; the R27 file's exit was a deletion, not an exit
        assert (summary.wrong_exit.numerator, summary.wrong_exit.denominator) == (1, 1)
        # approved now: all but the exited, deleted and returned files; paired: all but R18's
        approved = len(province) - 3
        assert (summary.pairing_coverage.numerator, summary.pairing_coverage.denominator) == (
            approved - 1,
            approved,
        )


class TestTamperingFoundByASpotCheck:
    async def test_an_event_altered_in_the_database_is_a_broken_chain_on_that_file(
        self, store: PostgresEventStore, codec: EventCodec, pool: asyncpg.Pool
    ):
        files = [as_file(clean_events(), i) for i in (1, 2)]
        await funing_line(store, codec)
        await write(store, codec, *files)
        await project(store)
        visit = next(e for e in files[0] if isinstance(e, HouseholdFile.Visited))
        payload = await pool.fetchval(
            "SELECT payload FROM events WHERE stream_id = $1 AND version = $2",
            visit.originator_id,
            visit.originator_version,
        )
        await tamper(
            pool,
            "UPDATE events SET payload = $3 WHERE stream_id = $1 AND version = $2",
            visit.originator_id,
            visit.originator_version,
            payload.replace("周五".encode(), "吴六".encode()),
        )

        check = await spot_check(store, codec)

        assert by_file(check) == {UUID(int=1): ["CHAIN"], UUID(int=2): []}
        (result,) = [r for r in check.results if r.file_id == UUID(int=1)]
        assert (result.chain_intact, result.broken_at) == (False, visit.originator_version)
        assert result.findings[0].versions == (visit.originator_version,)

    async def test_a_ledger_row_altered_in_the_database_is_drift_naming_the_field(
        self, store: PostgresEventStore, codec: EventCodec, pool: asyncpg.Pool
    ):
        await funing_line(store, codec)
        await write(store, codec, *(as_file(clean_events(), i) for i in (1, 2)))
        await project(store)
        await pool.execute("UPDATE ledger SET status = 'verified' WHERE file_id = $1", UUID(int=2))

        check = await spot_check(store, codec)

        assert by_file(check) == {UUID(int=1): [], UUID(int=2): ["DRIFT"]}
        (result,) = [r for r in check.results if r.file_id == UUID(int=2)]
        assert result.drift == ("status",)
        assert "状态" in result.findings[0].zh

    async def test_an_event_that_no_longer_decodes_is_reported_not_fatal(
        self, store: PostgresEventStore, codec: EventCodec, pool: asyncpg.Pool
    ):
        await funing_line(store, codec)
        await write(store, codec, *(as_file(clean_events(), i) for i in (1, 2)))
        await project(store)
        await tamper(
            pool,
            "UPDATE events SET payload = '{}' WHERE stream_id = $1 AND version = 2",
            UUID(int=1),
        )

        check = await spot_check(store, codec)

        assert by_file(check) == {UUID(int=1): ["CHAIN", "REPLAY"], UUID(int=2): []}


class TestThePovertyLineInForce:
    async def test_a_change_after_an_approval_does_not_make_it_a_finding(
        self, store: PostgresEventStore, codec: EventCodec
    ):
        # approved on 2025-03-25 at 550; from 2026-06-01 the line is 300, under which the
        # household's 350 yuan a month would be relative, not deep
        await funing_line(store, codec, (date(2020, 1, 1), "550"), (date(2026, 6, 1), "300"))
        await write(store, codec, as_file(clean_events(), 1))
        await project(store)

        check = await spot_check(store, codec)

        assert by_file(check) == {UUID(int=1): []}

    async def test_in_force_at_the_approval_judges_it(
        self, store: PostgresEventStore, codec: EventCodec
    ):
        await funing_line(store, codec, (date(2020, 1, 1), "550"), (date(2025, 1, 1), "300"))
        await write(store, codec, as_file(clean_events(), 1))
        await project(store)

        check = await spot_check(store, codec)

        assert by_file(check) == {UUID(int=1): ["R11"]}

    async def test_of_the_city_applies_where_the_district_has_none(
        self, store: PostgresEventStore, codec: EventCodec
    ):
        await PgPolicies(store, codec).set_parameters(
            actor=ADMIN,
            region="130300",
            parameters=Parameters(date(2020, 1, 1), Decimal("150")),
            reason="市低保标准",
        )
        await write(store, codec, as_file(clean_events(), 1))
        await project(store)

        check = await spot_check(store, codec)

        assert by_file(check) == {UUID(int=1): ["R10"]}


class TestReproducibility:
    @pytest.fixture
    async def twenty(self, store: PostgresEventStore, codec: EventCodec) -> None:
        broken = broken_files()
        rules = ["R05", "R10", "R15", "R22", "R28"]
        await funing_line(store, codec)
        await write(
            store,
            codec,
            *(as_file(clean_events(), i) for i in range(1, 16)),
            *(as_file(broken[r][0], 16 + n) for n, r in enumerate(rules)),
        )
        await project(store)

    async def test_the_same_seed_at_the_same_log_position_gives_the_same_sample_and_findings(
        self, store: PostgresEventStore, codec: EventCodec, twenty: None
    ):
        first = await spot_check(store, codec, fraction=None, sample=8, seed=7)
        again = await spot_check(store, codec, fraction=None, sample=8, seed=7)

        assert again.id != first.id
        assert (again.log_position, again.frame_digest) == (first.log_position, first.frame_digest)
        assert again.sample == first.sample
        assert again.results == first.results
        assert again.summary == first.summary

    async def test_another_seed_draws_another_sample_from_the_same_frame(
        self, store: PostgresEventStore, codec: EventCodec, twenty: None
    ):
        first = await spot_check(store, codec, fraction=None, sample=8, seed=7)
        other = await spot_check(store, codec, fraction=None, sample=8, seed=8)

        assert other.frame_digest == first.frame_digest
        assert other.sample != first.sample

    async def test_events_after_the_ledger_position_are_left_out_of_the_replay(
        self, store: PostgresEventStore, codec: EventCodec, twenty: None
    ):
        first = await spot_check(store, codec, fraction=None, sample=20, seed=7)
        await visit(store, codec, UUID(int=1))

        again = await spot_check(store, codec, fraction=None, sample=20, seed=7)

        assert again.log_position == first.log_position
        assert again.results == first.results
        assert await store.stream_version(UUID(int=1)) > first.results[0].version


async def visit(store: PostgresEventStore, codec: EventCodec, file_id: UUID) -> None:
    """One more event on a stored file (a visit), through the repository."""
    household = await PgFileRepository(store, codec).get(file_id)
    household.visit(actor=CLERK, visited_on=TODAY, cadre="周五", content="季度走访", today=TODAY)
    await PgFileRepository(store, codec).save(household)


class TestTheSpotCheckStream:
    async def test_belongs_to_the_checking_unit_and_holds_start_results_and_completion(
        self, store: PostgresEventStore, codec: EventCodec, province: dict[UUID, list[str]]
    ):
        check = await spot_check(store, codec)

        events = await store.read_stream(check.id)
        assert [e.type for e in events] == [
            "spotcheck.started",
            *["spotcheck.file_checked"] * len(province),
            "spotcheck.completed",
        ]
        assert {e.unit for e in events} == {"1303"}
        assert (await store.verify()).ok

    async def test_shows_each_result_in_the_trail_of_the_file_checked(
        self, store: PostgresEventStore, codec: EventCodec, province: dict[UUID, list[str]]
    ):
        check = await spot_check(store, codec)

        for file_id in province:
            referring = await store.read_referring(file_id)
            assert [(e.stream_id, e.type) for e in referring] == [
                (check.id, "spotcheck.file_checked")
            ]

    async def test_replays_into_the_check_that_was_run(
        self, store: PostgresEventStore, codec: EventCodec, province: dict[UUID, list[str]]
    ):
        check = await spot_check(store, codec)

        loaded = await load_spot_check(store, codec, check.id)

        assert (loaded.sample, loaded.results, loaded.summary) == (
            check.sample,
            check.results,
            check.summary,
        )

    async def test_is_left_alone_by_the_read_models(
        self, store: PostgresEventStore, codec: EventCodec, province: dict[UUID, list[str]]
    ):
        await spot_check(store, codec)

        await project(store)

        assert by_file(await spot_check(store, codec)) == province


class TestTheAttachmentsOfTheSample:
    """The spot-check re-hashes the content of every attachment of the files it samples."""

    @pytest.fixture
    async def four(self, store: PostgresEventStore, codec: EventCodec) -> list[Any]:
        await funing_line(store, codec)
        files = [as_file(clean_events(), i) for i in range(1, 5)]
        await write(store, codec, *files)
        await project(store)
        return [next(e for e in f if isinstance(e, HouseholdFile.AttachmentAdded)) for f in files]

    async def test_stored_as_uploaded_are_no_finding(
        self, store: PostgresEventStore, codec: EventCodec, four: list[Any]
    ):
        check = await spot_check(store, codec)

        assert by_file(check) == {UUID(int=i): [] for i in range(1, 5)}

    async def test_missing_altered_or_erased_content_is_reported_as_such(
        self, store: PostgresEventStore, codec: EventCodec, pool: asyncpg.Pool, four: list[Any]
    ):
        altered, missing, erased = four[1], four[2], four[3]
        await pool.execute(
            "UPDATE attachment_chunks SET sealed = set_byte(sealed, 19, get_byte(sealed, 19) # 255)"
            " WHERE attachment_id = $1",
            altered.attachment_id,
        )
        await pool.execute(
            "DELETE FROM attachment_chunks WHERE attachment_id = $1", missing.attachment_id
        )
        assert store.keyring is not None
        async with pool.acquire() as conn:
            await store.keyring.destroy(conn, [erased.originator_id])
        store.keyring.forget(erased.originator_id)

        check = await spot_check(store, codec)

        assert by_file(check) == {
            UUID(int=1): [],
            UUID(int=2): ["ATTACHMENT"],
            UUID(int=3): ["ATTACHMENT"],
            UUID(int=4): ["ATTACHMENT_ERASED"] * 2,  # both of its scans
        }
        said = {r.file_id: r.findings[0].zh for r in check.results if r.findings}
        assert "已被篡改" in said[UUID(int=2)]
        assert "缺失" in said[UUID(int=3)]
        assert "销毁" in said[UUID(int=4)]
        assert [f.versions for r in check.results for f in r.findings][:3] == [
            (altered.originator_version,),
            (missing.originator_version,),
            (erased.originator_version,),
        ]


class TestStrata:
    async def test_restrict_the_frame_to_their_statuses(
        self, store: PostgresEventStore, codec: EventCodec, province: dict[UUID, list[str]]
    ):
        check = await spot_check(
            store, codec, strata=Strata(statuses=(Status.OUT_OF_HARDSHIP, Status.DELETED))
        )

        assert by_file(check) == {
            f: rules for f, rules in province.items() if rules in (["R22"], ["R27"])
        }

    async def test_by_level_spread_the_sample_over_the_units(
        self, store: PostgresEventStore, codec: EventCodec, province: dict[UUID, list[str]]
    ):
        check = await spot_check(
            store, codec, fraction=None, sample=3, strata=Strata(level=Level.BASE)
        )

        assert len(check.sample) == 3


class TestWhoMaySpotCheck:
    async def test_a_district_may_not_check_another_district(
        self, store: PostgresEventStore, codec: EventCodec
    ):
        haigang = Actor("inspector", "130302", Role.INSPECTOR)

        with pytest.raises(OutOfScope):
            await run_spot_check(
                store=store,
                codec=codec,
                actor=haigang,
                request=Request(scope=SCOPE, as_of=TODAY, sample=5),
            )

    async def test_a_clerk_may_not_spot_check(self, store: PostgresEventStore, codec: EventCodec):
        clerk = Actor("clerk", "130306001", Role.CLERK)

        with pytest.raises(NotPermitted):
            await run_spot_check(
                store=store,
                codec=codec,
                actor=clerk,
                request=Request(scope="130306001", as_of=TODAY, sample=5),
            )
        assert await store.pool.fetchval("SELECT count(*) FROM events") == 0


class TestRegionalPolicies:
    async def test_are_loaded_from_their_streams_into_the_book(
        self, store: PostgresEventStore, codec: EventCodec
    ):
        await funing_line(store, codec, (date(2020, 1, 1), "550"), (date(2026, 6, 1), "600"))

        book = await PgPolicies(store, codec).book()

        assert book.in_force("130306", date(2026, 5, 31)).poverty_line == Decimal("550")
        assert book.in_force("130306", date(2026, 6, 1)).poverty_line == Decimal("600")

    async def test_are_set_only_by_an_admin(self, store: PostgresEventStore, codec: EventCodec):
        with pytest.raises(NotPermitted):
            await PgPolicies(store, codec).set_parameters(
                actor=INSPECTOR,
                region="130300",
                parameters=Parameters(date(2020, 1, 1), Decimal("700")),
                reason="通知",
            )

    async def test_of_the_demo_cities_are_seeded_once(
        self, store: PostgresEventStore, codec: EventCodec
    ):
        opened = await seed_demo_policies(PgPolicies(store, codec))
        again = await seed_demo_policies(PgPolicies(store, codec))

        book = await PgPolicies(store, codec).book()
        assert (opened, again) == (4, 0)
        assert book.in_force("130306", date(2020, 1, 1)).poverty_line == Decimal("735")
        assert sorted(book.policies) == ["130100", "130200", "130300", "130400"]
