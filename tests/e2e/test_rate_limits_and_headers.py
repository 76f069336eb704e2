"""Rate limits (failed authentications per address, tokens minted per admin, unmasked reads and
printed forms per user) and the security headers every response carries, over loopback HTTP.

The limits are the defaults a deployment gets (adapters/settings.py): 30 failed authentications,
10 tokens and 20 unmasked reads a minute. Client addresses are told apart by `X-Forwarded-For`,
which uvicorn honours from a proxy on loopback — as it does behind a reverse proxy.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import jwt
import pytest
import structlog
import uvicorn

from adapters.http.app import asgi
from adapters.http.auth import Tokens
from adapters.http.headers import API_POLICY
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.limits import Limiter, Limits, RateLimited
from adapters.runtime.settings import Settings
from adapters.services import demo
from domain.values import Role
from tests.conftest import SECRET, Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    BODIES,
    CITY,
    DISTRICT,
    JSON,
    PROBLEM,
    PROVINCE,
    application,
    assert_problem,
    doer,
    file_in,
)
from tests.parameters import set_province_parameters

PURPOSE = {"X-Bangfu-Purpose": "checking who received assistance"}


def address(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


def bad_token(n: int) -> dict[str, str]:
    forged = jwt.encode(
        {"sub": f"guess-{n}", "unit": BASE, "role": "clerk", "iat": 0, "exp": 2**31, "iss": "x"},
        f"not-the-secret-{n}-" + "z" * 32,
        algorithm="HS256",
    )
    return {"Authorization": f"Bearer {forged}"}


def assert_too_many(response: httpx.Response) -> dict[str, Any]:
    problem = assert_problem(response, 429)
    assert problem["code"] == "too_many_requests"
    assert int(response.headers["retry-after"]) >= 1
    assert problem["retry_after"] == int(response.headers["retry-after"])
    return problem


# ------------------------------------------------------------------------------ the limiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The limits of servers started after this fixture count time by a clock the test moves,
    so that a slow machine (30 requests may take seconds) cannot refill an allowance mid-test.
    Ask for it before `api`."""
    fake = FakeClock()
    build = Limits.from_settings.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        Limits,
        "from_settings",
        classmethod(lambda cls, settings, **_: build(cls, settings, clock=fake)),
    )
    return fake


def limiter(count: int, period: float, clock: FakeClock, **kwargs: Any) -> Limiter:
    return Limiter(count=count, period=period, what="tries", what_zh="尝试", clock=clock, **kwargs)


class TestALimiter:
    def test_allows_a_burst_of_its_count_then_refuses_with_the_wait(self):
        clock = FakeClock()
        tries = limiter(7, 60, clock)

        allowed = [tries.take("a") for _ in range(7)]
        refused = tries.take("a")

        assert allowed == [0.0] * 7
        assert refused == pytest.approx(60 / 7)

    def test_allows_one_more_each_period_over_count(self):
        clock = FakeClock()
        tries = limiter(3, 60, clock)
        for _ in range(3):
            tries.take("a")

        clock.now += 19.9
        early = tries.take("a")
        clock.now += 0.1
        on_time = tries.take("a")

        assert (early, on_time) == (pytest.approx(0.1), 0.0)
        assert tries.take("a") == pytest.approx(20.0)

    def test_keeps_each_key_apart(self):
        clock = FakeClock()
        tries = limiter(1, 60, clock)

        assert (tries.take("a"), tries.take("b")) == (0.0, 0.0)
        assert tries.take("a") > 0

    def test_counts_nothing_when_it_refuses_or_is_only_asked(self):
        clock = FakeClock()
        tries = limiter(2, 60, clock)
        tries.take("a")
        for _ in range(5):
            tries.wait("a")

        assert tries.take("a") == 0.0
        for _ in range(5):
            assert tries.take("a") == pytest.approx(30.0)
        clock.now += 30
        assert tries.take("a") == 0.0

    def test_raises_a_problem_in_both_languages_rounding_the_wait_up(self):
        clock = FakeClock()
        tries = limiter(1, 60, clock)
        tries.check("a")
        clock.now += 58.5

        with pytest.raises(RateLimited) as refused:
            tries.check("a")

        assert refused.value.retry_after == 2
        assert "try again in 2 s" in refused.value.message
        assert "请2秒后再试" in refused.value.zh

    def test_forgets_drained_keys_first_then_the_least_recent(self):
        clock = FakeClock()
        tries = limiter(1, 60, clock, max_keys=3)
        tries.take("old")
        clock.now += 61  # "old" has drained
        for key in ("b", "c", "d"):
            tries.take(key)

        assert len(tries) == 3
        assert tries.wait("old") == 0.0
        tries.take("e")  # b is the least recent
        assert len(tries) == 3
        assert tries.wait("b") == 0.0
        assert tries.wait("e") > 0

    @pytest.mark.parametrize(("count", "period"), [(0, 60), (1, 0), (-1, 60)])
    def test_refuses_a_limit_that_would_allow_nothing_or_everything(
        self, count: int, period: float
    ):
        with pytest.raises(ValueError, match="rate limit"):
            limiter(count, period, FakeClock())


class TestTheLimitSettings:
    def test_have_safe_defaults(self):
        limits = Limits.from_settings(Settings.from_env({}))

        assert (limits.failed_auth.count, limits.minting.count, limits.unmasking.count) == (
            30,
            10,
            20,
        )
        assert {limits.failed_auth.period, limits.minting.period, limits.unmasking.period} == {60}

    def test_are_read_from_the_environment(self):
        settings = Settings.from_env(
            {
                "BANGFU_AUTH_FAILURES_PER_MINUTE": "5",
                "BANGFU_MINTS_PER_MINUTE": "2",
                "BANGFU_UNMASKS_PER_MINUTE": "3",
                "BANGFU_HSTS_MAX_AGE": "31536000",
            }
        )

        assert (
            settings.auth_failures_per_minute,
            settings.mints_per_minute,
            settings.unmasks_per_minute,
            settings.hsts_max_age,
        ) == (5, 2, 3, 31536000)

    @pytest.mark.parametrize("raw", ["0", "-3", "lots", "1.5"])
    def test_refuse_a_limit_that_is_not_a_positive_whole_number(self, raw: str):
        with pytest.raises(ValueError, match="BANGFU_UNMASKS_PER_MINUTE"):
            Settings.from_env({"BANGFU_UNMASKS_PER_MINUTE": raw})


# ------------------------------------------------------------------------------ failed auth


class TestFailedAuthentications:
    async def test_get_401_until_the_limit_then_429_with_retry_after(
        self, clock: FakeClock, api: Api
    ):
        attacker = address("198.51.100.7")

        answers = [
            await api.client.get(f"{API}/units", headers={**bad_token(n), **attacker})
            for n in range(31)
        ]

        assert [a.status_code for a in answers[:30]] == [401] * 30
        problem = assert_too_many(answers[30])
        assert problem["title"] == "请求过多"
        assert answers[30].headers["retry-after"] == "2"  # one more every 60/30 s

    async def test_get_one_more_try_each_period_over_count(self, clock: FakeClock, api: Api):
        attacker = address("198.51.100.12")
        for n in range(30):
            await api.client.get(f"{API}/units", headers={**bad_token(n), **attacker})

        clock.now += 1.9
        still = await api.client.get(f"{API}/units", headers={**bad_token(30), **attacker})
        clock.now += 0.1
        again = await api.client.get(f"{API}/units", headers={**bad_token(31), **attacker})
        then = await api.client.get(f"{API}/units", headers={**bad_token(32), **attacker})

        assert (still.status_code, again.status_code, then.status_code) == (429, 401, 429)
        assert still.headers["retry-after"] == "1"

    async def test_are_refused_in_english_when_english_is_asked_for(
        self, clock: FakeClock, api: Api
    ):
        attacker = address("198.51.100.8")
        for n in range(30):
            await api.client.get(f"{API}/units", headers={**bad_token(n), **attacker})

        refused = await api.client.get(
            f"{API}/units", headers={**bad_token(99), **attacker, "Accept-Language": "en"}
        )

        problem = assert_too_many(refused)
        assert problem["title"] == "Too many requests"
        assert "failed authentications" in problem["detail"]

    async def test_block_even_a_valid_new_token_from_that_address(self, clock: FakeClock, api: Api):
        attacker = address("198.51.100.9")
        for n in range(30):
            await api.client.get(f"{API}/units", headers={**bad_token(n), **attacker})

        guessed_right = await api.client.get(
            f"{API}/units", headers={**api.auth(BASE, "clerk"), **attacker}
        )

        assert_too_many(guessed_right)

    async def test_do_not_block_another_address_or_a_token_already_in_use(
        self, clock: FakeClock, api: Api
    ):
        in_use = api.auth(BASE, "clerk", "clerk-in-use")
        shared = address("198.51.100.10")
        first = await api.client.get(f"{API}/units", headers={**in_use, **shared})
        for n in range(31):
            await api.client.get(f"{API}/units", headers={**bad_token(n), **shared})

        again = await api.client.get(f"{API}/units", headers={**in_use, **shared})
        elsewhere = await api.client.get(
            f"{API}/units", headers={**api.auth(BASE, "clerk"), **address("203.0.113.5")}
        )

        assert (first.status_code, again.status_code, elsewhere.status_code) == (200, 200, 200)

    async def test_do_not_count_requests_without_a_token(self, clock: FakeClock, api: Api):
        nobody = address("198.51.100.11")

        answers = [await api.client.get(f"{API}/units", headers=nobody) for _ in range(40)]
        valid = await api.client.get(f"{API}/units", headers={**api.auth(BASE, "clerk"), **nobody})

        assert {a.status_code for a in answers} == {401}
        assert valid.status_code == 200


# ------------------------------------------------------------------------------ unmasking


async def unmasked_reads(api: Api, file_id: str) -> int:
    trail = await api.client.get(
        f"{API}/files/{file_id}/events", headers=api.auth(DISTRICT, "approver", "auditor")
    )
    return sum(e["type"] == "access.unmasked" for e in trail.json()["events"])


class TestUnmasking:
    async def test_is_limited_per_user_and_a_refused_read_records_nothing(
        self, clock: FakeClock, api: Api
    ):
        file_id = await file_in(api, "verified")
        wang = api.auth(DISTRICT, "approver", "approver-wang", **PURPOSE)

        answers = [
            await api.client.get(f"{API}/files/{file_id}?unmask=true", headers=wang)
            for _ in range(21)
        ]

        assert [a.status_code for a in answers[:20]] == [200] * 20
        assert answers[20].json().get("masked") is None
        assert_too_many(answers[20])
        assert answers[20].headers["retry-after"] == "3"  # one more every 60/20 s
        assert await unmasked_reads(api, file_id) == 20

    async def test_counts_the_file_and_its_trail_alike_and_leaves_masked_reads_alone(
        self, clock: FakeClock, api: Api
    ):
        file_id = await file_in(api, "verified")
        wang = api.auth(DISTRICT, "approver", "approver-wang", **PURPOSE)
        for n in range(20):
            view = "" if n % 2 else "/events"
            ok = await api.client.get(f"{API}/files/{file_id}{view}?unmask=true", headers=wang)
            assert ok.status_code == 200

        trail = await api.client.get(f"{API}/files/{file_id}/events?unmask=true", headers=wang)
        masked = await api.client.get(f"{API}/files/{file_id}", headers=wang)

        assert_too_many(trail)
        assert masked.status_code == 200

    async def test_does_not_limit_another_user(self, clock: FakeClock, api: Api):
        file_id = await file_in(api, "verified")
        wang = api.auth(DISTRICT, "approver", "approver-wang", **PURPOSE)
        for _ in range(21):
            await api.client.get(f"{API}/files/{file_id}?unmask=true", headers=wang)

        inspector = api.auth(CITY, "inspector", "inspector-zhao", **PURPOSE)
        other = await api.client.get(f"{API}/files/{file_id}?unmask=true", headers=inspector)

        assert other.status_code == 200
        assert other.json()["masked"] is False


# ------------------------------------------------------------------------------ minting tokens


def admin(
    api: Api, unit: str = DISTRICT, user: str = "admin-liu", **headers: str
) -> dict[str, str]:
    return api.auth(unit, "admin", user, **JSON, **headers)


async def mint(api: Api, headers: dict[str, str], **body: Any) -> httpx.Response:
    request = {"user": "clerk-zhou", "unit": BASE, "role": "clerk", **body}
    return await api.client.post(f"{API}/tokens", json=request, headers=headers)


class TestMintingATokenOverHttp:
    async def test_gives_a_token_the_api_accepts_for_that_user_unit_and_role(self, api: Api):
        minted = await mint(api, admin(api), ttl_seconds=3600)

        assert minted.status_code == 201, minted.text
        body = minted.json()
        assert (body["user"], body["unit"], body["role"], body["token_type"]) == (
            "clerk-zhou",
            BASE,
            "clerk",
            "Bearer",
        )
        expires = datetime.fromisoformat(body["expires_at"])
        assert abs(expires - (datetime.now(UTC) + timedelta(hours=1))) < timedelta(seconds=30)
        claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"], issuer="bangfu")
        assert (claims["sub"], claims["jti"]) == ("clerk-zhou", body["token_id"])
        opened = await api.client.post(
            f"{API}/files",
            json=application(),
            headers={"Authorization": f"Bearer {body['token']}", **JSON},
        )
        assert opened.status_code == 201, opened.text

    async def test_never_outlives_the_admins_own_token(self, api: Api):
        short = api.tokens.mint(
            user="admin-liu", unit=DISTRICT, role=Role.ADMIN, ttl=timedelta(minutes=10)
        )
        headers = {"Authorization": f"Bearer {short}", **JSON}

        minted = await mint(api, headers, ttl_seconds=30 * 24 * 3600)

        own_expiry = datetime.fromtimestamp(
            jwt.decode(short, SECRET, algorithms=["HS256"], issuer="bangfu")["exp"], UTC
        )
        expires = datetime.fromisoformat(minted.json()["expires_at"])
        assert minted.status_code == 201
        assert expires <= own_expiry
        claims = jwt.decode(minted.json()["token"], SECRET, algorithms=["HS256"], issuer="bangfu")
        assert claims["exp"] <= own_expiry.timestamp()

    @pytest.mark.parametrize("role", ["clerk", "approver", "inspector", "sync"])
    async def test_is_refused_to_every_role_but_admin(self, api: Api, role: str):
        refused = await mint(api, api.auth(DISTRICT, role, **JSON))

        assert assert_problem(refused, 403)["rule"] == "role"

    async def test_is_404_for_a_unit_outside_the_admins_subtree(self, api: Api):
        refused = await mint(api, admin(api), unit="130302001")

        assert_problem(refused, 404)

    async def test_is_422_for_a_unit_that_is_not_registered(self, api: Api):
        refused = await mint(api, admin(api), unit="130306987")

        assert assert_problem(refused, 422)["rule"] == "unit_exists"

    @pytest.mark.parametrize(
        "change",
        [
            {"ttl_seconds": 59},
            {"ttl_seconds": 30 * 24 * 3600 + 1},
            {"ttl_seconds": "3600"},
            {"role": "superuser"},
            {"user": ""},
            {"user": "x" * 65},
            {"user": "li\x00"},
            {"unit": "13x306"},
            {"scope": "all"},
        ],
    )
    async def test_refuses_a_bad_request_with_a_4xx_problem(self, api: Api, change: dict[str, Any]):
        refused = await mint(api, admin(api), **change)

        assert refused.status_code in {400, 422}, refused.text
        assert refused.headers["content-type"].startswith(PROBLEM)

    async def test_is_limited_per_admin_and_a_refusal_mints_nothing(
        self, clock: FakeClock, api: Api
    ):
        liu = admin(api)
        with structlog.testing.capture_logs() as logs:
            answers = [await mint(api, liu, user=f"clerk-{n}") for n in range(11)]
            other_admin = await mint(api, admin(api, PROVINCE, "admin-chen"))
            await asyncio.sleep(0.05)

        assert [a.status_code for a in answers[:10]] == [201] * 10
        assert_too_many(answers[10])
        assert answers[10].headers["retry-after"] == "6"  # one more every 60/10 s
        assert other_admin.status_code == 201
        minted = [e for e in logs if e["event"] == "token.minted"]
        assert [e["user"] for e in minted] == [*(f"clerk-{n}" for n in range(10)), "clerk-zhou"]

    async def test_is_logged_with_who_for_whom_and_the_token_id_never_the_token(self, api: Api):
        with structlog.testing.capture_logs() as logs:
            minted = await mint(api, admin(api), role="inspector", unit=DISTRICT)
            await asyncio.sleep(0.05)

        body = minted.json()
        (entry,) = [e for e in logs if e["event"] == "token.minted"]
        assert {k: entry[k] for k in ("by_user", "by_unit", "user", "unit", "role")} == {
            "by_user": "admin-liu",
            "by_unit": DISTRICT,
            "user": "clerk-zhou",
            "unit": DISTRICT,
            "role": "inspector",
        }
        assert entry["token_id"] == body["token_id"]
        assert body["token"] not in repr(logs)


# ------------------------------------------------------------------------------ headers

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_secured(response: httpx.Response, *, cached: bool = False) -> None:
    headers = response.headers
    assert {k: headers.get(k) for k in COMMON} == COMMON, (response.url, dict(headers))
    assert "content-security-policy" in headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    if not cached:
        assert headers.get("cache-control") == "no-store", (response.url, dict(headers))
    assert len(headers.get_list("cache-control")) <= 1
    assert "strict-transport-security" not in headers


class TestEveryResponse:
    async def test_of_the_api_carries_the_security_headers_whatever_its_status(
        self, api: Api, database_url: str
    ):
        file_id = await file_in(api, "approved")
        clerk, client = doer(api, "visits"), api.client
        answers = {
            "200 json": await client.get(f"{API}/units", headers=clerk),
            "201": await client.post(f"{API}/files", json=application(), headers=clerk),
            "200 xlsx": await client.get(f"{API}/ledger.xlsx", headers=clerk),
            "400": await client.post(f"{API}/files", content=b"{", headers=clerk),
            "401": await client.get(f"{API}/units"),
            "403": await client.post(
                f"{API}/units", json={"code": "130306099", "name": "新"}, headers=clerk
            ),
            "404 file": await client.get(
                f"{API}/files/00000000-0000-4000-8000-000000000000", headers=clerk
            ),
            "404 path": await client.get("/no/such/path"),
            "405": await client.delete(f"{API}/units", headers=clerk),
            "409": await client.post(
                f"{API}/files/{file_id}/verification", json=BODIES["verification"], headers=clerk
            ),
            "413": await client.post(
                f"{API}/files", content=b"x" * (2 * 1024 * 1024), headers=clerk
            ),
            "415": await client.post(
                f"{API}/files", content=b"{}", headers={**clerk, "content-type": "text/plain"}
            ),
            "422": await client.post(
                f"{API}/files", json=application(applied_on="2999-01-01"), headers=clerk
            ),
            "health live": await client.get("/health/live"),
            "health ready": await client.get("/health/ready"),
            "metrics": await client.get("/metrics"),
        }
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("ALTER TABLE idempotency_keys RENAME TO idempotency_keys_gone")
        finally:
            await conn.close()
        answers["500"] = await client.post(
            f"{API}/files/{file_id}/visits",
            json=BODIES["visits"],
            headers={**clerk, "Idempotency-Key": "k1"},
        )

        statuses = {name: r.status_code for name, r in answers.items()}
        assert statuses == {
            name: int(name[:3]) if name[:3].isdigit() else 200 for name in answers
        }, statuses
        for response in answers.values():
            assert_secured(response)
            assert response.headers["content-security-policy"] == API_POLICY

    async def test_of_a_limit_carries_them_too(self, clock: FakeClock, api: Api):
        attacker = address("198.51.100.20")
        for n in range(30):
            await api.client.get(f"{API}/units", headers={**bad_token(n), **attacker})

        refused = await api.client.get(f"{API}/units", headers={**bad_token(31), **attacker})

        assert refused.status_code == 429
        assert_secured(refused)


class _Resources(HTMLParser):
    """The scripts, stylesheets and images a page loads, and whether it has inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: dict[str, set[str]] = {"script-src": set(), "style-src": set()}
        self.inline_script = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            if found.get("src"):
                self.loads["script-src"].add(str(found["src"]))
            else:
                self._in_script = True
        if tag == "link" and found.get("rel") == "stylesheet" and found.get("href"):
            self.loads["style-src"].add(str(found["href"]))

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def policy(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def allows(sources: list[str], url: str) -> bool:
    if not urlsplit(url).scheme:
        return "'self'" in sources
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    return origin in sources or f"{urlsplit(url).scheme}:" in sources


class TestTheDocsPages:
    async def test_may_load_what_they_need_and_nothing_may_frame_them(self, api: Api):
        response = await api.client.get("/schema")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert_secured(response, cached=True)
        rules = policy(response.headers["content-security-policy"])
        found = _Resources()
        found.feed(response.text)
        assert any(found.loads.values()), "the page loads its UI from somewhere"
        for directive, urls in found.loads.items():
            for url in urls:
                assert allows(rules[directive], url), (directive, url, rules[directive])
        if found.inline_script:
            assert "'unsafe-inline'" in rules["script-src"]
        assert rules["default-src"] == ["'none'"]
        assert rules["frame-ancestors"] == ["'none'"]

    @pytest.mark.parametrize("page", ["/schema/swagger", "/schema/elements", "/schema/rapidoc"])
    async def test_that_would_load_their_scripts_from_a_cdn_are_not_served(
        self, api: Api, page: str
    ):
        response = await api.client.get(page)

        assert response.status_code == 404

    async def test_the_openapi_document_is_served_with_the_headers(self, api: Api):
        response = await api.client.get("/schema/openapi.json")

        assert response.status_code == 200
        assert_secured(response, cached=True)


@asynccontextmanager
async def served(database_url: str, tmp_path: Path, **settings: Any) -> AsyncIterator[str]:
    """The real app with the given settings, served on a free loopback port."""
    config = Settings(
        database_url=database_url, data_dir=tmp_path, log_json=True, secret=SECRET, **settings
    )
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert pool is not None
    await PgUnitDirectory(pool).load(demo.units())
    await set_province_parameters(pool)  # commands are judged by the parameters in force
    await pool.close()
    server = uvicorn.Server(
        uvicorn.Config(asgi(config), host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving


class TestStrictTransportSecurity:
    async def test_is_sent_on_every_response_when_configured_behind_tls(
        self, database_url: str, tmp_path: Path
    ):
        async with (
            served(database_url, tmp_path, hsts_max_age=31536000) as url,
            httpx.AsyncClient(base_url=url) as client,
        ):
            answers = [
                await client.get("/health/live"),
                await client.get(f"{API}/units"),
                await client.get("/schema"),
                await client.get("/nowhere"),
            ]

        assert [r.headers.get("strict-transport-security") for r in answers] == [
            "max-age=31536000; includeSubDomains"
        ] * 4

    async def test_is_not_sent_unless_configured(self, api: Api):
        live = await api.client.get("/health/live")

        assert "strict-transport-security" not in live.headers


class TestConfiguredLimits:
    async def test_apply_as_set(self, clock: FakeClock, database_url: str, tmp_path: Path):
        async with (
            served(database_url, tmp_path, auth_failures_per_minute=2) as url,
            httpx.AsyncClient(base_url=url) as client,
        ):
            answers = [await client.get(f"{API}/units", headers=bad_token(n)) for n in range(3)]

        assert [a.status_code for a in answers] == [401, 401, 429]
        assert answers[2].headers["retry-after"] == "30"


class TestPrintingLimit:
    async def test_refuses_prints_past_its_own_limit_and_leaves_the_unmasking_allowance_alone(
        self, clock: FakeClock, database_url: str, tmp_path: Path
    ):
        limit = Settings.from_env({"BANGFU_PRINTS_PER_MINUTE": "2"}).prints_per_minute
        async with (
            served(database_url, tmp_path, prints_per_minute=limit, unmasks_per_minute=1) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as client,
        ):
            api = Api(client, Tokens(SECRET))
            file_id = await file_in(api, "approved")
            wang = api.auth(DISTRICT, "approver", "approver-wang", **PURPOSE)
            prints = [
                await client.get(f"{API}/files/{file_id}/forms/file", headers=wang)
                for _ in range(limit + 1)
            ]
            unmasked = [
                await client.get(f"{API}/files/{file_id}?unmask=true", headers=wang)
                for _ in range(2)
            ]
            trail = await client.get(
                f"{API}/files/{file_id}/events", headers=api.auth(BASE, "clerk")
            )

        assert limit == 2
        assert [p.status_code for p in prints] == [200, 200, 429]
        assert_too_many(prints[2])
        assert prints[2].headers["retry-after"] == "30"  # one more every 60/2 s
        assert [e["type"] for e in trail.json()["events"]].count("access.file_printed") == 2
        assert unmasked[0].status_code == 200, unmasked[0].text
        assert_too_many(unmasked[1])
