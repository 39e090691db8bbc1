"""A dwebsocket 0.5 project, switched by `install_as_dwebsocket()` alone,
served for real by runserver, gunicorn gthread and uWSGI.

The project (./oldproject) imports from `dwebsocket`, lists `'dwebsocket'`
after `django.contrib.staticfiles`, has the old middleware path in
MIDDLEWARE and the old settings (MIDDLEWARE_CLASSES, WEBSOCKET_FACTORY_CLASS).
"""


import pytest
from websockets.sync.client import connect

from migration_servers import MIGRATION_SERVERS, OLDPROJECT, ServerProcess


@pytest.fixture(scope="module", params=MIGRATION_SERVERS)
def server(request, tmp_path_factory):
    running = ServerProcess(request.param, tmp_path_factory.mktemp(request.param),
                            project=OLDPROJECT)
    try:
        running.start().wait_ready()
        yield running
    finally:
        running.stop()


def ws(server, path):
    return connect(server.ws_url(path), open_timeout=10, close_timeout=5, compression=None)


def test_old_imports_serve_an_echo(server):
    with ws(server, "/echo/") as conn:
        conn.send("héllo")
        assert conn.recv(timeout=10) == "héllo"
        conn.send(b"\x00\xff")
        assert conn.recv(timeout=10) == b"\x00\xff"
    status, body = server.http_get("/echo/")
    assert (status, body) == (200, b"plain http")


def test_the_alias_is_the_new_package_with_the_legacy_api_on(server):
    with ws(server, "/how/") as conn:
        assert conn.recv(timeout=10) == (
            "dwebsocket=dwebsocket_c same_middleware=True legacy_api=True")


def test_old_middleware_path_with_accept_all(server):
    with ws(server, "/undecorated/") as conn:
        assert conn.recv(timeout=10) == "undecorated over websocket"


def test_require_websocket_refuses_plain_http(server):
    status, body = server.http_get("/only_ws/")
    assert status == 400, body


def test_the_log_shows_no_error(server):
    with ws(server, "/only_ws/") as conn:
        conn.send("once")
        assert conn.recv(timeout=10) == "once"
    log = server.log_text()
    assert "Traceback" not in log and "WebSocket refused" not in log, server.log_tail()
