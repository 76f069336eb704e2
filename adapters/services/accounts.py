"""Accounts, sign-in, console sessions and personal API tokens: the one service the HTTP API, the
console and the CLI (`bangfu users …`) share.

- Passwords are hashed with argon2id (argon2-cffi's RFC 9106 "low memory" profile: 64 MiB,
  3 passes, 4 lanes; docs/security.md), off the event loop. An unknown user name is checked
  against a dummy hash, so that its answer takes as long as a wrong password's.
- Sign-in failures are counted per account name and per client address with the API's rate
  limiter (`adapters/runtime/limits.py`): past the limit, sign-in is refused (429 with
  `Retry-After`) without looking at the password — a lockout that ends by itself as the
  bucket drains. The moment an account becomes locked is recorded in its trail.
- Sessions live in PostgreSQL: the cookie holds a random value, the row its SHA-256 digest. A
  session ends at sign-out, when the account is disabled or its password reset or changed, after
  `idle` without a request and `lifetime` after sign-in, whichever comes first.
- Personal tokens (`bfp_…`) are bearer tokens for the API, minted by a signed-in user for itself
  with a bounded lifetime; listed, revocable, shown once and stored as digests.

Time comes from a clock port (`now`), so tests move it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypedDict, Unpack
from uuid import UUID, uuid4

import argon2
import structlog

from adapters.pg.accounts import Account, Change, EventRow, PersonalToken, PgAccounts, SessionRow
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.limits import Limiter
from adapters.runtime.settings import Settings
from domain import accounts as rules
from domain.accounts import AccountEvent
from domain.errors import DomainError, InvalidValue, NotFound, RuleViolated
from domain.units import UnitCode
from domain.values import Actor, Role

log = structlog.get_logger("bangfu.accounts")

TOKEN_PREFIX = "bfp_"  # noqa: S105 — marks a personal API token (any other bearer is a JWT)
MAX_TOKEN_DAYS = 90
OPERATOR_UNIT = ""  # account events the node's operator caused from the command line


class SignInRefused(DomainError):
    """Wrong user name or password, or a disabled account: one answer for all three."""

    code = "sign_in_refused"


class PasswordChangeRequired(DomainError):
    code = "password_change_required"


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def generated_password(user: str = "") -> str:
    """A random password that passes the strength rule (shown once to whoever made it)."""
    while True:
        candidate = secrets.token_urlsafe(12)
        try:
            rules.check_password(candidate, user=user)
        except InvalidValue:
            continue
        return candidate


class Passwords:
    """argon2id hashing, off the event loop (a hash costs tens of milliseconds of CPU)."""

    def __init__(self, hasher: argon2.PasswordHasher | None = None) -> None:
        self.hasher = hasher or argon2.PasswordHasher()  # RFC 9106 low-memory profile
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, hashed: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self.hasher.verify(hashed or self._dummy, password) and hashed is not None
            except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
                return False

        return await asyncio.to_thread(check)


# How stale a session's recorded last use may be (and at most a tenth of the idle timeout).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Lockout:
    """Failed sign-ins allowed per account name and per client address (GCRA buckets)."""

    account: Limiter
    address: Limiter

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: Callable[[], float] = time.monotonic
    ) -> Lockout:
        return cls(
            account=Limiter(
                count=settings.sign_in_failures_per_account,
                period=settings.sign_in_lockout_seconds,
                what="failed sign-ins of this account",
                what_zh="登录失败次数过多，账户暂时锁定；登录",
                clock=clock,
            ),
            address=Limiter(
                count=settings.sign_in_failures_per_address,
                period=settings.sign_in_lockout_seconds,
                what="failed sign-ins from this address",
                what_zh="本地址登录失败次数过多；登录",
                clock=clock,
            ),
        )


@dataclass(frozen=True)
class Session:
    """A live console session: its cookie value, its account and its CSRF token."""

    cookie: str
    account: Account
    csrf: str

    @property
    def actor(self) -> Actor:
        return self.account.actor


@dataclass(frozen=True)
class Minted:
    token: str  # shown once
    record: PersonalToken


def _system_now() -> datetime:
    return datetime.now(UTC)


class AccountFields(TypedDict, total=False):
    """What one account change may set: `PgAccounts.update`'s keyword arguments."""

    role: Role | None
    disabled: bool | None
    password_hash: str | None
    must_change: bool | None
    end_sessions: bool
    keep_session: bytes | None
    revoke_tokens: bool


class AccountService:
    def __init__(
        self,
        store: PgAccounts,
        units: PgUnitDirectory,
        *,
        idle: timedelta,
        lifetime: timedelta,
        lockout: Lockout,
        passwords: Passwords | None = None,
        now: Callable[[], datetime] = _system_now,
    ) -> None:
        self.store = store
        self.units = units
        self.idle = idle
        self.lifetime = lifetime
        self.lockout = lockout
        self.passwords = passwords or Passwords()
        self.now = now

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        store: PgAccounts,
        units: PgUnitDirectory,
        *,
        now: Callable[[], datetime] = _system_now,
        monotonic: Callable[[], float] = time.monotonic,
        passwords: Passwords | None = None,
    ) -> AccountService:
        return cls(
            store,
            units,
            idle=timedelta(seconds=settings.session_idle_seconds),
            lifetime=timedelta(seconds=settings.session_lifetime_seconds),
            lockout=Lockout.from_settings(settings, clock=monotonic),
            passwords=passwords,
            now=now,
        )

    # ------------------------------------------------------------ managing accounts

    def _by(self, manager: Actor | None, operator: str) -> tuple[str, str]:
        if manager is None:
            return f"operator:{operator}", OPERATOR_UNIT
        return manager.user, manager.unit

    async def _reachable(self, manager: Actor | None, account_id: UUID) -> Account:
        """The account, if `manager` may manage it (None: the node's operator may manage any);
        an account outside the manager's subtree is answered exactly as one that does not
        exist."""
        if manager is not None:
            rules.check_manager(manager)
        account = await self.store.get(account_id)
        if account is None or (manager is not None and not rules.reaches(manager, account.unit)):
            raise NotFound("no such account", zh="账户不存在")
        if manager is not None:
            rules.check_role(manager, account.role)
        return account

    async def create(
        self,
        manager: Actor | None,
        *,
        user: str,
        unit: str,
        role: Role,
        display_name: str = "",
        password: str | None = None,
        must_change: bool = True,
        operator: str = "operator",
    ) -> tuple[Account, str]:
        """A new account and its first password (generated unless given). Made by an admin
        (`manager`) or by the node's operator (None)."""
        if manager is not None:
            rules.check_manager(manager)
            code = UnitCode(unit)
            if not rules.reaches(manager, code.value):
                raise NotFound(f"unit {unit} is not within {manager.unit}", zh="单位不存在")
            rules.check_role(manager, role)
        code = UnitCode(unit)
        rules.check_name(user)
        display = rules.check_display_name(display_name)
        if not await self.units.exists(code.value):
            raise RuleViolated(
                "unit_exists",
                f"unit {unit} is not registered",
                zh=f"单位{unit}不存在",
                field="unit",
            )
        chosen = password if password is not None else generated_password(user)
        rules.check_password(chosen, user=user)
        by_user, by_unit = self._by(manager, operator)
        account = await self.store.create(
            id=uuid4(),
            name=user,
            display_name=display,
            unit=code.value,
            role=role,
            password_hash=await self.passwords.hash(chosen),
            must_change=must_change,
            change=Change(
                AccountEvent.CREATED,
                by_user,
                by_unit,
                self.now(),
                detail={"unit": code.value, "role": role.value},
            ),
        )
        if account is None:
            raise RuleViolated(
                "user_unique",
                f"the user name {user} is taken",
                zh=f"用户名{user}已存在",
                field="user",
            )
        log.info("account.created", account=user, unit=code.value, role=role.value, by=by_user)
        return account, chosen

    async def get(self, manager: Actor | None, account_id: UUID) -> Account:
        return await self._reachable(manager, account_id)

    async def by_name(self, name: str) -> Account | None:
        found = await self.store.by_name(name)
        return None if found is None else found[0]

    async def list(self, manager: Actor, root: str | None = None) -> list[Account]:
        rules.check_manager(manager)
        start = UnitCode(root or manager.unit).value
        if not rules.reaches(manager, start):
            raise NotFound(f"unit {start} is not within {manager.unit}", zh="单位不存在")
        return await self.store.subtree(start)

    async def change(
        self,
        manager: Actor | None,
        account_id: UUID,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        operator: str = "operator",
    ) -> Account:
        """Change an account's role and/or disable or re-enable it; disabling ends its sessions
        at once."""
        account = await self._reachable(manager, account_id)
        if manager is not None and (role is not None or disabled):
            rules.check_not_own(manager, user=account.name, unit=account.unit)
        if role is not None and manager is not None:
            rules.check_role(manager, role)
        by_user, by_unit = self._by(manager, operator)
        if role is not None and role is not account.role:
            account = await self._update(
                account,
                Change(
                    AccountEvent.ROLE_CHANGED,
                    by_user,
                    by_unit,
                    self.now(),
                    detail={"from": account.role.value, "to": role.value},
                ),
                role=role,
            )
        if disabled is not None and disabled == account.enabled:
            kind = AccountEvent.DISABLED if disabled else AccountEvent.ENABLED
            account = await self._update(
                account,
                Change(kind, by_user, by_unit, self.now()),
                disabled=disabled,
                end_sessions=disabled,
            )
        return account

    async def reset_password(
        self,
        manager: Actor | None,
        account_id: UUID,
        *,
        password: str | None = None,
        reason: str = "",
        operator: str = "operator",
    ) -> tuple[Account, str]:
        """A new temporary password, to be changed at the next sign-in; the account's sessions
        end and its personal tokens are revoked."""
        account = await self._reachable(manager, account_id)
        chosen = password if password is not None else generated_password(account.name)
        rules.check_password(chosen, user=account.name)
        by_user, by_unit = self._by(manager, operator)
        account = await self._update(
            account,
            Change(
                AccountEvent.PASSWORD_RESET,
                by_user,
                by_unit,
                self.now(),
                detail={"reason": reason} if reason else None,
            ),
            password_hash=await self.passwords.hash(chosen),
            must_change=True,
            end_sessions=True,
            revoke_tokens=True,
        )
        return account, chosen

    # `builtins.list`: inside this class, `list` is the method above
    async def events(self, manager: Actor | None, account_id: UUID) -> builtins.list[EventRow]:
        await self._reachable(manager, account_id)
        return await self.store.events(account_id)

    async def _update(
        self, account: Account, change: Change, **fields: Unpack[AccountFields]
    ) -> Account:
        updated = await self.store.update(account.id, change, **fields)
        if updated is None:
            raise NotFound("no such account", zh="账户不存在")
        log.info(f"account.{change.kind.value}", account=account.name, by=change.by_user)
        return updated

    # ------------------------------------------------------------ signing in and out

    async def sign_in(self, *, user: str, password: str, address: str) -> Session:
        """A new session for the right password of an enabled account. `SignInRefused` for a
        wrong user name or password or a disabled account alike; `RateLimited` while the
        account or the address is locked out (the password is not even checked then)."""
        key = user.strip().lower()
        self.lockout.address.check_not_exhausted(address)
        locked = self.lockout.account.wait(key)
        if locked:
            raise self.lockout.account.refused(locked)
        found = await self.store.by_name(user.strip())
        account, hashed = found if found is not None else (None, None)
        right = await self.passwords.verify(hashed, password)
        now = self.now()
        if account is None or not right or not account.enabled:
            self.lockout.address.take(address)
            self.lockout.account.take(key)
            if account is not None:
                reason = "password" if not right else "disabled"
                await self.store.record(
                    account.id,
                    Change(
                        AccountEvent.SIGN_IN_FAILED,
                        account.name,
                        account.unit,
                        now,
                        address=address,
                        detail={"reason": reason},
                    ),
                )
                if self.lockout.account.wait(key):
                    await self.store.record(
                        account.id,
                        Change(AccountEvent.LOCKED, account.name, account.unit, now, address),
                    )
                    log.warning("account.locked", account=account.name, address=address)
            log.info("account.sign_in_failed", user=user[:64], address=address)
            raise SignInRefused(
                "the user name or password is wrong, or the account is disabled",
                zh="用户名或密码错误，或账户已停用",
            )
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        await self.store.start_session(
            digest=digest(cookie),
            account_id=account.id,
            csrf=csrf,
            address=address,
            change=Change(AccountEvent.SIGNED_IN, account.name, account.unit, now, address),
        )
        log.info("account.signed_in", account=account.name, unit=account.unit, address=address)
        return Session(cookie, account, csrf)

    async def session(self, cookie: str) -> Session | None:
        """The live session of a cookie value, its last use now; None for an unknown, ended,
        idle or too old session, or a disabled account (the session is ended then)."""
        if not cookie:
            return None
        key = digest(cookie)
        row: SessionRow | None = await self.store.session(key)
        if row is None or row.ended_at is not None:
            return None
        now = self.now()
        if (
            not row.account.enabled
            or now - row.last_seen_at > self.idle
            or now - row.created_at > self.lifetime
        ):
            await self.store.end_session(key, now)
            return None
        if now - row.last_seen_at >= min(TOUCH_EVERY, self.idle / 10):
            # the last use, kept to the minute: a page view then writes (and waits for a
            # commit to reach the disk) once a minute at most, not on every request
            await self.store.touch_session(key, now)
        return Session(cookie, row.account, row.csrf)

    async def sign_out(self, session: Session, *, address: str = "") -> None:
        account = session.account
        await self.store.end_session(
            digest(session.cookie),
            self.now(),
            Change(AccountEvent.SIGNED_OUT, account.name, account.unit, self.now(), address),
        )

    async def change_password(self, session: Session, *, current: str, new: str) -> Account:
        """The holder's own change (required at first sign-in after an admin set the
        password): every other session of the account ends."""
        account = session.account
        if not await self.passwords.verify(await self.store.password_hash(account.id), current):
            raise InvalidValue("current_password", "is wrong", zh="当前密码不正确")
        rules.check_password(new, user=account.name)
        if hmac.compare_digest(new.encode(), current.encode()):
            raise InvalidValue(
                "password", "must differ from the current one", zh="新密码不能与当前密码相同"
            )
        return await self._update(
            account,
            Change(AccountEvent.PASSWORD_CHANGED, account.name, account.unit, self.now()),
            password_hash=await self.passwords.hash(new),
            must_change=False,
            end_sessions=True,
            keep_session=digest(session.cookie),
        )

    # ------------------------------------------------------------ personal tokens

    def _holder(self, session: Session) -> Account:
        if session.account.must_change:
            raise PasswordChangeRequired("change the password first", zh="请先修改初始密码")
        return session.account

    async def mint_token(self, session: Session, *, label: str, days: int) -> Minted:
        account = self._holder(session)
        label = label.strip()
        if not 1 <= len(label) <= 50:
            raise InvalidValue("label", "1 to 50 characters", zh="令牌名称应为1至50个字符")
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise InvalidValue("days", "1 to 90 days", zh="有效期应为1至90天")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = uuid4()
        now = self.now()
        record = await self.store.add_token(
            id=token_id,
            account_id=account.id,
            digest=digest(token),
            label=label,
            expires_at=now + timedelta(days=days),
            change=Change(
                AccountEvent.TOKEN_MINTED,
                account.name,
                account.unit,
                now,
                detail={"token_id": str(token_id), "label": label, "days": days},
            ),
        )
        log.info("account.token_minted", account=account.name, token_id=str(token_id))
        return Minted(token, record)

    async def tokens(self, session: Session) -> builtins.list[PersonalToken]:
        return await self.store.tokens(session.account.id)

    async def revoke_token(self, session: Session, token_id: UUID) -> None:
        account = session.account
        done = await self.store.revoke_token(
            account.id,
            token_id,
            Change(
                AccountEvent.TOKEN_REVOKED,
                account.name,
                account.unit,
                self.now(),
                detail={"token_id": str(token_id)},
            ),
        )
        if not done:
            raise NotFound("no such live token", zh="令牌不存在或已撤销")

    async def token_expires_at(self, token: str) -> datetime | None:
        """When a live personal token expires; None for any other token."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        return await self.store.token_expiry(digest(token), self.now())

    async def token_actor(self, token: str) -> Actor | None:
        """The actor of a live personal token; None for any other."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        account = await self.store.token_account(digest(token), self.now())
        return None if account is None else account.actor
