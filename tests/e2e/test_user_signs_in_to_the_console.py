"""A user signs in to the console, sees the home page, mints a personal API token, signs out;
an admin manages the accounts of its subtree over the API. The real app over loopback HTTP.

Expiry by time is tested with a moved clock on the service (tests/integration/test_accounts.py);
here the journeys that need the whole HTTP edge: cookies and their flags, CSRF, redirects,
security headers, lockout answered with 429, bearer personal tokens on the API.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from adapters.http.auth import Tokens
from adapters.runtime.settings import Settings
from domain.values import Role
from tests.conftest import SECRET
from tests.serving import served

pytestmark = pytest.mark.slow

API = "/api/v1"
JSON = {"Content-Type": "application/json"}
NEW_PASSWORD = "晴天-Harbour-47"


@dataclass
class Door:
    url: str
    pool: asyncpg.Pool
    tokens: Tokens
    settings: Settings

    def auth(self, unit: str, role: str, user: str | None = None) -> dict[str, str]:
        token = self.tokens.mint(
            user=user or f"{role}-{unit}", unit=unit, role=Role(role), ttl=timedelta(hours=1)
        )
        return {"Authorization": f"Bearer {token}", **JSON}

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30, follow_redirects=False)

    async def rows(self, table: str) -> int:
        return int(await self.pool.fetchval(f"SELECT count(*) FROM {table}"))

    async def account(self, user: str, unit: str, role: str) -> tuple[str, str]:
        """A new account made by the admin of 13 over the API, with its password changed by
        its holder (so it reaches the home page): its id and password."""
        async with self.client() as client:
            made = await client.post(
                f"{API}/users",
                json={"user": user, "unit": unit, "role": role},
                headers=self.auth("13", "admin", "admin-sun"),
            )
            assert made.status_code == 201, made.text
            await sign_in(client, user, made.json()["password"])
            page = await client.get("/console/password")
            changed = await client.post(
                "/console/password",
                data={
                    "csrf": csrf_of(page.text),
                    "current": made.json()["password"],
                    "new": NEW_PASSWORD,
                },
            )
            assert changed.status_code == 303, changed.text
        return made.json()["account"]["id"], NEW_PASSWORD


@pytest.fixture
async def door(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Door]:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        log_json=True,
        secret=SECRET,
        sign_in_failures_per_account=3,
        sign_in_lockout_seconds=600,
    )
    async with served(settings) as url:
        yield Door(url, pool, Tokens(SECRET), settings)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found[1]


async def sign_in(client: httpx.AsyncClient, user: str, password: str) -> httpx.Response:
    page = await client.get("/console/sign-in")
    return await client.post(
        "/console/sign-in", data={"csrf": csrf_of(page.text), "user": user, "password": password}
    )


def set_cookie(response: httpx.Response, name: str) -> str:
    return next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}="))


class TestTheDoor:
    async def test_root_leads_to_the_sign_in_page_in_chinese(self, door: Door):
        async with door.client() as client:
            root = await client.get("/")
            console = await client.get(root.headers["location"])
            page = await client.get(console.headers["location"])

        assert (root.status_code, root.headers["location"]) == (303, "/console/")
        assert (console.status_code, console.headers["location"]) == (303, "/console/sign-in")
        assert page.status_code == 200
        assert '<html lang="zh-CN">' in page.text
        assert "登录" in page.text

    async def test_switches_to_english_and_keeps_it(self, door: Door):
        async with door.client() as client:
            switched = await client.get("/console/sign-in?lang=en")
            again = await client.get("/console/sign-in")

        assert "Sign in" in switched.text
        assert '<html lang="en">' in again.text

    async def test_has_its_own_security_headers(self, door: Door):
        async with door.client() as client:
            page = await client.get("/console/sign-in")
            api = await client.get("/health/live")

        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "form-action 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "<script" not in page.text
        assert page.headers["cache-control"] == "no-store"
        assert api.headers["content-security-policy"].startswith("default-src 'none'")


class TestSigningIn:
    async def test_leads_to_the_home_page_with_user_unit_and_role(self, door: Door):
        _, password = await door.account("clerk-li", "130306001", "clerk")

        async with door.client() as client:
            signed_in = await sign_in(client, "clerk-li", password)
            home = await client.get(signed_in.headers["location"])

        assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/console/")
        assert home.status_code == 200
        assert "clerk-li" in home.text
        assert "130306001" in home.text
        assert "经办人" in home.text

    async def test_sets_a_session_cookie_httponly_samesite_and_not_secure_over_plain_http(
        self, door: Door
    ):
        _, password = await door.account("clerk-li", "130306001", "clerk")

        async with door.client() as client:
            signed_in = await sign_in(client, "clerk-li", password)

        cookie = set_cookie(signed_in, "bangfu_session").lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "path=/console" in cookie
        assert "secure" not in cookie

    async def test_with_a_wrong_password_is_refused_and_starts_no_session(self, door: Door):
        _, _ = await door.account("clerk-li", "130306001", "clerk")
        sessions = await door.rows("account_sessions")

        async with door.client() as client:
            refused = await sign_in(client, "clerk-li", "wrong-password-1")
            home = await client.get("/console/")

        assert refused.status_code == 401
        assert "用户名或密码错误" in refused.text
        assert "bangfu_session=" not in refused.headers.get("set-cookie", "")
        assert home.headers["location"] == "/console/sign-in"
        assert await door.rows("account_sessions") == sessions

    async def test_locks_the_account_after_repeated_failures(self, door: Door):
        _, password = await door.account("clerk-li", "130306001", "clerk")

        async with door.client() as client:
            for _ in range(3):
                assert (await sign_in(client, "clerk-li", "wrong-password-1")).status_code == 401
            locked = await sign_in(client, "clerk-li", password)

        assert locked.status_code == 429
        assert 190 <= int(locked.headers["retry-after"]) <= 200  # one failure's share of 600 s

    async def test_without_the_csrf_token_is_refused_and_writes_nothing(self, door: Door):
        _, password = await door.account("clerk-li", "130306001", "clerk")
        before = (await door.rows("account_sessions"), await door.rows("account_events"))

        async with door.client() as client:
            await client.get("/console/sign-in")
            forged = await client.post(
                "/console/sign-in",
                data={"csrf": "forged", "user": "clerk-li", "password": password},
            )

        assert forged.status_code == 403
        assert (await door.rows("account_sessions"), await door.rows("account_events")) == before


class TestASession:
    async def test_ends_at_sign_out_and_its_cookie_no_longer_opens_the_console(self, door: Door):
        _, password = await door.account("clerk-li", "130306001", "clerk")
        async with door.client() as client:
            await sign_in(client, "clerk-li", password)
            home = await client.get("/console/")
            cookie = client.cookies["bangfu_session"]

            signed_out = await client.post("/console/sign-out", data={"csrf": csrf_of(home.text)})

        async with door.client() as replay:
            replay.cookies.set("bangfu_session", cookie, path="/console")
            after = await replay.get("/console/")
        assert signed_out.status_code == 303
        assert "max-age=0" in set_cookie(signed_out, "bangfu_session").lower()
        assert (after.status_code, after.headers["location"]) == (303, "/console/sign-in")

    async def test_ends_when_an_admin_disables_the_account(self, door: Door):
        account_id, password = await door.account("clerk-li", "130306001", "clerk")
        async with door.client() as client:
            await sign_in(client, "clerk-li", password)
            assert (await client.get("/console/")).status_code == 200

            disabled = await client.patch(
                f"{API}/users/{account_id}",
                json={"disabled": True},
                headers=door.auth("130306", "admin", "admin-qian"),
            )
            after = await client.get("/console/")

        assert disabled.json()["disabled"] is True
        assert (after.status_code, after.headers["location"]) == (303, "/console/sign-in")

    async def test_refuses_a_sign_out_without_its_csrf_token_and_lives_on(self, door: Door):
        _, password = await door.account("clerk-li", "130306001", "clerk")
        async with door.client() as client:
            await sign_in(client, "clerk-li", password)

            forged = await client.post("/console/sign-out", data={"csrf": "forged"})
            after = await client.get("/console/")

        assert forged.status_code == 403
        assert after.status_code == 200


class TestFirstSignIn:
    async def test_an_account_an_admin_created_changes_its_password_before_anything(
        self, door: Door
    ):
        async with door.client() as client:
            made = await client.post(
                f"{API}/users",
                json={"user": "clerk-new", "unit": "130306001", "role": "clerk"},
                headers=door.auth("13", "admin", "admin-sun"),
            )
            signed_in = await sign_in(client, "clerk-new", made.json()["password"])
            home = await client.get("/console/")

        assert signed_in.headers["location"] == "/console/password"
        assert home.headers["location"] == "/console/password"


class TestPersonalTokens:
    async def test_are_minted_listed_used_on_the_api_and_revoked(self, door: Door):
        _, password = await door.account("approver-wang", "130306", "approver")
        async with door.client() as client:
            await sign_in(client, "approver-wang", password)
            home = await client.get("/console/")
            minted = await client.post(
                "/console/tokens",
                data={"csrf": csrf_of(home.text), "label": "夜间脚本", "days": "7"},
            )
            token = re.search(r'<code id="new-token">([^<]+)</code>', minted.text)
            assert token, minted.text
            bearer = {"Authorization": f"Bearer {token[1]}"}
            used = await client.get(f"{API}/units", headers=bearer)
            listed = await client.get("/console/")
            token_id = re.search(r'data-token-id="([^"]+)"', listed.text)
            assert token_id, listed.text
            revoked = await client.post(
                f"/console/tokens/{token_id[1]}/revoke", data={"csrf": csrf_of(listed.text)}
            )
            after = await client.get(f"{API}/units", headers=bearer)
            relisted = await client.get("/console/")

        assert minted.status_code == 201
        assert used.status_code == 200
        assert used.json()[0]["code"] == "130306"
        assert "夜间脚本" in listed.text
        assert revoked.status_code == 303
        assert after.status_code == 401
        assert "已撤销" in relisted.text

    async def test_let_an_admin_mint_a_bearer_token_that_never_outlives_the_personal_one(
        self, door: Door
    ):
        _, password = await door.account("admin-qian", "130306", "admin")
        async with door.client() as client:
            await sign_in(client, "admin-qian", password)
            home = await client.get("/console/")
            minted = await client.post(
                "/console/tokens",
                data={"csrf": csrf_of(home.text), "label": "签发脚本", "days": "1"},
            )
            personal = re.search(r'<code id="new-token">([^<]+)</code>', minted.text)
            assert personal, minted.text
            issued = await client.post(
                f"{API}/tokens",
                json={
                    "user": "clerk-zhou",
                    "unit": "130306001",
                    "role": "clerk",
                    "ttl_seconds": 30 * 86400,
                },
                headers={"Authorization": f"Bearer {personal[1]}", **JSON},
            )

        assert issued.status_code == 201, issued.text
        expires = datetime.fromisoformat(issued.json()["expires_at"])
        assert expires <= datetime.now(UTC) + timedelta(days=1)

    async def test_are_not_minted_without_the_csrf_token(self, door: Door):
        _, password = await door.account("clerk-li", "130306001", "clerk")
        async with door.client() as client:
            await sign_in(client, "clerk-li", password)

            forged = await client.post(
                "/console/tokens", data={"csrf": "forged", "label": "x", "days": "7"}
            )

        assert forged.status_code == 403
        assert await door.rows("account_tokens") == 0


class TestAnAdmin:
    async def test_cannot_see_or_manage_an_account_outside_its_subtree(self, door: Door):
        account_id, _ = await door.account("clerk-far", "130102001", "clerk")
        district_admin = door.auth("130306", "admin", "admin-qian")

        async with door.client() as client:
            answers = [
                await client.get(f"{API}/users/{account_id}", headers=district_admin),
                await client.patch(
                    f"{API}/users/{account_id}", json={"disabled": True}, headers=district_admin
                ),
                await client.post(
                    f"{API}/users/{account_id}/password-reset", json={}, headers=district_admin
                ),
                await client.get(f"{API}/users/{account_id}/events", headers=district_admin),
                await client.post(
                    f"{API}/users",
                    json={"user": "clerk-x", "unit": "130102001", "role": "clerk"},
                    headers=district_admin,
                ),
            ]
            listed = await client.get(f"{API}/users", headers=district_admin)

        assert [a.status_code for a in answers] == [404] * 5
        assert listed.json() == []

    async def test_cannot_raise_a_role_above_its_own(self, door: Door):
        account_id, _ = await door.account("clerk-li", "130306001", "clerk")
        admin = door.auth("130306", "admin", "admin-qian")

        async with door.client() as client:
            raised = await client.patch(
                f"{API}/users/{account_id}", json={"role": "sync"}, headers=admin
            )
            created = await client.post(
                f"{API}/users",
                json={"user": "sync-x", "unit": "130306", "role": "sync"},
                headers=admin,
            )
            read = await client.get(f"{API}/users/{account_id}", headers=admin)

        assert [raised.status_code, created.status_code] == [403, 403]
        assert raised.json()["rule"] == created.json()["rule"] == "role_above_own"
        assert read.json()["role"] == "clerk"

    async def test_reads_every_change_of_an_account_with_who_and_when(self, door: Door):
        account_id, _ = await door.account("clerk-li", "130306001", "clerk")
        admin = door.auth("130306", "admin", "admin-qian")
        async with door.client() as client:
            await client.patch(
                f"{API}/users/{account_id}", json={"role": "approver"}, headers=admin
            )
            await client.patch(f"{API}/users/{account_id}", json={"disabled": True}, headers=admin)

            events = await client.get(f"{API}/users/{account_id}/events", headers=admin)

        got: list[tuple[Any, ...]] = [(e["kind"], e["by_user"]) for e in events.json()]
        assert got == [
            ("created", "admin-sun"),
            ("signed_in", "clerk-li"),
            ("password_changed", "clerk-li"),
            ("role_changed", "admin-qian"),
            ("disabled", "admin-qian"),
        ]
        assert all(e["at"] for e in events.json())

    async def test_is_the_only_role_that_manages_accounts(self, door: Door):
        async with door.client() as client:
            refused = await client.get(f"{API}/users", headers=door.auth("13", "inspector"))

        assert (refused.status_code, refused.json()["rule"]) == (403, "role")


class TestCookiesUnderTls:
    async def test_are_secure(self, database_url: str, tmp_path: Path):
        settings = Settings(
            database_url=database_url,
            data_dir=tmp_path,
            log_json=True,
            secret=SECRET,
            cookie_secure="on",
        )
        async with served(settings) as url, httpx.AsyncClient(base_url=url) as client:
            page = await client.get("/console/sign-in")

        assert "secure" in set_cookie(page, "bangfu_csrf").lower()


class TestTheApiDocs:
    async def test_load_redoc_from_bangfu_and_nothing_from_another_host(self, door: Door):
        async with door.client() as client:
            page = await client.get("/schema")
            script = await client.get("/static/redoc.standalone.js")

        policy = page.headers["content-security-policy"]
        assert "/static/redoc.standalone.js" in page.text
        assert not re.search(r"https?://", policy)
        assert "fonts.googleapis" not in page.text
        assert not re.findall(r'(?:src|href)="https?://', page.text)
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        assert b"Redoc" in script.content[:20000]
