"""Items 1 and 2: oversized messages are refused from the frame header, and
slow (trickling) clients cost no more memory than the message size limit.

The servers run ``mysite.settings_for_tests``: WEBSOCKET_MAX_MESSAGE_SIZE is
the default, 1 MiB.
"""

from __future__ import annotations

import os
import socket
import time

import pytest

import wsraw
from dws_servers import SERVER_NAMES
from robust_helpers import (
    MIB, OP_BINARY, OP_TEXT, eof_within, echo_once, masked_header, raw_open, recv_close, rss_kib,
    SANITIZER_RSS_ALLOWANCE_KIB,
)

GIB = 1 << 30
RSS_GROWTH_BOUND_KIB = 20 * 1024 + SANITIZER_RSS_ALLOWANCE_KIB  # +20 MiB (+ ASan's, when sanitized)


@pytest.mark.parametrize("server", SERVER_NAMES, indirect=True)
@pytest.mark.parametrize("declared", [GIB, 1 << 62], ids=["1GiB", "2^62"])
def test_oversized_frame_header_alone_is_1009_at_once(server, declared, figures):
    """Only the 14-byte header (2 + 8-byte length + mask key) of a frame
    declaring a huge payload, then nothing: close 1009 right away, TCP
    closed once we close ours, and no memory reserved for the payload."""
    before = rss_kib(server)
    connections = []
    try:
        for _ in range(5):  # five at once: a reservation would show up as 5 GiB
            r = raw_open(server)
            header, _ = masked_header(OP_BINARY, declared)
            assert len(header) == 14
            r.send_raw(header)
            connections.append(r)
        seconds = []
        for r in connections:
            code, reason, took = recv_close(r, timeout=5)
            assert code == 1009, (code, reason)
            seconds.append(took)
        during = rss_kib(server)
        for r in connections:
            r.send_close(1009)  # the client answers the close: the server drops TCP
            assert eof_within(r.sock, 5) is not None, "the server kept TCP open after the closing handshake"
    finally:
        for r in connections:
            r.close()
    after = rss_kib(server)
    figures(f"{server.name}: slowest 1009 after header (s)", max(seconds))
    figures(f"{server.name}: RSS before / during / after (KiB)", f"{before:,} / {during:,} / {after:,}")
    assert max(seconds) < 1.0, f"1009 came only after {max(seconds):.2f} s"
    assert during - before < RSS_GROWTH_BOUND_KIB, f"RSS grew by {(during - before) / 1024:.1f} MiB"
    assert after - before < RSS_GROWTH_BOUND_KIB
    echo_once(server)


@pytest.mark.parametrize("server", SERVER_NAMES, indirect=True)
def test_trickled_oversized_frame_is_1009_at_once(server, figures):
    """A slow client trickling a frame that declares 1 GiB (a few bytes of
    header at a time, then payload bytes): 1009 as soon as the length is
    known, not after the payload."""
    r = raw_open(server)
    try:
        header, key = masked_header(OP_BINARY, GIB)
        for i in range(0, len(header), 3):
            time.sleep(0.05)
            r.send_raw(header[i:i + 3])
            start = time.monotonic()  # after the last piece of the header
        # a little payload, slowly: the close frame must already be on its way
        r.sock.settimeout(0.2)
        try:
            r.send_raw(wsraw.mask(b"p" * 100, key))
        except OSError:
            pass  # the server may already have closed
        code, reason, _ = recv_close(r, timeout=5)
        took = time.monotonic() - start
        assert code == 1009, (code, reason)
    finally:
        r.close()
    figures(f"{server.name}: 1009 after the header's last byte (s)", took)
    assert took < 1.0


def _trickle(sock: socket.socket, data: bytes, pieces: int, pause: float) -> None:
    step = -(-len(data) // pieces)
    for i in range(0, len(data), step):
        sock.sendall(data[i:i + step])
        time.sleep(pause)


@pytest.mark.slow
@pytest.mark.parametrize("server", SERVER_NAMES, indirect=True)
def test_slow_client_big_allowed_message(server, figures):
    """Eight clients trickle a 900 KiB message each (60 pieces, 25 ms apart:
    ~1.5 s): every message is echoed intact, and the server holds about one
    copy per message, no more (bound: 8 x 900 KiB x 2 + 8 MiB)."""
    size = 900 * 1024
    n = 8
    before = rss_kib(server)
    clients = []
    payloads = []
    try:
        frames = []
        for i in range(n):
            r = raw_open(server)
            payload = os.urandom(size // 2).hex().encode()  # text: valid UTF-8, unique
            header, key = masked_header(OP_TEXT, len(payload))
            frames.append(header + wsraw.mask(payload, key))
            clients.append(r)
            payloads.append(payload)
        start = time.monotonic()
        # interleave the trickles: piece k of every client, then a pause
        pieces = 60
        step = -(-len(frames[0]) // pieces)
        peak = before
        for offset in range(0, len(frames[0]), step):
            for r, frame in zip(clients, frames):
                r.send_raw(frame[offset:offset + step])
            peak = max(peak, rss_kib(server))
            time.sleep(0.025)
        for r, payload in zip(clients, payloads):
            r.sock.settimeout(10)
            op, echoed = r.recv_message()
            assert op == OP_TEXT and echoed == payload, (op, len(echoed))
        took = time.monotonic() - start
        peak = max(peak, rss_kib(server))
        for r in clients:
            r.send_close(1000)
            assert recv_close(r, 5)[0] == 1000
    finally:
        for r in clients:
            r.close()
    after = rss_kib(server)
    figures(f"{server.name}: {n} x 900 KiB trickled in (s)", took)
    figures(f"{server.name}: RSS before / peak / after (KiB)", f"{before:,} / {peak:,} / {after:,}")
    bound = n * size * 2 // 1024 + 8 * 1024 + SANITIZER_RSS_ALLOWANCE_KIB
    assert peak - before < bound, f"peak RSS +{(peak - before) / 1024:.1f} MiB > {bound / 1024:.1f} MiB"


@pytest.mark.parametrize("server", ["runserver", "gunicorn-gthread", "gunicorn-gevent", "uwsgi"], indirect=True)
def test_flooding_client_of_a_view_that_only_sends(server, figures):
    """A view that only pushes (never reads) and a client that sends 16 KiB
    messages as fast as it can for 2 s while reading the push. ``send()``
    looks at incoming data once a second; it must not queue the flood:
    the server's memory stays bounded (TCP holds the client back) and the
    push keeps flowing. Before the fix the server grew by ~100 MiB/s."""
    import threading

    before = rss_kib(server)
    r = raw_open(server, "/ws/stream/?tag=flood&size=1024")
    stop = threading.Event()
    pushed = [0]

    def read_push():
        r.sock.settimeout(5)
        try:
            while not stop.is_set():
                data = r.sock.recv(1 << 20)
                if not data:
                    return
                pushed[0] += len(data)
        except OSError:
            pass

    reader = threading.Thread(target=read_push, daemon=True)
    reader.start()
    frame = wsraw.build_frame(OP_BINARY, b"f" * 16384) * 16
    flooded = 0
    peak = before
    start = time.monotonic()
    r.sock.settimeout(0.5)
    try:
        while time.monotonic() - start < 2.0:
            try:
                r.sock.sendall(frame)
                flooded += len(frame)
            except socket.timeout:
                pass  # held back: what we want
            peak = max(peak, rss_kib(server))
        pushed_during = pushed[0]
        time.sleep(0.3)
        peak = max(peak, rss_kib(server))
    finally:
        stop.set()
        r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        r.close()
        reader.join(5)
    figures(f"{server.name}: flood accepted by the server in 2 s (MiB)", flooded / MIB)
    figures(f"{server.name}: RSS before / peak (KiB)", f"{before:,} / {peak:,}")
    assert pushed_during > 0, "the view's push stopped while the client flooded"
    assert peak - before < RSS_GROWTH_BOUND_KIB, f"RSS grew by {(peak - before) / 1024:.1f} MiB while a client flooded"
    echo_once(server)
