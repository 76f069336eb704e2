"""脱困 / 解困 / 注销: leaving the file, always with kind, a reason that fits it, and evidence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from domain.errors import InvalidValue, NotPermitted, OutOfScope, RuleViolated
from domain.household import EXIT_REASONS, HouseholdFile
from domain.values import ExitKind, ExitReason, Material, Status

from .given import (
    APPROVED_ON,
    APPROVER,
    BASE_APPROVER,
    CLERK,
    OTHER_CLERK,
    PARAMETERS,
    RAISED_ON,
    TODAY,
    above_the_line,
    appraising,
    approving,
    before_exit,
    departure,
    exiting,
    given,
    history,
    in_force,
    raising_income,
    record,
    spouse,
    then,
    then_refused,
    verifying,
    when,
)

FITTING: dict[ExitKind, set[ExitReason]] = {
    ExitKind.OUT_OF_HARDSHIP: {ExitReason.INCOME_ABOVE_LINE},
    ExitKind.RELIEVED: {ExitReason.SAFETY_NET},
    ExitKind.CANCELLED: {
        ExitReason.DEATH,
        ExitReason.INELIGIBLE,
        ExitReason.RETIRED,
        ExitReason.MOVED,
        ExitReason.DUPLICATE,
    },
    ExitKind.DELETED: {ExitReason.ERRONEOUS_RECORD, ExitReason.DUPLICATE},
}
KEPT = UUID("00000000-0000-4000-8000-00000000000b")
LEAVING = [ExitKind.OUT_OF_HARDSHIP, ExitKind.RELIEVED, ExitKind.CANCELLED]
MISFITS = [(k, r) for k in LEAVING for r in ExitReason if r not in FITTING[k]]
FITS = [(k, r) for k in LEAVING for r in sorted(FITTING[k])]


class TestTheReasonsTable:
    def test_matches_the_documented_exits(self):
        assert {k: set(v) for k, v in EXIT_REASONS.items()} == FITTING


class TestAnExit:
    @pytest.mark.parametrize("kind", LEAVING)
    def test_records_kind_reason_explanation_and_evidence(self, kind):
        file = given(*before_exit(kind))

        outcome = when(file, exiting(kind, evidence=("收入证明", "走访记录")))

        then(
            outcome,
            HouseholdFile.Exited,
            kind=kind,
            explanation="情况说明",
            evidence=("收入证明", "走访记录"),
            exited_on=departure(kind)["exited_on"],
        )

    @pytest.mark.parametrize(
        ("kind", "status"),
        [
            (ExitKind.OUT_OF_HARDSHIP, Status.OUT_OF_HARDSHIP),
            (ExitKind.RELIEVED, Status.RELIEVED),
            (ExitKind.CANCELLED, Status.CANCELLED),
        ],
    )
    def test_leaves_the_file_in_the_status_of_its_kind(self, kind, status):
        file = given(*before_exit(kind))

        when(file, exiting(kind))

        assert (file.status, file.exit_kind, file.is_open()) == (status, kind, False)

    def test_puts_the_evidence_on_file(self):
        file = given(*history(Status.APPROVED))

        when(file, exiting(ExitKind.CANCELLED))

        assert Material.EXIT_EVIDENCE in file.materials

    @pytest.mark.parametrize(("kind", "reason"), FITS)
    def test_accepts_a_reason_that_fits_its_kind(self, kind, reason):
        file = given(*before_exit(kind))
        # 重复建档 is the district's act and names the file kept (tests/unit/test_one_file.py)
        duplicate = (
            {"actor": APPROVER, "kept_file_id": KEPT} if reason is ExitReason.DUPLICATE else {}
        )

        outcome = when(file, exiting(kind, reason=reason, **duplicate))

        then(outcome, HouseholdFile.Exited, kind=kind, reason=reason)

    @pytest.mark.parametrize(("kind", "reason"), MISFITS)
    def test_refuses_a_reason_that_does_not_fit_its_kind(self, kind, reason):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(kind, reason=reason))

        then_refused(outcome, RuleViolated, rule="exit_reason_fits_kind", field="reason")

    def test_refuses_no_evidence(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.CANCELLED, evidence=()))

        then_refused(outcome, RuleViolated, rule="exit_evidence", field="evidence")

    def test_refuses_blank_evidence(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.CANCELLED, evidence=(" ",)))

        then_refused(outcome, InvalidValue, field="evidence")

    def test_refuses_no_explanation(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.CANCELLED, explanation=""))

        then_refused(outcome, InvalidValue, field="explanation")

    def test_refuses_an_unknown_kind(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: f.exit(**departure(ExitKind.CANCELLED) | {"kind": "death"}))

        then_refused(outcome, InvalidValue, field="kind")

    def test_is_recorded_by_the_base_level_clerk(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.CANCELLED, actor=CLERK))

        then(outcome, HouseholdFile.Exited, actor=CLERK)

    def test_is_refused_to_a_clerk_of_another_union(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.CANCELLED, actor=OTHER_CLERK))

        then_refused(outcome, OutOfScope)

    def test_is_not_dated_before_the_approval(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.CANCELLED, exited_on=date(2026, 3, 24)))

        then_refused(outcome, InvalidValue, field="exited_on")

    def test_may_be_dated_the_day_of_the_approval(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.CANCELLED, exited_on=APPROVED_ON))

        then(outcome, HouseholdFile.Exited, exited_on=APPROVED_ON)

    def test_is_not_dated_after_today(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.CANCELLED, exited_on=date(2026, 11, 22)))

        then_refused(outcome, InvalidValue, field="exited_on")


class TestLeavingHardship:
    """脱困 rests on recorded means (a revision or re-check) above the line in force for the
    region's months; the event records what it rests on."""

    def test_rests_on_six_months_of_recorded_means_above_the_line(self):
        file = given(*above_the_line())

        outcome = when(file, exiting(ExitKind.OUT_OF_HARDSHIP, months_above_line=None))

        then(
            outcome,
            HouseholdFile.Exited,
            kind=ExitKind.OUT_OF_HARDSHIP,
            months_above_line=6,
            required_months_above_line=6,
            poverty_line=Decimal("550.00"),
            above_line_since=RAISED_ON,
            adjusted_per_capita=Decimal("850.00"),
        )

    def test_is_refused_after_five_months_above_the_line(self):
        file = given(*above_the_line())

        outcome = when(file, exiting(ExitKind.OUT_OF_HARDSHIP, exited_on=date(2026, 9, 24)))

        then_refused(outcome, RuleViolated, rule="months_above_line", field="months_above_line")

    def test_is_refused_without_recorded_means(self):
        # 15 days after approval, income typed as six months above the line: no data behind it
        file = given(*history(Status.APPROVED))

        outcome = when(
            file,
            exiting(ExitKind.OUT_OF_HARDSHIP, exited_on=date(2026, 4, 9), months_above_line=6),
        )

        error = then_refused(outcome, RuleViolated, rule="means_recorded_for_exit")
        assert "动态调整" in error.zh

    def test_is_refused_when_the_latest_recorded_means_are_below_the_line(self):
        file = given(*above_the_line())
        when(file, raising_income(effective_on=date(2026, 8, 1), members=(spouse(),)))

        outcome = when(file, exiting(ExitKind.OUT_OF_HARDSHIP))

        then_refused(outcome, RuleViolated, rule="means_recorded_for_exit")

    def test_counts_the_months_from_the_first_record_of_the_last_run_above_the_line(self):
        file = given(*above_the_line())
        when(file, raising_income(effective_on=date(2026, 5, 1), members=(spouse(),)))
        when(file, raising_income(effective_on=date(2026, 6, 1)))

        outcome = when(file, exiting(ExitKind.OUT_OF_HARDSHIP, exited_on=date(2026, 11, 20)))

        then_refused(outcome, RuleViolated, rule="months_above_line")  # 5 months since 1 June

    def test_rests_on_a_re_check_too(self):
        # approved under a line of 900, re-checked under 550: 783 a month is above it
        file = given(
            *record(
                verifying(annual_income=Decimal("20000")),
                appraising(),
                approving(parameters=in_force(poverty_line=Decimal("900"))),
                lambda f: f.recheck(
                    actor=CLERK, rechecked_on=date(2026, 4, 1), parameters=PARAMETERS, today=TODAY
                ),
            )
        )

        outcome = when(file, exiting(ExitKind.OUT_OF_HARDSHIP, exited_on=date(2026, 10, 1)))

        then(outcome, HouseholdFile.Exited, above_line_since=date(2026, 4, 1), months_above_line=6)

    def test_is_refused_when_more_months_are_claimed_than_the_data_show(self):
        file = given(*above_the_line())

        outcome = when(file, exiting(ExitKind.OUT_OF_HARDSHIP, months_above_line=7))

        then_refused(outcome, RuleViolated, rule="months_above_line")

    def test_is_judged_by_the_line_in_force_on_the_exit_date(self):
        file = given(*above_the_line())

        outcome = when(
            file,
            exiting(ExitKind.OUT_OF_HARDSHIP, parameters=in_force(poverty_line=Decimal("900"))),
        )

        then_refused(outcome, RuleViolated, rule="means_recorded_for_exit")  # 850 ≤ 900

    @pytest.mark.parametrize("months", ["6", 6.0, True])
    def test_is_refused_with_months_that_are_not_a_whole_number(self, months):
        file = given(*above_the_line())

        outcome = when(file, exiting(ExitKind.OUT_OF_HARDSHIP, months_above_line=months))

        then_refused(outcome, RuleViolated, rule="months_above_line")

    def test_follows_the_regional_number_of_months(self):
        file = given(*above_the_line())

        outcome = when(
            file,
            exiting(
                ExitKind.OUT_OF_HARDSHIP,
                exited_on=date(2026, 6, 30),
                months_above_line=3,
                parameters=in_force(exit_months_above_line=3),
            ),
        )

        then(outcome, HouseholdFile.Exited, months_above_line=3, required_months_above_line=3)

    def test_is_refused_below_a_stricter_regional_number_of_months(self):
        file = given(*above_the_line())

        outcome = when(
            file,
            exiting(ExitKind.OUT_OF_HARDSHIP, parameters=in_force(exit_months_above_line=12)),
        )

        then_refused(outcome, RuleViolated, rule="months_above_line")

    @pytest.mark.parametrize("kind", [ExitKind.RELIEVED, ExitKind.CANCELLED])
    def test_is_the_only_exit_that_records_months_above_the_line(self, kind):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(kind, months_above_line=6))

        then_refused(outcome, InvalidValue, field="months_above_line")


class TestARelievedFile:
    def test_may_later_be_cancelled(self):
        file = given(*history(Status.RELIEVED))

        outcome = when(file, exiting(ExitKind.CANCELLED, exited_on=date(2026, 7, 1)))

        then(outcome, HouseholdFile.Exited, kind=ExitKind.CANCELLED)

    def test_may_later_leave_hardship(self):
        file = given(*history(Status.RELIEVED))
        when(file, raising_income(effective_on=date(2026, 4, 1)))

        outcome = when(file, exiting(ExitKind.OUT_OF_HARDSHIP, exited_on=date(2026, 10, 1)))

        then(outcome, HouseholdFile.Exited, kind=ExitKind.OUT_OF_HARDSHIP)

    def test_cannot_leave_on_a_date_before_its_relief(self):
        file = given(*history(Status.RELIEVED))

        outcome = when(file, exiting(ExitKind.CANCELLED, exited_on=date(2026, 5, 1)))

        then_refused(outcome, InvalidValue, field="exited_on")


class TestDeletionByExit:
    def test_is_refused_to_a_base_level_approver(self):
        file = given(*history(Status.CANCELLED))

        outcome = when(file, exiting(ExitKind.DELETED, actor=BASE_APPROVER))

        then_refused(outcome, NotPermitted, rule="district_or_above")
