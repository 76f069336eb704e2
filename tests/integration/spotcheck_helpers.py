"""Helpers for the spot-check tests: files written straight into the store as events (with their
hash chains), each with people of its own, and the read models brought up to date."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from adapters.pg.attachments import PgContentStore
from adapters.pg.codec import EventCodec
from adapters.pg.integrity import GENESIS
from adapters.pg.policies import PgPolicies
from adapters.pg.projector import ProjectionRunner
from adapters.pg.store import PostgresEventStore, chain
from adapters.runtime.bootstrap import read_models
from domain.errors import DomainError
from domain.household import HouseholdFile
from domain.idnumber import make_id_number, parse_id_number
from domain.policy import Parameters
from domain.privacy import keyed_hash
from domain.values import Actor, Role
from tests.unit.test_rules import SCANS

KEY = b"s" * 32
ADMIN = Actor("admin-sun", "13", Role.ADMIN)
INSPECTOR = Actor("inspector-zhao", "1303", Role.INSPECTOR)
SCOPE = "130306"  # Funing: every file of `tests.unit.test_rules` is held by 130306001


def _renumbered(old: str, index: int, slot: int) -> str:
    """A new ID number for a person of file `index`: same region, birth date and sex; a valid
    number stays valid and an invalid one stays invalid."""
    born = date(int(old[6:10]), int(old[10:12]), int(old[12:14]))
    sequence = (index * 4 + slot) % 490 * 2 + int(old[16]) % 2  # unique for index < 122
    new = make_id_number(old[:6], born, sequence).value
    try:
        parse_id_number(old)
    except DomainError:
        return new[:-1] + ("0" if new[-1] != "0" else "1")
    return new


def as_file(events: list[Any], index: int, *, unit: str | None = None) -> list[Any]:
    """The events of `tests.unit.test_rules` made into a file of their own: id `UUID(int=index)`,
    people no other file holds, and (optionally) another establishing unit."""
    file_id = UUID(int=index)
    numbers: dict[str, str] = {}

    def number(old: str) -> str:
        if old not in numbers:
            numbers[old] = _renumbered(old, index, len(numbers))
        return numbers[old]

    made = []
    for e in events:
        changes: dict[str, Any] = {"originator_id": file_id}
        head = getattr(e, "head", None)
        if head is not None:
            changes["head"] = dataclasses.replace(head, id_number=number(head.id_number))
        members = getattr(e, "members", None)
        if members:
            changes["members"] = tuple(
                dataclasses.replace(m, id_number=number(m.id_number)) for m in members
            )
        if isinstance(e, HouseholdFile.AttachmentAdded):  # an attachment id is unique
            changes["attachment_id"] = UUID(int=(index << 64) | e.attachment_id.int)
        if unit is not None and isinstance(e, HouseholdFile.Applied):
            changes["establishing_unit"] = unit
            changes["region"] = unit[:6]
        made.append(dataclasses.replace(e, **changes))
    return made


async def write(store: PostgresEventStore, codec: EventCodec, *files: list[Any]) -> None:
    """Store each file's events as they are, hash-chained, filed under its establishing unit,
    and the content of its scans (`tests.unit.test_rules.SCANS`, found by their hash) as an
    upload stores it."""
    rows = []
    for events in files:
        previous = GENESIS
        unit = events[0].establishing_unit
        for e in events:
            name, payload = codec.encode(e)
            row = chain(
                previous, e.originator_id, e.originator_version, name, payload, e.timestamp, unit
            )
            rows.append(row)
            previous = row.hash
    await store.append(rows)
    await store_scans(store, *files)


async def store_scans(store: PostgresEventStore, *files: list[Any]) -> None:
    assert store.keyring is not None
    contents = PgContentStore(store.pool, store.keyring)
    by_hash = {hashlib.sha256(c).hexdigest(): c for _, _, c in SCANS.values()}
    async with store.pool.acquire() as conn, conn.transaction():
        for events in files:
            for e in events:
                content = by_hash.get(getattr(e, "sha256", ""))
                if isinstance(e, HouseholdFile.AttachmentAdded) and content is not None:
                    await contents.write(
                        conn,
                        stream_id=e.originator_id,
                        attachment_id=e.attachment_id,
                        body=_once(content),
                        limit=len(content),
                    )


async def _once(content: bytes) -> AsyncIterator[bytes]:
    yield content


async def project(store: PostgresEventStore) -> None:
    runner = ProjectionRunner(
        store, EventCodec(keyring=store.keyring), read_models(lambda n: keyed_hash(KEY, n))
    )
    await runner.catch_up()


async def funing_line(
    store: PostgresEventStore, codec: EventCodec, *changes: tuple[date, str]
) -> None:
    """Funing's poverty line: 550 yuan from 2020 unless other changes are given."""
    policies = PgPolicies(store, codec)
    for effective_on, line in changes or ((date(2020, 1, 1), "550"),):
        await policies.set_parameters(
            actor=ADMIN,
            region="130306",
            parameters=Parameters(effective_on, Decimal(line)),
            reason="低保标准调整通知",
        )
