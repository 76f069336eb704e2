"""Browser tests: Debian's headless Chromium driven by Selenium, against the app on loopback.

The browser comes from the system (`apt-get install chromium chromium-driver`), never downloaded
by a test tool; `make test` installs it when run as root (Makefile `browser`). Without it these
tests fail naming what to install — unless `BANGFU_SKIP_BROWSER=1` says to skip them.

The browser gets no route to the internet: a proxy that does not exist for every host but the
loopback test server, so a page that reached for a CDN would fail to load it (and a test that
passes proves the page needs none).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from adapters.runtime.settings import Settings
from tests.conftest import SECRET
from tests.serving import ServerThread

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser")
INSTALL = "apt-get install chromium chromium-driver (as root), or set BANGFU_SKIP_BROWSER=1"


def _find(names: tuple[str, ...]) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


@pytest.fixture(scope="session")
def chromium() -> tuple[str, str]:
    """Paths of the system's Chromium and its matching chromedriver."""
    if os.environ.get("BANGFU_SKIP_BROWSER") == "1":
        pytest.skip("BANGFU_SKIP_BROWSER=1")
    browser, driver = _find(BROWSERS), _find(("chromedriver",))
    if browser is None or driver is None:
        pytest.fail(f"no Chromium or chromedriver on this machine: {INSTALL}", pytrace=False)
    return browser, driver


@pytest.fixture
def browser(chromium: tuple[str, str], tmp_path: Path) -> Iterator[webdriver.Chrome]:
    binary, driver = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespace for the sandbox
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'chromium'}",
        # the network closed: every host but loopback goes to a proxy that is not there
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
        "--lang=zh-CN",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    # a printed form or a downloaded scan lands in the test's folder, where a journey reads it
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(tmp_path / "downloads"),
            "download.prompt_for_download": False,
            "plugins.always_open_pdf_externally": True,
        },
    )
    service = Service(executable_path=driver)
    chrome = webdriver.Chrome(options=options, service=service)
    chrome.set_page_load_timeout(60)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture
def app_database(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture
def app_url(app_database: str, tmp_path: Path) -> Iterator[str]:
    """The app on a loopback port in a thread of its own (Selenium is synchronous)."""
    settings = Settings(database_url=app_database, data_dir=tmp_path, log_json=True, secret=SECRET)
    server = ServerThread(settings).start()
    try:
        yield server.url
    finally:
        server.stop()
