"""The file page's scans, printed forms and unmasked reading in the console over loopback HTTP,
the unit's forms and the verification of a printed code, the revision's head and members, and the
language switch that keeps the page's query. Every disclosure — an unmasked page, a scan opened, a
form printed — needs a purpose and is recorded on the file's trail as the API records it; every
refusal comes back beside its field with nothing written."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from adapters.http.auth import Tokens
from adapters.runtime.settings import Settings
from adapters.services.scans import scan
from tests.builders import person_id
from tests.conftest import SECRET, Api
from tests.e2e.console_helpers import Console, csrf_of
from tests.e2e.http_helpers import API, BASE, DISTRICT, OTHER_BASE, PHONE, file_in, run
from tests.serving import served

pytestmark = pytest.mark.slow

LIMIT = 100_000  # the node's attachment limit in these tests: a larger scan is refused


@pytest.fixture
async def desk(database_url: str, pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Console]:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        log_json=True,
        secret=SECRET,
        attachment_max_bytes=LIMIT,
    )
    async with (
        served(settings) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield Console(url, pool, Api(client, Tokens(SECRET)), database_url, tmp_path)


async def trail(desk: Console, file_id: str) -> list[dict[str, Any]]:
    response = await desk.api.client.get(
        f"{API}/files/{file_id}/events", headers=desk.api.auth(DISTRICT, "approver")
    )
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


async def disclosures(desk: Console, file_id: str) -> list[dict[str, Any]]:
    return [e for e in await trail(desk, file_id) if e["type"] == "access.unmasked"]


async def read_unmasked(desk: Console, file_id: str) -> dict[str, Any]:
    headers = desk.api.auth(DISTRICT, "approver", **{"X-Bangfu-Purpose": "test check"})
    response = await desk.api.client.get(f"{API}/files/{file_id}?unmask=true", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def error_of(html: str, input_id: str) -> str:
    found = re.search(rf'id="{re.escape(input_id)}-error"[^>]*>([^<]*)<', html)
    return unescape(found[1]) if found else ""


async def attach(
    client: httpx.AsyncClient, file_id: str, content: bytes, name: str, kind: str = "id_copy"
) -> httpx.Response:
    page = await client.get(f"/console/files/{file_id}")
    return await client.post(
        f"/console/files/{file_id}/attachments",
        data={"csrf": csrf_of(page.text), "kind": kind},
        files={"file": (name, content, "image/png")},
    )


async def stored_scans(desk: Console) -> int:
    return int(await desk.pool.fetchval("SELECT count(*) FROM attachments"))


# ------------------------------------------------------------------------------ scans


async def test_a_clerk_attaches_a_scan_and_sees_it_listed_with_its_name_masked(desk: Console):
    file_id = await file_in(desk.api, "approved")

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        attached = await attach(clerk, file_id, scan(1), "王芳身份证130306198002030220.png")
        page = await clerk.get(attached.headers.get("location", "/"))

    assert attached.status_code == 303, attached.text
    assert "已办理：上传附件" in page.text
    rows = re.findall(
        r'<tr data-attachment-id="[^"]+"><td class="kind">([^<]+)</td>'
        r'<td class="name">([^<]+)</td>',
        page.text,
    )
    assert rows == [("身份证复印件", "王芳身份证130306********0220.png")]
    assert "130306198002030220" not in page.text
    assert 'id="preview-' not in page.text  # a clerk may not open a scan
    assert (await desk.events(file_id))[-1] == "household.attachment_added"


async def test_a_scan_of_the_wrong_type_or_too_large_stays_beside_the_field_storing_nothing(
    desk: Console,
):
    file_id = await file_in(desk.api, "approved")
    before = await desk.events(file_id)

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        text = await attach(clerk, file_id, "不是扫描件".encode() * 50, "notes.png")
        large = await attach(clerk, file_id, b"\x89PNG\r\n\x1a\n" + bytes(LIMIT + 5_000), "big.png")
        no_kind = await attach(clerk, file_id, scan(2), "scan.png", kind="")

    assert text.status_code == 422, text.text
    assert error_of(text.text, "attach-file") == "附件内容：不是JPEG、PNG图片或PDF文件"
    assert large.status_code == 413, large.text
    assert error_of(large.text, "attach-file").startswith("单个附件不能超过")
    assert no_kind.status_code == 422
    assert error_of(no_kind.text, "attach-kind") == "必填"
    assert await desk.events(file_id) == before
    assert await stored_scans(desk) == 0


async def test_an_approver_previews_and_downloads_a_scan_for_a_purpose_on_the_trail(
    desk: Console,
):
    file_id = await file_in(desk.api, "approved")
    content = scan(3)
    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        assert (await attach(clerk, file_id, content, "户口簿.png", "hukou_copy")).is_redirect

    async with desk.person("approver-wang", DISTRICT, "approver") as approver:
        page = await approver.get(f"/console/files/{file_id}")
        attachment_id = re.findall(r'data-attachment-id="([^"]+)"', page.text)[0]
        url = f"/console/files/{file_id}/attachments/{attachment_id}"
        csrf = csrf_of(page.text)
        no_purpose = await approver.post(url, data={"csrf": csrf, "as": "preview"})
        preview = await approver.post(
            url, data={"csrf": csrf, "as": "preview", "purpose": "核对户口簿"}
        )
        download = await approver.post(
            url, data={"csrf": csrf, "as": "download", "purpose": "存档"}
        )
    async with desk.person("clerk-zhao", BASE, "clerk") as clerk:
        refused = await clerk.post(
            url,
            data={
                "csrf": csrf_of((await clerk.get("/console/")).text),
                "as": "download",
                "purpose": "看看",
            },
        )

    assert no_purpose.status_code == 422
    assert error_of(no_purpose.text, f"open-{attachment_id}-purpose") == (
        "用途：查看未脱敏个人信息须说明用途"
    )
    assert (preview.status_code, preview.headers["content-type"]) == (200, "image/jpeg")
    assert preview.content.startswith(b"\xff\xd8")
    assert download.status_code == 200
    assert download.content == content
    assert refused.status_code == 403
    recorded = await disclosures(desk, file_id)
    assert [(e["fields"]["view"], e["fields"]["purpose"]) for e in recorded] == [
        ("attachment", "核对户口簿"),
        ("attachment", "存档"),
    ]
    assert {e["actor"]["user"] for e in recorded} == {"approver-wang"}


# ------------------------------------------------------------------------------ unmasked reading


async def test_an_approver_reads_the_file_unmasked_for_a_purpose_recorded_on_the_trail(
    desk: Console,
):
    file_id = await file_in(desk.api, "approved")
    head_id = (await read_unmasked(desk, file_id))["head"]["id_number"]
    already = len(await disclosures(desk, file_id))

    async with desk.person("approver-wang", DISTRICT, "approver") as approver:
        masked = await approver.get(f"/console/files/{file_id}")
        csrf = csrf_of(masked.text)
        url = f"/console/files/{file_id}/unmasked"
        no_purpose = await approver.post(url, data={"csrf": csrf, "purpose": " "})
        clear = await approver.post(url, data={"csrf": csrf, "purpose": "核对身份证号码"})
    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        clerk_page = await clerk.get(f"/console/files/{file_id}")
        refused = await clerk.post(url, data={"csrf": csrf_of(clerk_page.text), "purpose": "看看"})

    assert head_id not in masked.text
    assert no_purpose.status_code == 422
    assert error_of(no_purpose.text, "unmask-purpose") == "用途：查看未脱敏个人信息须说明用途"
    assert head_id not in no_purpose.text
    assert clear.status_code == 200
    assert head_id in clear.text
    assert PHONE in clear.text
    assert "核对身份证号码" in clear.text  # the note names the purpose
    assert 'id="form-unmask"' not in clerk_page.text  # a clerk may not unmask
    assert refused.status_code == 403
    assert head_id not in refused.text
    recorded = (await disclosures(desk, file_id))[already:]
    assert [
        (e["fields"]["view"], e["fields"]["purpose"], e["actor"]["user"]) for e in recorded
    ] == [("file", "核对身份证号码", "approver-wang")]


# ------------------------------------------------------------------------------ printed forms


async def test_an_approver_prints_a_form_with_a_purpose_and_its_code_verifies(desk: Console):
    file_id = await file_in(desk.api, "approved")

    async with desk.person("approver-wang", DISTRICT, "approver") as approver:
        page = await approver.get(f"/console/files/{file_id}")
        csrf = csrf_of(page.text)
        url = f"/console/files/{file_id}/print"
        no_purpose = await approver.post(url, data={"csrf": csrf, "form": "card"})
        printed = await approver.post(url, data={"csrf": csrf, "form": "card", "purpose": "入户"})
        code = printed.headers.get("X-Bangfu-Verification-Code", "")
        check = "/console/forms/verification"
        same = await approver.post(check, data={"csrf": csrf, "code": code})
        await run(desk.api, file_id, "visits")
        changed = await approver.post(check, data={"csrf": csrf, "code": code.lower()})
        typo = await approver.post(check, data={"csrf": csrf, "code": code[:-1] + "?"})

    assert no_purpose.status_code == 422
    assert error_of(no_purpose.text, "print-purpose") == "用途：打印表单须说明用途"
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "application/pdf"
    assert printed.content.startswith(b"%PDF")
    assert same.status_code == 200, same.text
    assert "与电子档案一致 · 打印后无变动" in same.text
    assert "与电子档案一致 · 打印后有变动" in changed.text
    assert "走访" in changed.text  # the event since, named
    assert typo.status_code == 422
    assert error_of(typo.text, "forms-code")
    prints = [e for e in await trail(desk, file_id) if e["type"] == "access.file_printed"]
    assert len(prints) == 1  # the print without a purpose recorded nothing


async def test_a_clerk_prints_the_unit_ledger_and_a_unit_outside_is_not_found(desk: Console):
    await file_in(desk.api, "approved")

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get("/console/forms?unit=" + BASE + "&period=2026")
        csrf = csrf_of(page.text)
        body = {"csrf": csrf, "unit": BASE, "form": "ledger", "period": "2026"}
        no_purpose = await clerk.post("/console/forms/unit", data=body)
        bad_period = await clerk.post(
            "/console/forms/unit", data=body | {"period": "26年", "purpose": "上报"}
        )
        printed = await clerk.post("/console/forms/unit", data=body | {"purpose": "上报"})
        outside = await clerk.post(
            "/console/forms/unit", data=body | {"unit": OTHER_BASE, "purpose": "上报"}
        )

    assert f'value="{BASE}"' in page.text
    assert no_purpose.status_code == 422
    assert error_of(no_purpose.text, "forms-purpose") == "用途：打印表单须说明用途"
    assert bad_period.status_code == 422
    assert error_of(bad_period.text, "forms-period")
    assert (printed.status_code, printed.headers["content-type"]) == (200, "application/pdf")
    assert printed.content.startswith(b"%PDF")
    assert outside.status_code == 404


# ------------------------------------------------------------------------------ the revision


async def test_a_revision_changes_the_heads_phone_removes_a_member_and_adds_one(desk: Console):
    file_id = await file_in(desk.api, "approved")
    before = await read_unmasked(desk, file_id)
    kept_head = before["head"]
    daughter = person_id()

    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        page = await clerk.get(f"/console/files/{file_id}")
        form = {
            "csrf": csrf_of(page.text),
            "version": re.findall(r'id="version">(\d+)<', page.text)[0],
            "effective_on": "2026-06-01",
            "reason": "户主更换手机号；配偶户口迁出，女儿回家同住",
            "head.phone": "13600001111",
            "members[0].remove": "on",
            "members[1].name": "张小红",
            "members[1].relation": "child",
            "members[1].status": "student",
        }
        missing_id = await clerk.post(f"/console/files/{file_id}/revisions", data=form)
        wrong = daughter[:-1] + ("0" if daughter[-1] != "0" else "1")
        bad_id = await clerk.post(
            f"/console/files/{file_id}/revisions", data=form | {"members[1].id_number": wrong}
        )
        revised = await clerk.post(
            f"/console/files/{file_id}/revisions",
            data=form | {"members[1].id_number": daughter},
        )

    assert missing_id.status_code == 422, missing_id.text
    assert error_of(missing_id.text, "f-members-1-id-number") == "必填"
    assert bad_id.status_code == 422
    # the domain counts the household's members, the spouse removed; the form names its row
    assert error_of(bad_id.text, "f-members-1-id-number").startswith("第2名成员身份证号码：")
    assert 'placeholder="139****5678"' in page.text  # the current phone, masked
    assert revised.status_code == 303, revised.text
    after = await read_unmasked(desk, file_id)
    assert after["head"]["phone"] == "13600001111"
    assert {k: v for k, v in after["head"].items() if k != "phone"} == {
        k: v for k, v in kept_head.items() if k != "phone"
    }
    assert [(m["name"], m["relation"], m["id_number"]) for m in after["members"]] == [
        ("张小红", "child", daughter)
    ]
    assert (await desk.events(file_id)).count("household.revised") == 1


# ------------------------------------------------------------------------------ the language


async def test_the_language_switch_keeps_the_pages_query(desk: Console):
    async with desk.person("clerk-li", BASE, "clerk") as clerk:
        ledger = await clerk.get("/console/ledger?status=approved&sort=-applied_on")
        english = await clerk.get("/console/ledger?status=approved&sort=-applied_on&lang=en")

    switch = re.search(r'href="([^"]+)" id="switch-language"', ledger.text)
    back = re.search(r'href="([^"]+)" id="switch-language"', english.text)
    assert switch
    assert back
    assert unescape(switch[1]) == "?status=approved&sort=-applied_on&lang=en"
    assert unescape(back[1]) == "?status=approved&sort=-applied_on&lang=zh"
