"""An inspector replays a file as it stood at a version or at a recorded time, and reads its
trail: every event with its type, business fields, actor, recorded time, version and hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    DISTRICT,
    HEX64,
    PROVINCE,
    assert_problem,
    file_in,
    run,
)

BEIJING = timezone(timedelta(hours=8))
# the steps file_in("approved") takes, then one assistance: versions 1 to 5
HISTORY = ["applied", "verified", "appraised", "approved", "approved"]


@pytest.fixture
async def assisted_file(api: Api) -> str:
    file_id = await file_in(api, "approved")
    await run(api, file_id, "assistance")
    return file_id


def inspector(api: Api) -> dict[str, str]:
    return api.auth(PROVINCE, "inspector", "inspector-zhao")


async def read(api: Api, file_id: str, **params: Any) -> Any:
    return await api.client.get(f"{API}/files/{file_id}", params=params, headers=inspector(api))


async def events(api: Api, file_id: str) -> list[dict[str, Any]]:
    response = await api.client.get(f"{API}/files/{file_id}/events", headers=inspector(api))
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def parse(recorded_at: str) -> datetime:
    return datetime.fromisoformat(recorded_at.replace("Z", "+00:00"))


class TestReadingAVersion:
    async def test_gives_the_file_as_it_stood_at_that_version(self, api: Api, assisted_file: str):
        got = {n: await read(api, assisted_file, version=n) for n in range(1, 6)}

        assert [r.json()["status"] for r in got.values()] == HISTORY
        assert [r.json()["version"] for r in got.values()] == [1, 2, 3, 4, 5]
        assert [r.headers["etag"] for r in got.values()] == ['"1"', '"2"', '"3"', '"4"', '"5"']

    async def test_leaves_out_what_happened_later(self, api: Api, assisted_file: str):
        verified = await read(api, assisted_file, version=2)

        body = verified.json()
        assert body["verified_on"] == "2026-01-10"
        assert (body["approved_on"], body["category"], body["assistance_count"]) == (None, None, 0)

    async def test_beyond_the_current_version_gives_the_current_version_and_says_so(
        self, api: Api, assisted_file: str
    ):
        beyond = await read(api, assisted_file, version=99)

        # The repository reads "up to" the version asked for, so the newest state comes back;
        # the body and the ETag name the version it really is, never the one asked for.
        assert beyond.status_code == 200
        assert beyond.json()["version"] == 5
        assert beyond.headers["etag"] == '"5"'

    async def test_beyond_what_a_version_can_be_is_not_a_server_error(
        self, api: Api, assisted_file: str
    ):
        huge = await read(api, assisted_file, version=2**31)

        assert 400 <= huge.status_code < 500

    async def test_of_zero_is_refused_naming_the_parameter(self, api: Api, assisted_file: str):
        zero = await read(api, assisted_file, version=0)

        problem = assert_problem(zero, 400)
        assert [e["field"] for e in problem["errors"]] == ["version"]


class TestReadingAsOfARecordedTime:
    async def test_at_the_recorded_time_of_an_event_gives_the_version_of_that_event(
        self, api: Api, assisted_file: str
    ):
        trail = await events(api, assisted_file)

        got = [await read(api, assisted_file, as_of=e["recorded_at"]) for e in trail]

        assert [r.headers["etag"] for r in got] == ['"1"', '"2"', '"3"', '"4"', '"5"']
        assert [r.json()["status"] for r in got] == HISTORY

    async def test_in_beijing_time_means_the_same_instant(self, api: Api, assisted_file: str):
        third = (await events(api, assisted_file))[2]
        beijing = parse(third["recorded_at"]).astimezone(BEIJING).isoformat()

        got = await read(api, assisted_file, as_of=beijing)

        assert got.headers["etag"] == '"3"'

    async def test_between_two_events_gives_the_earlier(self, api: Api, assisted_file: str):
        trail = await events(api, assisted_file)
        just_before_the_fourth = parse(trail[3]["recorded_at"]) - timedelta(microseconds=1)

        got = await read(api, assisted_file, as_of=just_before_the_fourth.isoformat())

        assert got.headers["etag"] == '"3"'

    async def test_before_the_first_event_finds_no_file(self, api: Api, assisted_file: str):
        first = (await events(api, assisted_file))[0]
        before = parse(first["recorded_at"]) - timedelta(microseconds=1)

        got = await read(api, assisted_file, as_of=before.isoformat())

        assert assert_problem(got, 404)["code"] == "not_found"

    async def test_that_is_not_a_timestamp_is_refused_naming_the_parameter(
        self, api: Api, assisted_file: str
    ):
        got = await read(api, assisted_file, as_of="yesterday")

        problem = assert_problem(got, 400)
        assert [e["field"] for e in problem["errors"]] == ["as_of"]

    async def test_is_still_limited_to_the_callers_subtree(self, api: Api, assisted_file: str):
        first = (await events(api, assisted_file))[0]

        got = await api.client.get(
            f"{API}/files/{assisted_file}",
            params={"as_of": first["recorded_at"]},
            headers=api.auth("1301", "inspector"),
        )

        assert_problem(got, 404)


class TestTheTrail:
    async def test_lists_every_event_in_version_order_with_its_type(
        self, api: Api, assisted_file: str
    ):
        trail = await events(api, assisted_file)

        assert [(e["version"], e["type"]) for e in trail] == [
            (1, "household.applied"),
            (2, "household.verified"),
            (3, "household.appraised"),
            (4, "household.approved"),
            (5, "household.assisted"),
        ]
        assert {e["stream_id"] for e in trail} == {assisted_file}

    async def test_names_who_did_each_step(self, api: Api, assisted_file: str):
        trail = await events(api, assisted_file)

        assert [e["actor"] for e in trail] == [
            {"user": "clerk-li", "unit": BASE, "role": "clerk"},
            {"user": "clerk-li", "unit": BASE, "role": "clerk"},
            {"user": "clerk-li", "unit": BASE, "role": "clerk"},
            {"user": "approver-wang", "unit": DISTRICT, "role": "approver"},
            {"user": "clerk-li", "unit": BASE, "role": "clerk"},
        ]

    async def test_gives_the_business_fields_of_each_event_without_the_actor(
        self, api: Api, assisted_file: str
    ):
        trail = await events(api, assisted_file)

        approved, assisted = trail[3]["fields"], trail[4]["fields"]
        assert (approved["approved_on"], approved["file_level"], approved["category"]) == (
            "2026-01-25",
            "district",
            "deep",
        )
        assert assisted == {
            "assisted_on": "2026-02-10",
            "kind": "living_aid",
            "amount": "800.00",
            "department": "union",
            "helper": "孙三",
            "note": "",
            "emergency": None,  # regular aid (issue 13: emergency aid is recorded as such)
        }
        assert all("actor" not in e["fields"] for e in trail)

    async def test_gives_each_event_its_recorded_time_in_order(self, api: Api, assisted_file: str):
        before = datetime.now(UTC)

        trail = await events(api, assisted_file)

        times = [parse(e["recorded_at"]) for e in trail]
        assert times == sorted(times)
        assert all(t.tzinfo is not None and t <= before for t in times)

    async def test_gives_each_event_a_distinct_64_hex_hash(self, api: Api, assisted_file: str):
        trail = await events(api, assisted_file)

        hashes = [e["hash"] for e in trail]
        assert all(HEX64.match(h) for h in hashes), hashes
        assert len(set(hashes)) == len(hashes)

    async def test_carries_the_current_version_as_its_etag(self, api: Api, assisted_file: str):
        response = await api.client.get(
            f"{API}/files/{assisted_file}/events", headers=inspector(api)
        )

        assert response.json()["version"] == 5
        assert response.headers["etag"] == '"5"'
