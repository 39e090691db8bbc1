"""Property tests: the C core against the pure-Python model in ``reference.py``.

Every test draws random inputs with hypothesis, runs them through
``dwebsocket_c._core`` and through the reference, and requires the same
answer.  Sizes are kept modest so the whole file runs in well under a minute.
"""

from __future__ import annotations

import base64
import hashlib
import random

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from dwebsocket_c import _core

try:  # tests/core may or may not be a package
    from . import reference as ref
except ImportError:
    import reference as ref

FAST = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MEDIUM = settings(FAST, max_examples=500)
MANY = settings(FAST, max_examples=1000)

# --------------------------------------------------------------------------
# Shared strategies
# --------------------------------------------------------------------------

mask_keys = st.binary(min_size=4, max_size=4)
BOUNDARY_LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 125, 126, 127, 128]
BIG_LENGTHS = [65535, 65536, 65537]

# Byte values around every boundary of the RFC 3629 table.
UTF8_EDGE_BYTES = [
    0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
    0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFE, 0xFF,
]


def seeded_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


@st.composite
def any_bytes(draw, max_small=300, big=True):
    """Mostly small random bytes, sometimes a boundary or large size."""
    kind = draw(st.integers(0, 9))
    if kind == 0 and big:
        n = draw(st.sampled_from(BIG_LENGTHS + [1000, 4095, 4096, 4097, 70000]))
        return seeded_bytes(n, draw(st.integers(0, 2**32)))
    if kind <= 2:
        n = draw(st.sampled_from(BOUNDARY_LENGTHS))
        return seeded_bytes(n, draw(st.integers(0, 2**32)))
    return draw(st.binary(max_size=max_small))


@st.composite
def utf8ish(draw, max_size=40):
    """Bytes biased towards UTF-8 edge cases: valid text, edge bytes, corruptions."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return draw(st.binary(max_size=max_size))
    if kind == 1:
        return bytes(draw(st.lists(st.sampled_from(UTF8_EDGE_BYTES), max_size=max_size)))
    text = draw(st.text(max_size=max_size)).encode("utf-8", "surrogatepass")
    if kind == 2:
        return text  # may contain lone surrogates (surrogatepass): invalid
    # Valid text (no surrogates), then maybe corrupted.
    text = draw(
        st.text(st.characters(exclude_categories=("Cs",)), max_size=max_size)
    ).encode("utf-8")
    if kind == 3 and text:
        data = bytearray(text)
        for _ in range(draw(st.integers(1, 3))):
            op = draw(st.integers(0, 2))
            i = draw(st.integers(0, len(data)))
            b = draw(st.sampled_from(UTF8_EDGE_BYTES))
            if op == 0:
                data.insert(i, b)
            elif op == 1 and i < len(data):
                data[i] = b
            elif i < len(data):
                del data[i]
        return bytes(data)
    # kind 4: long ASCII run (fast paths) with an optional bad/edge byte.
    run = b"a" * draw(st.integers(0, 200)) + text
    if draw(st.booleans()):
        i = draw(st.integers(0, len(run)))
        run = run[:i] + bytes([draw(st.sampled_from(UTF8_EDGE_BYTES))]) + run[i:]
    return run


@st.composite
def chunkings(draw, data: bytes):
    """Split ``data`` into chunks: whole, 1-byte, or random sizes."""
    n = len(data)
    kind = draw(st.integers(0, 3))
    if kind == 0 or n == 0:
        return [data]
    if kind == 1 and n <= 3000:
        return [data[i : i + 1] for i in range(n)]
    cuts = sorted(set(draw(st.lists(st.integers(0, n), max_size=12))))
    bounds = [0] + cuts + [n]
    chunks = [data[a:b] for a, b in zip(bounds, bounds[1:])]
    return chunks  # may contain empty chunks: feeding b"" must be harmless


# --------------------------------------------------------------------------
# Random frame streams
# --------------------------------------------------------------------------


@st.composite
def text_payload(draw):
    kind = draw(st.integers(0, 5))
    if kind == 0:
        n = draw(st.sampled_from(BIG_LENGTHS + [126, 127, 1000]))
        base = draw(st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=5))
        data = (base.encode() * (n // max(1, len(base.encode())) + 1))[:n]
        # Cutting may split a character: that is an invalid message too.
        return data
    if kind <= 2:
        return draw(st.text(st.characters(exclude_categories=("Cs",)), max_size=60)).encode()
    return draw(utf8ish(max_size=60))


@st.composite
def data_payload(draw, opcode):
    if opcode == ref.OP_TEXT:
        return draw(text_payload())
    return draw(any_bytes(max_small=200))


@st.composite
def close_payload(draw):
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return b""
    if kind == 1:
        return bytes([draw(st.integers(0, 255))])
    code = draw(
        st.one_of(
            st.sampled_from([999, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009,
                             1010, 1011, 1012, 1013, 1014, 1015, 1016, 2999, 3000, 4999, 5000,
                             0, 65535]),
            st.integers(0, 65535),
        )
    )
    if kind <= 4:
        reason = draw(st.text(st.characters(exclude_categories=("Cs",)), max_size=30)).encode()
        reason = reason[: 123]
    else:
        reason = draw(utf8ish(max_size=20))[:123]
    return code.to_bytes(2, "big") + reason


@st.composite
def frame_stream(draw, masked: bool, allow_rsv1: bool):
    """A byte stream of frames: a clean one (valid frames only) or a faulty one
    (faults sprinkled at a low rate, so that events still come before them).

    ``masked``: whether frames are properly masked (a client's frames, for a
    server-side parser).
    """
    faulty = draw(st.booleans())

    def fault(rate):
        return faulty and draw(st.integers(0, rate - 1)) == 0

    def key():
        # Right masking, or the wrong kind now and then.
        return draw(mask_keys) if masked != fault(25) else None

    def fault_rsv():
        return draw(st.integers(1, 7)) if fault(30) else 0

    parts = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.integers(0, 12 if faulty else 8))
        if kind <= 4:  # a data message, maybe fragmented, maybe interleaved
            opcode = draw(st.sampled_from([ref.OP_TEXT, ref.OP_BINARY]))
            if opcode == ref.OP_TEXT and not faulty:
                payload = draw(st.text(max_size=80)).encode("utf-8", "replace")
            else:
                payload = draw(data_payload(opcode))
            nfrag = draw(st.integers(1, 4))
            sizes = sorted(draw(st.lists(st.integers(0, len(payload)), min_size=nfrag - 1,
                                         max_size=nfrag - 1)))
            bounds = [0] + sizes + [len(payload)]
            rsv1 = allow_rsv1 and draw(st.integers(0, 3)) == 0
            for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
                last = i == len(bounds) - 2
                rsv = (4 if rsv1 and i == 0 else 0) | fault_rsv()
                if allow_rsv1 and i > 0 and fault(6):
                    rsv |= 4  # RSV1 on a continuation frame
                op = opcode if i == 0 else ref.OP_CONTINUATION
                if fault(40):
                    op = draw(st.integers(0, 15))
                fin = last != fault(30)
                lb = None
                if draw(st.integers(0, 10)) == 0:  # non-minimal length form: allowed
                    n = b - a
                    lb = draw(st.sampled_from([64] if n > 65535 else [16, 64] if n > 125
                                              else [7, 16, 64]))
                parts.append(ref.encode_frame(op, payload[a:b], fin=fin, rsv=rsv,
                                              mask_key=key(), length_bits=lb))
                if not last and draw(st.integers(0, 3)) == 0:  # control in between
                    parts.append(ref.encode_frame(
                        draw(st.sampled_from([ref.OP_PING, ref.OP_PONG])),
                        draw(st.binary(max_size=10)), mask_key=key()))
        elif kind <= 6:  # ping / pong
            op = draw(st.sampled_from([ref.OP_PING, ref.OP_PONG]))
            sizes = [124, 125, 125, 126, 127] if faulty else [124, 125]
            n = draw(st.one_of(st.integers(0, 20), st.sampled_from(sizes)))
            payload = seeded_bytes(n, draw(st.integers(0, 1000)))
            lb = draw(st.sampled_from([None] * 8 + [16, 64]))
            parts.append(ref.encode_frame(op, payload, fin=not fault(20), rsv=fault_rsv(),
                                          mask_key=key(), length_bits=lb))
        elif kind <= 8:  # close
            if faulty:
                payload = draw(close_payload())
            else:
                payload = ref.close_payload(
                    draw(st.sampled_from([1000, 1001, 1003, 1011, 3000, 4999])),
                    draw(st.text(max_size=20)).encode("utf-8", "replace")[:123])
            parts.append(ref.encode_frame(ref.OP_CLOSE, payload, rsv=fault_rsv(),
                                          mask_key=key()))
        elif kind <= 10:  # a random frame: any opcode, RSV, FIN, mask, length form
            op = draw(st.integers(0, 15))
            n = draw(st.one_of(st.integers(0, 30), st.sampled_from(BOUNDARY_LENGTHS)))
            payload = seeded_bytes(n, draw(st.integers(0, 1000)))
            lb = draw(st.sampled_from([None, None, 16, 64] if n > 125 else [None, None, 7, 16, 64]))
            parts.append(ref.encode_frame(op, payload, fin=draw(st.booleans()),
                                          rsv=draw(st.sampled_from([0, 0, 0, 1, 2, 4, 7])),
                                          mask_key=draw(st.one_of(st.none(), mask_keys)),
                                          length_bits=lb))
        elif kind == 11:  # a header declaring a huge length (64-bit, maybe top bit)
            op = draw(st.sampled_from([ref.OP_TEXT, ref.OP_BINARY]))
            length = draw(st.sampled_from([2**63, 2**64 - 1, 2**63 - 1, 2**32, 2**20 + 1]))
            parts.append(ref.encode_header(op, length, mask_key=key(), length_bits=64))
            parts.append(draw(st.binary(max_size=8)))
        else:  # raw garbage
            parts.append(draw(st.binary(min_size=1, max_size=6)))
    return b"".join(parts)


MAX_SIZES = st.sampled_from(["default", None, 125, 126, 200, 1000, 65535, 65536, 1 << 20])


def make_parser(max_size, client_side, allow_rsv1):
    kw = {"client_side": client_side, "allow_rsv1": allow_rsv1}
    if max_size != "default":
        kw["max_message_size"] = max_size
    return _core.FrameParser(**kw)


def ref_decode(data, max_size, client_side, allow_rsv1):
    kw = {"client_side": client_side, "allow_rsv1": allow_rsv1}
    if max_size != "default":
        kw["max_message_size"] = max_size
    return ref.decode(data, **kw)


def drain(parser, events):
    """Pop every event; return the ProtocolError raised, or None."""
    try:
        for ev in parser:
            assert type(ev) is tuple and len(ev) == 2
            assert type(ev[0]) is int and type(ev[1]) is bytes
            events.append(ev)
    except _core.ProtocolError as exc:
        return exc
    return None


def run_parser(parser, chunks, drain_each):
    events: list = []
    error = None
    for i, chunk in enumerate(chunks):
        parser.feed(chunk)
        if drain_each[i % len(drain_each)]:
            error = drain(parser, events) or error
    error = drain(parser, events) or error
    return events, error


@MANY
@given(
    data=st.data(),
    client_side=st.booleans(),
    allow_rsv1=st.sampled_from([False, False, True]),
    max_size=MAX_SIZES,
)
def test_frame_streams_match_reference(data, client_side, allow_rsv1, max_size):
    stream = data.draw(frame_stream(masked=not client_side, allow_rsv1=allow_rsv1))
    if data.draw(st.integers(0, 3)) == 0 and stream:  # cut off anywhere
        stream = stream[: data.draw(st.integers(0, len(stream) - 1))]
    chunks = data.draw(chunkings(stream))
    drain_each = data.draw(st.lists(st.booleans(), min_size=1, max_size=5))

    expected = ref_decode(stream, max_size, client_side, allow_rsv1)
    # Coverage of the generator (pytest --hypothesis-show-statistics).
    event(f"error={expected.error}{' (in header)' if expected.error_in_header else ''}")
    event(f"events={min(len(expected.events), 3)}{'+' if len(expected.events) >= 3 else ''}")
    parser = make_parser(max_size, client_side, allow_rsv1)
    events, error = run_parser(parser, chunks, drain_each)
    code = None if error is None else error.code

    # Same events, in the same order, before the error (if any).
    assert events == expected.events
    if expected.error_in_header:
        # The error is decided by a header cut off at the end of the stream:
        # raising it now or once the header is complete are both fine.
        assert code in (expected.error, None)
    else:
        assert code == expected.error
    if error is not None:
        assert isinstance(error, _core.WebSocketError)
        assert error.args == (error.code, error.reason)
        assert isinstance(error.reason, str)
        assert parser.error is error or parser.error.code == code
        # Sticky: every next() raises the same error, feed() is ignored.
        parser.feed(ref.encode_frame(ref.OP_PING, b"x", mask_key=None if client_side else b"abcd"))
        assert parser.pending == 0
        for _ in range(2):
            with pytest.raises(_core.ProtocolError) as again:
                next(parser)
            assert again.value.code == code
    else:
        assert parser.error is None
        assert parser.close_received == expected.closed
        assert parser.pending == 0
        with pytest.raises(StopIteration):
            next(parser)


@MEDIUM
@given(
    data=st.data(),
    client_side=st.booleans(),
    max_size=MAX_SIZES,
)
def test_pending_counts_queued_events(data, client_side, max_size):
    stream = data.draw(frame_stream(masked=not client_side, allow_rsv1=False))
    expected = ref_decode(stream, max_size, client_side, False)
    parser = make_parser(max_size, client_side, False)
    for chunk in data.draw(chunkings(stream)):
        parser.feed(chunk)
    if not expected.error_in_header:
        assert parser.pending == len(expected.events)
        assert parser.close_received == expected.closed
        assert (parser.error is None) == (expected.error is None)
    events: list = []
    error = drain(parser, events)
    assert events == expected.events
    assert parser.pending == 0


@FAST
@given(
    opcode=st.sampled_from([ref.OP_TEXT, ref.OP_BINARY]),
    payload=st.binary(max_size=300),
    fuzz=st.data(),
    client_side=st.booleans(),
)
def test_fast_fail_invalid_text_prefix(opcode, payload, fuzz, client_side):
    """A text frame cut off anywhere: error iff the prefix can never be UTF-8."""
    key = None if client_side else fuzz.draw(mask_keys)
    frame = ref.encode_frame(opcode, payload, fin=fuzz.draw(st.booleans()), mask_key=key)
    cut = fuzz.draw(st.integers(0, len(frame)))
    stream = frame[:cut]
    expected = ref.decode(stream, client_side=client_side)
    parser = _core.FrameParser(client_side=client_side)
    events, error = run_parser(parser, fuzz.draw(chunkings(stream)), [True])
    assert events == expected.events
    code = None if error is None else error.code
    if expected.error_in_header:
        assert code in (expected.error, None)
    else:
        assert code == expected.error


def prelude(in_progress: bool, text: bool, key: bytes | None) -> bytes:
    """Nothing, or the first fragment of a message (so a message is in progress)."""
    if not in_progress:
        return b""
    if text:  # ends mid-character: the continuation must complete it
        return ref.encode_frame(ref.OP_TEXT, b"ab\xc3", fin=False, mask_key=key)
    return ref.encode_frame(ref.OP_BINARY, b"ab\xc3", fin=False, mask_key=key)


@MANY
@given(
    client_side=st.booleans(),
    allow_rsv1=st.booleans(),
    max_size=MAX_SIZES,
    opcode=st.one_of(st.sampled_from(ref.KNOWN_OPCODES), st.integers(0, 15)),
    rsv=st.sampled_from([0] * 20 + [1, 2, 3, 4, 5, 6, 7]),
    fin=st.sampled_from([True, True, False]),
    mask_ok=st.sampled_from([True, True, True, False]),
    length=st.one_of(
        st.integers(0, 130),
        st.sampled_from([65535, 65536, 2**20, 2**20 + 1, 2**32, 2**62, 2**63 - 1, 2**63,
                         2**63 + 1, 2**64 - 1]),
        st.integers(0, 2**64 - 1),
    ),
    form=st.sampled_from([None, None, 7, 16, 64]),
    data=st.data(),
)
def test_single_frame_header_rules(client_side, allow_rsv1, max_size, opcode, rsv, fin, mask_ok,
                                   length, form, data):
    """One frame with any header, after nothing or after an unfinished message."""
    masked = (not client_side) == mask_ok
    if form == 7 and length > 127 or form == 16 and length > 65535:
        form = None
    if form is None and length > 65535:
        form = 64
    key = data.draw(mask_keys) if masked else None
    head = ref.encode_header(opcode, length, fin=fin, rsv=rsv, mask_key=key, length_bits=form)
    body = seeded_bytes(min(length, data.draw(st.integers(0, 140))), data.draw(st.integers(0, 99)))
    if key is not None:
        body = ref.apply_mask(body, key)
    tail = data.draw(st.sampled_from([b"", ref.encode_frame(ref.OP_PONG, b"z",
                                      mask_key=None if client_side else b"wxyz")]))
    in_progress = (opcode == 0) == data.draw(st.sampled_from([True, True, True, False]))
    before = prelude(in_progress, data.draw(st.booleans()),
                     None if client_side else data.draw(mask_keys))
    stream = before + head + body
    if len(body) == length:
        stream += tail
    expected = ref_decode(stream, max_size, client_side, allow_rsv1)
    event(f"error={expected.error}")
    parser = make_parser(max_size, client_side, allow_rsv1)
    events, error = run_parser(parser, data.draw(chunkings(stream)), [True])
    code = None if error is None else error.code
    assert events == expected.events
    if expected.error_in_header:
        assert code in (expected.error, None)
    else:
        assert code == expected.error


@MEDIUM
@given(data=st.data(), client_side=st.booleans())
def test_rsv1_extension_messages(data, client_side):
    """allow_rsv1=True: RSV1 on a message's first frame is flagged (and its
    payload, compressed, is not checked as UTF-8); elsewhere it is an error."""
    masked = not client_side
    parts = []
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from([ref.OP_TEXT, ref.OP_BINARY, ref.OP_PING]))
        payload = data.draw(st.one_of(st.binary(max_size=30), utf8ish(max_size=30)))
        key = (lambda: data.draw(mask_keys)) if masked else (lambda: None)
        if op == ref.OP_PING:
            parts.append(ref.encode_frame(op, payload, rsv=data.draw(st.sampled_from([0, 0, 4])),
                                          mask_key=key()))
            continue
        nfrag = data.draw(st.integers(1, 3))
        cuts = sorted(data.draw(st.lists(st.integers(0, len(payload)), min_size=nfrag - 1,
                                         max_size=nfrag - 1)))
        bounds = [0] + cuts + [len(payload)]
        first_rsv = data.draw(st.sampled_from([0, 4]))
        for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
            rsv = first_rsv if i == 0 else data.draw(st.sampled_from([0, 0, 0, 4]))
            parts.append(ref.encode_frame(op if i == 0 else 0, payload[a:b],
                                          fin=i == len(bounds) - 2, rsv=rsv, mask_key=key()))
    stream = b"".join(parts)
    expected = ref.decode(stream, client_side=client_side, allow_rsv1=True)
    event(f"error={expected.error}")
    parser = _core.FrameParser(client_side=client_side, allow_rsv1=True)
    events, error = run_parser(parser, data.draw(chunkings(stream)), [True])
    assert events == expected.events
    assert (None if error is None else error.code) == expected.error
    # Without the extension, the same stream fails at the first RSV1.
    no_ext = ref.decode(stream, client_side=client_side)
    parser = _core.FrameParser(client_side=client_side)
    events, error = run_parser(parser, [stream], [True])
    assert events == no_ext.events
    assert (None if error is None else error.code) == no_ext.error


# --------------------------------------------------------------------------
# Builders: build_frame, frame_header, build_close, parse_close
# --------------------------------------------------------------------------

valid_opcodes = st.sampled_from(ref.KNOWN_OPCODES)


@MEDIUM
@given(
    opcode=valid_opcodes,
    payload=any_bytes(max_small=200),
    fin=st.booleans(),
    key=st.one_of(st.none(), mask_keys),
    rsv1=st.booleans(),
)
def test_build_frame_and_header_match_reference(opcode, payload, fin, key, rsv1):
    is_control = opcode >= 8
    should_fail = is_control and (not fin or len(payload) > 125)
    kw = {"fin": fin, "rsv1": rsv1}
    if key is not None:
        kw["mask_key"] = key
    if should_fail:
        with pytest.raises(ValueError):
            _core.build_frame(opcode, payload, **kw)
        with pytest.raises(ValueError):
            _core.frame_header(opcode, len(payload), **kw)
        return
    if rsv1 and is_control:
        # RSV1 on a control frame: not specified by the stub; don't rely on it.
        return
    expected = ref.encode_frame(opcode, payload, fin=fin, rsv=4 if rsv1 else 0, mask_key=key)
    frame = _core.build_frame(opcode, payload, **kw)
    assert type(frame) is bytes
    assert frame == expected
    header = _core.frame_header(opcode, len(payload), **kw)
    assert header == ref.encode_header(opcode, len(payload), fin=fin, rsv=4 if rsv1 else 0,
                                       mask_key=key)
    masked = payload if key is None else _core.apply_mask(payload, key)
    assert header + masked == frame
    # And memoryview / bytearray payloads give the same bytes.
    assert _core.build_frame(opcode, memoryview(bytearray(payload)), **kw) == frame


@FAST
@given(
    opcode=valid_opcodes,
    payload=st.binary(max_size=125),
    fin=st.booleans(),
)
def test_build_frame_random_mask(opcode, payload, fin):
    if opcode >= 8:
        fin = True
    frame = _core.build_frame(opcode, payload, fin=fin, mask=True)
    hlen = 2 + (2 if len(payload) > 125 else 0)
    key = frame[hlen : hlen + 4]
    assert frame == ref.encode_frame(opcode, payload, fin=fin, mask_key=key)


@FAST
@given(
    opcode=st.one_of(st.integers(3, 7), st.integers(11, 15)),
    payload=st.binary(max_size=10),
    bad_key=st.binary(max_size=8).filter(lambda k: len(k) != 4),
)
def test_build_frame_rejects_bad_arguments(opcode, payload, bad_key):
    with pytest.raises(ValueError):
        _core.build_frame(opcode, payload)
    with pytest.raises(ValueError):
        _core.frame_header(opcode, len(payload))
    with pytest.raises(ValueError):
        _core.build_frame(ref.OP_BINARY, payload, mask_key=bad_key)
    with pytest.raises(ValueError):
        _core.frame_header(ref.OP_BINARY, len(payload), mask_key=bad_key)


@st.composite
def lengths_for_header(draw):
    return draw(st.one_of(
        st.sampled_from([0, 125, 126, 127, 65535, 65536, 2**32, 2**63 - 1]),
        st.integers(0, 2**63 - 1),
    ))


@FAST
@given(length=lengths_for_header(), opcode=st.sampled_from([0, 1, 2]), fin=st.booleans(),
       key=st.one_of(st.none(), mask_keys))
def test_frame_header_any_length(length, opcode, fin, key):
    kw = {"fin": fin}
    if key is not None:
        kw["mask_key"] = key
    assert _core.frame_header(opcode, length, **kw) == ref.encode_header(
        opcode, length, fin=fin, mask_key=key)


@MEDIUM
@given(
    opcode=st.sampled_from([ref.OP_TEXT, ref.OP_BINARY]),
    data=st.data(),
    client=st.booleans(),
)
def test_build_then_parse_round_trip(opcode, data, client):
    if opcode == ref.OP_TEXT:
        payload = data.draw(st.text(max_size=200).map(lambda s: s.encode("utf-8", "replace")))
    else:
        payload = data.draw(any_bytes(max_small=300))
    nfrag = data.draw(st.integers(1, 4))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(payload)), min_size=nfrag - 1,
                                     max_size=nfrag - 1)))
    bounds = [0] + cuts + [len(payload)]
    frames = []
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        kw = {"fin": i == len(bounds) - 2}
        if client:  # a client sends masked frames to a server-side parser
            kw["mask_key"] = data.draw(mask_keys)
        frames.append(_core.build_frame(opcode if i == 0 else 0, payload[a:b], **kw))
        if data.draw(st.booleans()):  # a ping between fragments (or after)
            ping = data.draw(st.binary(max_size=125))
            frames.append(_core.build_frame(ref.OP_PING, ping, **({"mask": True} if client else {})))
    stream = b"".join(frames)
    expected = ref.decode(stream, client_side=not client, max_message_size=None)
    assert expected.error is None
    assert [ev for ev in expected.events if ev[0] != ref.OP_PING] == [(opcode, payload)]
    parser = _core.FrameParser(client_side=not client, max_message_size=None)
    events, error = run_parser(parser, data.draw(chunkings(stream)), [True])
    assert error is None
    assert events == expected.events


close_codes = st.one_of(
    st.none(),
    st.sampled_from([1000, 1001, 1003, 1004, 1005, 1006, 1007, 1014, 1015, 2999, 3000,
                     4999, 5000]),
    st.integers(0, 65535),
)
close_reasons = st.one_of(
    st.text(max_size=130),
    # Around the 123-byte limit, in ASCII and with 2-4 byte characters.
    st.builds(lambda n, c: ("x" * n + c)[: n + 1], st.integers(118, 126),
              st.sampled_from(["", "\u00e9", "\u20ac", "\U0001f600"])),
    st.integers(120, 126).map(lambda n: b"y" * n),
    st.text(max_size=130).map(lambda s: s.encode("utf-8", "surrogatepass")),
    utf8ish(max_size=30),
)


@MEDIUM
@given(code=close_codes, reason=close_reasons, key=st.one_of(st.none(), mask_keys))
def test_build_close_matches_reference(code, reason, key):
    kw = {} if key is None else {"mask_key": key}
    if not ref.build_close_ok(code, reason):
        with pytest.raises(ValueError):
            _core.build_close(code, reason, **kw)
        return
    payload = ref.close_payload(code, reason)
    frame = _core.build_close(code, reason, **kw)
    assert frame == ref.encode_frame(ref.OP_CLOSE, payload, mask_key=key)
    # And it parses back.
    parsed = _core.parse_close(payload)
    rb = reason.encode() if isinstance(reason, str) else reason
    assert parsed == ((1005, "") if code is None else (code, rb.decode()))
    parser = _core.FrameParser(client_side=key is None)
    parser.feed(frame)
    assert list(parser) == [(ref.OP_CLOSE, payload)]
    assert parser.close_received


@MANY
@given(payload=st.one_of(
    st.binary(max_size=40),
    st.builds(lambda c, r: c.to_bytes(2, "big") + r, st.integers(0, 65535), utf8ish(max_size=30)),
    st.builds(lambda c, r: c.to_bytes(2, "big") + r,
              st.sampled_from([999, 1000, 1002, 1004, 1005, 1006, 1012, 1014, 1015, 2999, 3000,
                               4999, 5000]), utf8ish(max_size=30)),
))
def test_parse_close_matches_reference(payload):
    expected = ref.parse_close(payload)
    if isinstance(expected, int):
        with pytest.raises(_core.ProtocolError) as exc:
            _core.parse_close(payload)
        assert exc.value.code == expected
    else:
        assert _core.parse_close(payload) == expected
        assert _core.parse_close(bytearray(payload)) == expected


# --------------------------------------------------------------------------
# Masking
# --------------------------------------------------------------------------

offsets = st.one_of(st.integers(-8, 8), st.integers(-(2**63), 2**63 - 1))


@MANY
@given(data=any_bytes(max_small=300), key=mask_keys, offset=offsets)
def test_apply_mask_matches_reference(data, key, offset):
    expected = ref.apply_mask(data, key, offset)
    got = _core.apply_mask(data, key, offset)
    assert type(got) is bytes
    assert got == expected
    buf = bytearray(data)
    assert _core.apply_mask_inplace(buf, key, offset) is None
    assert buf == expected
    # Unmasking is masking.
    assert _core.apply_mask(got, bytearray(key), offset) == data
    if offset % 4 == 0:
        assert _core.apply_mask(data, key) == expected


@MEDIUM
@given(
    data=any_bytes(max_small=300),
    key=mask_keys,
    offset=offsets,
    start=st.integers(0, 17),
    trim=st.integers(0, 17),
)
def test_apply_mask_on_memoryview_slices(data, key, offset, start, trim):
    """Odd alignments: the slice starts anywhere in an aligned buffer."""
    backing = bytearray(b"\xaa" * start + data + b"\x55" * trim)
    view = memoryview(backing)[start : start + len(data)]
    expected = ref.apply_mask(data, key, offset)
    assert _core.apply_mask(view, key, offset) == expected
    assert _core.apply_mask(memoryview(bytes(backing))[start : start + len(data)],
                            memoryview(key), offset) == expected
    _core.apply_mask_inplace(view, key, offset)
    assert backing[start : start + len(data)] == expected
    assert backing[:start] == b"\xaa" * start  # nothing outside the slice moved
    assert backing[start + len(data) :] == b"\x55" * trim


@FAST
@given(data=any_bytes(max_small=300), key=mask_keys, split=st.data())
def test_apply_mask_piecewise(data, key, split):
    """Unmasking a payload piece by piece with running offsets."""
    cuts = sorted(split.draw(st.lists(st.integers(0, len(data)), max_size=6)))
    bounds = [0] + cuts + [len(data)]
    out = b"".join(_core.apply_mask(data[a:b], key, a) for a, b in zip(bounds, bounds[1:]))
    assert out == ref.apply_mask(data, key)


@FAST
@given(offset=st.integers(-(2**200), 2**200), key=mask_keys, data=st.binary(max_size=20))
def test_apply_mask_huge_offsets(offset, key, data):
    """'offset % 4 is used' for any int, including ones beyond 64 bits."""
    assert _core.apply_mask(data, key, offset) == ref.apply_mask(data, key, offset)


@FAST
@given(key=st.binary(max_size=8).filter(lambda k: len(k) != 4), data=st.binary(max_size=20))
def test_apply_mask_rejects_bad_keys(key, data):
    with pytest.raises(ValueError):
        _core.apply_mask(data, key)
    with pytest.raises(ValueError):
        _core.apply_mask_inplace(bytearray(data), key)


def test_apply_mask_inplace_rejects_readonly():
    with pytest.raises((TypeError, BufferError)):
        _core.apply_mask_inplace(b"abcdef", b"1234")


# --------------------------------------------------------------------------
# UTF-8
# --------------------------------------------------------------------------


@MANY
@given(data=utf8ish(max_size=60))
@example(b"\xed\xa0\x80")
@example(b"\xed\x9f\xbf")
@example(b"\xf4\x90\x80\x80")
@example(b"\xf4\x8f\xbf\xbf")
@example(b"\xc0\x80")
@example(b"\xe0\x9f\xbf")
@example(b"\xf0\x8f\xbf\xbf")
def test_validate_utf8_matches_python(data):
    assert _core.validate_utf8(data) is ref.is_valid_utf8(data)
    assert _core.validate_utf8(bytearray(data)) is ref.is_valid_utf8(data)


@MANY
@given(data=utf8ish(max_size=60), split=st.data())
@example(data=b"\xed\xa0\x80", split=None)
def test_utf8_validator_incremental(data, split):
    if split is None:
        chunks = [data[i : i + 1] for i in range(len(data))]
    else:
        chunks = split.draw(chunkings(data))
    v = _core.Utf8Validator()
    r = ref.IncrementalUtf8()
    for chunk in chunks:
        assert v.feed(chunk) is r.feed(chunk), chunks
    assert v.finish() is r.finish()
    assert v.finish() is ref.is_valid_utf8(data)
    # Reset gives a fresh validator.
    v.reset()
    assert v.feed(b"ok \xc3\xa9") is True
    assert v.finish() is True


# --------------------------------------------------------------------------
# Handshake helpers: sha1, base64, accept_key, check_request, subprotocols
# --------------------------------------------------------------------------


@MANY
@given(data=st.one_of(
    st.binary(max_size=200),
    st.sampled_from([55, 56, 57, 63, 64, 65, 119, 120, 127, 128]).map(lambda n: b"x" * n),
    any_bytes(max_small=200),
))
def test_sha1_and_base64_encode(data):
    assert _core.sha1(data) == hashlib.sha1(data).digest()
    assert _core.sha1(memoryview(data)) == hashlib.sha1(data).digest()
    enc = _core.base64_encode(data)
    assert type(enc) is bytes
    assert enc == base64.b64encode(data)
    assert _core.base64_decode(enc) == data
    assert _core.base64_decode(enc.decode("ascii")) == data


B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@MANY
@given(s=st.one_of(
    st.text(alphabet=B64_CHARS + "=", max_size=30),
    st.text(alphabet=B64_CHARS + "=-_ \n.", max_size=30),
    st.binary(max_size=20).map(lambda b: base64.b64encode(b).decode()),
    st.builds(lambda b, i, c: (lambda e: e[:i] + c + e[i + 1 :])(base64.b64encode(b).decode()),
              st.binary(max_size=20), st.integers(0, 30), st.sampled_from(list("=-_ \n\x00é") + ["A"])),
))
def test_base64_decode_strict(s):
    expected = ref.strict_b64decode(s)
    if expected is not None and not ref.b64_is_canonical(s):
        # Stray bits in the last symbol: either answer is acceptable.
        try:
            assert _core.base64_decode(s) == expected
        except ValueError:
            pass
        return
    if expected is None:
        with pytest.raises(ValueError):
            _core.base64_decode(s)
    else:
        assert _core.base64_decode(s) == expected
        if s.isascii():
            assert _core.base64_decode(s.encode()) == expected


@MEDIUM
@given(key=st.one_of(
    st.binary(min_size=16, max_size=16).map(lambda b: base64.b64encode(b).decode()),
    st.text(alphabet=B64_CHARS + "= ", max_size=40),
    st.binary(max_size=40),
))
def test_accept_key(key):
    assert _core.accept_key(key) == ref.accept_key(key)
    if isinstance(key, str):
        assert _core.accept_key(key.encode()) == ref.accept_key(key)


def test_accept_key_rfc_example():
    assert _core.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@st.composite
def header_list(draw, token, force=False):
    """A comma-separated header value that may (or, forced, must) contain ``token``."""
    others = st.sampled_from(["keep-alive", "close", "h2c", "websocket2", "upgrade-x",
                              "xupgrade", "foo", "", "web socket", "HTTP/2.0"])
    items = draw(st.lists(others, max_size=3))
    if force or draw(st.booleans()):
        variant = draw(st.sampled_from([token, token.upper(), token.title(),
                                        token[0].upper() + token[1:].swapcase()]))
        items.insert(draw(st.integers(0, len(items))), variant)
    seps = st.sampled_from([",", ", ", " ,", " , ", ",\t"])
    out = ""
    for i, it in enumerate(items):
        out += (draw(seps) if i else "") + it
    return out


@st.composite
def ws_keys(draw):
    kind = draw(st.integers(0, 6))
    if kind <= 2:
        return base64.b64encode(draw(st.binary(min_size=16, max_size=16))).decode()
    if kind == 3:  # base64, but not of 16 bytes
        n = draw(st.sampled_from([0, 1, 12, 15, 15, 17, 17, 18, 32]))
        return base64.b64encode(draw(st.binary(min_size=n, max_size=n))).decode()
    if kind == 4:
        return base64.b64encode(draw(st.binary(min_size=16, max_size=16))).decode().rstrip("=")
    if kind == 5:
        k = base64.b64encode(draw(st.binary(min_size=16, max_size=16))).decode()
        i = draw(st.integers(0, len(k) - 1))
        return k[:i] + draw(st.sampled_from(list("-_.*=é"))) + k[i + 1 :]
    return draw(st.text(max_size=30))


@st.composite
def handshake_requests(draw):
    """(method, upgrade, connection, version, key): a valid request with 0-2
    fields replaced by random (often invalid) values."""
    fields = draw(st.sets(st.sampled_from(range(5)), max_size=2))
    valid_key = base64.b64encode(draw(st.binary(min_size=16, max_size=16))).decode()
    return (
        draw(st.sampled_from(["POST", "get", "HEAD", "PUT", "", "GET"])) if 0 in fields else "GET",
        draw(st.one_of(st.none(), header_list("websocket"))) if 1 in fields
        else draw(header_list("websocket", force=True)),
        draw(st.one_of(st.none(), header_list("upgrade"))) if 2 in fields
        else draw(header_list("upgrade", force=True)),
        draw(st.sampled_from([None, "8", "12", "14", "", "13, 8", "abc", "13"])) if 3 in fields
        else "13",
        draw(st.one_of(st.none(), ws_keys())) if 4 in fields else valid_key,
    )


@MANY
@given(request=handshake_requests())
def test_check_request_matches_rules(request):
    method, upgrade, connection, version, key = request
    failures, accept = ref.check_request(method, upgrade, connection, version, key)
    allowed = set(failures)
    if key is not None and ref.strict_b64decode(key) is not None and not ref.b64_is_canonical(key):
        allowed.add(400)  # stray bits in the key: rejecting it is acceptable too
    if not failures:
        try:
            got = _core.check_request(method, upgrade, connection, version, key)
        except _core.HandshakeError as exc:
            assert exc.status in allowed
            return
        assert got == accept
        return
    with pytest.raises(_core.HandshakeError) as exc:
        _core.check_request(method, upgrade, connection, version, key)
    assert exc.value.status in allowed
    assert exc.value.args == (exc.value.status, exc.value.reason)


@MEDIUM
@given(key=ws_keys(), upgrade=header_list("websocket", force=True),
       connection=header_list("upgrade", force=True))
def test_check_request_keys(key, upgrade, connection):
    """Only the key varies: base64 of exactly 16 bytes, strictly padded."""
    failures, accept = ref.check_request("GET", upgrade, connection, "13", key)
    canonical = ref.b64_is_canonical(key)
    if not failures and canonical:
        assert _core.check_request("GET", upgrade, connection, "13", key) == accept
    elif failures and canonical or ref.strict_b64decode(key) is None:
        with pytest.raises(_core.HandshakeError) as exc:
            _core.check_request("GET", upgrade, connection, "13", key)
        assert exc.value.status == 400


@MEDIUM
@given(
    offered=st.one_of(st.none(), st.lists(st.sampled_from(["chat", "superchat", "v1", "v2", "x"]),
                                          max_size=4).map(", ".join)),
    supported=st.lists(st.sampled_from(["chat", "superchat", "v1", "v2", "y"]), max_size=4),
)
def test_select_subprotocol(offered, supported):
    assert _core.select_subprotocol(offered, supported) == ref.select_subprotocol(offered, supported)
