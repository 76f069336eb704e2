"""Erasing a household's personal data deletes the responses kept for its `Idempotency-Key`
retries by the file each is kept under — not by finding the file's id in the stored bytes, which
misses a body that spells the id another way and hits another file's body that mentions it."""

from __future__ import annotations

import asyncpg
import msgspec

from adapters.pg.idempotency import PgIdempotency
from adapters.pg.migrations import available
from adapters.pg.repository import PgFileRepository
from adapters.services.erasure import erase_personal_data
from domain.household import HouseholdFile
from domain.values import Actor, ExitKind, ExitReason, Role
from tests.builders import APPROVER, TODAY, FixedClock, approved_file

ADMIN = Actor("admin-zhao", "130306", Role.ADMIN)


async def closed_file(files: PgFileRepository) -> HouseholdFile:
    household = approved_file()
    household.exit(
        actor=APPROVER,
        exited_on=TODAY,
        kind=ExitKind.CANCELLED,
        reason=ExitReason.MOVED,
        explanation="迁出本地",
        evidence=("户口迁移证明",),
        today=TODAY,
    )
    await files.save(household)
    return household


async def keep(kept: PgIdempotency, key: str, body: dict[str, str], file: HouseholdFile) -> None:
    async with kept.claim("clerk@130306001", key, key.encode()) as claim:
        await claim.keep(200, {"ETag": '"6"'}, msgspec.json.encode(body), file.id)


class TestErasingAFile:
    async def test_deletes_its_kept_responses_however_their_bodies_spell_its_id(
        self, files: PgFileRepository, pool: asyncpg.Pool
    ):
        erased, other = await closed_file(files), await closed_file(files)
        kept = PgIdempotency(pool, files, transaction_bound=30)
        # the erased file's response spells its id in capitals; the other file's response
        # mentions the erased file's id as it is stored, but is the other file's
        await keep(kept, "erased-1", {"id": str(erased.id).upper(), "note": "见档案"}, erased)
        await keep(kept, "other-1", {"id": str(other.id), "duplicate_of": str(erased.id)}, other)

        await erase_personal_data(
            files=files, clock=FixedClock(), actor=ADMIN, file_id=erased.id, reason="本人申请"
        )

        rows = await pool.fetch("SELECT key, file_id FROM idempotency_keys ORDER BY key")
        assert [(r["key"], r["file_id"]) for r in rows] == [("other-1", other.id)]


class TestResponsesKeptBeforeFilesWereNamed:
    async def test_are_given_the_file_their_body_shows(
        self, files: PgFileRepository, pool: asyncpg.Pool
    ):
        household = await closed_file(files)
        kept = PgIdempotency(pool, files, transaction_bound=30)
        await keep(kept, "old-1", {"id": str(household.id), "status": "exited"}, household)
        await keep(kept, "old-2", {"detail": "not a file"}, household)
        await pool.execute("UPDATE idempotency_keys SET file_id = NULL")  # as kept before 0011
        backfill = next(m for m in available() if m.version == 11)

        await pool.execute(backfill.sql)

        rows = await pool.fetch("SELECT key, file_id FROM idempotency_keys ORDER BY key")
        assert [(r["key"], r["file_id"]) for r in rows] == [
            ("old-1", household.id),
            ("old-2", None),
        ]
