"""Every server x every behaviour. See conftest.py for how to run one server.

The peer is the `websockets` library (sync client) where it shows what we
need, and wsraw.RawWebSocket (a plain socket, frames built here) where the
exact bytes matter.
"""

from __future__ import annotations

import os
import re
import socket
import struct
import threading
import time
import uuid

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect

import wsraw
from dws_servers import IDLE_SECONDS, SERVER_PING_INTERVAL, SERVER_PING_TIMEOUT
from wsraw import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawWebSocket

MIB = 1 << 20

# What must never show up in a server's log after an ordinary conversation.
BAD_LOG = re.compile(
    r"Traceback|Bad file descriptor|EBADF|Broken ?pipe|BrokenPipe|StopIteration|"
    r"Connection reset|ConnectionReset|Error handling request|Exception|\bERROR\b|CRITICAL"
)


def connect(server, path="/ws/echo/", **kwargs):
    kwargs.setdefault("open_timeout", 10)
    kwargs.setdefault("close_timeout", 5)
    kwargs.setdefault("ping_interval", None)
    kwargs.setdefault("max_size", 4 * MIB)
    return entered(ws_connect(server.ws_url(path), **kwargs))


def entered(ws):
    """websockets >= 17.1 wants `with connect(...)`; entering is all it checks,
    and tests that keep a connection across steps close it themselves."""
    ws.__enter__()
    return ws


def raw(server, path="/ws/echo/", headers=None) -> tuple[RawWebSocket, wsraw.HTTPResponse]:
    r = RawWebSocket(server.host, server.port)
    resp = r.handshake(path, headers)
    return r, resp


def raw_open(server, path="/ws/echo/", headers=None) -> RawWebSocket:
    r, resp = raw(server, path, headers)
    assert resp.status == 101, resp
    return r


def wait_for_log(server, mark, needle, timeout=5.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = server.log_since(mark)
        if needle in text or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def settle_log(server, mark, quiet=0.5, timeout=5.0) -> str:
    """The log since mark, once it stopped growing for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    size = -1
    while time.monotonic() < deadline:
        now = server.log_mark()
        if now == size:
            break
        size = now
        time.sleep(quiet)
    return server.log_since(mark)


def assert_no_http_after_upgrade(r: RawWebSocket):
    assert b"HTTP/1." not in r.after_handshake, (
        f"an HTTP response was written onto the upgraded connection: {r.after_handshake[-300:]!r}")


def assert_closed_cleanly(r: RawWebSocket):
    """After both close frames: the server closes TCP and writes nothing more."""
    rest = r.read_until_eof(timeout=5)
    assert rest == b"", f"bytes after the closing handshake: {rest[:300]!r}"
    assert_no_http_after_upgrade(r)


# --------------------------------------------------------------------------
# Plain HTTP on websocket views


def test_plain_http_pages(server):
    status, body = server.http_get("/login/")
    assert status == 200
    assert b'new WebSocket("ws://" + location.host + "/path/")' in body
    status, body = server.http_get("/echo/")
    assert status == 200 and b"<title>dwebsocket-c: echo</title>" in body
    status, body = server.http_get("/chat/")
    assert status == 200 and b"<title>dwebsocket-c: chat</title>" in body
    status, body = server.http_get("/ws/echo/")
    assert (status, body) == (200, b"websocket echo endpoint")


def test_require_websocket_plain_http_is_400(server):
    status, _ = server.http_get("/ws/require/")
    assert status == 400


def test_require_websocket_accepts_a_websocket(server):
    with connect(server, "/ws/require/") as ws:
        ws.send("required")
        assert ws.recv(timeout=5) == "required"


# --------------------------------------------------------------------------
# Opening handshake


def test_handshake_101_and_accept_key(server):
    key = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3
    r, resp = raw(server, "/ws/echo/", {"Sec-WebSocket-Key": key})
    with r:
        assert resp.status == 101, resp
        assert resp.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        assert resp.header("Upgrade").lower() == "websocket"
        assert "upgrade" in [t.strip().lower() for t in resp.header("Connection").split(",")]
        assert resp.header("Sec-WebSocket-Extensions") is None
        assert resp.header("Content-Length") in (None, "0")
        assert r.after_handshake == b"", f"bytes after the 101 headers: {r.after_handshake!r}"
        # and the connection works
        r.send_text("after handshake")
        assert r.recv_message() == (OP_TEXT, b"after handshake")


def test_handshake_random_key(server):
    key = wsraw.new_key()
    r, resp = raw(server, "/ws/echo/", {"Sec-WebSocket-Key": key})
    with r:
        assert resp.status == 101, resp
        assert resp.header("Sec-WebSocket-Accept") == wsraw.expected_accept(key)


def test_handshake_negotiates_permessage_deflate(server):
    # Browsers offer it; the example project turns WEBSOCKET_COMPRESSION on.
    # (Compressed traffic: tests/integration/test_deflate_clients.py.)
    r, resp = raw(server, "/ws/echo/", {
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"})
    with r:
        assert resp.status == 101, resp
        assert resp.header("Sec-WebSocket-Extensions") == (
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=12")
        r.send_text("plain")  # uncompressed both ways: under the 128-byte threshold
        assert r.recv_message() == (OP_TEXT, b"plain")


@pytest.mark.parametrize("key", ["not base64!!", "c2hvcnQ=", wsraw.base64.b64encode(b"x" * 17).decode(), None])
def test_malformed_handshake_is_400(server, key):
    r, resp = raw(server, "/ws/echo/", {"Sec-WebSocket-Key": key})
    with r:
        assert resp.status == 400, resp


def test_handshake_without_upgrade_header_is_not_a_websocket(server):
    r, resp = raw(server, "/ws/require/", {"Upgrade": None, "Connection": "keep-alive"})
    with r:
        assert resp.status == 400, resp


def test_wrong_version_is_426(server):
    r, resp = raw(server, "/ws/echo/", {"Sec-WebSocket-Version": "8"})
    with r:
        assert resp.status == 426, resp
        assert resp.header("Sec-WebSocket-Version") == "13"


# --------------------------------------------------------------------------
# Origin


def test_cross_origin_is_403(server):
    r, resp = raw(server, "/ws/echo/", {"Origin": "http://evil.example"})
    with r:
        assert resp.status == 403, resp
    with pytest.raises(InvalidStatus) as excinfo:
        connect(server, origin="http://evil.example")
    assert excinfo.value.response.status_code == 403


def test_same_origin_is_accepted(server):
    with connect(server, origin=server.origin) as ws:
        ws.send("same origin")
        assert ws.recv(timeout=5) == "same origin"


def test_no_origin_is_accepted(server):
    r, resp = raw(server, "/ws/echo/")  # no Origin header at all (a non-browser client)
    with r:
        assert "Origin" not in r.sent_headers
        assert resp.status == 101, resp
        r.send_text("no origin")
        assert r.recv_message() == (OP_TEXT, b"no origin")


# --------------------------------------------------------------------------
# Messages


def test_seed_path_view(server):
    with connect(server, "/path/") as ws:
        message = ws.recv(timeout=5)
        assert message == "下载完成"  # a text frame, correctly encoded


def test_text_echo(server):
    with connect(server) as ws:
        ws.send("hello")
        got = ws.recv(timeout=5)
        assert got == "hello" and isinstance(got, str)
        ws.send("")
        assert ws.recv(timeout=5) == ""


def test_binary_echo(server):
    payload = bytes(range(256)) * 3 + b"\x00\xff"
    with connect(server) as ws:
        ws.send(payload)
        got = ws.recv(timeout=5)
        assert isinstance(got, bytes) and got == payload
        ws.send(b"")
        assert ws.recv(timeout=5) == b""


def test_text_and_binary_keep_their_type_raw(server):
    with raw_open(server) as r:
        r.send_frame(OP_TEXT, "text".encode())
        r.send_frame(OP_BINARY, b"\x00bin\xff")
        assert r.recv_message() == (OP_TEXT, b"text")
        assert r.recv_message() == (OP_BINARY, b"\x00bin\xff")


def test_non_ascii_text_round_trip(server):
    text = "下载完成 — ünïcødé ✓ 🎉 \u0000 Ω≈ç√ end"
    with connect(server) as ws:
        ws.send(text)
        assert ws.recv(timeout=5) == text
        # long enough for a 16-bit length, where a length computed before encoding breaks
        long_text = "完" * 200
        ws.send(long_text)
        assert ws.recv(timeout=5) == long_text


def test_fragmented_message_raw(server):
    """Fragments, a UTF-8 character split across two of them, a ping in between."""
    text = "Hello, wörld ✓"
    data = text.encode()
    cut = data.index("✓".encode()) + 1  # inside the 3-byte check mark
    with raw_open(server) as r:
        r.send_frame(OP_TEXT, data[:5], fin=False)
        r.send_frame(OP_PING, b"in-between")
        r.send_frame(OP_CONT, data[5:cut], fin=False)
        r.send_frame(OP_CONT, data[cut:], fin=True)
        assert r.recv_message() == (OP_PONG, b"in-between")
        assert r.recv_message() == (OP_TEXT, data)
        r.send_frame(OP_BINARY, b"\x01\x02", fin=False)
        r.send_frame(OP_CONT, b"", fin=False)
        r.send_frame(OP_CONT, b"\x03", fin=True)
        assert r.recv_message() == (OP_BINARY, b"\x01\x02\x03")


def test_fragmented_message_websockets(server):
    with connect(server) as ws:
        ws.send(["frag", "men", "ted ✓"])
        assert ws.recv(timeout=5) == "fragmented ✓"
        ws.send([b"\x00\x01", b"\x02"])
        assert ws.recv(timeout=5) == b"\x00\x01\x02"


def test_one_mib_message_echoed(server):
    binary = os.urandom(MIB)
    text = "é" * (MIB // 2)  # exactly 1 MiB of UTF-8
    assert len(text.encode()) == MIB
    with connect(server) as ws:
        ws.send(binary)
        assert ws.recv(timeout=20) == binary
        ws.send(text)
        assert ws.recv(timeout=20) == text


def test_ping_answered_with_same_payload_raw(server):
    payload = b"ping-\x00\xff" + bytes(range(100))
    with raw_open(server) as r:
        r.send_frame(OP_PING, payload)
        assert r.recv_message() == (OP_PONG, payload)
        r.send_frame(OP_PING, b"")
        assert r.recv_message() == (OP_PONG, b"")


def test_ping_websockets(server):
    with connect(server) as ws:
        assert ws.ping(b"abc").wait(5)
        ws.send("after ping")
        assert ws.recv(timeout=5) == "after ping"


def test_unsolicited_pong_is_ignored(server):
    with raw_open(server) as r:
        r.send_frame(OP_PONG, b"unsolicited")
        r.send_text("still fine")
        assert r.recv_message() == (OP_TEXT, b"still fine")


# --------------------------------------------------------------------------
# Closing


def test_client_close_code_echoed_then_tcp_closed(server):
    with raw_open(server) as r:
        r.send_text("hi")
        assert r.recv_message() == (OP_TEXT, b"hi")
        r.send_close(4000, "client bye")
        op, payload = r.recv_message()
        assert op == OP_CLOSE
        assert wsraw.parse_close_payload(payload)[0] == 4000
        assert_closed_cleanly(r)


def test_client_close_without_code(server):
    with raw_open(server) as r:
        r.send_close(None)
        op, payload = r.recv_message()
        assert op == OP_CLOSE
        # an empty close may be answered with an empty one or with 1000
        assert payload in (b"", struct.pack("!H", 1000)), payload
        assert_closed_cleanly(r)


def test_client_close_websockets(server):
    ws = connect(server)
    ws.send("x")
    assert ws.recv(timeout=5) == "x"
    ws.close(4001, "bye")
    assert ws.protocol.close_rcvd is not None, "no close frame from the server"
    assert ws.protocol.close_rcvd.code == 4001


@pytest.mark.parametrize("code,reason", [(1000, ""), (1001, "going away"), (4002, "server bye ✓")])
def test_server_close_code_and_reason(server, code, reason):
    from urllib.parse import urlencode

    ws = connect(server, "/ws/close/?" + urlencode({"code": code, "reason": reason}))
    ws.send("close please")
    with pytest.raises(ConnectionClosed) as excinfo:
        ws.recv(timeout=5)
    rcvd = excinfo.value.rcvd
    assert rcvd is not None, "the server closed TCP without a close frame"
    assert (rcvd.code, rcvd.reason) == (code, reason)
    assert excinfo.value.sent is not None and excinfo.value.sent.code == code  # we echoed it


def test_server_close_raw_then_nothing_written(server):
    with raw_open(server, "/ws/close/?code=4003&reason=done") as r:
        r.send_text("x")
        op, payload = r.recv_message()
        assert op == OP_CLOSE
        assert wsraw.parse_close_payload(payload) == (4003, "done")
        r.send_close(4003)
        assert_closed_cleanly(r)


def test_view_returns_without_closing_raw(server):
    """The blog's `path` view sends and returns: the library must close the
    websocket itself (1000), and no HTTP response may follow on the socket."""
    with raw_open(server, "/path/") as r:
        assert r.recv_message() == (OP_TEXT, "下载完成".encode())
        op, payload = r.recv_message()
        assert op == OP_CLOSE, (op, payload)
        assert wsraw.parse_close_payload(payload)[0] == 1000
        r.send_close(1000)
        assert_closed_cleanly(r)


def test_view_returns_server_closes_tcp_even_if_client_never_answers(server):
    with raw_open(server, "/ws/send-then-return/") as r:
        assert r.recv_message() == (OP_TEXT, b"bye")
        op, payload = r.recv_message()
        assert op == OP_CLOSE
        # no close reply from us: the server must still give up and close TCP
        rest = r.read_until_eof(timeout=6)  # WEBSOCKET_CLOSE_TIMEOUT is 2 in settings_for_tests
        assert rest == b""
        assert_no_http_after_upgrade(r)


def test_view_exception_closes_1011_and_is_logged_once(server):
    token = f"boom-{uuid.uuid4().hex}"
    mark = server.log_mark()
    ws = connect(server, "/ws/raise/")
    ws.send(token)
    with pytest.raises(ConnectionClosed) as excinfo:
        ws.recv(timeout=5)
    assert excinfo.value.rcvd is not None, "TCP closed without a close frame"
    assert excinfo.value.rcvd.code == 1011
    wait_for_log(server, mark, token)
    log = settle_log(server, mark)
    assert token in log, f"the exception was not logged:\n{log}"
    assert log.count("Traceback (most recent call last)") == 1, f"expected exactly one traceback:\n{log}"
    assert f"ViewBoom: testapp raise: {token}" in log


def test_abrupt_client_disconnect_leaves_server_working(server):
    r = raw_open(server)
    r.send_text("bye")
    assert r.recv_message() == (OP_TEXT, b"bye")
    r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
    r.close()
    r2 = raw_open(server)
    r2.send_frame(OP_BINARY, b"x" * 100)  # unfinished frame (header says 100, masked)
    r2.sock.close()
    with connect(server) as ws:
        ws.send("still serving")
        assert ws.recv(timeout=5) == "still serving"


def test_no_traceback_in_log_for_normal_closes(server):
    time.sleep(0.3)
    mark = server.log_mark()
    # client-initiated close
    with connect(server) as ws:
        ws.send("a")
        assert ws.recv(timeout=5) == "a"
    # server-initiated close
    ws = connect(server, "/ws/close/?code=1000")
    ws.send("b")
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=5)
    # view returning on its own
    with connect(server, "/path/") as ws:
        assert ws.recv(timeout=5) == "下载完成"
    with raw_open(server, "/path/") as r:
        r.recv_message()
        r.recv_message()
        r.send_close(1000)
        r.read_until_eof()
    # a client that vanishes without a close frame (routine on the web)
    r = raw_open(server)
    r.send_text("c")
    r.recv_message()
    r.close()
    time.sleep(0.5)
    log = settle_log(server, mark)
    bad = [line for line in log.splitlines() if BAD_LOG.search(line)]
    assert not bad, "unexpected errors in the server log:\n" + log


# --------------------------------------------------------------------------
# Protocol errors from the client


def test_message_too_big_single_frame_is_1009(server):
    with raw_open(server) as r:
        key = os.urandom(4)
        r.send_raw(wsraw.frame_header(OP_BINARY, MIB + 1, mask_key=key) + wsraw.mask(b"z" * 4096, key))
        op, payload = r.recv_message()
        assert op == OP_CLOSE
        assert wsraw.parse_close_payload(payload)[0] == 1009
        r.read_until_eof(timeout=5)  # and the server closes TCP


def test_message_too_big_across_fragments_is_1009(server):
    half = 600 * 1024
    with raw_open(server) as r:
        r.send_frame(OP_TEXT, b"a" * half, fin=False)
        key = os.urandom(4)
        r.send_raw(wsraw.frame_header(OP_CONT, half, fin=True, mask_key=key) + wsraw.mask(b"a" * 1000, key))
        op, payload = r.recv_message()
        assert op == OP_CLOSE
        assert wsraw.parse_close_payload(payload)[0] == 1009
        r.read_until_eof(timeout=5)


def test_message_too_big_websockets_is_1009(server):
    with connect(server) as ws:
        try:
            ws.send(b"x" * (MIB + 1))
        except ConnectionClosed:
            pass  # the server may close while we are still sending
        with pytest.raises(ConnectionClosed) as excinfo:
            ws.recv(timeout=10)
        assert excinfo.value.rcvd is not None and excinfo.value.rcvd.code == 1009


def test_invalid_utf8_is_1007(server):
    with raw_open(server) as r:
        r.send_frame(OP_TEXT, b"ok \xff\xfe")
        op, payload = r.recv_message()
        assert op == OP_CLOSE
        assert wsraw.parse_close_payload(payload)[0] == 1007


def test_unmasked_client_frame_is_1002(server):
    with raw_open(server) as r:
        r.send_frame(OP_TEXT, b"unmasked", masked=False)
        op, payload = r.recv_message()
        assert op == OP_CLOSE
        assert wsraw.parse_close_payload(payload)[0] == 1002


# --------------------------------------------------------------------------
# Django integration


def test_user_anonymous(server):
    with connect(server, "/ws/user/") as ws:
        assert ws.recv(timeout=5) == "anonymous"


def test_user_logged_in_via_session_cookie(server):
    name = f"user_{server.name.replace('-', '_')}"
    status, headers, body = server.http_request(f"/ws/test-login/?username={name}")
    assert status == 200, body
    cookies = [v.split(";", 1)[0] for k, v in headers if k.lower() == "set-cookie"]
    session = [c for c in cookies if c.startswith("sessionid=")]
    assert session, headers
    with connect(server, "/ws/user/", additional_headers={"Cookie": session[0]}) as ws:
        assert ws.recv(timeout=5) == name


def test_websocket_object_comes_from_dwebsocket_c(server):
    with connect(server, "/ws/info/") as ws:
        assert ws.recv(timeout=5).startswith("dwebsocket_c.")


# --------------------------------------------------------------------------
# Several connections


def test_concurrent_connections(server):
    """20 connections open at once; each echoes: no connection blocks another."""
    conns = [connect(server) for _ in range(20)]
    try:
        for i, ws in enumerate(conns):
            ws.send(f"conn {i}")
        for i, ws in enumerate(conns):
            assert ws.recv(timeout=10) == f"conn {i}"
    finally:
        for ws in conns:
            ws.close()


def _ready(ws, tag):
    ws.send(tag)
    assert ws.recv(timeout=5) == tag


def test_chat_broadcast(server):
    a = connect(server, "/chat/")
    try:
        _ready(a, "a-ready")  # a is in the room
        b = connect(server, "/chat/")
        try:
            _ready(b, "b-ready")
            assert a.recv(timeout=5) == "b-ready"
            a.send("hello from a ✓")
            assert a.recv(timeout=5) == "hello from a ✓"
            assert b.recv(timeout=5) == "hello from a ✓"
            # a peer that vanishes must not break the broadcast for the others
            c = raw_open(server, "/chat/")
            c.send_text("c-ready")
            assert c.recv_message() == (OP_TEXT, b"c-ready")
            assert a.recv(timeout=5) == "c-ready"
            assert b.recv(timeout=5) == "c-ready"
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            time.sleep(0.2)
            for i in range(3):
                b.send(f"after c left {i}")
                assert a.recv(timeout=5) == f"after c left {i}"
                assert b.recv(timeout=5) == f"after c left {i}"
        finally:
            b.close()
    finally:
        a.close()


def test_concurrent_sends_do_not_interleave_frames(server):
    """Several views send to the same sockets at once (chat). Messages are big
    and the readers start late, so the servers' writes block half-way through
    frames: without a send lock, frames interleave and `websockets` fails the
    connection (or the payloads come out garbled)."""
    n_clients, n_messages, size = 4, 8, 256 * 1024
    clients = []
    try:
        for i in range(n_clients):
            ws = connect(server, "/chat/")
            _ready(ws, f"ready-{i}")
            for earlier in clients:  # earlier members see the newcomer's ready
                assert earlier.recv(timeout=5) == f"ready-{i}"
            clients.append(ws)

        def message(i, j):
            head = f"{i}:{j}:"
            return head + chr(ord("a") + i) * (size - len(head))

        expected = {message(i, j) for i in range(n_clients) for j in range(n_messages)}
        errors = []

        def sender(i, ws):
            try:
                for j in range(n_messages):
                    ws.send(message(i, j))
            except Exception as exc:
                errors.append(f"sender {i}: {exc!r}")

        received = [[] for _ in clients]

        def receiver(k, ws):
            try:
                for _ in range(len(expected)):
                    received[k].append(ws.recv(timeout=30))
            except Exception as exc:
                errors.append(f"receiver {k}: {exc!r}")

        senders = [threading.Thread(target=sender, args=(i, ws)) for i, ws in enumerate(clients)]
        receivers = [threading.Thread(target=receiver, args=(k, ws)) for k, ws in enumerate(clients)]
        for t in senders:
            t.start()
        time.sleep(1.0)  # let the buffers fill up
        for t in receivers:
            t.start()
        for t in senders + receivers:
            t.join(90)
        assert not errors, errors
        for k in range(n_clients):
            assert len(received[k]) == len(expected), f"client {k} got {len(received[k])} of {len(expected)}"
            assert set(received[k]) == expected, f"client {k} got garbled messages"
            for i in range(n_clients):  # each sender's messages in order
                seq = [int(m.split(":")[1]) for m in received[k] if m.startswith(f"{i}:")]
                assert seq == list(range(n_messages))
    finally:
        for ws in clients:
            ws.close()


# --------------------------------------------------------------------------
# Last for each server: the idle connection opened when the server started.


def test_zz_idle_connection_still_echoes(server, idle_probe):
    assert idle_probe.error is None, f"could not open the idle connections: {idle_probe.error!r}"
    left = IDLE_SECONDS - (time.monotonic() - idle_probe.opened_at)
    if left > 0:
        time.sleep(left)
    assert time.monotonic() - idle_probe.opened_at >= IDLE_SECONDS
    ws = idle_probe.ws
    ws.send("still here after idling")
    assert ws.recv(timeout=5) == "still here after idling"
    ws.send(b"\x00binary too")
    assert ws.recv(timeout=5) == b"\x00binary too"


def test_zz_server_pings_an_idle_client(server, idle_probe):
    """After WEBSOCKET_PING_INTERVAL of silence the server pings (so that
    proxies keep the connection); answered pings keep it open."""
    assert idle_probe.error is None, f"could not open the idle connections: {idle_probe.error!r}"
    idle_probe.first_ping.wait(max(0.0, SERVER_PING_INTERVAL + 8 - (time.monotonic() - idle_probe.opened_at)))
    assert idle_probe.ping_at is not None, (
        f"no ping within {SERVER_PING_INTERVAL + 8}s; first frame: {idle_probe.first_frame!r}, "
        f"error: {idle_probe.answer_error!r}")
    after = idle_probe.ping_at - idle_probe.opened_at
    assert SERVER_PING_INTERVAL - 1.5 <= after <= SERVER_PING_INTERVAL + 5, f"ping after {after:.1f}s"
    r = idle_probe.answering  # its thread answers pings and queues the rest
    r.send_text("pong sent")
    assert idle_probe.frames.get(timeout=5) == (OP_TEXT, b"pong sent")
    r.send_close(1000)
    op, payload = idle_probe.frames.get(timeout=5)
    assert op == OP_CLOSE and wsraw.parse_close_payload(payload)[0] == 1000
    idle_probe.thread.join(5)
    assert_closed_cleanly(r)


def test_zz_server_drops_a_client_that_never_pongs(server, idle_probe):
    assert idle_probe.error is None, f"could not open the idle connections: {idle_probe.error!r}"
    r = idle_probe.silent
    deadline = idle_probe.opened_at + SERVER_PING_INTERVAL + SERVER_PING_TIMEOUT + 8
    r.sock.settimeout(max(1.0, deadline - time.monotonic()))
    fin, op, payload = r.recv_frame()
    assert op == OP_PING, (op, payload)
    r.sock.settimeout(max(1.0, deadline - time.monotonic()))
    op, payload = r.recv_message()
    assert op == OP_CLOSE, (op, payload)
    assert wsraw.parse_close_payload(payload)[0] == 1011
    gave_up_after = time.monotonic() - idle_probe.opened_at
    assert gave_up_after >= SERVER_PING_INTERVAL + SERVER_PING_TIMEOUT - 2, gave_up_after
    # we never answer: the server closes TCP anyway, writing nothing more
    rest = r.read_until_eof(timeout=12)
    assert rest == b""
    assert_no_http_after_upgrade(r)
