"""Clerks, approvers and inspectors at work in the console over loopback HTTP: the work list,
the ledger and its download, the file page with its timeline and history, each action as a form
whose refusals come back beside their fields with nothing written, the new-file form and the
statistics. The browser journeys (tests/browser/) walk the same screens in Chromium."""

from __future__ import annotations

import asyncio
import html
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from openpyxl import load_workbook

from adapters.http.readmodels import DUPLICATES_PAGE
from adapters.pg.repository import PgFileRepository
from tests.builders import person_id
from tests.e2e.console_helpers import Console, console, csrf_of
from tests.e2e.http_helpers import BASE, DISTRICT, OTHER_BASE, file_in, open_file, run
from tests.e2e.read_model_helpers import plant_duplicate, projected

pytestmark = pytest.mark.slow


@pytest.fixture
async def desk(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Console]:
    async with console(database_url, pool, tmp_path) as running:
        yield running


def _ids(html: str) -> list[str]:
    return re.findall(r'data-file-id="([0-9a-f-]{36})"', html)


async def test_the_home_page_counts_each_roles_work_and_links_its_list(desk: Console):
    waiting = await file_in(desk.api, "appraised")
    approved = await file_in(desk.api, "approved")
    await projected(desk.api)

    async with desk.person("approver-wang", DISTRICT, "approver") as approver:
        home = await approver.get("/console/")
        queue = await approver.get("/console/work/approvals")
        never = await approver.get("/console/work/never_assisted")
    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        clerk_home = await clerk.get("/console/")

    assert home.status_code == 200
    approvals = re.search(r'id="work-approvals"><span class="count">(\d+)</span>', home.text)
    assert approvals
    assert approvals[1] == "1"
    assert "最久已等待 0 天" in home.text
    assert _ids(queue.text) == [waiting]
    assert _ids(never.text) == [approved]
    assert 'id="work-approvals"' not in clerk_home.text  # a clerk does not approve
    assert 'id="work-visits"' in clerk_home.text


async def test_the_ledger_filters_sorts_pages_and_downloads(desk: Console):
    files = [await file_in(desk.api, "approved") for _ in range(3)]
    applied = await file_in(desk.api, "applied")
    await projected(desk.api)

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        everything = await clerk.get("/console/ledger?sort=-applied_on")
        approved = await clerk.get("/console/ledger?status=approved")
        xlsx = await clerk.get("/console/ledger.xlsx?status=applied")
        bad = await clerk.get("/console/ledger?status=nonsense")

    assert sorted(_ids(everything.text)) == sorted([*files, applied])
    assert sorted(_ids(approved.text)) == sorted(files)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = [r for r in sheet.iter_rows(values_only=True) if r and any(r)]
    assert len(rows) == 2  # the header and the one applied file
    assert bad.status_code == 422
    assert "筛选条件无效" in bad.text


async def test_a_clerk_records_the_investigation_and_appraisal_on_the_file_page(desk: Console):
    file_id = await file_in(desk.api, "applied")

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get(f"/console/files/{file_id}")
        verified = await clerk.post(
            f"/console/files/{file_id}/verification",
            data={
                "csrf": csrf_of(page.text),
                "version": "1",
                "verified_on": "2026-01-10",
                "investigators": "赵立新\n钱丽华",
                "annual_income": "9600",
                "rigid_expenses": "1200",
                "poverty_line": "550",
                "primary_cause": "illness",
                "members[0].name": "王芳",
                "members[0].relation": "spouse",
                "members[0].id_number": "130306198002030220",
                "members[0].status": "unemployed",
            },
        )
        after = await clerk.get(verified.headers.get("location", "/"))
        appraised = await clerk.post(
            f"/console/files/{file_id}/appraisal",
            data={
                "csrf": csrf_of(after.text),
                "version": "2",
                "appraised_on": "2026-01-12",
                "minutes_on_file": "on",
                "publicity_start": "2026-01-13",
                "publicity_end": "2026-01-20",
            },
        )
        final = await clerk.get(f"/console/files/{file_id}")
        first = await clerk.get(f"/console/files/{file_id}?version=1")

    assert verified.status_code == 303, verified.text
    assert "已办理：入户调查" in after.text
    assert appraised.status_code == 303, appraised.text
    assert await desk.events(file_id) == [
        "household.applied",
        "household.verified",
        "household.appraised",
    ]
    assert "已评议公示" in final.text
    assert "clerk-li" in final.text  # who, in the timeline
    assert 'id="action-approval"' not in final.text  # a clerk may not approve
    assert "已申请" in first.text
    assert 'id="as-of"' in first.text
    assert "王芳" in final.text


async def test_a_form_with_bad_input_comes_back_with_errors_beside_the_fields(desk: Console):
    file_id = await file_in(desk.api, "approved")
    before = await desk.events(file_id)

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get(f"/console/files/{file_id}")
        refused = await clerk.post(
            f"/console/files/{file_id}/visits",
            data={
                "csrf": csrf_of(page.text),
                "version": "4",
                "visited_on": "2026-13-45",
                "cadre": "",
                "content": "走访",
                "quarter_income": "12.345",
            },
        )
        future = await clerk.post(
            f"/console/files/{file_id}/visits",
            data={
                "csrf": csrf_of(page.text),
                "version": "4",
                "visited_on": "2999-01-01",
                "cadre": "周五",
                "content": "走访",
            },
        )

    assert refused.status_code == 422
    errors = dict(re.findall(r'id="(f-[\w-]+)-error" role="alert">([^<]+)<', refused.text))
    assert errors == {"f-cadre": "必填"}  # a missing field first; the others once it is there
    assert future.status_code == 422
    errors = dict(re.findall(r'id="(f-[\w-]+)-error" role="alert">([^<]+)<', future.text))
    assert errors == {"f-visited-on": "走访日期：日期不能晚于今天"}
    assert 'value="周五"' in future.text  # what was typed is kept
    assert await desk.events(file_id) == before


async def test_malformed_values_are_named_beside_their_fields(desk: Console):
    file_id = await file_in(desk.api, "approved")

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get(f"/console/files/{file_id}")
        refused = await clerk.post(
            f"/console/files/{file_id}/visits",
            data={
                "csrf": csrf_of(page.text),
                "version": "4",
                "visited_on": "2026-13-45",
                "cadre": "周五",
                "content": "走访",
                "quarter_income": "12.345",
            },
        )

    errors = dict(re.findall(r'id="(f-[\w-]+)-error" role="alert">([^<]+)<', refused.text))
    assert errors == {
        "f-visited-on": "日期格式应为 2026-11-21",
        "f-quarter-income": "金额应为数字，最多两位小数，如 550.00",
    }


async def test_a_stale_form_is_refused_and_writes_nothing(desk: Console):
    file_id = await file_in(desk.api, "approved")

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get(f"/console/files/{file_id}")
        await run(desk.api, file_id, "visits")  # someone else records a visit meanwhile
        stale = await clerk.post(
            f"/console/files/{file_id}/visits",
            data={
                "csrf": csrf_of(page.text),
                "version": "4",
                "visited_on": "2026-04-11",
                "cadre": "周五",
                "content": "走访",
            },
        )

    assert stale.status_code == 409
    assert "档案已被他人修改" in stale.text
    assert (await desk.events(file_id)).count("household.visited") == 1


async def test_a_file_of_another_unit_is_the_same_not_found_page_as_none(desk: Console):
    file_id = await file_in(desk.api, "approved")

    async with desk.person("clerk-zhao", OTHER_BASE, "clerk") as other:
        page = await other.get(f"/console/files/{file_id}")
        missing = await other.get("/console/files/00000000-0000-4000-8000-000000000000")
        posted = await other.post(
            f"/console/files/{file_id}/visits",
            data={"csrf": csrf_of((await other.get("/console/")).text), "visited_on": "2026-04-11"},
        )

    assert page.status_code == missing.status_code == posted.status_code == 404
    assert page.text == missing.text
    assert "未找到" in page.text


async def test_a_clerk_opens_a_new_file_and_a_bad_id_number_stays_beside_its_field(
    desk: Console,
):
    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get("/console/files/new")
        form = {
            "csrf": csrf_of(page.text),
            "file_id": re.search(r'name="file_id" value="([^"]+)"', page.text)[1],  # type: ignore[index]
            "establishing_unit": BASE,
            "worker_kind": "urban",
            "head.name": "李四",
            "head.id_number": "130306197805060112",
            "head.union_member": "on",
            "applied_on": "2026-01-05",
            "authorisation_signed": "on",
        }
        bad = await clerk.post("/console/files", data=form)
        made = await clerk.post(
            "/console/files", data={**form, "head.id_number": "130306197805060111"}
        )

    assert bad.status_code == 422
    assert re.search(r'id="f-head-id-number-error" role="alert">[^<]*身份证', bad.text)
    assert made.status_code == 303, made.text
    file_id = made.headers["location"].split("/")[-1].split("?")[0]
    assert await desk.events(file_id) == ["household.applied"]


async def test_statistics_draw_charts_that_open_the_filtered_ledger(desk: Console):
    await file_in(desk.api, "approved")
    await projected(desk.api)

    async with desk.person("inspector-zhou", DISTRICT, "inspector") as inspector:
        page = await inspector.get("/console/stats?period=2026")

    assert page.status_code == 200
    assert "<svg" in page.text
    assert "<script" not in page.text
    assert f'href="/console/ledger?unit={DISTRICT}&amp;status=approved"' in page.text
    assert f"/console/ledger?unit={BASE}&amp;status=approved" in page.text  # a child's bar


async def test_an_inspector_runs_a_spot_check_and_reads_its_findings_and_workbook(
    desk: Console,
):
    for _ in range(3):
        await file_in(desk.api, "approved")
    await projected(desk.api)

    async with desk.person("inspector-zhou", DISTRICT, "inspector") as inspector:
        page = await inspector.get("/console/spot-checks")
        bad = await inspector.post(
            "/console/spot-checks",
            data={"csrf": csrf_of(page.text), "unit": DISTRICT, "sample": "x"},
        )
        started = await inspector.post(
            "/console/spot-checks",
            data={"csrf": csrf_of(page.text), "unit": DISTRICT, "sample": "2", "seed": "5"},
        )
        report = await inspector.get(started.headers.get("location", "/"))
        xlsx = await inspector.get(started.headers.get("location", "/") + "/xlsx")

    assert bad.status_code == 422
    assert "抽样数量应为整数" in bad.text
    assert started.status_code == 303, started.text
    check_id = started.headers["location"].rsplit("/", 1)[1]
    assert re.search(r'id="files-checked">2<', report.text)
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    types = await desk.pool.fetch(
        "SELECT type FROM events WHERE stream_id = $1 ORDER BY version", check_id
    )
    assert types[0]["type"] == "spotcheck.started"
    assert types[-1]["type"] == "spotcheck.completed"


async def test_an_admin_creates_disables_and_resets_accounts_of_its_subtree(desk: Console):
    async with desk.person("admin-sun", DISTRICT, "admin") as admin:
        page = await admin.get("/console/accounts")
        made = await admin.post(
            "/console/accounts",
            data={"csrf": csrf_of(page.text), "user": "clerk-new", "unit": BASE, "role": "clerk"},
        )
        taken = await admin.post(
            "/console/accounts",
            data={"csrf": csrf_of(page.text), "user": "clerk-new", "unit": BASE, "role": "clerk"},
        )
        account_id = re.search(r'data-account-id="([0-9a-f-]{36})"><td>clerk-new', made.text)
        assert account_id
        disabled = await admin.post(
            f"/console/accounts/{account_id[1]}/disable", data={"csrf": csrf_of(page.text)}
        )
        listed = await admin.get(disabled.headers.get("location", "/"))
        sync = await admin.get("/console/sync")
    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        refused = await clerk.get("/console/accounts")

    assert made.status_code == 201
    assert re.search(r'id="new-password">[^<]*clerk-new：<code>\S{10,}</code>', made.text)
    assert taken.status_code == 422
    assert "用户名clerk-new已存在" in taken.text
    assert disabled.status_code == 303
    assert "已停用" in listed.text
    kinds = await desk.pool.fetch(
        "SELECT kind FROM account_events WHERE account_id = $1 ORDER BY id", account_id[1]
    )
    assert [k["kind"] for k in kinds] == ["created", "disabled"]
    assert sync.status_code == 200
    assert "本节点没有下级节点" in sync.text
    assert refused.status_code == 403


async def test_a_civil_affairs_list_uploaded_shows_every_rows_result(desk: Console):
    head = person_id()
    file_id = await open_file(desk.api, BASE, head={"name": "张一", "id_number": head})
    for step in ("verification", "appraisal", "approval"):
        await run(desk.api, file_id, step)
    await projected(desk.api)
    sheet = (
        f"民政比对名单\n身份证号码,比对类型,日期\n{head},车辆,2026-09-01\n"
        "13030619750404001X,不知道,2026-09-01\n"
    ).encode("gb18030")

    async with desk.person("approver-wang", DISTRICT, "approver") as approver:
        page = await approver.get("/console/paper")
        done = await approver.post(
            "/console/paper/civil-affairs",
            data={"csrf": csrf_of(page.text), "unit": DISTRICT},
            files={"file": ("list.csv", sheet, "text/csv")},
        )
        missing = await approver.post(  # as a browser sends a form with no file chosen
            "/console/paper/civil-affairs",
            data={"csrf": csrf_of(page.text), "unit": DISTRICT},
            files={"file": ("", b"", "application/octet-stream")},
        )

    assert done.status_code == 201, done.text
    assert f'href="/console/files/{file_id}"' in done.text  # the matched row, linked
    assert "逐行结果（1）" in done.text
    assert "未导入的行（1）" in done.text  # the unreadable row, with its reason
    assert missing.status_code == 422
    assert "请选择要上传的表格" in missing.text
    recorded = await desk.pool.fetch("SELECT type FROM events WHERE refers_to = $1", file_id)
    assert [r["type"] for r in recorded] == ["civil_affairs.matched"]


async def _finished(get: Any, url: str) -> Any:
    for _ in range(300):
        answer = await get(url)
        if answer.status_code != 200 or "job-state" not in answer.text:
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} still running")


async def test_a_spot_check_runs_as_a_background_job_with_its_progress(desk: Console):
    for _ in range(3):
        await file_in(desk.api, "approved")
    await projected(desk.api)
    inspector = desk.api.auth(DISTRICT, "inspector", "inspector-zhou")
    body = {"unit": DISTRICT, "sample": 3, "seed": 2}

    started = await desk.api.client.post("/api/v1/spot-check-jobs", json=body, headers=inspector)
    job = started.json()
    for _ in range(300):
        polled = (await desk.api.client.get(started.headers["location"], headers=inspector)).json()
        if polled["state"] != "running":
            break
        await asyncio.sleep(0.05)
    other = await desk.api.client.get(
        started.headers["location"], headers=desk.api.auth(DISTRICT, "inspector", "someone-else")
    )
    refused = await desk.api.client.post(
        "/api/v1/spot-check-jobs", json={**body, "sample": 0}, headers=inspector
    )
    report = await desk.api.client.get(polled["spot_check"], headers=inspector)

    assert started.status_code == 202
    assert job["state"] == "running"
    assert started.headers["location"] == f"/api/v1/jobs/{job['id']}"
    assert (polled["state"], polled["done"], polled["total"]) == ("done", 3, 3)
    assert report.json()["summary"]["files_checked"] == 3
    assert other.status_code == 404  # another account's job does not exist for it
    assert refused.status_code == 422  # refused before any job starts


async def test_the_console_follows_a_background_spot_check_to_its_report(desk: Console):
    for _ in range(2):
        await file_in(desk.api, "approved")
    await projected(desk.api)

    async with desk.person("inspector-zhou", DISTRICT, "inspector") as inspector:
        page = await inspector.get("/console/spot-checks")
        started = await inspector.post(
            "/console/spot-checks",
            data={
                "csrf": csrf_of(page.text),
                "unit": DISTRICT,
                "sample": "2",
                "seed": "5",
                "background": "on",
            },
        )
        job_page = started.headers["location"]
        done = await _finished(inspector.get, job_page)
        report = await inspector.get(done.headers.get("location", "/"))

    assert job_page.startswith("/console/jobs/")
    assert done.status_code == 303
    assert re.search(r'id="files-checked">2<', report.text)


async def test_the_home_page_counts_category_changes_with_approvals_and_lists_exits_due(
    desk: Console,
):
    appraised = await file_in(desk.api, "appraised")
    changed = await file_in(desk.api, "category_changed")
    due = await file_in(desk.api, "due_to_exit")
    await projected(desk.api)

    async with desk.person("approver-wang", DISTRICT, "approver") as approver:
        home = await approver.get("/console/")
        queue = await approver.get("/console/work/approvals")
    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        clerk_home = await clerk.get("/console/")
        exits = await clerk.get("/console/work/exit")

    approvals = re.search(r'id="work-approvals"><span class="count">(\d+)</span>', home.text)
    assert approvals
    assert approvals[1] == "2"  # the appraised file and the re-check's category change
    assert "其中复核类别变更待确认 1 件" in home.text
    assert set(_ids(queue.text)) == {appraised, changed}
    assert "复核类别变更待确认" in queue.text
    exit_due = re.search(
        r'href="/console/work/exit" id="work-exit"><span class="count">(\d+)</span>',
        clerk_home.text,
    )
    assert exit_due
    assert exit_due[1] == "1"
    assert exits.status_code == 200
    assert _ids(exits.text) == [due]


# the issue-13 commands as forms: (form, file's status, who, good input, event, a bad input
# and the field it is refused beside)
DECISION_FORMS = [
    (
        "category-confirmations",
        "category_changed",
        ("approver-wang", DISTRICT, "approver"),
        {"confirmed_on": "2026-06-02", "opinion": "复核属实"},
        "household.category_confirmed",
        {"confirmed_on": ""},
        "f-confirmed-on",
    ),
    (
        "keep",
        "due_to_exit",
        ("approver-wang", DISTRICT, "approver"),
        {"kept_on": "2026-03-02", "reason": "车辆为残疾人代步车"},
        "household.kept_on_record",
        {"reason": ""},
        "f-reason",
    ),
    (
        "finding-checks",
        "approved",
        ("clerk-li", BASE, "clerk"),
        {
            "checked_on": "2026-03-01",
            "finding": "vehicle_not_declared",
            "result": "unfounded",
            "reason": "车辆登记人为同名他人",
        },
        "household.finding_checked",
        {"finding": "matched"},  # not a finding to act on: the domain's refusal
        "f-finding",
    ),
    (
        "follow-ups",
        "out_of_hardship",
        ("clerk-li", BASE, "clerk"),
        {"followed_up_on": "2026-10-01", "cadre": "周五", "result": "stable", "note": "就业稳定"},
        "household.followed_up",
        {"cadre": ""},
        "f-cadre",
    ),
]


@pytest.mark.parametrize(
    ("slug", "status", "who", "good", "event", "bad", "bad_field"),
    DECISION_FORMS,
    ids=[row[0] for row in DECISION_FORMS],
)
async def test_the_decision_commands_are_forms_on_the_file_page(
    desk: Console,
    slug: str,
    status: str,
    who: tuple[str, str, str],
    good: dict[str, str],
    event: str,
    bad: dict[str, str],
    bad_field: str,
):
    file_id = await file_in(desk.api, status)
    other = await file_in(desk.api, "applied")
    before = await desk.events(file_id)

    async with desk.person(*who) as person:
        page = await person.get(f"/console/files/{file_id}")
        elsewhere = await person.get(f"/console/files/{other}")
        refused = await person.post(
            f"/console/files/{file_id}/{slug}",
            data={"csrf": csrf_of(page.text), **good, **bad},
        )
        written = await desk.events(file_id)
        done = await person.post(
            f"/console/files/{file_id}/{slug}", data={"csrf": csrf_of(page.text), **good}
        )
        after = await person.get(done.headers.get("location", "/"))

    assert f'id="action-{slug}"' in page.text
    if slug != "finding-checks":  # a finding may be checked on any file not deleted
        assert f'id="action-{slug}"' not in elsewhere.text  # offered where the file waits for it
    assert refused.status_code == 422, refused.text
    errors = dict(re.findall(r'id="(f-[\w-]+)-error" role="alert">([^<]+)<', refused.text))
    assert list(errors) == [bad_field]
    assert written == before  # nothing written
    assert done.status_code == 303, done.text
    assert await desk.events(file_id) == [*before, event]
    assert "已办理：" in after.text


async def test_the_duplicates_page_shows_people_filed_twice_a_page_at_a_time(
    desk: Console, files: PgFileRepository
):
    people = DUPLICATES_PAGE + 1
    for _ in range(people):  # each filed in two base unions, as pulls store them
        person = person_id()
        await plant_duplicate(files, BASE, head_id=person)
        await plant_duplicate(files, "130306002", member_id=person)
    await projected(desk.api)

    async with desk.person("approver-wang", DISTRICT, "approver") as approver:
        first = await approver.get("/console/duplicates")
        following = re.search(r'<a href="([^"]+)" id="next-page">下一页</a>', first.text)
        assert following
        second = await approver.get(html.unescape(following[1]))
    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        home = await clerk.get("/console/")

    assert first.status_code == second.status_code == 200
    assert f"共：{people}" in first.text
    assert 'id="duplicates-link">重复建档' in first.text
    assert len(set(_ids(first.text))) == 2 * DUPLICATES_PAGE
    assert len(_ids(second.text)) == 2
    assert not set(_ids(first.text)) & set(_ids(second.text))
    assert 'id="next-page"' not in second.text
    assert 'id="first-page">第一页' in second.text
    assert "家庭成员" in second.text
    assert 'id="duplicates-link"' not in home.text  # a clerk's menu has no such list
