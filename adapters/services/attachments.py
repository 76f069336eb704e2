"""Attaching, reading, previewing and checking proof materials (附件): the use cases.

One upload is one transaction: the content is streamed into the content store (sealed, hashed,
one chunk at a time), judged by its bytes (JPEG, PNG, a PDF that parses), compared with what the
client declared (length, SHA-256), and recorded by the file's `AttachmentAdded` event — all
committed together, or nothing is stored. The same function serves HTTP, the importer and the
demo. See docs/decisions/0011-attachments.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import threading
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID, uuid4

import msgspec
import structlog

from adapters.pg.attachments import (
    Altered,
    ChunkFile,
    ContentProblem,
    Empty,
    Erased,
    Missing,
    PgContentStore,
    TooLarge,
    Unreadable,
)
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore, bound
from domain.attachments import (
    SNIFF_BYTES,
    Attachment,
    AttachmentLimits,
    MediaType,
    check_kind,
    check_media_type,
    check_name,
    check_sha256,
    check_size,
    sniff,
    too_large,
    wrong_type,
)
from domain.errors import ConcurrencyError, InvalidValue, NotFound
from domain.household import HouseholdFile
from domain.ports import Clock
from domain.values import Actor, Material

log = structlog.get_logger(__name__)

ADDED = "household.attachment_added"  # the stored name (domain/events.py)
PREVIEW_PIXELS = 800  # the longer side of a preview
MAX_IMAGE_PIXELS = 120_000_000  # a larger image is refused (a decompression bomb, not a scan)
_PDFIUM = threading.Lock()  # PDFium is not thread-safe: one rendering at a time per process


@dataclass(frozen=True)
class Declared:
    """What the client says about the content it sends (any of it may be unknown)."""

    media_type: str | None = None  # None or a generic type: judged by content alone
    size: int | None = None  # Content-Length
    sha256: str | None = None  # a SHA-256 the client computed (hex)


GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def _check_structure(media: MediaType, file: io.RawIOBase | io.BytesIO) -> None:
    """The content parses as what its first bytes say (run in a worker thread)."""
    reader = file if isinstance(file, io.BytesIO) else io.BufferedReader(file, 64 * 1024)
    if media is MediaType.PDF:
        from pypdf import PdfReader  # noqa: PLC0415 — heavy, only for PDFs
        from pypdf.errors import PyPdfError  # noqa: PLC0415

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pdf = PdfReader(reader, strict=False)
                # the first page's object must resolve (IndexError: no page at all)
                pdf.pages[0].mediabox  # noqa: B018
        except (
            PyPdfError,
            ValueError,
            KeyError,
            IndexError,
            TypeError,
            AttributeError,
            OSError,
        ) as error:
            raise InvalidValue(
                "attachment_content",
                f"not a readable PDF ({type(error).__name__})",
                zh="不是可读取的PDF文件",
            ) from None
        return
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(reader) as image:
                pixels = image.width * image.height
                image.verify()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
        ValueError,
        OSError,
    ) as error:
        raise InvalidValue(
            "attachment_content",
            f"not a readable image ({type(error).__name__})",
            zh="不是可读取的图片",
        ) from None
    if pixels > MAX_IMAGE_PIXELS:
        raise InvalidValue(
            "attachment_content",
            f"an image of more than {MAX_IMAGE_PIXELS} pixels",
            zh="图片像素过多",
        )


async def attach(
    *,
    files: PgFileRepository,
    contents: PgContentStore,
    clock: Clock,
    actor: Actor,
    file_id: UUID,
    kind: Material | str,
    name: str,
    body: AsyncIterator[bytes],
    declared: Declared = Declared(),
    limits: AttachmentLimits = AttachmentLimits(),  # noqa: B008 — frozen
    attachment_id: UUID | None = None,
    announce: bool = True,
) -> tuple[HouseholdFile, Attachment]:
    """上传附件: store the content and record it on the file, atomically; `announce`: log it
    (not for generated demo data, whose hundreds of scans would drown the service's log)."""
    kind = check_kind(kind)
    name = check_name(name)
    claimed = (
        None
        if declared.media_type is None
        or declared.media_type.split(";")[0].strip().lower() in GENERIC_TYPES
        else check_media_type(declared.media_type.split(";")[0].strip().lower())
    )
    expected_sha = None if declared.sha256 is None else check_sha256(declared.sha256)
    household = await files.get(file_id)
    # refused before a byte is read: a closed file, a role that may not attach, a size over a
    # limit (the command itself checks all of it again with the content's real values)
    household.may_attach(actor=actor)
    if declared.size is not None:
        check_size(declared.size, limits, stored=household.attachment_bytes())
    new_id = attachment_id or uuid4()
    found: list[MediaType] = []

    def judge_first_bytes(head: bytes) -> None:
        media = sniff(head)
        if media is None or (claimed is not None and media is not claimed):
            raise wrong_type(claimed, media)
        found.append(media)

    limit = limits.per_file if declared.size is None else min(limits.per_file, declared.size)
    store = files.store
    async with store.pool.acquire() as conn, conn.transaction():
        # a client that stalls mid-upload is cut off after the transaction bound
        await bound(conn, store.transaction_bound)
        try:
            stored = await contents.write(
                conn,
                stream_id=file_id,
                attachment_id=new_id,
                body=body,
                limit=limit,
                first=judge_first_bytes,
            )
        except TooLarge:
            if declared.size is not None and declared.size < limits.per_file:
                raise InvalidValue(
                    "attachment_size",
                    f"more bytes arrived than the declared {declared.size}",
                    zh=f"收到的内容多于声明的{declared.size}字节",
                ) from None
            raise too_large(limits.per_file) from None
        except Empty:
            raise InvalidValue("attachment_content", "no content", zh="内容为空") from None
        if declared.size is not None and stored.size != declared.size:
            raise InvalidValue(
                "attachment_size",
                f"the upload ended after {stored.size} of the declared {declared.size} bytes",
                zh=f"上传不完整：收到{stored.size}字节，声明为{declared.size}字节",
            )
        if expected_sha is not None and stored.sha256 != expected_sha:
            raise InvalidValue(
                "sha256",
                "the content's SHA-256 is not the one declared",
                zh="内容的SHA-256摘要与声明的不符",
            )
        media = found[0]
        layout = await contents.layout(new_id, conn)
        reader = contents.open_file(file_id, layout, new_id, asyncio.get_running_loop(), conn)
        await asyncio.to_thread(_check_structure, media, reader)
        household.attach(
            actor=actor,
            attachment_id=new_id,
            kind=kind,
            name=name,
            media_type=media,
            size=stored.size,
            sha256=stored.sha256,
            limits=limits,
            today=clock.today(),
        )
        await files.bound(conn).save(household)
    if files.cache is not None:
        files.cache.drop(file_id)
    attachment = household.attachment(new_id)
    assert attachment is not None  # noqa: S101 — just recorded
    (log.info if announce else log.debug)(
        "attachment.added",
        file_id=str(file_id),
        attachment_id=str(new_id),
        kind=kind.value,
        media_type=media.value,
        size=stored.size,
    )
    return household, attachment


async def attach_bytes(
    *,
    files: PgFileRepository,
    contents: PgContentStore,
    clock: Clock,
    actor: Actor,
    file_id: UUID,
    kind: Material | str,
    name: str,
    content: bytes,
    limits: AttachmentLimits = AttachmentLimits(),  # noqa: B008 — frozen
    attachment_id: UUID | None = None,
    announce: bool = True,
) -> tuple[HouseholdFile, Attachment]:
    """`attach` for content already in hand (imports, demo data): small files only."""

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(content), contents.chunk_bytes):
            yield content[start : start + contents.chunk_bytes]

    return await attach(
        files=files,
        contents=contents,
        clock=clock,
        actor=actor,
        file_id=file_id,
        kind=kind,
        name=name,
        body=body(),
        declared=Declared(size=len(content), sha256=hashlib.sha256(content).hexdigest()),
        limits=limits,
        attachment_id=attachment_id,
        announce=announce,
    )


async def judge_content(content: bytes, limits: AttachmentLimits) -> MediaType:
    """What `attach` checks of a content, for one in hand before its file is stored (an
    import's scans): not empty, within the per-file limit, a JPEG, PNG or PDF by its bytes that
    parses as one. Raises the refusal `attach` would give."""
    if not content:
        raise InvalidValue("attachment_content", "no content", zh="内容为空")
    if len(content) > limits.per_file:
        raise too_large(limits.per_file)
    media = sniff(content[:SNIFF_BYTES])
    if media is None:
        raise wrong_type(None, None)
    await asyncio.to_thread(_check_structure, media, io.BytesIO(content))
    return media


async def store_new_with_scans(
    *,
    files: PgFileRepository,
    contents: PgContentStore,
    household: HouseholdFile,
    scans: dict[UUID, bytes],
) -> bool:
    """Store a new file whose pending events record scans (`HouseholdFile.attach`, content
    judged by `judge_content`) together with the scans' contents, in one transaction: the file
    and every scan, or nothing — no content without its event, no event without its content.
    False, storing nothing, when the file exists already (imported before, or meanwhile)."""
    store = files.store
    try:
        async with store.pool.acquire() as conn, conn.transaction():
            await bound(conn, store.transaction_bound)
            # the events first: a new file's data key, which seals the content, is made here
            await files.bound(conn).save(household)
            for a in household.attachments:
                content = scans[a.attachment_id]

                async def body(content: bytes = content) -> AsyncIterator[bytes]:
                    for start in range(0, len(content), contents.chunk_bytes):
                        yield content[start : start + contents.chunk_bytes]

                stored = await contents.write(
                    conn,
                    stream_id=household.id,
                    attachment_id=a.attachment_id,
                    body=body(),
                    limit=len(content),
                )
                if (stored.size, stored.sha256) != (a.size, a.sha256):
                    raise InvalidValue(
                        "sha256",
                        "the content changed after it was checked",
                        zh="附件内容在检查后发生了变化",
                    )
    except ConcurrencyError:
        return False
    if files.cache is not None:
        files.cache.drop(household.id)
    log.info(
        "attachment.imported",
        file_id=str(household.id),
        attachments=len(household.attachments),
        size=sum(a.size for a in household.attachments),
    )
    return True


def attachment_of(household: HouseholdFile, attachment_id: UUID) -> Attachment:
    found = household.attachment(attachment_id)
    if found is None:
        raise NotFound(f"no attachment {attachment_id} on this file", zh="附件不存在")
    return found


def problem_of(error: ContentProblem) -> InvalidValue | NotFound:
    """The stored content cannot be given: what a reader is told."""
    if isinstance(error, Erased):
        return NotFound(
            "the attachment was erased with the household's personal data",
            zh="附件已随个人信息销毁",
        )
    if isinstance(error, Unreadable):
        return NotFound("the attachment cannot be opened on this node", zh="本节点无法解密该附件")
    if isinstance(error, Missing):
        return NotFound("the attachment's content is missing", zh="附件内容缺失")
    return NotFound("the attachment's content is altered", zh="附件内容已被篡改")


async def read_first(
    contents: PgContentStore, file_id: UUID, attachment: Attachment
) -> tuple[bytes, AsyncIterator[bytes]]:
    """The first chunk (so that a missing, altered or erased attachment is refused before a
    response starts) and an iterator over the rest, re-hashed as it goes: content whose hash
    differs from the event's is cut off before its last chunk."""
    chunks = contents.read(file_id, attachment.attachment_id, size=attachment.size)
    digest = hashlib.sha256()
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        raise problem_of(Missing("empty")) from None
    except ContentProblem as error:
        raise problem_of(error) from None
    digest.update(first)

    async def rest() -> AsyncIterator[bytes]:
        held: bytes | None = None
        async for data in chunks:
            digest.update(data)
            if held is not None:
                yield held
            held = data
        if digest.hexdigest() != attachment.sha256:
            log.error(
                "attachment.altered",
                file_id=str(file_id),
                attachment_id=str(attachment.attachment_id),
            )
            raise Altered(f"attachment {attachment.attachment_id} does not match its hash")
        if held is not None:
            yield held

    if attachment.size == len(first):  # one chunk: judged before anything is sent
        if digest.hexdigest() != attachment.sha256:
            raise problem_of(Altered("hash"))

        return first, _no_more()
    return first, rest()


async def _no_more() -> AsyncIterator[bytes]:
    """A stream of no further chunks."""
    none: tuple[bytes, ...] = ()
    for chunk in none:
        yield chunk


def _render(media: MediaType, file: ChunkFile) -> bytes:
    """A JPEG at most PREVIEW_PIXELS on its longer side (run in a worker thread)."""
    from PIL import Image  # noqa: PLC0415

    reader = io.BufferedReader(file, buffer_size=256 * 1024)
    if media is MediaType.PDF:
        import pypdfium2 as pdfium  # type: ignore[import-untyped]  # noqa: PLC0415  # it ships no type information; heavy, only for previews

        with _PDFIUM:
            document = pdfium.PdfDocument(reader)
            try:
                page = document[0]
                width, height = page.get_size()
                scale = min(4.0, PREVIEW_PIXELS / max(width, height, 1.0))
                image = page.render(scale=scale).to_pil()
                page.close()
            finally:
                document.close()
    else:
        image = Image.open(reader)
        image.draft("RGB", (PREVIEW_PIXELS, PREVIEW_PIXELS))  # JPEG: decode at a reduced scale
        image.thumbnail((PREVIEW_PIXELS, PREVIEW_PIXELS))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()


async def preview(contents: PgContentStore, file_id: UUID, attachment: Attachment) -> bytes:
    """A downscaled image of the scan, or of a PDF's first page, as JPEG."""
    try:
        layout = await contents.layout(attachment.attachment_id)
        if layout.size != attachment.size:
            raise Altered("size")
        await contents.chunk(file_id, attachment.attachment_id, 0, layout.chunks)  # erased?
    except ContentProblem as error:
        raise problem_of(error) from None
    reader = contents.open_file(
        file_id, layout, attachment.attachment_id, asyncio.get_running_loop()
    )
    try:
        return await asyncio.to_thread(_render, attachment.media_type, reader)
    except ContentProblem as error:
        raise problem_of(error) from None


@dataclass(frozen=True)
class Checked:
    file_id: UUID
    attachment_id: UUID
    kind: Material
    state: str  # ok, missing, altered, erased, unreadable


async def check_file(contents: PgContentStore, household: HouseholdFile) -> list[Checked]:
    """Re-hash every attachment of a file against its event."""
    out = []
    for a in household.attachments:
        state = await contents.check(household.id, a.attachment_id, size=a.size, sha256=a.sha256)
        if state == "unreadable" and household.erased:
            state = "erased"
        out.append(Checked(household.id, a.attachment_id, a.kind, state))
    return out


@dataclass
class AttachmentReport:
    """`bangfu verify --attachments`: every attachment's state, and content no event records."""

    checked: list[Checked]
    orphans: list[UUID]

    @property
    def ok(self) -> bool:
        return not self.orphans and all(c.state in {"ok", "erased"} for c in self.checked)

    def count(self, state: str) -> int:
        return sum(1 for c in self.checked if c.state == state)


async def verify_all(store: PostgresEventStore, contents: PgContentStore) -> AttachmentReport:
    """Re-hash every attachment's stored content against the hash its event holds (the event's
    own hash is checked by the chain). Erased ones are reported as erased, not altered."""
    checked: list[Checked] = []
    recorded: set[UUID] = set()
    async for event in store.scan(type_prefix=ADDED):
        # the fields read here are never sealed: no key is needed to know what to check
        fields = msgspec.json.decode(event.payload)
        attachment_id = UUID(fields["attachment_id"])
        recorded.add(attachment_id)
        state = await contents.check(
            event.stream_id, attachment_id, size=int(fields["size"]), sha256=fields["sha256"]
        )
        checked.append(Checked(event.stream_id, attachment_id, Material(fields["kind"]), state))
    stored = [r[0] for r in await store.pool.fetch("SELECT attachment_id FROM attachments")]
    orphans = [a for a in stored if a not in recorded]
    for c in checked:
        if c.state not in {"ok", "erased"}:
            log.warning(
                "attachment.check_failed",
                file_id=str(c.file_id),
                attachment_id=str(c.attachment_id),
                state=c.state,
            )
    return AttachmentReport(checked, orphans)
