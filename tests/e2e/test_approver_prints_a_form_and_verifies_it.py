"""A district approver prints a household's 档案表 over HTTP for a stated purpose; the paper's
code verifies over HTTP and with `bangfu forms verify`; a print without a purpose is refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from adapters.cli.main import COMMANDS, parser
from adapters.runtime.bootstrap import runtime
from adapters.runtime.settings import Settings
from tests.conftest import SECRET, Api
from tests.e2e.http_helpers import API, BASE, DISTRICT, JSON, assert_problem, file_in

PURPOSE = {"X-Bangfu-Purpose": "annual audit"}


async def test_approver_prints_the_file_form_and_the_code_verifies(
    api: Api, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    file_id = await file_in(api, "approved", BASE)

    printed = await api.client.get(
        f"{API}/files/{file_id}/forms/file", headers=api.auth(DISTRICT, "approver", **PURPOSE)
    )
    code = printed.headers["X-Bangfu-Verification-Code"]
    verified = await api.client.post(
        f"{API}/forms/verification", json={"code": code}, headers=api.auth(BASE, "clerk", **JSON)
    )
    trail = await api.client.get(f"{API}/files/{file_id}/events", headers=api.auth(BASE, "clerk"))
    settings = Settings(database_url=database_url, data_dir=tmp_path, log_json=True, secret=SECRET)
    async with runtime(settings) as rt:
        status = await COMMANDS["forms"](rt, parser().parse_args(["forms", "verify", code]))

    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(printed.content)).pages)
    assert "困难职工档案表" in text
    assert code in text
    assert verified.status_code == 200, verified.text
    assert verified.json()["matches"] is True
    assert verified.json()["changed_since"] is False
    assert [e["type"] for e in trail.json()["events"]].count("access.file_printed") == 1
    assert status == 0
    assert "一致" in capsys.readouterr().out


async def test_a_print_without_a_purpose_is_refused_and_records_nothing(api: Api):
    file_id = await file_in(api, "approved", BASE)

    refused = await api.client.get(
        f"{API}/files/{file_id}/forms/file", headers=api.auth(DISTRICT, "approver")
    )
    trail = await api.client.get(f"{API}/files/{file_id}/events", headers=api.auth(BASE, "clerk"))

    assert_problem(refused, 422)
    assert "access.file_printed" not in [e["type"] for e in trail.json()["events"]]


async def test_a_mistyped_code_is_refused(api: Api):
    refused = await api.client.post(
        f"{API}/forms/verification",
        json={"code": "0000-0000-0001"},
        headers=api.auth(BASE, "clerk", **JSON),
    )

    assert_problem(refused, 422)
