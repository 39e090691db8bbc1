"""Headless Chromium sessions for the browser tests, shared by
tests/browser and tests/robustness.

The browser and its driver are Debian's (/usr/bin/chromium,
/usr/bin/chromedriver, or $CHROMIUM / $CHROMEDRIVER), given explicitly so
that Selenium Manager never downloads anything. A missing binary fails the
test: it does not skip.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

CHROMIUM_ARGUMENTS = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                      "--no-first-run", "--disable-extensions", "--window-size=1024,768")

#: Set by scripts/sanitize-tests for the Python processes; the browser is
#: not built with ASan and aborts if libasan is preloaded into it.
SANITIZER_VARIABLES = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "PYTHONMALLOC")


def browser_environment() -> dict[str, str]:
    """The environment for chromedriver and Chromium: ours, minus the sanitizer's."""
    return {k: v for k, v in os.environ.items() if k not in SANITIZER_VARIABLES}


def find_binary(env_name: str, default: str, package: str) -> str:
    path = os.environ.get(env_name) or default
    if not os.path.exists(path):
        found = shutil.which(os.path.basename(default))
        if found:
            return found
        pytest.fail(f"{path} not found: apt-get install {package} (or set {env_name})", pytrace=False)
    return path


class ChromiumSessions:
    """Independent headless Chromium sessions (own profile, own cookies);
    ``close()`` quits them all and removes their profiles."""

    def __init__(self) -> None:
        self.chromium = find_binary("CHROMIUM", "/usr/bin/chromium", "chromium")
        self.chromedriver = find_binary("CHROMEDRIVER", "/usr/bin/chromedriver", "chromium-driver")
        self._open: list[tuple[object, str]] = []

    def new(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = self.chromium
        for arg in CHROMIUM_ARGUMENTS:
            options.add_argument(arg)
        profile = tempfile.mkdtemp(prefix="dws-chromium-")
        options.add_argument(f"--user-data-dir={profile}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console, for failures
        service = Service(executable_path=self.chromedriver, env=browser_environment())
        driver = webdriver.Chrome(service=service, options=options)
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(15)
        self._open.append((driver, profile))
        return driver

    def close(self) -> None:
        while self._open:
            driver, profile = self._open.pop()
            try:
                driver.quit()
            finally:
                shutil.rmtree(profile, ignore_errors=True)
