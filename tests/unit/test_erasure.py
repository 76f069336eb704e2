"""销毁个人信息: a household's personal data is erased on request, once its file is closed.

The event records who, when and why; replaying it leaves every personal field of the head and the
members as the ERASED marker (what the store gives once the data key is destroyed), and the file
refuses every command afterwards.
"""

from __future__ import annotations

import pytest

from domain.errors import InvalidValue, NotPermitted, WrongState
from domain.household import OPEN, HouseholdFile
from domain.privacy import ERASED
from domain.values import ExitKind, Status

from .given import (
    ADMIN,
    APPROVER,
    PATHS,
    TODAY,
    assisting,
    exiting,
    given,
    head,
    history,
    record,
    returning,
    then,
    then_refused,
    when,
)

REASON = "本人依《个人信息保护法》申请删除"


def erasing(**overrides: object):  # type: ignore[no-untyped-def]
    fields = {"actor": ADMIN, "erased_on": TODAY, "reason": REASON, "today": TODAY} | overrides
    return lambda f: f.erase_personal_data(**fields)


class TestErasure:
    def test_is_recorded_with_who_when_and_why(self):
        file = given(*history(Status.CANCELLED))

        outcome = when(file, erasing())

        then(outcome, HouseholdFile.PersonalDataErased, erased_on=TODAY, reason=REASON, actor=ADMIN)

    def test_leaves_every_personal_field_of_the_head_erased(self):
        file = given(
            *record(
                *PATHS[Status.CANCELLED], head=head(health="尿毒症", bank_card="6222020200001234")
            )
        )

        when(file, erasing())

        assert (
            file.head.name,
            file.head.id_number,
            file.head.phone,
            file.head.address,
            file.head.health,
            file.head.bank_card,
        ) == (ERASED,) * 6

    def test_leaves_the_employer_and_the_figures_as_they_were(self):
        file = given(*history(Status.CANCELLED))
        employer, means, total = file.head.employer, file.means, file.assistance_total

        when(file, erasing())

        assert (file.head.employer, file.means, file.assistance_total) == (employer, means, total)
        assert file.status is Status.CANCELLED

    def test_leaves_every_member_erased(self):
        file = given(*history(Status.CANCELLED))
        assert file.members

        when(file, erasing())

        assert {(m.name, m.id_number) for m in file.members} == {(ERASED, ERASED)}

    def test_keeps_empty_fields_empty(self):
        file = given(*history(Status.CANCELLED))
        assert file.head.bank_card == ""

        when(file, erasing())

        assert file.head.bank_card == ""

    def test_is_the_same_when_replayed(self):
        file = given(*history(Status.CANCELLED))
        erased = when(file, erasing()).events

        replayed = given(*history(Status.CANCELLED), *erased)

        assert replayed.head == file.head
        assert replayed.members == file.members
        assert replayed.erased


class TestAnErasedFile:
    @pytest.mark.parametrize(
        "command",
        [returning(), exiting(ExitKind.DELETED), erasing(), assisting()],
        ids=["return", "delete", "erase again", "assist"],
    )
    def test_refuses_every_command(self, command):
        file = given(*history(Status.OUT_OF_HARDSHIP))
        when(file, erasing())
        file.collect_events()

        outcome = when(file, command)

        then_refused(outcome, WrongState)


class TestErasureIsRefused:
    @pytest.mark.parametrize("status", sorted(OPEN))
    def test_while_the_file_is_open(self, status):
        file = given(*history(status))

        outcome = when(file, erasing())

        then_refused(outcome, WrongState, status=status.value)

    def test_to_an_approver(self):
        file = given(*history(Status.CANCELLED))

        outcome = when(file, erasing(actor=APPROVER))

        then_refused(outcome, NotPermitted, rule="role")

    @pytest.mark.parametrize("reason", ["", "  ", "x" * 201])
    def test_without_a_short_reason(self, reason):
        file = given(*history(Status.CANCELLED))

        outcome = when(file, erasing(reason=reason))

        then_refused(outcome, InvalidValue)
