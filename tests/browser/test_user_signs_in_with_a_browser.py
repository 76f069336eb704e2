"""In a real headless Chromium: a user signs in, sees the home page, signs out; the API docs at
`/schema` render the API's operations with the network closed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from adapters.pg.accounts import PgAccounts
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.settings import Settings
from adapters.services.accounts import AccountService
from domain.values import Role

pytestmark = pytest.mark.slow

PASSWORD = "晴天-Harbour-47"


async def _account(database_url: str, tmp_path: Path) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        service = AccountService.from_settings(
            Settings(database_url=database_url, data_dir=tmp_path, log_json=True),
            PgAccounts(pool),
            PgUnitDirectory(pool),
        )
        await service.create(
            None,
            user="approver-wang",
            unit="130306",
            role=Role.APPROVER,
            display_name="王芳",
            password=PASSWORD,
            must_change=False,
        )
    finally:
        await pool.close()


def wait(browser: webdriver.Chrome) -> WebDriverWait:
    return WebDriverWait(browser, 30)


def test_a_user_signs_in_sees_the_home_page_and_signs_out(
    browser: webdriver.Chrome, app_url: str, app_database: str, tmp_path: Path
):
    asyncio.run(_account(app_database, tmp_path))

    browser.get(app_url + "/")
    wait(browser).until(seen.presence_of_element_located((By.ID, "sign-in")))
    browser.find_element(By.ID, "user").send_keys("approver-wang")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "submit").click()
    wait(browser).until(seen.presence_of_element_located((By.ID, "who")))
    home = browser.find_element(By.ID, "who").text
    browser.find_element(By.ID, "sign-out").click()
    wait(browser).until(seen.presence_of_element_located((By.ID, "sign-in")))
    browser.get(app_url + "/console/")
    wait(browser).until(seen.presence_of_element_located((By.ID, "sign-in")))

    assert "approver-wang" in home
    assert "王芳" in home
    assert "130306" in home
    assert "审核人" in home
    assert browser.current_url.endswith("/console/sign-in")


def test_the_api_docs_render_the_operations_with_the_network_closed(
    browser: webdriver.Chrome, app_url: str
):
    browser.get(app_url + "/schema")
    wait(browser).until(lambda b: "签发令牌" in b.find_element(By.TAG_NAME, "body").text)
    text = browser.find_element(By.TAG_NAME, "body").text

    for operation in ("申请 — open a household file", "新建账户", "审核认定"):
        assert operation in text
    # Redoc's own logos point at cdn.redoc.ly: refused by the page's policy (img-src 'self'),
    # they load nothing; every resource that did load came from bangfu
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource')"
        ".map(e => [e.name, e.responseStatus, e.transferSize])"
    )
    loaded = [name for name, status, size in resources if status or size]
    assert f"{app_url}/static/redoc.standalone.js" in loaded
    assert [name for name in loaded if not name.startswith(app_url)] == [], resources
