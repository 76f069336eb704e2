"""Erasing a household's personal data on request (销毁个人信息, crypto-shredding).

One transaction appends the file's `PersonalDataErased` event (who, when, why) and destroys its
data key; on commit every process of this node is told to drop the key from its cache, and the
next upstream pull carries the erasure (and the destroyed key) to the upstream node, which
destroys its copy in the same transaction as it stores the event.

Nothing is rewritten: every event keeps its payload and hash, so `bangfu verify` still passes.
The responses kept for `Idempotency-Key` retries of the file are deleted with it, by the file id
each is kept under (`adapters.pg.idempotency.delete_file`), in the same transaction.
The encrypted personal fields read as `ERASED` from then on. Events stored in clear before
encryption was introduced cannot be erased this way (rewriting them would break the hash
chain): they are counted and reported, and docs/security.md says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import structlog

from adapters.pg import idempotency
from domain.ports import Clock, ErasableFiles, FileRepository
from domain.units import GEOGRAPHIC, UnitCode, Units
from domain.values import Actor, Role

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Erasure:
    file_id: UUID
    version: int
    erased_on: date
    # events of the file whose personal fields were stored in clear (before encryption): their
    # personal data stays in the log
    plaintext_events: int


async def erase_personal_data(
    *,
    files: ErasableFiles[idempotency.ForgetFile],
    clock: Clock,
    actor: Actor,
    file_id: UUID,
    reason: str,
    units: Units = GEOGRAPHIC,
) -> Erasure:
    """Record the erasure and destroy the file's data key, atomically; `units` (the stored
    levels) decides whether the admin's unit may."""
    household = await files.get(file_id)
    today = clock.today()
    household.erase_personal_data(
        actor=actor, erased_on=today, reason=reason, today=today, units=units
    )
    # the responses kept for retried commands show the household (masked, but with names): they
    # go too — a retry after the erasure is judged afresh, and refused
    kept = await files.erase(household, forget=[idempotency.delete_file])
    clear = await files.clear_personal_events(file_id)
    log.info(
        "file.personal_data_erased",
        file_id=str(file_id),
        user=actor.user,
        unit=actor.unit,
        version=household.version,
        plaintext_events=clear,
        kept_responses=kept,
    )
    return Erasure(file_id, household.version, today, clear)


async def district_admin(
    files: FileRepository, file_id: UUID, *, user: str, unit: str | None = None
) -> Actor:
    """The admin an operator's erasure acts as (`bangfu files shred`): of `unit` if given, else
    of the file's district."""
    household = await files.get(file_id)
    parent = UnitCode(household.establishing_unit).parent  # its district (or non-geographic union)
    return Actor(user, unit or (parent or household.unit).value, Role.ADMIN)
