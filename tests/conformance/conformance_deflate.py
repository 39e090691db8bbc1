"""Autobahn groups 12 and 13 (permessage-deflate, RFC 7692), as black-box
cases over the raw client, with Python's zlib as the client's compressor.

* 12.x: compressed text and binary messages of 16 B to 256 KiB, whole or
  fragmented, and plain messages between compressed ones, echoed (the echo
  is inflated with the window the server announced, so a server that
  compressed with a bigger window fails).
* 13.x: every window size 9-15 for both sides, with context takeover on and
  off (both sides), and several offers in one header.
* 12.9-12.12: the errors: RSV1 on a continuation frame (1002), data that
  does not inflate (1007), text that is not UTF-8 once inflated (1007), and
  a decompression bomb (1009 after at most the size limit).

Few connections: each case sends all its sizes on one connection.
Registered into ``conformance_cases.CASES`` (imported at its end).
"""

from __future__ import annotations

import os
import zlib

import conformance_cases as cc
from conformance_client import (
    OP_BINARY,
    OP_CONT,
    OP_TEXT,
    RSV1,
    ConformanceFailure,
    encode_frame,
)

TAIL = b"\x00\x00\xff\xff"
SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072, 262144]


def sample(size: int, binary: bool) -> bytes:
    """Compressible but not trivial: JSON-like records, some random bytes."""
    if binary:
        unit = os.urandom(16) + bytes(range(48))
    else:
        unit = b'{"id": %d, "name": "user", "tags": ["a", "b"]}, ' % size
    return (unit * (size // len(unit) + 1))[:size]


def parse_agreed(header: str | None) -> dict[str, str | None]:
    if header is None:
        raise ConformanceFailure("permessage-deflate offered but not negotiated")
    name, *params = [p.strip() for p in header.split(";")]
    if name != "permessage-deflate" or "," in header:
        raise ConformanceFailure(f"unexpected Sec-WebSocket-Extensions {header!r}")
    agreed: dict[str, str | None] = {}
    for p in params:
        key, _, value = p.partition("=")
        agreed[key.strip()] = value.strip().strip('"') or None
    return agreed


class DeflateClient:
    """One connection with permessage-deflate: compresses what it sends,
    inflates what the server sends, as the agreed parameters say."""

    def __init__(self, ctx: cc.Ctx, offer: str):
        self.conn = ctx.client(extra=[("Sec-WebSocket-Extensions", offer)])
        self.agreed = parse_agreed(self.conn.response.header("Sec-WebSocket-Extensions"))
        self.conn.allowed_rsv = RSV1
        self.client_bits = int(self.agreed.get("client_max_window_bits") or 15)
        self.server_bits = int(self.agreed.get("server_max_window_bits") or 15)
        self.client_takeover = "client_no_context_takeover" not in self.agreed
        self.server_takeover = "server_no_context_takeover" not in self.agreed
        # The cases never offer 8 bits: zlib cannot compress with them.
        self._z = zlib.compressobj(wbits=-self.client_bits)
        self._inflate = zlib.decompressobj(wbits=-self.server_bits)

    def compress(self, data: bytes) -> bytes:
        if not self.client_takeover:
            self._z = zlib.compressobj(wbits=-self.client_bits)
        out = self._z.compress(data) + self._z.flush(zlib.Z_SYNC_FLUSH)
        return out[:-4]

    def send(self, opcode: int, data: bytes, *, fragment: int | None = None,
             compress: bool = True) -> None:
        payload = self.compress(data) if compress else data
        rsv = RSV1 if compress else 0
        if fragment is None:
            self.conn.send(encode_frame(opcode, payload, rsv=rsv))
            return
        pieces = [payload[i:i + fragment] for i in range(0, len(payload), fragment)] or [b""]
        out = b"".join(
            encode_frame(opcode if i == 0 else OP_CONT, piece, rsv=rsv if i == 0 else 0,
                         fin=i == len(pieces) - 1)
            for i, piece in enumerate(pieces)
        )
        self.conn.send(out)

    def receive(self) -> tuple[int, bytes, bool]:
        """The next data message, inflated if the server compressed it."""
        frames = []
        while True:
            f = self.conn.recv_frame()
            if f is None:
                raise ConformanceFailure("server closed TCP while a message was expected")
            if f.opcode >= 8:
                if f.rsv:
                    raise ConformanceFailure("server set RSV1 on a control frame")
                continue
            if frames and f.rsv:
                raise ConformanceFailure("server set RSV1 on a continuation frame")
            frames.append(f)
            if f.fin:
                break
        data = b"".join(f.payload for f in frames)
        compressed = bool(frames[0].rsv & RSV1)
        if compressed:
            if not self.server_takeover:
                self._inflate = zlib.decompressobj(wbits=-self.server_bits)
            try:
                data = self._inflate.decompress(data + TAIL)
            except zlib.error as exc:
                raise ConformanceFailure(
                    f"server's compressed message does not inflate with "
                    f"{self.server_bits} window bits: {exc}") from exc
        return frames[0].opcode, data, compressed

    def expect_echo(self, opcode: int, data: bytes) -> bool:
        op, got, compressed = self.receive()
        if (op, got) != (opcode, data):
            raise ConformanceFailure(
                f"expected echo of {cc.op_name(opcode)} {len(data)} bytes, got "
                f"{cc.op_name(op)} {len(got)} bytes {got[:40]!r}")
        return compressed

    def finish(self) -> None:
        cc.finish(self.conn)

    def abort(self) -> None:
        self.conn.abort()


def with_client(offer: str, body) -> callable:
    def fn(ctx: cc.Ctx) -> cc.Outcome:
        c = DeflateClient(ctx, offer)
        try:
            out = body(c) or cc.Outcome()
            c.finish()
        except BaseException:
            c.abort()
            raise
        out.notes.insert(0, f"agreed: {c.conn.response.header('Sec-WebSocket-Extensions')}")
        return out

    return fn


def echo_sizes(opcode: int, *, fragment: int | None = None, rounds: int = 2,
               sizes=SIZES, mixed: bool = False):
    """Every size, ``rounds`` times (the second round reuses the context)."""

    def body(c: DeflateClient) -> cc.Outcome:
        sent = compressed_back = 0
        for _ in range(rounds):
            for i, size in enumerate(sizes):
                data = sample(size, opcode == OP_BINARY)
                plain = mixed and i % 2 == 1
                c.send(opcode, data, fragment=fragment, compress=not plain)
                sent += 1
                if c.expect_echo(opcode, data):
                    compressed_back += 1
        out = cc.Outcome()
        out.figures["messages"] = sent
        out.figures["compressed_replies"] = compressed_back
        if compressed_back == 0:
            raise ConformanceFailure("the server compressed none of its replies")
        return out

    return body


DEFAULT_OFFER = "permessage-deflate; client_max_window_bits"

cc.add("12.1", "compressed text 16 B..256 KiB, twice each, on one connection (browser's offer)",
       with_client(DEFAULT_OFFER, echo_sizes(OP_TEXT)))
cc.add("12.2", "compressed binary 16 B..256 KiB, twice each",
       with_client(DEFAULT_OFFER, echo_sizes(OP_BINARY)))
cc.add("12.3", "compressed text 16 B..256 KiB, fragmented in 1000-byte frames",
       with_client(DEFAULT_OFFER, echo_sizes(OP_TEXT, fragment=1000)))
cc.add("12.4", "compressed binary 16 B..256 KiB, fragmented in 64 KiB frames",
       with_client(DEFAULT_OFFER, echo_sizes(OP_BINARY, fragment=65536)))
cc.add("12.5", "plain and compressed messages alternating (context kept across)",
       with_client("permessage-deflate", echo_sizes(OP_TEXT, mixed=True)))

WINDOW_SIZES = [16, 1024, 65536, 262144]
for bits in range(9, 16):
    cc.add(f"13.{bits}.1",
           f"window bits {bits} both sides, context takeover on both sides",
           with_client(f"permessage-deflate; client_max_window_bits={bits}; "
                       f"server_max_window_bits={bits}",
                       echo_sizes(OP_BINARY, sizes=WINDOW_SIZES)))
    cc.add(f"13.{bits}.2",
           f"window bits {bits} both sides, no context takeover on either side",
           with_client(f"permessage-deflate; client_max_window_bits={bits}; "
                       f"server_max_window_bits={bits}; client_no_context_takeover; "
                       "server_no_context_takeover",
                       echo_sizes(OP_TEXT, sizes=WINDOW_SIZES)))


def _offers_in_order(c: DeflateClient) -> cc.Outcome:
    if c.agreed.get("server_max_window_bits") != "10":
        raise ConformanceFailure(f"expected the 2nd offer (server_max_window_bits=10), got {c.agreed}")
    return echo_sizes(OP_TEXT, sizes=WINDOW_SIZES, rounds=1)(c)


cc.add("13.16", "several offers: an invalid one (server_max_window_bits=8), then a valid one: "
       "the first acceptable is taken",
       with_client("permessage-deflate; server_max_window_bits=8, "
                   "permessage-deflate; server_max_window_bits=10, permessage-deflate",
                   _offers_in_order))


def _failing(offer: str, frames, code: int, before=()):
    def fn(ctx: cc.Ctx) -> cc.Outcome:
        c = DeflateClient(ctx, offer)
        try:
            for opcode, data, kind in frames(c):
                if kind == "raw":
                    c.conn.send(data)
                else:
                    c.send(opcode, data)
            return cc.expect_fail(c.conn, code, before)
        finally:
            c.abort()

    return fn


def _rsv1_on_continuation(c):
    payload = c.compress(b"x" * 300)
    yield None, encode_frame(OP_TEXT, payload[:5], rsv=RSV1, fin=False), "raw"
    yield None, encode_frame(OP_CONT, payload[5:], rsv=RSV1), "raw"


def _bad_data(c):
    yield OP_TEXT, b"hello", "deflate"
    yield None, encode_frame(OP_TEXT, b"\xff\xfe\xfd\xfc", rsv=RSV1), "raw"


def _bad_utf8(c):
    yield OP_TEXT, b"fine text " * 30 + b"\xc3\x28" + b" more" * 30, "deflate"


def _bomb(c):
    # 64 MiB of zeros in ~64 KiB: refused once 1 MiB (the limit) is inflated.
    z = zlib.compressobj(level=9, wbits=-c.client_bits)
    block = bytes(1 << 20)
    data = b"".join(z.compress(block) for _ in range(64)) + z.flush(zlib.Z_SYNC_FLUSH)
    yield None, encode_frame(OP_BINARY, data[:-4], rsv=RSV1), "raw"


cc.add("12.9", "RSV1 on a continuation frame of a compressed message -> 1002",
       _failing(DEFAULT_OFFER, _rsv1_on_continuation, 1002))
cc.add("12.10", "a compressed message that does not inflate -> 1007, after the good one's echo",
       _failing(DEFAULT_OFFER, _bad_data, 1007, before=[(OP_TEXT, b"hello")]))
cc.add("12.11", "compressed text that is not UTF-8 once inflated -> 1007",
       _failing(DEFAULT_OFFER, _bad_utf8, 1007))
cc.add("12.12", "decompression bomb (64 MiB of zeros in 64 KiB) -> 1009",
       _failing(DEFAULT_OFFER, _bomb, 1009))
