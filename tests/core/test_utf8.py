"""UTF-8 validation (RFC 3629): validate_utf8, Utf8Validator and the
parser's incremental text checks (1007)."""

import pytest

from dwebsocket_c import _core

KEY = b"\x01\x02\x03\x04"


def py_valid(b):
    try:
        b.decode("utf-8")  # Python's codec is strict RFC 3629
    except UnicodeDecodeError:
        return False
    return True


VALID = [
    b"",
    b"hello",
    "é".encode(),
    "€".encode(),
    "𝄞".encode(),
    "Ünïcödé ☃ 漢字 😀".encode(),
    b"\x7f",
    "\u0080".encode(),
    "\u07ff".encode(),
    "\u0800".encode(),
    "\ud7ff".encode(),
    "\ue000".encode(),
    "\uffff".encode(),
    "\U00010000".encode(),
    "\U0010ffff".encode(),
    b"\x00" * 9,
]

INVALID = {
    "overlong 2-byte C0": b"\xc0\x80",
    "overlong 2-byte C1": b"\xc1\xbf",
    "overlong 3-byte": b"\xe0\x80\x80",
    "overlong 3-byte E0 9F": b"\xe0\x9f\xbf",
    "overlong 4-byte": b"\xf0\x80\x80\x80",
    "overlong 4-byte F0 8F": b"\xf0\x8f\xbf\xbf",
    "surrogate low": b"\xed\xa0\x80",
    "surrogate high": b"\xed\xbf\xbf",
    "surrogate pair": b"\xed\xa0\xbd\xed\xb2\xa9",
    "above U+10FFFF": b"\xf4\x90\x80\x80",
    "F5 lead": b"\xf5\x80\x80\x80",
    "F7 lead": b"\xf7\xbf\xbf\xbf",
    "5-byte form": b"\xf8\x88\x80\x80\x80",
    "FE": b"\xfe",
    "FF": b"\xff",
    "lone continuation": b"\x80",
    "continuation after ASCII": b"abc\xbf",
    "truncated 2-byte": b"\xc3",
    "truncated 3-byte": b"\xe2\x82",
    "truncated 4-byte": b"\xf0\x9d\x84",
    "bad second byte": b"\xe2\x28\xa1",
    "ASCII inside a char": b"\xf0\x9d\x41\x9e",
}


@pytest.mark.parametrize("data", VALID)
def test_valid(data):
    assert _core.validate_utf8(data) is True
    assert _core.validate_utf8(bytearray(data)) is True


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid(name):
    data = INVALID[name]
    assert _core.validate_utf8(data) is False
    # Also behind an ASCII prefix long enough to use the 8-byte fast path.
    assert _core.validate_utf8(b"x" * 21 + data + b"y" * 9) is False


def test_all_one_and_two_byte_sequences():
    for a in range(256):
        assert _core.validate_utf8(bytes([a])) == py_valid(bytes([a])), a
        for b in range(256):
            s = bytes([a, b])
            assert _core.validate_utf8(s) == py_valid(s), s


def test_three_and_four_byte_boundaries():
    edges = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF]
    for lead in range(0xE0, 0x100):
        for b in range(256):
            for c in edges:
                s = bytes([lead, b, c])
                assert _core.validate_utf8(s) == py_valid(s), s
                if lead >= 0xF0:
                    s4 = bytes([lead, b, c, 0x80])
                    assert _core.validate_utf8(s4) == py_valid(s4), s4


def test_every_code_point_boundary():
    for cp in (0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF):
        assert _core.validate_utf8(chr(cp).encode()) is True
    for cp in range(0xD800, 0xE000, 0x7F):
        assert _core.validate_utf8(chr(cp).encode("utf-8", "surrogatepass")) is False


def test_ascii_fast_path_bad_byte_at_every_position():
    for n in range(1, 41):
        for pos in range(n):
            data = bytearray(b"a" * n)
            data[pos] = 0x80
            assert _core.validate_utf8(bytes(data)) is False, (n, pos)
        ok = bytearray(b"a" * n)
        ok[n - 1 :] = b"a"
        assert _core.validate_utf8(bytes(ok) + "é".encode()) is True


def test_validator_split_at_every_position():
    text = "aé€𝄞 ascii 😀 漢".encode()
    for cut in range(len(text) + 1):
        v = _core.Utf8Validator()
        assert v.feed(text[:cut]) is True
        assert v.feed(text[cut:]) is True
        assert v.finish() is True
    for cut in range(1, 4):  # inside the 4-byte U+1D11E
        v = _core.Utf8Validator()
        assert v.feed("𝄞".encode()[:cut]) is True
        assert v.finish() is False


def test_validator_fails_fast_and_stays_failed():
    v = _core.Utf8Validator()
    assert v.feed(b"abc") is True
    assert v.feed(b"\xed") is True  # could still be fine
    assert v.feed(b"\xa0") is False  # a surrogate: never valid
    assert v.feed(b"abc") is False
    assert v.finish() is False
    v.reset()
    assert v.feed(b"abc") is True and v.finish() is True
    with pytest.raises(TypeError):
        _core.Utf8Validator(1)


def text_frame(payload, fin=True, op=_core.OP_TEXT):
    return _core.build_frame(op, payload, fin=fin, mask_key=KEY)


def events(data, **kw):
    p = _core.FrameParser(**kw)
    p.feed(data)
    return p


def test_parser_accepts_char_split_across_fragments():
    euro = "€".encode()
    for cut in range(1, 3):
        data = text_frame(euro[:cut], fin=False) + text_frame(euro[cut:], op=_core.OP_CONTINUATION)
        p = events(data)
        assert list(p) == [(_core.OP_TEXT, euro)]
        # and fed one byte at a time
        p = _core.FrameParser()
        for i in range(len(data)):
            p.feed(data[i : i + 1])
        assert list(p) == [(_core.OP_TEXT, euro)]


def test_parser_accepts_char_split_across_fragments_with_ping_between():
    s = "𝄞".encode()
    data = (
        text_frame(s[:1], fin=False)
        + _core.build_frame(_core.OP_PING, b"x", mask_key=KEY)
        + text_frame(s[1:3], fin=False, op=0)
        + text_frame(s[3:], op=0)
    )
    assert list(events(data)) == [(_core.OP_PING, b"x"), (_core.OP_TEXT, s)]


@pytest.mark.parametrize("name", sorted(INVALID))
def test_parser_rejects_invalid_text(name):
    data = INVALID[name]
    p = events(text_frame(b"ok" + data))
    with pytest.raises(_core.ProtocolError) as e:
        list(p)
    assert e.value.code == 1007
    assert "not valid UTF-8" in e.value.reason


def test_parser_fails_fast_mid_frame():
    # A 1000-byte text frame whose 3rd byte is bad: the error is there after
    # only the header and 3 payload bytes, long before the frame ends.
    frame = text_frame(b"ab\xff" + b"c" * 997)
    hdr = 2 + 2 + 4
    p = _core.FrameParser()
    p.feed(frame[: hdr + 2])
    assert p.error is None
    p.feed(frame[hdr + 2 : hdr + 3])
    assert p.error is not None and p.error.code == 1007
    with pytest.raises(_core.ProtocolError):
        next(p)


def test_parser_fails_fast_in_first_fragment():
    p = events(text_frame(b"\xc0\xaf", fin=False))
    assert p.error is not None and p.error.code == 1007


def test_parser_truncated_char_at_message_end():
    p = events(text_frame("€".encode()[:2]))
    with pytest.raises(_core.ProtocolError) as e:
        next(p)
    assert e.value.code == 1007
    # ...but a truncated char at the end of a non-final fragment is fine.
    p = events(text_frame("€".encode()[:2], fin=False))
    assert p.error is None and p.pending == 0


def test_binary_is_not_validated():
    p = events(_core.build_frame(_core.OP_BINARY, b"\xff\xfe", mask_key=KEY))
    assert list(p) == [(_core.OP_BINARY, b"\xff\xfe")]


def test_ping_payload_is_not_validated():
    p = events(_core.build_frame(_core.OP_PING, b"\xff", mask_key=KEY))
    assert list(p) == [(_core.OP_PING, b"\xff")]


@pytest.mark.parametrize("n", [1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200])
def test_parser_finds_a_bad_byte_at_any_position(n):
    # Unmasking flags non-ASCII output so that ASCII skips the DFA: that
    # flag must be right in every SIMD lane, word and tail position.
    for pos in range(n):
        payload = bytearray(b"a" * n)
        payload[pos] = 0xFF
        p = events(text_frame(bytes(payload)))
        assert p.error is not None and p.error.code == 1007, (n, pos)
        payload[pos] = 0xC3  # a valid "é" needs a following continuation byte
        if pos + 1 < n:
            payload[pos + 1] = 0xA9
            assert list(events(text_frame(bytes(payload)))) == [(_core.OP_TEXT, bytes(payload))], (n, pos)


def test_parser_validates_text_split_across_chunks():
    # Chunks that start in the middle of a character (DFA state not ACCEPT)
    # must be validated even when they are pure ASCII-looking bytes.
    good = ("a" * 40 + "€" + "b" * 40).encode()
    bad = ("a" * 40).encode() + b"\xe2\x82" + b"b" * 40  # truncated char, then ASCII
    for payload, ok in ((good, True), (bad, False)):
        frame = text_frame(payload)
        for cut in range(len(frame)):
            p = _core.FrameParser()
            p.feed(frame[:cut])
            p.feed(frame[cut:])
            assert (p.error is None) == ok, cut


def test_parser_ascii_chunk_inside_a_character_is_checked():
    # "\xe2\x82" then "b": invalid at "b", even if the bytes after it would
    # complete the character. Fed byte by byte, "b" arrives alone.
    bad = b"aa\xe2\x82b\xacc"
    frame = text_frame(bad)
    p = _core.FrameParser()
    for i in range(len(frame)):
        p.feed(frame[i : i + 1])
    assert p.error is not None and p.error.code == 1007
    assert list(events(text_frame(b"aa\xe2\x82\xacb"))) == [(_core.OP_TEXT, "aa€b".encode())]
