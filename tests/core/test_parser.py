"""FrameParser: RFC vectors, every validation rule with its close code,
length boundaries, chunking, ordering, limits and reference counting."""

import gc
import struct
import sys
import tracemalloc
import weakref

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


def py_mask(data, key):
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def raw_frame(b0, payload=b"", key=KEY, length=None, ext=None):
    """A frame built by hand (no checks): b0 is FIN|RSV|opcode."""
    n = len(payload) if length is None else length
    if ext is None:
        ext = 127 if n > 0xFFFF else 126 if n > 125 else n
    if ext == 126:
        hdr = bytes([b0, 126 | (0x80 if key else 0)]) + struct.pack("!H", n)
    elif ext == 127:
        hdr = bytes([b0, 127 | (0x80 if key else 0)]) + struct.pack("!Q", n)
    else:
        hdr = bytes([b0, n | (0x80 if key else 0)])
    return hdr + (key + py_mask(payload, key) if key else payload)


def mframe(op, payload=b"", fin=True, **kw):
    """A masked frame, as a client sends it."""
    return _core.build_frame(op, payload, fin=fin, mask_key=KEY, **kw)


def uframe(op, payload=b"", fin=True, **kw):
    """An unmasked frame, as a server sends it."""
    return _core.build_frame(op, payload, fin=fin, **kw)


def parse(data, **kw):
    p = FrameParser(**kw)
    p.feed(data)
    return p


def parse_all(data, **kw):
    """(events, error) after feeding data in one go."""
    p = parse(data, **kw)
    out = []
    try:
        for ev in p:
            out.append(ev)
    except ProtocolError as e:
        return out, e
    return out, None


def fails(data, code, reason=None, **kw):
    evs, err = parse_all(data, **kw)
    assert err is not None, f"expected {code}, got events {evs}"
    assert err.code == code, err
    assert err.args == (code, err.reason)
    assert str(err) == err.reason
    if reason is not None:
        assert err.reason == reason
    return evs, err


# -- RFC 6455 section 5.7 examples ---------------------------------------


def test_rfc_single_frame_unmasked_text():
    assert list(parse(bytes.fromhex("810548656c6c6f"), client_side=True)) == [(OP_TEXT, b"Hello")]


def test_rfc_single_frame_masked_text():
    assert list(parse(bytes.fromhex("818537fa213d7f9f4d5158"))) == [(OP_TEXT, b"Hello")]


def test_rfc_fragmented_unmasked_text():
    data = bytes.fromhex("010348656c") + bytes.fromhex("80026c6f")
    assert list(parse(data, client_side=True)) == [(OP_TEXT, b"Hello")]


def test_rfc_unmasked_ping_and_masked_pong():
    assert list(parse(bytes.fromhex("890548656c6c6f"), client_side=True)) == [(OP_PING, b"Hello")]
    assert list(parse(bytes.fromhex("8a8537fa213d7f9f4d5158"))) == [(OP_PONG, b"Hello")]


def test_rfc_256_bytes_and_64k_binary():
    p256 = bytes(range(256))
    data = bytes.fromhex("827e0100") + p256
    assert list(parse(data, client_side=True)) == [(OP_BINARY, p256)]
    p64k = bytes(i & 0xFF for i in range(65536))
    data = bytes.fromhex("827f0000000000010000") + p64k
    assert list(parse(data, client_side=True)) == [(OP_BINARY, p64k)]


# -- Length encodings ----------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 125, 126, 127, 65535, 65536, 65537])
@pytest.mark.parametrize("client_side", [False, True])
def test_length_boundaries(n, client_side):
    payload = bytes((i * 7) & 0xFF for i in range(n))
    frame = uframe(OP_BINARY, payload) if client_side else mframe(OP_BINARY, payload)
    hlen = (2 if n < 126 else 4 if n < 65536 else 10) + (0 if client_side else 4)
    assert len(frame) == hlen + n
    assert frame[1] & 0x7F == (n if n < 126 else 126 if n < 65536 else 127)
    p = parse(frame, client_side=client_side)
    assert list(p) == [(OP_BINARY, payload)]
    # Split right after the header and in the middle of the payload.
    p = FrameParser(client_side=client_side)
    for piece in (frame[:1], frame[1:hlen], frame[hlen : hlen + n // 2], frame[hlen + n // 2 :]):
        p.feed(piece)
    assert list(p) == [(OP_BINARY, payload)]


@pytest.mark.parametrize("n,ext", [(0, 126), (5, 126), (125, 126), (0, 127), (7, 127), (300, 127)])
def test_non_minimal_lengths_are_accepted(n, ext):
    payload = b"z" * n
    assert list(parse(raw_frame(0x82, payload, ext=ext))) == [(OP_BINARY, payload)]


def test_64bit_length_with_top_bit_is_refused():
    frame = raw_frame(0x82, length=2**63, ext=127)
    fails(frame, 1002, "64-bit payload length with the most significant bit set")
    frame = raw_frame(0x82, length=2**64 - 1, ext=127)
    fails(frame, 1002)
    # The top bit alone decides: 2**63 - 1 is a (too big) valid length.
    fails(raw_frame(0x82, length=2**63 - 1, ext=127), 1009)


# -- Validation rules ----------------------------------------------------


@pytest.mark.parametrize(
    "bit,name", [(0x40, "RSV1"), (0x20, "RSV2"), (0x10, "RSV3")]
)
def test_reserved_bits(bit, name):
    fails(raw_frame(0x81 | bit, b"x"), 1002, f"reserved bit {name} set")
    fails(raw_frame(0x89 | bit, b"x"), 1002)


@pytest.mark.parametrize("op", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcodes(op):
    fails(raw_frame(0x80 | op, b"x"), 1002, f"reserved opcode 0x{op:X}")


@pytest.mark.parametrize("op", [OP_CLOSE, OP_PING, OP_PONG])
def test_fragmented_control_frame(op):
    fails(raw_frame(op, b""), 1002, "fragmented control frame")


@pytest.mark.parametrize("op", [OP_CLOSE, OP_PING, OP_PONG])
def test_control_frame_too_long(op):
    payload = b"\x03\xe8" + b"a" * 124 if op == OP_CLOSE else b"a" * 126
    fails(raw_frame(0x80 | op, payload), 1002, "control frame payload longer than 125 bytes")
    # 125 is fine
    ok = b"\x03\xe8" + b"a" * 123 if op == OP_CLOSE else b"a" * 125
    assert list(parse(raw_frame(0x80 | op, ok))) == [(op, ok)]
    # and so is a 126-byte length in the 16-bit form? No: still over 125.
    fails(raw_frame(0x80 | op, b"a" * 126, ext=126), 1002)


def test_continuation_without_message():
    fails(mframe(OP_CONTINUATION, b"x"), 1002, "continuation frame without a message in progress")
    fails(mframe(OP_CONTINUATION, b"x", fin=False), 1002)
    # also after a complete message
    evs, _ = fails(mframe(OP_TEXT, b"a") + mframe(OP_CONTINUATION, b"b"), 1002)
    assert evs == [(OP_TEXT, b"a")]


@pytest.mark.parametrize("op", [OP_TEXT, OP_BINARY])
def test_new_data_frame_during_fragmented_message(op):
    data = mframe(OP_BINARY, b"a", fin=False) + mframe(op, b"b")
    fails(data, 1002, "new data frame while a fragmented message is in progress")


def test_unmasked_client_frame():
    fails(uframe(OP_TEXT, b"hi"), 1002, "unmasked frame from the client")
    fails(uframe(OP_PING), 1002)


def test_masked_server_frame():
    fails(mframe(OP_TEXT, b"hi"), 1002, "masked frame from the server", client_side=True)


def test_close_payload_one_byte():
    fails(raw_frame(0x88, b"\x03"), 1002, "close frame payload of 1 byte")


@pytest.mark.parametrize(
    "code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
)
def test_close_invalid_code(code):
    fails(raw_frame(0x88, struct.pack("!H", code)), 1002, f"invalid close code {code}")


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])
def test_close_valid_code(code):
    payload = struct.pack("!H", code) + "bye ☃".encode()
    assert list(parse(raw_frame(0x88, payload))) == [(OP_CLOSE, payload)]


def test_close_empty_payload():
    p = parse(raw_frame(0x88))
    assert list(p) == [(OP_CLOSE, b"")]


def test_close_reason_not_utf8():
    fails(raw_frame(0x88, b"\x03\xe8ok\xff"), 1007, "close reason is not valid UTF-8")
    fails(raw_frame(0x88, b"\x03\xe8\xed\xa0\x80"), 1007)


def test_text_not_utf8():
    fails(mframe(OP_TEXT, b"\xff"), 1007, "text message is not valid UTF-8")


# -- Message size limit ----------------------------------------------------


def test_max_message_size_exact_limit_is_accepted():
    assert list(parse(mframe(OP_BINARY, b"x" * 100), max_message_size=100)) == [(OP_BINARY, b"x" * 100)]
    assert list(parse(mframe(OP_TEXT, b""), max_message_size=0)) == [(OP_TEXT, b"")]


def test_max_message_size_detected_from_header():
    frame = mframe(OP_BINARY, b"x" * 101)
    p = FrameParser(max_message_size=100)
    p.feed(frame[:8])  # the header only: 2 + 2 + 4 bytes... the 7-bit length
    assert p.error is not None and p.error.code == 1009
    assert "exceeds the limit of 100 bytes" in p.error.reason
    # 16-bit and 64-bit lengths, header only, no payload at all
    p = FrameParser(max_message_size=1000)
    p.feed(raw_frame(0x82, length=1001, ext=126)[:8])
    assert p.error.code == 1009
    p = FrameParser(max_message_size=1000)
    p.feed(raw_frame(0x82, length=2**40, ext=127)[:14])
    assert p.error.code == 1009


def test_max_message_size_counts_all_fragments():
    ok = mframe(OP_BINARY, b"a" * 40, fin=False) + mframe(OP_CONTINUATION, b"b" * 60)
    assert list(parse(ok, max_message_size=100)) == [(OP_BINARY, b"a" * 40 + b"b" * 60)]
    bad = mframe(OP_BINARY, b"a" * 40, fin=False) + mframe(OP_CONTINUATION, b"b" * 61)
    p = FrameParser(max_message_size=100)
    p.feed(bad[: len(bad) - 61])  # everything but the last frame's payload
    assert p.error is not None and p.error.code == 1009
    assert "message of 101 bytes" in p.error.reason


def test_max_message_size_does_not_apply_to_separate_messages():
    data = mframe(OP_BINARY, b"a" * 100) * 5
    assert len(list(parse(data, max_message_size=100))) == 5


def test_max_message_size_property_and_validation():
    assert FrameParser().max_message_size == 1048576
    assert FrameParser(max_message_size=None).max_message_size is None
    assert FrameParser(max_message_size=5).max_message_size == 5
    with pytest.raises(ValueError):
        FrameParser(max_message_size=-1)
    with pytest.raises(TypeError):
        FrameParser(max_message_size="1")
    with pytest.raises(TypeError):
        FrameParser(1000)  # keyword-only


def test_default_limit_is_one_mib():
    fails(raw_frame(0x82, length=(1 << 20) + 1, ext=127), 1009)


def test_unlimited_does_not_trust_the_declared_length():
    # A header announcing 1 TiB must not make the parser allocate it.
    tracemalloc.start()
    try:
        p = FrameParser(max_message_size=None)
        p.feed(raw_frame(0x82, length=2**40, ext=127)[:14])
        p.feed(b"\x00" * 1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert p.error is None
    assert peak < 4 << 20


def test_unlimited_large_message_grows():
    payload = bytes(i & 0xFF for i in range(3 * (1 << 20) + 5))
    frame = mframe(OP_BINARY, payload)
    p = FrameParser(max_message_size=None)
    for i in range(0, len(frame), 100000):
        p.feed(frame[i : i + 100000])
    assert list(p) == [(OP_BINARY, payload)]


# -- Chunking ------------------------------------------------------------------


def stream():
    return (
        mframe(OP_TEXT, "hé".encode(), fin=False)
        + mframe(OP_PING, b"p")
        + mframe(OP_CONTINUATION, "llo€".encode())
        + mframe(OP_BINARY, b"")
        + mframe(OP_PONG)
        + mframe(OP_BINARY, b"\x00\xff" * 70)
        + _core.build_close(1000, "done", mask_key=KEY)
    )


EXPECTED = [
    (OP_PING, b"p"),
    (OP_TEXT, "héllo€".encode()),
    (OP_BINARY, b""),
    (OP_PONG, b""),
    (OP_BINARY, b"\x00\xff" * 70),
    (OP_CLOSE, b"\x03\xe8done"),
]


def test_whole_stream():
    assert list(parse(stream())) == EXPECTED


def test_one_byte_at_a_time():
    data = stream()
    p = FrameParser()
    got = []
    for i in range(len(data)):
        p.feed(data[i : i + 1])
        got.extend(p)
    assert got == EXPECTED


def test_every_single_split():
    data = stream()
    for i in range(len(data) + 1):
        p = FrameParser()
        p.feed(data[:i])
        got = list(p)
        p.feed(data[i:])
        got.extend(p)
        assert got == EXPECTED, i


def test_every_two_cut_split():
    data = (
        mframe(OP_TEXT, "é!".encode(), fin=False)
        + mframe(OP_PING, b"pp")
        + mframe(OP_CONTINUATION, b"x")
        + raw_frame(0x82, b"abc", ext=126)
        + _core.build_close(1001, mask_key=KEY)
    )
    expected = [(OP_PING, b"pp"), (OP_TEXT, "é!x".encode()), (OP_BINARY, b"abc"), (OP_CLOSE, b"\x03\xe9")]
    n = len(data)
    for i in range(n + 1):
        for j in range(i, n + 1):
            p = FrameParser()
            p.feed(data[:i])
            p.feed(data[i:j])
            p.feed(data[j:])
            assert list(p) == expected, (i, j)


def test_feed_accepts_buffers():
    data = mframe(OP_BINARY, b"abc")
    for buf in (bytearray(data), memoryview(data), memoryview(b"xx" + data)[2:]):
        assert list(parse(buf)) == [(OP_BINARY, b"abc")]
    with pytest.raises(TypeError):
        FrameParser().feed("text")
    p = FrameParser()
    p.feed(b"")
    assert list(p) == []


# -- Events, errors, state -----------------------------------------------------


def test_errors_come_after_the_events_before_the_bad_byte():
    data = mframe(OP_TEXT, b"one") + mframe(OP_PING, b"two") + raw_frame(0x83, b"x") + mframe(OP_TEXT, b"never")
    p = parse(data)
    assert p.pending == 2
    assert next(p) == (OP_TEXT, b"one")
    assert next(p) == (OP_PING, b"two")
    with pytest.raises(ProtocolError) as e1:
        next(p)
    with pytest.raises(ProtocolError) as e2:
        next(p)
    assert e1.value is e2.value is p.error
    assert e1.value.code == 1002
    assert p.pending == 0


def test_error_is_sticky_and_feed_is_ignored_after_it():
    p = parse(raw_frame(0x83))
    p.feed(mframe(OP_TEXT, b"ignored"))
    assert p.pending == 0
    for _ in range(3):
        with pytest.raises(ProtocolError):
            next(p)
    assert isinstance(p.error, _core.WebSocketError)


def test_iteration_stops_without_error():
    p = parse(mframe(OP_TEXT, b"a"))
    assert p.error is None
    assert list(p) == [(OP_TEXT, b"a")]
    assert list(p) == []
    with pytest.raises(StopIteration):
        next(p)
    assert iter(p) is p


def test_input_after_close_is_ignored():
    data = _core.build_close(1000, mask_key=KEY) + mframe(OP_TEXT, b"late") + b"\xff\xff garbage"
    p = FrameParser()
    assert not p.close_received
    p.feed(data)
    assert p.close_received
    p.feed(raw_frame(0x83))  # would be an error, but is ignored
    assert p.error is None
    assert list(p) == [(OP_CLOSE, b"\x03\xe8")]
    assert p.close_received


def test_close_received_is_set_while_the_event_is_still_queued():
    p = parse(_core.build_close(1001, mask_key=KEY))
    assert p.close_received and p.pending == 1


def test_pending_counts():
    p = parse(mframe(OP_PING) * 3)
    assert p.pending == 3
    next(p)
    assert p.pending == 2
    p.feed(mframe(OP_PONG))
    assert p.pending == 3
    assert [op for op, _ in p] == [OP_PING, OP_PING, OP_PONG]
    assert p.pending == 0


def test_event_payloads_are_bytes_of_the_exact_size():
    for op, payload in parse(stream()):
        assert type(payload) is bytes
    p = parse(mframe(OP_BINARY, b"x" * 10, fin=False) + mframe(OP_CONTINUATION, b"y" * 7))
    ((op, payload),) = list(p)
    assert len(payload) == 17 and payload == b"x" * 10 + b"y" * 7


def test_empty_fragments():
    data = mframe(OP_TEXT, b"", fin=False) + mframe(OP_CONTINUATION, b"", fin=False) + mframe(OP_CONTINUATION, b"")
    assert list(parse(data)) == [(OP_TEXT, b"")]
    data = mframe(OP_BINARY, b"", fin=False) + mframe(OP_CONTINUATION, b"ab")
    assert list(parse(data)) == [(OP_BINARY, b"ab")]


def test_many_fragments():
    parts = [bytes([i]) * (i % 5) for i in range(200)]
    data = mframe(OP_BINARY, parts[0], fin=False)
    data += b"".join(mframe(OP_CONTINUATION, x, fin=False) for x in parts[1:-1])
    data += mframe(OP_CONTINUATION, parts[-1])
    assert list(parse(data)) == [(OP_BINARY, b"".join(parts))]


# -- RSV1 (permessage-deflate) -------------------------------------------------


def test_allow_rsv1_flags_the_message():
    data = mframe(OP_TEXT, b"\xff compressed", rsv1=True) + mframe(OP_BINARY, b"plain")
    assert list(parse(data, allow_rsv1=True)) == [
        (OP_TEXT | _core.FLAG_RSV1, b"\xff compressed"),  # not UTF-8 checked
        (OP_BINARY, b"plain"),
    ]
    frag = mframe(OP_BINARY, b"a", fin=False, rsv1=True) + mframe(OP_CONTINUATION, b"b")
    assert list(parse(frag, allow_rsv1=True)) == [(OP_BINARY | _core.FLAG_RSV1, b"ab")]


def test_allow_rsv1_still_refuses_it_on_continuation_and_control():
    data = mframe(OP_BINARY, b"a", fin=False) + raw_frame(0x40, b"b")
    fails(data, 1002, "RSV1 set on a continuation frame", allow_rsv1=True)
    fails(raw_frame(0xC9, b""), 1002, "RSV1 set on a control frame", allow_rsv1=True)
    fails(raw_frame(0xA1, b"x"), 1002, "reserved bit RSV2 set", allow_rsv1=True)


# -- Object behaviour -----------------------------------------------------------


def test_reinit_resets():
    p = parse(raw_frame(0x83))
    assert p.error is not None
    p.__init__(client_side=True)
    assert p.error is None and p.pending == 0
    p.feed(uframe(OP_TEXT, b"ok"))
    assert list(p) == [(OP_TEXT, b"ok")]


def test_subclass_without_init_is_usable():
    class Sub(FrameParser):
        def __init__(self):
            pass

    p = Sub()
    p.feed(mframe(OP_TEXT, b"x"))
    assert list(p) == [(OP_TEXT, b"x")]


def test_parser_in_a_cycle_through_its_error_is_collected():
    class Sub(FrameParser):
        pass

    def make():
        p = Sub()
        p.feed(raw_frame(0x83))
        try:
            next(p)
        except ProtocolError:
            pass  # the error's traceback holds this frame, which holds p
        return weakref.ref(p)

    ref = make()
    gc.collect()
    assert ref() is None


def test_protocol_error_class():
    e = ProtocolError(1002, "why")
    assert (e.code, e.reason, e.args, str(e)) == (1002, "why", (1002, "why"), "why")
    assert isinstance(e, _core.WebSocketError) and isinstance(e, Exception)
    e = ProtocolError(code=1007, reason="r")
    assert e.args == (1007, "r")
    import pickle

    e2 = pickle.loads(pickle.dumps(ProtocolError(1009, "big")))
    assert (e2.code, e2.reason) == (1009, "big")


def test_refcounts_stable_over_many_iterations():
    data = stream()
    bad = raw_frame(0x83)
    before = sys.getrefcount(data), sys.getrefcount(bad)
    for _ in range(10000):
        p = FrameParser()
        p.feed(data)
        for _ev in p:
            pass
        p = FrameParser()
        p.feed(bad)
        try:
            next(p)
        except ProtocolError:
            pass
    assert (sys.getrefcount(data), sys.getrefcount(bad)) == before


def test_memory_does_not_grow():
    data = stream() + mframe(OP_BINARY, b"z" * 5000, fin=False)
    tail = mframe(OP_CONTINUATION, b"y" * 3000)

    def work(n):
        for _ in range(n):
            p = FrameParser()
            p.feed(data)
            p.feed(tail)
            list(p)
            q = FrameParser()
            q.feed(data[:50])
            q.feed(raw_frame(0x83))
            list(q)
            q.error

    work(200)
    tracemalloc.start()
    try:
        work(200)
        gc.collect()
        first, _ = tracemalloc.get_traced_memory()
        work(2000)
        gc.collect()
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert second - first < 64 * 1024
