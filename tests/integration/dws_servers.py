"""Start a Django project under each WSGI server, as real subprocesses.

The project is the example project unless a :class:`Project` is given
(tests/django serves its own). Shared by tests/integration, conformance,
robustness, browser and django. Each server listens on a free loopback port,
writes stdout+stderr to one log file, and is stopped by process group (the
group is its own: ``start_new_session=True``).
"""

from __future__ import annotations

import functools
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO / "example_project"
PYTHON = sys.executable
BIN = Path(sys.executable).parent

IDLE_SECONDS = 15.0  # test_zz_idle_connection_still_echoes
SERVER_PING_INTERVAL = 20.0  # dwebsocket_c's default WEBSOCKET_PING_INTERVAL
SERVER_PING_TIMEOUT = 20.0  # dwebsocket_c's default WEBSOCKET_PING_TIMEOUT

# The five of the brief, then two more that dwebsocket_c.servers supports:
# uWSGI behind its own HTTP router, and gevent's WSGI server without gunicorn.
SERVER_NAMES = ["runserver", "gunicorn-gthread", "gunicorn-gevent", "eventlet", "uwsgi",
                "uwsgi-http", "gevent-pywsgi"]
# server_command() also starts two servers that dwebsocket_c refuses with a
# 501, for the tests of that refusal: "gunicorn-sync" and "wsgiref".


@dataclass(frozen=True)
class Project:
    """A Django project to serve: where it is and what the servers load."""

    directory: Path  # the servers' cwd, and first on their PYTHONPATH
    wsgi_module: str  # holds ``application``
    settings_module: str
    health_path: str  # answers 200 "ok" once the project is loaded
    # eventlet and gevent-pywsgi run a script of the project: its arguments
    # after the interpreter, "{port}" replaced.
    green_scripts: dict[str, tuple[str, ...]]
    env: dict[str, str] = field(default_factory=dict)  # for every server of the project


EXAMPLE = Project(
    directory=EXAMPLE_DIR,
    wsgi_module="mysite.wsgi",
    settings_module="mysite.settings_for_tests",
    health_path="/ws/health/",
    green_scripts={"eventlet": ("serve_eventlet.py", "127.0.0.1", "{port}"),
                   "gevent-pywsgi": ("serve_gevent.py", "127.0.0.1", "{port}")},
)


def find_tool(name: str) -> str:
    """The console script next to this interpreter, else on PATH."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(
            f"{name!r} is not installed next to {PYTHON} nor on PATH: "
            f"pip install -e '.[servers]' (uWSGI needs a C compiler)"
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.lru_cache(maxsize=None)
def _gunicorn_has_control_socket() -> bool:
    out = subprocess.run([find_tool("gunicorn"), "--help"], capture_output=True, text=True, timeout=60)
    return "--no-control-socket" in out.stdout


def server_command(name: str, port: int, project: Project = EXAMPLE) -> list[str]:
    bind = f"127.0.0.1:{port}"
    if name == "runserver":
        # The app's own runserver (dwebsocket_c is before staticfiles in INSTALLED_APPS).
        return [PYTHON, "manage.py", "runserver", "--noreload", bind]
    if name.startswith("gunicorn-"):
        worker = name.split("-", 1)[1]
        cmd = [find_tool("gunicorn"), "-k", worker, "-w", "1", "-b", bind,
               "--access-logfile", "-", "--error-logfile", "-",
               "--graceful-timeout", "2", "--timeout", "60"]
        if _gunicorn_has_control_socket():
            # gunicorn >= 26 opens ~/.gunicorn/gunicorn.ctl: one path for every instance
            cmd += ["--no-control-socket"]
        if worker == "gthread":
            cmd += ["--threads", "50"]
        elif worker == "gevent":
            cmd += ["--worker-connections", "1000"]
        # (sync gets neither: --threads would make it gthread)
        return cmd + [f"{project.wsgi_module}:application"]
    if name in project.green_scripts:
        return [PYTHON, *(arg.format(port=port) for arg in project.green_scripts[name])]
    if name == "wsgiref":
        return [PYTHON, "-c", "from wsgiref.simple_server import make_server\n"
                              f"from {project.wsgi_module} import application\n"
                              f"make_server('127.0.0.1', {port}, application).serve_forever()"]
    if name in ("uwsgi", "uwsgi-http"):
        # uwsgi: the worker speaks HTTP itself (--http-socket);
        # uwsgi-http: uWSGI's HTTP router in front of the worker (--http).
        listen = ["--http-socket", bind] if name == "uwsgi" else ["--http", bind]
        return [find_tool("uwsgi"), *listen,
                "--wsgi-file", project.wsgi_module.replace(".", "/") + ".py",
                "--virtualenv", sys.prefix,
                "--master", "--processes", "1",
                "--threads", "50", "--enable-threads",
                "--die-on-term", "--need-app", "--strict",
                "--http-websockets",
                "--buffer-size", "32768"]
    raise ValueError(f"unknown server {name!r}")


class ServerDied(RuntimeError):
    pass


class ServerProcess:
    def __init__(self, name: str, log_dir: Path, env: dict[str, str] | None = None,
                 project: Project = EXAMPLE):
        self.name = name
        self.project = project
        self.port = free_port()
        self.host = "127.0.0.1"
        self.log_path = Path(log_dir) / f"{name}.log"
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.stopped_by_us = False
        self.cmd = server_command(name, self.port, project)

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> "ServerProcess":
        env = dict(os.environ)
        env.update({
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": self.project.settings_module,
            "PYTHONPATH": os.pathsep.join(
                p for p in [str(self.project.directory), env.get("PYTHONPATH", "")] if p),
        })
        env.update(self.project.env)
        env.update(self.env)
        self._log = open(self.log_path, "ab")
        self._log.write(f"$ {' '.join(self.cmd)}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.cmd, cwd=self.project.directory, env=env, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 45.0) -> None:
        deadline = time.monotonic() + timeout
        health = self.project.health_path
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerDied(f"{self.name} exited with {self.proc.returncode} while starting\n{self.log_tail()}")
            try:
                status, body = self.http_get(health, timeout=2)
                if status == 200 and body == b"ok":
                    return
                last = f"{status} {body[:200]!r}"
            except OSError as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise ServerDied(f"{self.name} did not answer GET {health} within {timeout}s (last: {last})\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.stopped_by_us = True
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
        self._log.close()

    # -- helpers -----------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def origin(self) -> str:
        return self.base_url

    def ws_url(self, path: str) -> str:
        return f"ws://{self.host}:{self.port}{path}"

    def http_get(self, path: str, headers: dict | None = None, timeout: float = 10) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            self.last_response = resp
            return resp.status, resp.read()
        finally:
            conn.close()

    def http_request(self, path: str, headers: dict | None = None, timeout: float = 10):
        """(status, headers list, body)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def log_text(self) -> str:
        try:
            self._log.flush()
        except (AttributeError, ValueError):
            pass
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def log_mark(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, mark: int) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(mark)
            return f.read().decode("utf-8", "replace")

    def log_tail(self, n: int = 80) -> str:
        lines = self.log_text().splitlines()[-n:]
        return f"----- last {len(lines)} lines of {self.log_path} -----\n" + "\n".join(lines)

    def __repr__(self):
        return f"<ServerProcess {self.name} {self.base_url} pid={self.proc and self.proc.pid}>"


def migrate(db_path: Path, log_dir: Path) -> None:
    """Create the SQLite database the servers share (auth tables for /ws/user/)."""
    env = dict(os.environ, DJANGO_DB_PATH=str(db_path), PYTHONUNBUFFERED="1")
    out = subprocess.run([PYTHON, "manage.py", "migrate", "--noinput"], cwd=EXAMPLE_DIR, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    (Path(log_dir) / "migrate.log").write_bytes(out.stdout)
    if out.returncode:
        raise RuntimeError(f"manage.py migrate failed ({out.returncode}):\n{out.stdout.decode(errors='replace')}")


def server_env(db_path: Path) -> dict[str, str]:
    return {"DJANGO_DB_PATH": str(db_path), "EXAMPLE_TEST_LOGIN": "1"}
