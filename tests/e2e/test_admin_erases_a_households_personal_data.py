"""An admin erases a household's personal data on request (销毁个人信息): the file's data key is
destroyed, so its personal data reads 已销毁 everywhere — unmasked too — while the file, its
figures and its trail stay, and the file accepts nothing more."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from adapters.pg.store import PostgresEventStore
from domain.privacy import ERASED
from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BANK_CARD,
    BASE,
    DISTRICT,
    JSON,
    OTHER_DISTRICT,
    PHONE,
    assert_problem,
    doer,
    file_in,
)
from tests.e2e.read_model_helpers import projected

REASON = {"reason": "本人依《个人信息保护法》申请删除个人信息"}
PURPOSE = {"X-Bangfu-Purpose": "checking the erasure"}


def admin(api: Api, unit: str = DISTRICT) -> dict[str, str]:
    return api.auth(unit, "admin", "admin-zhao", **JSON)


def approver(api: Api, **headers: str) -> dict[str, str]:
    return api.auth(DISTRICT, "approver", "approver-wang", **headers)


async def erase(api: Api, file_id: str, headers: dict[str, str] | None = None) -> Any:
    return await api.client.post(
        f"{API}/files/{file_id}/erasure", json=REASON, headers=headers or admin(api)
    )


async def unmasked(api: Api, file_id: str) -> dict[str, Any]:
    read = await api.client.get(
        f"{API}/files/{file_id}?unmask=true", headers=approver(api, **PURPOSE)
    )
    assert read.status_code == 200, read.text
    return dict(read.json())


@pytest.fixture
async def closed(api: Api) -> str:
    return await file_in(api, "out_of_hardship")


class TestAnErasure:
    async def test_answers_with_the_files_new_version(self, api: Api, closed: str):
        erased = await erase(api, closed)

        assert erased.status_code == 200, erased.text
        # applied … approved, the revision a 脱困 rests on (issue 13), exited; the erasure is 7
        assert erased.json()["version"] == 7
        assert erased.json()["plaintext_events"] == 0

    async def test_leaves_the_personal_data_erased_even_for_a_reader_who_may_unmask(
        self, api: Api, closed: str
    ):
        before = await unmasked(api, closed)
        assert before["head"]["phone"] == PHONE

        await erase(api, closed)

        after = await unmasked(api, closed)
        assert {k: after["head"][k] for k in ("name", "id_number", "phone", "bank_card")} == {
            "name": ERASED,
            "id_number": ERASED,
            "phone": ERASED,
            "bank_card": ERASED,
        }
        assert {(m["name"], m["id_number"]) for m in after["members"]} == {(ERASED, ERASED)}
        assert (after["status"], after["assistance_total"]) == (
            before["status"],
            before["assistance_total"],
        )

    async def test_leaves_every_earlier_event_of_the_trail_erased(self, api: Api, closed: str):
        await erase(api, closed)

        trail = await api.client.get(
            f"{API}/files/{closed}/events?unmask=true", headers=approver(api, **PURPOSE)
        )

        assert BANK_CARD not in trail.text
        assert PHONE not in trail.text
        applied = trail.json()["events"][0]
        assert applied["fields"]["head"]["id_number"] == ERASED

    async def test_is_in_the_trail_with_who_when_and_why(self, api: Api, closed: str):
        await erase(api, closed)

        trail = await api.client.get(f"{API}/files/{closed}/events", headers=approver(api))

        last = trail.json()["events"][-1]
        assert last["type"] == "household.personal_data_erased"
        assert last["actor"] == {"user": "admin-zhao", "unit": DISTRICT, "role": "admin"}
        assert last["fields"]["reason"] == REASON["reason"]

    async def test_leaves_the_ledger_row_with_markers(self, api: Api, closed: str):
        await erase(api, closed)
        await projected(api)

        page = await api.client.get(f"{API}/ledger?unit={BASE}", headers=approver(api))

        (row,) = [r for r in page.json()["items"] if r["file_id"] == closed]
        assert (row["head_name"], row["id_masked"], row["status"]) == (
            ERASED,
            ERASED,
            "out_of_hardship",
        )

    async def test_leaves_every_hash_chain_intact(
        self, api: Api, closed: str, store: PostgresEventStore
    ):
        await erase(api, closed)

        assert (await store.verify()).ok

    async def test_destroys_the_files_key(self, api: Api, closed: str, pool: asyncpg.Pool):
        await erase(api, closed)

        row = await pool.fetchrow(
            "SELECT wrapped, shredded_at IS NOT NULL FROM personal_keys WHERE stream_id = $1::uuid",
            closed,
        )
        assert tuple(row) == (None, True)


class TestAnErasedFile:
    async def test_accepts_no_command(self, api: Api, closed: str):
        await erase(api, closed)

        again = await api.client.post(
            f"{API}/files/{closed}/return",
            json={"returned_on": "2026-10-01", "reason": "突发重病", "cause": "illness"},
            headers=doer(api, "return"),
        )

        assert_problem(again, 409)

    async def test_is_not_erased_twice(self, api: Api, closed: str):
        await erase(api, closed)

        assert_problem(await erase(api, closed), 409)


class TestAnErasureIsRefused:
    async def test_on_an_open_file(self, api: Api):
        file_id = await file_in(api, "approved")

        assert_problem(await erase(api, file_id), 409)

    @pytest.mark.parametrize("role", ["approver", "inspector", "clerk"])
    async def test_to_any_role_but_admin(self, api: Api, closed: str, role: str):
        unit = BASE if role == "clerk" else DISTRICT

        refused = await erase(api, closed, api.auth(unit, role, **JSON))

        assert assert_problem(refused, 403)["rule"] == "role"

    async def test_to_an_admin_of_a_base_level_union(self, api: Api, closed: str):
        refused = await erase(api, closed, admin(api, BASE))

        assert assert_problem(refused, 403)["rule"] == "district_or_above"

    async def test_as_not_found_outside_the_admins_subtree(self, api: Api, closed: str):
        assert_problem(await erase(api, closed, admin(api, OTHER_DISTRICT)), 404)

    @pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x" * 201}])
    async def test_without_a_reason(self, api: Api, closed: str, body: dict[str, str]):
        refused = await api.client.post(
            f"{API}/files/{closed}/erasure", json=body, headers=admin(api)
        )

        assert_problem(refused, 400)
        still = await unmasked(api, closed)
        assert still["head"]["phone"] == PHONE


class TestTheResponsesKeptForRetries:
    async def test_of_the_file_are_deleted_with_its_personal_data(
        self, api: Api, pool: asyncpg.Pool
    ):
        file_id = await file_in(api, "approved")
        retried = await api.client.post(
            f"{API}/files/{file_id}/exit",
            json={
                "exited_on": "2026-09-01",
                "kind": "cancelled",
                "reason": "moved",
                "explanation": "迁出本地",
                "evidence": ["户口迁移证明"],
            },
            headers={**doer(api, "exit"), "Idempotency-Key": "exit-1"},
        )
        assert retried.status_code == 200, retried.text
        kept = "SELECT count(*) FROM idempotency_keys WHERE key = 'exit-1'"
        assert await pool.fetchval(kept) == 1

        await erase(api, file_id)

        assert await pool.fetchval(kept) == 0
