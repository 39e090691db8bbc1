"""dwebsocket_c on every supported WSGI server, driven by the websockets client.

Each test runs once per server of conftest.WEBSOCKET_SERVERS (started for
real on a loopback port). The last test reads the server's log.
"""

import os
import struct
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from wsclient import client_frame, close_frame_code, raw_handshake, read_until_eof


def expect_close(ws, code, reason=None):
    with pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=10)
    assert info.value.rcvd is not None and info.value.rcvd.code == code, info.value
    if reason is not None:
        assert info.value.rcvd.reason == reason


def test_echo_text_binary_non_ascii_fragments_ping(server):
    with connect(server.url + "/echo/") as ws:
        ws.send("hello")
        assert ws.recv() == "hello"
        ws.send("下载完成 ✓ 😀")
        assert ws.recv() == "下载完成 ✓ 😀"
        ws.send(b"\x00\xff\x10")
        assert ws.recv() == b"\x00\xff\x10"
        ws.send(["frag", "mented ", "文"])
        assert ws.recv() == "fragmented 文"
        assert ws.ping(b"abc").wait(5)


def test_one_mebibyte_messages(server):
    with connect(server.url + "/echo/", max_size=None) as ws:
        data = os.urandom(1024 * 1024)
        ws.send(data)
        assert ws.recv(timeout=30) == data
        text = "é" * (512 * 1024)  # 1 MiB of UTF-8
        ws.send(text)
        assert ws.recv(timeout=30) == text


def test_message_too_big_closes_1009(server):
    with connect(server.url + "/echo/", max_size=None) as ws:
        ws.send(b"x" * (1024 * 1024 + 1))
        expect_close(ws, 1009)


def test_blog_view_sends_utf8_bytes_as_text_then_closes_1000(server):
    with connect(server.url + "/blog/") as ws:
        assert ws.recv() == "下载完成"
        expect_close(ws, 1000)


def test_client_close(server):
    with connect(server.url + "/echo/") as ws:
        ws.send("x")
        ws.recv()
        ws.close(1001, "going")
        assert ws.protocol.close_rcvd.code == 1001  # the server echoed our code


def test_server_close_with_code_and_reason(server):
    with connect(server.url + "/server_close/") as ws:
        ws.send("me")
        expect_close(ws, 4000, "bye me")


def test_view_exception_closes_1011(server):
    with connect(server.url + "/boom/") as ws:
        ws.send("go")
        expect_close(ws, 1011)


def test_origin_check(server):
    with pytest.raises(InvalidStatus) as info:
        connect(server.url + "/echo/", origin="http://evil.example")
    assert info.value.response.status_code == 403
    assert b"evil.example" in info.value.response.body
    with connect(server.url + "/echo/", origin=f"http://127.0.0.1:{server.port}") as ws:
        ws.send("same origin")
        assert ws.recv() == "same origin"


def test_subprotocol_wait_timeout_and_message_kinds(server):
    with connect(server.url + "/info/", subprotocols=["chat.v1", "chat.v2"]) as ws:
        assert ws.subprotocol == "chat.v2"  # the server's preference wins
        assert ws.recv() == "subprotocol=chat.v2"
        assert ws.recv() == "timeout->None closed=False"
        ws.send("t")
        assert ws.recv() == "TextMessage:1"
        ws.send(b"bb")
        assert ws.recv() == "BinaryMessage:2"
    with connect(server.url + "/info/", subprotocols=["other"]) as ws:
        assert ws.subprotocol is None
        assert ws.recv() == "subprotocol=None"


def test_send_of_invalid_utf8_bytes_is_refused_clearly(server):
    with connect(server.url + "/badsend/") as ws:
        error = ws.recv()
        assert error.startswith("error:") and "binary=True" in error and "send_bytes" in error
        assert ws.recv() == b"\xff\xfe"
        assert ws.recv() == b"\x00\x01"


def test_push_loop_notices_client_close(server):
    with connect(server.url + "/push/") as ws:
        assert ws.recv().startswith("tick")


def test_concurrent_senders_never_interleave_frames(server):
    with connect(server.url + "/broadcast/", max_size=None) as ws:
        received = {"a": 0, "b": 0}
        ws.send("hi")
        echoed = False
        while received["a"] < 200 or received["b"] < 200 or not echoed:
            message = ws.recv(timeout=30)
            if message == "hi":
                echoed = True
                continue
            tag, index, padding = message.split("-", 2)
            assert int(index) == received[tag] and padding == "x" * (int(index) * 500)
            received[tag] += 1


def test_read_and_count_messages_do_not_block(server):
    with connect(server.url + "/read_nb/") as ws:
        assert ws.recv() == "ready"
        ws.send("one")
        ws.send("two")
        assert ws.recv(timeout=5) == "count=2 has=True first=one second=two then=fb"


def test_raw_closing_handshake_then_nothing(server):
    sock, head, rest = raw_handshake(server.port, "/echo/")
    assert head.startswith(b"HTTP/1.1 101 "), head
    assert b"sec-websocket-accept:" in head.lower()
    sock.sendall(client_frame(1, b"hey"))
    while len(rest) < 5:
        rest += sock.recv(100)
    sock.sendall(client_frame(8, struct.pack("!H", 1000)))
    assert read_until_eof(sock, rest) == b"\x81\x03hey\x88\x02\x03\xe8"
    sock.close()


def test_raw_view_returns_then_nothing_after_close_frame(server):
    sock, head, data = raw_handshake(server.port, "/blog/")
    while not data.endswith(b"\x88\x02\x03\xe8"):
        data += sock.recv(100)
    sock.sendall(client_frame(8, struct.pack("!H", 1000)))
    assert read_until_eof(sock, data) == (
        b"\x81\x0c" + "下载完成".encode() + b"\x88\x02\x03\xe8"
    )
    sock.close()


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (b"\x81\x02hi", 1002),  # unmasked client frame
        (client_frame(1, b"\xff"), 1007),  # text that is not UTF-8
        (client_frame(0, b"x"), 1002),  # continuation with nothing to continue
        (client_frame(3, b""), 1002),  # reserved opcode
    ],
)
def test_protocol_errors_close_with_the_parser_code(server, wire, code):
    sock, head, rest = raw_handshake(server.port, "/echo/")
    sock.sendall(wire)
    data = read_until_eof(sock, rest)
    assert close_frame_code(data) == code
    assert len(data) == 2 + data[1]  # one close frame, then EOF
    sock.close()


def test_plain_http_and_bad_handshakes(server):
    base = f"http://127.0.0.1:{server.port}"
    assert urllib.request.urlopen(base + "/echo/").read() == b"plain http"
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(base + "/boom/")
    assert info.value.code == 400  # require_websocket
    sock, head, _ = raw_handshake(server.port, "/echo/", key="short")
    assert head.startswith(b"HTTP/1.1 400"), head
    sock.close()
    sock, head, _ = raw_handshake(server.port, "/echo/", version="8")
    assert head.startswith(b"HTTP/1.1 426"), head
    assert b"sec-websocket-version: 13" in head.lower()
    sock.close()


def test_server_log_has_no_unexpected_traceback(server):
    log = server.log()
    assert "Error in WebSocket view wsproject.views.boom" in log  # logged...
    assert log.count("RuntimeError: view exploded") == 1  # ...once
    assert log.count("Traceback") == 1, log
    for bad in ("EBADF", "Bad file descriptor", "headers already sent", "write error"):
        assert bad not in log, log
