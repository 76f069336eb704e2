"""A base union records its 民主评议 meeting over HTTP, appraises a file citing it, records its
考核表, and prints the minutes, the task list (as a workbook) and the 考核表 for a stated
purpose; an appraisal citing a meeting that did not vote on the file, or one the union never
recorded, is refused, writing nothing."""

from __future__ import annotations

import io
import uuid

from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import Api
from tests.e2e.http_helpers import API, BASE, BODIES, DISTRICT, JSON, assert_problem, file_in, run

PURPOSE = {"X-Bangfu-Purpose": "annual inspection"}
MEETING = {
    "held_on": BODIES["appraisal"]["appraised_on"],
    "place": "机械厂工会会议室",
    "chair": "刘建国",
    "recorder": "陈丽",
    "attendees": ["刘建国", "陈丽", "王海燕", "孙志刚", "周春梅"],
    "expected": 6,
    "summary": "听取入户调查情况汇报，逐户无记名表决",
}


def text_of(content: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


async def test_a_union_records_its_meeting_cites_it_and_prints_its_forms(api: Api):
    clerk = api.auth(BASE, "clerk", "clerk-li", **JSON)
    candidate = await file_in(api, "verified", BASE)

    held = await api.client.post(
        f"{API}/units/{BASE}/meetings",
        json={**MEETING, "votes": [{"file_id": candidate, "in_favour": 4, "against": 1}]},
        headers=clerk,
    )
    meeting_id = held.json()["meeting_id"]
    other = await file_in(api, "verified", BASE)
    before = await api.client.get(f"{API}/files/{other}", headers=clerk)
    not_voted = await api.client.post(
        f"{API}/files/{other}/appraisal",
        json={**BODIES["appraisal"], "meeting_id": meeting_id},
        headers=clerk,
    )
    nowhere = await api.client.post(
        f"{API}/files/{other}/appraisal",
        json={**BODIES["appraisal"], "meeting_id": str(uuid.uuid4())},
        headers=clerk,
    )
    after = await api.client.get(f"{API}/files/{other}", headers=clerk)
    await run(api, candidate, "appraisal", BASE, meeting_id=meeting_id)
    listed = await api.client.get(
        f"{API}/units/{DISTRICT}/meetings?period=2026", headers=api.auth(DISTRICT, "approver")
    )
    assessed = await api.client.post(
        f"{API}/units/{BASE}/assessments",
        json={
            "period": "2026",
            "recorded_on": "2026-02-01",
            "items": [{"goal": "解困脱困一户", "measures": "一户一策", "completion": "进行中"}],
            "responsible": "刘建国",
        },
        headers=clerk,
    )
    approver = api.auth(DISTRICT, "approver", **PURPOSE)
    minutes = await api.client.get(
        f"{API}/units/{BASE}/forms/minutes?period=2026", headers=approver
    )
    assessment = await api.client.get(
        f"{API}/units/{BASE}/forms/assessment?period=2026", headers=approver
    )
    tasks = await api.client.get(
        f"{API}/units/{BASE}/forms/tasks?period=2026&format=xlsx", headers=approver
    )
    trail = await api.client.get(f"{API}/files/{candidate}/events", headers=clerk)

    assert held.status_code == 201, held.text
    assert held.json()["votes"][0]["passed"] is True
    assert assert_problem(not_voted, 422)["rule"] == "file_voted_at_meeting"
    assert assert_problem(nowhere, 422)["rule"] == "meeting_recorded"
    assert after.headers["etag"] == before.headers["etag"]
    assert [m["meeting_id"] for m in listed.json()] == [meeting_id]
    assert assessed.status_code == 201, assessed.text
    types = [e["type"] for e in trail.json()["events"]]
    assert "unit.file_voted" in types
    appraised = next(e for e in trail.json()["events"] if e["type"] == "household.appraised")
    assert appraised["fields"]["meeting_id"] == meeting_id
    assert minutes.status_code == 200, minutes.text
    assert "民主评议会议记录" in text_of(minutes.content)
    assert minutes.headers["X-Bangfu-Verification-Code"] in text_of(minutes.content)
    assert types.count("access.file_printed") == 1  # the minutes name the file
    assert assessment.status_code == 200, assessment.text
    assert "解困脱困一户" in text_of(assessment.content)
    assert tasks.status_code == 200, tasks.text
    assert tasks.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(tasks.content)).active.iter_rows(values_only=True))
    assert tasks.headers["X-Bangfu-Verification-Code"] in str(rows[0])
