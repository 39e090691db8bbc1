"""Fixtures of the group tests: one redis-server and one set of servers for
the whole session, all serving example_project with ``REDIS_URL`` set.

Servers (each a real subprocess, see tests/integration/dws_servers.py):
gunicorn gthread with 2 worker processes, gunicorn gevent (1,100
connections allowed, for the 1,000-member test), eventlet, uWSGI and the
app's runserver. Their logs, and Redis's, go to one temporary directory
printed in the report header.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "integration"))

from dws_servers import ServerProcess, migrate, server_env  # noqa: E402
from group_env import LOG_DIR  # noqa: E402
from redis_server import RedisServer  # noqa: E402

GROUP_SERVERS = ["gunicorn-gthread", "gunicorn-gevent", "eventlet", "uwsgi", "runserver"]



def pytest_report_header(config):
    return [f"dwebsocket-c group test logs: {LOG_DIR}"]


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer(LOG_DIR).start()
    yield server
    server.stop()


def _with_option(cmd: list[str], option: str, value: str) -> list[str]:
    cmd = list(cmd)
    cmd[cmd.index(option) + 1] = value
    return cmd


@pytest.fixture(scope="session")
def group_servers(redis_server):
    """name -> ServerProcess, every one on ``redis_server``."""
    db_path = LOG_DIR / "db.sqlite3"
    migrate(db_path, LOG_DIR)
    env = dict(server_env(db_path), REDIS_URL=redis_server.url)
    servers = {}
    for name in GROUP_SERVERS:
        server = ServerProcess(name, LOG_DIR, env)
        if name == "gunicorn-gthread":
            server.cmd = _with_option(server.cmd, "-w", "2")
        if name == "gunicorn-gevent":
            server.cmd = _with_option(server.cmd, "--worker-connections", "1100")
        servers[name] = server.start()
    errors = []

    def ready(server):
        try:
            server.wait_ready(60)
        except Exception as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=ready, args=(s,)) for s in servers.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        if errors:
            pytest.fail("\n\n".join(errors), pytrace=False)
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(autouse=True)
def _servers_alive(request):
    yield
    if "group_servers" in request.fixturenames:
        servers = request.getfixturevalue("group_servers")
        dead = [s for s in servers.values() if not s.alive()]
        assert not dead, "\n".join(s.log_tail() for s in dead)
