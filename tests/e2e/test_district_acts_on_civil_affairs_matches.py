"""A district runs civil affairs' list (民政比对) against its files over HTTP, reads the findings
it must act on in the ledger and on the files' trails, acts on one, and sees the ledger follow;
another district sees none of it, and a bad list is reported row by row."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest
from openpyxl import Workbook

from tests.builders import person_id
from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    DISTRICT,
    OTHER_DISTRICT,
    application,
    assert_problem,
    doer,
    open_file,
    run,
    verification,
)
from tests.e2e.read_model_helpers import all_pages, projected, workbook_rows

pytestmark = pytest.mark.slow

BEIJING = timezone(timedelta(hours=8))
HAIGANG_BASE = "130302001"  # a base-level union of Haigang, the other district
LIST_HEADER = ("序号", "姓名", "身份证号码", "比对类型", "日期")


@dataclass(frozen=True)
class Household:
    file_id: str
    head: str  # the head's ID number
    member: str  # the spouse's ID number


async def approved_household(api: Api, unit: str = BASE) -> Household:
    """A file of `unit` filed, surveyed (no vehicle, no second home, no business), appraised
    and approved over HTTP, with a head and a spouse of its own."""
    head, member = person_id(), person_id(date(1980, 2, 3))
    body = application(unit)
    file_id = await open_file(api, unit, head={**body["head"], "id_number": head})
    spouse = {**verification()["members"][0], "id_number": member}
    await run(api, file_id, "verification", unit, members=[spouse])
    await run(api, file_id, "appraisal", unit)
    await run(api, file_id, "approval", unit)
    return Household(file_id, head, member)


def civil_affairs_list(rows: list[tuple[str, str, str]]) -> bytes:
    """An xlsx list as civil affairs sends it: a title, the header, one row per person."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["抚宁区民政比对结果"])
    sheet.append(list(LIST_HEADER))
    for number, (id_number, record, said_on) in enumerate(rows, start=1):
        sheet.append([number, f"某{number}", id_number, record, said_on])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(api: Api, data: bytes, headers: dict[str, str], unit: str = DISTRICT) -> Any:
    return await api.client.post(
        f"{API}/civil-affairs-matches",
        files={"file": ("民政比对.xlsx", data, "application/octet-stream")},
        data={"unit": unit},
        headers=headers,
    )


async def events_of(pool: asyncpg.Pool, type_name: str) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM events WHERE type = $1", type_name))


def by_file(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["file_id"]: i for i in items}


async def test_district_acts_on_civil_affairs_matches(api: Api, pool: asyncpg.Pool) -> None:
    died = await approved_household(api)  # civil affairs: the head died
    driving = await approved_household(api)  # the head has a vehicle, the survey said none
    relieved = await approved_household(api)  # the spouse receives dibao
    quiet = await approved_household(api)  # not on the list
    elsewhere = await approved_household(api, HAIGANG_BASE)  # on the list, in Haigang
    stranger = person_id(date(1962, 7, 7))  # on the list, in no file
    broken = died.head[:17] + ("0" if died.head[17] != "0" else "1")  # a wrong check digit
    await projected(api)
    approver = api.auth(DISTRICT, "approver", "approver-wang")
    clerk = api.auth(BASE, "clerk", "clerk-li")
    other_clerk = api.auth(HAIGANG_BASE, "clerk", "clerk-zhou")
    other_approver = api.auth(OTHER_DISTRICT, "approver", "approver-sun")

    # Funing's approver runs civil affairs' list against Funing's files.
    listed = civil_affairs_list(
        [
            (died.head, "死亡", "2026-08-30"),  # row 3
            (driving.head, "车辆", "2026-08-01"),  # row 4
            (relieved.member, "低保", "2026-07-01"),  # row 5
            (elsewhere.head, "车辆", "2026-08-01"),  # row 6: Haigang's, not Funing's
            (stranger, "房产", "2026-08-01"),  # row 7
            (broken, "车辆", "2026-08-01"),  # row 8: refused
            (driving.head, "失业", "2026-08-01"),  # row 9: refused
            (driving.member, "工商登记", "2026年13月"),  # row 10: refused
        ]
    )
    matched = await upload(api, listed, approver)

    assert matched.status_code == 201, matched.text
    report = matched.json()
    assert (report["unit"], report["scope"], report["rows"], report["matches"]) == (
        DISTRICT,
        DISTRICT,
        8,
        3,
    )
    findings = sorted(
        (f["row"], f["file_id"], f["role"], f["record"], f["rule"], f["severity"])
        for f in report["findings"]
    )
    assert findings == [
        (3, died.file_id, "head", "death", "death_on_open_file", "act"),
        (4, driving.file_id, "head", "vehicle", "vehicle_not_declared", "act"),
        (5, relieved.file_id, "member", "dibao", "dibao_recipient", "info"),
    ]
    assert [(r["row"], r["column"]) for r in report["refused"]] == [
        (8, "身份证号码"),
        (9, "比对类型"),
        (10, "日期"),
    ]
    assert "校验码错误" in report["refused"][0]["reason"]
    assert all(r["reason"] for r in report["refused"])
    # nothing is written for the refused rows: one event per match, and the run's two
    assert await events_of(pool, "civil_affairs.matched") == 3
    assert await events_of(pool, "civil_affairs.started") == 1

    # The match shows on the affected file's trail: an act of the run's stream, referring to it.
    trail = await api.client.get(f"{API}/files/{died.file_id}/events", headers=clerk)
    assert trail.status_code == 200, trail.text
    acts = [e for e in trail.json()["events"] if e["type"] == "civil_affairs.matched"]
    assert [(a["refers_to"], a["stream_id"]) for a in acts] == [(died.file_id, report["id"])]
    assert acts[0]["fields"]["match"]["assessment"]["rule"] == "death_on_open_file"
    run_day = datetime.fromisoformat(acts[0]["recorded_at"]).astimezone(BEIJING).date()
    quiet_trail = await api.client.get(f"{API}/files/{quiet.file_id}/events", headers=clerk)
    assert "civil_affairs.matched" not in {e["type"] for e in quiet_trail.json()["events"]}

    # ... and in the ledger: what was matched, when, and what a clerk must act on.
    await projected(api)
    ledger = by_file(await all_pages(api, approver))
    assert {
        f: (i["civil_affairs"], i["civil_affairs_labels"], i["civil_affairs_to_act"])
        for f, i in ledger.items()
    } == {
        died.file_id: (["death"], ["死亡"], ["death_on_open_file"]),
        driving.file_id: (["vehicle"], ["车辆"], ["vehicle_not_declared"]),
        relieved.file_id: (["dibao"], ["低保"], []),
        quiet.file_id: ([], [], []),
    }
    assert ledger[died.file_id]["civil_affairs_to_act_labels"] == ["户主已死亡，档案仍在册：应注销"]
    assert ledger[driving.file_id]["civil_affairs_to_act_labels"] == [
        "民政比对有车辆，入户调查答复为无：应核实"
    ]
    assert {f: i["civil_affairs_on"] for f, i in ledger.items()} == {
        died.file_id: run_day.isoformat(),
        driving.file_id: run_day.isoformat(),
        relieved.file_id: run_day.isoformat(),
        quiet.file_id: None,
    }
    # a match is not an edit of the file: its version is still the approval's
    assert {i["version"] for i in ledger.values()} == {4}

    # The approver lists what must be acted on, and what civil affairs found of a kind.
    to_act = await all_pages(api, approver, "civil_affairs_to_act=true")
    assert {i["file_id"] for i in to_act} == {died.file_id, driving.file_id}
    dibao = await all_pages(api, approver, "civil_affairs=dibao&civil_affairs=property")
    assert [i["file_id"] for i in dibao] == [relieved.file_id]
    refused = await api.client.get(
        f"{API}/ledger", params={"civil_affairs": "unemployment"}, headers=approver
    )
    assert_problem(refused, 400)

    # ... and exports them, in words.
    exported = await api.client.get(
        f"{API}/ledger.xlsx", params={"civil_affairs_to_act": "true"}, headers=approver
    )
    assert exported.status_code == 200, exported.text
    header, *rows = workbook_rows(exported.content)
    cells = [dict(zip(header, r, strict=True)) for r in rows]
    assert sorted(
        (c["民政比对"], c["民政比对日期"].date(), c["民政比对待处理"]) for c in cells
    ) == [
        ("死亡", run_day, "户主已死亡，档案仍在册：应注销"),
        ("车辆", run_day, "民政比对有车辆，入户调查答复为无：应核实"),
    ]

    # Haigang was not searched, and sees nothing of Funing's matches.
    haigang = by_file(await all_pages(api, other_approver))
    assert set(haigang) == {elsewhere.file_id}
    assert haigang[elsewhere.file_id]["civil_affairs"] == []
    assert await all_pages(api, other_approver, "civil_affairs_to_act=true") == []
    hidden = await api.client.get(f"{API}/files/{died.file_id}/events", headers=other_clerk)
    assert_problem(hidden, 404)
    outside = await api.client.get(
        f"{API}/ledger", params={"unit": DISTRICT}, headers=other_approver
    )
    assert_problem(outside, 404)
    # ... nor may it run a list against Funing: nothing is recorded
    trespass = await upload(api, listed, other_approver)
    assert_problem(trespass, 404)
    assert await events_of(pool, "civil_affairs.started") == 1

    # The clerk cancels the file of the head who died (注销): nothing is left to act on there.
    cancelled = await api.client.post(
        f"{API}/files/{died.file_id}/exit",
        json={
            "exited_on": "2026-09-05",
            "kind": "cancelled",
            "reason": "death",
            "explanation": "民政比对：户主已死亡",
            "evidence": ["死亡证明"],
        },
        headers=doer(api, "exit"),
    )
    assert cancelled.status_code == 200, cancelled.text
    await projected(api)
    to_act = await all_pages(api, approver, "civil_affairs_to_act=true")
    assert [i["file_id"] for i in to_act] == [driving.file_id]
    deaths = await all_pages(api, approver, "civil_affairs=death")
    assert [(i["file_id"], i["status"], i["civil_affairs_to_act"]) for i in deaths] == [
        (died.file_id, "cancelled", [])
    ]


async def test_a_list_without_its_kind_column_is_refused_and_writes_nothing(
    api: Api, pool: asyncpg.Pool
) -> None:
    household = await approved_household(api)
    await projected(api)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["身份证号码", "日期"])
    sheet.append([household.head, "2026-08-01"])
    out = io.BytesIO()
    book.save(out)

    refused = await upload(api, out.getvalue(), api.auth(DISTRICT, "approver"))

    body = assert_problem(refused, 422)
    assert "比对类型" in body["detail"]
    assert await events_of(pool, "civil_affairs.started") == 0
    await projected(api)
    (item,) = await all_pages(api, api.auth(DISTRICT, "approver"))
    assert (item["civil_affairs"], item["civil_affairs_on"]) == ([], None)
