"""Item 3: a handshake that never completes (TCP connect, half the request
headers, then silence).

Before the request is complete it belongs to the server, not to the library.
What is ours: the app's ``runserver`` (dwebsocket_c.devserver), which now
closes such a connection once its request line and headers have taken
``WEBSOCKET_HANDSHAKE_TIMEOUT`` seconds (2 s in settings_fast_keepalive),
silent or trickling a byte now and then, and frees its thread. Without that
fix each stalled connection kept a runserver thread (and fd) forever, and
with a deadline on silence only, so did one that sent a byte every second.

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

import select
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


def trickle(server, data: bytes, interval: float, give_up: float) -> float | None:
    """Send ``data`` one byte every ``interval`` seconds, as a slowloris
    client does; seconds until the server dropped the connection (None if it
    had not after ``give_up`` seconds, or the bytes ran out)."""
    start = time.monotonic()
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        for byte in data:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start
            # wait for the next byte, watching for the server's close
            readable, _, _ = select.select([sock], [], [], interval)
            if readable:
                try:
                    if not sock.recv(65536):
                        return time.monotonic() - start
                except ConnectionResetError:
                    return time.monotonic() - start
            if time.monotonic() - start > give_up:
                return None
    return None


@pytest.mark.parametrize("fast_server", ["runserver"], indirect=True)
def test_runserver_drops_trickling_handshakes_at_the_deadline(fast_server, figures):
    """One header byte every 0.5 s (never 2 s of silence): dropped once the
    request line and headers took WEBSOCKET_HANDSHAKE_TIMEOUT in all; before,
    such a client kept its thread as long as it kept trickling."""
    server = fast_server
    threads_before = settle(lambda: thread_count(server))
    slow_request = HALF_REQUEST + b"X-Padding: " + b"x" * 40  # ~50 s at this pace
    results: list[float | None] = []
    clients = [threading.Thread(target=lambda: results.append(
        trickle(server, slow_request, 0.5, HANDSHAKE_TIMEOUT + 8))) for _ in range(4)]
    for client in clients:
        client.start()
    time.sleep(1.0)
    threads_during = thread_count(server)
    for client in clients:
        client.join(30)
    threads_after = settle(lambda: thread_count(server))
    figures("runserver: trickling handshakes dropped after (s)", ", ".join(
        "never" if t is None else f"{t:.2f}" for t in results))
    figures("runserver: threads before / with 4 trickling / after",
            f"{threads_before} / {threads_during} / {threads_after}")
    assert len(results) == 4 and all(t is not None for t in results), (
        f"runserver kept trickling handshakes open > {HANDSHAKE_TIMEOUT + 8} s: {results}")
    assert all(HANDSHAKE_TIMEOUT - 0.5 < t < HANDSHAKE_TIMEOUT + 3 for t in results), results
    assert threads_during >= threads_before + 4, "runserver did not take the connections?"
    assert threads_after <= threads_before, "a runserver thread outlived its trickling connection"
    echo_once(server)  # and the server still serves


@pytest.mark.parametrize("fast_server", ["runserver"], indirect=True)
def test_runserver_slow_but_progressing_handshake_is_served(fast_server):
    """A request sent in pieces within the deadline is served, and the
    deadline ends with the headers: the websocket then lives on past it."""
    server = fast_server
    r = RawWebSocket(server.host, server.port)
    try:
        start = time.monotonic()
        request = r.request_bytes("/ws/echo/")
        for i in range(0, len(request), len(request) // 3 + 1):
            r.sock.sendall(request[i:i + len(request) // 3 + 1])
            time.sleep(HANDSHAKE_TIMEOUT * 0.2)  # 3 pieces: 1.2 s in all
        resp = r.read_http_response()
        assert resp.status == 101, resp
        for n in range(4):  # until well past the deadline
            time.sleep(HANDSHAKE_TIMEOUT * 0.4)
            r.send_text(f"slow but fine {n}")
            op, payload = r.recv_message()
            while op == OP_PING:  # settings_fast_keepalive pings after 1 s of silence
                op, payload = r.recv_message()
            assert (op, payload) == (OP_TEXT, f"slow but fine {n}".encode())
        assert time.monotonic() - start > HANDSHAKE_TIMEOUT * 2
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
