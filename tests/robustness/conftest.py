"""Robustness tests: the example project under real servers, attacked.

    /work/venv311/bin/python -m pytest tests/robustness -s      # ~3-4 min
    /work/venv311/bin/python -m pytest tests/robustness -m "not slow"

Servers are started by ``tests/integration/dws_servers.py`` (one subprocess
per server, own process group, log in the log dir printed in the header),
lazily, the first time a test asks for a (server, settings module) pair, and
stopped at the end of the session. Two settings modules are used:

* ``mysite.settings_for_tests`` (the integration suite's: close timeout 2 s);
* ``mysite.settings_fast_keepalive`` (ping every 1 s, 1 s ping timeout, 2 s
  send timeout, 2 s handshake timeout), for the tests that wait for a
  timeout.

Every test records what it measured (RSS, file descriptors, timings,
throughput) with the ``figures`` fixture; the table is printed at the end of
the run (``pytest_terminal_summary``) and, with ``-s``, as it goes.
Nothing skips: a missing server or tool is a failure.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "integration"))

from dws_servers import ServerProcess, migrate, server_env  # noqa: E402

# 1,000 concurrent websockets (test_load) need ~1,000 fds in the client and
# in the server; servers inherit this process's limit.
WANTED_NOFILE = 8192


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = WANTED_NOFILE if hard == resource.RLIM_INFINITY else min(WANTED_NOFILE, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


_raise_fd_limit()

FIGURES: list[tuple[str, str, str]] = []
_FIGURES_LOCK = threading.Lock()


class Figures:
    """Measured values of one test, for the summary table."""

    def __init__(self, test: str):
        self.test = test

    def __call__(self, what: str, value) -> None:
        text = value if isinstance(value, str) else f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
        with _FIGURES_LOCK:
            FIGURES.append((self.test, what, text))
        print(f"\n    [figure] {self.test}: {what} = {text}", end="")


@pytest.fixture
def figures(request) -> Figures:
    return Figures(request.node.name)


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    tr = terminalreporter
    tr.section("dwebsocket-c robustness figures")
    width_test = max(len(t) for t, _, _ in FIGURES)
    width_what = max(len(w) for _, w, _ in FIGURES)
    for test, what, value in FIGURES:
        tr.write_line(f"{test:<{width_test}}  {what:<{width_what}}  {value}")


def _log_dir() -> Path:
    chosen = os.environ.get("DWS_SERVER_LOG_DIR")
    if chosen:
        path = Path(chosen) / "robustness"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix="dws-robustness-logs-"))


LOG_DIR: Path | None = None


def _get_log_dir() -> Path:
    global LOG_DIR
    if LOG_DIR is None:
        LOG_DIR = _log_dir()
    return LOG_DIR


def pytest_report_header(config):
    return [f"dwebsocket-c robustness server logs: {_get_log_dir()}"]


DEFAULT_SETTINGS = "mysite.settings_for_tests"
FAST_SETTINGS = "mysite.settings_fast_keepalive"


class RobustServer(ServerProcess):
    """A ServerProcess with its own settings module and log file name."""

    def __init__(self, name: str, log_dir: Path, env: dict, settings: str, extra_args: dict | None = None):
        super().__init__(name, log_dir, env)
        self.settings = settings
        tag = settings.rsplit(".", 1)[-1].replace("settings_", "")
        self.log_path = Path(log_dir) / f"{name}--{tag}.log"
        # MALLOC_ARENA_MAX=2: glibc gives each thread (gthread: 50) an arena
        # of its own, whose fragmentation makes RSS drift by several MiB
        # with no leak at all; two arenas make the RSS figures mean something.
        self.env = dict(self.env, DJANGO_SETTINGS_MODULE=settings, MALLOC_ARENA_MAX="2")
        for old, new in (extra_args or {}).items():
            self.cmd = [new if arg == old else arg for arg in self.cmd]


class ServerFactory:
    """Starts each (server, settings) pair once per session, in the background."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.db_path = log_dir / "db.sqlite3"
        if self.db_path.exists():
            self.db_path.unlink()
        migrate(self.db_path, log_dir)
        self.servers: dict[tuple, RobustServer] = {}
        self.errors: dict[tuple, str] = {}
        self.lock = threading.Lock()

    def start_many(self, keys: list[tuple[str, str]]) -> None:
        """Start several servers at once and wait until they all answer."""
        fresh = []
        with self.lock:
            for key in keys:
                if key in self.servers or key in self.errors:
                    continue
                name, settings = key
                extra = {"1000": "1100"} if name == "gunicorn-gevent" else None  # --worker-connections
                try:
                    self.servers[key] = RobustServer(name, self.log_dir, server_env(self.db_path),
                                                     settings, extra).start()
                    fresh.append(key)
                except Exception as exc:
                    self.errors[key] = f"{name} ({settings}) could not be started: {exc!r}"

        def ready(key):
            try:
                self.servers[key].wait_ready()
            except Exception as exc:
                self.errors[key] = str(exc)

        threads = [threading.Thread(target=ready, args=(k,)) for k in fresh]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def get(self, name: str, settings: str = DEFAULT_SETTINGS) -> RobustServer:
        key = (name, settings)
        self.start_many([key])
        if key in self.errors:
            pytest.fail(self.errors[key], pytrace=False)
        server = self.servers[key]
        if not server.alive():
            pytest.fail(f"{name} ({settings}) is not running (exit {server.proc.returncode})\n"
                        f"{server.log_tail()}", pytrace=False)
        return server

    def stop(self) -> list[str]:
        died = []
        for server in self.servers.values():
            if server.proc is not None and server.proc.poll() is not None and not server.stopped_by_us:
                died.append(f"{server.name} ({server.settings}) died during the session "
                            f"(exit {server.proc.returncode})\n{server.log_tail()}")
            server.stop()
        return died


def _wanted_servers(session) -> list[tuple[str, str]]:
    """The (server, settings) pairs the collected tests ask for, from their
    ``servers`` marker-free convention: params named ``server`` / ``fast_server``."""
    wanted = []
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is None:
            continue
        for param, settings in (("server", DEFAULT_SETTINGS), ("fast_server", FAST_SETTINGS)):
            if param in callspec.params:
                key = (callspec.params[param], settings)
                if key not in wanted:
                    wanted.append(key)
    return wanted


@pytest.fixture(scope="session")
def server_factory(request):
    factory = ServerFactory(_get_log_dir())
    # Start every server the selected tests will need at once (in parallel).
    factory.start_many(_wanted_servers(request.session))
    yield factory
    died = factory.stop()
    if died:
        pytest.fail("\n\n".join(died), pytrace=False)


@pytest.fixture
def server(request, server_factory) -> RobustServer:
    """Parametrize a test with ``server`` (a name): that server, default test settings."""
    return server_factory.get(request.param, DEFAULT_SETTINGS)


@pytest.fixture
def fast_server(request, server_factory) -> RobustServer:
    """Parametrize with ``fast_server``: that server under settings_fast_keepalive."""
    return server_factory.get(request.param, FAST_SETTINGS)


@pytest.fixture(autouse=True)
def _server_must_stay_alive(request):
    names = [n for n in ("server", "fast_server") if n in request.fixturenames]
    servers = [request.getfixturevalue(n) for n in names]
    yield
    for s in servers:
        if not s.alive():
            pytest.fail(f"{s.name} ({s.settings}) died during this test (exit {s.proc.returncode})\n"
                        f"{s.log_tail()}", pytrace=False)
