"""Items 4, 5 and 6: clients that stop cooperating.

* 4: a client that never answers our close frame is dropped after
  WEBSOCKET_CLOSE_TIMEOUT (2 s in the test settings). tests/integration
  already checks that TCP is closed within 6 s after a view *returns*
  without the client answering; here: the timing (not before ~2 s, not
  much after), an explicit ``close()`` by the view, a client that keeps
  sending data instead of its close frame, and a 1009 failure after which
  the client stays silent.
* 5: a half-open connection (the client vanished without FIN: it neither
  reads nor answers) is dropped by the keepalive: ping after 1 s of
  silence, close 1011 and TCP after 1 s more (settings_fast_keepalive).
* 6: a client that reads nothing while the view streams: the server's
  memory stays bounded, the view's ``send()`` raises ``ConnectionClosed``
  after WEBSOCKET_SEND_TIMEOUT (2 s in settings_fast_keepalive), the server
  lets go of the connection, and a new connection is served.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid

import pytest

import wsraw
from dws_servers import SERVER_NAMES
from robust_helpers import (
    MIB, OP_BINARY, OP_CLOSE, OP_TEXT, echo_once, eof_within, fd_count, masked_header, raw_open,
    recv_close, rss_kib, settle, socket_fd_count, wait_until, SANITIZER_RSS_ALLOWANCE_KIB,
)
from wsraw import OP_PING

CLOSE_TIMEOUT = 2.0  # settings_for_tests and settings_fast_keepalive
PING_INTERVAL = PING_TIMEOUT = 1.0  # settings_fast_keepalive
SEND_TIMEOUT = 2.0  # settings_fast_keepalive


# ------------------------------------------------------------------ item 4


def _flood(r, stop: threading.Event) -> None:
    """Keep sending small text messages, never a close frame."""
    frame = wsraw.build_frame(OP_TEXT, b"still talking " * 20)
    try:
        while not stop.is_set():
            r.sock.sendall(frame * 50)
            time.sleep(0.01)
    except OSError:
        pass


@pytest.mark.parametrize("server", SERVER_NAMES, indirect=True)
def test_client_never_answers_our_close(server, figures):
    """Three connections at once, none answering the server's close frame:
    (a) the view calls close() and the client goes silent; (b) the view
    calls close() and the client keeps sending data messages; (c) the
    client sends a 1009-worthy header, then stays silent. Each: the
    server's close frame at once, then TCP closed after ~CLOSE_TIMEOUT."""
    fds_before = settle(lambda: socket_fd_count(server))
    silent = raw_open(server, "/ws/close/?code=4001&reason=bye")
    talker = raw_open(server, "/ws/close/?code=4002&reason=bye")
    oversize = raw_open(server)
    stop = threading.Event()
    results = {}

    def watch(label, r, expected_code, trigger, keep_talking=False):
        try:
            start = time.monotonic()
            trigger(r)
            code, _, _ = recv_close(r, timeout=5)
            assert code == expected_code, (label, code)
            flood = None
            if keep_talking:
                flood = threading.Thread(target=_flood, args=(r, stop), daemon=True)
                flood.start()
            # we never send our close frame: the server must give up by itself
            took = eof_within(r.sock, CLOSE_TIMEOUT + 4)
            results[label] = None if took is None else time.monotonic() - start
        except Exception as exc:
            results[label] = exc

    def big_header(r):
        r.send_raw(masked_header(OP_BINARY, 1 << 30)[0])

    threads = [
        threading.Thread(target=watch, args=("close(), client silent", silent, 4001, lambda r: r.send_text("go"))),
        threading.Thread(target=watch, args=("close(), client keeps sending", talker, 4002,
                                             lambda r: r.send_text("go"), True)),
        threading.Thread(target=watch, args=("1009, client silent", oversize, 1009, big_header)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for r in (silent, talker, oversize):
        r.close()
    problems = []
    for label, took in results.items():
        if isinstance(took, Exception):
            problems.append(f"{label}: {took!r}")
            continue
        figures(f"{server.name}: TCP closed after ({label}) (s)", "never" if took is None else took)
        if took is None:
            problems.append(f"{label}: TCP still open {CLOSE_TIMEOUT + 4} s after the server's close frame")
        elif label.startswith("1009"):
            # Failing the connection: close frame then FIN at once
            # (SHUT_WR); the server then reads and discards until our EOF,
            # at most CLOSE_TIMEOUT; its socket count is checked below.
            if took > CLOSE_TIMEOUT + 1.5:
                problems.append(f"{label}: TCP closed after {took:.2f} s")
        elif not CLOSE_TIMEOUT - 0.3 <= took <= CLOSE_TIMEOUT + 1.5:
            problems.append(f"{label}: TCP closed after {took:.2f} s, expected ~{CLOSE_TIMEOUT} s")
    assert not problems, "\n".join(problems)
    # 1009 case: the server drains for CLOSE_TIMEOUT after its FIN
    fds_after = wait_until(lambda: (n := socket_fd_count(server)) <= fds_before and n, timeout=CLOSE_TIMEOUT + 2)
    fds_after = socket_fd_count(server)
    figures(f"{server.name}: server sockets before / after", f"{fds_before} / {fds_after}")
    assert fds_after <= fds_before
    echo_once(server)


# ------------------------------------------------------------------ item 5


@pytest.mark.parametrize("fast_server", SERVER_NAMES, indirect=True)
def test_half_open_connection_dropped_by_keepalive(fast_server, figures):
    """Two clients vanish without FIN: one right after the handshake, one
    after a message (the server is idle in wait() in both). Each socket
    stays open on our side but reads nothing and answers nothing. The
    server pings after PING_INTERVAL, gives up after PING_TIMEOUT more
    (close 1011, then TCP), and its socket count goes back to where it was."""
    server = fast_server
    sockets_before = settle(lambda: socket_fd_count(server), quiet=0.3)
    start = time.monotonic()
    gone = [raw_open(server), raw_open(server)]
    gone[1].send_text("last words")
    during = socket_fd_count(server)
    try:
        # Do not read anything for a while: a vanished client.
        freed = wait_until(lambda: socket_fd_count(server) <= sockets_before, timeout=PING_INTERVAL + PING_TIMEOUT + 4)
        took = time.monotonic() - start
        assert freed, (f"the server still holds the half-open connections "
                       f"({socket_fd_count(server)} sockets, {sockets_before} before)\n{server.log_tail(30)}")
        # What the client would have seen had it been there: ping, close 1011, EOF.
        for r in gone:
            r.sock.settimeout(1)
            frames = []
            while True:
                op, payload = r.recv_message()
                frames.append(op)
                if op == OP_CLOSE:
                    break
            assert OP_PING in frames, frames
            assert wsraw.parse_close_payload(payload)[0] == 1011
            assert eof_within(r.sock, 1) is not None
    finally:
        for r in gone:
            r.close()
    figures(f"{server.name}: half-open connections freed after (s)", took)
    figures(f"{server.name}: server sockets before / during / after", f"{sockets_before} / {during} / {socket_fd_count(server)}")
    assert PING_INTERVAL + PING_TIMEOUT - 0.3 <= took <= PING_INTERVAL + PING_TIMEOUT + 2.5


# ------------------------------------------------------------------ item 6

STREAM_LOG = re.compile(r"stream (\S+): ConnectionClosed after (\d+) bytes in ([\d.]+) s; "
                        r"the last send\(\) blocked ([\d.]+) s")


@pytest.mark.parametrize("fast_server", SERVER_NAMES, indirect=True)
def test_client_that_reads_nothing(fast_server, figures):
    server = fast_server
    tag = uuid.uuid4().hex[:12]
    rss_before = settle(lambda: rss_kib(server), quiet=0.3)
    # uWSGI's HTTP router is a proxy: it keeps the client's connection (and
    # what it buffered for it) until its own --http-timeout (60 s); what is
    # ours is that the worker lets go. The router is measured apart.
    sockets = lambda: socket_fd_count(server, without_router=True)  # noqa: E731
    sockets_before = settle(sockets, quiet=0.3)
    all_before = socket_fd_count(server)
    mark = server.log_mark()
    r = raw_open(server, f"/ws/stream/?tag={tag}&size=65536", rcvbuf=4096)
    try:
        # Read nothing. The view streams until send() gives up.
        peak = rss_before
        deadline = time.monotonic() + SEND_TIMEOUT + 5
        match = None
        while time.monotonic() < deadline:
            peak = max(peak, rss_kib(server))
            match = STREAM_LOG.search(server.log_since(mark))
            if match:
                break
            time.sleep(0.1)
        assert match, f"the view's send() never raised ConnectionClosed:\n{server.log_tail(30)}"
        assert match.group(1) == tag
        sent, total, blocked = int(match.group(2)), float(match.group(3)), float(match.group(4))
        # The client still holds its end open and still reads nothing: the
        # server must let go of the connection anyway.
        freed = wait_until(lambda: sockets() <= sockets_before, timeout=CLOSE_TIMEOUT + 3)
        sockets_after = sockets()
        all_after = socket_fd_count(server)
    finally:
        r.close()
    rss_after = rss_kib(server)
    figures(f"{server.name}: sent before the client's buffers filled (KiB)", sent // 1024)
    figures(f"{server.name}: last send() blocked (s); stream lasted (s)", f"{blocked:.2f}; {total:.2f}")
    figures(f"{server.name}: RSS before / peak / after (KiB)", f"{rss_before:,} / {peak:,} / {rss_after:,}")
    figures(f"{server.name}: server sockets before / after give-up", f"{sockets_before} / {sockets_after}")
    if all_after != sockets_after:
        figures(f"{server.name}: sockets with uWSGI's router before / after", f"{all_before} / {all_after}")
    assert SEND_TIMEOUT - 0.3 <= blocked <= SEND_TIMEOUT + 1.0, blocked
    assert peak - rss_before < 20 * 1024 + SANITIZER_RSS_ALLOWANCE_KIB, f"RSS grew by {(peak - rss_before) / 1024:.1f} MiB"
    assert freed, (f"the server still holds the connection of a client that reads nothing "
                   f"({sockets_after} sockets, {sockets_before} before)")
    echo_once(server)
