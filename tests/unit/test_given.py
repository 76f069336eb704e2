"""The given / when / then helper can fail: a helper that always passes would hide every defect."""

from __future__ import annotations

import pytest

from domain.errors import NotPermitted, WrongState
from domain.household import HouseholdFile
from domain.values import Category, Status

from .given import BASE_APPROVER, approval, given, history, then, then_refused, when


class TestGiven:
    def test_rebuilds_the_file_from_its_events(self):
        file = given(*history(Status.APPROVED))

        assert (file.status, file.version, file.category) == (Status.APPROVED, 4, Category.DEEP)

    def test_leaves_no_pending_events(self):
        file = given(*history(Status.APPROVED))

        assert file.pending_events == []


class TestThen:
    def test_fails_when_a_field_differs(self):
        outcome = when(given(*history(Status.APPRAISED)), lambda f: f.approve(**approval()))

        with pytest.raises(AssertionError, match="category"):
            then(outcome, HouseholdFile.Approved, category=Category.RELATIVE)

    def test_fails_when_the_event_type_differs(self):
        outcome = when(given(*history(Status.APPRAISED)), lambda f: f.approve(**approval()))

        with pytest.raises(AssertionError, match="expected one SentBack"):
            then(outcome, HouseholdFile.SentBack)

    def test_fails_when_a_named_field_does_not_exist(self):
        outcome = when(given(*history(Status.APPRAISED)), lambda f: f.approve(**approval()))

        with pytest.raises(AssertionError, match="no field"):
            then(outcome, HouseholdFile.Approved, categroy=Category.DEEP)

    def test_fails_when_the_command_was_refused(self):
        outcome = when(given(*history(Status.APPLIED)), lambda f: f.approve(**approval()))

        with pytest.raises(AssertionError, match="refused"):
            then(outcome, HouseholdFile.Approved)


class TestThenRefused:
    def test_fails_when_the_command_was_accepted(self):
        outcome = when(given(*history(Status.APPRAISED)), lambda f: f.approve(**approval()))

        with pytest.raises(AssertionError, match="recorded"):
            then_refused(outcome, WrongState)

    def test_fails_when_the_error_type_differs(self):
        outcome = when(
            given(*history(Status.APPRAISED)), lambda f: f.approve(**approval(actor=BASE_APPROVER))
        )

        with pytest.raises(AssertionError, match="expected WrongState"):
            then_refused(outcome, WrongState)

    def test_fails_when_an_attribute_differs(self):
        outcome = when(
            given(*history(Status.APPRAISED)), lambda f: f.approve(**approval(actor=BASE_APPROVER))
        )

        with pytest.raises(AssertionError, match="rule"):
            then_refused(outcome, NotPermitted, rule="role")
