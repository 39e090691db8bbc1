"""Exceptions raised by ``dwebsocket_c`` to the code that uses it.

Protocol-level errors (a client breaking RFC 6455) never reach a view: the
connection is closed with the right close code and ``wait()`` returns
``None``. What a view can see:

* :class:`ConnectionClosed` from ``send()`` once the connection is closed
  (by either side, or because the client stopped answering). A view that
  lets it propagate ends quietly: it is logged at DEBUG, not as an error.
* :class:`InvalidTextError` (a ``ValueError``) from ``send(bytes)`` when the
  bytes are not UTF-8 and so cannot be sent as a text message.
* :class:`UnsupportedServer` when the WSGI server cannot hand its socket
  over; the library answers the request itself with a 501 and this message.
"""

from __future__ import annotations


class WebSocketError(Exception):
    """Base class of the exceptions of this package."""


class ConnectionClosed(WebSocketError):
    """The connection is closed: nothing more can be sent.

    ``code`` and ``reason`` are what the client sent in its close frame
    (1005 for an empty one, 1006 when the TCP connection ended without one).
    """

    def __init__(self, code: int | None, reason: str = "", detail: str = "") -> None:
        self.code = code
        self.reason = reason
        message = f"WebSocket connection is closed (code {code}"
        message += f", reason {reason!r})" if reason else ")"
        if detail:
            message += f": {detail}"
        super().__init__(message)


class InvalidTextError(WebSocketError, ValueError):
    """``send()`` got bytes that are not UTF-8, so they cannot be a text frame."""


class UnsupportedServer(WebSocketError):
    """The WSGI server (or ASGI) cannot hand over the connection's socket."""
