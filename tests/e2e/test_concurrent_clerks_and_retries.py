"""Clerks racing on one file with `If-Match`, and clients retrying with `Idempotency-Key`:
no update is lost, none is applied twice, and the losers are told the version to start from."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    BODIES,
    application,
    assert_problem,
    doer,
    file_in,
    run,
)

APPROVED_VERSION = 4  # applied, verified, appraised, approved


async def assist(api: Api, file_id: str, **headers: str) -> Any:
    return await api.client.post(
        f"{API}/files/{file_id}/assistance",
        json=BODIES["assistance"],
        headers={**doer(api, "assistance"), **headers},
    )


async def trail(api: Api, file_id: str) -> list[dict[str, Any]]:
    response = await api.client.get(
        f"{API}/files/{file_id}/events", headers=api.auth(BASE, "clerk")
    )
    return list(response.json()["events"])


async def current_version(api: Api, file_id: str) -> int:
    response = await api.client.get(f"{API}/files/{file_id}", headers=api.auth(BASE, "clerk"))
    return int(response.json()["version"])


@asynccontextmanager
async def appends_held_back(database_url: str, writers: int) -> AsyncIterator[None]:
    """Hold every append to the events table until the `writers` requests are all waiting.

    An EXCLUSIVE table lock lets readers through but not inserts, so every request reads the
    same version, passes its `If-Match` check and then waits to append: at its INSERT, or — past
    the store's few appends in flight — in the store's queue to be merged into the next
    statement. On release they race at the store itself, where the primary key decides
    (adapters/pg/store.py). Released once the number of blocked inserts has stopped growing.
    """
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
            yield
            seen, steady = 0, 0
            for _ in range(1000):
                waiting = await conn.fetchval(
                    "SELECT count(*) FROM pg_locks"
                    " WHERE relation = 'events'::regclass AND NOT granted"
                )
                steady = steady + 1 if waiting == seen and waiting else 0
                seen = waiting
                if waiting >= writers or steady >= 30:
                    break
                await asyncio.sleep(0.01)
            assert 1 <= seen <= writers
    finally:
        await conn.close()


# ------------------------------------------------------------------------------ If-Match


class TestTwentyClerksPostingAssistanceOnTheSameVersion:
    async def test_exactly_one_is_applied_and_nineteen_are_refused_with_412(self, api: Api):
        file_id = await file_in(api, "approved")

        responses = await asyncio.gather(
            *(assist(api, file_id, **{"If-Match": f'"{APPROVED_VERSION}"'}) for _ in range(20))
        )

        assert Counter(r.status_code for r in responses) == {200: 1, 412: 19}

    async def test_the_file_goes_up_by_exactly_one_version_and_one_assistance(self, api: Api):
        file_id = await file_in(api, "approved")

        await asyncio.gather(
            *(assist(api, file_id, **{"If-Match": f'"{APPROVED_VERSION}"'}) for _ in range(20))
        )

        assert await current_version(api, file_id) == APPROVED_VERSION + 1
        assisted = [e for e in await trail(api, file_id) if e["type"] == "household.assisted"]
        assert len(assisted) == 1

    async def test_the_one_applied_answers_with_the_new_etag(self, api: Api):
        file_id = await file_in(api, "approved")

        responses = await asyncio.gather(
            *(assist(api, file_id, **{"If-Match": f'"{APPROVED_VERSION}"'}) for _ in range(20))
        )

        (applied,) = [r for r in responses if r.status_code == 200]
        assert applied.headers["etag"] == f'"{APPROVED_VERSION + 1}"'
        assert applied.json()["version"] == APPROVED_VERSION + 1


class TestAStaleIfMatch:
    async def test_is_refused_with_412_naming_the_current_version_and_its_etag(self, api: Api):
        file_id = await file_in(api, "approved")
        await assist(api, file_id)

        stale = await assist(api, file_id, **{"If-Match": f'"{APPROVED_VERSION}"'})

        problem = assert_problem(stale, 412)
        assert problem["code"] == "version_mismatch"
        assert problem["current_version"] == APPROVED_VERSION + 1
        assert stale.headers["etag"] == f'"{APPROVED_VERSION + 1}"'

    async def test_appends_nothing(self, api: Api):
        file_id = await file_in(api, "approved")

        await assist(api, file_id, **{"If-Match": f'"{APPROVED_VERSION - 1}"'})

        assert await current_version(api, file_id) == APPROVED_VERSION

    async def test_is_refused_even_when_it_names_a_version_from_the_future(self, api: Api):
        file_id = await file_in(api, "approved")

        ahead = await assist(api, file_id, **{"If-Match": f'"{APPROVED_VERSION + 1}"'})

        assert assert_problem(ahead, 412)["current_version"] == APPROVED_VERSION

    async def test_that_loses_the_race_at_the_store_still_gets_412(
        self, api: Api, database_url: str
    ):
        file_id = await file_in(api, "approved")
        racers = 5

        async with appends_held_back(database_url, racers):
            tasks = [
                asyncio.create_task(assist(api, file_id, **{"If-Match": f'"{APPROVED_VERSION}"'}))
                for _ in range(racers)
            ]
        responses = await asyncio.gather(*tasks)

        assert Counter(r.status_code for r in responses) == {200: 1, 412: racers - 1}
        assert await current_version(api, file_id) == APPROVED_VERSION + 1

    async def test_that_loses_the_race_at_the_store_is_told_the_current_version(
        self, api: Api, database_url: str
    ):
        file_id = await file_in(api, "approved")
        racers = 5

        async with appends_held_back(database_url, racers):
            tasks = [
                asyncio.create_task(assist(api, file_id, **{"If-Match": f'"{APPROVED_VERSION}"'}))
                for _ in range(racers)
            ]
        responses = await asyncio.gather(*tasks)

        losers = [r for r in responses if r.status_code == 412]
        assert [r.json().get("current_version") for r in losers] == [APPROVED_VERSION + 1] * 4
        assert [r.headers.get("etag") for r in losers] == [f'"{APPROVED_VERSION + 1}"'] * 4


class TestAMalformedIfMatch:
    async def test_is_refused_as_a_problem_and_appends_nothing(self, api: Api):
        file_id = await file_in(api, "approved")

        refused = [
            await assist(api, file_id, **{"If-Match": value})
            for value in ("abc", 'W/"4"', '"-1"', '"4.0"')
        ]

        assert [r.status_code for r in refused] == [422] * 4
        assert {assert_problem(r, 422)["code"] for r in refused} == {"invalid_value"}
        assert await current_version(api, file_id) == APPROVED_VERSION


# ------------------------------------------------------------------------------ Idempotency-Key


class TestARetryWithTheSameIdempotencyKey:
    async def test_gets_the_same_status_body_and_etag(self, api: Api):
        file_id = await file_in(api, "approved")

        first = await assist(api, file_id, **{"Idempotency-Key": "pay-2026-02-10"})
        retry = await assist(api, file_id, **{"Idempotency-Key": "pay-2026-02-10"})

        assert (retry.status_code, retry.content, retry.headers["etag"]) == (
            first.status_code,
            first.content,
            first.headers["etag"],
        )
        assert first.status_code == 200

    async def test_says_that_it_is_a_replay_and_the_first_answer_does_not(self, api: Api):
        file_id = await file_in(api, "approved")

        first = await assist(api, file_id, **{"Idempotency-Key": "pay-2026-02-10"})
        retry = await assist(api, file_id, **{"Idempotency-Key": "pay-2026-02-10"})

        assert "idempotent-replayed" not in first.headers
        assert retry.headers["idempotent-replayed"] == "true"

    async def test_appends_exactly_one_event(self, api: Api):
        file_id = await file_in(api, "approved")

        for _ in range(3):
            await assist(api, file_id, **{"Idempotency-Key": "pay-2026-02-10"})

        assert await current_version(api, file_id) == APPROVED_VERSION + 1

    async def test_of_ten_concurrent_requests_appends_one_event_and_answers_alike(self, api: Api):
        file_id = await file_in(api, "approved")

        responses = await asyncio.gather(
            *(assist(api, file_id, **{"Idempotency-Key": "pay-2026-02-10"}) for _ in range(10))
        )

        assert {(r.status_code, r.content, r.headers["etag"]) for r in responses} == {
            (200, responses[0].content, f'"{APPROVED_VERSION + 1}"')
        }
        assert Counter(r.headers.get("idempotent-replayed") for r in responses) == {
            None: 1,
            "true": 9,
        }
        assert await current_version(api, file_id) == APPROVED_VERSION + 1

    async def test_from_another_clerk_is_a_request_of_its_own(self, api: Api):
        file_id = await file_in(api, "approved")

        await assist(api, file_id, **{"Idempotency-Key": "pay-2026-02-10"})
        other = await api.client.post(
            f"{API}/files/{file_id}/assistance",
            json=BODIES["assistance"],
            headers=api.auth(BASE, "clerk", "clerk-zhou", **{"Idempotency-Key": "pay-2026-02-10"}),
        )

        assert other.status_code == 200
        assert "idempotent-replayed" not in other.headers
        assert await current_version(api, file_id) == APPROVED_VERSION + 2


class TestAnIdempotencyKeyReusedForADifferentBody:
    async def test_is_refused_naming_the_rule(self, api: Api):
        file_id = await file_in(api, "approved")
        await assist(api, file_id, **{"Idempotency-Key": "pay-2026-02-10"})

        reused = await api.client.post(
            f"{API}/files/{file_id}/assistance",
            json={**BODIES["assistance"], "amount": "900.00"},
            headers={**doer(api, "assistance"), "Idempotency-Key": "pay-2026-02-10"},
        )

        problem = assert_problem(reused, 422)
        assert problem["rule"] == "idempotency_key_reused"

    async def test_appends_nothing(self, api: Api):
        file_id = await file_in(api, "approved")
        await assist(api, file_id, **{"Idempotency-Key": "pay-2026-02-10"})

        await api.client.post(
            f"{API}/files/{file_id}/assistance",
            json={**BODIES["assistance"], "amount": "900.00"},
            headers={**doer(api, "assistance"), "Idempotency-Key": "pay-2026-02-10"},
        )

        assisted = [e for e in await trail(api, file_id) if e["type"] == "household.assisted"]
        assert [e["fields"]["amount"] for e in assisted] == ["800.00"]
        assert await current_version(api, file_id) == APPROVED_VERSION + 1


class TestARefusedCommandWithAnIdempotencyKey:
    async def test_is_judged_afresh_when_retried(self, api: Api):
        file_id = await file_in(api, "applied")  # assistance needs an approved file

        refused = await assist(api, file_id, **{"Idempotency-Key": "early"})
        for command in ("verification", "appraisal", "approval"):
            await run(api, file_id, command)
        retried = await assist(api, file_id, **{"Idempotency-Key": "early"})

        assert refused.status_code == 409
        assert retried.status_code == 200
        assert "idempotent-replayed" not in retried.headers


class TestOpeningAFileWithAnIdempotencyKey:
    async def test_retried_opens_one_file(self, api: Api, database_url: str):
        body = application()
        headers = {**doer(api, "apply"), "Idempotency-Key": "application-0001"}

        first = await api.client.post(f"{API}/files", json=body, headers=headers)
        retry = await api.client.post(f"{API}/files", json=body, headers=headers)

        assert (first.status_code, retry.status_code) == (201, 201)
        assert retry.json()["id"] == first.json()["id"]
        assert retry.headers["location"] == first.headers["location"]
        conn = await asyncpg.connect(database_url)  # this test's own database: count is exact
        try:
            opened = await conn.fetchval(
                "SELECT count(*) FROM events WHERE type = 'household.applied'"
            )
        finally:
            await conn.close()
        assert opened == 1
