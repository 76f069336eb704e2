"""一户一档: whom a file holds, which events change it, what a refusal tells whom, and the
cancellation of a duplicate naming the file kept (docs/rules.md, `one_file_per_person`)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest

from domain.errors import InvalidValue, NotPermitted, RuleViolated
from domain.events import EVENT_NAMES
from domain.household import HouseholdFile
from domain.onefile import (
    CHANGING_NAMES,
    AlreadyFiled,
    Claim,
    already_filed,
    changes_claims,
    claims,
)
from domain.values import ExitKind, ExitReason, Status

from .given import (
    ADMIN,
    APPROVER,
    CHILD_ID,
    CLERK,
    HEAD_ID,
    OTHER_DISTRICT_APPROVER,
    SPOUSE_ID,
    TODAY,
    assisting,
    child,
    exiting,
    given,
    history,
    record,
    spouse,
    then,
    then_refused,
    verification,
    when,
)

OTHER_FILE = UUID("00000000-0000-4000-8000-0000000000aa")
THIS_FILE = UUID("00000000-0000-4000-8000-0000000000bb")
HOLDER_UNIT = "130306002"  # a base union of the district (inside APPROVER's 130306)


def held(file: HouseholdFile) -> set[tuple[str, str]]:
    return {(c.id_number, c.role) for c in claims(file)}


def revising_members(*members):
    return lambda f: f.revise(
        actor=CLERK,
        effective_on=TODAY,
        reason="家庭成员变化",
        members=members,
        today=TODAY,
    )


def erasure():
    return {"actor": ADMIN, "erased_on": TODAY, "reason": "本人申请删除个人信息", "today": TODAY}


def verification_with_two():
    return verification(members=(spouse(), child()), annual_income=Decimal("9600"))


def cancelling_as_duplicate(**overrides):
    fields = {
        "actor": APPROVER,
        "exited_on": TODAY,
        "kind": ExitKind.CANCELLED,
        "reason": ExitReason.DUPLICATE,
        "explanation": "与另一单位档案重复",
        "evidence": ("核查记录",),
        "kept_file_id": OTHER_FILE,
        "today": TODAY,
    }
    return lambda f: f.exit(**(fields | overrides))


class TestWhomAFileHolds:
    def test_an_application_holds_its_head(self):
        file = given(*history(Status.APPLIED))

        assert held(file) == {(HEAD_ID, "head")}

    def test_a_home_investigation_holds_the_members_too(self):
        file = given(*history(Status.VERIFIED))

        assert held(file) == {(HEAD_ID, "head"), (SPOUSE_ID, "member")}

    def test_a_revision_that_removes_a_member_lets_them_go(self):
        file = given(*history(Status.APPROVED))

        when(file, revising_members(child()))

        assert held(file) == {(HEAD_ID, "head"), (CHILD_ID, "member")}

    @pytest.mark.parametrize(
        "status", [Status.OUT_OF_HARDSHIP, Status.CANCELLED, Status.DELETED, Status.REJECTED]
    )
    def test_a_closed_file_holds_nobody(self, status):
        file = given(*history(status))

        assert claims(file) == ()

    def test_a_relieved_file_keeps_its_people(self):
        file = given(*history(Status.RELIEVED))

        assert held(file) == {(HEAD_ID, "head"), (SPOUSE_ID, "member")}

    def test_a_returned_file_holds_its_people_again(self):
        file = given(*history(Status.RETURNED))

        assert held(file) == {(HEAD_ID, "head"), (SPOUSE_ID, "member")}

    def test_an_erased_file_holds_nobody(self):
        file = given(*history(Status.CANCELLED))
        when(file, lambda f: f.erase_personal_data(**erasure()))

        assert claims(file) == ()

    def test_names_each_person_by_the_field_a_refusal_points_at(self):
        file = given(*record(lambda f: f.verify(**verification_with_two())))

        assert [c.field for c in claims(file)] == [
            "head.id_number",
            "members[0].id_number",
            "members[1].id_number",
        ]


class TestTheEventsThatChangeWhomAFileHolds:
    def test_are_those_of_its_people_and_of_its_status(self):
        changing = {n for n in EVENT_NAMES if n.startswith("household.") and n in CHANGING_NAMES}

        assert changing == {
            "household.applied",
            "household.verified",
            "household.revised",
            "household.rejected",
            "household.exited",
            "household.returned",
            "household.personal_data_erased",
        }

    def test_leave_out_assistance(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, assisting())

        assert not changes_claims(outcome.events)

    def test_include_an_exit(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(ExitKind.CANCELLED, reason=ExitReason.MOVED))

        assert changes_claims(outcome.events)


class TestARefusal:
    CLAIM = Claim(HEAD_ID, "head", "head.id_number")

    def test_inside_the_callers_subtree_names_the_other_file_and_its_unit(self):
        refusal = already_filed(
            actor=APPROVER,
            claim=self.CLAIM,
            file_id=THIS_FILE,
            holder=OTHER_FILE,
            holder_unit=HOLDER_UNIT,
        )

        assert (refusal.holder, refusal.holder_unit, refusal.field) == (
            OTHER_FILE,
            HOLDER_UNIT,
            "head.id_number",
        )
        assert str(OTHER_FILE) in refusal.zh
        assert HOLDER_UNIT in refusal.zh
        assert str(OTHER_FILE) in refusal.message
        assert HOLDER_UNIT in refusal.message

    def test_outside_the_callers_subtree_names_neither_file_nor_unit(self):
        refusal = already_filed(
            actor=OTHER_DISTRICT_APPROVER,
            claim=self.CLAIM,
            file_id=THIS_FILE,
            holder=OTHER_FILE,
            holder_unit=HOLDER_UNIT,
        )

        assert (refusal.holder, refusal.holder_unit) == (None, None)
        for words in (refusal.zh, refusal.message):
            assert str(OTHER_FILE) not in words
            assert "130306" not in words
        assert refusal.zh == (
            "一户一档：该户主已在其他单位建档，不能重复建档；请由双方共同的上级工会核实处理"
        )
        assert "another unit" in refusal.message
        assert "a union above both" in refusal.message

    def test_is_a_rule_of_its_own(self):
        refusal = already_filed(
            actor=CLERK,
            claim=Claim(SPOUSE_ID, "member", "members[0].id_number"),
            file_id=THIS_FILE,
            holder=OTHER_FILE,
            holder_unit="130306001",
        )

        assert isinstance(refusal, AlreadyFiled)
        assert (refusal.rule, refusal.code) == ("one_file_per_person", "already_filed")
        assert "家庭成员" in refusal.zh


class TestCancellingADuplicate:
    def test_records_the_file_kept(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, cancelling_as_duplicate())

        then(
            outcome,
            HouseholdFile.Exited,
            kind=ExitKind.CANCELLED,
            reason=ExitReason.DUPLICATE,
            kept_file_id=OTHER_FILE,
        )

    @pytest.mark.parametrize("status", [Status.APPLIED, Status.VERIFIED, Status.RETURNED])
    def test_is_open_to_a_file_not_yet_approved_or_returned(self, status):
        file = given(*history(status))

        outcome = when(file, cancelling_as_duplicate())

        assert outcome.error is None
        assert file.status is Status.CANCELLED
        assert claims(file) == ()

    def test_is_refused_to_a_clerk(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, cancelling_as_duplicate(actor=CLERK))

        then_refused(outcome, NotPermitted)

    def test_is_refused_without_the_file_kept(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, cancelling_as_duplicate(kept_file_id=None))

        then_refused(outcome, RuleViolated, rule="duplicate_names_kept_file", field="kept_file_id")

    def test_recorded_from_an_imported_file_needs_no_file_kept(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, cancelling_as_duplicate(kept_file_id=None, imported=True))

        then(outcome, HouseholdFile.Exited, reason=ExitReason.DUPLICATE, kept_file_id=None)

    def test_is_refused_keeping_the_file_itself(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, lambda f: cancelling_as_duplicate(kept_file_id=f.id)(f))

        then_refused(outcome, RuleViolated, rule="duplicate_names_kept_file")

    def test_names_no_file_kept_for_another_reason(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file,
            exiting(ExitKind.CANCELLED, reason=ExitReason.MOVED, kept_file_id=OTHER_FILE),
        )

        then_refused(outcome, InvalidValue, field="kept_file_id")
