"""A district imports its files with the scans its sheet names: over HTTP, the sheet and a zip of
the scans (an upload far above the API's 1 MB); from the command line, the sheet and a folder; in
the console, the sheet and a zip."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import asyncpg

from adapters.services.importer import file_id_for
from adapters.services.scans import scan
from domain.idnumber import make_id_number
from tests.conftest import Api
from tests.e2e.console_helpers import console, csrf_of
from tests.e2e.test_district_imports_reconciles_and_matches_civil_affairs import _seed_policy

HEADERS = [
    "户主姓名", "身份证号码", "申请时间", "授权书（声明书）", "入户调查时间", "调查人", "家庭成员",
    "家庭年收入", "刚性支出", "致困原因", "评议时间", "公示开始", "公示结束", "审批时间",
    "帮扶时间", "分类帮扶措施", "分类型帮扶部门", "帮扶金额", "附件",
]  # fmt: skip
ONE = make_id_number("130306", date(1975, 4, 4), 11).value
TWO = make_id_number("130306", date(1976, 5, 5), 13).value
SPOUSE = make_id_number("130306", date(1977, 6, 6), 22).value
FILED = {
    "申请时间": "2023-03-02",
    "授权书（声明书）": "是",
    "入户调查时间": "2023-03-09",
    "调查人": "赵一、钱二",
    "家庭年收入": "9600",
    "刚性支出": "1200",
    "致困原因": "因病",
    "评议时间": "2023-03-12",
    "公示开始": "2023-03-13",
    "公示结束": "2023-03-20",
    "审批时间": "2023-03-25",
}


def sheet() -> bytes:
    """张一 over two rows (two assistances, a spouse earning 3600 of the 9600), with two scans;
    张二 naming a scan the zip or folder does not hold."""
    rows = [
        {
            "户主姓名": "张一",
            "身份证号码": ONE,
            **FILED,
            "家庭成员": f"王某/妻/{SPOUSE}/在岗/3600",
            "帮扶时间": "2023-04-10",
            "分类帮扶措施": "医疗救助",
            "分类型帮扶部门": "县医保局",
            "帮扶金额": "1500",
            "附件": "授权书:扫描件/张一授权书.jpg",
        },
        {
            "身份证号码": ONE,
            "帮扶时间": "2023-09-01",
            "分类帮扶措施": "金秋助学",
            "分类型帮扶部门": "教育局",
            "帮扶金额": "2000",
            "附件": "诊断证明:张一诊断.pdf",
        },
        {"户主姓名": "张二", "身份证号码": TWO, **FILED, "附件": "诊断证明:张二诊断.pdf"},
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["抚宁区困难职工档案"])
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([row.get(h, "") for h in HEADERS])
    return out.getvalue().encode("gb18030")


SCANS = {
    "扫描件/张一授权书.jpg": scan(1, "image/jpeg"),
    "扫描件/张一诊断.pdf": scan(2, "application/pdf"),
}


async def stored(database_url: str, file_id: object) -> tuple[list[str], int]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert pool is not None
    try:
        kinds = [
            r[0]
            for r in await pool.fetch(
                "SELECT type FROM events WHERE stream_id = $1 ORDER BY version", file_id
            )
        ]
        scans = await pool.fetchval(
            "SELECT count(*) FROM attachments WHERE stream_id = $1", file_id
        )
        return kinds, scans
    finally:
        await pool.close()


async def bangfu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "adapters.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_over_http_with_a_zip_of_the_scans(api: Api, database_url: str) -> None:
    await _seed_policy(database_url)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in SCANS.items():
            z.writestr(f"二〇二三年档案/{name}", content)
        z.writestr("其他/未列入的大文件.pdf", os.urandom(3 * 1024 * 1024))  # unnamed: never read
    approver = api.auth("130306", "approver")

    imported = await api.client.post(
        "/api/v1/imports",
        files={
            "file": ("files.csv", sheet(), "text/csv"),
            "attachments": ("scans.zip", archive.getvalue(), "application/zip"),
        },
        data={"unit": "130306001"},
        headers=approver,
    )

    assert imported.status_code == 201, imported.text
    body = imported.json()
    assert (body["created"], body["scans"]) == (1, 2)
    assert [(e["row"], e["column"]) for e in body["refused"]] == [(5, "附件")]
    assert "张二诊断.pdf" in body["refused"][0]["reason"]
    one = file_id_for("130306001", ONE)
    kinds, scans = await stored(database_url, one)
    assert (kinds.count("household.assisted"), kinds.count("household.attachment_added")) == (2, 2)
    assert scans == 2
    assert await stored(database_url, file_id_for("130306001", TWO)) == ([], 0)
    listed = await api.client.get(f"/api/v1/files/{one}/attachments", headers=approver)
    assert listed.status_code == 200, listed.text
    not_a_zip = await api.client.post(
        "/api/v1/imports",
        files={
            "file": ("files.csv", sheet(), "text/csv"),
            "attachments": ("scans.zip", b"not a zip", "application/zip"),
        },
        data={"unit": "130306001"},
        headers={**approver, "Accept-Language": "zh-CN"},
    )
    assert not_a_zip.status_code == 422, not_a_zip.text
    assert "附件压缩包无法读取" in not_a_zip.text
    schema = (await api.client.get("/schema/openapi.json")).json()
    described = schema["paths"]["/api/v1/imports"]["post"]["description"]
    assert "attachments" in described
    assert "256 MB" in described


async def test_from_the_command_line_with_a_folder_of_the_scans(
    database_url: str, tmp_path: Path
) -> None:
    await _seed_policy(database_url)
    folder = tmp_path / "附件"
    for name, content in SCANS.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    (tmp_path / "files.csv").write_bytes(sheet())
    env = {
        **os.environ,
        "BANGFU_DATABASE_URL": database_url,
        "BANGFU_DATA_DIR": str(tmp_path),
        "BANGFU_LOG_JSON": "1",
        "COLUMNS": "200",
    }

    done = await bangfu(
        "import", "files", str(tmp_path / "files.csv"), "--unit", "130306001",
        "--attachments", str(folder), env=env,
    )  # fmt: skip
    helped = await bangfu("import", "files", "--help", env=env)

    assert done.returncode == 0, done.stderr
    assert "新建 1 户" in done.stdout
    assert "附件 2 份" in done.stdout
    assert "第5行 附件" in done.stdout
    kinds, scans = await stored(database_url, file_id_for("130306001", ONE))
    assert (kinds.count("household.attachment_added"), scans) == (2, 2)
    assert "--attachments" in helped.stdout
    assert "同一个身份证号码" in helped.stdout or "same 身份证号码" in helped.stdout
    assert "材料:文件名" in helped.stdout


async def test_in_the_console_with_a_zip_of_the_scans(
    database_url: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await _seed_policy(database_url)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for name, content in SCANS.items():
            z.writestr(name, content)

    async with (
        console(database_url, pool, tmp_path) as desk,
        desk.person("approver-wang", "130306", "approver") as approver,
    ):
        page = await approver.get("/console/paper")
        done = await approver.post(
            "/console/paper/import",
            data={"csrf": csrf_of(page.text), "unit": "130306001"},
            files={
                "file": ("files.csv", sheet(), "text/csv"),
                "attachments": ("scans.zip", archive.getvalue(), "application/zip"),
            },
        )

    assert 'name="attachments"' in page.text
    assert done.status_code == 201, done.text
    assert "附件（扫描件）" in done.text
    assert "未导入的行（1）" in done.text
    assert "张二诊断.pdf" in done.text
    kinds, scans = await stored(database_url, file_id_for("130306001", ONE))
    assert (kinds.count("household.attachment_added"), scans) == (2, 2)
