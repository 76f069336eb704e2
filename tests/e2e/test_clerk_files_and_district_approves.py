"""A household's whole life over HTTP: filed, investigated, appraised, approved, helped, exited,
returned and approved again — and the trail shows all of it with the right actors."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.builders import person_id
from tests.conftest import Api

BASE, DISTRICT, PROVINCE = "130306001", "130306", "13"
JSON = {"content-type": "application/json"}


def application() -> dict[str, Any]:
    return {
        "establishing_unit": BASE,
        "worker_kind": "urban",
        "head": {
            "name": "张𠀀",
            "id_number": person_id(),
            "phone": "13912345678",
            "bank_card": "6222021234567890123",
        },
        "applied_on": "2026-01-05",
        "authorisation_signed": True,
        "statement": "妻子患病，收入低",
    }


VERIFICATION = {
    "verified_on": "2026-01-10",
    "investigators": ["赵立新", "钱丽华"],
    "members": [
        {
            "name": "王𪚥",
            "relation": "spouse",
            # born on another day than the head: `person_id`'s sequence wraps at 1,000, so a
            # number drawn at import could come back as the head's in a long session
            "id_number": person_id(born=date(1980, 2, 3)),
            "status": "unemployed",
        }
    ],
    "annual_income": "9600",
    "rigid_expenses": "1200",
    "primary_cause": "illness",
    "poverty_line": "550",  # the line in force (tests/parameters.py); it may be left out
}
APPRAISAL = {
    "appraised_on": "2026-01-12",
    "minutes_on_file": True,
    "publicity_start": "2026-01-13",
    "publicity_end": "2026-01-20",
}
APPROVAL = {"approved_on": "2026-01-25", "file_level": "district", "poverty_line": "550"}


async def test_a_household_is_filed_helped_exits_returns_and_is_approved_again(api: Api):
    clerk = api.auth(BASE, "clerk", "clerk-li", **JSON)
    approver = api.auth(DISTRICT, "approver", "approver-wang", **JSON)
    client = api.client

    filed = await client.post("/api/v1/files", json=application(), headers=clerk)
    assert filed.status_code == 201, filed.text
    file_id = filed.json()["id"]
    path = f"/api/v1/files/{file_id}"
    assert filed.headers["etag"] == '"1"'
    assert filed.headers["location"] == path
    steps = [
        ("verification", clerk, VERIFICATION),
        ("appraisal", clerk, APPRAISAL),
        ("approval", approver, APPROVAL),
        (
            "plan",
            clerk,
            {
                "agreed_on": "2026-02-01",
                "helper": "孙三",
                "measures": ["推荐就业"],
                "goals": "稳定就业",
                "deadline": "2027-02-01",
                "signed_by_worker": True,
            },
        ),
        (
            "assistance",
            clerk,
            {
                "assisted_on": "2026-02-10",
                "kind": "living_aid",
                "amount": "800.00",
                "department": "union",
                "helper": "孙三",
            },
        ),
        ("visits", clerk, {"visited_on": "2026-04-10", "cadre": "周五", "content": "季度走访"}),
        # the spouse found work: the income recorded above the line is what the 脱困 rests on
        (
            "revisions",
            clerk,
            {"effective_on": "2026-02-15", "reason": "妻子再就业", "annual_income": "20000"},
        ),
        (
            "exit",
            clerk,
            {
                "exited_on": "2026-09-01",
                "kind": "out_of_hardship",
                "reason": "income_above_line",
                "explanation": "连续六个月收入高于低保标准",
                "evidence": ["收入证明"],
                "months_above_line": 6,  # may be left out: the recorded means give 6
            },
        ),
        ("return", clerk, {"returned_on": "2026-10-01", "reason": "突发重病", "cause": "illness"}),
        ("verification", clerk, {**VERIFICATION, "verified_on": "2026-10-05"}),
        (
            "appraisal",
            clerk,
            {
                **APPRAISAL,
                "appraised_on": "2026-10-08",
                "publicity_start": "2026-10-09",
                "publicity_end": "2026-10-16",
            },
        ),
        ("approval", approver, {**APPROVAL, "approved_on": "2026-10-20"}),
    ]
    for version, (command, who, body) in enumerate(steps, start=2):
        response = await client.post(
            f"{path}/{command}", json=body, headers={**who, "If-Match": f'"{version - 1}"'}
        )
        assert response.status_code == 200, (command, response.text)
        assert response.headers["etag"] == f'"{version}"'

    final = await client.get(path, headers=api.auth(PROVINCE, "inspector"))
    trail = await client.get(f"{path}/events", headers=api.auth(DISTRICT, "approver"))

    assert final.json()["status"] == "approved"
    assert final.json()["returns"] == 1
    assert final.json()["head"]["id_number"].count("*") == 8
    events = trail.json()["events"]
    assert [e["type"].split(".")[1] for e in events] == [
        "applied",
        "verified",
        "appraised",
        "approved",
        "plan_agreed",
        "assisted",
        "visited",
        "revised",
        "exited",
        "returned",
        "verified",
        "appraised",
        "approved",
    ]
    assert {(e["actor"]["user"], e["actor"]["role"]) for e in events} == {
        ("clerk-li", "clerk"),
        ("approver-wang", "approver"),
    }
    assert all(len(e["hash"]) == 64 for e in events)
