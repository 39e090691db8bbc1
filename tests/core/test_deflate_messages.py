"""permessage-deflate messages in the C core, against Python's zlib as the
reference: FrameParser inflating (every window size, context takeover on
and off, fragmented, any chunking), FrameEncoder deflating, the RSV1 rules,
bad data, UTF-8 after inflating, and decompression bombs bounded by
max_message_size as they inflate."""

import os
import tracemalloc
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dwebsocket_c import _core
from dwebsocket_c._core import OP_BINARY, OP_PING, OP_TEXT, FrameEncoder, FrameParser

KEY = b"\x37\xfa\x21\x3d"
TAIL = b"\x00\x00\xff\xff"
JSON_LIKE = b'{"user": "alice", "room": "general", "text": "hello there", "seq": 12345}' * 14


def params(server_bits=15, client_bits=15, server_nct=False, client_nct=False):
    return {
        "server_max_window_bits": server_bits,
        "client_max_window_bits": client_bits,
        "server_no_context_takeover": server_nct,
        "client_no_context_takeover": client_nct,
    }


class ClientCompressor:
    """A client's side of the extension, written with Python's zlib."""

    def __init__(self, bits=15, takeover=True):
        self.bits, self.takeover = bits, takeover
        self.z = zlib.compressobj(wbits=-bits)

    def compress(self, data):
        if not self.takeover:
            self.z = zlib.compressobj(wbits=-self.bits)
        out = self.z.compress(data) + self.z.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(TAIL)
        return out[:-4]


def frame(op, payload, fin=True, rsv1=True):
    return _core.build_frame(op, payload, fin=fin, rsv1=rsv1, mask_key=KEY)


def events(parser, data, chunk=None):
    if chunk is None:
        parser.feed(data)
    else:
        for i in range(0, len(data), chunk):
            parser.feed(data[i:i + chunk])
    return list(parser)


def protocol_error(parser, data):
    parser.feed(data)
    with pytest.raises(_core.ProtocolError) as info:
        list(parser)
    return info.value


MESSAGES = [
    JSON_LIKE,
    b"",
    "žluťoučký kůň úpěl ďábelské ódy ".encode() * 50,
    bytes(range(256)) * 40,
    os.urandom(3000),  # incompressible
    b"a" * 200_000,
]


# ------------------------------------------------------------------ inflate


@pytest.mark.parametrize("bits", range(9, 16))
@pytest.mark.parametrize("takeover", [True, False], ids=["takeover", "no-takeover"])
def test_inflates_messages_of_a_zlib_client(bits, takeover):
    client = ClientCompressor(bits, takeover)
    parser = FrameParser(deflate=params(client_bits=bits, client_nct=not takeover))
    for message in MESSAGES * 2:  # twice: the second round uses the context
        assert events(parser, frame(OP_BINARY, client.compress(message))) == [
            (OP_BINARY, message)
        ]


def test_window_8_from_a_client_inflates():
    """A client may be granted 8 bits; zlib inflates it with a 9-bit window."""
    z = zlib.compressobj(wbits=-9)  # zlib's raw deflate refuses 8
    data = z.compress(JSON_LIKE) + z.flush(zlib.Z_SYNC_FLUSH)
    parser = FrameParser(deflate=params(client_bits=8))
    assert events(parser, frame(OP_TEXT, data[:-4])) == [(OP_TEXT, JSON_LIKE)]


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_fragmented_and_chunked_with_a_ping_between_fragments(chunk):
    client = ClientCompressor()
    text = "ünïcödé text, split inside characters ".encode() * 300
    data = client.compress(text)
    cut1, cut2 = len(data) // 3, 2 * len(data) // 3
    stream = (
        frame(OP_TEXT, data[:cut1], fin=False)
        + frame(_core.OP_CONTINUATION, data[cut1:cut2], fin=False, rsv1=False)
        + _core.build_frame(OP_PING, b"hi", mask_key=KEY)
        + frame(_core.OP_CONTINUATION, data[cut2:], rsv1=False)
        + frame(OP_BINARY, client.compress(b"next"))
    )
    parser = FrameParser(deflate=params())
    assert events(parser, stream, chunk) == [
        (OP_PING, b"hi"), (OP_TEXT, text), (OP_BINARY, b"next")
    ]


def test_uncompressed_messages_between_compressed_ones():
    client = ClientCompressor()
    parser = FrameParser(deflate=params())
    stream = (
        frame(OP_TEXT, client.compress(JSON_LIKE))
        + frame(OP_TEXT, b"plain", rsv1=False)
        + frame(OP_TEXT, client.compress(JSON_LIKE))
    )
    assert events(parser, stream) == [
        (OP_TEXT, JSON_LIKE), (OP_TEXT, b"plain"), (OP_TEXT, JSON_LIKE)
    ]


def test_empty_and_final_block_messages():
    """An empty compressed message (a lone 0x00 and nothing), and a sender
    that ends its message with a final block (BFINAL): both inflate, and the
    next message still does."""
    z = zlib.compressobj(wbits=-15)
    final = z.compress(b"finished") + z.flush(zlib.Z_FINISH)
    client = ClientCompressor()
    parser = FrameParser(deflate=params())
    stream = frame(OP_TEXT, b"") + frame(OP_TEXT, b"\x00") + frame(OP_TEXT, final)
    stream += frame(OP_TEXT, client.compress(b"after"))
    assert events(parser, stream) == [
        (OP_TEXT, b""), (OP_TEXT, b""), (OP_TEXT, b"finished"), (OP_TEXT, b"after")
    ]


def test_without_deflate_the_rsv1_payload_is_left_compressed():
    """allow_rsv1 alone (an extension handled elsewhere) keeps the old contract."""
    data = ClientCompressor().compress(JSON_LIKE)
    parser = FrameParser(allow_rsv1=True)
    assert events(parser, frame(OP_TEXT, data)) == [(OP_TEXT | _core.FLAG_RSV1, data)]


# ------------------------------------------------------------- RSV1 rules


def test_rsv1_on_a_continuation_frame_is_1002():
    data = ClientCompressor().compress(JSON_LIKE)
    error = protocol_error(
        FrameParser(deflate=params()),
        frame(OP_TEXT, data[:10], fin=False) + frame(_core.OP_CONTINUATION, data[10:]),
    )
    assert (error.code, error.reason) == (1002, "RSV1 set on a continuation frame")


def test_rsv1_on_a_control_frame_is_1002():
    raw = bytearray(_core.build_frame(OP_PING, b"x", mask_key=KEY))
    raw[0] |= 0x40
    error = protocol_error(FrameParser(deflate=params()), bytes(raw))
    assert (error.code, error.reason) == (1002, "RSV1 set on a control frame")


def test_rsv1_without_negotiation_is_1002():
    error = protocol_error(FrameParser(), frame(OP_TEXT, b"x"))
    assert (error.code, error.reason) == (1002, "reserved bit RSV1 set")


# ------------------------------------------------------------ bad payloads


def test_bad_deflate_data_is_1007_after_the_good_messages():
    client = ClientCompressor()
    parser = FrameParser(deflate=params())
    parser.feed(frame(OP_TEXT, client.compress(b"good")) + frame(OP_TEXT, b"\xff\xff\xff\xff"))
    assert next(parser) == (OP_TEXT, b"good")
    with pytest.raises(_core.ProtocolError) as info:
        next(parser)
    assert info.value.code == 1007
    assert "compressed" in info.value.reason


def test_text_invalid_after_inflating_is_1007():
    error = protocol_error(
        FrameParser(deflate=params()), frame(OP_TEXT, ClientCompressor().compress(b"ok \xc3\x28"))
    )
    assert error.code == 1007 and "UTF-8" in error.reason


def test_text_ending_inside_a_character_is_1007():
    error = protocol_error(
        FrameParser(deflate=params()), frame(OP_TEXT, ClientCompressor().compress(b"ok \xe2\x82"))
    )
    assert error.code == 1007 and "ends inside a character" in error.reason


def test_invalid_text_fails_while_streaming_before_the_message_ends():
    """The bad byte is found while the first fragment inflates: the error is
    there before the message's last frame arrives."""
    data = ClientCompressor().compress(b"\xff" + b"x" * 100_000)
    parser = FrameParser(deflate=params())
    parser.feed(frame(OP_TEXT, data, fin=False))
    assert parser.error is not None and parser.error.code == 1007


# ------------------------------------------------------------------- limits


@pytest.mark.parametrize("limit", [1, 1000, 65536, 1 << 20])
def test_inflated_size_exactly_at_the_limit_passes_one_more_byte_is_1009(limit):
    client = ClientCompressor(takeover=False)
    ok = FrameParser(max_message_size=limit, deflate=params())
    assert events(ok, frame(OP_BINARY, client.compress(b"z" * limit))) == [
        (OP_BINARY, b"z" * limit)
    ]
    over = FrameParser(max_message_size=limit, deflate=params())
    error = protocol_error(over, frame(OP_BINARY, client.compress(b"z" * (limit + 1))))
    assert error.code == 1009 and "once inflated" in error.reason


def test_incompressible_message_at_the_limit_passes_the_wire_check():
    """Compressed random data is a little longer than the data: the frame
    header check allows for it; the inflated size is what is limited."""
    limit = 100_000
    data = os.urandom(limit)
    compressed = ClientCompressor().compress(data)
    assert len(compressed) > limit
    parser = FrameParser(max_message_size=limit, deflate=params())
    assert events(parser, frame(OP_BINARY, compressed)) == [(OP_BINARY, data)]


def test_a_compressed_frame_far_over_the_limit_is_refused_from_its_header():
    parser = FrameParser(max_message_size=1000, deflate=params())
    header = _core.frame_header(OP_BINARY, 10_000_000, rsv1=True, mask_key=KEY)
    error = protocol_error(parser, header)
    assert error.code == 1009


@pytest.fixture(scope="module")
def bomb():
    """256 MiB of zeros, compressed (~250 KiB): the classic bomb."""
    z = zlib.compressobj(level=9, wbits=-15)
    chunk = bytes(1 << 20)
    out = [z.compress(chunk) for _ in range(256)]
    out.append(z.flush(zlib.Z_SYNC_FLUSH))
    return b"".join(out)[:-4]


@pytest.mark.parametrize("chunk", [None, 4096])
def test_bomb_is_refused_after_at_most_max_size_bytes_of_output(bomb, chunk):
    limit = 1 << 20
    parser = FrameParser(max_message_size=limit, deflate=params())
    tracemalloc.start()
    try:
        stream = frame(OP_BINARY, bomb)
        if chunk is None:
            parser.feed(stream)
        else:
            for i in range(0, len(stream), chunk):
                parser.feed(stream[i:i + chunk])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert parser.error is not None and parser.error.code == 1009
    # The frame itself (~250 KiB, fed whole), its copy, and at most
    # max_size + 1 bytes of output: never the 256 MiB.
    assert peak < 2 * len(stream) + limit + 512 * 1024, peak


# ---------------------------------------------------------------- deflate


def zlib_inflater(bits=15):
    return zlib.decompressobj(wbits=-bits)


def split_frame(data):
    """(first byte, payload) of one unmasked frame."""
    n = data[1] & 0x7F
    offset = 2
    if n == 126:
        n, offset = int.from_bytes(data[2:4], "big"), 4
    elif n == 127:
        n, offset = int.from_bytes(data[2:10], "big"), 10
    assert len(data) == offset + n
    return data[0], data[offset:]


@pytest.mark.parametrize("bits", range(9, 16))
@pytest.mark.parametrize("takeover", [True, False], ids=["takeover", "no-takeover"])
def test_encoder_output_inflates_with_zlib(bits, takeover):
    encoder = FrameEncoder(deflate=params(server_bits=bits, server_nct=not takeover))
    inflater = zlib_inflater(bits)
    for message in [m for m in MESSAGES if len(m) >= 128] * 2:
        b0, payload = split_frame(encoder.encode(OP_BINARY, message))
        assert b0 == 0x80 | 0x40 | OP_BINARY  # FIN, RSV1
        if not takeover:
            inflater = zlib_inflater(bits)  # a fresh one each time must do
        assert inflater.decompress(payload + TAIL) == message
    assert encoder.holds_stream is takeover


def test_context_takeover_compresses_a_repeated_message_better():
    keep = FrameEncoder(deflate=params(server_nct=False))
    forget = FrameEncoder(deflate=params(server_nct=True))
    keep.encode(OP_TEXT, JSON_LIKE)
    forget.encode(OP_TEXT, JSON_LIKE)
    assert len(keep.encode(OP_TEXT, JSON_LIKE)) < len(forget.encode(OP_TEXT, JSON_LIKE)) / 2


def test_messages_under_the_threshold_go_uncompressed():
    encoder = FrameEncoder(deflate={**params(), "threshold": 100})
    assert encoder.threshold == 100
    assert encoder.encode(OP_TEXT, b"x" * 99) == _core.build_frame(OP_TEXT, b"x" * 99)
    assert not encoder.compresses(99) and encoder.compresses(100)
    assert encoder.encode(OP_TEXT, b"x" * 100)[0] & 0x40


def test_no_deflate_encoder_builds_plain_frames():
    encoder = FrameEncoder()
    assert not encoder.deflate and not encoder.compresses(10**9)
    for message in MESSAGES:
        assert encoder.encode(OP_BINARY, message) == _core.build_frame(OP_BINARY, message)
    assert encoder.header(OP_TEXT, 70000) == _core.frame_header(OP_TEXT, 70000)


def test_encoder_to_parser_round_trip_client_side():
    """Our encoder as a client (masked) into our parser as a server, and our
    server encoder into our parser as a client."""
    prm = params(server_bits=10, client_bits=11)
    client_encoder = FrameEncoder(deflate=prm, client_side=True, threshold=0)
    server_parser = FrameParser(deflate=prm)
    server_encoder = FrameEncoder(deflate=prm, threshold=0)
    client_parser = FrameParser(deflate=prm, client_side=True)
    for message in MESSAGES:
        assert events(server_parser, client_encoder.encode(OP_BINARY, message)) == [
            (OP_BINARY, message)
        ]
        assert events(client_parser, server_encoder.encode(OP_BINARY, message)) == [
            (OP_BINARY, message)
        ]


def test_share_key_tells_when_one_frame_serves_every_member():
    a = FrameEncoder(deflate={**params(server_nct=True), "threshold": 64})
    b = FrameEncoder(deflate={**params(server_nct=True), "threshold": 64})
    other = FrameEncoder(deflate={**params(server_bits=10, server_nct=True), "threshold": 64})
    takeover = FrameEncoder(deflate=params(server_nct=False))
    assert a.share_key == b.share_key is not None
    assert other.share_key != a.share_key
    assert takeover.share_key is None
    assert takeover.keeps_context and not a.keeps_context and not FrameEncoder().keeps_context
    assert FrameEncoder().share_key == FrameEncoder().share_key
    b.encode(OP_TEXT, b"history " * 100)  # no history kept: same frame
    assert a.encode(OP_TEXT, JSON_LIKE) == b.encode(OP_TEXT, JSON_LIKE)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"deflate": params(server_bits=8)}, "8-bit window"),
        ({"deflate": {"server_max_window_bits": 16}}, "server_max_window_bits"),
        ({"deflate": "permessage-deflate"}, "dict"),
        ({"threshold": -1}, "threshold"),
        ({"mem_level": 0}, "mem_level"),
        ({"level": 10}, "level"),
    ],
)
def test_encoder_rejects_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        FrameEncoder(**kwargs)


@pytest.mark.parametrize("opcode", [0, 8, 9, 3])
def test_encoder_encodes_data_messages_only(opcode):
    with pytest.raises(ValueError, match="text .1. or binary .2."):
        FrameEncoder().encode(opcode, b"x")


# --------------------------------------------------------------- property


@settings(max_examples=60, deadline=None)
@given(
    messages=st.lists(st.binary(max_size=3000) | st.text(max_size=500).map(str.encode),
                      min_size=1, max_size=6),
    bits=st.integers(9, 15),
    takeover=st.booleans(),
    chunk=st.integers(1, 5000),
    fragment=st.integers(1, 400),
)
def test_round_trip_property(messages, bits, takeover, chunk, fragment):
    client = ClientCompressor(bits, takeover)
    stream = b""
    for message in messages:
        data = client.compress(message)
        pieces = [data[i:i + fragment] for i in range(0, len(data), fragment)] or [b""]
        for i, piece in enumerate(pieces):
            stream += frame(
                OP_BINARY if i == 0 else _core.OP_CONTINUATION, piece,
                fin=i == len(pieces) - 1, rsv1=i == 0,
            )
    parser = FrameParser(deflate=params(client_bits=bits, client_nct=not takeover))
    assert events(parser, stream, chunk) == [(OP_BINARY, m) for m in messages]


def test_message_cut_inside_a_deflate_block_is_1007():
    """A message must end where the sender flushed: one that stops inside a
    block would make the next message inflate as garbage."""
    z = zlib.compressobj(wbits=-15)
    data = z.compress(JSON_LIKE * 3) + z.flush(zlib.Z_SYNC_FLUSH)
    error = protocol_error(FrameParser(deflate=params()), frame(OP_TEXT, data[: len(data) // 2]))
    assert error.code == 1007 and "inside a deflate block" in error.reason


def test_no_takeover_encoder_is_usable_from_many_threads_at_once():
    """Without context takeover, encode() keeps no state of its own (the
    compressor is the thread's): big messages compressed from 4 threads at
    once, the GIL released meanwhile, all inflate right."""
    import threading

    encoder = FrameEncoder(deflate=params(server_nct=True))
    message = JSON_LIKE * 200
    failures = []

    def work():
        try:
            for _ in range(20):
                _, payload = split_frame(encoder.encode(OP_TEXT, message))
                assert zlib_inflater().decompress(payload + TAIL) == message
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures


@pytest.mark.parametrize("mem_level", [1, 2, 9])
@pytest.mark.parametrize("level", [1, 6, 9])
def test_incompressible_data_with_any_memory_level(mem_level, level):
    """Small memLevels make small stored blocks (5 bytes of overhead each):
    the output buffer is sized for the worst case."""
    encoder = FrameEncoder(deflate=params(server_bits=9), mem_level=mem_level, level=level)
    data = os.urandom(200_000)
    inflater = zlib_inflater(9)
    for message in (data, data[:1000], JSON_LIKE):
        _, payload = split_frame(encoder.encode(OP_BINARY, message))
        assert inflater.decompress(payload + TAIL) == message
