"""Real servers for the tests of tests/django, serving ./wsproject.

(A module of its own, not conftest.py: test modules import from it, and
``conftest`` is not a unique module name across the test folders.)

``wsgi_server(kind, **env)`` starts one of SERVER_COMMANDS on a free
loopback port, waits until ``/health/`` answers, yields a :class:`Server`
(its port and a way to read its log), and stops it by its pid.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent

#: How to start each server; "{port}" is replaced.
SERVER_COMMANDS = {
    "runserver": [sys.executable, "manage.py", "runserver", "127.0.0.1:{port}", "--noreload"],
    "gunicorn-gthread": [
        str(BIN / "gunicorn"), "wsproject.wsgi", "-k", "gthread", "--threads", "32",
        "-b", "127.0.0.1:{port}", "--no-control-socket",
    ],
    "gunicorn-gevent": [
        str(BIN / "gunicorn"), "wsproject.wsgi", "-k", "gevent",
        "-b", "127.0.0.1:{port}", "--no-control-socket",
    ],
    "gunicorn-sync": [
        str(BIN / "gunicorn"), "wsproject.wsgi", "-b", "127.0.0.1:{port}", "--no-control-socket",
    ],
    "eventlet": [sys.executable, "wsproject/serve.py", "eventlet", "{port}"],
    "gevent-pywsgi": [sys.executable, "wsproject/serve.py", "gevent", "{port}"],
    "uwsgi-http-socket": [
        str(BIN / "uwsgi"), "--http-socket", "127.0.0.1:{port}", "--module",
        "wsproject.wsgi:application", "--threads", "32", "--master", "--die-on-term",
    ],
    "uwsgi-http-router": [
        str(BIN / "uwsgi"), "--http", "127.0.0.1:{port}", "--http-websockets", "--module",
        "wsproject.wsgi:application", "--threads", "32", "--master", "--die-on-term",
    ],
}

#: Servers that serve WebSockets (gunicorn-sync is refused with a 501).
WEBSOCKET_SERVERS = [name for name in SERVER_COMMANDS if name != "gunicorn-sync"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    kind: str
    port: int
    log_path: Path

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}"

    def log(self):
        return self.log_path.read_text(errors="replace")


@contextmanager
def wsgi_server(kind, tmp_path, **env):
    if kind.startswith("uwsgi") and not (BIN / "uwsgi").exists():
        pytest.skip("uWSGI is not installed (pip install uwsgi)")
    port = free_port()
    command = [part.format(port=port) for part in SERVER_COMMANDS[kind]]
    log_path = tmp_path / f"{kind}.log"
    environment = {
        **os.environ,
        "PYTHONPATH": str(HERE),
        "DJANGO_SETTINGS_MODULE": "wsproject.settings",
        "PYTHONWARNINGS": "ignore",
        **env,
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=HERE, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=1).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{kind} did not start:\n{log_path.read_text()}")
                time.sleep(0.1)
        yield Server(kind, port, log_path)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
