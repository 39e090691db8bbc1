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
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))

from dws_servers import ServerProcess, migrate, server_env  # noqa: E402

from chromium_sessions import ChromiumSessions  # noqa: E402

BROWSER_SERVERS = ["runserver", "gunicorn-gthread"]


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


@pytest.fixture
def new_browser():
    """A factory of independent headless Chromium sessions, all quit at the end."""
    sessions = ChromiumSessions()
    yield sessions.new
    sessions.close()
