"""申请: a written application with the signed authorisation opens a file at a base-level union."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from domain.errors import InvalidIdNumber, InvalidValue, NotPermitted, OutOfScope, RuleViolated
from domain.household import HouseholdFile
from domain.idnumber import make_id_number
from domain.values import Actor, Material, Role, Status

from .given import (
    APPLIED_ON,
    BASE,
    DISTRICT,
    HEAD_ID,
    OTHER_CLERK,
    TODAY,
    application,
    head,
    then,
    then_refused,
    when,
)


def applying(**overrides):
    return lambda _: HouseholdFile.receive_application(**application(**overrides))


class TestAnApplication:
    def test_opens_a_file_at_the_base_level_union(self):
        outcome = when(None, applying())

        then(
            outcome,
            HouseholdFile.Applied,
            establishing_unit=BASE,
            applied_on=APPLIED_ON,
            authorisation_signed=True,
        )

    def test_leaves_the_file_applied(self):
        outcome = when(None, applying())

        assert outcome.file is not None
        assert outcome.file.status is Status.APPLIED

    def test_takes_the_region_from_the_establishing_unit(self):
        outcome = when(None, applying())

        then(outcome, HouseholdFile.Applied, region="130306")

    def test_puts_the_application_and_authorisation_on_file(self):
        outcome = when(None, applying(materials=(Material.ID_COPY,)))

        then(
            outcome,
            HouseholdFile.Applied,
            materials=(Material.APPLICATION, Material.AUTHORISATION, Material.ID_COPY),
        )

    def test_is_refused_without_the_signed_authorisation(self):
        outcome = when(None, applying(authorisation_signed=False))

        then_refused(outcome, RuleViolated, rule="authorisation_on_file")

    def test_is_refused_at_a_district_union(self):
        outcome = when(
            None, applying(establishing_unit=DISTRICT, actor=Actor("clerk", DISTRICT, Role.CLERK))
        )

        then_refused(outcome, RuleViolated, rule="establishing_unit_is_base")

    def test_is_refused_to_a_clerk_of_another_union(self):
        outcome = when(None, applying(actor=OTHER_CLERK))

        then_refused(outcome, OutOfScope)

    def test_is_refused_to_an_inspector(self):
        outcome = when(None, applying(actor=Actor("inspector", BASE, Role.INSPECTOR)))

        then_refused(outcome, NotPermitted, rule="role")

    def test_is_refused_when_dated_after_today(self):
        outcome = when(None, applying(applied_on=date(2026, 11, 22)))

        then_refused(outcome, InvalidValue, field="applied_on")

    def test_is_accepted_when_dated_today(self):
        outcome = when(None, applying(applied_on=TODAY))

        then(outcome, HouseholdFile.Applied, applied_on=TODAY)

    def test_keeps_the_file_id_it_is_given(self):
        file_id = UUID("6f1c3a52-8a4e-4a39-9f0e-2f9a1b7c0d11")

        outcome = when(None, applying(file_id=file_id))

        assert outcome.file is not None
        assert outcome.file.id == file_id


class TestTheHeadOfHousehold:
    def test_is_refused_with_an_invalid_id_number(self):
        outcome = when(None, applying(head=head(id_number=HEAD_ID[:-1] + "0")))

        then_refused(outcome, InvalidIdNumber, field="head.id_number")

    def test_is_refused_with_a_birth_date_after_today(self):
        outcome = when(
            None,
            applying(head=head(id_number=make_id_number("130306", date(2026, 11, 22), 11).value)),
        )

        then_refused(outcome, InvalidIdNumber, field="head.id_number")

    def test_has_the_id_number_stored_normalised(self):
        full_width = HEAD_ID.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})

        outcome = when(None, applying(head=head(id_number=full_width)))

        event = then(outcome, HouseholdFile.Applied)
        assert event.head.id_number == HEAD_ID

    def test_is_refused_without_a_name(self):
        outcome = when(None, applying(head=head(name="  ")))

        then_refused(outcome, InvalidValue, field="head.name")

    def test_keeps_a_name_outside_the_basic_plane(self):
        outcome = when(None, applying(head=head(name="张𠀀")))

        event = then(outcome, HouseholdFile.Applied)
        assert event.head.name == "张𠀀"
