"""A district decides by the rules in force (docs/rules.md): the regional parameters judge each
decision, a file due to exit takes no regular aid until an approver keeps it, a re-check's new
category waits on the approvals queue, and civil-affairs findings and 回头看 visits are recorded."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    BODIES,
    DISTRICT,
    FOUND_A_CAR,
    application,
    assert_problem,
    doer,
    file_in,
    open_file,
    run,
    verification,
)
from tests.e2e.read_model_helpers import projected

pytestmark = pytest.mark.slow


async def post(api: Api, file_id: str, command: str, body: dict[str, Any]) -> Any:
    return await api.client.post(
        f"{API}/files/{file_id}/{command}", json=body, headers=doer(api, command)
    )


async def listed(api: Api, path: str, **params: Any) -> list[str]:
    await projected(api)
    answered = await api.client.get(
        f"{API}/{path}", params=params, headers=api.auth(DISTRICT, "approver")
    )
    assert answered.status_code == 200, answered.text
    return [item["file_id"] for item in answered.json()["items"]]


class TestTheRegionalParameters:
    async def test_refuse_a_poverty_line_other_than_the_one_in_force_naming_it(self, api: Api):
        file_id = await open_file(api)

        answered = await post(api, file_id, "verification", verification(poverty_line="5000"))

        problem = assert_problem(answered, 422)
        assert problem["rule"] == "poverty_line_in_force"
        assert "550.00" in problem["detail"]

    async def test_judge_a_verification_sent_without_a_line(self, api: Api):
        file_id = await open_file(api)

        answered = await post(api, file_id, "verification", verification())

        assert answered.status_code == 200, answered.text

    async def test_missing_in_a_region_refuse_the_decision_saying_how_to_set_them(self, api: Api):
        created = await api.client.post(
            f"{API}/files",
            json=application(region="140100"),  # a region of Shanxi: no parameters here
            headers=doer(api, "apply"),
        )
        assert created.status_code == 201, created.text

        answered = await post(api, created.json()["id"], "verification", verification())

        problem = assert_problem(answered, 422)
        assert problem["rule"] == "regional_parameters_in_force"
        assert "140100" in problem["detail"]
        assert "POST /api/v1/policies/140100" in problem["detail"]


class TestAFileDueToExit:
    async def test_is_listed_takes_only_emergency_aid_and_is_kept_by_an_approver(self, api: Api):
        file_id = await file_in(api, "approved")
        await run(api, file_id, "revisions", **FOUND_A_CAR)

        due = await listed(api, "due", kind="exit", unit=BASE)
        regular = await post(api, file_id, "assistance", BODIES["assistance"])
        emergency = await post(
            api, file_id, "assistance", {**BODIES["assistance"], "emergency": True}
        )
        kept = await post(api, file_id, "keep", BODIES["keep"])
        after = await listed(api, "due", kind="exit", unit=BASE)

        assert due == [file_id]
        assert assert_problem(regular, 422)["rule"] == "exit_due_no_regular_aid"
        assert emergency.status_code == 200, emergency.text
        assert kept.status_code == 200, kept.text
        assert after == []

    async def test_is_not_kept_by_a_clerk(self, api: Api):
        file_id = await file_in(api, "approved")
        await run(api, file_id, "revisions", **FOUND_A_CAR)

        answered = await api.client.post(
            f"{API}/files/{file_id}/keep", json=BODIES["keep"], headers=doer(api, "assistance")
        )

        assert assert_problem(answered, 403)["rule"] == "role"


class TestACategoryFoundByARecheck:
    async def test_waits_on_the_approvals_queue_until_an_approver_confirms_it(self, api: Api):
        file_id = await file_in(api, "approved")
        await run(api, file_id, "revisions")  # 783 a month: relative hardship at 550
        await run(api, file_id, "rechecks")

        queued = await listed(api, "queues/approvals", unit=BASE)
        before = (await api.client.get(f"{API}/files/{file_id}", headers=doer(api, "plan"))).json()
        confirmed = await post(
            api, file_id, "category-confirmations", BODIES["category-confirmations"]
        )
        queued_after = await listed(api, "queues/approvals", unit=BASE)

        assert file_id in queued
        assert before["category"] == "deep"
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["category"] == "relative"
        assert file_id not in queued_after


class TestFactsFoundLater:
    async def test_a_civil_affairs_finding_is_checked_and_a_household_followed_up(self, api: Api):
        approved = await file_in(api, "approved")
        exited = await file_in(api, "out_of_hardship")

        checked = await post(api, approved, "finding-checks", BODIES["finding-checks"])
        followed = await post(
            api,
            exited,
            "follow-ups",
            {**BODIES["follow-ups"], "result": "back_in_hardship", "cause": "illness"},
        )

        assert checked.status_code == 200, checked.text
        assert followed.status_code == 200, followed.text
        assert followed.json()["status"] == "returned"
