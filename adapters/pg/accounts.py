"""Accounts, console sessions, personal tokens and account events as rows (0011_accounts.sql).

Plain SQL, no rule: who may do what is decided by `domain/accounts.py` and the service
(`adapters/services/accounts.py`) before anything here runs. Every change of an account is
written in the same transaction as its event, so the trail never misses one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from adapters.pg.conn import Conn
from adapters.pg.units import subtree_sql
from domain.accounts import AccountEvent
from domain.values import Actor, Role

_ACCOUNT = (
    "a.id, a.name, a.display_name, a.unit, a.role, a.must_change, a.disabled_at,"
    " a.created_at, a.updated_at"
)


@dataclass(frozen=True, slots=True)
class Account:
    id: UUID
    name: str
    display_name: str
    unit: str
    role: Role
    must_change: bool
    disabled_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.unit, self.role)

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


def _account(row: Any, offset: int = 0) -> Account:
    values = list(row.values())[offset : offset + 9]
    values[4] = Role(values[4])
    return Account(*values)


@dataclass(frozen=True, slots=True)
class SessionRow:
    account: Account
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class PersonalToken:
    id: UUID
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    kind: AccountEvent
    by_user: str
    by_unit: str
    address: str
    detail: dict[str, Any]
    at: datetime


@dataclass(frozen=True, slots=True)
class Change:
    """One account event to write: what, by whom (user, unit), from where, with what detail."""

    kind: AccountEvent
    by_user: str
    by_unit: str
    at: datetime
    address: str = ""
    detail: dict[str, Any] | None = None


class PgAccounts:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    # ---------------------------------------------------------------- accounts

    async def create(
        self,
        *,
        id: UUID,
        name: str,
        display_name: str,
        unit: str,
        role: Role,
        password_hash: str,
        must_change: bool,
        change: Change,
    ) -> Account | None:
        """The new account, or None when the name is taken."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO accounts AS a (id, name, display_name, unit, role, password_hash,"
                " must_change, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
                f" ON CONFLICT (name) DO NOTHING RETURNING {_ACCOUNT}",
                id,
                name,
                display_name,
                unit,
                role.value,
                password_hash,
                must_change,
                change.at,
            )
            if row is None:
                return None
            await _record(conn, id, change)
        return _account(row)

    async def get(self, account_id: UUID) -> Account | None:
        row = await self.pool.fetchrow(
            f"SELECT {_ACCOUNT} FROM accounts a WHERE a.id = $1", account_id
        )
        return None if row is None else _account(row)

    async def by_name(self, name: str) -> tuple[Account, str] | None:
        """The account of `name` with its password hash."""
        row = await self.pool.fetchrow(
            f"SELECT {_ACCOUNT}, a.password_hash FROM accounts a WHERE a.name = $1", name
        )
        return None if row is None else (_account(row), row["password_hash"])

    async def password_hash(self, account_id: UUID) -> str | None:
        found: str | None = await self.pool.fetchval(
            "SELECT password_hash FROM accounts WHERE id = $1", account_id
        )
        return found

    async def subtree(self, root: str) -> list[Account]:
        rows = await self.pool.fetch(
            f"SELECT {_ACCOUNT} FROM accounts a"
            f" WHERE {subtree_sql('a.unit', '$1')} ORDER BY a.unit, a.name",
            root,
        )
        return [_account(r) for r in rows]

    async def update(
        self,
        account_id: UUID,
        change: Change,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
        must_change: bool | None = None,
        end_sessions: bool = False,
        keep_session: bytes | None = None,
        revoke_tokens: bool = False,
    ) -> Account | None:
        """Change the account and write its event in one transaction; optionally end its
        sessions (all, or all but `keep_session`) and revoke its personal tokens."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE accounts AS a SET"
                " role = coalesce($2, a.role),"
                " disabled_at = CASE WHEN $3::boolean IS NULL THEN a.disabled_at"
                "   WHEN $3 THEN coalesce(a.disabled_at, $6) ELSE NULL END,"
                " password_hash = coalesce($4, a.password_hash),"
                " must_change = coalesce($5, a.must_change),"
                " updated_at = $6"
                f" WHERE a.id = $1 RETURNING {_ACCOUNT}",
                account_id,
                role.value if role else None,
                disabled,
                password_hash,
                must_change,
                change.at,
            )
            if row is None:
                return None
            if end_sessions:
                await conn.execute(
                    "UPDATE account_sessions SET ended_at = $2"
                    " WHERE account_id = $1 AND ended_at IS NULL"
                    " AND ($3::bytea IS NULL OR digest <> $3)",
                    account_id,
                    change.at,
                    keep_session,
                )
            if revoke_tokens:
                await conn.execute(
                    "UPDATE account_tokens SET revoked_at = $2"
                    " WHERE account_id = $1 AND revoked_at IS NULL",
                    account_id,
                    change.at,
                )
            await _record(conn, account_id, change)
        return _account(row)

    async def record(self, account_id: UUID, change: Change) -> None:
        async with self.pool.acquire() as conn:
            await _record(conn, account_id, change)

    async def events(self, account_id: UUID) -> list[EventRow]:
        rows = await self.pool.fetch(
            "SELECT id, kind, by_user, by_unit, address, detail, at FROM account_events"
            " WHERE account_id = $1 ORDER BY id",
            account_id,
        )
        return [
            EventRow(
                r["id"],
                AccountEvent(r["kind"]),
                r["by_user"],
                r["by_unit"],
                r["address"],
                json.loads(r["detail"]),
                r["at"],
            )
            for r in rows
        ]

    # ---------------------------------------------------------------- sessions

    async def start_session(
        self, *, digest: bytes, account_id: UUID, csrf: str, address: str, change: Change
    ) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO account_sessions (digest, account_id, csrf, address, created_at,"
                " last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)",
                digest,
                account_id,
                csrf,
                address,
                change.at,
            )
            await _record(conn, account_id, change)

    async def session(self, digest: bytes) -> SessionRow | None:
        row = await self.pool.fetchrow(
            f"SELECT {_ACCOUNT}, s.csrf, s.created_at AS s_created, s.last_seen_at, s.ended_at"
            " FROM account_sessions s JOIN accounts a ON a.id = s.account_id"
            " WHERE s.digest = $1",
            digest,
        )
        if row is None:
            return None
        return SessionRow(
            _account(row), row["csrf"], row["s_created"], row["last_seen_at"], row["ended_at"]
        )

    async def touch_session(self, digest: bytes, at: datetime) -> None:
        await self.pool.execute(
            "UPDATE account_sessions SET last_seen_at = $2 WHERE digest = $1 AND ended_at IS NULL",
            digest,
            at,
        )

    async def end_session(
        self, digest: bytes, at: datetime, change: Change | None = None
    ) -> UUID | None:
        """End one session (and write `change` for its account); its account's id, or None
        when it had ended already."""
        async with self.pool.acquire() as conn, conn.transaction():
            account_id: UUID | None = await conn.fetchval(
                "UPDATE account_sessions SET ended_at = $2 WHERE digest = $1 AND ended_at IS NULL"
                " RETURNING account_id",
                digest,
                at,
            )
            if account_id is not None and change is not None:
                await _record(conn, account_id, change)
        return account_id

    # ---------------------------------------------------------------- personal tokens

    async def add_token(
        self,
        *,
        id: UUID,
        account_id: UUID,
        digest: bytes,
        label: str,
        expires_at: datetime,
        change: Change,
    ) -> PersonalToken:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO account_tokens (id, account_id, digest, label, created_at,"
                " expires_at) VALUES ($1, $2, $3, $4, $5, $6)"
                " RETURNING id, label, created_at, expires_at, revoked_at, last_used_at",
                id,
                account_id,
                digest,
                label,
                change.at,
                expires_at,
            )
            await _record(conn, account_id, change)
        assert row is not None  # noqa: S101 — INSERT ... RETURNING returns the row it inserted
        return PersonalToken(*row.values())

    async def tokens(self, account_id: UUID) -> list[PersonalToken]:
        rows = await self.pool.fetch(
            "SELECT id, label, created_at, expires_at, revoked_at, last_used_at"
            " FROM account_tokens WHERE account_id = $1 ORDER BY created_at DESC, id",
            account_id,
        )
        return [PersonalToken(*r.values()) for r in rows]

    async def revoke_token(self, account_id: UUID, token_id: UUID, change: Change) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            done = await conn.fetchval(
                "UPDATE account_tokens SET revoked_at = $3"
                " WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL RETURNING true",
                token_id,
                account_id,
                change.at,
            )
            if done:
                await _record(conn, account_id, change)
        return bool(done)

    async def token_account(self, digest: bytes, at: datetime) -> Account | None:
        """The enabled account of a live personal token (not revoked, not expired), noting its
        use at most once a minute."""
        row = await self.pool.fetchrow(
            f"SELECT {_ACCOUNT}, t.id AS token_id, t.last_used_at FROM account_tokens t"
            " JOIN accounts a ON a.id = t.account_id"
            " WHERE t.digest = $1 AND t.revoked_at IS NULL AND t.expires_at > $2"
            " AND a.disabled_at IS NULL AND NOT a.must_change",
            digest,
            at,
        )
        if row is None:
            return None
        last = row["last_used_at"]
        if last is None or (at - last).total_seconds() > 60:
            await self.pool.execute(
                "UPDATE account_tokens SET last_used_at = $2 WHERE id = $1", row["token_id"], at
            )
        return _account(row)

    async def token_expiry(self, digest: bytes, at: datetime) -> datetime | None:
        """When a live personal token expires (None when it is not live)."""
        expires_at: datetime | None = await self.pool.fetchval(
            "SELECT expires_at FROM account_tokens WHERE digest = $1 AND revoked_at IS NULL"
            " AND expires_at > $2",
            digest,
            at,
        )
        return expires_at


async def _record(conn: Conn, account_id: UUID, change: Change) -> None:
    await conn.execute(
        "INSERT INTO account_events (account_id, kind, by_user, by_unit, address, detail, at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        account_id,
        change.kind.value,
        change.by_user,
        change.by_unit,
        change.address,
        json.dumps(change.detail or {}, ensure_ascii=False),
        change.at,
    )
