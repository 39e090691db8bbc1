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


class Message(bytes):
    """A received message: its payload as ``bytes``, plus its kind."""

    __slots__ = ()

    is_text: bool = False

    @property
    def is_binary(self) -> bool:
        return not self.is_text

    @property
    def text(self) -> str:
        """The payload decoded from UTF-8 (text messages only)."""
        raise TypeError(
            "a binary message has no text; use the message itself (it is bytes)"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({bytes.__repr__(self)})"


class TextMessage(Message):
    """A text message. Its bytes are valid UTF-8 (the protocol core checked)."""

    __slots__ = ()

    is_text = True

    @property
    def text(self) -> str:
        return self.decode("utf-8")


class BinaryMessage(Message):
    """A binary message."""

    __slots__ = ()

    is_text = False
