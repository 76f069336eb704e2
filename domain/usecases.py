"""Use cases: load → decide → save. The same functions serve HTTP, the CLI, imports and demo data.

Each is keyword-only. The actor, the typed command (`domain.commands`) and the expected version
come from the edge; `today` comes from the clock port, so the domain itself never reads the clock.
The regional parameters in force on a decision's date come from the `Policies` port: the use case
looks them up for the file's region and hands them to the command (docs/rules.md).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any, cast
from uuid import UUID

from domain.authorization import Act, authorise
from domain.commands import (
    Apply,
    Appraise,
    Exit,
    LifecycleCommand,
    execute,
    parameters_on,
    receive,
)
from domain.errors import ConcurrencyError, NotFound, RuleViolated
from domain.household import HouseholdFile
from domain.onefile import CLAIMING
from domain.policy import Parameters, parameters_missing
from domain.ports import Clock, FileRepository, Meetings, Policies
from domain.units import GEOGRAPHIC, Units
from domain.values import Actor


async def open_file(
    *, files: FileRepository, clock: Clock, actor: Actor, command: Apply
) -> HouseholdFile:
    """申请: open a household file from an application."""
    household = receive(command, actor=actor, today=clock.today())
    await files.save(household)
    return household


async def parameters_in_force(
    policies: Policies, region: str, on: date, *, required: bool
) -> Parameters | None:
    """The parameters in force for `region` on `on`; a clear refusal naming the region and how
    to set them when there are none and `required`."""
    try:
        return (await policies.book()).in_force(region, on)
    except NotFound:
        if required:
            raise parameters_missing(region, on) from None
        return None


async def with_parameters(
    command: LifecycleCommand, *, policies: Policies, region: str
) -> LifecycleCommand:
    """`command` with the regional parameters in force for `region` on its date, for the
    commands judged by them (`domain.commands.parameters_on`); the others as they are."""
    wanted = parameters_on(command)
    if wanted is None:
        return command
    day, required = wanted
    found = await parameters_in_force(policies, region, day, required=required)
    # every command `parameters_on` names has a `parameters` field
    changed: LifecycleCommand = dataclasses.replace(cast(Any, command), parameters=found)
    return changed


async def _check_kept(
    files: FileRepository, actor: Actor, kept_file_id: UUID, units: Units
) -> None:
    """重复建档: the file kept must be one the actor may see (else it does not exist for them),
    and still hold its people (open or relieved)."""
    kept = await files.get(kept_file_id)
    authorise(actor, Act.READ, kept.unit, units=units)
    if kept.status not in CLAIMING:
        raise RuleViolated(
            "duplicate_names_kept_file",
            f"the file kept ({kept_file_id}) is {kept.status}: it must be open or relieved",
            zh="保留的档案须为在档或已解困的档案",
            field="kept_file_id",
        )


async def act_on_file(
    *,
    files: FileRepository,
    clock: Clock,
    actor: Actor,
    file_id: UUID,
    command: LifecycleCommand,
    policies: Policies,
    expected_version: int | None = None,
    meetings: Meetings | None = None,
    units: Units = GEOGRAPHIC,
) -> HouseholdFile:
    """Run one lifecycle command on a stored file and save its event; `units`, the registry of
    stored levels, decides whether the actor's unit may decide (domain/units.py).

    `expected_version`, when given, must equal the stored version (an HTTP `If-Match`); otherwise
    `ConcurrencyError` is raised before anything is decided. A command judged by the regional
    parameters gets those in force for the file's region on its date from `policies`.
    """
    household = await files.get(file_id)
    if expected_version is not None and household.version != expected_version:
        raise ConcurrencyError(file_id, expected_version, household.version)
    command = await with_parameters(command, policies=policies, region=household.region)
    if isinstance(command, Appraise) and command.meeting_id is not None and meetings is not None:
        held = await meetings.meeting(household.establishing_unit, command.meeting_id)
        command = dataclasses.replace(command, meeting=held)
    execute(household, command, actor=actor, today=clock.today(), units=units)
    if isinstance(command, Exit) and command.kept_file_id is not None:
        await _check_kept(files, actor, command.kept_file_id, units)  # after the act's own refusals
    await files.save(household)
    return household
