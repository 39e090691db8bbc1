"""What every server adapter does: hand the connection's socket over, and
keep the server quiet once the WebSocket session is over.

A WSGI server is built to write an HTTP response after the application
returns. Once the ``101 Switching Protocols`` is on the wire that response
must never be written, and the socket belongs to the WebSocket until it is
closed. Each server needs its own trick for both; an adapter (one module per
server in this package) packages them behind :class:`ServerAdapter`:

``take_socket()``
    the connection's socket: the server's own socket object (one file
    descriptor per connection; gevent's or eventlet's cooperative socket
    under those servers). The WebSocket never closes it: it shuts TCP down
    and gives the socket its timeout (blocking mode) back, and the server
    closes it as usual. (uWSGI's adapter hands over a socket of its own
    and closes it in ``release()``.)
``make_lock()``
    a lock that suits the server's concurrency model (a real thread lock,
    or a green one under eventlet/gevent).
``make_timeout(sock)``
    ``None`` for an OS socket; for gevent's or eventlet's socket, that
    library's ``Timeout`` class (``Timeout(seconds, exception)``, a context
    manager), which bounds each blocking read or write on its own.
``take_buffered()``
    the bytes the server had already read from the connection beyond the
    request's headers (a client or proxy that sent its first frames in the
    same TCP segment as the handshake): the WebSocket parses them first.
``send_handshake(sock, response, timeout)``
    write the ``101`` bytes built by the C core.
``release()``
    the session is over and TCP is shut down: stop the server writing
    anything more on this connection.

Whatever the server, the library shuts the TCP connection down
(``shutdown(SHUT_RDWR)``) at the end of the session, so even a server that
tries to write its response later can put nothing on the wire: its write
fails with ``EPIPE``, which servers log at DEBUG level at most.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from .._transport import socket_library


def read_ahead(reader: Any, sock: Any) -> bytes:
    """What a server's buffered reader (``io.BufferedReader`` or alike over
    ``sock``) holds beyond the request, taken out of it without waiting.

    ``peek()`` returns the buffer when it is not empty; when it is, it makes
    one read on the socket, which is put in non-blocking mode around it
    (then the read finds nothing, or bytes that just arrived: both fine).
    """
    peek = getattr(reader, "peek", None)
    if peek is None:
        return b""
    timeout = sock.gettimeout()
    sock.settimeout(0.0)
    try:
        data = peek(1)
    except (BlockingIOError, ValueError, OSError):
        return b""
    finally:
        sock.settimeout(timeout)
    if not data:
        return b""
    return reader.read(len(data))


def green_timeout_class(sock: Any) -> Callable[[float, BaseException], Any] | None:
    """``gevent.Timeout`` or ``eventlet.Timeout`` for those libraries'
    sockets, None for anything else (an OS socket)."""
    library = socket_library(sock)
    if library == "gevent":
        from gevent import Timeout

        return Timeout
    if library == "eventlet":
        from eventlet.timeout import Timeout as EventletTimeout

        return EventletTimeout
    return None


class ServerAdapter:
    """Base class: one WSGI server's way of handing over a connection."""

    #: Human-readable server name, for messages.
    name: ClassVar[str] = "WSGI server"

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ

    @classmethod
    def handles(cls, environ: dict[str, Any]) -> bool:
        """Whether this adapter recognises the server from its environ."""
        raise NotImplementedError

    def take_socket(self) -> socket.socket:
        """The connection's socket (see module docstring)."""
        raise NotImplementedError

    def make_lock(self) -> Callable[[], Any]:
        return threading.Lock

    def make_timeout(self, sock: Any) -> Callable[[float, BaseException], Any] | None:
        """See the module docstring; found from the socket's type, so that
        gunicorn's gthread and gevent workers share one adapter."""
        return green_timeout_class(sock)

    def take_buffered(self, sock: Any) -> bytes:
        """Bytes already read beyond the request (see the module docstring)."""
        return b""

    def send_handshake(self, sock: socket.socket, response: bytes, timeout: float) -> None:
        """Write the ``101 Switching Protocols`` response on the socket."""
        sock.settimeout(timeout)
        sock.sendall(response)

    def release(self) -> None:
        """The session is over: make the server write nothing more."""
