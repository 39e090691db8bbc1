"""The server matrix: the example project under every supported WSGI server.

How to run
----------
All servers (from the repository root, with the package installed in the venv)::

    /work/venv311/bin/python -m pytest tests/integration -v

One server only (each test id carries the server name: runserver,
gunicorn-gthread, gunicorn-gevent, eventlet, uwsgi, uwsgi-http,
gevent-pywsgi; ``-k`` matches substrings, so ``-k uwsgi`` runs both uWSGI
setups)::

    python -m pytest tests/integration -k uwsgi
    python -m pytest tests/integration -k "uwsgi and not uwsgi-http"
    python -m pytest tests/integration -k "gunicorn-gevent and close"

The command line of each server is ``dws_servers.server_command()``; the
same commands, for a person, are in example_project/README.md.

How it works
------------
Each test that takes the ``server`` fixture is parametrized over
``SERVER_NAMES``. The first such test starts, in parallel, every server that
the selected tests need (``-k uwsgi`` starts only uWSGI), each a subprocess
on a free 127.0.0.1 port running ``example_project/`` with a shared SQLite
database made by ``manage.py migrate``. Each server's stdout+stderr go to
``<log dir>/<server>.log``; the log dir is printed in the report header
(set ``DWS_SERVER_LOG_DIR`` to choose it). A test fails, with the log's
tail, if its server is dead before or after it; the servers are stopped at
the end of the session.

Right after a server answers, an idle websocket is opened to it;
``test_zz_idle_connection_still_echoes`` (the test_zz_* run last) checks
that it still echoes after 15 s without traffic, and
``test_zz_server_pings_an_idle_client`` that the server pinged a silent
client after WEBSOCKET_PING_INTERVAL (20 s), and
``test_zz_server_drops_a_client_that_never_pongs`` that it gave up on one
that never answers (1011, then TCP closed) after WEBSOCKET_PING_TIMEOUT
(20 s more). The waits overlap across servers, so they cost about 45 s in
all, not 45 s per server.

Nothing here skips: a missing server binary or a server that will not start
is a failure, with the reason.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dws_servers import SERVER_NAMES, ServerProcess, migrate, server_env  # noqa: E402


def _log_dir() -> Path:
    chosen = os.environ.get("DWS_SERVER_LOG_DIR")
    if chosen:
        path = Path(chosen)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix="dws-server-logs-"))


LOG_DIR: Path | None = None


def pytest_report_header(config):
    global LOG_DIR
    if LOG_DIR is None:
        LOG_DIR = _log_dir()
    return [f"dwebsocket-c server logs: {LOG_DIR}"]


def pytest_generate_tests(metafunc):
    if "server" in metafunc.fixturenames:
        metafunc.parametrize("server", SERVER_NAMES, indirect=True, scope="session")


def pytest_collection_modifyitems(session, config, items):
    """Run the test_zz_* (idle) tests of every server after all the others:
    their waits, counted from the servers' start, then overlap."""
    last = [item for item in items if item.name.startswith("test_zz_")]
    if last:
        items[:] = [item for item in items if not item.name.startswith("test_zz_")] + last


class IdleProbe:
    """Websockets opened as soon as the server answers, then left silent.

    * ``ws``: the `websockets` client (it answers pings by itself);
    * ``answering``: a raw socket; a thread answers every ping of the server
      with a pong, records when the first came (``ping_at``,
      ``ping_payload``), and puts every other frame in ``frames`` (a queue)
      until a close frame;
    * ``silent``: a raw socket that never answers anything.
    """

    def __init__(self, server: ServerProcess):
        import queue

        from wsraw import OP_CLOSE, OP_PING, OP_PONG, RawWebSocket

        self.frames = queue.Queue()
        self.first_ping = threading.Event()

        self.error = None
        self.ws = self.answering = self.silent = None
        self.ping_at = self.ping_payload = self.first_frame = None
        self.answer_error = None

        def open_raw():
            raw = RawWebSocket(server.host, server.port)
            resp = raw.handshake("/ws/echo/")
            if resp.status != 101:
                raise AssertionError(f"handshake answered {resp!r}")
            return raw

        def answer_pings():
            try:
                self.answering.sock.settimeout(300)
                while True:
                    op, payload = self.answering.recv_message()
                    if self.first_frame is None:
                        self.first_frame = (op, payload)
                    if op == OP_PING:
                        if self.ping_at is None:
                            self.ping_at = time.monotonic()
                            self.ping_payload = payload
                            self.first_ping.set()
                        self.answering.send_frame(OP_PONG, payload)
                        continue
                    self.frames.put((op, payload))
                    if op == OP_CLOSE:
                        return
            except Exception as exc:
                self.answer_error = exc
                self.frames.put(exc)
            finally:
                self.first_ping.set()

        try:
            from websockets.sync.client import connect

            self.answering = open_raw()
            self.silent = open_raw()
            self.ws = connect(server.ws_url("/ws/echo/"), open_timeout=10, close_timeout=3,
                              ping_interval=None, compression=None)
            self.ws.__enter__()  # websockets >= 17.1 warns unless entered
            self.opened_at = time.monotonic()
            self.thread = threading.Thread(target=answer_pings, daemon=True)
            self.thread.start()
        except Exception as exc:  # reported by the tests, not here
            self.error = exc

    def close(self):
        for conn in (self.ws, self.answering, self.silent):
            if conn is not None:
                try:
                    conn.close()
                except Exception:
                    pass


class ServerPool:
    def __init__(self, names: list[str], log_dir: Path):
        self.names = names
        self.log_dir = log_dir
        self.servers: dict[str, ServerProcess] = {}
        self.errors: dict[str, str] = {}
        self.idle: dict[str, IdleProbe] = {}
        self.db_path = log_dir / "db.sqlite3"

    def start(self) -> None:
        if self.db_path.exists():
            self.db_path.unlink()
        migrate(self.db_path, self.log_dir)
        env = server_env(self.db_path)
        for name in self.names:
            try:
                self.servers[name] = ServerProcess(name, self.log_dir, env).start()
            except Exception as exc:
                self.errors[name] = f"{name} could not be started: {exc!r}"

        def ready(server):
            try:
                server.wait_ready()
                self.idle[server.name] = IdleProbe(server)
            except Exception as exc:
                self.errors[server.name] = str(exc)

        threads = [threading.Thread(target=ready, args=(s,)) for s in self.servers.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def get(self, name: str) -> ServerProcess:
        if name in self.errors:
            pytest.fail(self.errors[name], pytrace=False)
        if name not in self.servers:
            # A server that collection did not foresee (should not happen).
            server = ServerProcess(name, self.log_dir, server_env(self.db_path)).start()
            self.servers[name] = server
            server.wait_ready()
        return self.servers[name]

    def stop(self) -> list[str]:
        died = []
        for probe in self.idle.values():
            probe.close()
        for server in self.servers.values():
            if server.proc is not None and server.proc.poll() is not None and not server.stopped_by_us:
                died.append(f"{server.name} died during the session (exit {server.proc.returncode})\n"
                            f"{server.log_tail()}")
            server.stop()
        return died


@pytest.fixture(scope="session")
def server_pool(request):
    global LOG_DIR
    if LOG_DIR is None:
        LOG_DIR = _log_dir()
    wanted = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "server" in callspec.params:
            name = callspec.params["server"]
            if name not in wanted:
                wanted.append(name)
    pool = ServerPool(wanted, LOG_DIR)
    pool.start()
    yield pool
    died = pool.stop()
    if died:
        pytest.fail("\n\n".join(died), pytrace=False)


@pytest.fixture(scope="session")
def server(request, server_pool) -> ServerProcess:
    return server_pool.get(request.param)


@pytest.fixture(autouse=True)
def _server_must_stay_alive(request):
    if "server" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("server")
    if not server.alive():
        pytest.fail(f"{server.name} is not running (exit {server.proc.returncode})\n{server.log_tail()}",
                    pytrace=False)
    yield
    if not server.alive():
        pytest.fail(f"{server.name} died during this test (exit {server.proc.returncode})\n{server.log_tail()}",
                    pytrace=False)


@pytest.fixture
def idle_probe(request, server, server_pool) -> IdleProbe:
    probe = server_pool.idle.get(server.name)
    if probe is None:
        pytest.fail(f"no idle probe for {server.name}", pytrace=False)
    return probe
