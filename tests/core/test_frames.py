"""Frame building: build_frame, frame_header, build_close, parse_close,
and round trips through FrameParser on both sides."""

import struct

import pytest

from dwebsocket_c import _core
from dwebsocket_c._core import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameParser,
    ProtocolError,
)

KEY = b"\x37\xfa\x21\x3d"


# -- RFC 6455 section 5.7 ------------------------------------------------------


def test_rfc_vectors():
    assert _core.build_frame(OP_TEXT, b"Hello") == bytes.fromhex("810548656c6c6f")
    assert _core.build_frame(OP_TEXT, b"Hello", mask_key=KEY) == bytes.fromhex("818537fa213d7f9f4d5158")
    assert _core.build_frame(OP_TEXT, b"Hel", fin=False) == bytes.fromhex("010348656c")
    assert _core.build_frame(OP_CONTINUATION, b"lo") == bytes.fromhex("80026c6f")
    assert _core.build_frame(OP_PING, b"Hello") == bytes.fromhex("890548656c6c6f")
    assert _core.build_frame(OP_PONG, b"Hello", mask_key=KEY) == bytes.fromhex("8a8537fa213d7f9f4d5158")
    assert _core.build_frame(OP_BINARY, bytes(256))[:4] == bytes.fromhex("827e0100")
    assert _core.build_frame(OP_BINARY, bytes(65536))[:10] == bytes.fromhex("827f0000000000010000")


@pytest.mark.parametrize(
    "n,header",
    [
        (0, "8200"),
        (125, "827d"),
        (126, "827e007e"),
        (127, "827e007f"),
        (65535, "827effff"),
        (65536, "827f0000000000010000"),
        (65537, "827f0000000000010001"),
    ],
)
def test_length_boundaries(n, header):
    frame = _core.build_frame(OP_BINARY, b"\xab" * n)
    assert frame == bytes.fromhex(header) + b"\xab" * n
    assert _core.frame_header(OP_BINARY, n) == bytes.fromhex(header)
    masked = _core.frame_header(OP_BINARY, n, mask_key=KEY)
    h = bytearray.fromhex(header)
    h[1] |= 0x80
    assert masked == bytes(h) + KEY


def test_frame_header_large_and_flags():
    assert _core.frame_header(OP_BINARY, 2**63 - 1) == b"\x82\x7f" + struct.pack("!Q", 2**63 - 1)
    assert _core.frame_header(OP_TEXT, 3, fin=False) == b"\x01\x03"
    assert _core.frame_header(OP_TEXT, 3, rsv1=True) == b"\xc1\x03"
    assert _core.frame_header(OP_CONTINUATION, 0) == b"\x80\x00"
    assert _core.frame_header(opcode=OP_BINARY, length=1) == b"\x82\x01"
    # header + payload equals build_frame
    payload = b"x" * 300
    assert _core.frame_header(OP_BINARY, len(payload)) + payload == _core.build_frame(OP_BINARY, payload)


def test_frame_flags():
    assert _core.build_frame(OP_TEXT, b"a", fin=False)[0] == 0x01
    assert _core.build_frame(OP_TEXT, b"a", rsv1=True)[0] == 0xC1
    assert _core.build_frame(OP_BINARY)[0:2] == b"\x82\x00"


@pytest.mark.parametrize("op", [3, 4, 7, 0xB, 0xF, 16, -1, 256])
def test_unknown_opcode(op):
    with pytest.raises(ValueError):
        _core.build_frame(op, b"")
    with pytest.raises(ValueError):
        _core.frame_header(op, 0)


@pytest.mark.parametrize("op", [OP_CLOSE, OP_PING, OP_PONG])
def test_control_frame_checks(op):
    assert len(_core.build_frame(op, b"x" * 125)) == 127
    with pytest.raises(ValueError):
        _core.build_frame(op, b"x" * 126)
    with pytest.raises(ValueError):
        _core.frame_header(op, 126)
    with pytest.raises(ValueError):
        _core.build_frame(op, b"", fin=False)
    with pytest.raises(ValueError):
        _core.frame_header(op, 0, fin=False)
    with pytest.raises(ValueError):
        _core.build_frame(op, b"", rsv1=True)


def test_bad_arguments():
    for key in (b"", b"abc", b"abcde"):
        with pytest.raises(ValueError):
            _core.build_frame(OP_TEXT, b"x", mask_key=key)
        with pytest.raises(ValueError):
            _core.frame_header(OP_TEXT, 1, mask_key=key)
    with pytest.raises(ValueError):
        _core.frame_header(OP_BINARY, -1)
    with pytest.raises(ValueError):
        _core.frame_header(OP_BINARY, 2**63)
    with pytest.raises(TypeError):
        _core.frame_header(OP_BINARY, 1.0)
    with pytest.raises(TypeError):
        _core.build_frame(OP_TEXT, "str payload")
    with pytest.raises(TypeError):
        _core.build_frame(OP_TEXT, b"", True)  # fin is keyword-only
    with pytest.raises(TypeError):
        _core.build_frame()


def test_random_mask():
    frames = {_core.build_frame(OP_BINARY, b"payload", mask=True) for _ in range(50)}
    assert len(frames) > 40  # fresh keys
    for f in frames:
        assert f[1] == 0x80 | 7
        assert bytes(b ^ f[2 + i % 4] for i, b in enumerate(f[6:])) == b"payload"
    # An explicit key wins over mask=True.
    assert _core.build_frame(OP_TEXT, b"Hello", mask=True, mask_key=KEY) == bytes.fromhex("818537fa213d7f9f4d5158")
    assert _core.build_frame(OP_TEXT, b"Hello", mask=False)[1] == 5


# -- Close frames ----------------------------------------------------------------


def test_build_close():
    assert _core.build_close() == b"\x88\x02\x03\xe8"
    assert _core.build_close(1001, "bye") == b"\x88\x05\x03\xe9bye"
    assert _core.build_close(4000, b"b\xc3\xa9") == b"\x88\x05\x0f\xa0b\xc3\xa9"
    assert _core.build_close(None) == b"\x88\x00"
    assert _core.build_close(code=3000, reason="é") == b"\x88\x04\x0b\xb8\xc3\xa9"
    masked = _core.build_close(1000, "x", mask_key=KEY)
    assert masked[:6] == b"\x88\x83" + KEY
    assert bytes(b ^ KEY[i % 4] for i, b in enumerate(masked[6:])) == b"\x03\xe8x"
    m = _core.build_close(1000, mask=True)
    assert m[1] == 0x82 and len(m) == 8


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])
def test_build_close_valid_codes(code):
    assert _core.build_close(code)[2:] == struct.pack("!H", code)


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535, 65536, -1])
def test_build_close_invalid_codes(code):
    with pytest.raises(ValueError):
        _core.build_close(code)


def test_build_close_reason_checks():
    assert len(_core.build_close(1000, "a" * 123)) == 2 + 125
    with pytest.raises(ValueError):
        _core.build_close(1000, "a" * 124)
    assert len(_core.build_close(1000, "é" * 61 + "a")) == 2 + 125  # 123 bytes
    with pytest.raises(ValueError):
        _core.build_close(1000, "é" * 62)  # 124 bytes in UTF-8
    with pytest.raises(ValueError):
        _core.build_close(1000, b"\xff")
    with pytest.raises(ValueError):
        _core.build_close(1000, "\ud800")  # lone surrogate: not encodable
    with pytest.raises(ValueError):
        _core.build_close(None, "reason without code")
    with pytest.raises(TypeError):
        _core.build_close(1000, 5)


def test_parse_close():
    assert _core.parse_close(b"") == (1005, "")
    assert _core.parse_close(b"\x03\xe8") == (1000, "")
    assert _core.parse_close(b"\x0f\xa0b\xc3\xa9") == (4000, "bé")
    assert _core.parse_close(bytearray(b"\x03\xe9bye")) == (1001, "bye")
    with pytest.raises(ProtocolError) as e:
        _core.parse_close(b"\x03")
    assert e.value.code == 1002 and e.value.reason == "close frame payload of 1 byte"
    for code in (0, 999, 1004, 1005, 1006, 1015, 2999, 5000):
        with pytest.raises(ProtocolError) as e:
            _core.parse_close(struct.pack("!H", code))
        assert e.value.code == 1002 and e.value.reason == f"invalid close code {code}"
    with pytest.raises(ProtocolError) as e:
        _core.parse_close(b"\x03\xe8\xff")
    assert e.value.code == 1007


def test_build_close_parse_close_round_trip():
    for code, reason in [(1000, ""), (1001, "going"), (4999, "☃" * 41), (3000, "x" * 123)]:
        frame = _core.build_close(code, reason)
        assert _core.parse_close(frame[2:]) == (code, reason)


# -- Round trips -----------------------------------------------------------------


MESSAGES = [
    (OP_TEXT, b""),
    (OP_TEXT, "héllo wörld ☃".encode()),
    (OP_BINARY, bytes(range(256)) * 3),
    (OP_BINARY, b"\x00" * 125),
    (OP_BINARY, b"\x01" * 126),
    (OP_BINARY, b"\x02" * 65535),
    (OP_BINARY, b"\x03" * 65536),
    (OP_PING, b"ping"),
    (OP_PONG, b""),
]


@pytest.mark.parametrize("client_side", [False, True])
def test_round_trip(client_side):
    # A client parser reads what a server builds (unmasked), and vice versa.
    data = b"".join(
        _core.build_frame(op, payload, mask=not client_side) for op, payload in MESSAGES
    )
    data += _core.build_close(1000, "end", mask=not client_side)
    p = FrameParser(client_side=client_side)
    p.feed(data)
    assert list(p) == MESSAGES + [(OP_CLOSE, b"\x03\xe8end")]


@pytest.mark.parametrize("client_side", [False, True])
def test_round_trip_fragmented(client_side):
    text = "fragmented ☃ message".encode()
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    data = b""
    for i, piece in enumerate(pieces):
        op = OP_TEXT if i == 0 else OP_CONTINUATION
        data += _core.build_frame(op, piece, fin=i == len(pieces) - 1, mask=not client_side)
        if i == 2:
            data += _core.build_frame(OP_PING, b"between", mask=not client_side)
    p = FrameParser(client_side=client_side)
    for i in range(0, len(data), 5):
        p.feed(data[i : i + 5])
    assert list(p) == [(OP_PING, b"between"), (OP_TEXT, text)]


def test_round_trip_rsv1():
    data = _core.build_frame(OP_BINARY, b"deflated", rsv1=True, mask_key=KEY)
    p = FrameParser(allow_rsv1=True)
    p.feed(data)
    assert list(p) == [(OP_BINARY | _core.FLAG_RSV1, b"deflated")]


def test_frame_header_zero_copy_round_trip():
    payload = b"z" * 70000
    data = _core.frame_header(OP_BINARY, len(payload), mask_key=KEY) + _core.apply_mask(payload, KEY)
    p = FrameParser()
    p.feed(data)
    assert list(p) == [(OP_BINARY, payload)]


def test_constants():
    assert (OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG) == (0, 1, 2, 8, 9, 10)
    assert _core.FLAG_RSV1 == 0x40
    assert (
        _core.CLOSE_NORMAL,
        _core.CLOSE_GOING_AWAY,
        _core.CLOSE_PROTOCOL_ERROR,
        _core.CLOSE_UNSUPPORTED_DATA,
        _core.CLOSE_NO_STATUS,
        _core.CLOSE_ABNORMAL,
        _core.CLOSE_INVALID_DATA,
        _core.CLOSE_POLICY_VIOLATION,
        _core.CLOSE_MESSAGE_TOO_BIG,
        _core.CLOSE_MANDATORY_EXTENSION,
        _core.CLOSE_INTERNAL_ERROR,
    ) == (1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011)
