"""Use cases: load → decide → save. The same functions serve HTTP, the CLI, imports and demo data.

Each is keyword-only. The actor, the business fields and the expected version come from the edge;
`today` comes from the clock port, so the domain itself never reads the clock.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from domain.errors import ConcurrencyError, InvalidValue, NotFound
from domain.household import HouseholdFile
from domain.policy import Parameters, parameters_missing
from domain.ports import Clock, FileRepository, Policies
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

# The commands judged by the regional parameters in force for the file's region on their
# business date (docs/rules.md): the date field, and whether the command always needs them
# (an exit needs them only for 脱困, a visit records the period when there is one).
PARAMETERS_ON: dict[str, tuple[str, bool]] = {
    "verify": ("verified_on", True),
    "appraise": ("appraised_on", True),
    "approve": ("approved_on", True),
    "recheck": ("rechecked_on", True),
    "exit": ("exited_on", False),
    "visit": ("visited_on", False),
}


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
    policies: Policies,
    expected_version: int | None = None,
    **fields: Any,
) -> HouseholdFile:
    """Run one lifecycle command (a key of `COMMANDS`) on a stored file and save its event.

    `expected_version`, when given, must equal the stored version (an HTTP `If-Match`); otherwise
    `ConcurrencyError` is raised before anything is decided. The commands of `PARAMETERS_ON`
    get the regional parameters in force on their date from `policies`.
    """
    method = COMMANDS.get(command)
    if method is None:
        raise InvalidValue("command", f"unknown command {command!r}", zh="未知操作")
    household = await files.get(file_id)
    if expected_version is not None and household.version != expected_version:
        raise ConcurrencyError(file_id, expected_version, household.version)
    if method in PARAMETERS_ON:
        field, required = PARAMETERS_ON[method]
        day = fields.get(field)
        if isinstance(day, date):  # otherwise the command refuses the date itself
            fields["parameters"] = await parameters_in_force(
                policies, household.region, day, required=required
            )
    getattr(household, method)(actor=actor, today=clock.today(), **fields)
    await files.save(household)
    return household
