"""A clerk enters the paper forms' own fields through the console over loopback HTTP (issue 14's
fields, issue 16's console): the head's profile on the new-file form, a plan's tasks, a visit's
cost lines and 困难清单; the stored events carry them, the timeline shows their Chinese labels,
and a value the domain refuses comes back beside its input with nothing written."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.e2e.console_helpers import Console, console, csrf_of
from tests.e2e.http_helpers import API, BASE, file_in

pytestmark = pytest.mark.slow

ERROR = re.compile(r'id="(f-[\w-]+)-error" role="alert">([^<]+)<')


@pytest.fixture
async def desk(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Console]:
    async with console(database_url, pool, tmp_path) as running:
        yield running


async def stored(desk: Console, file_id: str) -> list[dict[str, Any]]:
    """The file's events as the API's trail gives them (masked, as a clerk reads them)."""
    trail = await desk.api.client.get(
        f"{API}/files/{file_id}/events", headers=desk.api.auth(BASE, "clerk")
    )
    assert trail.status_code == 200, trail.text
    events: list[dict[str, Any]] = trail.json()["events"]
    return events


def new_file(csrf: str, file_id: str, **more: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "file_id": file_id,
        "establishing_unit": BASE,
        "worker_kind": "urban",
        "head.name": "李四",
        "head.id_number": "130306197805060111",
        "head.union_member": "on",
        "applied_on": "2026-01-05",
        "authorisation_signed": "on",
        **more,
    }


async def test_a_clerk_opens_a_file_with_the_heads_profile(desk: Console):
    file_id = str(uuid.uuid4())

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get("/console/files/new")
        made = await clerk.post(
            "/console/files",
            data=new_file(
                csrf_of(page.text),
                file_id,
                **{
                    "head.political_status": "party_member",
                    "head.work_status": "laid_off",
                    "head.aid_types": "medical",
                    "head.housing.kind": "rented",
                    "head.housing.area": "45.5",
                    "head.housing.dilapidated": "yes",
                    "head.wishes": "希望妻子的医疗费用得到报销",
                    "filed_by": "李文",
                    "entered_by": "王丽",
                },
            ),
        )
        shown = await clerk.get(f"/console/files/{file_id}")

    assert '<option value="party_member">中共党员</option>' in page.text
    assert "农民工填写：土地及祖居地住房" in page.text
    assert made.status_code == 303, made.text
    applied = (await stored(desk, file_id))[0]["fields"]
    assert applied["head"]["political_status"] == "party_member"
    assert applied["head"]["work_status"] == "laid_off"
    assert applied["head"]["aid_types"] == ["medical"]
    assert applied["head"]["housing"]["kind"] == "rented"
    assert applied["head"]["housing"]["dilapidated"] is True
    assert (applied["filed_by"], applied["entered_by"]) == ("李文", "王丽")
    assert "中共党员" in shown.text  # the timeline's label, not the code
    assert "party_member" not in shown.text


async def test_a_migrant_only_field_on_an_urban_worker_stays_beside_it_and_writes_nothing(
    desk: Console,
):
    file_id = str(uuid.uuid4())

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get("/console/files/new")
        refused = await clerk.post(
            "/console/files",
            data=new_file(csrf_of(page.text), file_id, **{"head.land.paddy": "2.5"}),
        )

    assert refused.status_code == 422
    assert dict(ERROR.findall(refused.text)) == {
        "f-head-land-paddy": "户主土地：土地及祖居地住房仅限农民工填写"
    }
    assert 'value="2.5"' in refused.text  # what was typed is kept
    assert await desk.events(file_id) == []


async def test_a_plan_with_two_tasks_skips_the_blank_row(desk: Console):
    file_id = await file_in(desk.api, "approved")

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get(f"/console/files/{file_id}")
        agreed = await clerk.post(
            f"/console/files/{file_id}/plan",
            data={
                "csrf": csrf_of(page.text),
                "version": "4",
                "agreed_on": "2026-04-01",
                "helper": "孙三",
                "goals": "年内稳定就业",
                "deadline": "2026-12-31",
                "signed_by_worker": "on",
                "helping_unit": "县人社局",
                "pairing.cadre_phone": "0335-1234567",
                "pairing.union_contact": "李文",
                "tasks[0].kind": "employment",
                "tasks[0].content": "推荐到园区企业就业",
                "tasks[0].lead_unit": "县人社局",
                "tasks[2].kind": "medical_insurance",
                "tasks[2].content": "办理大病保险二次报销",
                "tasks[2].deadline": "2026-06-30",
            },
        )
        shown = await clerk.get(f"/console/files/{file_id}")

    assert agreed.status_code == 303, agreed.text
    plan = (await stored(desk, file_id))[-1]["fields"]
    assert [(t["kind"], t["content"]) for t in plan["tasks"]] == [
        ("employment", "推荐到园区企业就业"),
        ("medical_insurance", "办理大病保险二次报销"),
    ]
    assert plan["tasks"][1]["deadline"] == "2026-06-30"
    assert plan["helping_unit"] == "县人社局"
    assert plan["pairing"]["union_contact"] == "李文"
    assert "就业创业" in shown.text  # NeedKind.EMPLOYMENT's label in the timeline


async def test_a_task_refused_by_the_domain_stays_beside_its_row(desk: Console):
    file_id = await file_in(desk.api, "approved")
    before = await desk.events(file_id)

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get(f"/console/files/{file_id}")
        refused = await clerk.post(
            f"/console/files/{file_id}/plan",
            data={
                "csrf": csrf_of(page.text),
                "version": "4",
                "agreed_on": "2026-04-01",
                "helper": "孙三",
                "goals": "年内稳定就业",
                "deadline": "2026-12-31",
                "signed_by_worker": "on",
                "tasks[2].kind": "employment",
                "tasks[2].content": "推荐就业",
                "tasks[2].deadline": "2026-03-01",
            },
        )

    assert refused.status_code == 422
    assert dict(ERROR.findall(refused.text)) == {
        "f-tasks-2-deadline": "帮扶任务第3项完成期限：完成时限不能早于计划日期"
    }
    assert await desk.events(file_id) == before


async def test_a_visit_records_its_cost_lines_and_needs(desk: Console):
    file_id = await file_in(desk.api, "approved")

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get(f"/console/files/{file_id}")
        visited = await clerk.post(
            f"/console/files/{file_id}/visits",
            data={
                "csrf": csrf_of(page.text),
                "version": "4",
                "visited_on": "2026-04-11",
                "cadre": "周五",
                "cadre_unit": "县总工会",
                "content": "季度走访",
                "costs.insurance": "200",
                "costs.medical": "1500.50",
                "costs.living": "900",
                "needs[0].kind": "medical_insurance",
                "needs[0].problem": "妻子住院自付费用高",
                "needs[0].suggestion": "申请医疗救助",
                "head_opinion": "同意",
            },
        )

    assert visited.status_code == 303, visited.text
    visit = (await stored(desk, file_id))[-1]["fields"]
    assert visit["quarter_costs"] == "2600.50"  # the lines' total
    assert visit["costs"]["medical"] == "1500.50"
    assert visit["needs"][0]["kind"] == "medical_insurance"
    assert (visit["cadre_unit"], visit["head_opinion"]) == ("县总工会", "同意")


async def test_cost_lines_not_adding_up_stay_beside_the_quarters_costs(desk: Console):
    file_id = await file_in(desk.api, "approved")
    before = await desk.events(file_id)

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get(f"/console/files/{file_id}")
        basics = {
            "csrf": csrf_of(page.text),
            "version": "4",
            "visited_on": "2026-04-11",
            "cadre": "周五",
            "content": "季度走访",
        }
        wrong_total = await clerk.post(
            f"/console/files/{file_id}/visits",
            data={**basics, "quarter_costs": "1000", "costs.medical": "300"},
        )
        farming = await clerk.post(
            f"/console/files/{file_id}/visits", data={**basics, "costs.farming": "100"}
        )

    assert wrong_total.status_code == farming.status_code == 422
    assert dict(ERROR.findall(wrong_total.text)) == {
        "f-quarter-costs": "家庭季度支出：各项支出合计为300.00元，与填写的1000.00元不符"
    }
    assert dict(ERROR.findall(farming.text)) == {
        "f-costs-farming": "季度支出农业生产经营成本：农业生产经营成本仅限农民工填写"
    }
    assert await desk.events(file_id) == before


async def test_the_approval_records_its_sign_offs(desk: Console):
    file_id = await file_in(desk.api, "appraised")

    async with desk.person("approver-wang", BASE[:6], "approver") as approver:
        page = await approver.get(f"/console/files/{file_id}")
        approved = await approver.post(
            f"/console/files/{file_id}/approval",
            data={
                "csrf": csrf_of(page.text),
                "version": "3",
                "approved_on": "2026-01-25",
                "file_level": "district",
                "reviewed_by": "赵审",
                "system_opinion": "同意建档",
                "system_opinion_on": "2026-01-24",
            },
        )

    assert approved.status_code == 303, approved.text
    approval = (await stored(desk, file_id))[-1]["fields"]
    assert approval["reviewed_by"] == "赵审"
    assert (approval["system_opinion"], approval["system_opinion_on"]) == ("同意建档", "2026-01-24")
