"""A small, deliberately slow and obviously-correct pure-Python RFC 6455 model.

Written from the rules of RFC 6455 (framing, section 5; close codes, section
7.4) and RFC 3629 (UTF-8), as summarised in ``dwebsocket_c/_core.pyi``.  The
property tests in ``test_properties.py`` compare the C core against it.

Nothing here is optimised: clarity first.  Nothing here imports the C core.

Decoder timing model (what "the error is raised after the same events" means):
the stream is read front to back and each rule is checked as soon as the bytes
that decide it are available:

* header rules (RSV, opcode, fragmentation, control FIN) on the first header
  byte; mask bit and control length on the second; the 64-bit top bit, then
  the message size (1009) once the extended length is complete;
* text UTF-8 as payload bytes arrive (fast fail); a message that ends in the
  middle of a character fails when its final frame is complete;
* the close payload once the close frame is complete.

A stream cut off anywhere gives the events completed so far and no error,
except for an error already decided by the bytes present (see above).  The
tests treat errors decided *inside an incomplete frame header* as optional
(an implementation may wait for the whole header before checking it).
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import struct

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
DATA_OPCODES = (OP_TEXT, OP_BINARY)
CONTROL_OPCODES = (OP_CLOSE, OP_PING, OP_PONG)
KNOWN_OPCODES = (OP_CONTINUATION,) + DATA_OPCODES + CONTROL_OPCODES
FLAG_RSV1 = 0x40

CLOSE_NO_STATUS = 1005
PROTOCOL_ERROR = 1002
INVALID_DATA = 1007
MESSAGE_TOO_BIG = 1009

DEFAULT_MAX_MESSAGE_SIZE = 1 << 20
MAX_FRAME_LENGTH = (1 << 63) - 1
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# --------------------------------------------------------------------------
# Masking (RFC 6455 section 5.3)
# --------------------------------------------------------------------------


def apply_mask(data, key, offset: int = 0) -> bytes:
    """``data[i] XOR key[(i + offset) % 4]``."""
    data = bytes(data)
    key = bytes(key)
    assert len(key) == 4
    return bytes(b ^ key[(i + offset) % 4] for i, b in enumerate(data))


# --------------------------------------------------------------------------
# UTF-8 (RFC 3629)
# --------------------------------------------------------------------------


def is_valid_utf8(data) -> bool:
    """Whole-buffer validation: CPython's strict decoder is RFC 3629-strict."""
    try:
        bytes(data).decode("utf-8", "strict")
    except UnicodeDecodeError:
        return False
    return True


def _second_byte_ok(lead: int, second: int) -> bool:
    # RFC 3629 section 4, UTF8-3 / UTF8-4 productions.
    if lead == 0xE0:
        return 0xA0 <= second <= 0xBF
    if lead == 0xED:
        return 0x80 <= second <= 0x9F
    if lead == 0xF0:
        return 0x90 <= second <= 0xBF
    if lead == 0xF4:
        return 0x80 <= second <= 0x8F
    return 0x80 <= second <= 0xBF


class IncrementalUtf8:
    """Fast-fail incremental validation.

    ``feed`` returns False as soon as the bytes so far cannot be the start of
    valid UTF-8.  CPython's incremental decoder does that, except for one
    case: it only rejects a surrogate (ED A0..BF) at the third byte, so the
    pending tail is also checked against the RFC 3629 second-byte table.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._dec = codecs.getincrementaldecoder("utf-8")("strict")
        self.ok = True

    def feed(self, data) -> bool:
        if not self.ok:
            return False
        try:
            self._dec.decode(bytes(data), final=False)
        except UnicodeDecodeError:
            self.ok = False
            return False
        pending = self._dec.getstate()[0]
        if len(pending) >= 2 and not _second_byte_ok(pending[0], pending[1]):
            self.ok = False
        return self.ok

    def finish(self) -> bool:
        """True when everything fed is valid and no character is cut off."""
        if not self.ok:
            return False
        try:
            self._dec.decode(b"", final=True)
        except UnicodeDecodeError:
            self.ok = False
            return False
        return True


# --------------------------------------------------------------------------
# Close frames (RFC 6455 sections 5.5.1 and 7.4)
# --------------------------------------------------------------------------


def is_valid_close_code(code: int) -> bool:
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def close_error(payload: bytes) -> int | None:
    """The close code an invalid close payload fails the connection with."""
    if len(payload) == 0:
        return None
    if len(payload) == 1:
        return PROTOCOL_ERROR
    code = int.from_bytes(payload[:2], "big")
    if not is_valid_close_code(code):
        return PROTOCOL_ERROR
    if not is_valid_utf8(payload[2:]):
        return INVALID_DATA
    return None


def parse_close(payload) -> tuple[int, str] | int:
    """``(code, reason)``, or the error code (an int) if the payload is invalid."""
    payload = bytes(payload)
    err = close_error(payload)
    if err is not None:
        return err
    if not payload:
        return (CLOSE_NO_STATUS, "")
    return (int.from_bytes(payload[:2], "big"), payload[2:].decode("utf-8"))


def close_payload(code: int | None, reason: bytes | str = b"") -> bytes:
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    if code is None:
        assert reason == b""
        return b""
    return struct.pack("!H", code) + reason


def build_close_ok(code: int | None, reason: bytes | str) -> bool:
    """Whether ``build_close(code, reason)`` must succeed (vs ValueError)."""
    if isinstance(reason, bytes):
        if not is_valid_utf8(reason):
            return False
        rb = reason
    else:
        try:
            rb = reason.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates in a str
            return False
    if code is None:
        return rb == b""
    return is_valid_close_code(code) and len(rb) <= 123


# --------------------------------------------------------------------------
# Encoder (RFC 6455 section 5.2)
# --------------------------------------------------------------------------


def encode_header(
    opcode: int,
    length: int,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask_key: bytes | None = None,
    length_bits: int | None = None,
) -> bytes:
    """A frame header.

    ``rsv`` is the 3-bit RSV1|RSV2|RSV3 field (4 = RSV1).  ``length_bits``
    forces the 7, 16 or 64-bit length form (default: the shortest one);
    ``length`` may then be any value the field can hold, e.g. 2**63 for the
    forbidden top bit.  No validity check at all: this builds bad frames too.
    """
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)
    mbit = 0x80 if mask_key is not None else 0
    if length_bits is None:
        length_bits = 7 if length <= 125 else 16 if length <= 0xFFFF else 64
    if length_bits == 7:
        assert length <= 127
        head = bytes([b0, mbit | length])
    elif length_bits == 16:
        head = bytes([b0, mbit | 126]) + struct.pack("!H", length)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack("!Q", length)
    if mask_key is not None:
        assert len(mask_key) == 4
        head += bytes(mask_key)
    return head


def encode_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask_key: bytes | None = None,
    length_bits: int | None = None,
) -> bytes:
    """Header + (masked) payload; see ``encode_header``."""
    payload = bytes(payload)
    head = encode_header(
        opcode, len(payload), fin=fin, rsv=rsv, mask_key=mask_key, length_bits=length_bits
    )
    if mask_key is not None:
        payload = apply_mask(payload, mask_key)
    return head + payload


def encode_message(
    opcode: int,
    payload: bytes,
    sizes: list[int],
    *,
    mask_key: bytes | None = None,
    rsv1: bool = False,
) -> bytes:
    """A data message split in fragments of the given sizes (the last one takes
    the rest).  Fragments after the first are continuation frames."""
    out = []
    pos = 0
    pieces = []
    for s in sizes:
        pieces.append(payload[pos : pos + s])
        pos += s
    pieces.append(payload[pos:])
    for i, piece in enumerate(pieces):
        out.append(
            encode_frame(
                opcode if i == 0 else OP_CONTINUATION,
                piece,
                fin=i == len(pieces) - 1,
                rsv=4 if (rsv1 and i == 0) else 0,
                mask_key=mask_key,
            )
        )
    return b"".join(out)


# --------------------------------------------------------------------------
# Decoder
# --------------------------------------------------------------------------


class Result:
    """What decoding a stream gives.

    ``events``: list of ``(opcode, payload)``; ``error``: close code or None;
    ``error_in_header``: the error was decided by an incomplete frame header
    at the end of the stream (an implementation may legitimately report no
    error yet); ``closed``: a close frame was parsed.
    """

    __slots__ = ("events", "error", "error_in_header", "closed")

    def __init__(self, events, error, error_in_header=False, closed=False):
        self.events = events
        self.error = error
        self.error_in_header = error_in_header
        self.closed = closed

    def __iter__(self):  # events, error = decode(...)
        return iter((self.events, self.error))

    def __repr__(self):
        return (
            f"Result(events={self.events!r}, error={self.error!r}, "
            f"error_in_header={self.error_in_header!r}, closed={self.closed!r})"
        )


def decode(
    data,
    *,
    max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
    client_side: bool = False,
    allow_rsv1: bool = False,
) -> Result:
    """Decode a whole (possibly truncated) byte stream like ``FrameParser``."""
    data = bytes(data)
    n = len(data)
    events: list[tuple[int, bytes]] = []

    # Message in progress.
    msg_op: int | None = None
    msg_rsv1 = False
    msg_parts: list[bytes] = []
    msg_len = 0
    utf8: IncrementalUtf8 | None = None

    pos = 0

    def fail(code: int, header_complete: bool = True) -> Result:
        return Result(events, code, error_in_header=not header_complete)

    while pos < n:
        frame_start = pos
        # ---- first header byte
        b0 = data[pos]
        fin = bool(b0 & 0x80)
        rsv1 = bool(b0 & 0x40)
        rsv23 = b0 & 0x30
        opcode = b0 & 0x0F
        is_control = opcode >= 8
        # The whole header is available?  (Only matters for a truncated
        # stream: tells the tests an error here is allowed to be deferred.)
        header_len = 2
        if n - frame_start >= 2:
            l7 = data[frame_start + 1] & 0x7F
            header_len += {126: 2, 127: 8}.get(l7, 0)
            header_len += 4 if data[frame_start + 1] & 0x80 else 0
        hdr_complete = n - frame_start >= header_len

        if rsv23:
            return fail(PROTOCOL_ERROR, hdr_complete)
        if opcode not in KNOWN_OPCODES:
            return fail(PROTOCOL_ERROR, hdr_complete)
        if rsv1 and not (allow_rsv1 and opcode in DATA_OPCODES):
            # RSV1 only on the first frame of a data message (RFC 7692 6.1).
            return fail(PROTOCOL_ERROR, hdr_complete)
        if is_control and not fin:
            return fail(PROTOCOL_ERROR, hdr_complete)
        if opcode == OP_CONTINUATION and msg_op is None:
            return fail(PROTOCOL_ERROR, hdr_complete)
        if opcode in DATA_OPCODES and msg_op is not None:
            return fail(PROTOCOL_ERROR, hdr_complete)
        pos += 1

        # ---- second header byte
        if pos >= n:
            break
        b1 = data[pos]
        masked = bool(b1 & 0x80)
        len7 = b1 & 0x7F
        if masked == client_side:  # server: must be masked; client: must not
            return fail(PROTOCOL_ERROR, hdr_complete)
        if is_control and len7 > 125:
            return fail(PROTOCOL_ERROR, hdr_complete)
        pos += 1

        # ---- extended length
        if len7 == 126:
            if pos + 2 > n:
                break
            length = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        elif len7 == 127:
            if pos + 8 > n:
                break
            length = int.from_bytes(data[pos : pos + 8], "big")
            pos += 8
            if length >> 63:
                return fail(PROTOCOL_ERROR, hdr_complete)
        else:
            length = len7

        # ---- message size, from the header, before any payload.  Without a
        # limit, a message is still capped at 2**63 - 1 bytes, the largest a
        # frame can declare (fragments cannot add up past it either).
        if not is_control:
            limit = MAX_FRAME_LENGTH if max_message_size is None else max_message_size
            if msg_len + length > limit:
                return fail(MESSAGE_TOO_BIG, hdr_complete)

        # ---- mask key
        key = None
        if masked:
            if pos + 4 > n:
                break
            key = data[pos : pos + 4]
            pos += 4

        # ---- payload (possibly incomplete)
        chunk = data[pos : pos + length]
        complete = len(chunk) == length
        if key is not None:
            chunk = apply_mask(chunk, key)

        if not is_control:
            if opcode != OP_CONTINUATION:
                msg_op = opcode
                msg_rsv1 = rsv1
                msg_parts = []
                msg_len = 0
                utf8 = IncrementalUtf8() if (opcode == OP_TEXT and not rsv1) else None
            if utf8 is not None and not utf8.feed(chunk):
                return fail(INVALID_DATA)
        if not complete:
            break
        pos += length

        # ---- complete frame
        if is_control:
            if opcode == OP_CLOSE:
                err = close_error(chunk)
                if err is not None:
                    return fail(err)
                events.append((OP_CLOSE, chunk))
                return Result(events, None, closed=True)  # the rest is ignored
            events.append((opcode, chunk))
            continue

        msg_parts.append(chunk)
        msg_len += length
        if fin:
            if utf8 is not None and not utf8.finish():
                return fail(INVALID_DATA)
            events.append((msg_op | (FLAG_RSV1 if msg_rsv1 else 0), b"".join(msg_parts)))
            msg_op = None
            msg_rsv1 = False
            msg_parts = []
            msg_len = 0
            utf8 = None

    return Result(events, None)


# --------------------------------------------------------------------------
# Handshake (RFC 6455 section 4.2)
# --------------------------------------------------------------------------


def accept_key(key) -> str:
    if isinstance(key, str):
        key = key.encode("ascii")
    return base64.b64encode(hashlib.sha1(bytes(key) + GUID).digest()).decode("ascii")


_B64_ALPHABET = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def strict_b64decode(s) -> bytes | None:
    """Strict standard base64 with padding; None if invalid.

    Non-canonical trailing bits (e.g. ``"YR=="``) are accepted here; the tests
    do not rely on either answer for them (see ``b64_is_canonical``).
    """
    if isinstance(s, str):
        try:
            s = s.encode("ascii")
        except UnicodeEncodeError:
            return None
    s = bytes(s)
    if len(s) % 4:
        return None
    body = s.rstrip(b"=")
    pad = len(s) - len(body)
    if pad > 2:
        return None
    if any(c not in _B64_ALPHABET for c in body):
        return None
    return base64.b64decode(s, validate=True)


def b64_is_canonical(s) -> bool:
    """Valid and re-encodes to itself (no stray bits in the last symbol)."""
    if isinstance(s, str):
        s = s.encode("ascii", "replace")
    raw = strict_b64decode(s)
    return raw is not None and base64.b64encode(raw) == bytes(s)


def _tokens(value: str) -> list[str]:
    return [t.strip(" \t").lower() for t in value.split(",")]


def check_request(method, upgrade, connection, version, key) -> tuple[set[int], str | None]:
    """The rules of ``check_request``.

    Returns ``(failures, accept)``: ``failures`` is the set of HTTP statuses
    the broken rules call for (400 for a malformed request, 426 for the
    version); empty when the request is valid, then ``accept`` is the accept
    key.  When several rules are broken, any of their statuses is acceptable.
    """
    failures: set[int] = set()
    if method != "GET":
        failures.add(400)
    if upgrade is None or "websocket" not in _tokens(upgrade):
        failures.add(400)
    if connection is None or "upgrade" not in _tokens(connection):
        failures.add(400)
    if key is None:
        failures.add(400)
    else:
        raw = strict_b64decode(key)
        if raw is None or len(raw) != 16:
            failures.add(400)
    if version is None or version != "13":
        failures.add(426)
    return failures, (None if failures else accept_key(key))


def select_subprotocol(offered, supported):
    if offered is None:
        return None
    tokens = [t.strip(" \t") for t in offered.split(",")]
    for s in supported:
        if s in tokens:
            return s
    return None
