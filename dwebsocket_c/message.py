"""What ``websocket.wait()``, ``read()`` and iteration return.

A WebSocket message is either *text* (UTF-8) or *binary*. To stay compatible
with the original ``dwebsocket``, every message arrives as ``bytes`` — but as
one of two ``bytes`` subclasses, so a view can tell them apart::

    for message in request.websocket:
        if message.is_text:
            print("text:", message.text)      # the decoded str
        else:
            print("binary:", len(message), "bytes")
        request.websocket.send(message)       # echoes text as text, binary as binary

``send()`` honours the kind of a :class:`Message` it is given, so echoing a
received message sends it back the way it came.

With ``WEBSOCKET_TEXT_AS_STR = True`` text messages arrive as plain ``str``
instead (binary ones are still :class:`BinaryMessage`), so
``isinstance(message, str)`` tells the two apart.
"""

from __future__ import annotations

from typing import Any

from . import _core
from .exceptions import InvalidTextError


# The classes are defined in C (csrc/message_type.c): bytes subclasses with
# the exact layout of bytes, so that a received payload becomes the message
# without being copied. They have no __dict__ (like ``__slots__ = ()``) and
# can be subclassed.

#: A received message: its payload as ``bytes``, plus its kind
#: (``is_text``, ``is_binary``; ``text`` decodes a text message).
Message = _core.Message

#: A text message. Its bytes are valid UTF-8 (the protocol core checked).
TextMessage = _core.TextMessage

#: A binary message (``text`` raises ``TypeError``).
BinaryMessage = _core.BinaryMessage


def outgoing(
    message: Any, binary: bool | None, *, sender: str, binary_hint: str
) -> tuple[int, bytes | bytearray | memoryview]:
    """The opcode and payload of a message to send, by the rules of
    ``WebSocket.send()`` (``send_to_group()`` follows them too): ``str`` is
    text; bytes are text after a UTF-8 check (:class:`InvalidTextError`
    otherwise, naming ``binary_hint``), or binary with ``binary``; a received
    :class:`Message` keeps its kind unless ``binary`` says otherwise. A
    non-contiguous memoryview is copied, before anything is written.
    ``sender`` names the caller in the errors."""
    if isinstance(message, memoryview) and not message.c_contiguous:
        message = message.tobytes()
    if isinstance(message, str):
        return (_core.OP_BINARY if binary else _core.OP_TEXT), message.encode("utf-8")
    if not isinstance(message, (bytes, bytearray, memoryview)):
        raise TypeError(f"{sender} takes str or bytes, not {type(message).__name__}")
    if binary is None and isinstance(message, Message):
        # A received message: a TextMessage's UTF-8 is checked already.
        return (_core.OP_TEXT if message.is_text else _core.OP_BINARY), message
    if binary:
        return _core.OP_BINARY, message
    if not _core.validate_utf8(message):
        raise InvalidTextError(
            f"{sender} got bytes that are not valid UTF-8, so they cannot be sent "
            f"as a text message. To send binary data {binary_hint}."
        )
    return _core.OP_TEXT, message
