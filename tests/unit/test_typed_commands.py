"""Typed commands (domain/commands.py): every HTTP body builds its command, every command reaches
its `HouseholdFile` method with all its fields, and the example of every body runs.

A body that drops or swaps a field, a command that no longer matches its method (a field, a name
or a default), or a body or command without its counterpart fails here, not on a request.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from datetime import date
from typing import Any

import msgspec
import pytest

from adapters.http.app import COMMAND_ROUTES
from adapters.http.schemas import EXAMPLES, ApplicationIn
from domain import commands
from domain.commands import Apply, LifecycleCommand, execute, receive
from domain.household import ALLOWED_FROM, CommandKind, HouseholdFile
from domain.units import GEOGRAPHIC
from domain.values import Status

from .given import (
    APPROVER,
    CLERK,
    PARAMETERS,
    above_the_line,
    category_changed,
    due_to_exit,
    given,
    history,
    then,
    when,
)

# After every date in the examples (the latest is a return on 2027-12-01).
LATER = date(2028, 1, 1)
# Set only by the spreadsheet import: a record of an existing file, and the regional parameters
# of the policy book; an HTTP body leaves them at their defaults.
# `parameters`: the regional parameters in force, which the use case looks up for the command's date
IMPORT_ONLY = {"imported", "parameters", "meeting"}  # meeting: the use case looks it up

COMMAND_BODIES = [body for body in EXAMPLES if hasattr(body, "command")]
LIFECYCLE_BODIES = [body for body in COMMAND_BODIES if body is not ApplicationIn]
LIFECYCLE_COMMANDS = typing.get_args(LifecycleCommand)

# Where each command's example runs: a file in a status it starts from, the actor, the event.
RUNS_ON: dict[type, tuple[Status, Any, type[HouseholdFile.Event]]] = {
    commands.Verify: (Status.APPLIED, CLERK, HouseholdFile.Verified),
    commands.Appraise: (Status.VERIFIED, CLERK, HouseholdFile.Appraised),
    commands.Approve: (Status.APPRAISED, APPROVER, HouseholdFile.Approved),
    commands.SendBack: (Status.APPRAISED, APPROVER, HouseholdFile.SentBack),
    commands.Reject: (Status.APPLIED, CLERK, HouseholdFile.Rejected),
    commands.Assist: (Status.APPROVED, CLERK, HouseholdFile.Assisted),
    commands.AgreePlan: (Status.APPROVED, CLERK, HouseholdFile.PlanAgreed),
    commands.Visit: (Status.APPROVED, CLERK, HouseholdFile.Visited),
    commands.Revise: (Status.APPROVED, CLERK, HouseholdFile.Revised),
    commands.Recheck: (Status.APPROVED, CLERK, HouseholdFile.Rechecked),
    commands.Exit: (Status.APPROVED, CLERK, HouseholdFile.Exited),  # above the line: see below
    commands.Return: (Status.OUT_OF_HARDSHIP, CLERK, HouseholdFile.Returned),
    commands.Transfer: (Status.APPROVED, CLERK, HouseholdFile.Transferred),
    commands.CheckFinding: (Status.APPROVED, CLERK, HouseholdFile.FindingChecked),
    commands.FollowUp: (Status.OUT_OF_HARDSHIP, CLERK, HouseholdFile.FollowedUp),
    commands.ConfirmCategory: (Status.APPROVED, APPROVER, HouseholdFile.CategoryConfirmed),
    commands.Keep: (Status.APPROVED, APPROVER, HouseholdFile.KeptOnRecord),
}
# Commands that need more than a status: the history their example runs on.
HISTORIES = {
    commands.Exit: above_the_line,  # a 脱困 rests on recorded means above the line
    commands.ConfirmCategory: category_changed,  # a re-check found another category
    commands.Keep: due_to_exit,  # a revision found a car
}


def example(body: type) -> Any:
    return msgspec.json.decode(msgspec.json.encode(EXAMPLES[body]), type=body)


def field_names(command: type) -> set[str]:
    return {f.name for f in dataclasses.fields(command)}


class Recorder:
    """Stands in for a file: records the method `execute` calls and its arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def record(**arguments: Any) -> None:
            self.calls.append((name, arguments))

        return record


def marked(command: type) -> Any:
    """An instance of `command` whose every field holds its own marker object."""
    return command(**{name: object() for name in field_names(command)})


# ------------------------------------------------------------------------------ the HTTP bodies


class TestEveryHttpBody:
    @pytest.mark.parametrize("body_type", COMMAND_BODIES, ids=lambda t: t.__name__)
    def test_has_exactly_the_fields_of_its_command(self, body_type: type):
        command = example(body_type).command()

        assert set(body_type.__struct_fields__) == field_names(type(command)) - IMPORT_ONLY

    @pytest.mark.parametrize("body_type", COMMAND_BODIES, ids=lambda t: t.__name__)
    def test_passes_every_field_to_its_own_field_of_the_command(self, body_type: type):
        body = example(body_type)

        for name in body_type.__struct_fields__:
            token = object()
            command = msgspec.structs.replace(body, **{name: [token]}).command()

            # a list arrives as it is or as a tuple (commands hold tuples)
            assert getattr(command, name) in ([token], (token,)), f"{body_type.__name__}.{name}"
            for other in field_names(type(command)) - {name}:
                assert getattr(command, other) not in ([token], (token,)), (
                    f"{body_type.__name__}.{name} arrives in {other}"
                )

    def test_every_lifecycle_command_has_a_body_with_a_route(self):
        built = {type(example(body).command()) for body in LIFECYCLE_BODIES}
        routed = {route.fn.__annotations__["data"].__origin__ for route in COMMAND_ROUTES}

        assert built == set(LIFECYCLE_COMMANDS)
        assert routed == set(LIFECYCLE_BODIES)


class TestEveryExample:
    def test_of_an_application_opens_a_file(self):
        command = example(ApplicationIn).command()

        outcome = when(None, lambda _: receive(command, actor=CLERK, today=LATER))

        then(outcome, HouseholdFile.Applied, establishing_unit=command.establishing_unit)

    @pytest.mark.parametrize("body_type", LIFECYCLE_BODIES, ids=lambda t: t.__name__)
    def test_runs_through_the_dispatcher(self, body_type: type):
        command = example(body_type).command()
        status, actor, event = RUNS_ON[type(command)]
        special = HISTORIES.get(type(command))
        file = given(*(special() if special is not None else history(status)))
        if commands.parameters_on(command) is not None:  # as the use case hands them in
            command = dataclasses.replace(command, parameters=PARAMETERS)  # type: ignore[call-arg]

        outcome = when(file, lambda f: execute(f, command, actor=actor, today=LATER))

        then(outcome, event)


# ------------------------------------------------------------------------------ the commands


class TestEveryCommand:
    @pytest.mark.parametrize("command_type", LIFECYCLE_COMMANDS, ids=lambda t: t.__name__)
    def test_reaches_its_method_with_every_field(self, command_type: type):
        command = marked(command_type)
        file = Recorder()

        execute(file, command, actor=CLERK, today=LATER)

        ((method, arguments),) = file.calls
        assert hasattr(HouseholdFile, method)
        assert arguments == {
            "actor": CLERK,
            "units": GEOGRAPHIC,
            "today": LATER,
            **{name: getattr(command, name) for name in field_names(command_type)},
        }

    @pytest.mark.parametrize("command_type", LIFECYCLE_COMMANDS, ids=lambda t: t.__name__)
    def test_has_the_parameters_and_defaults_of_its_method(self, command_type: type):
        file = Recorder()
        execute(file, marked(command_type), actor=CLERK, today=LATER)
        ((method, _),) = file.calls

        assert defaults(command_type) == parameters(getattr(HouseholdFile, method))

    def test_apply_has_the_parameters_and_defaults_of_receiving_an_application(self):
        assert defaults(Apply) == parameters(HouseholdFile.receive_application)

    def test_apply_reaches_receiving_an_application_with_every_field(self, monkeypatch):
        calls: list[dict[str, Any]] = []
        monkeypatch.setattr(HouseholdFile, "receive_application", lambda **a: calls.append(a))
        command = marked(Apply)

        receive(command, actor=CLERK, today=LATER)

        assert calls == [
            {
                "actor": CLERK,
                "today": LATER,
                **{name: getattr(command, name) for name in field_names(Apply)},
            }
        ]


def defaults(command: type) -> dict[str, Any]:
    """A command's fields, each with its default (`REQUIRED` without one)."""
    return {
        f.name: REQUIRED if f.default is dataclasses.MISSING else f.default
        for f in dataclasses.fields(command)
    }


def parameters(method: Any) -> dict[str, Any]:
    """A method's business parameters, each with its default (`REQUIRED` without one)."""
    return {
        name: REQUIRED if p.default is inspect.Parameter.empty else p.default
        for name, p in inspect.signature(method).parameters.items()
        if name not in {"self", "actor", "today", "units"}
    }


REQUIRED = object()


class TestTheLifecycleTable:
    def test_is_keyed_by_every_kind_of_command_and_nothing_else(self):
        assert all(type(kind) is CommandKind for kind in ALLOWED_FROM)
        assert set(ALLOWED_FROM) == set(CommandKind)
