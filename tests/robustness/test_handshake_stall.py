"""Item 3: a handshake that never completes (TCP connect, half the request
headers, then silence).

Before the request is complete it belongs to the server, not to the library.
What is ours: the app's ``runserver`` (dwebsocket_c.devserver), which now
closes such a connection after ``WEBSOCKET_HANDSHAKE_TIMEOUT`` seconds of
silence (2 s in settings_fast_keepalive) and frees its thread. Without that
fix each stalled connection kept a runserver thread (and fd) forever.

What the other servers do with their defaults (measured by
``test_stalled_handshakes_other_servers``, figures in the summary table),
as of gunicorn 27.0, uWSGI 2.0.31, gevent 26.9, eventlet 0.41:

* gunicorn -k gevent: closed after ``--keep-alive`` (2 s by default);
* gunicorn -k gthread: never. Once the first bytes arrive a worker thread
  reads the rest blocking, with no timeout, so ``--threads N`` stalled
  handshakes stall the worker (slowloris): put nginx (client_header_timeout)
  or another buffering proxy in front;
* uWSGI --http-socket: closed after ``--socket-timeout`` (4 s by default);
* uWSGI --http (its router): closed after ``--http-timeout`` (60 s);
* eventlet.wsgi.server: never by default (pass ``socket_timeout=``);
* gevent.pywsgi.WSGIServer: never by default (no read timeout; a proxy in
  front is needed).

For every server we check that stalled handshakes do not stop it from
serving new connections.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from dws_servers import SERVER_NAMES
from robust_helpers import echo_once, eof_within, fd_count, settle, thread_count
from wsraw import OP_PING, OP_TEXT, RawWebSocket

HANDSHAKE_TIMEOUT = 2.0  # settings_fast_keepalive
DEFAULT_SETTINGS = "mysite.settings_for_tests"
HALF_REQUEST = b"GET /ws/echo/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"


def stall(server, data: bytes) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=10)
    if data:
        sock.sendall(data)
    return sock


@pytest.mark.parametrize("fast_server", ["runserver"], indirect=True)
def test_runserver_drops_stalled_handshakes(fast_server, figures):
    server = fast_server
    threads_before = settle(lambda: thread_count(server))
    fds_before = settle(lambda: fd_count(server))
    stalled = [stall(server, HALF_REQUEST) for _ in range(8)]
    stalled += [stall(server, b"") for _ in range(2)]  # connect, send nothing
    try:
        time.sleep(0.3)
        threads_during = thread_count(server)
        assert threads_during >= threads_before + len(stalled), "runserver did not take the connections?"
        echo_once(server)  # meanwhile, others are served
        start = time.monotonic()
        closed_after = [eof_within(s, HANDSHAKE_TIMEOUT + 3) for s in stalled]
        slowest = time.monotonic() - start + 0.3
    finally:
        for s in stalled:
            s.close()
    assert all(t is not None for t in closed_after), (
        f"runserver kept stalled handshakes open > {HANDSHAKE_TIMEOUT + 3} s: {closed_after}")
    threads_after = settle(lambda: thread_count(server))
    fds_after = settle(lambda: fd_count(server))
    figures("runserver: stalled handshakes closed after (s)", slowest)
    figures("runserver: threads before / with 10 stalled / after", f"{threads_before} / {threads_during} / {threads_after}")
    figures("runserver: fds before / after", f"{fds_before} / {fds_after}")
    assert HANDSHAKE_TIMEOUT - 0.5 < slowest < HANDSHAKE_TIMEOUT + 2
    assert threads_after <= threads_before, "a runserver thread outlived its stalled connection"
    assert fds_after <= fds_before
    log = server.log_text()
    assert "Traceback" not in log, server.log_tail()


@pytest.mark.parametrize("fast_server", ["runserver"], indirect=True)
def test_runserver_slow_but_progressing_handshake_is_served(fast_server):
    """The timeout is on silence, not on the whole request, and is lifted
    once the headers are in: a websocket opened slowly then works."""
    server = fast_server
    r = RawWebSocket(server.host, server.port)
    try:
        request = r.request_bytes("/ws/echo/")
        for i in range(0, len(request), len(request) // 3 + 1):
            r.sock.sendall(request[i:i + len(request) // 3 + 1])
            time.sleep(HANDSHAKE_TIMEOUT * 0.6)  # 3 pieces: longer than the timeout in all
        resp = r.read_http_response()
        assert resp.status == 101, resp
        r.send_text("slow but fine")
        op, payload = r.recv_message()
        while op == OP_PING:  # settings_fast_keepalive pings after 1 s of silence
            op, payload = r.recv_message()
        assert (op, payload) == (OP_TEXT, b"slow but fine")
    finally:
        r.close()


@pytest.mark.slow
def test_stalled_handshakes_other_servers(server_factory, figures):
    """Every server (default test settings): 5 stalled handshakes, then a new
    connection must still be served; record when each server drops them
    (watched for 6 s; see the module docstring for what each server does)."""
    names = [n for n in SERVER_NAMES if n != "runserver"]
    servers = [server_factory.get(n, DEFAULT_SETTINGS) for n in names]
    results: dict[str, object] = {}

    def probe(server):
        stalled = [stall(server, HALF_REQUEST) for _ in range(5)]
        try:
            time.sleep(0.3)
            try:
                echo_once(server)
                served = True
            except Exception as exc:  # reported below
                served = repr(exc)
            start = time.monotonic()
            times = []
            for s in stalled:
                left = 6.0 - (time.monotonic() - start)
                times.append(eof_within(s, max(left, 0.01)))
            results[server.name] = (served, times)
        finally:
            for s in stalled:
                s.close()

    threads = [threading.Thread(target=probe, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failures = []
    for name in names:
        served, times = results[name]
        closed = [t for t in times if t is not None]
        if len(closed) == len(times):
            figures(f"{name}: stalled handshakes closed by the server after (s)", max(closed) + 0.3)
        else:
            figures(f"{name}: stalled handshakes closed by the server", f"{len(closed)}/5 within 6 s")
        if served is not True:
            failures.append(f"{name}: a new connection was not served while 5 handshakes stalled: {served}")
    assert not failures, "\n".join(failures)
