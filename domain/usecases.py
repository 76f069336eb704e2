"""Use cases: load → decide → save. The same functions serve HTTP, the CLI, imports and demo data.

Each is keyword-only. The actor, the business fields and the expected version come from the edge;
`today` comes from the clock port, so the domain itself never reads the clock.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.errors import ConcurrencyError, InvalidValue
from domain.household import HouseholdFile
from domain.ports import Clock, FileRepository
from domain.values import Actor

# The lifecycle commands by their public names (as the HTTP routes and the CLI name them).
COMMANDS: dict[str, str] = {
    "verification": "verify",
    "appraisal": "appraise",
    "approval": "approve",
    "send-back": "send_back",
    "rejection": "reject",
    "assistance": "assist",
    "plan": "agree_plan",
    "visits": "visit",
    "revisions": "revise",
    "rechecks": "recheck",
    "exit": "exit",
    "return": "return_",
    "transfer": "transfer",
}


async def open_file(
    *,
    files: FileRepository,
    clock: Clock,
    actor: Actor,
    file_id: UUID | None = None,
    **application: Any,
) -> HouseholdFile:
    """申请: open a household file from an application."""
    household = HouseholdFile.receive_application(
        file_id=file_id, actor=actor, today=clock.today(), **application
    )
    await files.save(household)
    return household


async def act_on_file(
    *,
    files: FileRepository,
    clock: Clock,
    actor: Actor,
    file_id: UUID,
    command: str,
    expected_version: int | None = None,
    **fields: Any,
) -> HouseholdFile:
    """Run one lifecycle command (a key of `COMMANDS`) on a stored file and save its event.

    `expected_version`, when given, must equal the stored version (an HTTP `If-Match`); otherwise
    `ConcurrencyError` is raised before anything is decided.
    """
    method = COMMANDS.get(command)
    if method is None:
        raise InvalidValue("command", f"unknown command {command!r}", zh="未知操作")
    household = await files.get(file_id)
    if expected_version is not None and household.version != expected_version:
        raise ConcurrencyError(file_id, expected_version, household.version)
    getattr(household, method)(actor=actor, today=clock.today(), **fields)
    await files.save(household)
    return household
