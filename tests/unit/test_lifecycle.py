"""The lifecycle (DOMAIN.md): each command only from the statuses the lifecycle allows.

The expected table is written out here from DOMAIN.md rather than read from `ALLOWED_FROM`, so a
wrong change to the domain's table fails a test instead of silently agreeing with itself.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from domain.attachments import MediaType
from domain.errors import InvalidValue, RuleViolated, WrongState
from domain.household import ALLOWED_FROM, HouseholdFile
from domain.values import (
    AssistanceKind,
    Cause,
    Department,
    ExitKind,
    ExitReason,
    FileLevel,
    FindingCheck,
    FollowUpOutcome,
    Material,
    Status,
)

from .given import (
    ADMIN,
    APPROVER,
    OTHER_BASE,
    PARAMETERS,
    TODAY,
    Command,
    appraisal,
    appraising,
    approval,
    approving,
    assistance,
    exiting,
    given,
    history,
    homecoming,
    in_force,
    record,
    then,
    then_refused,
    verification,
    verifying,
    when,
)

S = Status
OPEN = {S.APPLIED, S.VERIFIED, S.APPRAISED, S.APPROVED, S.SENT_BACK, S.RETURNED}
EXITED = {S.OUT_OF_HARDSHIP, S.RELIEVED, S.CANCELLED}
BEFORE_REVIEW = {S.APPLIED, S.VERIFIED, S.SENT_BACK, S.RETURNED}

LIFECYCLE: dict[str, set[Status]] = {
    "verify": {S.APPLIED, S.SENT_BACK, S.RETURNED},
    "appraise": {S.VERIFIED},
    "approve": {S.APPRAISED},
    "send_back": {S.APPRAISED},
    "reject": BEFORE_REVIEW | {S.APPRAISED},
    # a relieved (解困) household keeps its regular aid (常态化帮扶, seeds 001 and 004)
    "assist": {S.APPROVED, S.RELIEVED},
    "agree_plan": {S.APPROVED, S.RELIEVED},
    "visit": {S.APPROVED, S.RELIEVED},
    "revise": {S.APPROVED, S.RELIEVED},
    "recheck": {S.APPROVED, S.RELIEVED},
    "exit": {S.APPROVED, S.RELIEVED},  # a relieved household may later leave for good
    "delete": set(Status) - {S.DELETED},
    "return_": EXITED,
    "transfer": OPEN | {S.RELIEVED},
    "erase_personal_data": set(Status) - OPEN,  # on request, once the file is closed
    "check_finding": set(Status) - {S.DELETED},  # a civil-affairs finding, on any live file
    "follow_up": {S.OUT_OF_HARDSHIP, S.RELIEVED},  # 回头看 (seed 001)
    # an approver confirms a re-check's category, or keeps a file due to exit
    "confirm_category": {S.APPROVED, S.RELIEVED},
    "keep": {S.APPROVED, S.RELIEVED},
    "attach": OPEN | {S.RELIEVED},  # proof, while open, relieved or under follow-up
    "cancel_duplicate": OPEN | {S.RELIEVED},  # 重复建档: while the file holds its people
}
# Allowed from these statuses only once a re-check found a category or the file is due to exit:
# tests/unit/test_rechecks_with_consequences.py takes them from there.
NEEDS_MORE_THAN_A_STATUS = {"confirm_category", "keep"}

# Every command, dated today and done by the district's approver (who may do anything to the
# file), so that the status is the only thing that can refuse it.
ANY_DAY = {"today": TODAY, "actor": APPROVER}
VALID: dict[str, Command] = {
    "verify": lambda f: f.verify(**verification(verified_on=TODAY, **ANY_DAY)),
    "appraise": lambda f: f.appraise(
        **appraisal(
            appraised_on=TODAY,
            publicity_start=TODAY,
            publicity_end=TODAY,
            parameters=in_force(publicity_days=1),  # this table is about statuses
            **ANY_DAY,
        )
    ),
    "approve": lambda f: f.approve(**approval(approved_on=TODAY, **ANY_DAY)),
    "send_back": lambda f: f.send_back(sent_back_on=TODAY, reason="材料不全", **ANY_DAY),
    "reject": lambda f: f.reject(rejected_on=TODAY, reason="不符合条件", **ANY_DAY),
    "assist": lambda f: f.assist(**assistance(assisted_on=TODAY, **ANY_DAY)),
    "agree_plan": lambda f: f.agree_plan(
        agreed_on=TODAY,
        helper="孙三",
        measures=("技能培训",),
        goals="一年内再就业",
        deadline=TODAY,
        signed_by_worker=True,
        **ANY_DAY,
    ),
    "visit": lambda f: f.visit(visited_on=TODAY, cadre="孙三", content="季度走访", **ANY_DAY),
    "revise": lambda f: f.revise(
        effective_on=TODAY, reason="收入变化", annual_income=Decimal("9000"), **ANY_DAY
    ),
    "recheck": lambda f: f.recheck(rechecked_on=TODAY, parameters=PARAMETERS, **ANY_DAY),
    "exit": lambda f: f.exit(
        exited_on=TODAY,
        parameters=PARAMETERS,
        kind=ExitKind.CANCELLED,
        reason=ExitReason.DEATH,
        explanation="户主病故",
        evidence=("死亡证明",),
        **ANY_DAY,
    ),
    "delete": lambda f: f.exit(
        exited_on=TODAY,
        kind=ExitKind.DELETED,
        reason=ExitReason.ERRONEOUS_RECORD,
        explanation="误录",
        evidence=("核查记录",),
        **ANY_DAY,
    ),
    "return_": lambda f: f.return_(**homecoming(returned_on=TODAY, **ANY_DAY)),
    "transfer": lambda f: f.transfer(
        transferred_on=TODAY, to_unit=OTHER_BASE, reason="调换工作单位", **ANY_DAY
    ),
    # the one act of an admin: erasing the household's personal data on request
    "erase_personal_data": lambda f: f.erase_personal_data(
        erased_on=TODAY, reason="本人申请删除个人信息", today=TODAY, actor=ADMIN
    ),
    "check_finding": lambda f: f.check_finding(
        checked_on=TODAY,
        finding="vehicle_not_declared",
        result=FindingCheck.UNFOUNDED,
        reason="车辆登记人为同名他人",
        **ANY_DAY,
    ),
    "confirm_category": lambda f: f.confirm_category(confirmed_on=TODAY, **ANY_DAY),
    "keep": lambda f: f.keep(kept_on=TODAY, reason="核实后仍符合条件", **ANY_DAY),
    "follow_up": lambda f: f.follow_up(
        followed_up_on=TODAY, cadre="孙三", result=FollowUpOutcome.STABLE, **ANY_DAY
    ),
    "cancel_duplicate": lambda f: f.exit(
        exited_on=TODAY,
        kind=ExitKind.CANCELLED,
        reason=ExitReason.DUPLICATE,
        explanation="与另一档案重复",
        evidence=("核查记录",),
        kept_file_id=UUID(int=2),
        **ANY_DAY,
    ),
    "attach": lambda f: f.attach(
        attachment_id=UUID(int=1),
        kind=Material.ID_COPY,
        name="身份证.jpg",
        media_type=MediaType.JPEG,
        size=1000,
        sha256="0" * 64,
        **ANY_DAY,
    ),
}
RECORDS: dict[str, type[HouseholdFile.Event]] = {
    "verify": HouseholdFile.Verified,
    "appraise": HouseholdFile.Appraised,
    "approve": HouseholdFile.Approved,
    "send_back": HouseholdFile.SentBack,
    "reject": HouseholdFile.Rejected,
    "assist": HouseholdFile.Assisted,
    "agree_plan": HouseholdFile.PlanAgreed,
    "visit": HouseholdFile.Visited,
    "revise": HouseholdFile.Revised,
    "recheck": HouseholdFile.Rechecked,
    "exit": HouseholdFile.Exited,
    "delete": HouseholdFile.Exited,
    "return_": HouseholdFile.Returned,
    "transfer": HouseholdFile.Transferred,
    "erase_personal_data": HouseholdFile.PersonalDataErased,
    "check_finding": HouseholdFile.FindingChecked,
    "follow_up": HouseholdFile.FollowedUp,
    "confirm_category": HouseholdFile.CategoryConfirmed,
    "keep": HouseholdFile.KeptOnRecord,
    "attach": HouseholdFile.AttachmentAdded,
    "cancel_duplicate": HouseholdFile.Exited,
}

REFUSED = [(c, s) for c, allowed in LIFECYCLE.items() for s in Status if s not in allowed]
ACCEPTED = [
    (c, s)
    for c, allowed in LIFECYCLE.items()
    for s in Status
    if s in allowed and c not in NEEDS_MORE_THAN_A_STATUS
]


class TestTheLifecycleTable:
    def test_matches_the_documented_lifecycle(self):
        assert {c: set(s) for c, s in ALLOWED_FROM.items()} == LIFECYCLE


class TestEveryCommand:
    @pytest.mark.parametrize(("command", "status"), REFUSED)
    def test_is_refused_from_a_status_the_lifecycle_does_not_allow(self, command, status):
        file = given(*history(status))

        outcome = when(file, VALID[command])

        then_refused(outcome, WrongState, status=status.value)

    @pytest.mark.parametrize(("command", "status"), ACCEPTED)
    def test_is_recorded_from_every_status_the_lifecycle_allows(self, command, status):
        file = given(*history(status))

        outcome = when(file, VALID[command])

        then(outcome, RECORDS[command])


class TestADeletedFile:
    @pytest.mark.parametrize("command", sorted(set(VALID) - {"erase_personal_data"}))
    def test_refuses_every_command(self, command):
        file = given(*history(S.DELETED))

        outcome = when(file, VALID[command])

        then_refused(outcome, WrongState)


class TestARelievedFile:
    def test_cannot_be_relieved_again(self):
        file = given(*history(S.RELIEVED))

        outcome = when(
            file,
            lambda f: f.exit(
                exited_on=TODAY,
                kind=ExitKind.RELIEVED,
                reason=ExitReason.SAFETY_NET,
                explanation="纳入低保",
                evidence=("低保证",),
                **ANY_DAY,
            ),
        )

        then_refused(outcome, WrongState)


class TestReturn:
    @pytest.mark.parametrize("status", sorted(EXITED))
    def test_reopens_an_exited_file_as_returned(self, status):
        file = given(*history(status))

        outcome = when(file, VALID["return_"])

        assert outcome.file is not None
        assert outcome.file.status is S.RETURNED

    @pytest.mark.parametrize("status", sorted(set(Status) - EXITED))
    def test_is_refused_unless_the_file_has_exited(self, status):
        file = given(*history(status))

        outcome = when(file, VALID["return_"])

        then_refused(outcome, WrongState, command="return")

    def test_records_the_cause_and_reason(self):
        file = given(*history(S.OUT_OF_HARDSHIP))

        outcome = when(file, VALID["return_"])

        then(
            outcome,
            HouseholdFile.Returned,
            cause=Cause.UNEMPLOYMENT,
            reason="再次失业",
            returned_on=TODAY,
        )

    def test_is_not_dated_before_the_exit(self):
        file = given(*history(S.OUT_OF_HARDSHIP))

        outcome = when(file, lambda f: f.return_(**homecoming(returned_on=date(2026, 6, 29))))

        then_refused(outcome, InvalidValue, field="returned_on")


class TestAReturnedFile:
    def test_cannot_be_assisted_before_it_is_approved_again(self):
        file = given(*history(S.RETURNED))

        outcome = when(file, VALID["assist"])

        then_refused(outcome, WrongState, status="returned")

    def test_cannot_be_approved_without_a_new_investigation(self):
        file = given(*history(S.RETURNED))

        outcome = when(file, VALID["approve"])

        then_refused(outcome, WrongState)

    def test_cannot_be_appraised_without_a_new_investigation(self):
        file = given(*history(S.RETURNED))

        outcome = when(file, VALID["appraise"])

        then_refused(outcome, WrongState)

    def test_is_assisted_again_after_verification_appraisal_and_approval(self):
        file = given(*history(S.RETURNED))
        for step in ("verify", "appraise", "approve"):
            when(file, VALID[step])

        outcome = when(file, VALID["assist"])

        then(
            outcome,
            HouseholdFile.Assisted,
            kind=AssistanceKind.LIVING_AID,
            department=Department.UNION,
        )

    def test_counts_the_return(self):
        file = given(*history(S.RETURNED))

        assert file.returns == 1

    def test_is_approved_again_with_its_new_date(self):
        file = given(*history(S.RETURNED))
        for step in ("verify", "appraise"):
            when(file, VALID[step])

        outcome = when(file, VALID["approve"])

        then(outcome, HouseholdFile.Approved, approved_on=TODAY, file_level=FileLevel.DISTRICT)


class TestNoReturn:
    def test_from_a_file_cancelled_because_the_head_died(self):
        file = given(
            *record(
                verifying(), appraising(), approving(), exiting(ExitKind.CANCELLED)
            )  # the canonical cancellation for death
        )

        outcome = when(file, VALID["return_"])

        then_refused(outcome, RuleViolated, rule="no_return_after_death")

    def test_from_a_deleted_file(self):
        file = given(*history(S.DELETED))

        outcome = when(file, VALID["return_"])

        then_refused(outcome, WrongState, status="deleted")

    @pytest.mark.parametrize(
        "reason", [ExitReason.INELIGIBLE, ExitReason.RETIRED, ExitReason.MOVED]
    )
    def test_but_from_a_cancellation_for_another_reason(self, reason):
        file = given(
            *record(
                verifying(), appraising(), approving(), exiting(ExitKind.CANCELLED, reason=reason)
            )
        )

        outcome = when(file, VALID["return_"])

        then(outcome, HouseholdFile.Returned)
