"""The conformance cases: Autobahn|Testsuite's groups, rewritten as black-box
checks over a raw socket (see conformance_client.py), against an echo endpoint.

Each case is a function ``fn(ctx) -> Outcome``; it raises ``AssertionError``
(``ConformanceFailure``) when the server misbehaves. The registry ``CASES``
keeps them in order; ``GROUPS`` names the rows of the summary table.

Expected outcomes follow RFC 6455. Where the RFC says the server must *fail
the WebSocket connection* (section 7.1.7), it SHOULD send a close frame with
the code and then close TCP: that is "strict"; closing TCP without a close
frame is allowed too and recorded as "non-strict". Where the RFC requires a
close frame (an answer to the client's close, 5.5.1), a bare EOF fails.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from typing import Callable

from conformance_client import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PONG,
    OP_TEXT,
    RSV1,
    RSV2,
    RSV3,
    ConformanceFailure,
    RawClient,
    Timeout,
    binary,
    close,
    cont,
    encode_frame,
    op_name,
    ping,
    pong,
    text,
)

KiB = 1024
MiB = 1024 * 1024
# The server's default WEBSOCKET_MAX_MESSAGE_SIZE (dwebsocket_c/conf.py) and
# the C parser's default: a message of exactly this size is accepted.
MAX_MESSAGE_SIZE = int(os.environ.get("DWS_CONFORMANCE_MAX_MESSAGE_SIZE", str(MiB)))

GROUPS = {
    "1": "1 framing",
    "2": "2 pings/pongs",
    "3": "3 reserved bits",
    "4": "4 reserved opcodes",
    "5": "5 fragmentation",
    "6": "6 UTF-8",
    "7": "7 close",
    "9": "9 limits/performance",
    "12": "12 deflate messages",
    "13": "13 deflate parameters",
    "H": "H handshake",
}


@dataclass
class Outcome:
    mode: str = "strict"  # or "non-strict": TCP dropped without a close frame
    notes: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)


@dataclass
class Ctx:
    host: str
    port: int
    path: str = "/ws/echo/"
    timeout: float = 10.0

    def client(self, path: str | None = None, **handshake) -> RawClient:
        c = RawClient(self.host, self.port, path or self.path, timeout=self.timeout)
        try:
            c.connect()
            c.handshake(**handshake)
        except BaseException:
            c.abort()
            raise
        return c

    def raw(self, path: str | None = None) -> RawClient:
        return RawClient(self.host, self.port, path or self.path, timeout=self.timeout).connect()


@dataclass
class Case:
    id: str
    group: str
    doc: str
    fn: Callable[[Ctx], Outcome | None]


CASES: list[Case] = []


def case(cid: str, doc: str):
    def deco(fn):
        CASES.append(Case(cid, cid.split(".")[0], doc, fn))
        return fn

    return deco


def add(cid: str, doc: str, fn: Callable[[Ctx], Outcome | None]) -> None:
    CASES.append(Case(cid, cid.split(".")[0], doc, fn))


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------


def messages_of(frames) -> list[tuple[int, bytes]]:
    """Frames -> data messages (fragments joined) and control frames, in order."""
    out, op, parts = [], None, []
    for f in frames:
        if f.opcode >= 8:
            out.append((f.opcode, f.payload))
            continue
        if op is None:
            op = f.opcode
        parts.append(f.payload)
        if f.fin:
            out.append((op, b"".join(parts)))
            op, parts = None, []
    if op is not None:
        out.append((op, b"".join(parts) + b"<unfinished>"))
    return out


def fmt_msgs(msgs) -> str:
    return "[" + ", ".join(f"{op_name(o)} {p[:30]!r}{'...' if len(p) > 30 else ''}" for o, p in msgs) + "]"


def expect_fail(c: RawClient, code: int, before=(), *, allow_eof: bool = True, timeout=None) -> Outcome:
    """The server must fail the connection with ``code``, after sending
    exactly the messages ``before`` ((opcode, payload) pairs)."""
    r = c.read_close(timeout)
    got = messages_of(r.frames_before)
    if got != list(before):
        raise ConformanceFailure(f"before the close expected {fmt_msgs(before)}, got {fmt_msgs(got)}")
    if not r.got_close_frame:
        if not allow_eof:
            raise ConformanceFailure(f"server closed TCP without a close frame (expected close {code})")
        return Outcome("non-strict", [f"TCP closed without a close frame (RFC: SHOULD send {code})"])
    if r.code != code:
        raise ConformanceFailure(f"expected close code {code}, got {r.code} reason {r.reason!r}")
    check_after_close(r)
    return Outcome("strict")


def check_after_close(r) -> None:
    if b"HTTP/1." in r.trailing:
        raise ConformanceFailure(f"server wrote an HTTP response after the closing handshake: {r.trailing[:200]!r}")
    if r.trailing:
        raise ConformanceFailure(f"server sent bytes after its close frame: {r.trailing[:100]!r}")
    if not r.eof_after:
        raise ConformanceFailure("server did not close the TCP connection after the closing handshake")


def expect_clean_close(c: RawClient, code: int | None, reason: bytes = b"", *, also=(None,), before=()) -> Outcome:
    """Client sent close(code, ...): the server must answer with a close frame
    echoing ``code`` (or one of ``also``... only when listed) and close TCP."""
    r = c.read_close()
    got = messages_of(r.frames_before)
    if got != list(before):
        raise ConformanceFailure(f"before the close expected {fmt_msgs(before)}, got {fmt_msgs(got)}")
    if not r.got_close_frame:
        raise ConformanceFailure("server closed TCP without answering the close frame (RFC 6455 5.5.1: MUST)")
    ok = {code} | (set(also) if code is None else set())
    if r.code not in ok:
        raise ConformanceFailure(f"server's close code {r.code}, expected the echo {code}")
    check_after_close(r)
    return Outcome("strict")


def finish(c: RawClient) -> None:
    """Close normally and check the server's half of the closing handshake."""
    c.send(close(1000))
    expect_clean_close(c, 1000)


def echo_case(payload: bytes, opcode: int, *, chunk: int | None = None, delay: float = 0.0, frames=None):
    """Send one message (optionally as the given frames, or chunked writes)
    and expect it echoed with the same type."""

    def fn(ctx: Ctx) -> Outcome:
        with ctx.client() as c:
            data = frames if frames is not None else encode_frame(opcode, payload)
            if chunk:
                c.send_chunked(data, chunk, delay)
            else:
                c.send(data)
            c.expect_echo(opcode, payload)
            finish(c)
        return Outcome()

    return fn


def fail_case(data: bytes | list[bytes], code: int, before=(), *, write_delay: float = 0.0, allow_eof=True):
    """Send ``data`` (one write, or several writes with ``write_delay``) and
    expect the connection failed with ``code`` after ``before``."""

    def fn(ctx: Ctx) -> Outcome:
        with ctx.client() as c:
            if isinstance(data, list):
                for d in data:
                    c.send(d)
                    if write_delay:
                        time.sleep(write_delay)
            else:
                c.send(data)
            return expect_fail(c, code, before, allow_eof=allow_eof)

    return fn


def seq_case(data: bytes, expected, *, then_close: bool = True):
    """Send ``data`` and expect exactly ``expected`` messages, then close cleanly."""

    def fn(ctx: Ctx) -> Outcome:
        with ctx.client() as c:
            c.send(data)
            got = []
            for op, _payload in expected:
                if op >= 8:
                    f = c.recv_frame()
                    if f is None:
                        raise ConformanceFailure(f"EOF; got so far {fmt_msgs(got)}, expected {fmt_msgs(expected)}")
                    got.append((f.opcode, f.payload))
                else:
                    mop, mdata, controls = c.recv_message()
                    got += [(f.opcode, f.payload) for f in controls] + [(mop, mdata)]
                if got != list(expected[: len(got)]):
                    raise ConformanceFailure(f"expected {fmt_msgs(expected)}, got {fmt_msgs(got)}")
            if then_close:
                finish(c)
        return Outcome()

    return fn


def rnd(n: int, seed: int = 0) -> bytes:
    return random.Random(n * 7919 + seed).randbytes(n)


def ascii_text(n: int) -> bytes:
    return (b"*" * n) if n < 64 else (bytes(range(32, 127)) * (n // 95 + 1))[:n]


# --------------------------------------------------------------------------
# 1. Framing
# --------------------------------------------------------------------------

SIZES = [0, 1, 125, 126, 127, 128, 65535, 65536, 65537]
for i, n in enumerate(SIZES, 1):
    add(f"1.1.{i}", f"text message of {n} bytes echoed", echo_case(ascii_text(n), OP_TEXT))
    add(f"1.2.{i}", f"binary message of {n} bytes echoed", echo_case(rnd(n), OP_BINARY))
add("1.1.10", "text 65536 bytes written in 997-byte chunks", echo_case(ascii_text(65536), OP_TEXT, chunk=997))
add("1.2.10", "binary 65536 bytes written in 997-byte chunks", echo_case(rnd(65536), OP_BINARY, chunk=997))
for i, n in enumerate([0, 1, 125, 126, 127, 128, 300], 1):
    add(f"1.3.{i}", f"text of {n} bytes, 1 byte per TCP write", echo_case(ascii_text(n), OP_TEXT, chunk=1))
    add(f"1.4.{i}", f"binary of {n} bytes, 1 byte per TCP write", echo_case(rnd(n), OP_BINARY, chunk=1))
add(
    "1.3.8",
    "text of 65536 bytes (64-bit length), 1 byte per write with 2 ms pauses for the 14-byte header",
    lambda ctx: _slow_header(ctx, 65536),
)
add(
    "1.3.9",
    "text of 126 bytes (16-bit length), 1 byte per write with 2 ms pauses",
    lambda ctx: _slow_header(ctx, 126),
)


def _slow_header(ctx: Ctx, n: int) -> Outcome:
    payload = ascii_text(n)
    data = text(payload)
    hl = 2 + (0 if n < 126 else 2 if n < 65536 else 8) + 4
    with ctx.client() as c:
        c.send_chunked(data[: hl + 4], 1, 0.002)
        c.send(data[hl + 4 :])
        c.expect_echo(OP_TEXT, payload)
        finish(c)
    return Outcome()


add(
    "1.5.1",
    "many frames of mixed types in one TCP write, all echoed in order",
    seq_case(
        b"".join(text(f"m{i}") if i % 2 else binary(b"b%d" % i) for i in range(20)),
        [(OP_BINARY if i % 2 == 0 else OP_TEXT, (b"b%d" if i % 2 == 0 else b"m%d") % i) for i in range(20)],
    ),
)
add(
    "1.5.2",
    "a frame boundary split mid-header across two writes",
    lambda ctx: _split_write(ctx),
)


def _split_write(ctx: Ctx) -> Outcome:
    data = text(b"first") + text(b"x" * 200) + binary(b"third")
    with ctx.client() as c:
        cut = len(text(b"first")) + 3  # inside the 2nd frame's 16-bit length
        c.send(data[:cut])
        time.sleep(0.02)
        c.send(data[cut:])
        c.expect_echo(OP_TEXT, b"first")
        c.expect_echo(OP_TEXT, b"x" * 200)
        c.expect_echo(OP_BINARY, b"third")
        finish(c)
    return Outcome()


add(
    "1.6.1",
    "16-bit length used for a 5-byte payload (non-minimal, RFC 5.2 says MUST minimal for the sender) "
    "- the receiver rule is unspecified: echo or 1002 both accepted, recorded",
    lambda ctx: _non_minimal(ctx, 16),
)
add(
    "1.6.2",
    "64-bit length used for a 5-byte payload (non-minimal): echo or 1002 accepted, recorded",
    lambda ctx: _non_minimal(ctx, 64),
)


def _non_minimal(ctx: Ctx, form: int) -> Outcome:
    with ctx.client() as c:
        c.send(encode_frame(OP_TEXT, b"Hello", length_form=form) + text(b"after"))
        f = c.recv_frame()
        if f is not None and f.opcode == OP_TEXT:
            if f.payload != b"Hello":
                raise ConformanceFailure(f"non-minimal length: got {f!r}")
            c.expect_echo(OP_TEXT, b"after")
            finish(c)
            return Outcome(notes=["non-minimal length accepted"])
        if f is None:
            return Outcome("non-strict", ["non-minimal length: TCP dropped"])
        if f.opcode == OP_CLOSE:
            return Outcome(notes=[f"non-minimal length rejected with close {f.payload[:2].hex()}"])
        raise ConformanceFailure(f"non-minimal length: unexpected {f!r}")


add("1.7.1", "unmasked client text frame -> 1002 (RFC 5.1: server MUST close)",
    fail_case(text(b"Hello", mask=False), 1002))
add("1.7.2", "unmasked client ping -> 1002", fail_case(ping(b"p", mask=False), 1002))
add("1.7.3", "valid text then an unmasked one: first echoed, then 1002",
    fail_case(text(b"ok") + text(b"Hello", mask=False), 1002, [(OP_TEXT, b"ok")]))
add("1.8.1", "64-bit length with the most significant bit set -> 1002 (RFC 5.2: MSB MUST be 0); "
    "1009 (too big, checked first) accepted with a note", lambda ctx: _msb_len(ctx))


def _msb_len(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        c.send(encode_frame(OP_BINARY, b"", length=1 << 63, length_form=64))
        r = c.read_close()
        if r.frames_before:
            raise ConformanceFailure(f"frames before the close: {r.frames_before}")
        if not r.got_close_frame:
            return Outcome("non-strict", ["TCP dropped without close"])
        if r.code not in (1002, 1009):
            raise ConformanceFailure(f"close code {r.code}, expected 1002")
        check_after_close(r)
        return Outcome(notes=[] if r.code == 1002 else ["closed with 1009, not 1002"])


# --------------------------------------------------------------------------
# 2. Pings and pongs
# --------------------------------------------------------------------------

add("2.1", "ping without payload -> pong without payload", seq_case(ping(b""), [(OP_PONG, b"")]))
add("2.2", "ping with a small text payload -> same payload", seq_case(ping(b"Hello, world!"), [(OP_PONG, b"Hello, world!")]))
add("2.3", "ping with a small binary payload -> same payload",
    seq_case(ping(b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"), [(OP_PONG, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")]))
add("2.4", "ping with a 125-byte binary payload -> same payload", seq_case(ping(rnd(125)), [(OP_PONG, rnd(125))]))
add("2.5", "ping with a 126-byte payload -> 1002, no pong", fail_case(ping(rnd(126)), 1002))
add("2.6", "ping of 125 bytes, 1 byte per TCP write -> pong",
    lambda ctx: _bytewise_ping(ctx))


def _bytewise_ping(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        c.send_chunked(ping(rnd(125, 2)), 1)
        c.expect_frame(OP_PONG, rnd(125, 2))
        finish(c)
    return Outcome()


add("2.7", "unsolicited empty pong ignored (a following text is echoed, no frame before it)",
    seq_case(pong(b"") + text(b"after pong"), [(OP_TEXT, b"after pong")]))
add("2.8", "unsolicited pong with payload ignored",
    seq_case(pong(b"unsolicited pong payload") + text(b"after pong"), [(OP_TEXT, b"after pong")]))
add("2.9", "unsolicited pong, then ping -> only the ping's pong",
    seq_case(pong(b"unsolicited") + ping(b"my ping"), [(OP_PONG, b"my ping")]))
add("2.10", "10 pings in one write -> 10 pongs, in order",
    seq_case(b"".join(ping(b"payload-%d" % i) for i in range(10)), [(OP_PONG, b"payload-%d" % i) for i in range(10)]))
add("2.11", "10 pings, 1 byte per TCP write -> 10 pongs, in order",
    lambda ctx: _bytewise_pings(ctx))


def _bytewise_pings(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        c.send_chunked(b"".join(ping(b"payload-%d" % i) for i in range(10)), 1)
        for i in range(10):
            c.expect_frame(OP_PONG, b"payload-%d" % i)
        finish(c)
    return Outcome()


add("2.12", "ping between two text messages: both echoed in order, one pong (its place is free)",
    lambda ctx: _ping_between(ctx))


def _ping_between(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        c.send(text(b"a") + ping(b"p") + text(b"b"))
        got = []
        for _ in range(3):
            f = c.recv_frame()
            if f is None:
                raise ConformanceFailure(f"EOF after {got}")
            got.append((f.opcode, f.payload))
        if [g for g in got if g[0] != OP_PONG] != [(OP_TEXT, b"a"), (OP_TEXT, b"b")] or (OP_PONG, b"p") not in got:
            raise ConformanceFailure(f"expected TEXT a, TEXT b and PONG p, got {fmt_msgs(got)}")
        finish(c)
        return Outcome(notes=[f"order {fmt_msgs(got)}"])
add("2.13", "ping with a 126-byte payload using 16-bit length after a valid message -> echo, then 1002",
    fail_case(text(b"Hello") + ping(b"x" * 126), 1002, [(OP_TEXT, b"Hello")]))


# --------------------------------------------------------------------------
# 3. Reserved bits
# --------------------------------------------------------------------------

RSV_NAMES = {RSV1: "RSV1", RSV2: "RSV2", RSV3: "RSV3", RSV1 | RSV2: "RSV1+2", RSV2 | RSV3: "RSV2+3",
             RSV1 | RSV3: "RSV1+3", 7: "RSV1+2+3"}
n = 0
for rsv in (RSV1, RSV2, RSV3):
    nm = RSV_NAMES[rsv]
    n += 1
    add(f"3.{n}", f"text with {nm} -> 1002", fail_case(text(b"Hello", rsv=rsv), 1002))
    n += 1
    add(f"3.{n}", f"valid text, then text with {nm}, then ping: echo, then 1002, no pong",
        fail_case(text(b"Hello") + text(b"Hello", rsv=rsv) + ping(b""), 1002, [(OP_TEXT, b"Hello")]))
    n += 1
    add(f"3.{n}", f"same as above in 3 separate writes",
        fail_case([text(b"Hello"), text(b"Hello", rsv=rsv), ping(b"")], 1002, [(OP_TEXT, b"Hello")],
                  write_delay=0.01))
    n += 1
    add(f"3.{n}", f"binary with {nm} -> 1002", fail_case(binary(rnd(10), rsv=rsv), 1002))
    n += 1
    add(f"3.{n}", f"ping with {nm} -> 1002, no pong", fail_case(ping(b"Hello", rsv=rsv), 1002))
    n += 1
    add(f"3.{n}", f"close with {nm} -> 1002", fail_case(close(1000, rsv=rsv), 1002))
    n += 1
    add(f"3.{n}", f"continuation with {nm} in a fragmented text -> 1002",
        fail_case(text(b"frag1", fin=False) + cont(b"frag2", rsv=rsv), 1002))
for rsv in (RSV1 | RSV2, RSV2 | RSV3, 7):
    n += 1
    add(f"3.{n}", f"binary with {RSV_NAMES[rsv]} -> 1002", fail_case(binary(b"\x00\xff", rsv=rsv), 1002))
n += 1
add(f"3.{n}", "ping with RSV2+3 after a valid message -> echo, then 1002",
    fail_case(text(b"ok") + ping(b"", rsv=RSV2 | RSV3), 1002, [(OP_TEXT, b"ok")]))
n += 1
add(f"3.{n}", "close with RSV1+2+3 after a valid message -> echo, then 1002",
    fail_case(text(b"ok") + close(1000, rsv=7), 1002, [(OP_TEXT, b"ok")]))
del n


# --------------------------------------------------------------------------
# 4. Reserved opcodes
# --------------------------------------------------------------------------

for op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
    g = "1" if op < 8 else "2"
    k = op - 2 if op < 8 else op - 10
    add(f"4.{g}.{k}.1", f"frame with reserved opcode {op} -> 1002", fail_case(encode_frame(op, b""), 1002))
    add(f"4.{g}.{k}.2", f"reserved opcode {op} with payload, after a valid text, before a ping -> echo, 1002, no pong",
        fail_case(text(b"Hello") + encode_frame(op, b"reserved payload") + ping(b""), 1002, [(OP_TEXT, b"Hello")]))
    add(f"4.{g}.{k}.3", f"reserved opcode {op}, not final -> 1002",
        fail_case(encode_frame(op, b"x", fin=False), 1002))


# --------------------------------------------------------------------------
# 5. Fragmentation
# --------------------------------------------------------------------------

add("5.1", "fragmented ping (FIN=0 + continuation) -> 1002",
    fail_case(ping(b"fragment1", fin=False) + cont(b"fragment2"), 1002))
add("5.2", "fragmented pong -> 1002", fail_case(pong(b"fragment1", fin=False) + cont(b"fragment2"), 1002))
add("5.3", "fragmented close -> 1002", fail_case(encode_frame(OP_CLOSE, b"\x03\xe8", fin=False) + cont(b""), 1002))
add("5.4", "text in 2 fragments, one write -> one text message",
    seq_case(text(b"fragment1", fin=False) + cont(b"fragment2"), [(OP_TEXT, b"fragment1fragment2")]))
add("5.5", "text in 2 fragments, 1 byte per TCP write",
    lambda ctx: _bytewise_seq(ctx, text(b"fragment1", fin=False) + cont(b"fragment2"),
                              [(OP_TEXT, b"fragment1fragment2")]))
add("5.6", "text in 2 fragments with a ping between -> pong, then the message",
    seq_case(text(b"fragment1", fin=False) + ping(b"pongme!") + cont(b"fragment2"),
             [(OP_PONG, b"pongme!"), (OP_TEXT, b"fragment1fragment2")]))
add("5.7", "same, 1 byte per TCP write",
    lambda ctx: _bytewise_seq(ctx, text(b"fragment1", fin=False) + ping(b"pongme!") + cont(b"fragment2"),
                              [(OP_PONG, b"pongme!"), (OP_TEXT, b"fragment1fragment2")]))
add("5.8", "same, the ping written 50 ms after the first fragment: the pong comes before the final fragment",
    lambda ctx: _pong_before_final(ctx))


def _bytewise_seq(ctx: Ctx, data: bytes, expected) -> Outcome:
    with ctx.client() as c:
        c.send_chunked(data, 1)
        got = []
        while len(got) < len(expected):
            f = c.recv_frame()
            if f is None:
                raise ConformanceFailure(f"EOF after {fmt_msgs(got)}")
            got += messages_of([f])
        if got != expected:
            raise ConformanceFailure(f"expected {fmt_msgs(expected)}, got {fmt_msgs(got)}")
        finish(c)
    return Outcome()


def _pong_before_final(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        c.send(text(b"fragment1", fin=False))
        time.sleep(0.05)
        c.send(ping(b"pongme!"))
        c.expect_frame(OP_PONG, b"pongme!")  # the message is not finished: nothing else may come
        c.send(cont(b"fragment2"))
        c.expect_echo(OP_TEXT, b"fragment1fragment2")
        finish(c)
    return Outcome()


add("5.9", "continuation (FIN=1) with no message started -> 1002", fail_case(cont(b"non-continuation payload"), 1002))
add("5.10", "continuation (FIN=0) with no message started -> 1002",
    fail_case(cont(b"non-continuation payload", fin=False), 1002))
add("5.11", "continuation (FIN=1) with no message started, then text -> 1002, nothing echoed",
    fail_case(cont(b"non-continuation payload") + text(b"Hello, world!"), 1002))
add("5.12", "continuation (FIN=0) with no message started, then text -> 1002",
    fail_case(cont(b"non-continuation payload", fin=False) + text(b"Hello, world!"), 1002))
add("5.13", "valid text, then a continuation with no message started -> echo, 1002",
    fail_case(text(b"Hello") + cont(b"stray"), 1002, [(OP_TEXT, b"Hello")]))
add("5.14", "fragmented text finished, then another continuation (FIN=0), then text -> echo, 1002",
    fail_case(text(b"fragment1", fin=False) + cont(b"fragment2") + cont(b"fragment3", fin=False) + text(b"fragment4"),
              1002, [(OP_TEXT, b"fragment1fragment2")]))
add("5.15", "text FIN=0, then a new text FIN=1 inside it -> 1002",
    fail_case(text(b"fragment1", fin=False) + text(b"fragment2"), 1002))
add("5.16", "text FIN=0, then a new binary FIN=0 inside it -> 1002",
    fail_case(text(b"fragment1", fin=False) + binary(b"fragment2", fin=False), 1002))
add("5.17", "binary FIN=0, then text FIN=1 inside it -> 1002",
    fail_case(binary(b"fragment1", fin=False) + text(b"fragment2") + cont(b"fragment3"), 1002))
add("5.18", "2 x (continuation FIN=0, text FIN=0, continuation FIN=1) -> 1002",
    fail_case((cont(b"f1", fin=False) + text(b"f2", fin=False) + cont(b"f3")) * 2, 1002))
add("5.19", "text in 5 fragments with pings between (10 ms apart) -> pongs, then the message",
    lambda ctx: _five_frags(ctx))


def _five_frags(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        writes = [
            text(b"fragment1", fin=False), cont(b"fragment2", fin=False), ping(b"pongme 1!"),
            cont(b"fragment3", fin=False), cont(b"fragment4", fin=False), ping(b"pongme 2!"),
            cont(b"fragment5"),
        ]
        for w in writes:
            c.send(w)
            time.sleep(0.01)
        c.expect_frame(OP_PONG, b"pongme 1!")
        c.expect_frame(OP_PONG, b"pongme 2!")
        c.expect_echo(OP_TEXT, b"fragment1fragment2fragment3fragment4fragment5")
        finish(c)
    return Outcome()


add("5.20", "binary in 3 fragments -> one binary message",
    seq_case(binary(b"\x00\x01", fin=False) + cont(b"\x02", fin=False) + cont(b"\xff"),
             [(OP_BINARY, b"\x00\x01\x02\xff")]))
add("5.21", "text of empty fragments (3 x empty) -> empty text",
    seq_case(text(b"", fin=False) + cont(b"", fin=False) + cont(b""), [(OP_TEXT, b"")]))
add("5.22", "text in 1000 fragments of 10 bytes -> one 10000-byte text",
    seq_case(text(b"0123456789", fin=False) + cont(b"0123456789", fin=False) * 998 + cont(b"0123456789"),
             [(OP_TEXT, b"0123456789" * 1000)]))
add("5.23", "fragmented text with a pong (unsolicited) between fragments -> the message only",
    seq_case(text(b"frag1", fin=False) + pong(b"unsolicited") + cont(b"frag2"), [(OP_TEXT, b"frag1frag2")]))
add("5.24", "fragmented text with a close between fragments -> close echoed, message dropped",
    lambda ctx: _close_mid_message(ctx))


def _close_mid_message(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        c.send(text(b"frag1", fin=False) + close(1000) + cont(b"frag2"))
        return expect_clean_close(c, 1000)


# --------------------------------------------------------------------------
# 6. UTF-8
# --------------------------------------------------------------------------

VALID_UTF8 = [
    ("ascii", b"Hello-world"),
    ("2-byte", "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!".encode()),
    ("greek", "\u03ba\u1f79\u03c3\u03bc\u03b5".encode()),
    ("first of each length", "\x00\u0080\u0800\U00010000".encode()),
    ("last of each length", "\x7f\u07ff\uffff\U0010ffff".encode()),
    ("around surrogates", "\ud7ff\ue000\ufffd".encode()),
    ("noncharacters U+FFFE U+FFFF (valid UTF-8)", "\ufffe\uffff".encode()),
    ("emoji / 4-byte", "\U0001f600\U0001f680\U0001f9e1".encode()),
    ("CJK", "\u4e0b\u8f7d\u5b8c\u6210".encode()),
    ("every BMP range sample", "".join(chr(c) for c in range(0x20, 0xD800, 97)).encode()),
]
for i, (name, data) in enumerate(VALID_UTF8, 1):
    add(f"6.1.{i}", f"valid UTF-8 ({name}) echoed exactly", echo_case(data, OP_TEXT))

# Every character of a multi-byte string split at every byte boundary over 2 fragments.
_KOSME = "\u03ba\u1f79\u03c3\u03bc\u03b5\U0001f600".encode()
add("6.2.1", "valid multi-byte text split over 2 fragments at every byte offset (one connection each offset)",
    lambda ctx: _split_valid(ctx))


def _split_valid(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        for k in range(1, len(_KOSME)):
            c.send(text(_KOSME[:k], fin=False) + cont(_KOSME[k:]))
        for k in range(1, len(_KOSME)):
            c.expect_echo(OP_TEXT, _KOSME)
        finish(c)
    return Outcome()


add("6.2.2", "valid multi-byte text, one byte per fragment",
    seq_case(text(_KOSME[:1], fin=False) + b"".join(cont(_KOSME[i:i + 1], fin=False) for i in range(1, len(_KOSME) - 1))
             + cont(_KOSME[-1:]), [(OP_TEXT, _KOSME)]))
add("6.2.3", "valid multi-byte text, 1 byte per TCP write",
    echo_case(_KOSME * 3, OP_TEXT, chunk=1))

INVALID_UTF8 = [
    # unexpected continuation bytes
    ("lone continuation 0x80", b"\x80"),
    ("lone continuation 0xBF", b"\xbf"),
    ("continuation after ASCII", b"Hello\x80world"),
    ("2 continuation bytes", b"\x80\xbf"),
    ("extra continuation after a 2-byte char", "\u00b5".encode() + b"\x80"),
    # lonely start bytes followed by a space
    ("2-byte start + space", b"\xc3 "),
    ("3-byte start + space", b"\xe2 "),
    ("4-byte start + space", b"\xf0 "),
    ("3-byte start + 1 cont + ASCII", b"\xe2\x82A"),
    # truncated at the end of the message
    ("truncated 2-byte at end", b"Hello\xc3"),
    ("truncated 3-byte at end (1 of 3)", b"Hello\xe2"),
    ("truncated 3-byte at end (2 of 3)", b"Hello\xe2\x82"),
    ("truncated 4-byte at end (3 of 4)", b"Hello\xf0\x9f\x98"),
    # impossible bytes
    ("0xFE", b"\xfe"),
    ("0xFF", b"\xff"),
    ("0xFE 0xFE 0xFF 0xFF", b"\xfe\xfe\xff\xff"),
    ("0xFF in the middle", b"ab\xffcd"),
    # overlong encodings
    ("overlong '/' 2 bytes C0 AF", b"\xc0\xaf"),
    ("overlong '/' 3 bytes", b"\xe0\x80\xaf"),
    ("overlong '/' 4 bytes", b"\xf0\x80\x80\xaf"),
    ("overlong '/' 5 bytes", b"\xf8\x80\x80\x80\xaf"),
    ("overlong '/' 6 bytes", b"\xfc\x80\x80\x80\x80\xaf"),
    ("overlong max 2-byte C1 BF", b"\xc1\xbf"),
    ("overlong max 3-byte E0 9F BF", b"\xe0\x9f\xbf"),
    ("overlong max 4-byte F0 8F BF BF", b"\xf0\x8f\xbf\xbf"),
    ("overlong NUL C0 80", b"\xc0\x80"),
    ("overlong NUL E0 80 80", b"\xe0\x80\x80"),
    # UTF-16 surrogates encoded
    ("surrogate U+D800", b"\xed\xa0\x80"),
    ("surrogate U+DB7F", b"\xed\xad\xbf"),
    ("surrogate U+DB80", b"\xed\xae\x80"),
    ("surrogate U+DBFF", b"\xed\xaf\xbf"),
    ("surrogate U+DC00", b"\xed\xb0\x80"),
    ("surrogate U+DF80", b"\xed\xbe\x80"),
    ("surrogate U+DFFF", b"\xed\xbf\xbf"),
    ("surrogate pair D800 DC00", b"\xed\xa0\x80\xed\xb0\x80"),
    ("surrogate pair DBFF DFFF", b"\xed\xaf\xbf\xed\xbf\xbf"),
    ("surrogate after valid text", "\u03ba\u1f79\u03c3\u03bc\u03b5".encode() + b"\xed\xa0\x80edited"),
    # beyond U+10FFFF
    ("U+110000 (F4 90 80 80)", b"\xf4\x90\x80\x80"),
    ("U+13FFFF (F4 BF BF BF)", b"\xf4\xbf\xbf\xbf"),
    ("F5 start byte", b"\xf5\x80\x80\x80"),
    ("F7 BF BF BF (U+1FFFFF)", b"\xf7\xbf\xbf\xbf"),
    ("5-byte F8 88 80 80 80", b"\xf8\x88\x80\x80\x80"),
    ("6-byte FC 84 80 80 80 80", b"\xfc\x84\x80\x80\x80\x80"),
    ("Autobahn 6.3.1: kosme + surrogate", b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"),
]
for i, (name, data) in enumerate(INVALID_UTF8, 1):
    add(f"6.3.{i}", f"invalid UTF-8 ({name}) in one text frame -> 1007", fail_case(text(data), 1007))

_split_invalid = [
    ("valid prefix, invalid 2nd fragment", [b"Hello-\xce\xba", b"\xed\xa0\x80"]),
    ("surrogate split across fragments ED | A0 80", [b"Hello\xed", b"\xa0\x80world"]),
    ("overlong split C0 | AF", [b"ab\xc0", b"\xafcd"]),
    ("truncated char at the end of the last fragment", [b"Hello", b"world\xe2\x82"]),
    ("valid start, bad continuation in the next fragment F0 9F | 41", [b"\xf0\x9f", b"\x41"]),
    ("> U+10FFFF split F4 | 90 80 80", [b"\xf4", b"\x90\x80\x80"]),
    ("invalid byte in the middle of 3 fragments", [b"abc", b"d\xffe", b"fgh"]),
]
for i, (name, parts) in enumerate(_split_invalid, 1):
    frames = text(parts[0], fin=False) + b"".join(cont(p, fin=(j == len(parts) - 2)) for j, p in enumerate(parts[1:]))
    add(f"6.4.{i}", f"invalid text over fragments ({name}) -> 1007", fail_case(frames, 1007))

add("6.4.8", "invalid text in a binary-fragmented message is NOT checked (binary: echoed as is)",
    seq_case(binary(b"\xff\xfe", fin=False) + cont(b"\xed\xa0\x80"), [(OP_BINARY, b"\xff\xfe\xed\xa0\x80")]))

add("6.5.1", "fast fail: invalid bytes in the FIRST fragment, last fragment never sent -> 1007 anyway",
    lambda ctx: _fast_fail_fragment(ctx, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64"))
add("6.5.2", "fast fail: 0xFF in the first fragment, message never finished -> 1007",
    lambda ctx: _fast_fail_fragment(ctx, b"Hello\xff"))
add("6.5.3", "fast fail: overlong in the 2nd of 3 fragments, 3rd never sent -> 1007",
    lambda ctx: _fast_fail_fragment(ctx, b"Hello", b"\xc0\xaf"))
add("6.5.4", "fast fail inside an incomplete frame: header says 100 bytes, 8 sent with a surrogate -> 1007 "
    "(if only after the rest is sent 1 s later: non-strict)", lambda ctx: _fast_fail_partial_frame(ctx))


def _fast_fail_fragment(ctx: Ctx, first: bytes, second: bytes | None = None) -> Outcome:
    with ctx.client() as c:
        c.send(text(first, fin=False))
        if second is not None:
            c.send(cont(second, fin=False))
        return expect_fail(c, 1007, timeout=5.0)


def _fast_fail_partial_frame(ctx: Ctx) -> Outcome:
    payload = b"ab\xed\xa0\x80cd" + b"x" * 92
    data = text(payload)
    with ctx.client() as c:
        hl = 6
        c.send(data[: hl + 8])
        try:
            out = expect_fail(c, 1007, timeout=1.0)
            return out
        except Timeout:
            pass
        c.send(data[hl + 8 :])
        out = expect_fail(c, 1007)
        out.mode = "non-strict"
        out.notes.append("1007 only when the frame was complete (not fail-fast within a frame)")
        return out


# --------------------------------------------------------------------------
# 7. Close
# --------------------------------------------------------------------------

add("7.1.1", "text echoed, then close 1000 -> close 1000, TCP closed by the server",
    lambda ctx: _echo_then_close(ctx))


def _echo_then_close(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        c.send(text(b"Hello World!"))
        c.expect_echo(OP_TEXT, b"Hello World!")
        c.send(close(1000))
        return expect_clean_close(c, 1000)


def close_then(data: bytes, code=1000, before=()):
    def fn(ctx: Ctx) -> Outcome:
        with ctx.client() as c:
            c.send(close(code) + data)
            return expect_clean_close(c, code, before=before)

    return fn


add("7.1.2", "close, then another close -> one close back, TCP closed", close_then(close(1000)))
add("7.1.3", "close, then ping -> no pong (data after close ignored)", close_then(ping(b"Hello")))
add("7.1.4", "close, then text -> not echoed", close_then(text(b"after close")))
add("7.1.5", "text fragment, close, continuation -> close only, no echo",
    lambda ctx: _frag_close_cont(ctx))


def _frag_close_cont(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        c.send(text(b"fragment1", fin=False) + close(1000) + cont(b"fragment2"))
        return expect_clean_close(c, 1000)


add("7.1.6", "256 KiB text, close, ping in one write -> echo, close, no pong",
    lambda ctx: _big_then_close(ctx))


def _big_then_close(ctx: Ctx) -> Outcome:
    payload = ascii_text(256 * KiB)
    with ctx.client() as c:
        c.send(text(payload) + close(1000) + ping(b"Hello"))
        # Autobahn 7.1.6 is informational: a server may process the close
        # before the echo is written. A sync echo view echoes first.
        r = c.read_close()
        got = messages_of(r.frames_before)
        if got not in ([(OP_TEXT, payload)], []):
            raise ConformanceFailure(f"before the close expected the echo (or nothing), got {fmt_msgs(got)}")
        if not r.got_close_frame or r.code != 1000:
            raise ConformanceFailure(f"expected close 1000, got {'EOF' if not r.got_close_frame else r.code}")
        check_after_close(r)
        return Outcome(notes=["echo before close" if got else "close processed before the echo (no echo)"])


add("7.1.9", "short text + close in one write -> echo then close 1000, or close 1000 alone (informational, "
    "like Autobahn 7.1.6)", lambda ctx: _short_then_close(ctx))


def _short_then_close(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        c.send(text(b"last words") + close(1000))
        r = c.read_close()
        got = messages_of(r.frames_before)
        if got not in ([(OP_TEXT, b"last words")], []):
            raise ConformanceFailure(f"before the close expected the echo (or nothing), got {fmt_msgs(got)}")
        if not r.got_close_frame or r.code != 1000:
            raise ConformanceFailure(f"expected close 1000, got {'EOF' if not r.got_close_frame else r.code}")
        check_after_close(r)
        return Outcome(notes=["echo before close" if got else "close answered at once: the message that "
                              "arrived with it was never echoed"])


add("7.1.7", "close, then invalid frames (reserved opcode, bad UTF-8) -> ignored, close 1000 only",
    close_then(encode_frame(5, b"x") + text(b"\xff")))
add("7.1.8", "close 1000 sent, client keeps TCP open: the server closes TCP (recv returns b'') and never writes HTTP",
    lambda ctx: _server_closes_tcp(ctx))


def _server_closes_tcp(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        c.send(close(1000, b"bye"))
        f = c.expect_frame(OP_CLOSE)
        # do NOT answer: the server already has both halves of the handshake
        closed, data = c.wait_eof(5.0)
        if b"HTTP/1." in data:
            raise ConformanceFailure(f"HTTP bytes after the close: {data[:200]!r}")
        if data:
            raise ConformanceFailure(f"bytes after the close frame: {data[:100]!r}")
        if not closed:
            raise ConformanceFailure("the server did not close TCP within 5 s after the closing handshake")
        if f.payload[:2] != b"\x03\xe8":
            raise ConformanceFailure(f"close reply {f.payload!r}, expected code 1000")
        return Outcome()


add("7.3.1", "close with empty payload -> close (empty or 1000)",
    lambda ctx: _close_raw(ctx, b"", None))
add("7.3.2", "close with a 1-byte payload -> 1002", fail_case(encode_frame(OP_CLOSE, b"\x03"), 1002))
add("7.3.3", "close with code only (1000) -> 1000", lambda ctx: _close_raw(ctx, b"\x03\xe8", 1000))
add("7.3.4", "close 1000 with a short reason -> 1000", lambda ctx: _close_raw(ctx, b"\x03\xe8Hello World!", 1000))
add("7.3.5", "close 1000 with a 123-byte reason (payload 125) -> 1000",
    lambda ctx: _close_raw(ctx, b"\x03\xe8" + b"*" * 123, 1000))
add("7.3.6", "close with a 124-byte reason (payload 126, control frame too long) -> 1002",
    fail_case(encode_frame(OP_CLOSE, b"\x03\xe8" + b"*" * 124), 1002))
add("7.3.7", "close 1000 with a multi-byte UTF-8 reason -> 1000",
    lambda ctx: _close_raw(ctx, b"\x03\xe8" + "\u03ba\u1f79\u03c3\u03bc\u03b5 \U0001f600".encode(), 1000))
add("7.5.1", "close with an invalid UTF-8 reason (surrogate) -> 1007",
    fail_case(encode_frame(OP_CLOSE, b"\x03\xe8" + b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64"), 1007))
add("7.5.2", "close with a reason truncated mid-character -> 1007",
    fail_case(encode_frame(OP_CLOSE, b"\x03\xe8Hello\xe2\x82"), 1007))
add("7.5.3", "close with a 0xFF byte in the reason -> 1007", fail_case(encode_frame(OP_CLOSE, b"\x03\xe8\xff"), 1007))


def _close_raw(ctx: Ctx, payload: bytes, code: int | None) -> Outcome:
    with ctx.client() as c:
        c.send(encode_frame(OP_CLOSE, payload))
        r = c.read_close()
        if r.frames_before:
            raise ConformanceFailure(f"frames before the close: {r.frames_before}")
        if not r.got_close_frame:
            raise ConformanceFailure("no close frame in answer to the client's close (RFC 5.5.1: MUST)")
        if code is None:
            if r.code not in (None, 1000):
                raise ConformanceFailure(f"answer to an empty close: code {r.code}, expected none or 1000")
        elif r.code != code:
            raise ConformanceFailure(f"close code {r.code}, expected the echo {code}")
        check_after_close(r)
        out = Outcome()
        if code is None:
            out.notes.append(f"empty close answered with {'an empty payload' if r.code is None else r.code}")
        return out


VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]
for i, code in enumerate(VALID_CODES, 1):
    add(f"7.7.{i}", f"close with valid code {code} -> echoed",
        (lambda code: lambda ctx: _close_raw(ctx, code.to_bytes(2, "big") + b"reason", code))(code))
# RFC 6455 7.4.1/7.4.2 + the IANA "WebSocket Close Code Number Registry":
# 0-999 unused; 1004 reserved; 1005, 1006, 1015 MUST NOT be sent; 1016-2999
# unassigned protocol range; 5000+ outside every range.
INVALID_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
for i, code in enumerate(INVALID_CODES, 1):
    add(f"7.9.{i}", f"close with invalid code {code} -> 1002",
        fail_case(encode_frame(OP_CLOSE, code.to_bytes(2, "big")), 1002))


# --------------------------------------------------------------------------
# 9. Limits and performance (figures printed, not asserted)
# --------------------------------------------------------------------------


def timed_echo(opcode: int, payload: bytes, frames: bytes, label: str):
    def fn(ctx: Ctx) -> Outcome:
        with ctx.client() as c:
            t0 = time.perf_counter()
            c.send(frames)
            c.expect_echo(opcode, payload, timeout=60)
            dt = time.perf_counter() - t0
            finish(c)
        return Outcome(figures={label: dt})

    return fn


_M = MAX_MESSAGE_SIZE
add("9.1.1", f"text of {_M} bytes (the max message size) echoed",
    timed_echo(OP_TEXT, ascii_text(_M), text(ascii_text(_M)), "text 1 MiB echo"))
add("9.1.2", f"binary of {_M} bytes echoed",
    timed_echo(OP_BINARY, rnd(_M), binary(rnd(_M)), "binary 1 MiB echo"))
add("9.1.3", "text of 1 MiB in 4 x 256 KiB fragments echoed",
    timed_echo(OP_TEXT, ascii_text(_M),
               b"".join(encode_frame(OP_TEXT if k == 0 else OP_CONT, ascii_text(_M)[k * (_M // 4):(k + 1) * (_M // 4)],
                                     fin=(k == 3)) for k in range(4)), "text 4x256KiB echo"))
add("9.1.4", "binary of 1 MiB in 4 x 256 KiB fragments echoed",
    timed_echo(OP_BINARY, rnd(_M),
               b"".join(encode_frame(OP_BINARY if k == 0 else OP_CONT, rnd(_M)[k * (_M // 4):(k + 1) * (_M // 4)],
                                     fin=(k == 3)) for k in range(4)), "binary 4x256KiB echo"))
add("9.1.5", "1 MiB of multi-byte UTF-8 text echoed (validation cost)",
    timed_echo(OP_TEXT, ("\u03ba\u1f79\u03c3\u03bc\u03b5\U0001f600" * (_M // 15 + 1)).encode()[: _M - (_M % 15)],
               text(("\u03ba\u1f79\u03c3\u03bc\u03b5\U0001f600" * (_M // 15 + 1)).encode()[: _M - (_M % 15)]),
               "utf8 1 MiB echo"))


def pipelined(opcode: int, count: int, size: int, label: str):
    def fn(ctx: Ctx) -> Outcome:
        msgs = [(b"%06d" % i + b"." * size)[:size] for i in range(count)]
        data = b"".join(encode_frame(opcode, m) for m in msgs)
        with ctx.client() as c:
            t0 = time.perf_counter()
            c.send(data)
            for m in msgs:
                c.expect_echo(opcode, m, timeout=60)
            dt = time.perf_counter() - t0
            finish(c)
        return Outcome(figures={label: dt})

    return fn


add("9.2.1", "1000 x 16-byte text messages in one write, all echoed in order",
    pipelined(OP_TEXT, 1000, 16, "1000x16B text pipelined"))
add("9.2.2", "1000 x 16-byte binary messages in one write, all echoed in order",
    pipelined(OP_BINARY, 1000, 16, "1000x16B binary pipelined"))
add("9.2.3", "100 x 64 KiB binary messages in one write, all echoed in order",
    pipelined(OP_BINARY, 100, 64 * KiB, "100x64KiB binary pipelined"))


def _round_trips(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        t0 = time.perf_counter()
        for i in range(200):
            c.send(text(b"rt%d" % i))
            c.expect_echo(OP_TEXT, b"rt%d" % i)
        dt = time.perf_counter() - t0
        finish(c)
    return Outcome(figures={"200 sequential round trips": dt})


add("9.3.1", "200 sequential request/response round trips", _round_trips)

add("9.4.1", f"text of {_M + 1} bytes (max + 1): header alone -> 1009",
    fail_case(encode_frame(OP_TEXT, b"", length=_M + 1), 1009))
add("9.4.2", f"binary of {_M + 1} bytes, header + 1 KiB of payload -> 1009 without waiting for the rest",
    fail_case(encode_frame(OP_BINARY, b"", length=_M + 1) + b"\x00" * KiB, 1009))
add("9.4.3", "fragments adding up to max + 1 -> 1009 at the fragment that overflows",
    fail_case(binary(rnd(_M // 2), fin=False) + encode_frame(OP_CONT, b"", length=_M // 2 + 1), 1009))
add("9.4.4", "frame length 2^63-1 -> 1009 (or 1002), no crash",
    lambda ctx: _huge_len(ctx))


def _huge_len(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        c.send(encode_frame(OP_BINARY, b"", length=(1 << 63) - 1, length_form=64))
        r = c.read_close()
        if r.frames_before:
            raise ConformanceFailure(f"frames before the close: {r.frames_before}")
        if not r.got_close_frame:
            return Outcome("non-strict", ["TCP dropped without close"])
        if r.code not in (1009, 1002):
            raise ConformanceFailure(f"close code {r.code}, expected 1009 (too big)")
        check_after_close(r)
        return Outcome(notes=[f"closed with {r.code}"])


add("9.5.1", "after 1009, a new connection still works (the server survived)",
    lambda ctx: _survives(ctx))


def _survives(ctx: Ctx) -> Outcome:
    with ctx.client() as c:
        c.send(encode_frame(OP_TEXT, b"", length=_M + 1))
        expect_fail(c, 1009)
    with ctx.client() as c:
        c.send(text(b"still alive"))
        c.expect_echo(OP_TEXT, b"still alive")
        finish(c)
    return Outcome()


# --------------------------------------------------------------------------
# H. Opening handshake (RFC 6455 section 4)
# --------------------------------------------------------------------------
# The example project configures no WEBSOCKET_SUBPROTOCOLS: the cases check
# that the server then *omits* Sec-WebSocket-Protocol (RFC 4.2.2). It turns
# WEBSOCKET_COMPRESSION on: permessage-deflate is negotiated (groups 12, 13
# in conformance_deflate.py), and an extension it does not know is not.


def hs_ok(doc_note: str = "", **kw):
    def fn(ctx: Ctx) -> Outcome:
        with ctx.client(**kw) as c:
            c.send(text(b"after handshake"))
            c.expect_echo(OP_TEXT, b"after handshake")
            finish(c)
        return Outcome()

    return fn


def hs_refused(statuses: tuple[int, ...], *, header: tuple[str, str] | None = None, **kw):
    """The handshake must be refused with one of ``statuses`` (the first is
    the strict one), and the connection must not switch to WebSocket."""

    def fn(ctx: Ctx) -> Outcome:
        with ctx.raw() as c:
            resp = c.handshake(expect_status=None, **kw)
            c.read_http_body(resp)
            if resp.status not in statuses:
                raise ConformanceFailure(
                    f"expected HTTP {' or '.join(map(str, statuses))}, got {resp.status} {resp.reason} "
                    f"{resp.raw[:200]!r} {resp.body[:200]!r}")
            if header is not None:
                got = resp.header(header[0])
                if got is None or got.replace(" ", "") != header[1]:
                    raise ConformanceFailure(f"{header[0]}: expected {header[1]!r}, got {got!r}")
            out = Outcome(notes=[f"HTTP {resp.status} {resp.body[:80]!r}"])
            if resp.status != statuses[0]:
                out.mode = "non-strict"
            return out

    return fn


add("H.1", "valid handshake: 101, Upgrade/Connection headers, correct Sec-WebSocket-Accept, then echo", hs_ok())
add("H.2", "'Connection: keep-alive, Upgrade' (multi-token, as Firefox sends) accepted",
    hs_ok(connection="keep-alive, Upgrade"))
add("H.3", "'Upgrade: WebSocket' (mixed case) accepted", hs_ok(upgrade="WebSocket"))
add("H.4", "lower-case values 'connection: upgrade', 'upgrade: websocket' accepted", hs_ok(connection="upgrade"))
add("H.5", "missing Sec-WebSocket-Key -> 400", hs_refused((400,), key=None))
add("H.6", "Sec-WebSocket-Key not base64 -> 400", hs_refused((400,), key="not base64 at all!!"))
add("H.7", "Sec-WebSocket-Key base64 of 15 bytes -> 400", hs_refused((400,), key="AAAAAAAAAAAAAAAAAAAA"))
add("H.8", "Sec-WebSocket-Key base64 of 17 bytes -> 400", hs_refused((400,), key="AAAAAAAAAAAAAAAAAAAAAAA="))
add("H.9", "Sec-WebSocket-Version: 8 -> 426 with 'Sec-WebSocket-Version: 13' (RFC 4.4)",
    hs_refused((426,), header=("Sec-WebSocket-Version", "13"), version="8"))
add("H.10", "Sec-WebSocket-Version: 14 -> 426 with 'Sec-WebSocket-Version: 13'",
    hs_refused((426,), header=("Sec-WebSocket-Version", "13"), version="14"))
add("H.11", "no Sec-WebSocket-Version -> 426 (the core's choice; 400 accepted as non-strict)",
    hs_refused((426, 400), version=None))
# RFC 4.2.1: the request MUST be a GET; a server that finds the handshake
# invalid MUST answer with "an appropriate error code (such as 400 Bad
# Request)". dwebsocket_c's own check (_core.check_request) answers 400, but
# in the example project Django's CsrfViewMiddleware runs first and refuses
# the POST (no CSRF token) with 403 before the view or the WebSocket layer
# sees it. 403 and 405 are "appropriate error codes" too: both are accepted
# as non-strict (refused, no upgrade), 400 is the strict answer.
add("H.12", "POST with valid WebSocket headers -> refused: 400 (strict), 403 from CSRF or 405 (non-strict)",
    hs_refused((400, 403, 405), method="POST"))
add("H.13", "'Upgrade: websocket' without an 'upgrade' token in Connection -> 400",
    hs_refused((400,), connection="keep-alive"))
add("H.14", "subprotocols offered, none configured in the example project -> accepted, "
    "no Sec-WebSocket-Protocol in the 101 (RFC 4.2.2)", lambda ctx: _no_subprotocol(ctx))
add("H.15", "an unknown extension offered -> not negotiated (no Sec-WebSocket-Extensions), RSV1 then -> 1002",
    lambda ctx: _no_extension(ctx))
add("H.16", "same-origin Origin header accepted", lambda ctx: hs_ok(extra=[("Origin", f"http://{ctx.host}:{ctx.port}")])(ctx))
add("H.17", "foreign Origin -> 403 (dwebsocket_c.origins; not RFC-mandated, RFC 10.2 allows it)",
    hs_refused((403,), extra=[("Origin", "http://evil.example.com")]))
add("H.18", "plain GET (no Upgrade) to the echo URL -> the view's HTTP answer, 200",
    lambda ctx: _plain_get(ctx))
add("H.19", "the tutorial's echo at /echo/ (demo app) also echoes text and binary",
    lambda ctx: _demo_echo(ctx))


def _no_subprotocol(ctx: Ctx) -> Outcome:
    with ctx.client(extra=[("Sec-WebSocket-Protocol", "chat, superchat")]) as c:
        got = c.response.header("Sec-WebSocket-Protocol")
        if got is not None:
            raise ConformanceFailure(f"server chose subprotocol {got!r} though none is configured")
        c.send(text(b"x"))
        c.expect_echo(OP_TEXT, b"x")
        finish(c)
    return Outcome(notes=["WEBSOCKET_SUBPROTOCOLS is empty in example_project: negotiation absent"])


def _no_extension(ctx: Ctx) -> Outcome:
    with ctx.client(extra=[("Sec-WebSocket-Extensions", "x-webkit-deflate-frame, permessage-deflate; foo")]) as c:
        got = c.response.header("Sec-WebSocket-Extensions")
        if got is not None:
            raise ConformanceFailure(f"server negotiated {got!r} from offers it cannot accept")
        c.send(text(b"x"))
        c.expect_echo(OP_TEXT, b"x")
        c.send(text(b"compressed?", rsv=RSV1))
        return expect_fail(c, 1002)


def _plain_get(ctx: Ctx) -> Outcome:
    with ctx.raw() as c:
        c.send(f"GET {ctx.path} HTTP/1.1\r\nHost: {ctx.host}:{ctx.port}\r\nConnection: close\r\n\r\n".encode())
        resp = c.read_http_head()
        c.read_http_body(resp)
        if resp.status != 200:
            raise ConformanceFailure(f"plain GET: {resp.status} {resp.raw[:200]!r}")
    return Outcome()


def _demo_echo(ctx: Ctx) -> Outcome:
    with ctx.client(path="/echo/") as c:
        c.send(text("\u4e0b\u8f7d".encode()) + binary(b"\x00\xff"))
        c.expect_echo(OP_TEXT, "\u4e0b\u8f7d".encode())
        c.expect_echo(OP_BINARY, b"\x00\xff")
        finish(c)
    return Outcome()


# Groups 12 and 13 (permessage-deflate) register themselves into CASES.
import conformance_deflate  # noqa: E402,F401
