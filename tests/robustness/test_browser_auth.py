"""Item 9: session authentication inside a websocket view, from real
browsers: one logged in (via /ws/test-login/, enabled by EXAMPLE_TEST_LOGIN=1,
which dws_servers.server_env sets), one anonymous, in two separate headless
Chromium sessions (own profiles, own cookies), at the same time.

tests/browser has the pages (echo, chat, login) but not this; Origin checks
(cross-site WebSocket hijacking) are in tests/integration.

The browsers come from tests/browser/chromium_sessions.py (Debian's
chromium and chromium-driver; a missing binary fails the test).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "browser"))

from chromium_sessions import ChromiumSessions  # noqa: E402

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


@pytest.fixture
def browsers():
    sessions = ChromiumSessions()
    yield sessions.new
    sessions.close()


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
