"""An operator probes the service: health, the OpenAPI document, request ids and the one log
line each request leaves."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import structlog

from tests.conftest import Api
from tests.e2e.http_helpers import API, BASE, DISTRICT, doer, file_in

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

ROUTES = {
    ("post", "/api/v1/files"),
    *(
        ("post", f"/api/v1/files/{{file_id}}/{command}")
        for command in (
            "verification",
            "appraisal",
            "approval",
            "send-back",
            "rejection",
            "assistance",
            "plan",
            "visits",
            "revisions",
            "rechecks",
            "exit",
            "return",
            "transfer",
        )
    ),
    ("get", "/api/v1/files/{file_id}"),
    ("get", "/api/v1/files/{file_id}/events"),
    ("post", "/api/v1/files/{file_id}/erasure"),
    ("post", "/api/v1/sync/attachments/chunks"),
    ("get", "/api/v1/units"),
    ("post", "/api/v1/units"),
    ("get", "/api/v1/units/{code}"),
    ("patch", "/api/v1/units/{code}"),
    ("post", "/api/v1/tokens"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/metrics"),
}
# The fields a client most needs an example for, by request schema.
EXAMPLES = {
    "ApplicationIn": ["establishing_unit", "applied_on"],
    "VerificationIn": ["verified_on", "investigators", "annual_income", "poverty_line"],
    "AppraisalIn": ["appraised_on", "publicity_start", "publicity_end"],
    "ApprovalIn": ["approved_on", "poverty_line"],
    "AssistanceIn": ["assisted_on", "amount"],
    "TransferIn": ["transferred_on", "to_unit"],
    "UnitIn": ["code", "name"],
    "TokenIn": ["user", "unit", "ttl_seconds"],
    "ErasureIn": ["reason"],
}


async def openapi(api: Api) -> dict[str, Any]:
    response = await api.client.get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


class TestHealth:
    async def test_live_answers_200(self, api: Api):
        live = await api.client.get("/health/live")

        assert (live.status_code, live.json()["status"]) == (200, "live")

    async def test_ready_answers_200_with_the_database_ok(self, api: Api):
        ready = await api.client.get("/health/ready")

        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "ready"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["migrations"] == "applied"
        assert {"projection.ledger", "projection.statistics"} <= set(body["checks"])


class TestTheOpenApiDocument:
    async def test_lists_every_route(self, api: Api):
        document = await openapi(api)

        listed = {(method, path) for path, ops in document["paths"].items() for method in ops}
        assert listed >= ROUTES

    async def test_gives_every_post_and_patch_a_json_body_but_the_uploads_a_multipart_one(
        self, api: Api
    ):
        document = await openapi(api)
        uploads = {
            ("post", f"/api/v1/{name}")
            for name in ("reconciliations", "imports", "civil-affairs-matches")
        }

        scans = ("post", "/api/v1/files/{file_id}/attachments")  # the scan's own bytes
        chunks = ("post", "/api/v1/sync/attachments/chunks")  # MessagePack, between nodes
        writes = {
            (method, path): op.get("requestBody", {}).get("content", {})
            for path, ops in document["paths"].items()
            for method, op in ops.items()
            if method in {"post", "patch"}
        }
        assert {
            route
            for route, content in writes.items()
            if route not in uploads | {scans, chunks} and "application/json" not in content
        } == set()
        assert all("multipart/form-data" in writes[route] for route in uploads)
        assert set(writes[scans]) == {"image/jpeg", "image/png", "application/pdf"}
        assert set(writes[chunks]) == {"application/octet-stream"}
        # 21 + token minting + erasure + accounts (create, change, password reset) + a scan
        # + a printed form's verification + a spot-check as a background job
        # + the decisions after approval: finding checks, follow-ups, category confirmations, keep
        # + a union's own records: its 民主评议 meetings and its 考核表
        # + a batch of attachment chunks for an upstream node
        assert len(writes) == 36

    async def test_carries_examples_for_the_key_fields_of_request_bodies(self, api: Api):
        schemas = (await openapi(api))["components"]["schemas"]

        missing = [
            f"{schema}.{name}"
            for schema, fields in EXAMPLES.items()
            for name in fields
            if not schemas[schema]["properties"][name].get("examples")
        ]
        assert missing == []

    async def test_names_bearer_tokens_as_its_security_scheme(self, api: Api):
        document = await openapi(api)

        assert document["components"]["securitySchemes"]["bearer"] == {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
        }
        assert document["security"] == [{"bearer": []}]


class TestTheRequestId:
    async def test_is_on_every_response_whatever_its_status(self, api: Api):
        file_id = await file_in(api, "applied")
        client, clerk = api.client, api.auth(BASE, "clerk")
        responses = [
            await client.get("/health/live"),
            await client.get("/schema/openapi.json"),
            await client.get(f"{API}/files/{file_id}", headers=clerk),
            await client.get(f"{API}/files/{file_id}"),
            await client.get(f"{API}/files/{file_id}", headers=api.auth("130306002", "clerk")),
            await client.get("/nowhere"),
            await client.post(f"{API}/files", content=b"{}", headers=doer(api, "apply")),
            await client.post(f"{API}/files", content=b"{}", headers=clerk),
        ]

        ids = [r.headers.get("x-request-id", "") for r in responses]
        assert [bool(REQUEST_ID.match(i)) for i in ids] == [True] * len(responses)
        assert len(set(ids)) == len(ids)

    async def test_echoes_a_valid_id_sent_by_the_client(self, api: Api):
        answered = await api.client.get("/health/live", headers={"X-Request-ID": "clerk-li.42_a"})

        assert answered.headers["x-request-id"] == "clerk-li.42_a"

    async def test_replaces_an_id_that_is_not_safe_to_log(self, api: Api):
        unsafe = ["x" * 65, "a b", "id;drop", "../../etc"]

        answered = [
            await api.client.get("/health/live", headers={"X-Request-ID": value})
            for value in unsafe
        ]

        got = [a.headers["x-request-id"] for a in answered]
        assert all(REQUEST_ID.match(i) for i in got), got
        assert not set(got) & set(unsafe)

    async def test_is_named_in_a_problem(self, api: Api):
        refused = await api.client.get(f"{API}/units", headers={"X-Request-ID": "trace-7"})

        assert refused.json()["request_id"] == "trace-7"


class TestTheRequestLog:
    async def captured(self, api: Api, method: str, path: str, **kwargs: Any) -> tuple[Any, list]:
        """The response and the `http.request` events logged while the server handled it."""
        with structlog.testing.capture_logs() as logs:
            response = await api.client.request(method, path, **kwargs)
            for _ in range(100):  # the line is written as the response finishes
                if any(e["event"] == "http.request" for e in logs):
                    break
                await asyncio.sleep(0.01)
        return response, [e for e in logs if e["event"] == "http.request"]

    async def test_has_one_line_per_request_with_who_what_and_how_long(self, api: Api):
        file_id = await file_in(api, "applied")

        response, lines = await self.captured(
            api, "GET", f"{API}/files/{file_id}", headers=api.auth(DISTRICT, "approver", "wang")
        )

        (line,) = lines
        assert {
            k: line[k] for k in ("request_id", "user", "unit", "method", "route", "status")
        } == {
            "request_id": response.headers["x-request-id"],
            "user": "wang",
            "unit": DISTRICT,
            "method": "GET",
            "route": "/api/v1/files/{file_id:uuid}",
            "status": 200,
        }
        assert isinstance(line["duration_ms"], float)
        assert line["duration_ms"] >= 0
        assert line["log_level"] == "info"

    async def test_names_the_route_not_the_file(self, api: Api):
        file_id = await file_in(api, "applied")

        _, (line,) = await self.captured(
            api, "GET", f"{API}/files/{file_id}/events", headers=api.auth(BASE, "clerk")
        )

        assert file_id not in line["route"]

    async def test_logs_a_refused_stranger_without_a_user(self, api: Api):
        response, (line,) = await self.captured(api, "GET", f"{API}/units")

        assert (line["status"], line["user"], line["unit"]) == (401, None, None)
        assert line["request_id"] == response.headers["x-request-id"]

    async def test_logs_a_request_for_no_route(self, api: Api):
        _, (line,) = await self.captured(api, "GET", "/nowhere")

        assert (line["status"], line["route"]) == (404, "/nowhere")
