"""Type stub for ``dwebsocket_c._core``: the RFC 6455 protocol core, written in C.

Sans-I/O: every function here turns bytes into events or messages into bytes.
Nothing in this module touches a socket.
"""

from collections.abc import Iterator, Sequence
from typing import Any, Final, final

from typing_extensions import Buffer, disjoint_base

# Opcodes (RFC 6455 section 5.2).
OP_CONTINUATION: Final[int]  # 0x0
OP_TEXT: Final[int]  # 0x1
OP_BINARY: Final[int]  # 0x2
OP_CLOSE: Final[int]  # 0x8
OP_PING: Final[int]  # 0x9
OP_PONG: Final[int]  # 0xA

# OR-ed into an event's opcode when the message's first frame had RSV1 set.
# Only produced by a parser created with allow_rsv1=True (reserved for
# permessage-deflate, RFC 7692); otherwise RSV1 fails the connection (1002).
FLAG_RSV1: Final[int]  # 0x40

# Close codes (RFC 6455 section 7.4.1).
CLOSE_NORMAL: Final[int]  # 1000
CLOSE_GOING_AWAY: Final[int]  # 1001
CLOSE_PROTOCOL_ERROR: Final[int]  # 1002
CLOSE_UNSUPPORTED_DATA: Final[int]  # 1003
CLOSE_NO_STATUS: Final[int]  # 1005 (never sent: an empty close payload)
CLOSE_ABNORMAL: Final[int]  # 1006 (never sent: TCP closed without a close frame)
CLOSE_INVALID_DATA: Final[int]  # 1007
CLOSE_POLICY_VIOLATION: Final[int]  # 1008
CLOSE_MESSAGE_TOO_BIG: Final[int]  # 1009
CLOSE_MANDATORY_EXTENSION: Final[int]  # 1010
CLOSE_INTERNAL_ERROR: Final[int]  # 1011

class WebSocketError(Exception):
    """Base class of every error raised by the protocol core."""

class ProtocolError(WebSocketError):
    """The peer broke RFC 6455: the connection must be failed with ``code``.

    ``str(exc)`` is ``reason``; ``exc.args == (code, reason)``.
    """

    code: int
    reason: str
    def __init__(self, code: int, reason: str) -> None: ...

class HandshakeError(WebSocketError):
    """The opening handshake is refused.

    ``status`` is 400 (malformed request) or 426 (unsupported
    ``Sec-WebSocket-Version``: answer with ``Sec-WebSocket-Version: 13``).
    ``exc.args == (status, reason)``.
    """

    status: int
    reason: str
    def __init__(self, status: int, reason: str) -> None: ...

@disjoint_base
class FrameParser:
    """Incremental RFC 6455 frame parser.

    ``feed()`` consumes bytes in chunks of any size (one byte at a time
    works); iterating the parser pops complete events, oldest first:

        parser.feed(data)
        for opcode, payload in parser:
            ...

    Each event is a 2-tuple ``(opcode, payload)``:

    * ``(OP_TEXT, bytes)``: a whole text message, fragments joined, UTF-8
      already validated (decode it with ``payload.decode()`` if a str is
      wanted);
    * ``(OP_BINARY, bytes)``: a whole binary message;
    * ``(OP_PING, bytes)`` / ``(OP_PONG, bytes)``: control frames, delivered
      as soon as they arrive, also between the fragments of a message;
    * ``(OP_CLOSE, bytes)``: the raw close payload, already validated (see
      ``parse_close``). Input after a close frame is ignored.

    When the stream breaks the protocol, iteration first yields the events
    that were complete before the bad byte, then raises ``ProtocolError``
    with the RFC's close code; from then on every ``next()`` raises that
    same error and ``feed()`` ignores its input.

    Rules enforced (code in brackets): RSV1-3 set without an extension
    [1002]; reserved opcode [1002]; control frame fragmented or longer than
    125 bytes [1002]; continuation with no message in progress, or a new
    data frame while one is in progress [1002]; a client frame that is not
    masked (``client_side=False``), or a server frame that is masked
    (``client_side=True``) [1002]; 64-bit length with the top bit set
    [1002]; text that is not UTF-8, detected as the bytes arrive [1007];
    close payload of 1 byte or with a code outside 1000-1003, 1007-1014,
    3000-4999 [1002], close reason not UTF-8 [1007]; a message (all its
    fragments together) longer than ``max_message_size``, detected from the
    frame header before any of its payload is buffered [1009].

    With ``deflate`` (the parameters ``negotiate_deflate`` returned),
    permessage-deflate (RFC 7692) is on: RSV1 marks a compressed message
    (first frame only: RSV1 on a continuation or control frame [1002]), and
    its payload is inflated here, so events carry the inflated message. The
    limit applies to the inflated size, checked as it inflates: a message
    is refused [1009] once its output passes ``max_message_size`` bytes,
    whatever its compressed size. Text is UTF-8-checked as it comes out of
    zlib [1007]; data that does not inflate [1007]. zlib's state is
    allocated on the first compressed message, and freed after each one
    when the client does not take its context over. The GIL is released
    while inflating large outputs.

    Not thread-safe: one parser per connection, used by one thread at a
    time.
    """

    def __init__(
        self,
        *,
        max_message_size: int | None = 1048576,
        client_side: bool = False,
        allow_rsv1: bool = False,
        deflate: dict[str, Any] | None = None,
    ) -> None: ...
    def feed(self, data: Buffer, /) -> None: ...
    def __iter__(self) -> Iterator[tuple[int, bytes]]: ...
    def __next__(self) -> tuple[int, bytes]: ...
    @property
    def pending(self) -> int:
        """Number of events waiting to be popped (not counting an error)."""
    @property
    def close_received(self) -> bool:
        """True once a close frame has been parsed (it may still be queued)."""
    @property
    def error(self) -> ProtocolError | None:
        """The error that failed the stream, or None."""
    @property
    def max_message_size(self) -> int | None: ...

@final
class FrameEncoder:
    """The data frames of one connection (``send()``), compressed with
    permessage-deflate when it was negotiated and the message has at least
    ``threshold`` bytes; smaller ones go plain (RSV1 clear).

    Without context takeover on our side (the default), one zlib stream per
    OS thread serves every connection (it forgets each message), so an
    encoder holds no compressor memory; with context takeover it gets its
    own stream at its first compressed message. ``share_key``: encoders
    with the same key build the same frame for the same message, so a group
    can compress a message once for all its members (None: this
    connection's frames depend on its own history). Sends of one connection
    must be serialized (the WebSocket's send lock does it).
    """

    # ``deflate``: the parameters negotiate_deflate() returned; its keys
    # "threshold", "mem_level" and "level", when present, win over the
    # keyword arguments (the handshake adds them from the settings).
    def __init__(
        self,
        *,
        deflate: dict[str, Any] | None = None,
        client_side: bool = False,
        threshold: int = 128,
        mem_level: int = 8,
        level: int = -1,
    ) -> None: ...
    def encode(self, opcode: int, payload: Buffer, /) -> bytes:
        """One whole frame (FIN set) for a text (1) or binary (2) message."""
    def compresses(self, length: int, /) -> bool:
        """Whether a message of ``length`` bytes would be compressed."""
    def header(self, opcode: int, length: int, /) -> bytes:
        """The header of a plain unmasked frame; its payload follows as is."""
    @property
    def deflate(self) -> bool: ...
    @property
    def threshold(self) -> int: ...
    @property
    def share_key(self) -> tuple[Any, ...] | None: ...
    @property
    def keeps_context(self) -> bool:
        """True with context takeover: write frames in the order encode()
        made them (encode under the send lock). False: encode() may run
        anywhere, even from several threads at once."""
    @property
    def holds_stream(self) -> bool:
        """Whether this encoder owns a compressor (context takeover only)."""

def negotiate_deflate(
    offer: str | bytes | None,
    *,
    server_max_window_bits: int = 15,
    client_max_window_bits: int = 15,
    server_no_context_takeover: bool = True,
    client_no_context_takeover: bool = False,
) -> tuple[str, dict[str, Any]] | None:
    """Accept the first acceptable ``permessage-deflate`` offer of a
    ``Sec-WebSocket-Extensions`` value (RFC 7692 section 7): returns the
    response header value and the agreed parameters (keys
    ``server_max_window_bits``, ``client_max_window_bits``,
    ``server_no_context_takeover``, ``client_no_context_takeover``), or None.
    An offer with an unknown, repeated or invalid parameter is declined (the
    next one is tried); so is ``server_max_window_bits=8`` (zlib cannot
    compress with an 8-bit window). The keyword arguments are the server's
    choices: window bits 9..15, and whether to ask for no context takeover
    (the client's own request for either is always honoured)."""

ZLIB_VERSION: Final[str]

def parse_close(payload: Buffer, /) -> tuple[int, str]:
    """Validate a close frame's payload and return ``(code, reason)``.

    An empty payload gives ``(1005, '')``. Raises ``ProtocolError`` (1002 for
    a 1-byte payload or an invalid code, 1007 for a reason that is not
    UTF-8).
    """

def build_frame(
    opcode: int,
    payload: Buffer = b"",
    *,
    fin: bool = True,
    mask: bool = False,
    mask_key: Buffer | None = None,
    rsv1: bool = False,
) -> bytes:
    """Build one frame. A server sends ``mask=False`` (the default).

    ``mask=True`` masks with a random key from the OS (a client frame);
    ``mask_key`` (4 bytes) masks with that key, for tests. ``ValueError`` for
    an unknown opcode, a control frame with ``fin=False`` or a payload over
    125 bytes, or a mask key that is not 4 bytes.
    """

def frame_header(
    opcode: int,
    length: int,
    *,
    fin: bool = True,
    mask_key: Buffer | None = None,
    rsv1: bool = False,
) -> bytes:
    """Just the header of a frame of ``length`` payload bytes.

    For zero-copy sends: ``sock.sendmsg([frame_header(op, len(data)), data])``.
    Same checks as ``build_frame``.
    """

def build_close(
    code: int | None = 1000,
    reason: str | bytes = "",
    *,
    mask: bool = False,
    mask_key: Buffer | None = None,
) -> bytes:
    """A close frame. ``code=None`` gives an empty payload (reason must be
    empty). ``ValueError`` for a code that may not be sent (outside 1000-1003,
    1007-1014, 3000-4999) or a reason over 123 bytes in UTF-8 or not UTF-8."""

def apply_mask(data: Buffer, mask_key: Buffer, offset: int = 0) -> bytes:
    """``data`` XOR the 4-byte key, as new bytes. ``offset`` is the position
    in the key of ``data[0]`` (``offset % 4`` is used): a payload that
    arrives in pieces is unmasked piece by piece. Releases the GIL for large
    inputs."""

def apply_mask_inplace(data: Buffer, mask_key: Buffer, offset: int = 0) -> None:
    """The same, in place, on a writable buffer (bytearray, memoryview...)."""

def validate_utf8(data: Buffer, /) -> bool:
    """True when ``data`` is well-formed UTF-8 (RFC 3629: no overlongs, no
    surrogates, nothing above U+10FFFF)."""

@disjoint_base
class Utf8Validator:
    """Incremental UTF-8 validation across chunks."""

    def __init__(self) -> None: ...
    def feed(self, data: Buffer, /) -> bool:
        """False as soon as the bytes so far cannot start valid UTF-8; stays
        False until ``reset()``. A character split across chunks is fine."""
    def finish(self) -> bool:
        """True when everything fed is valid and no character is cut off."""
    def reset(self) -> None: ...

def accept_key(key: str | bytes, /) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key``: base64(SHA-1(key +
    the RFC's GUID)). No validation of ``key`` (see ``check_request``)."""

def check_request(
    method: str,
    upgrade: str | None,
    connection: str | None,
    version: str | None,
    key: str | None,
) -> str:
    """Validate a client's opening handshake; return the accept key.

    Arguments are the request method and the raw values of the ``Upgrade``,
    ``Connection``, ``Sec-WebSocket-Version`` and ``Sec-WebSocket-Key``
    headers (None when absent). Rules: method GET; ``Upgrade`` contains the
    token ``websocket`` (case-insensitive); ``Connection`` contains the token
    ``upgrade`` among others (case-insensitive, comma-separated);
    ``Sec-WebSocket-Key`` is base64 of exactly 16 bytes;
    ``Sec-WebSocket-Version`` is 13. Raises ``HandshakeError(400, reason)``,
    or ``HandshakeError(426, reason)`` for a missing or other version.
    """

def select_subprotocol(offered: str | None, supported: Sequence[str]) -> str | None:
    """The first of ``supported`` (the server's preference order) that the
    client offered in its ``Sec-WebSocket-Protocol`` header (comma-separated
    tokens), or None."""

def build_response(
    accept: str,
    subprotocol: str | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The exact bytes of the 101 response, ending with the blank line.
    ``ValueError`` if a header name or value contains CR, LF or NUL."""

def sha1(data: Buffer, /) -> bytes:
    """SHA-1 digest (20 bytes), implemented in C; exposed for tests."""

def base64_encode(data: Buffer, /) -> bytes:
    """Standard base64 with padding, implemented in C; exposed for tests."""

def base64_decode(data: str | bytes, /) -> bytes:
    """Strict standard base64 (padding required); ``ValueError`` if invalid."""

# ------------------------------------------------------------ messages

class Message(bytes):
    """A received message: its payload as bytes, plus its kind."""

    is_text: bool
    @property
    def is_binary(self) -> bool: ...
    @property
    def text(self) -> str: ...

class TextMessage(Message):
    """A text message. Its bytes are valid UTF-8 (the protocol core checked)."""

class BinaryMessage(Message):
    """A binary message."""

# ------------------------------------------------------------ connection

NEXT_TIMEOUT: Final[int]  # SO_RCVTIMEO expired: look at keepalive again
NEXT_EVENTS: Final[int]  # a control frame or a protocol error waits: next_event()
NEXT_KEEPALIVE: Final[int]  # a ping is due, or the last one went unanswered
NEXT_EOF: Final[int]  # the peer closed TCP (or release() was called)
NEXT_WOULD_BLOCK: Final[int]  # green: wait in the hub until readable
RECEIVE_CHUNK: Final[int]  # bytes read per recv() (one buffer per OS thread)

@final
class Connection:
    """The per-message I/O of one WebSocket over the server's socket."""

    def __new__(
        cls,
        fd: int,
        parser: FrameParser,
        text_type: type[bytes],
        binary_type: type[bytes],
        *,
        text_as_str: bool = ...,
        green: bool = ...,
        send_timeout: float = ...,
    ) -> Connection: ...
    ping_interval: float | None
    ping_timeout: float
    ping_sent_at: float | None
    discard: bool
    @property
    def keepalive_at(self) -> float | None: ...
    @property
    def last_received(self) -> float: ...
    @property
    def last_read(self) -> float: ...
    @property
    def queued(self) -> int: ...
    @property
    def queued_bytes(self) -> int: ...
    @property
    def fd(self) -> int: ...
    @property
    def green(self) -> bool: ...
    def next(self) -> Message | str | int: ...
    def pop(self) -> Message | str | None: ...
    def receive(self, timeout: float | None, exact: bool = ..., /) -> int | None: ...
    def feed(self, data: Buffer, /) -> None: ...
    def next_event(self) -> tuple[int, bytes] | None: ...
    def write(self, data: Buffer, /) -> int: ...
    def read_timeout(self) -> float: ...
    def release(self) -> None: ...
