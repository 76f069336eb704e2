"""Helpers for the HTTP journeys: request bodies for every command, and files in a given state.

Every body is valid on its own and its business dates are in the past and in lifecycle order, so
a refusal a test sees is about the thing under test (scope, role, version, key), not the body.
"""

from __future__ import annotations

import re
from typing import Any

from domain.units import UnitCode
from tests.builders import person_id
from tests.conftest import Api

API = "/api/v1"
PROVINCE = "13"
CITY = "1303"  # Qinhuangdao
OTHER_CITY = "1301"  # Shijiazhuang, same province
DISTRICT = "130306"  # Funing
OTHER_DISTRICT = "130302"  # Haigang, same city
BASE = "130306001"
OTHER_BASE = "130306002"  # same district
PREFIX_SIBLING = "1303060011"  # a base-level union whose code starts with BASE's code
JSON = {"content-type": "application/json"}
PROBLEM = "application/problem+json"
HEX64 = re.compile(r"^[0-9a-f]{64}$")

PHONE = "13912345678"
BANK_CARD = "6222021234567890123"


def application(unit: str = BASE, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "establishing_unit": unit,
        "worker_kind": "urban",
        "head": {
            "name": "张𠀀",
            "id_number": person_id(),
            "phone": PHONE,
            "bank_card": BANK_CARD,
        },
        "applied_on": "2026-01-05",
        "authorisation_signed": True,
        "statement": "妻子患病，收入低",
    }
    body.update(overrides)
    return body


def verification(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "verified_on": "2026-01-10",
        "investigators": ["赵立新", "钱丽华"],
        "members": [
            {
                "name": "王𪚥",
                "relation": "spouse",
                "id_number": person_id(),
                "status": "unemployed",
            }
        ],
        "annual_income": "9600",
        "rigid_expenses": "1200",
        "primary_cause": "illness",
    }
    body.update(overrides)
    return body


# One valid body per command, for a file in the state the command starts from (STARTS_FROM).
BODIES: dict[str, dict[str, Any]] = {
    "verification": verification(),
    "appraisal": {
        "appraised_on": "2026-01-12",
        "minutes_on_file": True,
        "publicity_start": "2026-01-13",
        "publicity_end": "2026-01-20",
    },
    # no poverty line: the one in force for the file's region on the day decides
    "approval": {"approved_on": "2026-01-25", "file_level": "district"},
    "send-back": {"sent_back_on": "2026-01-25", "reason": "收入证明不全"},
    "rejection": {"rejected_on": "2026-01-06", "reason": "不符合建档条件"},
    "assistance": {
        "assisted_on": "2026-02-10",
        "kind": "living_aid",
        "amount": "800.00",
        "department": "union",
        "helper": "孙三",
    },
    "plan": {
        "agreed_on": "2026-02-01",
        "helper": "孙三",
        "measures": ["推荐就业"],
        "goals": "稳定就业",
        "deadline": "2027-02-01",
        "signed_by_worker": True,
    },
    "visits": {"visited_on": "2026-04-10", "cadre": "周五", "content": "季度走访"},
    # income above the line: (20000 − 1200) / 12 / 2 = 783 a month, what a 脱困 rests on
    "revisions": {"effective_on": "2026-02-01", "reason": "妻子再就业", "annual_income": "20000"},
    "rechecks": {"rechecked_on": "2026-06-01"},
    "exit": {
        "exited_on": "2026-09-01",
        "kind": "out_of_hardship",
        "reason": "income_above_line",
        "explanation": "连续六个月收入高于低保标准",
        "evidence": ["收入证明"],
    },
    "return": {"returned_on": "2026-10-01", "reason": "突发重病", "cause": "illness"},
    "transfer": {"transferred_on": "2026-03-01", "to_unit": OTHER_BASE, "reason": "职工调动"},
    "finding-checks": {
        "checked_on": "2026-03-01",
        "finding": "vehicle_not_declared",
        "result": "unfounded",
        "reason": "车辆登记人为同名他人",
    },
    "category-confirmations": {"confirmed_on": "2026-06-02", "opinion": "复核属实"},
    "keep": {"kept_on": "2026-03-02", "reason": "车辆为残疾人代步车"},
    "follow-ups": {
        "followed_up_on": "2026-10-01",
        "cadre": "周五",
        "result": "stable",
        "note": "就业稳定",
    },
}
COMMANDS = tuple(BODIES)

# A revision that finds a car (a newly found exclusion: the file is due to exit), and one that
# records income in relative hardship (783 a month: a re-check then finds another category).
FOUND_A_CAR = {"exclusions": {"car_or_luxury": True}, "annual_income": None, "materials": []}
# The steps that take a new file to each status (a command, or a command with the fields it
# overrides), and the status each command starts from.
STEPS_TO: dict[str, tuple[str | tuple[str, dict[str, Any]], ...]] = {
    "applied": (),
    "verified": ("verification",),
    "appraised": ("verification", "appraisal"),
    "approved": ("verification", "appraisal", "approval"),
    # approved, with a revision recording the household's income above the line (a 脱困 rests on
    # it: docs/rules.md)
    "above_the_line": ("verification", "appraisal", "approval", "revisions"),
    "out_of_hardship": ("verification", "appraisal", "approval", "revisions", "exit"),
    # approved, a clerk's re-check found another category: waiting for an approver
    "category_changed": ("verification", "appraisal", "approval", "revisions", "rechecks"),
    # approved, a revision found a car: due to exit
    "due_to_exit": ("verification", "appraisal", "approval", ("revisions", FOUND_A_CAR)),
}
STARTS_FROM: dict[str, str] = {
    "verification": "applied",
    "appraisal": "verified",
    "approval": "appraised",
    "send-back": "appraised",
    "rejection": "applied",
    "assistance": "approved",
    "plan": "approved",
    "visits": "approved",
    "revisions": "approved",
    "rechecks": "approved",
    "exit": "above_the_line",
    "return": "out_of_hardship",
    "transfer": "applied",
    "finding-checks": "approved",
    "follow-ups": "out_of_hardship",
    "category-confirmations": "category_changed",
    "keep": "due_to_exit",
}
DISTRICT_COMMANDS = frozenset({"approval", "send-back", "category-confirmations", "keep"})


def doer(api: Api, command: str, unit: str = BASE) -> dict[str, str]:
    """Headers of the caller who may run `command` on a file of `unit`: its clerk, or for review
    its district's approver."""
    if command in DISTRICT_COMMANDS:  # the union above the base-level one: "130306", "13C01"
        return api.auth(str(UnitCode(unit).parent), "approver", "approver-wang", **JSON)
    return api.auth(unit, "clerk", "clerk-li", **JSON)


async def open_file(api: Api, unit: str = BASE, **overrides: Any) -> str:
    response = await api.client.post(
        f"{API}/files", json=application(unit, **overrides), headers=doer(api, "apply", unit)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def run(api: Api, file_id: str, command: str, unit: str = BASE, **overrides: Any) -> Any:
    """Run one command as the caller who may, and insist that it succeeded."""
    # a fresh investigation each time: files taken through it must not share a member (they
    # would be duplicates of each other in the people read model)
    body = verification() if command == "verification" else BODIES[command]
    response = await api.client.post(
        f"{API}/files/{file_id}/{command}",
        json={**body, **overrides},
        headers=doer(api, command, unit),
    )
    assert response.status_code == 200, (command, response.text)
    return response


async def file_in(api: Api, status: str, unit: str = BASE) -> str:
    """A new file of `unit`, taken through the lifecycle to `status`."""
    file_id = await open_file(api, unit)
    for step in STEPS_TO[status]:
        command, overrides = step if isinstance(step, tuple) else (step, {})
        await run(api, file_id, command, unit, **overrides)
    return file_id


async def files_for_every_command(api: Api, unit: str = BASE) -> dict[str, str]:
    """command → a file of `unit` in the status that command starts from (shared per status)."""
    by_status = {status: await file_in(api, status, unit) for status in STEPS_TO}
    return {command: by_status[STARTS_FROM[command]] for command in COMMANDS}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem of `status`; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "code"} <= body.keys(), body
    return body
