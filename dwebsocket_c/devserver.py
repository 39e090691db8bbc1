"""Django's development server, taught to hand a connection over to a WebSocket.

Django's ``runserver`` is ``wsgiref``: after the application returns it
writes an HTTP response (``HTTP/1.1 200 OK``, ``Date``, ``Server``,
``Content-Length: 0``) on the socket and, with keep-alive, reads the next
bytes as a new HTTP request. Neither may happen on a connection that has
switched to WebSocket. The classes here fix that without touching Django's
private attributes:

* :class:`WebSocketRequestHandlerMixin`, mixed into Django's
  ``WSGIRequestHandler``, puts the connection's socket in the WSGI environ
  under ``"dwebsocket_c.socket"`` and a callable under
  ``"dwebsocket_c.detach"``. The runserver adapter
  (:mod:`dwebsocket_c.servers.runserver`) calls it when it takes the socket:
  from then on the handler's output stream discards what ``wsgiref`` writes,
  and the keep-alive loop ends after this request. The access log still
  shows the request, with status ``101``.
  It also bounds how long a client may take to send its request line and
  headers, all of them: ``WEBSOCKET_HANDSHAKE_TIMEOUT`` seconds (10 by
  default) from the first read of a request, and the connection is closed,
  so that a handshake that never completes, one that trickles a header byte
  now and then, or an idle keep-alive connection, does not keep a thread
  forever. The handler's ``rfile`` reads through a raw stream that gives
  each ``recv`` only the time left (no thread per connection for that).
  The request body and the view are not affected.
* :class:`WebSocketWSGIServer` is a ``server_cls`` for
  :func:`django.core.servers.basehttp.run` (Django adds threading to it)
  that uses such a handler; the app's ``runserver`` command
  (:mod:`dwebsocket_c.management.commands.runserver`) uses it.
* :class:`WebSocketThreadedWSGIServer` does the same for tests: set it as
  ``server_class`` of a ``LiveServerThread`` subclass and use that as
  ``server_thread_class`` of a ``LiveServerTestCase``.

Run ``runserver`` threaded (the default): with ``--nothreading`` one open
WebSocket blocks every other request until it closes.
"""

from __future__ import annotations

import io
import logging
import socket
import socketserver
import time
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIServer

from .conf import get_settings

logger = logging.getLogger("dwebsocket_c")

#: WSGI environ key of the connection's socket.
SOCKET_ENVIRON_KEY = "dwebsocket_c.socket"
#: WSGI environ key of the callable that detaches the connection from HTTP.
DETACH_ENVIRON_KEY = "dwebsocket_c.detach"
#: WSGI environ key of the handler's buffered reader (it may hold bytes
#: read past the request's headers).
READER_ENVIRON_KEY = "dwebsocket_c.rfile"


class _DetachableWriter(io.BufferedIOBase):
    """The handler's ``wfile``, which can be told to discard everything."""

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self._stream = stream
        self.discarding = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.discarding:
            return memoryview(data).nbytes
        return self._stream.write(data)

    def flush(self) -> None:
        if not self.discarding:
            self._stream.flush()

    def close(self) -> None:
        if self.closed:
            return
        try:
            super().close()  # flushes while the stream is still open
        finally:
            self._stream.close()

    def fileno(self) -> int:
        return self._stream.fileno()


def _request_header_timeout() -> float:
    """``WEBSOCKET_HANDSHAKE_TIMEOUT``, or its default if it is invalid (the
    system check reports that)."""
    try:
        return get_settings().handshake_timeout
    except ImproperlyConfigured:
        return 10


class _HeaderDeadlineReader(io.RawIOBase):
    """The raw stream under the handler's ``rfile``: while ``deadline`` (a
    ``time.monotonic()`` value) is set, each read may wait only for the time
    left before it, so that the whole request line and headers are bounded,
    not only the silence between two bytes. Without a deadline it reads with
    whatever timeout the socket has."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("the request headers took too long")
            self._sock.settimeout(left)
        return self._sock.recv_into(buffer)

    def fileno(self) -> int:
        return self._sock.fileno()


class WebSocketRequestHandlerMixin:
    """Mixin for Django's ``WSGIRequestHandler``; see the module docstring."""

    wfile: Any  # set by StreamRequestHandler.setup(), then wrapped below
    rfile: Any  # set by StreamRequestHandler.setup(), then replaced below

    def setup(self) -> None:
        super().setup()  # type: ignore[misc]
        self.wfile = _DetachableWriter(self.wfile)
        # Read through a deadline-aware raw stream instead of the socket's
        # makefile() (closing it leaves the socket to the server, as before).
        self.rfile.close()
        self._header_reader = _HeaderDeadlineReader(self.connection)  # type: ignore[attr-defined]
        self.rfile = io.BufferedReader(self._header_reader, io.DEFAULT_BUFFER_SIZE)

    def handle_one_request(self) -> None:
        """Read the request line and headers within one deadline; see the
        module docstring. Without it, a client that connects and stalls, or
        sends a header byte now and then, keeps a thread of runserver forever."""
        timeout = _request_header_timeout()
        self._header_reader.deadline = time.monotonic() + timeout
        try:
            super().handle_one_request()  # type: ignore[misc]
        except socket.timeout:
            # Only the request line and headers are read under the deadline
            # (parse_request() lifts it): no request is running.
            self.close_connection = True
            logger.debug(
                "runserver: closing a connection that sent no complete request "
                "headers within %s s (WEBSOCKET_HANDSHAKE_TIMEOUT)", timeout,
            )
        finally:
            self._header_reader.deadline = None

    def parse_request(self) -> bool:
        """The headers are read: back to the server's own (blocking) timeout
        for the body, the view, and a WebSocket."""
        try:
            return super().parse_request()  # type: ignore[misc]
        finally:
            self._header_reader.deadline = None
            self.connection.settimeout(self.timeout)  # type: ignore[attr-defined]

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()  # type: ignore[misc]
        environ[SOCKET_ENVIRON_KEY] = self.connection  # type: ignore[attr-defined]
        environ[DETACH_ENVIRON_KEY] = self.detach_connection
        environ[READER_ENVIRON_KEY] = self.rfile  # type: ignore[attr-defined]
        return environ

    def detach_connection(self) -> None:
        """The connection now belongs to a WebSocket: write nothing more on it,
        and serve no further request on it."""
        self.close_connection = True
        self.wfile.discarding = True
        if not isinstance(self.server, socketserver.ThreadingMixIn):  # type: ignore[attr-defined]
            logger.warning(
                "runserver --nothreading: this WebSocket blocks every other "
                "request until it closes."
            )


def with_websocket_support(handler_class: type) -> type:
    """``handler_class`` with :class:`WebSocketRequestHandlerMixin` mixed in."""
    if issubclass(handler_class, WebSocketRequestHandlerMixin):
        return handler_class
    return type(
        f"WebSocket{handler_class.__name__}",
        (WebSocketRequestHandlerMixin, handler_class),
        {},
    )


class WebSocketServerMixin:
    """Makes a ``socketserver`` server use a WebSocket-aware request handler."""

    def __init__(self, server_address: Any, RequestHandlerClass: type, *args: Any, **kwargs: Any) -> None:
        super().__init__(  # type: ignore[call-arg]
            server_address, with_websocket_support(RequestHandlerClass), *args, **kwargs
        )


class WebSocketWSGIServer(WebSocketServerMixin, WSGIServer):
    """``server_cls`` for ``runserver`` (Django mixes threading in)."""


class WebSocketThreadedWSGIServer(WebSocketServerMixin, ThreadedWSGIServer):
    """``server_class`` for a ``LiveServerThread`` (Django's live test server)."""
