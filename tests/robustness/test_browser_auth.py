"""Item 9: session authentication inside a websocket view, from real
browsers: one logged in (via /ws/test-login/, enabled by EXAMPLE_TEST_LOGIN=1,
which dws_servers.server_env sets), one anonymous, in two separate headless
Chromium sessions (own profiles, own cookies), at the same time.

tests/browser has the pages (echo, chat, login) but not this; Origin checks
(cross-site WebSocket hijacking) are in tests/integration.

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian chromium and
chromium-driver), given explicitly: Selenium Manager never downloads anything.
Missing binaries fail the test (no skip).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The page's own origin opens the websocket: a browser sends its Origin and
# its session cookie, as it would from the site's pages.
OPEN_AND_READ = """
const done = arguments[arguments.length - 1];
const ws = new WebSocket(arguments[0]);
const got = [];
ws.onmessage = (e) => got.push(e.data);
ws.onclose = (e) => done({messages: got, code: e.code});
ws.onerror = () => {};
setTimeout(() => done({messages: got, code: "timeout"}), 10000);
"""


def _binary(env_name: str, default: str, package: str) -> str:
    path = os.environ.get(env_name) or default
    if not os.path.exists(path):
        found = shutil.which(os.path.basename(default))
        if found:
            return found
        pytest.fail(f"{path} not found: apt-get install {package} (or set {env_name})", pytrace=False)
    return path


@pytest.fixture
def browsers():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = _binary("CHROMIUM", "/usr/bin/chromium", "chromium")
    chromedriver = _binary("CHROMEDRIVER", "/usr/bin/chromedriver", "chromium-driver")
    made = []

    def make():
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--no-first-run", "--disable-extensions"):
            options.add_argument(arg)
        profile = tempfile.mkdtemp(prefix="dws-robust-chromium-")
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(15)
        made.append((driver, profile))
        return driver

    yield make
    for driver, profile in made:
        try:
            driver.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.parametrize("server", ["gunicorn-gthread"], indirect=True)
def test_session_user_in_websocket_view(server, browsers, figures):
    logged_in, anonymous = browsers(), browsers()
    logged_in.get(server.base_url + "/ws/test-login/?username=robust-alice")
    assert "logged in as robust-alice" in logged_in.page_source
    anonymous.get(server.base_url + "/ws/health/")
    url = server.ws_url("/ws/user/")
    alice = logged_in.execute_async_script(OPEN_AND_READ, url)
    anon = anonymous.execute_async_script(OPEN_AND_READ, url)
    figures("browser websocket as logged-in / anonymous", f"{alice} / {anon}")
    assert alice == {"messages": ["robust-alice"], "code": 1000}, alice
    assert anon == {"messages": ["anonymous"], "code": 1000}, anon
    # The logged-in browser's session survives: a second websocket, same user.
    again = logged_in.execute_async_script(OPEN_AND_READ, url)
    assert again["messages"] == ["robust-alice"], again
    # And logging in one browser did not log the other in.
    anon_again = anonymous.execute_async_script(OPEN_AND_READ, url)
    assert anon_again["messages"] == ["anonymous"], anon_again
