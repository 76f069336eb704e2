"""The spot-check: a reproducible, proportional sample; one result per sampled file; a summary
with the evaluators' rates."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.pg.codec import EventCodec
from domain.errors import InvalidValue, NotPermitted, OutOfScope, RuleViolated, WrongState
from domain.rules import ERROR, Finding, history_of
from domain.spotcheck import (
    CHAIN,
    DRIFT,
    MAX_SAMPLE,
    FileResult,
    FrameRow,
    Profile,
    Rate,
    SpotCheck,
    Strata,
    allocate,
    draw,
    drifted,
    profile_of,
    replayed_fields,
    sample_size_of,
)
from domain.values import Actor, Level, Role, Status

from .test_rules import clean_events

CITY_INSPECTOR = Actor("inspector-zhao", "1303", Role.INSPECTOR)
AS_OF = date(2026, 11, 21)
DISTRICTS = ("130302", "130303", "130306")


def frame(count: int = 100, *, statuses: tuple[str, ...] = ("approved",)) -> list[FrameRow]:
    """`count` files spread over three districts of Qinhuangdao (60% / 30% / 10%)."""
    rows = []
    for i in range(count):
        district = DISTRICTS[0] if i % 10 < 6 else DISTRICTS[1] if i % 10 < 9 else DISTRICTS[2]
        rows.append(FrameRow(UUID(int=i + 1), f"{district}001", statuses[i % len(statuses)], 3))
    return rows


def started(rows: list[FrameRow] | None = None, **overrides: Any) -> SpotCheck:
    fields: dict[str, Any] = {
        "actor": CITY_INSPECTOR,
        "scope": "1303",
        "frame": frame() if rows is None else rows,
        "sample_size": 10,
        "seed": 7,
        "log_position": "812.4711",
        "as_of": AS_OF,
    }
    return SpotCheck.start(**(fields | overrides))


def result(file_id: UUID, *rules: str, unit: str = "130306001", **profile: bool) -> FileResult:
    facts = {"ever_approved": True, "ever_exited": False, "approved": True, "paired": True}
    return FileResult(
        file_id=file_id,
        unit=unit,
        version=9,
        findings=tuple(Finding(r, ERROR, "问题", "finding", (3,)) for r in rules),
        chain_intact=CHAIN not in rules,
        broken_at=3 if CHAIN in rules else None,
        drift=("status",) if DRIFT in rules else (),
        profile=Profile(**(facts | profile)),
    )


class TestTheSample:
    def test_is_the_same_for_the_same_seed_and_frame(self):
        assert draw(frame(), Strata(), n=10, seed=7) == draw(frame(), Strata(), n=10, seed=7)

    def test_does_not_depend_on_the_order_the_frame_is_listed_in(self):
        assert draw(frame()[::-1], Strata(), n=10, seed=7) == draw(frame(), Strata(), n=10, seed=7)

    def test_changes_with_the_seed(self):
        assert draw(frame(), Strata(), n=10, seed=7) != draw(frame(), Strata(), n=10, seed=8)

    def test_is_listed_in_file_id_order_without_repeats(self):
        sample = draw(frame(), Strata(), n=30, seed=7)

        assert list(sample) == sorted(set(sample))
        assert len(sample) == 30

    def test_is_spread_over_the_strata_in_proportion_to_their_sizes(self):
        rows = frame()
        units = {r.file_id: r.unit[:6] for r in rows}

        sample = draw(rows, Strata(level=Level.DISTRICT), n=10, seed=7)

        assert Counter(units[i] for i in sample) == {"130302": 6, "130303": 3, "130306": 1}

    def test_takes_only_files_of_the_strata_statuses(self):
        spot = started(frame(statuses=("approved", "verified")), strata=Strata((Status.VERIFIED,)))

        assert spot.frame_size == 50
        assert all(i.int % 2 == 0 for i in spot.sample)  # the even ones are verified

    def test_never_exceeds_the_frame(self):
        assert sample_size_of(7, size=200, fraction=None) == 7

    def test_takes_a_fraction_of_the_frame_rounded_up(self):
        assert sample_size_of(101, size=None, fraction=Decimal("0.1")) == 11


class TestTheAllocation:
    def test_gives_each_stratum_its_whole_quota(self):
        assert allocate({"a": 60, "b": 30, "c": 10}, 10) == {"a": 6, "b": 3, "c": 1}

    def test_gives_the_files_left_over_to_the_largest_remainders(self):
        # quotas 2.5, 1.5 and 1.0: one file left, tied between a and b, goes to the larger
        assert allocate({"a": 5, "b": 3, "c": 2}, 5) == {"a": 3, "b": 1, "c": 1}

    @given(
        sizes=st.dictionaries(st.text(min_size=1, max_size=3), st.integers(1, 500), min_size=1),
        wanted=st.integers(0, 2000),
    )
    def test_shares_exactly_the_sample_each_within_one_file_of_its_quota(
        self, sizes: dict[str, int], wanted: int
    ):
        n = min(wanted, sum(sizes.values()))

        shares = allocate(sizes, n)

        assert sum(shares.values()) == n
        for key, size in sizes.items():
            quota = Fraction(n * size, sum(sizes.values()))
            assert quota - 1 < shares[key] < quota + 1
            assert shares[key] <= size


class TestStartingASpotCheck:
    def test_records_the_frame_seed_position_and_sample(self):
        spot = started()

        assert (spot.scope, spot.seed, spot.log_position, spot.frame_size) == (
            "1303",
            7,
            "812.4711",
            100,
        )
        assert spot.sample == draw(frame(), Strata(), n=10, seed=7)
        assert len(spot.frame_digest) == 64

    def test_gives_the_same_frame_digest_for_the_same_frame_only(self):
        changed = [*frame()[:-1], FrameRow(UUID(int=100), "130306001", "approved", 4)]

        assert started().frame_digest == started(frame()[::-1]).frame_digest
        assert started().frame_digest != started(changed).frame_digest

    def test_is_open_to_an_approver_of_a_district_for_its_own_subtree(self):
        approver = Actor("approver-wang", "130306", Role.APPROVER)
        rows = [r for r in frame() if r.unit.startswith("130306")]

        spot = started(rows, actor=approver, scope="130306")

        assert spot.unit.value == "130306"

    def test_is_refused_to_a_clerk(self):
        with pytest.raises(NotPermitted) as refused:
            started(actor=Actor("clerk", "1303", Role.CLERK))

        assert refused.value.rule == "role"

    def test_is_refused_to_a_base_level_union(self):
        base = Actor("inspector", "130306001", Role.INSPECTOR)

        with pytest.raises(NotPermitted) as refused:
            started([], actor=base, scope="130306001")

        assert refused.value.rule == "district_or_above"

    def test_of_another_district_does_not_exist_for_a_district(self):
        with pytest.raises(OutOfScope):
            started(actor=Actor("inspector", "130306", Role.INSPECTOR), scope="130302")

    def test_needs_a_sample_size_or_a_fraction_but_not_both(self):
        with pytest.raises(InvalidValue):
            started(sample_size=None)
        with pytest.raises(InvalidValue):
            started(fraction=Decimal("0.5"))

    @pytest.mark.parametrize("size", [0, MAX_SAMPLE + 1])
    def test_refuses_a_sample_size_out_of_bounds(self, size: int):
        with pytest.raises(InvalidValue):
            started(sample_size=size)

    def test_refuses_a_stratum_unit_outside_its_scope(self):
        with pytest.raises(OutOfScope):
            started(strata=Strata(units=("130102",)))

    def test_refuses_a_frame_with_files_outside_its_scope(self):
        with pytest.raises(RuleViolated):
            started([FrameRow(UUID(int=1), "130102001", "approved", 2)])


class TestRecordingResults:
    def test_keeps_one_result_per_sampled_file(self):
        spot = started()

        spot.record_file(result(spot.sample[0]))

        assert [r.file_id for r in spot.results] == [spot.sample[0]]

    def test_refuses_a_file_outside_the_sample(self):
        spot = started()
        outside = next(r.file_id for r in frame() if r.file_id not in spot.sample)

        with pytest.raises(RuleViolated):
            spot.record_file(result(outside))

    def test_refuses_the_same_file_twice(self):
        spot = started()
        spot.record_file(result(spot.sample[0]))

        with pytest.raises(RuleViolated):
            spot.record_file(result(spot.sample[0]))

    def test_cannot_complete_before_every_sampled_file_is_checked(self):
        spot = started()
        spot.record_file(result(spot.sample[0]))

        with pytest.raises(RuleViolated):
            spot.complete()

    def test_takes_no_result_after_completion(self):
        spot = started(sample_size=1)
        spot.record_file(result(spot.sample[0]))
        spot.complete()

        with pytest.raises(WrongState):
            spot.complete()


class TestTheSummary:
    def completed(self) -> SpotCheck:
        spot = started(sample_size=6)
        a, b, c, d, e, f = spot.sample
        for r in (
            result(a),
            result(b, "R10", "R28"),
            result(c, "R22", ever_exited=True, approved=False, paired=False),
            result(d, ever_exited=True, approved=False, paired=False),
            result(e, "CHAIN", "R10", unit="130302001", paired=False),
            result(f, ever_approved=False, approved=False, paired=False),
        ):
            spot.record_file(r)
        spot.complete()
        return spot

    def test_counts_findings_and_files_by_rule(self):
        summary = self.completed().summary

        assert summary is not None
        assert summary.findings_by_rule == {"CHAIN": 1, "R10": 2, "R22": 1, "R28": 1}
        assert summary.files_by_rule == {"CHAIN": 1, "R10": 2, "R22": 1, "R28": 1}
        assert (summary.files_checked, summary.files_with_findings, summary.findings) == (6, 3, 5)

    def test_counts_files_and_findings_by_unit(self):
        summary = self.completed().summary

        assert summary is not None
        assert {
            u: (t.files, t.files_with_findings, t.findings) for u, t in summary.by_unit.items()
        } == {
            "130302001": (1, 1, 2),
            "130306001": (5, 2, 3),
        }

    def test_gives_the_wrong_recognition_rate_over_files_ever_approved(self):
        summary = self.completed().summary

        assert summary is not None
        assert summary.wrong_recognition == Rate(2, 5)

    def test_gives_the_wrong_exit_rate_over_exited_files(self):
        summary = self.completed().summary

        assert summary is not None
        assert summary.wrong_exit == Rate(1, 2)

    def test_gives_the_pairing_coverage_over_files_approved_now(self):
        summary = self.completed().summary

        assert summary is not None
        assert summary.pairing_coverage == Rate(2, 3)
        assert summary.pairing_coverage.value == Decimal("0.6667")
        assert summary.pairing_coverage.percent() == "66.67%"

    def test_of_nothing_has_no_rates(self):
        assert Rate(0, 0).value is None


class TestAFileProfile:
    def test_of_a_file_done_by_the_book_is_approved_and_paired(self):
        assert profile_of(history_of(clean_events())) == Profile(
            ever_approved=True, ever_exited=False, approved=True, paired=True
        )


class TestDrift:
    def test_is_nothing_when_the_ledger_row_equals_the_replay(self):
        final = history_of(clean_events()).final
        row = replayed_fields(final) | {"assistance_total": Decimal("800.00")}

        assert drifted(replayed_fields(final), row) == ()

    def test_names_every_field_that_differs(self):
        final = history_of(clean_events()).final
        row = replayed_fields(final) | {"status": "verified", "assistance_count": 7}

        assert drifted(replayed_fields(final), row) == ("status", "assistance_count")


class TestTheStoredEvents:
    def test_decode_to_what_was_encoded(self):
        codec = EventCodec()
        spot = started(sample_size=2, strata=Strata((Status.APPROVED,), ("130306",), Level.BASE))
        for file_id in spot.sample:
            spot.record_file(result(file_id, "R10", "DRIFT"))
        spot.complete()

        for e in spot.collect_events():
            name, payload = codec.encode(e)
            back = codec.decode(
                name,
                payload,
                stream_id=e.originator_id,
                version=e.originator_version,
                recorded_at=e.timestamp,
            )
            assert back == e, name
