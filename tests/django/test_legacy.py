"""Code written for dwebsocket 0.5, on the servers old projects ran on.

With ``WEBSOCKET_LEGACY_API`` (which ``install_as_dwebsocket()`` turns on),
the old end-of-connection signals are back: iteration yields a final
``None``, ``has_messages()`` turns True and ``read()`` returns ``None`` at
the close. Each old pattern must end within a second of the client's close.
A plain HTTP view that broadcasts to closing members gets no exception
(``send()`` from a thread that does not own the connection returns False).
"""

import re
import threading
import time
import urllib.request

import pytest
from websockets.sync.client import connect

from django_servers import wsgi_server

OLD_SERVERS = ["runserver", "gunicorn-gthread", "uwsgi"]


@pytest.fixture(scope="module", params=OLD_SERVERS)
def legacy_server(request, tmp_path_factory):
    with wsgi_server(request.param, tmp_path_factory.mktemp(request.param),
                     WSPROJECT_LEGACY="1") as running:
        yield running


def _ended_at(server, mark, view, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(rf"{view}: ended at ([0-9.]+)", server.log_since(mark))
        if found:
            return float(found.group(1))
        time.sleep(0.05)
    raise AssertionError(f"{view} never ended:\n{server.log_since(mark)[-3000:]}")


@pytest.mark.parametrize("view", ["old_iter", "old_poll", "old_wait"])
def test_old_end_of_connection_patterns_end_promptly(legacy_server, view):
    mark = legacy_server.log_mark()
    with connect(f"{legacy_server.url}/{view}/") as ws:
        ws.send("x")
        if view == "old_iter":
            assert ws.recv(timeout=5) == "x"
        time.sleep(0.3)  # the view is in its loop (old_poll: sleeping)
        closed_at = time.time()
    ended_at = _ended_at(legacy_server, mark, view)
    assert ended_at - closed_at < 1.0, (closed_at, ended_at)


def test_broadcast_from_plain_http_to_closing_members(legacy_server):
    """100 posts race with 10 members closing: every post is a 200."""
    members = [connect(f"{legacy_server.url}/old_room/", legacy=True, max_queue=None) for _ in range(10)]
    time.sleep(0.3)
    statuses, bodies = [], []

    def post_many():
        for i in range(100):
            url = f"http://127.0.0.1:{legacy_server.port}/old_post/?m=n{i}"
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    statuses.append(response.status)
                    bodies.append(response.read())
            except urllib.error.HTTPError as error:
                statuses.append(error.code)

    poster = threading.Thread(target=post_many)
    poster.start()
    for member in members:
        time.sleep(0.02)
        member.close()
    poster.join(60)
    assert statuses == [200] * 100, statuses
    assert bodies[0].startswith(b"sent="), bodies[0]
    assert "Internal Server Error" not in legacy_server.log()


def test_default_mode_iteration_has_no_final_none(tmp_path):
    """Without the legacy flag, iteration just ends (new code that sends what
    it iterates never gets None): old_iter then ends with the loop."""
    with wsgi_server("gunicorn-gthread", tmp_path) as server:
        mark = server.log_mark()
        with connect(f"{server.url}/old_poll/") as ws:
            ws.send("x")
        time.sleep(1.0)
        # has_messages() never turns True at the close: the old poll loop
        # does not see the end (the reason for the legacy flag).
        assert "old_poll: ended" not in server.log_since(mark)
