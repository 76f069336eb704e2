"""Attachment content is sealed with the household's data key, hashed into the chain, re-hashed by
verify, shredded by erasure, and never half-stored (issue 17: storage, integrity, bad input)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest

from adapters.pg.attachments import Erased, PgContentStore
from adapters.pg.repository import PgFileRepository
from adapters.services import attachments as service
from adapters.services.erasure import erase_personal_data
from adapters.services.scans import scan
from domain.attachments import AttachmentLimits, ContentTooLarge
from domain.errors import InvalidValue
from domain.household import HouseholdFile
from domain.values import ExitKind, ExitReason, Material, Status
from tests.builders import CLERK, application, approved_file
from tests.unit.given import ADMIN

TODAY = date(2026, 11, 21)


class Clock:
    def today(self) -> date:
        return TODAY


@pytest.fixture
def contents(pool: asyncpg.Pool, keyring) -> PgContentStore:  # type: ignore[no-untyped-def]
    return PgContentStore(pool, keyring, chunk=4096)  # small chunks: many per scan


async def new_file(files: PgFileRepository, status: Status = Status.APPLIED) -> HouseholdFile:
    household = (
        approved_file()
        if status is Status.APPROVED
        else HouseholdFile.receive_application(actor=CLERK, today=TODAY, **application())
    )
    await files.save(household)
    return await files.get(household.id)


async def attach(files, contents, file_id, content: bytes, **kw):  # type: ignore[no-untyped-def]
    return await service.attach_bytes(
        files=files,
        contents=contents,
        clock=Clock(),
        actor=CLERK,
        file_id=file_id,
        kind=kw.get("kind", Material.DIAGNOSIS),
        name=kw.get("name", "诊断证明.png"),
        content=content,
    )


async def rows(pool: asyncpg.Pool) -> tuple[int, int]:
    return (
        await pool.fetchval("SELECT count(*) FROM attachments"),
        await pool.fetchval("SELECT count(*) FROM attachment_chunks"),
    )


class TestStorage:
    async def test_content_is_stored_sealed_in_chunks_and_read_back(self, files, contents, pool):
        household = await new_file(files)
        content = scan(1, "image/jpeg", size=(400, 600))

        _, attachment = await attach(files, contents, household.id, content)

        assert attachment.sha256 == hashlib.sha256(content).hexdigest()
        chunks = await pool.fetch("SELECT sealed FROM attachment_chunks ORDER BY seq")
        assert len(chunks) == -(-len(content) // 4096) > 1
        assert content[:4096] not in b"".join(bytes(r[0]) for r in chunks)
        read = b"".join(
            [
                d
                async for d in contents.read(
                    household.id, attachment.attachment_id, size=len(content)
                )
            ]
        )
        assert read == content

    async def test_the_event_in_the_chain_holds_the_hash_and_seals_the_name(
        self, files, contents, store
    ):
        household = await new_file(files)
        content = scan(2)

        await attach(files, contents, household.id, content, name="张三身份证.png")

        (event,) = [e for e in await store.read_stream(household.id) if e.type == service.ADDED]
        assert hashlib.sha256(content).hexdigest().encode() in event.payload
        assert "张三".encode() not in event.payload
        assert (await store.verify()).ok


class TestVerify:
    async def test_finds_an_altered_and_a_missing_attachment(self, files, contents, pool, store):
        household = await new_file(files)
        _, altered = await attach(
            files, contents, household.id, scan(3, "image/jpeg", size=(300, 300))
        )
        _, missing = await attach(files, contents, household.id, scan(4), kind=Material.ID_COPY)
        _, intact = await attach(files, contents, household.id, scan(5), kind=Material.HUKOU_COPY)
        await pool.execute(
            "UPDATE attachment_chunks SET sealed = set_byte(sealed, 19, get_byte(sealed, 19) # 255)"
            " WHERE attachment_id = $1 AND seq = 0",
            altered.attachment_id,
        )
        await pool.execute(
            "DELETE FROM attachment_chunks WHERE attachment_id = $1", missing.attachment_id
        )

        report = await service.verify_all(store, contents)

        states = {c.attachment_id: c.state for c in report.checked}
        assert states == {
            altered.attachment_id: "altered",
            missing.attachment_id: "missing",
            intact.attachment_id: "ok",
        }
        assert not report.ok

    async def test_finds_content_swapped_for_another_sealed_with_the_same_key(
        self, files, contents, pool, store
    ):
        household = await new_file(files)
        _, first = await attach(files, contents, household.id, scan(6))
        _, second = await attach(files, contents, household.id, scan(7), kind=Material.ID_COPY)
        # the stored chunk of one attachment copied over the other's: it does not open there
        await pool.execute(
            "UPDATE attachment_chunks SET sealed = (SELECT sealed FROM attachment_chunks"
            " WHERE attachment_id = $1 AND seq = 0) WHERE attachment_id = $2 AND seq = 0",
            first.attachment_id,
            second.attachment_id,
        )

        report = await service.verify_all(store, contents)

        assert {c.attachment_id: c.state for c in report.checked}[second.attachment_id] == "altered"


class TestErasure:
    async def test_shreds_the_content_while_hashes_and_chain_still_verify(
        self, files, contents, store
    ):
        household = await new_file(files, Status.APPROVED)
        _, attachment = await attach(files, contents, household.id, scan(8))
        household = await files.get(household.id)
        household.exit(
            actor=CLERK,
            exited_on=TODAY,
            kind=ExitKind.CANCELLED,
            reason=ExitReason.MOVED,
            explanation="迁出本地",
            evidence=("迁出证明",),
            today=TODAY,
        )
        await files.save(household)

        await erase_personal_data(
            files=files, clock=Clock(), actor=ADMIN, file_id=household.id, reason="本人申请删除"
        )

        with pytest.raises(Erased):
            async for _ in contents.read(
                household.id, attachment.attachment_id, size=attachment.size
            ):
                pass
        report = await service.verify_all(store, contents)
        assert [c.state for c in report.checked] == ["erased"]
        assert report.ok
        assert (await store.verify()).ok


class TestBadInput:
    async def test_an_upload_cut_off_midway_stores_nothing(self, files, contents, pool):
        household = await new_file(files)
        content = scan(9, "image/jpeg", size=(400, 600))

        async def cut_off() -> AsyncIterator[bytes]:
            yield content[:5000]
            yield content[5000:9000]
            raise ConnectionResetError("client went away")

        with pytest.raises(ConnectionResetError):
            await service.attach(
                files=files,
                contents=contents,
                clock=Clock(),
                actor=CLERK,
                file_id=household.id,
                kind="diagnosis",
                name="x.jpg",
                body=cut_off(),
            )

        assert await rows(pool) == (0, 0)
        assert (await files.get(household.id)).version == household.version

    async def test_an_upload_shorter_than_declared_stores_nothing(self, files, contents, pool):
        household = await new_file(files)
        content = scan(10, "image/jpeg", size=(400, 600))

        async def body() -> AsyncIterator[bytes]:
            yield content

        with pytest.raises(InvalidValue, match="ended after"):
            await service.attach(
                files=files,
                contents=contents,
                clock=Clock(),
                actor=CLERK,
                file_id=household.id,
                kind="diagnosis",
                name="x.jpg",
                body=body(),
                declared=service.Declared(size=len(content) + 100),
            )

        assert await rows(pool) == (0, 0)

    async def test_an_upload_over_the_limit_stops_at_the_limit(self, files, contents, pool):
        household = await new_file(files)
        sent = []

        async def endless() -> AsyncIterator[bytes]:
            yield scan(11, "image/png")
            while True:
                sent.append(1)
                yield bytes(4096)

        with pytest.raises(ContentTooLarge):
            await service.attach(
                files=files,
                contents=contents,
                clock=Clock(),
                actor=CLERK,
                file_id=household.id,
                kind="diagnosis",
                name="x.png",
                body=endless(),
                limits=AttachmentLimits(per_file=64 * 1024),
            )

        assert len(sent) <= 16
        assert await rows(pool) == (0, 0)
