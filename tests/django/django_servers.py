"""Real servers for the tests of tests/django, serving ./wsproject.

The servers are those of tests/integration/dws_servers.py, given this
project. (A module of its own, not conftest.py: test modules import from it,
and ``conftest`` is not a unique module name across the test folders.)
"""

import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

from dws_servers import SERVER_NAMES, Project, ServerProcess  # noqa: E402

WSPROJECT = Project(
    directory=HERE,
    wsgi_module="wsproject.wsgi",
    settings_module="wsproject.settings",
    health_path="/health/",
    green_scripts={"eventlet": ("wsproject/serve.py", "eventlet", "{port}"),
                   "gevent-pywsgi": ("wsproject/serve.py", "gevent", "{port}")},
    env={"PYTHONWARNINGS": "ignore"},
)

#: Every server that serves WebSockets (gunicorn-sync and wsgiref are refused with a 501).
WEBSOCKET_SERVERS = SERVER_NAMES


class Server(ServerProcess):
    """A server of wsproject, with the short spellings the tests use."""

    @property
    def url(self):
        return f"ws://{self.host}:{self.port}"

    def log(self):
        return self.log_text()


@contextmanager
def wsgi_server(kind, log_dir, **env):
    """Serve wsproject with ``kind`` (``env``: WSPROJECT_* settings knobs) until the block ends."""
    try:
        server = Server(kind, log_dir, env, project=WSPROJECT)
    except FileNotFoundError as missing:  # the servers are an optional extra (uWSGI needs gcc)
        pytest.skip(str(missing))
    try:
        server.start().wait_ready()
        yield server
    finally:
        server.stop()
