"""The account service on a real PostgreSQL, with its clock moved by the test (no sleeping):
sign-in, lockout and its end, idle and absolute expiry, sessions ended by sign-out, disabling and
password changes, personal tokens, and the trail of every change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import argon2
import asyncpg
import pytest

from adapters.pg.accounts import PgAccounts
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.limits import RateLimited
from adapters.runtime.settings import Settings
from adapters.services import demo
from adapters.services.accounts import (
    AccountService,
    PasswordChangeRequired,
    Passwords,
    SignInRefused,
    digest,
)
from domain.accounts import AccountEvent
from domain.errors import NotFound, NotPermitted
from domain.values import Actor, Role

PASSWORD = "晴天-Harbour-47"
ADMIN = Actor("admin-sun", "13", Role.ADMIN)
ADDRESS = "10.0.0.7"
# Cheap hashes for tests (the service's own default is argon2-cffi's RFC 9106 profile)
FAST = Passwords(argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class Clock:
    """Wall time and monotonic time, both moved by `advance`."""

    at: datetime = field(default_factory=lambda: datetime(2026, 5, 1, 9, tzinfo=UTC))
    ticks: float = 1000.0

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.ticks

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
        self.ticks += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def service(pool: asyncpg.Pool, clock: Clock) -> AccountService:
    units = PgUnitDirectory(pool)
    await units.load(demo.units())
    settings = Settings(
        database_url=None,
        data_dir=None,  # type: ignore[arg-type]
        log_json=True,
        session_idle_seconds=600,
        session_lifetime_seconds=3600,
        sign_in_failures_per_account=3,
        sign_in_failures_per_address=10,
        sign_in_lockout_seconds=300,
    )
    return AccountService.from_settings(
        settings,
        PgAccounts(pool),
        units,
        now=clock.now,
        monotonic=clock.monotonic,
        passwords=FAST,
    )


async def clerk(service: AccountService, *, must_change: bool = False) -> str:
    await service.create(
        ADMIN,
        user="clerk-li",
        unit="130306001",
        role=Role.CLERK,
        password=PASSWORD,
        must_change=must_change,
    )
    return "clerk-li"


async def kinds(service: AccountService, user: str) -> list[AccountEvent]:
    account = await service.by_name(user)
    assert account is not None
    return [e.kind for e in await service.events(ADMIN, account.id)]


class TestSigningIn:
    async def test_with_the_right_password_starts_a_session(self, service: AccountService):
        await clerk(service)

        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)

        found = await service.session(session.cookie)
        assert found is not None
        assert found.actor == Actor("clerk-li", "130306001", Role.CLERK)

    async def test_with_a_wrong_password_is_refused_and_recorded(self, service: AccountService):
        await clerk(service)

        with pytest.raises(SignInRefused):
            await service.sign_in(user="clerk-li", password="wrong-password-1", address=ADDRESS)

        assert await kinds(service, "clerk-li") == [
            AccountEvent.CREATED,
            AccountEvent.SIGN_IN_FAILED,
        ]

    async def test_with_an_unknown_name_is_refused_alike(self, service: AccountService):
        with pytest.raises(SignInRefused) as refused:
            await service.sign_in(user="nobody-here", password=PASSWORD, address=ADDRESS)

        assert refused.value.zh == "用户名或密码错误，或账户已停用"


class TestLockout:
    async def test_locks_an_account_after_repeated_failures_and_records_it(
        self, service: AccountService
    ):
        await clerk(service)
        for _ in range(3):
            with pytest.raises(SignInRefused):
                await service.sign_in(user="clerk-li", password="wrong-password-1", address=ADDRESS)

        with pytest.raises(RateLimited) as locked:
            await service.sign_in(user="clerk-li", password=PASSWORD, address="10.0.0.8")

        assert locked.value.retry_after == 100  # one failure's share of 300 s
        assert (await kinds(service, "clerk-li"))[-1] is AccountEvent.LOCKED

    async def test_ends_by_itself(self, service: AccountService, clock: Clock):
        await clerk(service)
        for _ in range(3):
            with pytest.raises(SignInRefused):
                await service.sign_in(user="clerk-li", password="wrong-password-1", address=ADDRESS)

        clock.advance(101)
        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)

        assert session.account.name == "clerk-li"

    async def test_locks_an_address_that_guesses_many_accounts(self, service: AccountService):
        for n in range(10):
            with pytest.raises(SignInRefused):
                await service.sign_in(user=f"guess-{n}", password=PASSWORD, address=ADDRESS)
        await clerk(service)

        with pytest.raises(RateLimited):
            await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)


class TestSessions:
    async def test_end_after_the_idle_time(self, service: AccountService, clock: Clock):
        await clerk(service)
        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)

        clock.advance(601)

        assert await service.session(session.cookie) is None

    async def test_live_on_while_used(self, service: AccountService, clock: Clock):
        await clerk(service)
        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)

        for _ in range(5):
            clock.advance(500)
            assert await service.session(session.cookie) is not None

    async def test_record_their_last_use_once_a_minute_at_most(
        self, service: AccountService, clock: Clock
    ):
        await clerk(service)
        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)
        signed_in = await service.store.session(digest(session.cookie))
        clock.advance(30)
        await service.session(session.cookie)
        soon = await service.store.session(digest(session.cookie))
        clock.advance(40)
        await service.session(session.cookie)
        later = await service.store.session(digest(session.cookie))

        assert signed_in is not None
        assert soon is not None
        assert later is not None
        assert soon.last_seen_at == signed_in.last_seen_at  # within the minute: not written
        assert later.last_seen_at == signed_in.last_seen_at + timedelta(seconds=70)

    async def test_end_at_the_absolute_lifetime_even_while_used(
        self, service: AccountService, clock: Clock
    ):
        await clerk(service)
        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)
        for _ in range(7):
            clock.advance(500)
            await service.session(session.cookie)

        clock.advance(200)  # 3,700 s after sign-in, 200 s after the last use

        assert await service.session(session.cookie) is None

    async def test_end_at_sign_out(self, service: AccountService):
        await clerk(service)
        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)

        await service.sign_out(session)

        assert await service.session(session.cookie) is None

    async def test_end_when_an_admin_disables_the_account(self, service: AccountService):
        await clerk(service)
        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)

        await service.change(ADMIN, session.account.id, disabled=True)

        assert await service.session(session.cookie) is None
        with pytest.raises(SignInRefused):
            await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)

    async def test_other_sessions_end_when_the_password_changes(self, service: AccountService):
        await clerk(service)
        here = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)
        elsewhere = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)

        await service.change_password(here, current=PASSWORD, new="rT7#mq2!vZ-new")

        assert await service.session(here.cookie) is not None
        assert await service.session(elsewhere.cookie) is None


class TestFirstSignIn:
    async def test_an_account_an_admin_created_must_change_its_password_first(
        self, service: AccountService
    ):
        await clerk(service, must_change=True)
        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)

        with pytest.raises(PasswordChangeRequired):
            await service.mint_token(session, label="脚本", days=7)
        await service.change_password(session, current=PASSWORD, new="rT7#mq2!vZ-new")
        changed = await service.session(session.cookie)

        assert changed is not None
        assert changed.account.must_change is False


class TestPersonalTokens:
    async def test_are_listed_act_as_their_holder_and_stop_when_revoked(
        self, service: AccountService
    ):
        await clerk(service)
        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)
        minted = await service.mint_token(session, label="夜间脚本", days=7)

        listed = [(t.id, t.label) for t in await service.tokens(session)]
        acting = await service.token_actor(minted.token)
        await service.revoke_token(session, minted.record.id)

        assert listed == [(minted.record.id, "夜间脚本")]
        assert acting == Actor("clerk-li", "130306001", Role.CLERK)
        assert await service.token_actor(minted.token) is None
        assert (await service.tokens(session))[0].revoked_at is not None

    async def test_expire_at_their_lifetime(self, service: AccountService, clock: Clock):
        await clerk(service)
        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)
        minted = await service.mint_token(session, label="短期", days=1)

        clock.advance(86401)

        assert await service.token_actor(minted.token) is None

    async def test_stop_acting_while_the_account_is_disabled(self, service: AccountService):
        await clerk(service)
        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)
        minted = await service.mint_token(session, label="脚本", days=7)

        await service.change(ADMIN, session.account.id, disabled=True)

        assert await service.token_actor(minted.token) is None


class TestManaging:
    async def test_records_every_change_with_who_did_it(self, service: AccountService):
        account, _ = await service.create(
            ADMIN, user="approver-wu", unit="130306", role=Role.APPROVER
        )
        await service.change(ADMIN, account.id, role=Role.INSPECTOR)
        await service.change(ADMIN, account.id, disabled=True)
        await service.change(ADMIN, account.id, disabled=False)
        await service.reset_password(ADMIN, account.id, reason="忘记密码")

        events = await service.events(ADMIN, account.id)

        assert [(e.kind, e.by_user, e.by_unit) for e in events] == [
            (kind, "admin-sun", "13")
            for kind in (
                AccountEvent.CREATED,
                AccountEvent.ROLE_CHANGED,
                AccountEvent.DISABLED,
                AccountEvent.ENABLED,
                AccountEvent.PASSWORD_RESET,
            )
        ]
        assert events[1].detail == {"from": "approver", "to": "inspector"}

    async def test_hides_an_account_outside_the_admins_subtree(self, service: AccountService):
        account, _ = await service.create(
            ADMIN, user="clerk-far", unit="130102001", role=Role.CLERK
        )
        district_admin = Actor("admin-qian", "130306", Role.ADMIN)

        with pytest.raises(NotFound):
            await service.change(district_admin, account.id, disabled=True)

    async def test_refuses_a_sync_account_to_an_admin_but_not_to_the_operator(
        self, service: AccountService
    ):
        with pytest.raises(NotPermitted) as refused:
            await service.create(ADMIN, user="sync-a", unit="13", role=Role.SYNC)
        made, _ = await service.create(None, user="sync-b", unit="13", role=Role.SYNC)

        assert refused.value.rule == "role_above_own"
        assert made.role is Role.SYNC

    async def test_a_reset_ends_sessions_and_revokes_tokens(self, service: AccountService):
        await clerk(service)
        session = await service.sign_in(user="clerk-li", password=PASSWORD, address=ADDRESS)
        minted = await service.mint_token(session, label="脚本", days=7)

        _, temporary = await service.reset_password(ADMIN, session.account.id)

        assert await service.session(session.cookie) is None
        assert await service.token_actor(minted.token) is None
        fresh = await service.sign_in(user="clerk-li", password=temporary, address=ADDRESS)
        assert fresh.account.must_change is True
