"""The whole HTTP API fuzzed from its own OpenAPI document (schemathesis), over loopback.

Every operation of `/schema/openapi.json` gets generated requests — valid by the document
(positive) and invalid by it (negative) — sent by callers of several roles and units, in and out
of scope, with tokens that pass authentication, so the requests reach the handlers; three in four
name a file that exists, in one of the lifecycle's states. Each answer is checked:

- never a 5xx;
- every error is `application/problem+json` with the documented shape (RFC 9457);
- status, content type, headers and body conform to the document (schemathesis' checks), and a
  request the document calls invalid is refused.

The number of cases is `BANGFU_FUZZ_CASES`, shared evenly over operations and modes (1,000 in the
normal suite, about 20 s; `make fuzz` asks for 6,000 and sends about 5,400, as operations with few
possible inputs run out of them). A case is one request sent; the checks send a few more of their
own (without the token, with a forged one), which are not counted.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
import schemathesis.core.failures
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import Api
from tests.e2e.http_helpers import (
    BASE,
    CITY,
    DISTRICT,
    OTHER_BASE,
    OTHER_DISTRICT,
    PROBLEM,
    PROVINCE,
    file_in,
)

CASES = int(os.environ.get("BANGFU_FUZZ_CASES", "1000"))
# In the normal suite the run is the same every time (CI stays reproducible); `make fuzz` sets
# BANGFU_FUZZ_RANDOM=1 and explores new inputs on each run.
RANDOM = os.environ.get("BANGFU_FUZZ_RANDOM") == "1"

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}

# Explicit, so no schemathesis.toml found on the way up changes the run:
# - the bearer token is ours to give (a valid one of the caller drawn for each case), not a
#   generated header; the `ignored_auth` check still sends each request without and with a
#   forged token and wants 401;
# - no query parameter the document does not name: the API ignores unknown ones, as HTTP APIs
#   commonly do (a cache-buster `?_=…`), so a negative case made of one would be no error.
CONFIG = schemathesis.Config.from_dict(
    {"generation": {"with-security-parameters": False, "allow-extra-parameters": False}}
)


@dataclass
class Findings:
    """What the run saw: cases sent, statuses per operation, distinct failures with a curl each."""

    cases: int = 0
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)

    def fail(self, operation: str, what: str, case: Any) -> None:
        key = f"{operation}: {what}"
        if key not in self.failures:
            self.failures[key] = case.as_curl_command()

    def writes(self) -> int:
        """Generated POSTs and PATCHes the API accepted (2xx)."""
        return sum(
            n
            for (operation, status), n in self.statuses.items()
            if operation.startswith(("POST", "PATCH")) and status < 300
        )

    def report(self) -> str:
        return "\n\n".join(f"{what}\n    {curl}" for what, curl in self.failures.items())


def problem_shape(response: Any) -> str | None:
    """What is wrong with an error answer's problem document (None: nothing)."""
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith(PROBLEM):
        return f"{response.status_code} is not {PROBLEM} but {content_type!r}"
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} problem is not JSON"
    if not isinstance(body, dict) or not body.keys() >= PROBLEM_FIELDS:
        return f"{response.status_code} problem lacks {PROBLEM_FIELDS - set(body)}"
    if body["status"] != response.status_code or not str(body["type"]).startswith("urn:bangfu:"):
        return f"{response.status_code} problem says status {body['status']}, type {body['type']}"
    return None


@dataclass
class Fuzzer:
    """Sends generated requests for one operation at a time and records what it sees. Runs in a
    thread: schemathesis and requests are synchronous, the server runs on the test's loop."""

    base_url: str
    callers: list[dict[str, str]]
    file_ids: list[str]
    units: list[str]
    accounts: list[str] = field(default_factory=list)  # ids of accounts, for `user_id` paths
    findings: Findings = field(default_factory=Findings)
    session: requests.Session = field(default_factory=requests.Session)

    def send(self, name: str, case: Any, caller: dict[str, str], file_id: str, unit: str) -> None:
        if file_id and "file_id" in case.path_parameters:
            case.path_parameters["file_id"] = file_id
        if unit and "code" in case.path_parameters:
            case.path_parameters["code"] = unit
        if file_id and self.accounts and "user_id" in case.path_parameters:
            # three in four name an account that exists (drawn with the file)
            drawn = int(file_id[:8], 16) % len(self.accounts)
            case.path_parameters["user_id"] = self.accounts[drawn]
        response = case.call(
            base_url=self.base_url, session=self.session, headers=caller, timeout=30
        )
        self.findings.cases += 1
        self.findings.statuses[name, response.status_code] += 1
        if response.status_code >= 500:
            self.findings.fail(name, f"{response.status_code}: {response.text[:300]}", case)
        if response.status_code >= 400 and (wrong := problem_shape(response)):
            self.findings.fail(name, wrong, case)
        try:
            case.validate_response(
                response,
                headers=caller,
                # A request valid by the document may still be refused by the domain's rules (a
                # future date, a file in another state): a 4xx is right for it.
                excluded_checks=[positive_data_acceptance],
            )
        except schemathesis.core.failures.FailureGroup as group:
            for failure in group.exceptions:
                self.findings.fail(name, f"{failure.title}: {failure.message[:300]}", case)

    def run(self, operation: Any, mode: GenerationMode, examples: int) -> None:
        """Up to `examples` requests for `operation`; three in four name an existing file or a
        known unit in the path."""
        name = f"{operation.method.upper()} {operation.path}"

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=not RANDOM,
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=operation.as_strategy(generation_mode=mode),
            caller=st.sampled_from(self.callers),
            file_id=st.sampled_from([""] * len(self.file_ids) + self.file_ids * 3),
            unit=st.sampled_from([""] * len(self.units) + self.units * 3),
        )
        def generated(case: Any, caller: dict[str, str], file_id: str, unit: str) -> None:
            # Each case from an address of its own (uvicorn takes it from a loopback proxy's
            # X-Forwarded-For), so that the checks' own requests with a forged token are met
            # with 401, not with the failed-authentication limit (tested on its own). In the
            # case itself, so that the checks' requests carry it too.
            n = self.findings.cases + 1
            case.headers = {
                **(case.headers or {}),
                "X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
            }
            self.send(name, case, caller, file_id, unit)

        try:
            generated()
        except Unsatisfiable:
            # an operation without parameters or body (GET /health/live) has no invalid request
            # to make: its positive run covered it
            assert mode is GenerationMode.NEGATIVE, name


def fuzz(document: dict[str, Any], fuzzer: Fuzzer, cases: int) -> Findings:
    """About `cases` generated requests, shared evenly over the operations and both modes."""
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    examples = max(1, math.ceil(cases / (len(operations) * len(modes))))
    fuzzer.session.trust_env = False  # loopback: no proxy from the environment
    try:
        for operation in operations:
            for mode in modes:
                fuzzer.run(operation, mode, examples)
    finally:
        fuzzer.session.close()
    return fuzzer.findings


async def test_generated_requests_get_no_5xx_and_every_error_is_a_documented_problem(
    api: Api, capsys: pytest.CaptureFixture[str]
):
    files = [
        await file_in(api, status)
        for status in ("applied", "verified", "appraised", "approved", "out_of_hardship")
    ]
    files.append(await file_in(api, "approved", OTHER_BASE))
    callers = [
        api.auth(BASE, "clerk", "fuzz-clerk"),
        api.auth(OTHER_BASE, "clerk", "fuzz-clerk-elsewhere"),
        api.auth(DISTRICT, "approver", "fuzz-approver"),
        api.auth(OTHER_DISTRICT, "approver", "fuzz-approver-elsewhere"),
        api.auth(CITY, "inspector", "fuzz-inspector"),
        api.auth(PROVINCE, "admin", "fuzz-admin"),
        api.auth(DISTRICT, "sync", "fuzz-sync"),
    ]
    accounts = []
    for user, unit in (("fuzz-account", BASE), ("fuzz-account-elsewhere", OTHER_BASE)):
        made = await api.client.post(
            "/api/v1/users",
            json={"user": user, "unit": unit, "role": "clerk"},
            headers={
                **api.auth(PROVINCE, "admin", "fuzz-admin"),
                "Content-Type": "application/json",
            },
        )
        assert made.status_code == 201, made.text
        accounts.append(made.json()["account"]["id"])
    for caller in callers:  # each token is verified once here, as a client's would be
        assert (await api.client.get("/api/v1/units", headers=caller)).status_code in {200, 403}
    document = (await api.client.get("/schema/openapi.json")).json()
    started = time.perf_counter()

    fuzzer = Fuzzer(
        str(api.client.base_url), callers, files, [BASE, OTHER_BASE, DISTRICT, CITY], accounts
    )

    findings = await asyncio.to_thread(fuzz, document, fuzzer, CASES)

    seconds = time.perf_counter() - started
    with capsys.disabled():  # the figures `make fuzz` reports, shown whatever the capture
        print(
            f"\nfuzzing: {findings.cases} cases over {len({op for op, _ in findings.statuses})} "
            f"operations in {seconds:.0f} s; {len(findings.failures)} distinct failures; "
            f"{findings.writes()} writes accepted; statuses "
            f"{dict(sorted(Counter(s for _, s in findings.statuses.elements()).items()))}"
        )
    assert not findings.failures, findings.report()
    assert findings.cases >= CASES * 0.8, findings.cases  # small operations run out of inputs
    # past authentication into the handlers: answers of the domain, not only of the gate (401s
    # are the checks' own requests, not counted)
    reached = {status for (_, status) in findings.statuses}
    assert {200, 400, 403, 404, 422} <= reached, reached


class TestTheDocument:
    async def test_closes_request_bodies_to_unknown_fields(self, api: Api):
        schemas = (await api.client.get("/schema/openapi.json")).json()["components"]["schemas"]

        closed = {
            name: schema.get("additionalProperties")
            for name, schema in schemas.items()
            if name.endswith("In") or name in {"Head", "Member", "Exclusions"}
        }

        assert set(closed.values()) == {False}, closed
        assert {"ApplicationIn", "VerificationIn", "Head", "Member", "TokenIn"} <= set(closed)

    async def test_gives_money_its_pattern(self, api: Api):
        schemas = (await api.client.get("/schema/openapi.json")).json()["components"]["schemas"]

        amount = schemas["AssistanceIn"]["properties"]["amount"]

        assert amount["type"] == "string"
        assert amount["pattern"] == r"^[0-9]{1,13}(\.[0-9]{1,2})?$"

    async def test_documents_429_wherever_a_token_is_taken_and_422_for_a_bad_sync_cursor(
        self, api: Api
    ):
        paths = (await api.client.get("/schema/openapi.json")).json()["paths"]

        without_429 = [
            f"{method.upper()} {path}"
            for path, operations in paths.items()
            for method, operation in operations.items()
            if operation.get("security") != [{}] and "429" not in operation["responses"]
        ]

        assert without_429 == []
        assert "422" in paths["/api/v1/sync/feed"]["get"]["responses"]

    async def test_says_health_and_metrics_need_no_token(self, api: Api):
        paths = (await api.client.get("/schema/openapi.json")).json()["paths"]

        assert [paths[p]["get"].get("security") for p in ("/health/live", "/metrics")] == [
            [{}],
            [{}],
        ]
        assert "security" not in paths["/api/v1/units"]["get"]  # the document's default: bearer
