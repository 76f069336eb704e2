"""A stranger with a bad token is turned away with 401, and every refusal is an RFC 9457 problem
that names each bad field, speaks Chinese or English, and never shows the server's insides.
The `bangfu token` command mints a token the API accepts."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import jwt
import pytest

from tests.conftest import SECRET, Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    BODIES,
    DISTRICT,
    JSON,
    PROBLEM,
    application,
    assert_problem,
    doer,
    file_in,
    verification,
)

ROOT = Path(__file__).resolve().parents[2]


def claims(**changes: Any) -> dict[str, Any]:
    """The claims of a good clerk's token, changed as given (None removes a claim)."""
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "sub": "clerk-li",
        "unit": BASE,
        "role": "clerk",
        "iat": now,
        "exp": now + timedelta(hours=1),
        "iss": "bangfu",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, secret, algorithm=algorithm)


def b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, default=lambda d: int(d.timestamp())).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def tampered(token: str) -> str:
    """The token with the first character of its signature changed."""
    head, payload, signature = token.split(".")
    first = "B" if signature[0] != "B" else "C"
    return f"{head}.{payload}.{first}{signature[1:]}"


BAD_TOKENS = {
    "expired": lambda: sign(
        claims(
            iat=datetime.now(UTC) - timedelta(hours=2), exp=datetime.now(UTC) - timedelta(hours=1)
        )
    ),
    "tampered signature": lambda: tampered(sign(claims())),
    "alg none": lambda: f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}.",
    "no unit claim": lambda: sign(claims(unit=None)),
    "no expiry": lambda: sign(claims(exp=None)),
    "unknown role": lambda: sign(claims(role="superuser")),
    "invalid unit code": lambda: sign(claims(unit="13a")),
    "another secret": lambda: sign(claims(), secret="another-secret-" + "y" * 40),
    "another issuer": lambda: sign(claims(iss="someone-else")),
    "another algorithm": lambda: sign(claims(), algorithm="HS384"),
}


async def units_as(api: Api, token: str, **headers: str) -> Any:
    return await api.client.get(
        f"{API}/units", headers={"Authorization": f"Bearer {token}", **headers}
    )


# ------------------------------------------------------------------------------ tokens


class TestAWellFormedTokenSignedWithTheSecret:
    async def test_is_accepted(self, api: Api):
        accepted = await units_as(api, sign(claims()))

        assert accepted.status_code == 200
        assert [u["code"] for u in accepted.json()] == [BASE]


class TestEveryBadToken:
    async def test_is_refused_with_401_as_a_problem_with_a_bearer_challenge(self, api: Api):
        got = {}
        for kind, make in BAD_TOKENS.items():
            refused = await units_as(api, make())
            got[kind] = (
                refused.status_code,
                refused.headers.get("content-type"),
                refused.headers.get("www-authenticate"),
                refused.json().get("code"),
            )

        assert got == dict.fromkeys(
            BAD_TOKENS, (401, PROBLEM, 'Bearer realm="bangfu"', "unauthorized")
        )


class TestAnExpiredToken:
    async def test_is_said_to_have_expired(self, api: Api):
        refused = await units_as(api, BAD_TOKENS["expired"](), **{"Accept-Language": "en"})

        assert assert_problem(refused, 401)["detail"] == "the token has expired"


# ------------------------------------------------------------------------------ problems


class TestEveryRefusal:
    async def test_is_a_problem_document_with_type_title_status_detail_and_code(self, api: Api):
        approved = await file_in(api, "approved")
        clerk = doer(api, "apply")
        client = api.client
        refusals = {
            400: await client.post(f"{API}/files", json={"head": 1}, headers=clerk),
            401: await client.get(f"{API}/files/{approved}"),
            403: await client.post(
                f"{API}/files/{approved}/exit",
                json={**BODIES["exit"], "kind": "deleted", "reason": "duplicate"},
                headers=clerk,
            ),
            404: await client.get(
                f"{API}/files/{approved}", headers=api.auth("130306002", "clerk")
            ),
            405: await client.delete(f"{API}/files/{approved}", headers=clerk),
            409: await client.post(
                f"{API}/files/{approved}/verification", json=verification(), headers=clerk
            ),
            412: await client.post(
                f"{API}/files/{approved}/visits",
                json=BODIES["visits"],
                headers={**clerk, "If-Match": '"1"'},
            ),
            413: await client.post(
                f"{API}/files", content=b"[" + b" " * (1024 * 1024) + b"]", headers=clerk
            ),
            415: await client.post(
                f"{API}/files",
                content=json.dumps(application()),
                headers={**clerk, "content-type": "text/plain"},
            ),
            422: await client.post(
                f"{API}/files", json=application(applied_on="2099-01-01"), headers=clerk
            ),
        }

        for status, response in refusals.items():
            problem = assert_problem(response, status)
            assert problem["type"] == f"urn:bangfu:problem:{problem['code']}", problem
            assert problem["title"], problem
            assert problem["detail"], problem


class TestABodyWithSeveralBadFields:
    async def test_lists_each_bad_field_with_its_path_and_what_is_wrong(self, api: Api):
        body = application(applied_on="2026-02-30", authorisation_signed="yes", colour="red")
        del body["worker_kind"]
        body["head"]["phone"] = 13912345678

        refused = await api.client.post(f"{API}/files", json=body, headers=doer(api, "apply"))

        problem = assert_problem(refused, 400)
        assert {(e["field"], e["code"]) for e in problem["errors"]} == {
            ("applied_on", "invalid"),
            ("authorisation_signed", "invalid"),
            ("colour", "unknown"),
            ("worker_kind", "missing"),
            ("head.phone", "invalid"),
        }
        assert all(e["message"] for e in problem["errors"])

    async def test_names_a_bad_field_of_a_family_member_by_its_index(self, api: Api):
        file_id = await file_in(api, "applied")
        body = verification()
        body["members"].append(
            {"name": "张小", "relation": "cousin", "id_number": 42, "status": "student"}
        )

        refused = await api.client.post(
            f"{API}/files/{file_id}/verification", json=body, headers=doer(api, "verification")
        )

        problem = assert_problem(refused, 400)
        assert {(e["field"], e["code"]) for e in problem["errors"]} == {
            ("members[1].relation", "invalid"),
            ("members[1].id_number", "invalid"),
        }

    async def test_changes_nothing(self, api: Api):
        file_id = await file_in(api, "applied")

        await api.client.post(
            f"{API}/files/{file_id}/verification",
            json=verification(verified_on="yesterday", investigators="赵立新"),
            headers=doer(api, "verification"),
        )

        read = await api.client.get(f"{API}/files/{file_id}", headers=api.auth(BASE, "clerk"))
        assert (read.json()["version"], read.json()["status"]) == (1, "applied")


class TestTheLanguageOfAProblem:
    async def wrong_state(self, api: Api, **headers: str) -> dict[str, Any]:
        file_id = await file_in(api, "applied")
        refused = await api.client.post(
            f"{API}/files/{file_id}/approval",
            json=BODIES["approval"],
            headers=api.auth(DISTRICT, "approver", **JSON, **headers),
        )
        return assert_problem(refused, 409)

    async def test_is_english_when_english_is_asked_for(self, api: Api):
        problem = await self.wrong_state(api, **{"Accept-Language": "en-GB,en;q=0.8"})

        assert problem["title"] == "Conflict"
        assert problem["detail"].startswith("'approve' is not allowed on a file in status")

    async def test_is_chinese_when_chinese_is_asked_for(self, api: Api):
        problem = await self.wrong_state(api, **{"Accept-Language": "zh-CN,zh;q=0.9"})

        assert problem["title"] == "状态冲突"
        assert problem["detail"].startswith("档案当前状态为")

    async def test_is_chinese_when_no_language_is_asked_for(self, api: Api):
        problem = await self.wrong_state(api)

        assert (problem["title"], problem["detail"][:7]) == ("状态冲突", "档案当前状态为")

    async def test_follows_the_stated_preference_not_the_order(self, api: Api):
        problem = await self.wrong_state(api, **{"Accept-Language": "zh;q=0.1, en;q=0.9"})

        assert problem["title"] == "Conflict"


class TestABodyOverOneMebibyte:
    async def test_is_refused_with_413(self, api: Api):
        huge = application(statement="困" * (400 * 1024))  # 3 bytes each in UTF-8: 1.2 MB

        refused = await api.client.post(f"{API}/files", json=huge, headers=doer(api, "apply"))

        assert assert_problem(refused, 413)["code"] == "too_large"


class TestABodyThatIsNotJson:
    async def test_is_refused_with_415(self, api: Api):
        refused = await api.client.post(
            f"{API}/files",
            content=json.dumps(application()),
            headers={**doer(api, "apply"), "content-type": "text/plain"},
        )

        assert assert_problem(refused, 415)["code"] == "unsupported_media_type"


class TestAnUnknownRoute:
    async def test_is_a_404_problem(self, api: Api):
        missing = await api.client.get(f"{API}/households", headers=api.auth(BASE, "clerk"))

        assert assert_problem(missing, 404)["code"] == "not_found"

    async def test_with_a_file_id_that_is_not_a_uuid_is_a_404_problem(self, api: Api):
        missing = await api.client.get(f"{API}/files/12345", headers=api.auth(BASE, "clerk"))

        assert_problem(missing, 404)


class TestAnUnexpectedError:
    async def test_is_a_plain_500_problem_with_the_request_id_and_no_stack_trace(
        self, api: Api, database_url: str
    ):
        file_id = await file_in(api, "approved")
        conn = await asyncpg.connect(database_url)  # this test's own database
        try:
            await conn.execute("ALTER TABLE idempotency_keys RENAME TO idempotency_keys_gone")
        finally:
            await conn.close()

        failed = await api.client.post(
            f"{API}/files/{file_id}/visits",
            json=BODIES["visits"],
            headers={**doer(api, "visits"), "Idempotency-Key": "k1"},
        )

        problem = assert_problem(failed, 500)
        assert problem["code"] == "internal_error"
        assert problem["request_id"] == failed.headers["x-request-id"]
        for inside in ("Traceback", ".py", "asyncpg", "idempotency_keys", "line "):
            assert inside not in failed.text


class TestNoErrorBody:
    async def test_shows_a_stack_trace_or_source_path(self, api: Api):
        file_id = await file_in(api, "approved")
        clerk = doer(api, "apply")
        client = api.client
        answers = [
            await client.post(f"{API}/files", content=b"{not json", headers=clerk),
            await client.post(f"{API}/files", json=[1, 2], headers=clerk),
            await client.post(f"{API}/files", json={"head": {"id_number": 1}}, headers=clerk),
            await client.post(
                f"{API}/files",
                json=application(head={"name": "x", "id_number": "1"}),
                headers=clerk,
            ),
            await client.get(f"{API}/files/{file_id}?version=abc", headers=clerk),
            await client.get(f"{API}/files/{file_id}?version=2147483648", headers=clerk),
            await client.get(f"{API}/units/not-a-code", headers=clerk),
            await client.get(f"{API}/files/{file_id}", headers={"Authorization": "Bearer a.b.c"}),
        ]

        for answer in answers:
            assert answer.status_code >= 400
            assert answer.headers["content-type"].startswith(PROBLEM)
            for inside in ("Traceback", 'File "', ".py", "site-packages"):
                assert inside not in answer.text, answer.text


# ------------------------------------------------------------------------------ bangfu token


async def bangfu_token(*args: str, data_dir: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "BANGFU_DATABASE_URL"}
    env.update(BANGFU_SECRET=SECRET, BANGFU_DATA_DIR=str(data_dir), BANGFU_LOG_JSON="1")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.cli",
        "token",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow
class TestTheTokenCommand:
    async def test_prints_a_token_the_api_accepts(self, api: Api, tmp_path: Path):
        status, out, err = await bangfu_token(
            "--unit", BASE, "--role", "clerk", data_dir=tmp_path / "cli"
        )

        assert status == 0, err
        accepted = await units_as(api, out.strip())
        assert accepted.status_code == 200, accepted.text
        assert [u["code"] for u in accepted.json()] == [BASE]

    async def test_needs_no_database(self, tmp_path: Path):
        status, _, err = await bangfu_token(
            "--unit", BASE, "--role", "clerk", data_dir=tmp_path / "cli"
        )

        assert status == 0, err
        assert not (tmp_path / "cli" / "pg").exists()

    async def test_refuses_an_unknown_role_with_status_2(self, tmp_path: Path):
        status, out, _ = await bangfu_token("--unit", BASE, "--role", "boss", data_dir=tmp_path)

        assert status == 2
        assert "eyJ" not in out  # no token printed

    async def test_refuses_an_invalid_unit_with_status_2(self, tmp_path: Path):
        status, out, _ = await bangfu_token("--unit", "13a", "--role", "clerk", data_dir=tmp_path)

        assert status == 2
        assert "eyJ" not in out  # no token printed
