"""Headless Chromium (Selenium) against the example project.

    python -m pytest tests/browser -v
    python -m pytest tests/browser -k runserver

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian's chromium and
chromium-driver; scripts/bootstrap installs them). Selenium Manager is never
used: the driver is given explicitly, so nothing is downloaded. Missing
binaries fail the tests (they do not skip).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))

from dws_servers import ServerProcess, migrate, server_env  # noqa: E402

BROWSER_SERVERS = ["runserver", "gunicorn-gthread"]


def _binary(env_name: str, default: str, package: str) -> str:
    path = os.environ.get(env_name) or default
    if not os.path.exists(path):
        found = shutil.which(os.path.basename(default))
        if found:
            return found
        pytest.fail(f"{path} not found: apt-get install {package} (or set {env_name})", pytrace=False)
    return path


@pytest.fixture(scope="session")
def browser_log_dir() -> Path:
    chosen = os.environ.get("DWS_SERVER_LOG_DIR")
    if chosen:
        path = Path(chosen) / "browser"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix="dws-browser-logs-"))


@pytest.fixture(scope="session", params=BROWSER_SERVERS)
def live_server(request, browser_log_dir):
    db = browser_log_dir / f"db-{request.param}.sqlite3"
    migrate(db, browser_log_dir)
    server = ServerProcess(request.param, browser_log_dir, server_env(db)).start()
    try:
        server.wait_ready()
        yield server
    finally:
        died = server.proc.poll() is not None
        server.stop()
        if died:
            pytest.fail(f"{server.name} died during the browser tests\n{server.log_tail()}", pytrace=False)


#: Set by scripts/sanitize-tests for the Python processes; the browser is
#: not built with ASan and aborts if libasan is preloaded into it.
SANITIZER_VARIABLES = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "PYTHONMALLOC")


def browser_environment():
    """The environment for chromedriver and Chromium: ours, minus the sanitizer's."""
    return {k: v for k, v in os.environ.items() if k not in SANITIZER_VARIABLES}


@pytest.fixture
def new_browser():
    """A factory of independent headless Chromium sessions, all quit at the end."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = _binary("CHROMIUM", "/usr/bin/chromium", "chromium")
    chromedriver = _binary("CHROMEDRIVER", "/usr/bin/chromedriver", "chromium-driver")
    drivers = []

    def make():
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--no-first-run", "--disable-extensions", "--window-size=1024,768"):
            options.add_argument(arg)
        user_dir = tempfile.mkdtemp(prefix="dws-chromium-")
        options.add_argument(f"--user-data-dir={user_dir}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console, for failures
        driver = webdriver.Chrome(
            service=Service(executable_path=chromedriver, env=browser_environment()), options=options
        )
        driver.set_page_load_timeout(30)
        drivers.append((driver, user_dir))
        return driver

    yield make
    for driver, user_dir in drivers:
        try:
            driver.quit()
        finally:
            shutil.rmtree(user_dir, ignore_errors=True)
