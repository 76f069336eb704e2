"""Bad input on every command endpoint: each gets a clear 4xx problem and writes nothing.

Table-driven: every case is sent to the application endpoint and to each lifecycle command, on a
file in the state that command starts from, by the caller who may run it — so the refusal is
about the input alone. After each case the events table is exactly as it was.

Text outside the Basic Multilingual Plane (𠀀, 𪚥) and emoji are valid text: accepted, stored and
returned as sent (docs/decisions/0007-api-fuzzing-and-limits.md).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    BODIES,
    COMMANDS,
    DISTRICT,
    JSON,
    PROBLEM,
    application,
    doer,
    file_in,
    files_for_every_command,
    verification,
)

APPLY = "apply"
ENDPOINTS = (APPLY, *COMMANDS)

# For each endpoint, a field of each kind its body has (a path into the body).
TEXT = {
    APPLY: "statement",
    "verification": "narrative",
    "appraisal": None,
    "approval": "opinion",
    "send-back": "reason",
    "rejection": "reason",
    "assistance": "note",
    "plan": "goals",
    "visits": "content",
    "revisions": "reason",
    "rechecks": None,
    "exit": "explanation",
    "return": "reason",
    "transfer": "reason",
    "finding-checks": "reason",
    "follow-ups": "note",
    "category-confirmations": "opinion",
    "keep": "reason",
}
DATE = {
    APPLY: "applied_on",
    "verification": "verified_on",
    "appraisal": "appraised_on",
    "approval": "approved_on",
    "send-back": "sent_back_on",
    "rejection": "rejected_on",
    "assistance": "assisted_on",
    "plan": "agreed_on",
    "visits": "visited_on",
    "revisions": "effective_on",
    "rechecks": "rechecked_on",
    "exit": "exited_on",
    "return": "returned_on",
    "transfer": "transferred_on",
    "finding-checks": "checked_on",
    "follow-ups": "followed_up_on",
    "category-confirmations": "confirmed_on",
    "keep": "kept_on",
}
MONEY = {
    "verification": "annual_income",
    "approval": "poverty_line",
    "assistance": "amount",
    "visits": "quarter_income",
    "revisions": "annual_income",
    "rechecks": "poverty_line",
}
WHOLE_NUMBER = {"appraisal": "objections", "exit": "months_above_line"}
YES_NO = {
    APPLY: "authorisation_signed",
    "appraisal": "minutes_on_file",
    "plan": "signed_by_worker",
    "verification": "accidental_event",
}
NAME = {
    APPLY: "head.name",
    "verification": "members[0].name",
    "assistance": "helper",
    "plan": "helper",
    "visits": "cadre",
    "follow-ups": "cadre",
}


def body_of(endpoint: str) -> dict[str, Any]:
    if endpoint == APPLY:
        return application()
    if endpoint == "verification":
        return verification()
    return copy.deepcopy(BODIES[endpoint])


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`body` with the field at `path` (`a.b`, `a[0].b`) set to `value`."""
    changed = copy.deepcopy(body)
    *parents, last = path.replace("[", ".").replace("]", "").split(".")
    node: Any = changed
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = value
    return changed


def value_at(body: Any, path: str) -> Any:
    for part in path.replace("[", ".").replace("]", "").split("."):
        body = body[int(part)] if part.isdigit() else body[part]
    return body


class Bodies:
    """The files each endpoint acts on, and how to send it a body."""

    def __init__(self, api: Api, files: dict[str, str]) -> None:
        self.api = api
        self.files = files

    def path(self, endpoint: str) -> str:
        return (
            f"{API}/files"
            if endpoint == APPLY
            else f"{API}/files/{self.files[endpoint]}/{endpoint}"
        )

    async def send(
        self, endpoint: str, *, json: Any = None, content: bytes | None = None, **headers: str
    ) -> Any:
        who = doer(self.api, APPLY if endpoint == APPLY else endpoint)
        return await self.api.client.post(
            self.path(endpoint), json=json, content=content, headers={**who, **headers}
        )


@pytest.fixture
async def endpoints(api: Api) -> Bodies:
    return Bodies(api, await files_for_every_command(api))


async def written(database_url: str) -> tuple[int, int]:
    """How many events there are, and the last position: unchanged means nothing was written."""
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("SELECT count(*), coalesce(max(position), 0) FROM events")
    finally:
        await conn.close()
    return int(row[0]), int(row[1])


def refusal(response: Any) -> tuple[int, str | None]:
    """(status, the first bad field) of a problem; anything else is shown as it is."""
    if not response.headers.get("content-type", "").startswith(PROBLEM):
        return response.status_code, f"not a problem: {response.text[:200]}"
    body = response.json()
    assert body["status"] == response.status_code
    assert {"type", "title", "detail", "code"} <= body.keys(), body
    errors = body.get("errors") or [{}]
    return response.status_code, errors[0].get("field")


Case = Callable[[str], dict[str, Any] | None]  # endpoint → the bad body, None if not applicable


async def refused_everywhere(
    endpoints: Bodies, database_url: str, case: Case, **headers: str
) -> dict[str, tuple[int, str | None]]:
    """endpoint → (status, first bad field) of the bad body `case` makes for it; the events
    table is checked unchanged after all of them."""
    before = await written(database_url)
    got = {}
    for endpoint in ENDPOINTS:
        body = case(endpoint)
        if body is not None:
            got[endpoint] = refusal(await endpoints.send(endpoint, json=body, **headers))
    assert await written(database_url) == before
    return got


def expect(status: int, field: dict[str, str | None]) -> dict[str, tuple[int, str | None]]:
    return {endpoint: (status, path) for endpoint, path in field.items() if path is not None}


# ------------------------------------------------------------------------------ text


class TestANulCharacter:
    async def test_in_free_text_is_refused_on_every_endpoint(
        self, endpoints: Bodies, database_url: str
    ):
        def case(endpoint: str) -> dict[str, Any] | None:
            field = TEXT[endpoint]
            return None if field is None else with_value(body_of(endpoint), field, "困难\x00职工")

        got = await refused_everywhere(endpoints, database_url, case)

        assert got == expect(400, TEXT)

    async def test_in_a_name_is_refused_too(self, endpoints: Bodies, database_url: str):
        def case(endpoint: str) -> dict[str, Any] | None:
            field = NAME.get(endpoint)
            return None if field is None else with_value(body_of(endpoint), field, "张\x00三")

        got = await refused_everywhere(endpoints, database_url, case)

        assert got == expect(400, NAME)

    async def test_in_a_field_the_domain_only_stores_is_refused(
        self, endpoints: Bodies, database_url: str
    ):
        def case(endpoint: str) -> dict[str, Any] | None:
            if endpoint == APPLY:
                return with_value(body_of(APPLY), "head.health", "\x00")
            if endpoint == "verification":
                return with_value(body_of(endpoint), "members[0].health", "大病\x00")
            return None

        got = await refused_everywhere(endpoints, database_url, case)

        assert got == {APPLY: (400, "head.health"), "verification": (400, "members[0].health")}


class TestAControlCharacter:
    @pytest.mark.parametrize("character", ["\x01", "\x0b", "\x0c", "\x1b", "\x1f"], ids=repr)
    async def test_in_free_text_is_refused_on_every_endpoint(
        self, endpoints: Bodies, database_url: str, character: str
    ):
        def case(endpoint: str) -> dict[str, Any]:
            field = TEXT[endpoint] or DATE[endpoint]
            return with_value(body_of(endpoint), field, f"困难{character}职工")

        got = await refused_everywhere(endpoints, database_url, case)

        assert got == expect(400, {e: TEXT[e] or DATE[e] for e in ENDPOINTS})

    async def test_tab_line_feed_and_carriage_return_are_text(self, api: Api):
        file_id = await file_in(api, "approved")
        note = "第一行\r\n\t第二行"

        done = await api.client.post(
            f"{API}/files/{file_id}/assistance",
            json={**BODIES["assistance"], "note": note},
            headers=doer(api, "assistance"),
        )
        trail = await api.client.get(
            f"{API}/files/{file_id}/events", headers=api.auth(DISTRICT, "approver")
        )

        assert done.status_code == 200, done.text
        assert trail.json()["events"][-1]["fields"]["note"] == note

    async def test_in_a_units_name_is_refused_and_the_ledger_workbook_still_exports(self, api: Api):
        """Found by fuzzing: a unit renamed with a vertical tab made `ledger.xlsx` a 500, the
        workbook writer refusing the character."""
        await file_in(api, "approved")
        admin = api.auth(DISTRICT, "admin", **JSON)

        renamed = await api.client.patch(
            f"{API}/units/{BASE}", json={"name": "抚宁\x0b工会"}, headers=admin
        )
        workbook = await api.client.get(
            f"{API}/ledger.xlsx", headers=api.auth(DISTRICT, "approver")
        )

        assert refusal(renamed) == (400, "name")
        assert workbook.status_code == 200


class TestAMegabyteString:
    async def test_in_any_text_field_is_refused_as_too_long(
        self, endpoints: Bodies, database_url: str
    ):
        huge = "帮" + "x" * 999_999  # a million characters: the body stays under 1 MiB

        def case(endpoint: str) -> dict[str, Any]:
            return with_value(body_of(endpoint), TEXT[endpoint] or DATE[endpoint], huge)

        got = await refused_everywhere(endpoints, database_url, case)

        fields = {e: TEXT[e] or DATE[e] for e in ENDPOINTS}
        assert got == expect(400, fields)

    async def test_says_how_long_text_may_be(self, endpoints: Bodies):
        refused = await endpoints.send(
            "assistance", json=with_value(BODIES["assistance"], "helper", "x" * 1_000_000)
        )

        error = refused.json()["errors"][0]
        assert (error["field"], error["code"]) == ("helper", "too_long")
        assert "2000" in error["message"]

    async def test_where_the_domain_does_not_bound_the_field_is_refused_too(
        self, endpoints: Bodies, database_url: str
    ):
        before = await written(database_url)

        refused = await endpoints.send(
            APPLY, json=with_value(application(), "head.health", "病" + "x" * 999_999)
        )

        assert refusal(refused) == (400, "head.health")
        assert refused.json()["errors"][0]["code"] == "too_long"
        assert await written(database_url) == before

    async def test_over_the_body_limit_is_413(self, endpoints: Bodies, database_url: str):
        before = await written(database_url)

        refused = await endpoints.send(
            "visits", json=with_value(BODIES["visits"], "content", "x" * (1 << 20))
        )

        assert refusal(refused) == (413, None)
        assert await written(database_url) == before


# ------------------------------------------------------------------------------ structure


class TestDeeplyNestedJson:
    @pytest.mark.parametrize("depth", [20, 100_000])
    async def test_is_refused_without_a_recursion_error(
        self, endpoints: Bodies, database_url: str, depth: int
    ):
        nested = b"[" * depth + b"]" * depth
        before = await written(database_url)

        got = {}
        for endpoint in ENDPOINTS:
            text = TEXT[endpoint] or DATE[endpoint]
            raw = b'{"' + text.encode() + b'": ' + nested + b"}"
            got[endpoint] = refusal(await endpoints.send(endpoint, content=raw, **JSON))

        assert {status for status, _ in got.values()} == {400}, got
        assert await written(database_url) == before

    async def test_says_how_deep_a_body_may_nest(self, endpoints: Bodies):
        raw = b'{"note": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

        refused = await endpoints.send("assistance", content=raw, **JSON)

        assert refused.json()["errors"][0]["code"] == "too_deep"


class TestAWrongContentType:
    @pytest.mark.parametrize(
        "content_type",
        [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
            "application/jsonx",
            "",
        ],
    )
    async def test_is_415_on_every_endpoint(
        self, endpoints: Bodies, database_url: str, content_type: str
    ):
        before = await written(database_url)

        got = {}
        for endpoint in ENDPOINTS:
            raw = json.dumps(body_of(endpoint)).encode()
            response = await endpoints.send(endpoint, content=raw, **{"content-type": content_type})
            got[endpoint] = refusal(response)

        assert got == dict.fromkeys(ENDPOINTS, (415, None))
        assert await written(database_url) == before


class TestABodyThatIsNotAnObjectOfTheCommand:
    @pytest.mark.parametrize(
        ("raw", "field"),
        [(b"", "body"), (b"null", "body"), (b"[]", "body"), (b"{", "body"), (b'"x"', "body")],
    )
    async def test_is_refused_on_every_endpoint(
        self, endpoints: Bodies, database_url: str, raw: bytes, field: str
    ):
        before = await written(database_url)

        got = {e: refusal(await endpoints.send(e, content=raw, **JSON)) for e in ENDPOINTS}

        assert got == dict.fromkeys(ENDPOINTS, (400, field))
        assert await written(database_url) == before

    async def test_with_an_unknown_field_is_refused_naming_it(
        self, endpoints: Bodies, database_url: str
    ):
        got = await refused_everywhere(
            endpoints, database_url, lambda e: {**body_of(e), "priority": "high"}
        )

        assert got == dict.fromkeys(ENDPOINTS, (400, "priority"))

    async def test_with_an_unknown_field_of_the_head_or_a_member_is_refused(
        self, endpoints: Bodies, database_url: str
    ):
        def case(endpoint: str) -> dict[str, Any] | None:
            if endpoint == APPLY:
                return with_value(body_of(APPLY), "head.salary", "1000")
            if endpoint == "verification":
                return with_value(body_of(endpoint), "members[0].salary", "1000")
            return None

        got = await refused_everywhere(endpoints, database_url, case)

        assert got == {APPLY: (400, "head.salary"), "verification": (400, "members[0].salary")}


# ------------------------------------------------------------------------------ numbers


class TestNumbersAsStrings:
    async def test_for_a_whole_number_are_refused(self, endpoints: Bodies, database_url: str):
        def case(endpoint: str) -> dict[str, Any] | None:
            field = WHOLE_NUMBER.get(endpoint)
            return None if field is None else with_value(body_of(endpoint), field, "6")

        got = await refused_everywhere(endpoints, database_url, case)

        assert got == expect(400, WHOLE_NUMBER)

    async def test_for_yes_or_no_are_refused(self, endpoints: Bodies, database_url: str):
        def case(endpoint: str) -> dict[str, Any] | None:
            field = YES_NO.get(endpoint)
            return None if field is None else with_value(body_of(endpoint), field, "true")

        got = await refused_everywhere(endpoints, database_url, case)

        assert got == expect(400, YES_NO)

    async def test_a_float_for_a_whole_number_is_refused(
        self, endpoints: Bodies, database_url: str
    ):
        def case(endpoint: str) -> dict[str, Any] | None:
            field = WHOLE_NUMBER.get(endpoint)
            return None if field is None else with_value(body_of(endpoint), field, 6.0)

        got = await refused_everywhere(endpoints, database_url, case)

        assert got == expect(400, WHOLE_NUMBER)


class TestMoney:
    """Money is documented as a decimal string (`"550.00"`), so a JSON number is refused: it has
    most likely been a binary float in the client, and would be one on the way in."""

    @pytest.mark.parametrize(
        "amount",
        [550, 550.5, 0.1, "NaN", "nan", "Infinity", "-Infinity", "-1", "-0.01", "1e3", "550.005"],
        ids=repr,
    )
    async def test_that_is_a_number_not_finite_negative_or_finer_than_a_fen_is_refused(
        self, endpoints: Bodies, database_url: str, amount: Any
    ):
        def case(endpoint: str) -> dict[str, Any] | None:
            field = MONEY.get(endpoint)
            return None if field is None else with_value(body_of(endpoint), field, amount)

        got = await refused_everywhere(endpoints, database_url, case)

        assert got == expect(400, MONEY)

    @pytest.mark.parametrize("amount", [550, "NaN", "-1"], ids=repr)
    async def test_of_a_member_is_held_to_the_same_rules(
        self, endpoints: Bodies, database_url: str, amount: Any
    ):
        body = with_value(verification(), "members[0].annual_income", amount)
        got = await refused_everywhere(
            endpoints, database_url, lambda e: body if e == "verification" else None
        )

        status, field = got["verification"]
        assert (status, field) in {
            (400, "members[0].annual_income"),
            (422, "members[0].annual_income"),
        }

    async def test_says_money_is_a_decimal_string(self, endpoints: Bodies):
        refused = await endpoints.send(
            "assistance", json=with_value(BODIES["assistance"], "amount", 800)
        )

        error = refused.json()["errors"][0]
        assert error["field"] == "amount"
        assert "string" in error["message"]

    @pytest.mark.parametrize("amount", ["800", "800.5", "800.50", "0"])
    async def test_as_a_decimal_string_of_yuan_and_fen_is_recorded_to_the_fen(
        self, api: Api, amount: str
    ):
        file_id = await file_in(api, "approved")

        done = await api.client.post(
            f"{API}/files/{file_id}/assistance",
            json={**BODIES["assistance"], "amount": amount},
            headers=doer(api, "assistance"),
        )

        assert done.status_code == 200, done.text
        assert done.json()["assistance_total"] == f"{float(amount):.2f}"


# ------------------------------------------------------------------------------ valid text


class TestTextOutsideTheBasicPlane:
    async def test_in_names_and_addresses_is_accepted_and_returned_as_sent(self, api: Api):
        head = {"name": "𠀀𪚥", "address": "抚宁区𠀀街𪚥号", "employer": "𪚥机械厂"}
        body = application()
        body["head"] = {**body["head"], **head}

        opened = await api.client.post(f"{API}/files", json=body, headers=doer(api, APPLY))
        read = await api.client.get(
            f"{API}/files/{opened.json()['id']}", headers=api.auth(DISTRICT, "approver")
        )

        assert opened.status_code == 201, opened.text
        assert read.json()["head"]["name"] == "𠀀𪚥"
        ledger_name = read.json()["head"]["name"]
        assert len(ledger_name) == 2  # two characters, not four UTF-16 halves

    async def test_in_members_investigators_and_helpers_is_accepted_and_returned(self, api: Api):
        file_id = await file_in(api, "applied")
        investigation = verification(investigators=["赵𠀀", "钱𪚥"])
        investigation["members"][0]["name"] = "王𪚥"

        verified = await api.client.post(
            f"{API}/files/{file_id}/verification",
            json=investigation,
            headers=doer(api, "verification"),
        )
        trail = await api.client.get(
            f"{API}/files/{file_id}/events", headers=api.auth(DISTRICT, "approver")
        )

        assert verified.status_code == 200, verified.text
        assert verified.json()["members"][0]["name"] == "王𪚥"
        fields = trail.json()["events"][-1]["fields"]
        assert fields["investigators"] == ["赵𠀀", "钱𪚥"]


class TestEmoji:
    """Emoji are text like 𠀀: accepted wherever text is, and returned as sent."""

    async def test_in_free_text_and_names_are_accepted_and_returned(self, api: Api):
        file_id = await file_in(api, "approved")
        body = {**BODIES["assistance"], "helper": "孙三🙂", "note": "春节慰问🧧🏮"}

        done = await api.client.post(
            f"{API}/files/{file_id}/assistance", json=body, headers=doer(api, "assistance")
        )
        trail = await api.client.get(
            f"{API}/files/{file_id}/events", headers=api.auth(DISTRICT, "approver")
        )

        assert done.status_code == 200, done.text
        last = trail.json()["events"][-1]["fields"]
        assert (last["helper"], last["note"]) == ("孙三🙂", "春节慰问🧧🏮")

    async def test_in_a_heads_name_is_accepted_and_returned(self, api: Api):
        body = application()
        body["head"]["name"] = "李👍"

        opened = await api.client.post(f"{API}/files", json=body, headers=doer(api, APPLY))

        assert opened.status_code == 201, opened.text
        assert opened.json()["head"]["name"] == "李👍"


class TestTheUnitsAndTokens:
    """The other JSON bodies are held to the same rules."""

    async def test_refuse_nul_overlong_and_wrongly_typed_values(self, api: Api, database_url: str):
        admin = api.auth(DISTRICT, "admin", **JSON)
        before = await written(database_url)
        conn = await asyncpg.connect(database_url)
        try:
            units_before = await conn.fetchval("SELECT count(*) FROM units")
        finally:
            await conn.close()

        got = [
            await api.client.post(
                f"{API}/units", json={"code": "130306099", "name": "新\x00"}, headers=admin
            ),
            await api.client.post(
                f"{API}/units", json={"code": 130306099, "name": "新工会"}, headers=admin
            ),
            await api.client.patch(
                f"{API}/units/{BASE}", json={"name": "x" * 1_000_000}, headers=admin
            ),
            await api.client.post(
                f"{API}/tokens",
                json={"user": "li", "unit": BASE, "role": "clerk", "ttl_seconds": "3600"},
                headers=admin,
            ),
        ]

        assert [refusal(r)[0] for r in got] == [400, 400, 400, 400]
        conn = await asyncpg.connect(database_url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM units") == units_before
            name = await conn.fetchval("SELECT name FROM units WHERE code = $1", BASE)
        finally:
            await conn.close()
        assert len(name) < 1000
        assert await written(database_url) == before
