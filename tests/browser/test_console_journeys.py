"""The console's journeys in a real headless Chromium, each ending in what the page shows and what
the store holds: a clerk records the investigation and the appraisal; an approver approves from
the queue and prints the file's contact card for a purpose (the PDF the browser receives); a clerk
records a visit on a phone-sized window and attaches a scan, which the file page lists; an
inspector runs a spot-check and opens its findings; a clerk of another unit opening the file's
address gets the not-found page; a form posted with bad input comes back with the error beside the
field and nothing written.

A screenshot of each journey's last page goes to `BANGFU_SCREENSHOTS` (default
`.bangfu-screenshots/`, not committed)."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import Select, WebDriverWait

from adapters.http.auth import Tokens
from adapters.services.scans import scan
from domain.values import Role
from tests.conftest import SECRET
from tests.e2e.console_helpers import PASSWORD, make_account
from tests.e2e.http_helpers import (
    BASE,
    BODIES,
    DISTRICT,
    OTHER_BASE,
    STEPS_TO,
    application,
    verification,
)

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(os.environ.get("BANGFU_SCREENSHOTS", ".bangfu-screenshots"))


def wait(browser: webdriver.Chrome) -> WebDriverWait:
    return WebDriverWait(browser, 30)


def shot(browser: webdriver.Chrome, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def auth(unit: str, role: str) -> dict[str, str]:
    token = Tokens(SECRET).mint(
        user=f"{role}-{unit}", unit=unit, role=Role(role), ttl=timedelta(hours=1)
    )
    return {"Authorization": f"Bearer {token}"}


def file_in(app_url: str, status: str) -> str:
    """A file of BASE taken to `status` over the API."""
    with httpx.Client(base_url=app_url, timeout=30) as client:
        made = client.post("/api/v1/files", json=application(), headers=auth(BASE, "clerk"))
        assert made.status_code == 201, made.text
        file_id = str(made.json()["id"])
        for step in STEPS_TO[status]:
            who = auth(DISTRICT, "approver") if step == "approval" else auth(BASE, "clerk")
            # a fresh investigation each time: one member in two open files is refused (一户一档)
            body: dict[str, Any] = verification() if step == "verification" else BODIES[step]
            done = client.post(f"/api/v1/files/{file_id}/{step}", json=body, headers=who)
            assert done.status_code == 200, done.text
    return file_id


def projected(app_url: str) -> None:
    with httpx.Client(base_url=app_url, timeout=30) as client:
        for _ in range(300):
            checks = client.get("/health/ready").json().get("checks", {})
            lags = [v for k, v in checks.items() if k.startswith("projection.")]
            if lags and all(v.startswith("0 events") for v in lags):
                return
            asyncio.run(asyncio.sleep(0.1))
    raise AssertionError("read models still behind")


def events(database_url: str, stream_id: str) -> list[str]:
    async def read() -> list[str]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT type FROM events WHERE stream_id = $1 ORDER BY version", stream_id
            )
        finally:
            await conn.close()
        return [r["type"] for r in rows]

    return asyncio.run(read())


def sign_in(
    browser: webdriver.Chrome,
    app_url: str,
    database_url: str,
    tmp: Path,
    user: str,
    unit: str,
    role: str,
) -> None:
    asyncio.run(make_account(database_url, tmp, user, unit, role))
    browser.get(app_url + "/console/sign-in")
    wait(browser).until(seen.presence_of_element_located((By.ID, "sign-in")))
    browser.find_element(By.ID, "user").send_keys(user)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "submit").click()
    wait(browser).until(seen.presence_of_element_located((By.ID, "menu")))


def fill(browser: webdriver.Chrome, values: dict[str, str]) -> None:
    for input_id, value in values.items():
        element = browser.find_element(By.ID, input_id)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        elif element.get_attribute("type") == "checkbox":
            if not element.is_selected():
                element.click()
        else:
            element.clear()
            element.send_keys(value)


def open_action(browser: webdriver.Chrome, slug: str) -> None:
    browser.find_element(By.CSS_SELECTOR, f"#action-{slug} > summary").click()
    wait(browser).until(seen.visibility_of_element_located((By.ID, f"submit-{slug}")))


def submit(browser: webdriver.Chrome, slug: str) -> None:
    browser.find_element(By.ID, f"submit-{slug}").click()


def text(browser: webdriver.Chrome, element_id: str) -> str:
    return str(browser.find_element(By.ID, element_id).text)


def downloaded(folder: Path, suffix: str) -> bytes:
    """The content of the one file the browser saved into `folder`, once complete."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = list(folder.glob(f"*{suffix}")) if folder.exists() else []
        if done:
            return done[0].read_bytes()
        time.sleep(0.1)
    raise AssertionError(f"nothing saved in {folder}")


def test_a_clerk_opens_a_file_and_records_the_investigation_and_appraisal(
    browser: webdriver.Chrome, app_url: str, app_database: str, tmp_path: Path
):
    file_id = file_in(app_url, "applied")
    projected(app_url)
    sign_in(browser, app_url, app_database, tmp_path, "clerk-li", BASE, "clerk")

    browser.find_element(By.LINK_TEXT, "台账").click()
    wait(browser).until(seen.presence_of_element_located((By.ID, "ledger")))
    browser.find_element(By.CSS_SELECTOR, f'tr[data-file-id="{file_id}"] a').click()
    wait(browser).until(seen.presence_of_element_located((By.ID, "actions")))
    open_action(browser, "verification")
    fill(
        browser,
        {
            "f-verified-on": "2026-01-10",
            "f-investigators": "赵立新\n钱丽华",
            "f-annual-income": "9600",
            "f-rigid-expenses": "1200",
            "f-primary-cause": "illness",
            "f-members-0-name": "王芳",
            "f-members-0-relation": "spouse",
            "f-members-0-id-number": "130306198002030220",
            "f-members-0-status": "unemployed",
        },
    )
    submit(browser, "verification")
    wait(browser).until(seen.presence_of_element_located((By.ID, "done")))
    open_action(browser, "appraisal")
    fill(
        browser,
        {
            "f-appraised-on": "2026-01-12",
            "f-minutes-on-file": "on",
            "f-publicity-start": "2026-01-13",
            "f-publicity-end": "2026-01-20",
        },
    )
    submit(browser, "appraisal")
    wait(browser).until(seen.text_to_be_present_in_element((By.ID, "done"), "民主评议与公示"))
    shot(browser, "clerk-investigation-appraisal")

    assert text(browser, "status") == "已评议公示"
    assert "clerk-li" in text(browser, "timeline")
    assert "王芳" in text(browser, "members")
    assert events(app_database, file_id) == [
        "household.applied",
        "household.verified",
        "household.appraised",
    ]


def test_an_approver_approves_from_the_queue(
    browser: webdriver.Chrome, app_url: str, app_database: str, tmp_path: Path
):
    file_id = file_in(app_url, "appraised")
    projected(app_url)
    sign_in(browser, app_url, app_database, tmp_path, "approver-wang", DISTRICT, "approver")

    assert browser.find_element(By.CSS_SELECTOR, "#work-approvals .count").text == "1"
    browser.find_element(By.ID, "work-approvals").click()
    wait(browser).until(seen.presence_of_element_located((By.ID, "work-items")))
    browser.find_element(By.CSS_SELECTOR, f'tr[data-file-id="{file_id}"] a').click()
    wait(browser).until(seen.presence_of_element_located((By.ID, "actions")))
    open_action(browser, "approval")
    fill(
        browser,
        {"f-approved-on": "2026-01-25", "f-file-level": "district"},
    )
    submit(browser, "approval")
    wait(browser).until(seen.presence_of_element_located((By.ID, "done")))
    shot(browser, "approver-approves")
    status, category = text(browser, "status"), text(browser, "category")
    fill(browser, {"print-form": "card", "print-purpose": "入户走访时交给职工"})
    browser.find_element(By.ID, "submit-print").click()
    pdf = downloaded(tmp_path / "downloads", ".pdf")

    assert status == "在档"
    assert category  # the approval judged the category
    assert pdf.startswith(b"%PDF")
    assert events(app_database, file_id)[-1] == "household.approved"


def test_a_clerk_records_a_visit_on_a_phone(
    browser: webdriver.Chrome, app_url: str, app_database: str, tmp_path: Path
):
    file_id = file_in(app_url, "approved")
    browser.set_window_size(390, 844)
    sign_in(browser, app_url, app_database, tmp_path, "clerk-li", BASE, "clerk")

    browser.get(f"{app_url}/console/files/{file_id}")
    wait(browser).until(seen.presence_of_element_located((By.ID, "actions")))
    open_action(browser, "visits")
    fill(
        browser,
        {
            "f-visited-on": "2026-04-10",
            "f-cadre": "周海燕",
            "f-content": "季度走访，了解家庭收支",
            "f-quarter-income": "3600.00",
        },
    )
    submit(browser, "visits")
    wait(browser).until(seen.presence_of_element_located((By.ID, "done")))
    last_visit = text(browser, "last-visit")
    photo = tmp_path / "身份证.png"
    photo.write_bytes(scan(1))
    browser.find_element(By.CSS_SELECTOR, "#action-attach > summary").click()
    wait(browser).until(seen.visibility_of_element_located((By.ID, "submit-attach")))
    Select(browser.find_element(By.ID, "attach-kind")).select_by_value("id_copy")
    browser.find_element(By.ID, "attach-file").send_keys(str(photo))
    browser.find_element(By.ID, "submit-attach").click()
    wait(browser).until(seen.presence_of_element_located((By.ID, "attachment-list")))
    shot(browser, "clerk-visit-and-scan-phone")
    width = browser.execute_script("return document.documentElement.scrollWidth")
    viewport = browser.execute_script("return window.innerWidth")
    listed = browser.find_element(By.CSS_SELECTOR, "#attachment-list tbody tr").text

    assert last_visit == "2026-04-10"
    assert "身份证复印件" in listed
    assert "身份证.png" in listed
    assert width <= viewport  # nothing wider than the phone's screen
    assert events(app_database, file_id)[-2:] == [
        "household.visited",
        "household.attachment_added",
    ]


def test_an_inspector_runs_a_spot_check_and_opens_its_findings(
    browser: webdriver.Chrome, app_url: str, app_database: str, tmp_path: Path
):
    for _ in range(2):
        file_in(app_url, "approved")
    projected(app_url)
    sign_in(browser, app_url, app_database, tmp_path, "inspector-zhou", DISTRICT, "inspector")

    browser.find_element(By.LINK_TEXT, "抽查").click()
    wait(browser).until(seen.presence_of_element_located((By.ID, "start-spot-check")))
    fill(browser, {"sc-unit": DISTRICT, "sc-sample": "2", "sc-seed": "7"})
    browser.find_element(By.ID, "submit-spot-check").click()
    wait(browser).until(seen.presence_of_element_located((By.ID, "findings")))
    shot(browser, "inspector-spot-check")
    check_id = browser.current_url.rstrip("/").rsplit("/", 1)[1]

    assert text(browser, "files-checked") == "2"
    assert browser.find_element(By.ID, "spot-check-xlsx").get_attribute("href").endswith("/xlsx")
    assert events(app_database, check_id)[-1] == "spotcheck.completed"


def test_a_clerk_of_another_unit_gets_the_not_found_page(
    browser: webdriver.Chrome, app_url: str, app_database: str, tmp_path: Path
):
    file_id = file_in(app_url, "approved")
    sign_in(browser, app_url, app_database, tmp_path, "clerk-zhao", OTHER_BASE, "clerk")

    browser.get(f"{app_url}/console/files/{file_id}")
    wait(browser).until(seen.presence_of_element_located((By.ID, "not-found")))
    shot(browser, "other-unit-not-found")

    assert text(browser, "not-found") == "未找到"
    assert "张" not in browser.find_element(By.TAG_NAME, "main").text
    assert events(app_database, file_id)[-1] == "household.approved"


def test_a_form_with_bad_input_shows_the_error_beside_the_field_and_writes_nothing(
    browser: webdriver.Chrome, app_url: str, app_database: str, tmp_path: Path
):
    file_id = file_in(app_url, "approved")
    before = events(app_database, file_id)
    sign_in(browser, app_url, app_database, tmp_path, "clerk-li", BASE, "clerk")

    browser.get(f"{app_url}/console/files/{file_id}")
    wait(browser).until(seen.presence_of_element_located((By.ID, "actions")))
    open_action(browser, "assistance")
    fill(
        browser,
        {
            "f-assisted-on": "2026-02-10",
            "f-kind": "living_aid",
            "f-amount": "八百元",
            "f-department": "union",
        },
    )
    submit(browser, "assistance")
    wait(browser).until(seen.presence_of_element_located((By.ID, "f-amount-error")))
    shot(browser, "bad-input-inline-error")
    field = browser.find_element(By.CSS_SELECTOR, '[data-field="amount"]')

    assert (
        field.find_element(By.ID, "f-amount-error").text == "金额应为数字，最多两位小数，如 550.00"
    )
    assert field.find_element(By.ID, "f-amount").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "action-assistance").get_attribute("open") is not None
    assert events(app_database, file_id) == before
