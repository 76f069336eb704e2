"""A file recorded from an existing one (a spreadsheet import): a document or file level the record
does not show is recorded as unknown, never assumed; a live decision still needs them."""

from __future__ import annotations

from domain.errors import InvalidValue, RuleViolated
from domain.household import HouseholdFile
from domain.values import Material, Status

from .given import application, appraising, approving, given, history, then, then_refused, when


class TestAnImportedApplication:
    def test_without_a_recorded_authorisation_records_it_as_unknown(self) -> None:
        outcome = when(
            None,
            lambda _: HouseholdFile.receive_application(
                **application(authorisation_signed=None, imported=True)
            ),
        )

        event = then(outcome, HouseholdFile.Applied, authorisation_signed=None)
        assert Material.AUTHORISATION not in event.materials  # type: ignore[attr-defined]

    def test_recorded_without_the_authorisation_is_refused(self) -> None:
        outcome = when(
            None,
            lambda _: HouseholdFile.receive_application(
                **application(authorisation_signed=False, imported=True)
            ),
        )

        then_refused(outcome, RuleViolated, rule="authorisation_on_file")


class TestALiveApplication:
    def test_with_an_unknown_authorisation_is_refused(self) -> None:
        outcome = when(
            None,
            lambda _: HouseholdFile.receive_application(**application(authorisation_signed=None)),
        )

        then_refused(outcome, RuleViolated, rule="authorisation_on_file")


class TestAnImportedAppraisal:
    def test_without_recorded_minutes_records_them_as_unknown(self) -> None:
        file = given(*history(Status.VERIFIED))

        outcome = when(file, appraising(minutes_on_file=None, imported=True))

        then(outcome, HouseholdFile.Appraised, minutes_on_file=None)
        assert Material.APPRAISAL_MINUTES not in file.materials

    def test_live_with_unknown_minutes_is_refused(self) -> None:
        file = given(*history(Status.VERIFIED))

        outcome = when(file, appraising(minutes_on_file=None))

        then_refused(outcome, RuleViolated, rule="appraisal_minutes")


class TestAnImportedApproval:
    def test_without_a_file_level_records_it_as_unknown(self) -> None:
        file = given(*history(Status.APPRAISED))

        outcome = when(file, approving(file_level=None, imported=True))

        then(outcome, HouseholdFile.Approved, file_level=None)

    def test_live_without_a_file_level_is_refused(self) -> None:
        file = given(*history(Status.APPRAISED))

        outcome = when(file, approving(file_level=None))

        then_refused(outcome, InvalidValue, field="file_level")
