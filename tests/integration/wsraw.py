"""A minimal raw-socket websocket client for the integration tests.

Deliberately independent of ``dwebsocket_c._core``: frames are built and
parsed here in plain Python, so the tests do not check the C core against
itself. Used where the `websockets` library hides what we need to see
(exact bytes after the closing handshake, fragments interleaved with pings,
a frame header announcing a too-big message, malformed handshakes).
"""

import base64
import hashlib
import os
import socket
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def expected_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def new_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def mask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    if not n:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def frame_header(opcode: int, length: int, *, fin: bool = True, mask_key: bytes | None = None) -> bytes:
    b0 = (0x80 if fin else 0) | opcode
    m = 0x80 if mask_key is not None else 0
    if length < 126:
        head = struct.pack("!BB", b0, m | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", b0, m | 126, length)
    else:
        head = struct.pack("!BBQ", b0, m | 127, length)
    return head + (mask_key or b"")


def build_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, masked: bool = True) -> bytes:
    key = os.urandom(4) if masked else None
    body = mask(payload, key) if masked else payload
    return frame_header(opcode, len(payload), fin=fin, mask_key=key) + body


def close_payload(code: int | None, reason: str = "") -> bytes:
    if code is None:
        return b""
    return struct.pack("!H", code) + reason.encode()


def parse_close_payload(payload: bytes) -> tuple[int, str]:
    if not payload:
        return 1005, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode()


class HTTPResponse:
    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], raw: bytes):
        self.status = status
        self.reason = reason
        self.header_list = headers
        self.raw = raw

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.header_list if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    def __repr__(self):
        return f"<HTTPResponse {self.status} {self.raw[:600]!r}>"


class RawWebSocket:
    """One TCP connection; handshake() then send_frame()/recv_frame()."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.after_handshake = b""  # every byte received after the 101 headers
        self.eof = False

    # -- handshake ---------------------------------------------------------

    def request_bytes(self, path: str, headers: dict[str, str | None] | None = None) -> bytes:
        base = {
            "Host": f"{self.host}:{self.port}",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": new_key(),
            "Sec-WebSocket-Version": "13",
        }
        for k, v in (headers or {}).items():
            base[k] = v
        lines = [f"GET {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in base.items() if v is not None]
        self.sent_headers = {k: v for k, v in base.items() if v is not None}
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def handshake(self, path: str, headers: dict[str, str | None] | None = None) -> HTTPResponse:
        self.sock.sendall(self.request_bytes(path, headers))
        return self.read_http_response()

    def read_http_response(self) -> HTTPResponse:
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"EOF before the end of the response headers: {self.buf!r}")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status, *reason = lines[0].split(" ", 2)
        assert version.startswith("HTTP/1."), lines[0]
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        resp = HTTPResponse(int(status), reason[0] if reason else "", headers, head + b"\r\n\r\n")
        if resp.status == 101:
            self.after_handshake = self.buf
        else:
            # Read the body, when announced, so it does not look like frames.
            length = resp.header("Content-Length")
            if length is not None:
                n = int(length)
                while len(self.buf) < n:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        break
                    self.buf += chunk
                resp.body, self.buf = self.buf[:n], self.buf[n:]
            else:
                resp.body = b""
        return resp

    # -- frames ------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, opcode: int, payload: bytes = b"", *, fin: bool = True, masked: bool = True) -> None:
        self.sock.sendall(build_frame(opcode, payload, fin=fin, masked=masked))

    def send_text(self, text: str) -> None:
        self.send_frame(OP_TEXT, text.encode())

    def send_close(self, code: int | None = 1000, reason: str = "") -> None:
        self.send_frame(OP_CLOSE, close_payload(code, reason))

    def _fill(self, n: int) -> None:
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                self.eof = True
                raise EOFError(f"EOF with {len(self.buf)} of {n} bytes buffered: {self.buf[:200]!r}")
            self.buf += chunk
            self.after_handshake += chunk

    def recv_frame(self) -> tuple[bool, int, bytes]:
        """(fin, opcode, payload) of the next frame. The server must not mask."""
        self._fill(2)
        b0, b1 = self.buf[0], self.buf[1]
        assert b0 & 0x70 == 0, f"RSV bits set by the server: {b0:#x}"
        assert not b1 & 0x80, "the server masked a frame"
        length, pos = b1 & 0x7F, 2
        if length == 126:
            self._fill(4)
            length, pos = struct.unpack("!H", self.buf[2:4])[0], 4
        elif length == 127:
            self._fill(10)
            length, pos = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._fill(pos + length)
        payload = self.buf[pos : pos + length]
        self.buf = self.buf[pos + length :]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def recv_message(self) -> tuple[int, bytes]:
        """The next data message (fragments joined) or control frame."""
        fin, op, payload = self.recv_frame()
        if op >= 0x8 or fin:
            return op, payload
        parts = [payload]
        while True:
            fin, op2, more = self.recv_frame()
            assert op2 == OP_CONT, f"expected a continuation frame, got opcode {op2}"
            parts.append(more)
            if fin:
                return op, b"".join(parts)

    def read_until_eof(self, timeout: float = 5.0) -> bytes:
        """Everything left until the server closes TCP; raises TimeoutError if it never does."""
        deadline = time.monotonic() + timeout
        data = self.buf
        self.buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the server did not close TCP within {timeout}s; got {data[:200]!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                self.eof = True
                return data
            if not chunk:
                self.eof = True
                return data
            data += chunk
            self.after_handshake += chunk

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
