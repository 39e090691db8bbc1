"""``_core.Connection``: the per-message I/O of a WebSocket, over a real
socket pair (the server's end is the Connection's, the client's end writes
masked frames built by the core itself)."""

from __future__ import annotations

import socket
import sys
import time

import pytest

from dwebsocket_c import _core
from dwebsocket_c.message import BinaryMessage, TextMessage


def masked(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A client frame (masked), from the core's own builder."""
    return _core.build_frame(opcode, payload, fin=fin, mask=True)


@pytest.fixture
def pair():
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


def make(server: socket.socket, **kw) -> _core.Connection:
    parser = _core.FrameParser(max_message_size=kw.pop("max_message_size", 1 << 20))
    return _core.Connection(server.fileno(), parser, TextMessage, BinaryMessage, **kw)


def test_next_returns_messages_as_their_classes_without_a_copy(pair):
    server, client = pair
    conn = make(server)
    client.sendall(masked(_core.OP_TEXT, "héllo".encode()) + masked(_core.OP_BINARY, b"\x00\x01"))
    first = conn.next()
    assert type(first) is TextMessage and first == "héllo".encode() and first.text == "héllo"
    assert conn.queued == 1 and conn.queued_bytes == 2
    second = conn.next()
    assert type(second) is BinaryMessage and second == b"\x00\x01"
    assert conn.queued == 0 and conn.queued_bytes == 0
    assert conn.last_read > 0
    # The message owns its bytes: hashing and equality are those of bytes.
    assert hash(first) == hash("héllo".encode())
    assert sys.getrefcount(first) == 2


def test_control_frames_and_errors_are_left_for_python(pair):
    server, client = pair
    conn = make(server)
    client.sendall(masked(_core.OP_TEXT, b"a") + masked(_core.OP_PING, b"p")
                   + masked(_core.OP_TEXT, b"b"))
    assert conn.next() == b"a"
    assert conn.next() == _core.NEXT_EVENTS
    assert conn.next_event() == (_core.OP_PING, b"p")
    assert conn.next() == b"b"  # queued by next_event() on its way
    client.sendall(b"\x81\x05hello")  # unmasked: a protocol error
    assert conn.next() == _core.NEXT_EVENTS
    with pytest.raises(_core.ProtocolError) as info:
        conn.next_event()
    assert info.value.code == 1002


def test_eof_timeout_and_keepalive(pair):
    server, client = pair
    conn = make(server)
    conn.ping_interval = 0.2
    started = time.monotonic()
    assert conn.next() == _core.NEXT_TIMEOUT  # SO_RCVTIMEO: the keepalive deadline
    assert 0.1 < time.monotonic() - started < 2
    assert conn.next() == _core.NEXT_KEEPALIVE
    conn.ping_sent_at = time.monotonic()
    client.sendall(masked(_core.OP_PONG, b""))
    assert conn.next() == _core.NEXT_EVENTS
    assert conn.ping_sent_at is None  # any byte proves the peer alive
    assert conn.next_event() == (_core.OP_PONG, b"")
    client.shutdown(socket.SHUT_WR)
    assert conn.next() == _core.NEXT_EOF


def test_text_as_str_and_discard(pair):
    server, client = pair
    conn = make(server, text_as_str=True)
    client.sendall(masked(_core.OP_TEXT, "ü".encode()) + masked(_core.OP_BINARY, b"x"))
    assert conn.next() == "ü"
    assert type(conn.next()) is BinaryMessage
    conn.discard = True
    client.sendall(masked(_core.OP_TEXT, b"dropped") + masked(_core.OP_CLOSE, b"\x03\xe8"))
    assert conn.next() == _core.NEXT_EVENTS
    assert conn.queued == 0
    assert conn.next_event() == (_core.OP_CLOSE, b"\x03\xe8")


def test_receive_and_feed(pair):
    server, client = pair
    conn = make(server)
    assert conn.receive(None) is None  # nothing yet, without waiting
    assert conn.receive(0.05) is None  # nothing within the timeout
    frame = masked(_core.OP_TEXT, b"split")
    conn.feed(frame[:3])
    client.sendall(frame[3:])
    assert conn.receive(1.0) == len(frame) - 3
    assert conn.pop() == b"split" and conn.pop() is None


def test_write_all_and_nonblocking_partial(pair):
    server, client = pair
    conn = make(server, send_timeout=0.3)
    assert conn.write(b"abc") == 3
    assert client.recv(10) == b"abc"
    big = b"z" * (8 << 20)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="send timed out"):
        conn.write(big)  # the client never reads
    assert time.monotonic() - started < 5
    green = make(server, green=True)
    assert 0 <= green.write(big) < len(big)  # what the full socket took now


def test_release_and_bad_arguments(pair):
    server, client = pair
    conn = make(server)
    client.sendall(masked(_core.OP_TEXT, b"kept"))
    assert conn.receive(1.0)
    conn.release()
    assert conn.fd == -1 and conn.queued == 0
    assert conn.next() == _core.NEXT_EOF
    with pytest.raises(OSError, match="released"):
        conn.write(b"x")
    with pytest.raises(OSError, match="released"):
        conn.receive(None)
    with pytest.raises(TypeError):
        _core.Connection(server.fileno(), object(), TextMessage, BinaryMessage)
    with pytest.raises(TypeError, match="text_type"):
        _core.Connection(server.fileno(), _core.FrameParser(), str, BinaryMessage)
    with pytest.raises(ValueError):
        _core.Connection(-1, _core.FrameParser(), TextMessage, BinaryMessage)
    with pytest.raises(ValueError):
        make(server).ping_interval = -1
    green = make(server, green=True)
    with pytest.raises(ValueError, match="without waiting"):
        green.receive(1.0)


def test_message_classes():
    text, binary = TextMessage(b"t"), BinaryMessage(b"b")
    assert repr(text) == "TextMessage(b't')" and repr(binary) == "BinaryMessage(b'b')"
    assert text.is_text and not text.is_binary and binary.is_binary and not binary.is_text
    with pytest.raises(TypeError, match="no text"):
        binary.text
    assert not hasattr(text, "__dict__")

    class Tagged(TextMessage):
        pass

    assert repr(Tagged(b"x")) == "Tagged(b'x')" and Tagged(b"x").text == "x"
