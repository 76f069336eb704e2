"""Every endpoint, asked by callers outside the file's subtree (404, the file does not exist for
them), by roles without the right (403 naming the rule) and by strangers (401).

Each table first proves, with the caller who may, that its files are in the state the command
starts from — so a 404 or 403 below is about scope or role, never about the lifecycle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    BODIES,
    CITY,
    COMMANDS,
    DISTRICT,
    DISTRICT_COMMANDS,
    JSON,
    OTHER_BASE,
    OTHER_CITY,
    OTHER_DISTRICT,
    PREFIX_SIBLING,
    PROVINCE,
    STARTS_FROM,
    STEPS_TO,
    application,
    assert_problem,
    doer,
    file_in,
)


@dataclass(frozen=True)
class Endpoint:
    """One way of calling the API on a file: `status` is the state the file must be in."""

    name: str
    method: str
    path: str  # "{file}" is replaced by the file's id
    status: str = "approved"
    body: dict[str, Any] | None = None
    writes: bool = True
    district: bool = False  # only an approver of a district or above may
    extra: dict[str, Any] = field(default_factory=dict)


REJECTION_AT_REVIEW = {"rejected_on": "2026-01-22", "reason": "评议后不予建档"}
DELETION = {
    "exited_on": "2026-09-01",
    "kind": "deleted",
    "reason": "erroneous_record",
    "explanation": "误录",
    "evidence": ["核查记录"],
}

FILE_ENDPOINTS = [
    Endpoint("apply", "POST", f"{API}/files", body={}),
    *[
        Endpoint(
            command,
            "POST",
            f"{API}/files/{{file}}/{command}",
            STARTS_FROM[command],
            BODIES[command],
            district=command in DISTRICT_COMMANDS,
        )
        for command in COMMANDS
    ],
    Endpoint(
        "rejection at review",
        "POST",
        f"{API}/files/{{file}}/rejection",
        "appraised",
        REJECTION_AT_REVIEW,
        district=True,
    ),
    Endpoint("deletion", "POST", f"{API}/files/{{file}}/exit", "approved", DELETION, district=True),
    Endpoint("read", "GET", f"{API}/files/{{file}}", writes=False),
    Endpoint("read an old version", "GET", f"{API}/files/{{file}}?version=1", writes=False),
    Endpoint("trail", "GET", f"{API}/files/{{file}}/events", writes=False),
]
WRITES = [e for e in FILE_ENDPOINTS if e.writes]
READS = [e for e in FILE_ENDPOINTS if not e.writes]
UNIT_ENDPOINTS = [
    Endpoint("list units", "GET", f"{API}/units?root={BASE}", writes=False),
    Endpoint("read a unit", "GET", f"{API}/units/{BASE}", writes=False),
    Endpoint("create a unit", "POST", f"{API}/units", body={"code": "130306099", "name": "新工会"}),
    Endpoint("rename a unit", "PATCH", f"{API}/units/{BASE}", body={"name": "新名称"}),
]


def names(endpoints: list[Endpoint]) -> list[str]:
    return [e.name for e in endpoints]


async def files_by_status(api: Api, unit: str = BASE) -> dict[str, str]:
    """One file of `unit` in every status some endpoint starts from."""
    return {status: await file_in(api, status, unit) for status in STEPS_TO}


async def call(
    api: Api, endpoint: Endpoint, headers: dict[str, str], file_id: str = "", unit: str = BASE
) -> Any:
    body = application(unit) if endpoint.name == "apply" else endpoint.body
    return await api.client.request(
        endpoint.method,
        endpoint.path.format(file=file_id),
        json=body,
        headers=headers if body is None else {**headers, **JSON},
    )


async def statuses(
    api: Api,
    endpoints: list[Endpoint],
    headers: dict[str, str],
    files: dict[str, str],
    unit: str = BASE,
) -> dict[str, int]:
    """endpoint name → the status code `headers`' caller gets, each on a file in its state."""
    return {
        e.name: (await call(api, e, headers, files.get(e.status, ""), unit)).status_code
        for e in endpoints
    }


async def refusals(
    api: Api, endpoints: list[Endpoint], headers: dict[str, str], files: dict[str, str]
) -> dict[str, tuple[int, str | None]]:
    """endpoint name → (status, the problem's rule) for `headers`' caller."""
    found = {}
    for e in endpoints:
        response = await call(api, e, headers, files.get(e.status, ""))
        found[e.name] = (response.status_code, response.json().get("rule"))
    return found


# ------------------------------------------------------------------------------ the control


class TestTheCallerWhoMay:
    async def test_gets_through_on_every_file_endpoint_in_the_state_the_table_sets_up(
        self, api: Api
    ):
        got = {}
        for e in FILE_ENDPOINTS:
            file_id = await file_in(api, e.status)  # a fresh file: each write changes its file
            who = (
                api.auth(DISTRICT, "approver", **JSON)
                if e.district or not e.writes
                else doer(api, "apply")
            )
            got[e.name] = (await call(api, e, who, file_id)).status_code

        assert got == {e.name: 201 if e.name == "apply" else 200 for e in FILE_ENDPOINTS}

    async def test_may_read_as_district_approver_city_or_province_inspector_or_admin(
        self, api: Api
    ):
        file_id = await file_in(api, "approved")
        readers = {
            "district approver": api.auth(DISTRICT, "approver"),
            "city inspector": api.auth(CITY, "inspector"),
            "province inspector": api.auth(PROVINCE, "inspector"),
            "province admin": api.auth(PROVINCE, "admin"),
        }

        got = {
            (who, e.name): (await call(api, e, headers, file_id)).status_code
            for who, headers in readers.items()
            for e in READS
        }

        assert got == dict.fromkeys(got, 200)
        assert len(got) == len(readers) * len(READS)


# ------------------------------------------------------------------------------ 404: out of scope


class TestAClerkOfAnotherBaseUnionInTheDistrict:
    async def test_finds_no_file_of_its_neighbour_on_any_file_endpoint(self, api: Api):
        files = await files_by_status(api)
        neighbour = api.auth(OTHER_BASE, "clerk")

        got = await statuses(api, FILE_ENDPOINTS, neighbour, files)

        assert got == dict.fromkeys(names(FILE_ENDPOINTS), 404)

    async def test_finds_no_unit_of_its_neighbour(self, api: Api):
        neighbour = api.auth(OTHER_BASE, "clerk")
        reads = [e for e in UNIT_ENDPOINTS if not e.writes]

        got = await statuses(api, reads, neighbour, {})

        assert got == dict.fromkeys(names(reads), 404)

    async def test_gets_the_same_answer_as_for_a_file_that_does_not_exist(self, api: Api):
        file_id = await file_in(api, "approved")
        neighbour = api.auth(OTHER_BASE, "clerk")

        hidden = await api.client.get(f"{API}/files/{file_id}", headers=neighbour)
        missing = await api.client.get(f"{API}/files/{uuid.uuid4()}", headers=neighbour)

        assert_problem(hidden, 404)
        assert_problem(missing, 404)
        assert without_request(hidden.json()) == without_request(missing.json())

    async def test_gets_the_same_english_answer_as_for_a_file_that_does_not_exist(self, api: Api):
        file_id = await file_in(api, "approved")
        neighbour = api.auth(OTHER_BASE, "clerk", **{"Accept-Language": "en"})

        hidden = await api.client.get(f"{API}/files/{file_id}", headers=neighbour)
        missing = await api.client.get(f"{API}/files/{uuid.uuid4()}", headers=neighbour)

        assert without_request(hidden.json()) == without_request(missing.json())


def without_request(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem without what names the request (its path and id)."""
    return {k: v for k, v in problem.items() if k not in {"instance", "request_id"}}


class TestAnInspectorOfAnotherCityInTheProvince:
    async def test_finds_no_file_of_the_district_on_any_file_endpoint(self, api: Api):
        files = await files_by_status(api)
        inspector = api.auth(OTHER_CITY, "inspector")

        got = await statuses(api, FILE_ENDPOINTS, inspector, files)

        assert got == dict.fromkeys(names(FILE_ENDPOINTS), 404)


class TestAnApproverOfAnotherDistrictInTheCity:
    async def test_finds_no_file_of_the_district_on_any_file_endpoint(self, api: Api):
        files = await files_by_status(api)
        approver = api.auth(OTHER_DISTRICT, "approver")

        got = await statuses(api, FILE_ENDPOINTS, approver, files)

        assert got == dict.fromkeys(names(FILE_ENDPOINTS), 404)


class TestAnAdminOfAnotherCity:
    async def test_finds_no_unit_of_the_district_to_read_create_or_rename(self, api: Api):
        admin = api.auth(OTHER_CITY, "admin")

        got = await statuses(api, UNIT_ENDPOINTS, admin, {})

        assert got == dict.fromkeys(names(UNIT_ENDPOINTS), 404)


class TestABaseUnionWhoseCodeExtendsAnother:
    """'1303060011' starts with '130306001': neither may see the other's files."""

    @pytest.fixture
    async def sibling(self, api: Api) -> str:
        created = await api.client.post(
            f"{API}/units",
            json={"code": PREFIX_SIBLING, "name": "抚宁区某某公司工会"},
            headers=api.auth(DISTRICT, "admin", **JSON),
        )
        assert created.status_code == 201, created.text
        return PREFIX_SIBLING

    async def test_finds_no_file_of_the_shorter_code_on_any_file_endpoint(
        self, api: Api, sibling: str
    ):
        files = await files_by_status(api, BASE)
        clerk = api.auth(sibling, "clerk")

        got = await statuses(api, FILE_ENDPOINTS, clerk, files)

        assert got == dict.fromkeys(names(FILE_ENDPOINTS), 404)

    async def test_keeps_its_own_files_from_the_union_with_the_shorter_code(
        self, api: Api, sibling: str
    ):
        files = await files_by_status(api, sibling)
        clerk = api.auth(BASE, "clerk")

        got = await statuses(api, FILE_ENDPOINTS, clerk, files, unit=sibling)

        assert got == dict.fromkeys(names(FILE_ENDPOINTS), 404)

    async def test_is_not_listed_below_the_union_with_the_shorter_code(
        self, api: Api, sibling: str
    ):
        clerk = api.auth(BASE, "clerk")

        listed = await api.client.get(f"{API}/units", headers=clerk)
        read = await api.client.get(f"{API}/units/{sibling}", headers=clerk)

        assert [u["code"] for u in listed.json()] == [BASE]
        assert_problem(read, 404)


# ------------------------------------------------------------------------------ 403: the role


class TestAClerk:
    async def test_may_not_take_any_decision_reserved_to_a_district(self, api: Api):
        files = await files_by_status(api)
        decisions = [e for e in WRITES if e.district]

        got = await refusals(api, decisions, api.auth(BASE, "clerk"), files)

        assert got == dict.fromkeys(names(decisions), (403, "role"))

    async def test_may_not_change_the_union_tree(self, api: Api):
        writes = [e for e in UNIT_ENDPOINTS if e.writes]

        got = await refusals(api, writes, api.auth(BASE, "clerk"), {})

        assert got == dict.fromkeys(names(writes), (403, "role"))


class TestAnInspector:
    async def test_may_not_write_to_any_file_of_its_city(self, api: Api):
        files = await files_by_status(api)

        got = await refusals(api, WRITES, api.auth(CITY, "inspector"), files)

        assert got == dict.fromkeys(names(WRITES), (403, "role"))


class TestAnAdmin:
    async def test_may_not_write_to_any_file_of_its_province(self, api: Api):
        files = await files_by_status(api)

        got = await refusals(api, WRITES, api.auth(PROVINCE, "admin"), files)

        assert got == dict.fromkeys(names(WRITES), (403, "role"))


class TestAMachineAccountForSync:
    async def test_may_not_read_files_of_its_province(self, api: Api):
        files = await files_by_status(api)

        got = await refusals(api, READS, api.auth(PROVINCE, "sync"), files)

        assert got == dict.fromkeys(names(READS), (403, "role"))

    async def test_may_not_write_to_files_of_its_province(self, api: Api):
        files = await files_by_status(api)

        got = await refusals(api, WRITES, api.auth(PROVINCE, "sync"), files)

        assert got == dict.fromkeys(names(WRITES), (403, "role"))


class TestABaseLevelApprover:
    async def test_may_not_take_decisions_reserved_to_a_district_or_above(self, api: Api):
        files = await files_by_status(api)
        decisions = [e for e in WRITES if e.district]

        got = await refusals(api, decisions, api.auth(BASE, "approver"), files)

        assert got == dict.fromkeys(names(decisions), (403, "district_or_above"))

    async def test_is_told_why_in_a_problem_naming_the_rule(self, api: Api):
        file_id = await file_in(api, "appraised")

        refused = await api.client.post(
            f"{API}/files/{file_id}/approval",
            json=BODIES["approval"],
            headers=api.auth(BASE, "approver", **JSON, **{"Accept-Language": "en"}),
        )

        problem = assert_problem(refused, 403)
        assert problem["code"] == "not_permitted"
        assert problem["rule"] == "district_or_above"
        assert "district" in problem["detail"]


# ------------------------------------------------------------------------------ 401: no one


AUTHORIZATIONS = {
    "no header": None,
    "garbage token": "Bearer not-a-token",
    "scheme without a token": "Bearer",
    "another scheme": "Basic Y2xlcms6cGFzc3dvcmQ=",
}


class TestACallerWithoutAValidToken:
    async def test_is_unauthorised_on_every_endpoint(self, api: Api):
        files = await files_by_status(api)
        endpoints = FILE_ENDPOINTS + UNIT_ENDPOINTS

        got = {}
        for kind, authorization in AUTHORIZATIONS.items():
            headers = {} if authorization is None else {"Authorization": authorization}
            for e in endpoints:
                response = await call(api, e, headers, files.get(e.status, ""))
                got[kind, e.name] = (
                    response.status_code,
                    response.headers.get("content-type"),
                    response.headers.get("www-authenticate"),
                )

        assert got == {
            (kind, e.name): (401, "application/problem+json", 'Bearer realm="bangfu"')
            for kind in AUTHORIZATIONS
            for e in endpoints
        }
