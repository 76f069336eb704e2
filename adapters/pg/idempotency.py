"""The responses kept for `Idempotency-Key` retries (table `idempotency_keys`), each with the file
it concerns.

A key is claimed, the command runs and its response is kept in one transaction — the same one
that appends the command's events (`Claim.files` is the repository bound to it); a concurrent
retry with the same key waits on the key's row until the first commits, then finds the kept
response. The HTTP side (`adapters.http.idempotency`) fingerprints requests and answers retries.

Each kept response names its file (`file_id`, infra/migrations/0011_idempotency_file.sql), so
erasing a household's personal data deletes the responses kept for it by that column
(`delete_file`) — never by searching the stored bytes for the file's id, which misses a body
that spells the id another way and hits one of another file that merely mentions it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import msgspec

from adapters.pg.conn import Conn
from adapters.pg.repository import ForgetFile, PgFileRepository
from adapters.pg.store import bound

_CLAIM = (
    "INSERT INTO idempotency_keys (principal, key, request_hash) VALUES ($1, $2, $3)"
    " ON CONFLICT DO NOTHING RETURNING true"
)
_KEPT = (
    "SELECT request_hash, status, headers, body FROM idempotency_keys"
    " WHERE principal = $1 AND key = $2"
)
_KEEP = (
    "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5, file_id = $6"
    " WHERE principal = $1 AND key = $2"
)
_DELETE_FILE = "DELETE FROM idempotency_keys WHERE file_id = $1"

__all__ = ["Claim", "ForgetFile", "Kept", "PgIdempotency", "delete_file"]


@dataclass(frozen=True, slots=True)
class Kept:
    """The response kept for a key's first request."""

    request_hash: bytes  # the fingerprint of the request that claimed the key
    status: int
    headers: dict[str, str]
    body: bytes


class Claim:
    """A key claimed by this request, or found kept from an earlier one, inside an open
    transaction: keep the response (`keep`) before the block ends and both commit together."""

    def __init__(
        self,
        conn: Conn,
        principal: str,
        key: str,
        files: PgFileRepository,
        kept: Kept | None,
    ) -> None:
        self._conn = conn
        self._principal = principal
        self._key = key
        self.files = files  # the repository bound to this transaction
        self.kept = kept  # the first request's response, when the key was used before

    async def keep(
        self, status: int, headers: dict[str, str], body: bytes, file_id: UUID | None
    ) -> None:
        """Keep the response to replay to retries, naming the file it concerns (if any)."""
        await self._conn.execute(
            _KEEP,
            self._principal,
            self._key,
            status,
            msgspec.json.encode(headers).decode(),
            body,
            file_id,
        )


class PgIdempotency:
    """The kept responses on PostgreSQL; `files` is bound to each claim's transaction."""

    def __init__(
        self, pool: asyncpg.Pool, files: PgFileRepository, *, transaction_bound: float
    ) -> None:
        self.pool = pool
        self.files = files
        self.transaction_bound = transaction_bound

    @asynccontextmanager
    async def claim(self, principal: str, key: str, fingerprint: bytes) -> AsyncIterator[Claim]:
        """Claim `key` for `principal` in a new transaction, committed when the block ends (rolled
        back when it raises, so a refused command's retry is judged afresh)."""
        async with self.pool.acquire() as conn, conn.transaction():
            # The key's insert takes a transaction id, which holds back every tailing reader
            # until commit: bound the whole transaction, not just its append (`store.bound`).
            await bound(conn, self.transaction_bound)
            kept = None
            if not await conn.fetchval(_CLAIM, principal, key, fingerprint):
                row = await conn.fetchrow(_KEPT, principal, key)
                assert row is not None  # noqa: S101 — the key's row is what the insert met
                kept = Kept(
                    bytes(row["request_hash"]),
                    row["status"],
                    msgspec.json.decode(row["headers"]) if row["headers"] else {},
                    bytes(row["body"]) if row["body"] is not None else b"",
                )
            yield Claim(conn, principal, key, self.files.bound(conn), kept)


async def delete_file(conn: Conn, file_id: UUID) -> int:
    """Delete the responses kept for the file (in the caller's transaction); how many went."""
    status: str = await conn.execute(_DELETE_FILE, file_id)
    return int(status.rsplit(maxsplit=1)[-1])
