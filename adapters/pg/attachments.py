"""Attachment content on PostgreSQL: the `domain.ports.ContentStore`, sealed and in chunks.

docs/decisions/0011-attachments.md. The content of an attachment is cut into chunks of `CHUNK`
bytes; each is sealed with AES-GCM under the household's data key (the one that seals its
personal fields, `adapters.pii.sealing.Keyring`), with a fresh nonce and associated data naming
the stream, the attachment, the chunk's place and whether it is the last — so a chunk opens only
where it was written, and a reordered, swapped or dropped chunk never opens as content. Erasure
destroys the data key: the chunks stay, unreadable (`Erased`).

Memory stays bounded whatever the size: writing holds one chunk, reading fetches one chunk per
query. The writer joins the caller's transaction (`conn`), so the content and the event that
records it commit together, or neither does.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.pg.conn import Conn
from adapters.pii.keyring import Keyring
from adapters.pii.sealing import NONCE_BYTES, SHREDDED

log = structlog.get_logger(__name__)

CHUNK = 1024 * 1024  # 1 MiB of content per row
_AAD = b"bangfu/attachment/1\x00"


class ContentProblem(Exception):
    """The stored content cannot be given as recorded."""


class Missing(ContentProblem):
    """No content (or not all of it) is stored for the attachment."""


class Altered(ContentProblem):
    """The stored content does not open, or is not what the event's hash and size say."""


class Erased(ContentProblem):
    """The household's data key was destroyed (erasure on request): the content is shredded."""


class Unreadable(ContentProblem):
    """This node holds no key that opens the content (not sent here, or a KEK is missing)."""


def _aad(stream_id: UUID, attachment_id: UUID, seq: int, last: bool) -> bytes:
    return (
        _AAD + stream_id.bytes + attachment_id.bytes + seq.to_bytes(4, "big") + bytes([int(last)])
    )


def seal_chunk(
    aead: AESGCM, stream_id: UUID, attachment_id: UUID, seq: int, last: bool, data: bytes
) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + aead.encrypt(nonce, data, _aad(stream_id, attachment_id, seq, last))


def open_chunk(
    aead: AESGCM, stream_id: UUID, attachment_id: UUID, seq: int, last: bool, sealed: bytes
) -> bytes:
    try:
        return aead.decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(stream_id, attachment_id, seq, last)
        )
    except (InvalidTag, ValueError):
        raise Altered(f"chunk {seq} of attachment {attachment_id} does not open") from None


@dataclass(frozen=True)
class StoredContent:
    """What was stored: the size and SHA-256 (hex) of the content as received."""

    size: int
    sha256: str
    chunks: int
    head: bytes  # the first bytes, for judging the type by content


@dataclass(frozen=True)
class Layout:
    """Where an attachment's content ends: its size and how many chunks hold it."""

    stream_id: UUID
    size: int
    chunks: int
    sha256: str


Runner = Conn | asyncpg.Pool


class PgContentStore:
    """Attachment content in `attachments` and `attachment_chunks` (infra/migrations/0013)."""

    def __init__(self, pool: asyncpg.Pool, keyring: Keyring, *, chunk: int = CHUNK) -> None:
        self.pool = pool
        self.keyring = keyring
        self.chunk_bytes = chunk

    # ---------------------------------------------------------------- keys

    async def _writing_key(self, conn: Conn, stream_id: UUID) -> AESGCM:
        keys = await self.keyring.for_writing((), (stream_id,), conn=conn)
        return keys[stream_id]

    async def _reading_key(self, stream_id: UUID, conn: Conn | None) -> AESGCM:
        if not self.keyring.is_fresh(stream_id):
            await self.keyring.load([stream_id], conn)
        entry = self.keyring.entry(stream_id)
        if entry is SHREDDED:
            raise Erased(f"the personal data of {stream_id} was erased")
        if not isinstance(entry, AESGCM):
            raise Unreadable(f"no key opens the attachments of {stream_id} on this node")
        return entry

    # ---------------------------------------------------------------- writing

    async def write(
        self,
        conn: Conn,
        *,
        stream_id: UUID,
        attachment_id: UUID,
        body: AsyncIterator[bytes],
        limit: int,
        first: Callable[[bytes], None] | None = None,
    ) -> StoredContent:
        """Store the content read from `body` inside the transaction open on `conn`, sealing and
        hashing one chunk at a time. More than `limit` bytes raise `TooLarge` as soon as they
        arrive; `first` sees the first bytes before anything is stored (to refuse the wrong type
        early). The caller commits, or rolls back and nothing stays."""
        aead = await self._writing_key(conn, stream_id)
        digest = hashlib.sha256()
        size = 0
        seq = 0
        head = b""
        pending = bytearray()
        checked = first is None

        async def put(data: bytes, last: bool) -> None:
            nonlocal seq
            sealed = seal_chunk(aead, stream_id, attachment_id, seq, last, data)
            await conn.execute(
                "INSERT INTO attachment_chunks (attachment_id, seq, sealed) VALUES ($1, $2, $3)",
                attachment_id,
                seq,
                sealed,
            )
            seq += 1

        async for piece in body:
            if not piece:
                continue
            size += len(piece)
            if size > limit:
                raise TooLarge(limit)
            digest.update(piece)
            pending += piece
            if not checked and len(pending) >= 16:
                head = bytes(pending[:16])
                assert first is not None  # noqa: S101 — `checked` is False only with `first`
                first(head)
                checked = True
            # keep a whole chunk back until more arrives: the last chunk is marked as last
            while len(pending) > self.chunk_bytes:
                await put(bytes(pending[: self.chunk_bytes]), last=False)
                del pending[: self.chunk_bytes]
        if not checked:
            head = bytes(pending[:16])
            if first is not None:
                first(head)
        if size == 0:
            raise Empty()
        await put(bytes(pending), last=True)
        await conn.execute(
            "INSERT INTO attachments (attachment_id, stream_id, size, chunks, sha256)"
            " VALUES ($1, $2, $3, $4, $5)",
            attachment_id,
            stream_id,
            size,
            seq,
            digest.digest(),
        )
        return StoredContent(size, digest.hexdigest(), seq, head)

    # ---------------------------------------------------------------- reading

    async def layout(self, attachment_id: UUID, conn: Conn | None = None) -> Layout:
        runner: Runner = conn if conn is not None else self.pool
        row = await runner.fetchrow(
            "SELECT stream_id, size, chunks, sha256 FROM attachments WHERE attachment_id = $1",
            attachment_id,
        )
        if row is None:
            raise Missing(f"no content is stored for attachment {attachment_id}")
        return Layout(row[0], row[1], row[2], bytes(row[3]).hex())

    async def chunk(
        self,
        stream_id: UUID,
        attachment_id: UUID,
        seq: int,
        chunks: int,
        conn: Conn | None = None,
    ) -> bytes:
        """One chunk, opened (raises `Missing`, `Altered`, `Erased` or `Unreadable`)."""
        aead = await self._reading_key(stream_id, conn)
        runner: Runner = conn if conn is not None else self.pool
        sealed = await runner.fetchval(
            "SELECT sealed FROM attachment_chunks WHERE attachment_id = $1 AND seq = $2",
            attachment_id,
            seq,
        )
        if sealed is None:
            raise Missing(f"chunk {seq} of attachment {attachment_id} is not stored")
        return open_chunk(aead, stream_id, attachment_id, seq, seq == chunks - 1, bytes(sealed))

    async def read(
        self,
        stream_id: UUID,
        attachment_id: UUID,
        *,
        size: int,
        conn: Conn | None = None,
    ) -> AsyncIterator[bytes]:
        """The content, one chunk at a time, exactly `size` bytes (the size the event records:
        stored content of another length is `Altered`)."""
        layout = await self.layout(attachment_id, conn)
        if layout.stream_id != stream_id:
            raise Altered(f"attachment {attachment_id} is stored under another file")
        await self._reading_key(stream_id, conn)  # erased or unreadable before any byte is sent
        given = 0
        for seq in range(layout.chunks):
            data = await self.chunk(stream_id, attachment_id, seq, layout.chunks, conn)
            given += len(data)
            if given > size:
                raise Altered(f"attachment {attachment_id} holds more than {size} bytes")
            yield data
        if given != size:
            raise Altered(f"attachment {attachment_id} holds {given} bytes, not {size}")

    async def check(self, stream_id: UUID, attachment_id: UUID, *, size: int, sha256: str) -> str:
        """Re-hash the stored content against the event: "ok", "missing", "altered", "erased"
        or "unreadable"."""
        digest = hashlib.sha256()
        try:
            async for data in self.read(stream_id, attachment_id, size=size):
                digest.update(data)
        except Missing:
            return "missing"
        except Altered:
            return "altered"
        except Erased:
            return "erased"
        except Unreadable:
            return "unreadable"
        return "ok" if digest.hexdigest() == sha256 else "altered"

    def open_file(
        self,
        stream_id: UUID,
        layout: Layout,
        attachment_id: UUID,
        loop: asyncio.AbstractEventLoop,
        conn: Conn | None = None,
    ) -> ChunkFile:
        """A read-only, seekable file over the stored content for a worker thread (PDF and image
        libraries read files, not streams): each chunk is fetched on `loop` when reached."""

        def fetch(seq: int) -> bytes:
            future = asyncio.run_coroutine_threadsafe(
                self.chunk(stream_id, attachment_id, seq, layout.chunks, conn), loop
            )
            return future.result(timeout=60)

        return ChunkFile(fetch, layout.size, layout.chunks, self.chunk_size_of(layout))

    def chunk_size_of(self, layout: Layout) -> int:
        # every chunk but the last is `self.chunk` bytes (also content received by sync: both
        # nodes use CHUNK); a single chunk is the whole content
        return self.chunk_bytes if layout.chunks > 1 else layout.size


async def store_sealed(
    conn: Conn,
    *,
    attachment_id: UUID,
    stream_id: UUID,
    size: int,
    sha256: str,
    sealed: Iterable[bytes],
) -> bool:
    """Store an attachment's chunks received from another node as they are, sealed (sync: the
    same data key travels wrapped), one chunk at a time, inside the caller's transaction.
    Returns False when the attachment is already stored here."""
    held = await conn.fetchval(
        "SELECT EXISTS (SELECT FROM attachments WHERE attachment_id = $1)", attachment_id
    )
    if held:
        return False
    count = 0
    for seq, chunk in enumerate(sealed):
        await conn.execute(
            "INSERT INTO attachment_chunks (attachment_id, seq, sealed) VALUES ($1, $2, $3)",
            attachment_id,
            seq,
            chunk,
        )
        count = seq + 1
    await conn.execute(
        "INSERT INTO attachments (attachment_id, stream_id, size, chunks, sha256)"
        " VALUES ($1, $2, $3, $4, $5)",
        attachment_id,
        stream_id,
        size,
        count,
        bytes.fromhex(sha256),
    )
    return True


class TooLarge(Exception):
    """More bytes arrived than the limit allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class Empty(Exception):
    """An upload without content."""


class ChunkFile(io.RawIOBase):
    """A seekable, read-only view of chunked content that holds one chunk at a time."""

    def __init__(self, fetch: Callable[[int], bytes], size: int, chunks: int, chunk: int) -> None:
        super().__init__()
        self._fetch = fetch
        self._size = size
        self._chunks = chunks
        self._chunk = max(chunk, 1)
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._size + offset
        else:
            raise ValueError(f"unknown whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def _data(self, seq: int) -> bytes:
        if self._cached is None or self._cached[0] != seq:
            self._cached = (seq, self._fetch(seq))
        return self._cached[1]

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._pos >= self._size or not len(view):
            return 0
        seq, offset = divmod(self._pos, self._chunk)
        data = self._data(min(seq, self._chunks - 1))
        piece = data[offset : offset + len(view)]
        view[: len(piece)] = piece
        self._pos += len(piece)
        return len(piece)
