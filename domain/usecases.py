"""Use cases: load → decide → save. The same functions serve HTTP, the CLI, imports and demo data.

Each is keyword-only. The actor, the typed command (`domain.commands`) and the expected version
come from the edge; `today` comes from the clock port, so the domain itself never reads the clock.
"""

from __future__ import annotations

from uuid import UUID

from domain.commands import Apply, LifecycleCommand, execute, receive
from domain.errors import ConcurrencyError
from domain.household import HouseholdFile
from domain.ports import Clock, FileRepository
from domain.values import Actor


async def open_file(
    *, files: FileRepository, clock: Clock, actor: Actor, command: Apply
) -> HouseholdFile:
    """申请: open a household file from an application."""
    household = receive(command, actor=actor, today=clock.today())
    await files.save(household)
    return household


async def act_on_file(
    *,
    files: FileRepository,
    clock: Clock,
    actor: Actor,
    file_id: UUID,
    command: LifecycleCommand,
    expected_version: int | None = None,
) -> HouseholdFile:
    """Run one lifecycle command on a stored file and save its event.

    `expected_version`, when given, must equal the stored version (an HTTP `If-Match`); otherwise
    `ConcurrencyError` is raised before anything is decided.
    """
    household = await files.get(file_id)
    if expected_version is not None and household.version != expected_version:
        raise ConcurrencyError(file_id, expected_version, household.version)
    execute(household, command, actor=actor, today=clock.today())
    await files.save(household)
    return household
