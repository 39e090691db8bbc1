"""Keepalive, closing from another thread, the middleware, refused servers."""

import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus
from websockets.sync.client import connect

from django_servers import wsgi_server
from wsclient import raw_handshake, read_until_eof

FAST_KEEPALIVE = {"WSPROJECT_PING": "1", "WSPROJECT_PING_TIMEOUT": "1"}


@pytest.mark.parametrize("kind", ["gunicorn-gthread", "runserver", "gunicorn-gevent"])
def test_keepalive(kind, tmp_path):
    with wsgi_server(kind, tmp_path, **FAST_KEEPALIVE) as server:
        # A client that never answers pings: ping after ~1 s of silence,
        # close 1011 after ~1 s more, then TCP closes.
        started = time.monotonic()
        sock, _, rest = raw_handshake(server.port, "/idle/")
        data = read_until_eof(sock, rest)
        elapsed = time.monotonic() - started
        sock.close()
        assert data[:2] == b"\x89\x04", data  # ping, 4-byte payload
        assert data[6:7] == b"\x88" and data[8:10] == b"\x03\xf3", data  # close 1011
        assert 1.5 < elapsed < 5, elapsed

        # A client that answers pings stays connected through long silences.
        with connect(server.url + "/idle/", ping_interval=None) as ws:
            time.sleep(4)
            ws.send("late")
            assert ws.recv(timeout=5) == "got late closed=False code=None"


def test_close_from_another_thread_during_wait(tmp_path):
    with wsgi_server("gunicorn-gthread", tmp_path) as server:
        with connect(server.url + "/closer_thread/") as ws:
            with pytest.raises(ConnectionClosed) as info:
                ws.recv(timeout=5)
            assert (info.value.rcvd.code, info.value.rcvd.reason) == (4001, "from thread")
        time.sleep(0.5)
        assert "closer_thread: wait() -> None closed=True" in server.log()


def test_middleware_with_accept_all(tmp_path):
    with wsgi_server(
        "runserver", tmp_path, WSPROJECT_MIDDLEWARE="1", WSPROJECT_ACCEPT_ALL="1"
    ) as server:
        with connect(server.url + "/plain/") as ws:  # undecorated view
            with pytest.raises(ConnectionClosed) as info:
                ws.recv(timeout=5)
            assert info.value.rcvd.code == 1000
        with connect(server.url + "/echo/") as ws:  # decorated: upgraded once
            ws.send("x")
            assert ws.recv() == "x"


def test_middleware_without_accept_all(tmp_path):
    with wsgi_server("gunicorn-gthread", tmp_path, WSPROJECT_MIDDLEWARE="1") as server:
        with pytest.raises(InvalidStatus) as info:
            connect(server.url + "/plain/")
        assert info.value.response.status_code == 400
        assert b"WEBSOCKET_ACCEPT_ALL" in info.value.response.body
        with connect(server.url + "/echo/") as ws:
            ws.send("x")
            assert ws.recv() == "x"


def test_gunicorn_sync_worker_is_refused_with_501(tmp_path):
    with wsgi_server("gunicorn-sync", tmp_path) as server:
        with pytest.raises(InvalidStatus) as info:
            connect(server.url + "/echo/")
        assert info.value.response.status_code == 501
        assert b"-k gthread" in info.value.response.body
        time.sleep(0.3)
        assert server.log().count("WebSocket refused: gunicorn") == 1


def test_plain_wsgiref_server_is_refused_with_501(tmp_path):
    with wsgi_server("wsgiref", tmp_path) as server:
        sock, head, rest = raw_handshake(server.port, "/echo/")
        body = read_until_eof(sock, rest)
        sock.close()
        assert head.startswith(b"HTTP/1.0 501"), head
        assert b"INSTALLED_APPS" in body and b"WSGIServer/" in body


def test_text_as_str_setting(tmp_path):
    with wsgi_server("gunicorn-gthread", tmp_path, WSPROJECT_TEXT_AS_STR="1") as server:
        with connect(server.url + "/info/") as ws:
            ws.recv()
            ws.recv()
            ws.send("té")
            assert ws.recv() == "str:2"
            ws.send(b"bb")
            assert ws.recv() == "BinaryMessage:2"
        with connect(server.url + "/echo/") as ws:  # str echoes as text
            ws.send("下载")
            assert ws.recv() == "下载"
            ws.send(b"\xff")
            assert ws.recv() == b"\xff"
