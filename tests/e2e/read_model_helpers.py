"""Helpers for the read-model journeys: a province in the database, and waiting for the server's
projection runner to apply it."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from typing import Any

import httpx
import openpyxl

from adapters.pg.repository import PgFileRepository
from adapters.services import demo
from domain.household import HouseholdFile, Member
from domain.values import Actor, MemberStatus, Relation, Role
from tests import builders
from tests.builders import FixedClock
from tests.conftest import Api
from tests.e2e.http_helpers import API, BASE, STEPS_TO, open_file, run, verification

ID_MASKED = r"^\d{6}\*{8}[\dX]{4}$"
PHONE_MASKED = r"^\d{3}\*{4}\d{4}$"
# Every read-model endpoint: name → (path, query parameters).
READ_MODELS: dict[str, tuple[str, dict[str, str]]] = {
    "ledger": (f"{API}/ledger", {}),
    "ledger.xlsx": (f"{API}/ledger.xlsx", {}),
    "stats": (f"{API}/stats", {}),
    "approval queue": (f"{API}/queues/approvals", {}),
    "due visits": (f"{API}/due", {"kind": "visits"}),
    "due rechecks": (f"{API}/due", {"kind": "rechecks"}),
    "due follow-up": (f"{API}/due", {"kind": "follow_up"}),
    "duplicates": (f"{API}/duplicates", {}),
}


async def read_every_model(
    api: Api, headers: dict[str, str], **params: str
) -> dict[str, httpx.Response]:
    """endpoint name → its response to `headers`' caller, with `params` added to the query."""
    return {
        name: await api.client.get(path, params={**query, **params}, headers=headers)
        for name, (path, query) in READ_MODELS.items()
    }


async def build_province(files: PgFileRepository, *, count: int = 160, seed: int = 11) -> int:
    """A demo province of `count` households written straight to the log (not through the
    server): the server's runner finds them by polling."""
    return await demo.build(files=files, clock=FixedClock(), count=count, seed=seed, bulk=True)


async def projected(api: Api, *, patience: float = 60) -> None:
    """Wait until every read model has applied every event in the log."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        checks = (await api.client.get("/health/ready")).json().get("checks", {})
        lags = [v for k, v in checks.items() if k.startswith("projection.")]
        if lags and all(v.startswith("0 events") for v in lags):
            return
        assert loop.time() < deadline, f"read models still behind: {checks}"
        await asyncio.sleep(0.1)


async def all_pages(
    api: Api, headers: dict[str, str], query: str = "", *, limit: int = 7
) -> list[dict[str, Any]]:
    """Every ledger item, walking the pages by their cursors."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(10_000):
        page = await api.client.get(
            f"{API}/ledger",
            params=[
                *_pairs(query),
                ("limit", str(limit)),
                *([("cursor", cursor)] if cursor else []),
            ],
            headers=headers,
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor = body["next"]
        if cursor is None:
            return items
    raise AssertionError("the pages never end")


def _pairs(query: str) -> list[tuple[str, str]]:
    return [(k, v) for k, _, v in (part.partition("=") for part in query.split("&") if part)]


def workbook_rows(content: bytes) -> list[tuple[Any, ...]]:
    """The rows of the first sheet, each as wide as the header (empty cells are None)."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    rows = [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    width = len(rows[0]) if rows else 0
    return [row + (None,) * (width - len(row)) for row in rows]


async def household_in(api: Api, status: str, unit: str = BASE) -> str:
    """Like `http_helpers.file_in`, but every household has people of its own (the shared
    request bodies give every verified file the same spouse: a duplicate)."""
    file_id = await open_file(api, unit)
    for step in STEPS_TO[status]:
        command, overrides = step if isinstance(step, tuple) else (step, {})
        fresh = {"members": verification()["members"]} if command == "verification" else {}
        await run(api, file_id, command, unit, **fresh, **overrides)
    return file_id


async def plant_duplicate(
    files: PgFileRepository, unit: str, *, head_id: str | None = None, member_id: str | None = None
) -> str:
    """An open file of `unit` headed by `head_id` (or a new person), with `member_id` as a member
    if given, stored as a sync pull stores another node's events — past 一户一档, which the API
    enforces (a repository without the hash key keeps no claims): how a person comes to be in
    two open files on one node, for the duplicates list to find."""
    clerk = Actor("clerk-planted", unit, Role.CLERK)
    fields = builders.application(unit)
    if head_id is not None:
        fields["head"] = replace(fields["head"], id_number=head_id)
    household = HouseholdFile.receive_application(actor=clerk, today=builders.TODAY, **fields)
    if member_id is not None:
        member = Member("孙二", Relation.SIBLING, member_id, MemberStatus.EMPLOYED)
        household.verify(
            actor=clerk, today=builders.TODAY, **builders.verification(members=(member,))
        )
    await files.save(household)
    return str(household.id)
