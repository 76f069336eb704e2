"""Personal data is masked in every response; an approver or inspector in scope may unmask it
for a stated purpose, and that read is itself recorded in the file's trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BANK_CARD,
    BASE,
    BODIES,
    DISTRICT,
    JSON,
    OTHER_DISTRICT,
    PHONE,
    PROVINCE,
    application,
    assert_problem,
    doer,
    verification,
)

PURPOSE = "X-Bangfu-Purpose"


def masked_id(value: str) -> str:
    return value[:6] + "********" + value[-4:]


MASKED_PHONE = "139****5678"
MASKED_CARD = "*" * 15 + "0123"


@dataclass(frozen=True)
class Household:
    """A file opened and investigated over HTTP, with the personal data it was given."""

    id: str
    head_id: str
    member_id: str
    opened: Any  # the answers to the two commands
    verified: Any


@pytest.fixture
async def household(api: Api) -> Household:
    body, investigation = application(), verification()
    opened = await api.client.post(f"{API}/files", json=body, headers=doer(api, "apply"))
    file_id = opened.json()["id"]
    verified = await api.client.post(
        f"{API}/files/{file_id}/verification",
        json=investigation,
        headers=doer(api, "verification"),
    )
    assert (opened.status_code, verified.status_code) == (201, 200), verified.text
    return Household(
        file_id,
        body["head"]["id_number"],
        investigation["members"][0]["id_number"],
        opened,
        verified,
    )


def approver(api: Api, **headers: str) -> dict[str, str]:
    return api.auth(DISTRICT, "approver", "approver-wang", **headers)


async def trail(api: Api, file_id: str) -> list[dict[str, Any]]:
    response = await api.client.get(f"{API}/files/{file_id}/events", headers=approver(api))
    return list(response.json()["events"])


async def disclosures(api: Api, file_id: str) -> list[dict[str, Any]]:
    return [e for e in await trail(api, file_id) if e["type"] == "access.unmasked"]


# ------------------------------------------------------------------------------ by default


class TestByDefault:
    async def test_a_file_shows_the_heads_id_phone_and_card_masked(
        self, api: Api, household: Household
    ):
        read = await api.client.get(f"{API}/files/{household.id}", headers=approver(api))

        head = read.json()["head"]
        assert (head["id_number"], head["phone"], head["bank_card"]) == (
            masked_id(household.head_id),
            MASKED_PHONE,
            MASKED_CARD,
        )
        assert read.json()["masked"] is True

    async def test_a_file_shows_the_members_id_masked(self, api: Api, household: Household):
        read = await api.client.get(f"{API}/files/{household.id}", headers=approver(api))

        assert [m["id_number"] for m in read.json()["members"]] == [masked_id(household.member_id)]

    async def test_the_answers_to_commands_are_masked_too(self, api: Api, household: Household):
        opened, verified = household.opened.json(), household.verified.json()

        assert (opened["head"]["id_number"], opened["head"]["phone"]) == (
            masked_id(household.head_id),
            MASKED_PHONE,
        )
        assert opened["head"]["bank_card"] == MASKED_CARD
        assert verified["members"][0]["id_number"] == masked_id(household.member_id)

    async def test_the_trail_masks_the_head_and_the_members_in_event_fields(
        self, api: Api, household: Household
    ):
        applied, verified = await trail(api, household.id)

        head = applied["fields"]["head"]
        assert (head["id_number"], head["phone"], head["bank_card"]) == (
            masked_id(household.head_id),
            MASKED_PHONE,
            MASKED_CARD,
        )
        assert verified["fields"]["members"][0]["id_number"] == masked_id(household.member_id)

    async def test_no_full_value_appears_anywhere_in_a_file_or_its_trail(
        self, api: Api, household: Household
    ):
        read = await api.client.get(f"{API}/files/{household.id}", headers=approver(api))
        events = await api.client.get(f"{API}/files/{household.id}/events", headers=approver(api))

        for text in (read.text, events.text, household.opened.text, household.verified.text):
            for secret in (household.head_id, household.member_id, PHONE, BANK_CARD):
                assert secret not in text


# ------------------------------------------------------------------------------ asking to unmask


class TestUnmaskingWithoutAPurpose:
    async def test_is_refused_naming_the_purpose(self, api: Api, household: Household):
        refused = await api.client.get(
            f"{API}/files/{household.id}", params={"unmask": "true"}, headers=approver(api)
        )

        problem = assert_problem(refused, 422)
        assert [e["field"] for e in problem["errors"]] == ["purpose"]
        assert household.head_id not in refused.text

    async def test_of_an_empty_purpose_is_refused_too(self, api: Api, household: Household):
        refused = await api.client.get(
            f"{API}/files/{household.id}",
            params={"unmask": "true"},
            headers=approver(api, **{PURPOSE: ""}),
        )

        assert_problem(refused, 422)

    async def test_records_nothing(self, api: Api, household: Household):
        await api.client.get(
            f"{API}/files/{household.id}", params={"unmask": "true"}, headers=approver(api)
        )
        await api.client.get(
            f"{API}/files/{household.id}/events", params={"unmask": "true"}, headers=approver(api)
        )

        assert await disclosures(api, household.id) == []


class TestAnApproverInScopeUnmaskingForAPurpose:
    async def test_gets_the_full_values(self, api: Api, household: Household):
        read = await api.client.get(
            f"{API}/files/{household.id}",
            params={"unmask": "true"},
            headers=approver(api, **{PURPOSE: "spot check 2026-11"}),
        )

        body = read.json()
        assert (body["head"]["id_number"], body["head"]["phone"], body["head"]["bank_card"]) == (
            household.head_id,
            PHONE,
            BANK_CARD,
        )
        assert [m["id_number"] for m in body["members"]] == [household.member_id]
        assert body["masked"] is False

    async def test_is_recorded_in_the_files_trail_with_who_when_and_why(
        self, api: Api, household: Household
    ):
        before = datetime.now(UTC)

        await api.client.get(
            f"{API}/files/{household.id}",
            params={"unmask": "true"},
            headers=approver(api, **{PURPOSE: "spot check 2026-11"}),
        )

        after = datetime.now(UTC)
        (recorded,) = await disclosures(api, household.id)
        assert recorded["refers_to"] == household.id
        assert recorded["actor"] == {"user": "approver-wang", "unit": DISTRICT, "role": "approver"}
        assert before <= datetime.fromisoformat(recorded["recorded_at"]) <= after
        assert recorded["fields"]["purpose"] == "spot check 2026-11"
        assert recorded["fields"]["view"] == "file"

    async def test_is_recorded_after_the_events_it_disclosed(self, api: Api, household: Household):
        await api.client.get(
            f"{API}/files/{household.id}",
            params={"unmask": "true"},
            headers=approver(api, **{PURPOSE: "spot check 2026-11"}),
        )

        types = [e["type"] for e in await trail(api, household.id)]

        assert types == ["household.applied", "household.verified", "access.unmasked"]

    async def test_of_the_trail_gives_full_values_and_is_recorded_as_such(
        self, api: Api, household: Household
    ):
        events = await api.client.get(
            f"{API}/files/{household.id}/events",
            params={"unmask": "true"},
            headers=approver(api, **{PURPOSE: "reconcile the paper ledger"}),
        )

        applied = events.json()["events"][0]
        assert applied["fields"]["head"]["id_number"] == household.head_id
        assert events.json()["masked"] is False
        (recorded,) = await disclosures(api, household.id)
        assert (recorded["fields"]["view"], recorded["fields"]["purpose"]) == (
            "events",
            "reconcile the paper ledger",
        )

    async def test_each_read_is_recorded_once(self, api: Api, household: Household):
        for purpose in ("first look", "second look"):
            await api.client.get(
                f"{API}/files/{household.id}",
                params={"unmask": "true"},
                headers=approver(api, **{PURPOSE: purpose}),
            )

        recorded = await disclosures(api, household.id)

        assert [e["fields"]["purpose"] for e in recorded] == ["first look", "second look"]

    async def test_may_state_the_purpose_in_chinese(self, api: Api, household: Household):
        await api.client.get(
            f"{API}/files/{household.id}",
            params={"unmask": "true"},
            headers={**approver(api), PURPOSE: "抽查核对".encode()},  # type: ignore[dict-item]
        )

        (recorded,) = await disclosures(api, household.id)

        assert recorded["fields"]["purpose"] == "抽查核对"


class TestAProvinceInspectorUnmaskingForAPurpose:
    async def test_gets_the_full_values_and_is_recorded(self, api: Api, household: Household):
        read = await api.client.get(
            f"{API}/files/{household.id}",
            params={"unmask": "true"},
            headers=api.auth(PROVINCE, "inspector", "inspector-zhao", **{PURPOSE: "audit"}),
        )

        assert read.json()["head"]["id_number"] == household.head_id
        (recorded,) = await disclosures(api, household.id)
        assert recorded["actor"] == {
            "user": "inspector-zhao",
            "unit": PROVINCE,
            "role": "inspector",
        }


class TestAClerkAskingToUnmask:
    async def test_is_refused_by_role_and_nothing_is_recorded(self, api: Api, household: Household):
        refused = await api.client.get(
            f"{API}/files/{household.id}",
            params={"unmask": "true"},
            headers=api.auth(BASE, "clerk", **{PURPOSE: "curious"}),
        )

        assert assert_problem(refused, 403)["rule"] == "role"
        assert household.head_id not in refused.text
        assert await disclosures(api, household.id) == []


class TestAnApproverOfAnotherDistrictAskingToUnmask:
    async def test_finds_no_file_and_nothing_is_recorded(self, api: Api, household: Household):
        refused = await api.client.get(
            f"{API}/files/{household.id}",
            params={"unmask": "true"},
            headers=api.auth(OTHER_DISTRICT, "approver", **{PURPOSE: "audit"}),
        )

        assert_problem(refused, 404)
        assert await disclosures(api, household.id) == []


class TestACommandsAnswer:
    async def test_stays_masked_even_when_unmasking_is_asked_for(
        self, api: Api, household: Household
    ):
        appraised = await api.client.post(
            f"{API}/files/{household.id}/appraisal",
            params={"unmask": "true"},
            json=BODIES["appraisal"],
            headers=api.auth(BASE, "clerk", **JSON, **{PURPOSE: "curious"}),
        )

        assert appraised.status_code == 200
        assert appraised.json()["head"]["id_number"] == masked_id(household.head_id)
        assert await disclosures(api, household.id) == []
