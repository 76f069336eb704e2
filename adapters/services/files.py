"""Reading household files, for HTTP, the CLI and tests alike: a file as the caller may see it,
now or at a point in its history; its trail; an unmasked read recorded as a disclosure; every
file at once. The lifecycle commands are `domain.usecases` (open, act).

Each function takes the ports it uses (`domain.ports`), handed in by the composition root.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar
from uuid import UUID

import structlog

from domain.authorization import Act, authorise
from domain.disclosure import Disclosure
from domain.household import HouseholdFile
from domain.ports import ActRecorder, FileHistory, FileRepository
from domain.values import Actor

log = structlog.get_logger(__name__)

Event = TypeVar("Event")


async def readable(files: FileRepository, actor: Actor, file_id: UUID) -> HouseholdFile:
    """The current file, if `actor` may read it (`NotFound`/`OutOfScope` outside its subtree,
    `NotPermitted` for its role)."""
    household = await files.get(file_id)
    authorise(actor, Act.READ, household.unit)
    return household


async def as_it_was(
    files: FileRepository, file_id: UUID, *, version: int | None, as_of: datetime | None
) -> HouseholdFile:
    """The file replayed up to `version` or the recorded time `as_of` (check it is readable
    first: `readable`)."""
    return await files.get(file_id, version=version, as_of=as_of)


async def disclose(
    acts: ActRecorder,
    *,
    actor: Actor,
    household: HouseholdFile,
    purpose: str,
    view: str,
    admit: Callable[[], None] = lambda: None,
) -> Disclosure:
    """Record that `actor` reads the file's personal data unmasked, for `purpose`, in `view`.

    `admit` runs once the purpose is accepted and before anything is recorded; it raises when
    the reader may not unmask now (the HTTP edge's rate limit)."""
    act = Disclosure.record(
        actor=actor,
        file_id=household.id,
        file_unit=household.establishing_unit,
        purpose=purpose,
        view=view,
    )
    admit()
    await acts.record(act)
    log.info("file.unmasked", file_id=str(household.id), purpose=act.purpose, view=view)
    return act


async def trail(history: FileHistory[Event], file_id: UUID) -> Sequence[Event]:
    """The file's events and the acts that refer to it, in recorded order (check it is readable
    first: `readable`)."""
    return await history.trail(file_id)


async def every_file(history: FileHistory[object]) -> list[HouseholdFile]:
    """Every household file, replayed (`bangfu summary`)."""
    return await history.every_file()
