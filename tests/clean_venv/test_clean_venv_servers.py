"""A clean virtualenv with only the declared extras runs every server command
of the README.

The working tree is copied (its tracked and new files) and installed with
``pip install '<copy>[servers]'`` into an empty venv; then each command of
the README's server table is run as written, from example_project/, in that
venv as if activated (only the port differs), and must serve a WebSocket
echo. A dependency a server needs but does not declare (gunicorn 27 imports
``packaging`` for its gevent worker) fails here, not on a user's machine.
pip's cache is allowed, so a rerun does not compile uWSGI again.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def readme_server_commands() -> dict[str, str]:
    """server name -> the first command in its row of the README's table."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("\n## Servers\n", 1)[1].split("\n## ", 1)[0]
    commands = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`"):
            commands[cells[0]] = re.match(r"`([^`]+)`", cells[1]).group(1)
    return commands


# What the test process may carry that a user's shell does not
# (scripts/sanitize-tests preloads ASan and puts its build first).
_NOT_A_USERS_ENV = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "PYTHONMALLOC",
                    "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DWEBSOCKET_SANITIZED",
                    "DJANGO_SETTINGS_MODULE")


def users_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_A_USERS_ENV}
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def on_port(command: str, port: int) -> list[str]:
    """The README's command, listening on ``port`` instead of 8000."""
    argv = shlex.split(command.replace("127.0.0.1:8000", f"127.0.0.1:{port}"))
    if argv[:3] == ["python", "manage.py", "runserver"]:
        argv.append(f"127.0.0.1:{port}")
    elif argv[-2:] == ["127.0.0.1", "8000"]:
        argv[-1] = str(port)
    assert str(port) in " ".join(argv), f"no address to change in {command!r}"
    return argv


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("clean-venv")
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.split(b"\0")
    source = root / "src"
    for name in filter(None, files):
        path = REPO / os.fsdecode(name)
        if path.is_file():
            target = source / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{source}[servers]"],
        capture_output=True, text=True, timeout=600, env=users_env(),
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return root


COMMANDS = readme_server_commands()


def test_the_readme_lists_the_servers():
    assert len(COMMANDS) == 6, COMMANDS


@pytest.mark.parametrize("server", sorted(COMMANDS))
def test_readme_command_serves_an_echo(clean_venv, server):
    venv_bin = clean_venv / "venv" / "bin"
    port = free_port()
    env = users_env(
        PATH=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        VIRTUAL_ENV=str(clean_venv / "venv"),  # as `source venv/bin/activate` does
        HOME=str(clean_venv),  # gunicorn >= 26 keeps a control socket there
        DJANGO_DB_PATH=str(clean_venv / "db.sqlite3"),
        PYTHONUNBUFFERED="1",
    )
    log_path = clean_venv / (re.sub(r"\W+", "-", server) + ".log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            on_port(COMMANDS[server], port), cwd=clean_venv / "src" / "example_project",
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"{server} exited:\n{log_path.read_text()}"
            try:
                with connect(f"ws://127.0.0.1:{port}/echo/", open_timeout=5,
                             close_timeout=5, compression=None) as ws:
                    ws.send("clean venv")
                    assert ws.recv(timeout=10) == "clean venv"
                    ws.send(b"\x00\x01")
                    assert ws.recv(timeout=10) == b"\x00\x01"
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{server} did not listen:\n{log_path.read_text()}") from None
                time.sleep(0.2)
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (its workers too), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
