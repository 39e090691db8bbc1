"""A raw RFC 6455 test client, independent of ``dwebsocket_c._core``.

Everything here is built byte by byte with the standard library (hashlib,
base64, struct, socket), so a bug in the C core cannot hide itself by being
on both ends of the wire.

* :func:`encode_frame` builds any frame, legal or not (reserved bits and
  opcodes, fragmented control frames, lying length fields, unmasked...).
* :class:`RawClient` does the opening handshake itself over a plain TCP
  socket, sends raw bytes (optionally one byte per TCP write), and parses the
  server's frames, checking that the *server* keeps the rules (no mask, no
  reserved bits, control frames <= 125 bytes, valid close payloads).
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import time
from dataclasses import dataclass, field

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

RSV1, RSV2, RSV3 = 4, 2, 1  # values of the 3-bit ``rsv`` argument

OP_NAMES = {0: "CONT", 1: "TEXT", 2: "BINARY", 8: "CLOSE", 9: "PING", 10: "PONG"}


def op_name(op: int) -> str:
    return OP_NAMES.get(op, f"op{op}")


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------


def xor_mask(data: bytes, key: bytes) -> bytes:
    """``data`` XOR the repeated 4-byte ``key`` (pure Python, big-int trick)."""
    n = len(data)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def encode_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
    mask_key: bytes | None = None,
    length: int | None = None,
    length_form: int | None = None,
) -> bytes:
    """One frame, exactly as asked (no legality check at all).

    ``rsv`` is the 3-bit value RSV1<<2 | RSV2<<1 | RSV3 (see ``RSV1``...).
    ``length`` overrides the length field (the payload sent is unchanged),
    ``length_form`` forces 7 (tiny), 16 or 64-bit length encoding.
    A client frame is masked (``mask=True``) with a random or given key.
    """
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    n = len(payload) if length is None else length
    mbit = 0x80 if mask else 0
    form = length_form or (7 if n < 126 else 16 if n < 65536 else 64)
    if form == 7:
        header = bytes([b0, mbit | n])
    elif form == 16:
        header = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    else:
        header = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    if mask:
        key = mask_key if mask_key is not None else os.urandom(4)
        return header + key + xor_mask(payload, key)
    return header + payload


def close_payload(code: int | None = None, reason: bytes | str = b"") -> bytes:
    if isinstance(reason, str):
        reason = reason.encode()
    if code is None:
        return reason
    return struct.pack("!H", code) + reason


def text(payload: bytes | str, **kw) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode()
    return encode_frame(OP_TEXT, payload, **kw)


def binary(payload: bytes, **kw) -> bytes:
    return encode_frame(OP_BINARY, payload, **kw)


def cont(payload: bytes | str = b"", **kw) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode()
    return encode_frame(OP_CONT, payload, **kw)


def ping(payload: bytes | str = b"", **kw) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode()
    return encode_frame(OP_PING, payload, **kw)


def pong(payload: bytes | str = b"", **kw) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode()
    return encode_frame(OP_PONG, payload, **kw)


def close(code: int | None = 1000, reason: bytes | str = b"", **kw) -> bytes:
    return encode_frame(OP_CLOSE, close_payload(code, reason), **kw)


def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + GUID).digest()).decode()


# --------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------


class ConformanceFailure(AssertionError):
    """The server broke the expected behaviour."""


class Timeout(ConformanceFailure):
    pass


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes

    def __repr__(self) -> str:
        p = self.payload if len(self.payload) <= 40 else self.payload[:40] + b"..."
        return f"<{op_name(self.opcode)} fin={int(self.fin)} rsv={self.rsv} len={len(self.payload)} {p!r}>"


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    raw: bytes
    body: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        vals = [v for k, v in self.headers if k.lower() == name]
        return ", ".join(vals) if vals else None


@dataclass
class CloseResult:
    """How the server ended the connection."""

    code: int | None  # None: close frame with empty payload
    reason: bytes
    got_close_frame: bool
    eof_after: bool  # the TCP connection was closed by the server afterwards
    trailing: bytes = b""  # bytes received after the close frame (must be none)
    frames_before: list[Frame] = field(default_factory=list)


class RawClient:
    """One WebSocket connection over a plain socket, every byte visible."""

    def __init__(self, host: str, port: int, path: str = "/ws/echo/", timeout: float = 10.0):
        self.host, self.port, self.path = host, port, path
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buf = bytearray()
        self.eof = False
        self.reset = False
        self.response: HttpResponse | None = None
        # RSV bits the server may set: RSV1 once permessage-deflate is agreed.
        self.allowed_rsv = 0

    # -- context manager -------------------------------------------------
    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc) -> None:
        self.abort()

    def abort(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    # -- connection ------------------------------------------------------
    def connect(self) -> RawClient:
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    def request_bytes(
        self,
        *,
        method: str = "GET",
        key: str | None = "auto",
        version: str | None = "13",
        upgrade: str | None = "websocket",
        connection: str | None = "Upgrade",
        extra: list[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> tuple[bytes, str | None]:
        if key == "auto":
            key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"{method} {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if upgrade is not None:
            lines.append(f"Upgrade: {upgrade}")
        if connection is not None:
            lines.append(f"Connection: {connection}")
        if key is not None:
            lines.append(f"Sec-WebSocket-Key: {key}")
        if version is not None:
            lines.append(f"Sec-WebSocket-Version: {version}")
        for k, v in extra or []:
            lines.append(f"{k}: {v}")
        if body or method not in ("GET", "HEAD"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body, key

    def handshake(self, expect_status: int | None = 101, **kw) -> HttpResponse:
        """Send the opening handshake and read the HTTP response head.

        With ``expect_status=101`` (default) the response must be a valid
        switch: ``Upgrade: websocket``, ``Connection: Upgrade`` and the right
        ``Sec-WebSocket-Accept``. Bytes after the head stay in the buffer.
        """
        if self.sock is None:
            self.connect()
        req, key = self.request_bytes(**kw)
        self.send(req)
        resp = self.read_http_head()
        self.response = resp
        if expect_status is not None and resp.status != expect_status:
            raise ConformanceFailure(
                f"handshake: expected HTTP {expect_status}, got {resp.status} {resp.reason}: "
                f"{resp.raw[:300]!r}"
            )
        if resp.status == 101:
            up = (resp.header("Upgrade") or "").lower()
            conn = [t.strip().lower() for t in (resp.header("Connection") or "").split(",")]
            if up != "websocket":
                raise ConformanceFailure(f"101 without 'Upgrade: websocket': {resp.raw!r}")
            if "upgrade" not in conn:
                raise ConformanceFailure(f"101 without 'Connection: Upgrade': {resp.raw!r}")
            if key is not None and resp.header("Sec-WebSocket-Accept") != accept_for(key):
                raise ConformanceFailure(
                    f"bad Sec-WebSocket-Accept {resp.header('Sec-WebSocket-Accept')!r}, "
                    f"want {accept_for(key)!r}"
                )
        return resp

    def read_http_head(self) -> HttpResponse:
        deadline = time.monotonic() + self.timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                raise ConformanceFailure(f"connection closed during the HTTP response: {bytes(self.buf)!r}")
        i = self.buf.index(b"\r\n\r\n") + 4
        head = bytes(self.buf[:i])
        del self.buf[:i]
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ConformanceFailure(f"not an HTTP response: {head[:200]!r}")
        headers = []
        for line in lines[1:]:
            if not line:
                continue
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        return HttpResponse(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, head)

    def read_http_body(self, resp: HttpResponse, max_wait: float = 3.0) -> bytes:
        """The response body by Content-Length, else until EOF (bounded)."""
        cl = resp.header("Content-Length")
        deadline = time.monotonic() + max_wait
        if cl is not None:
            n = int(cl)
            while len(self.buf) < n and self._fill(deadline, raise_timeout=False):
                pass
        else:
            while self._fill(deadline, raise_timeout=False):
                pass
        resp.body = bytes(self.buf)
        self.buf.clear()
        return resp.body

    # -- I/O ---------------------------------------------------------------
    def send(self, data: bytes) -> None:
        assert self.sock is not None
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            # The server may legitimately have failed the connection already;
            # what it sent before is still readable.
            self.reset = True

    def send_chunked(self, data: bytes, chunk: int = 1, delay: float = 0.0) -> None:
        """``data`` in writes of ``chunk`` bytes (TCP_NODELAY is on)."""
        for i in range(0, len(data), chunk):
            self.send(data[i : i + chunk])
            if delay:
                time.sleep(delay)

    def _fill(self, deadline: float, raise_timeout: bool = True) -> bool:
        """Read more bytes; False at EOF (or reset). Timeout -> Timeout."""
        if self.eof:
            return False
        assert self.sock is not None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if raise_timeout:
                raise Timeout(f"timed out waiting for data from the server (buffer {bytes(self.buf[:80])!r})")
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(262144)
        except socket.timeout:
            if raise_timeout:
                raise Timeout(
                    f"timed out waiting for data from the server (buffer {bytes(self.buf[:80])!r})"
                ) from None
            return False
        except ConnectionResetError:
            self.reset = True
            self.eof = True
            return False
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def _need(self, n: int, deadline: float) -> bool:
        while len(self.buf) < n:
            if not self._fill(deadline):
                return False
        return True

    def recv_frame(self, timeout: float | None = None) -> Frame | None:
        """The next frame from the server, or None at EOF.

        Raises ConformanceFailure when the server's frame itself is illegal
        (masked, reserved bits, bad control frame) or EOF cuts a frame.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        if not self._need(2, deadline):
            if self.buf:
                raise ConformanceFailure(f"EOF inside a frame header: {bytes(self.buf)!r}")
            return None
        b0, b1 = self.buf[0], self.buf[1]
        fin, rsv, opcode = bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF
        masked, n = bool(b1 & 0x80), b1 & 0x7F
        pos = 2
        if n == 126:
            if not self._need(4, deadline):
                raise ConformanceFailure("EOF inside a frame header")
            n = struct.unpack_from("!H", self.buf, 2)[0]
            pos = 4
        elif n == 127:
            if not self._need(10, deadline):
                raise ConformanceFailure("EOF inside a frame header")
            n = struct.unpack_from("!Q", self.buf, 2)[0]
            pos = 10
        if masked:
            raise ConformanceFailure(f"server sent a masked frame (RFC 6455 5.1): {bytes(self.buf[:16])!r}")
        if rsv & ~self.allowed_rsv:
            raise ConformanceFailure(f"server sent a frame with RSV bits {rsv:#x} (no extension negotiated)")
        if opcode in (3, 4, 5, 6, 7) or opcode > 10:
            raise ConformanceFailure(f"server sent reserved opcode {opcode}")
        if opcode >= 8 and (n > 125 or not fin):
            raise ConformanceFailure(f"server sent an illegal control frame: op={opcode} len={n} fin={fin}")
        if not self._need(pos + n, deadline):
            raise ConformanceFailure(f"EOF inside a frame payload ({len(self.buf) - pos} of {n} bytes)")
        payload = bytes(self.buf[pos : pos + n])
        del self.buf[: pos + n]
        return Frame(fin, rsv, opcode, payload)

    def recv_message(self, timeout: float | None = None) -> tuple[int, bytes, list[Frame]]:
        """Next data message (fragments joined) and the control frames that
        came before/between its frames. Fails on close/EOF."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        controls: list[Frame] = []
        opcode, parts = None, []
        while True:
            f = self.recv_frame(max(0.0, deadline - time.monotonic()))
            if f is None:
                raise ConformanceFailure(
                    f"server closed TCP while a message was expected (control frames seen: {controls})"
                )
            if f.opcode == OP_CLOSE:
                raise ConformanceFailure(f"server sent close {parse_close(f.payload)} while a message was expected")
            if f.opcode >= 8:
                controls.append(f)
                continue
            if opcode is None:
                if f.opcode == OP_CONT:
                    raise ConformanceFailure("server sent a continuation frame with no message started")
                opcode = f.opcode
            elif f.opcode != OP_CONT:
                raise ConformanceFailure("server started a new message inside a fragmented one")
            parts.append(f.payload)
            if f.fin:
                return opcode, b"".join(parts), controls

    def expect_echo(self, opcode: int, payload: bytes, timeout: float | None = None) -> list[Frame]:
        op, data, controls = self.recv_message(timeout)
        if op != opcode or data != payload:
            raise ConformanceFailure(
                f"expected echo {op_name(opcode)} {len(payload)} bytes {payload[:40]!r}, "
                f"got {op_name(op)} {len(data)} bytes {data[:40]!r}"
            )
        return controls

    def expect_frame(self, opcode: int, payload: bytes | None = None, timeout: float | None = None) -> Frame:
        f = self.recv_frame(timeout)
        if f is None:
            raise ConformanceFailure(f"expected {op_name(opcode)}, server closed TCP")
        if f.opcode != opcode or (payload is not None and f.payload != payload):
            raise ConformanceFailure(f"expected {op_name(opcode)} {payload!r}, got {f!r}")
        return f

    def expect_no_frame(self, wait: float) -> None:
        """Nothing may arrive for ``wait`` seconds (used sparingly: slow)."""
        deadline = time.monotonic() + wait
        if self.buf or self._fill(deadline, raise_timeout=False):
            raise ConformanceFailure(f"unexpected data from the server: {bytes(self.buf[:60])!r}")

    def wait_eof(self, timeout: float | None = None) -> tuple[bool, bytes]:
        """Read until the server closes TCP. (closed?, bytes received)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        start = len(self.buf)
        while self._fill(deadline, raise_timeout=False):
            pass
        data = bytes(self.buf[start:])
        return self.eof, bytes(self.buf) if start == 0 else data

    def read_close(self, timeout: float | None = None, reply: bool = True) -> CloseResult:
        """Read frames up to the server's close frame or EOF; reply to the close
        (echoing its code) and wait for the server to close TCP."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        before: list[Frame] = []
        while True:
            f = self.recv_frame(max(0.0, deadline - time.monotonic()))
            if f is None:
                return CloseResult(None, b"", False, True, b"", before)
            if f.opcode == OP_CLOSE:
                break
            before.append(f)
        code, reason = parse_close(f.payload)
        if reply and not self.eof:
            self.send(close(code if code is not None else None, b""))
        closed, trailing = self.wait_eof(max(0.5, deadline - time.monotonic()))
        return CloseResult(code, reason, True, closed, trailing, before)


def parse_close(payload: bytes) -> tuple[int | None, bytes]:
    """(code, reason) of a *server's* close payload; raises if it is illegal."""
    if not payload:
        return None, b""
    if len(payload) == 1:
        raise ConformanceFailure("server sent a 1-byte close payload")
    code = struct.unpack("!H", payload[:2])[0]
    reason = payload[2:]
    if not (code in (1000, 1001, 1002, 1003) or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        raise ConformanceFailure(f"server sent a close frame with the unsendable code {code}")
    try:
        reason.decode("utf-8")
    except UnicodeDecodeError:
        raise ConformanceFailure(f"server sent a close reason that is not UTF-8: {reason!r}") from None
    return code, reason
