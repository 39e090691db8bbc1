"""``WebSocketClient``: test a WebSocket view the way ``django.test.Client``
tests a plain one, without starting a server.

::

    from django.test import TestCase
    from dwebsocket_c.testing import WebSocketClient

    class EchoTests(TestCase):
        def test_echo(self):
            with WebSocketClient(self.client).connect("/echo/?room=1") as ws:
                ws.send("hello")                    # str: a text message
                self.assertEqual(ws.receive(), "hello")
                ws.send(b"\\x00\\x01")                # bytes: a binary message
                self.assertEqual(ws.receive(), b"\\x00\\x01")
                self.assertTrue(ws.receive_nothing())
            self.assertEqual(ws.close_code, 1000)

Nothing is mocked. ``connect()`` builds the WSGI environ the way
``django.test.Client`` does (its cookies, so a ``force_login()`` session,
and its ``defaults``), adds the opening handshake's headers, and runs
Django's request handler (middleware, URLconf, the decorators, the
handshake checks) in a thread of its own. The connection is one end of a
``socket.socketpair()``: the view's end is handed over exactly as this app's
``runserver`` hands its sockets over (``dwebsocket_c.devserver``'s environ
keys), so the ``101`` response, the frames and the closing handshake are
the library's own, made by the C core; the test's end speaks masked client
frames built and parsed by the same core.

``connect()`` returns a :class:`WebSocketConnection`:

* ``status_code``: 101, or the HTTP status of a refused handshake (400,
  403, 426, 501...), whose body is ``content`` (and ``response`` the
  ``HttpResponse``); ``subprotocol``: the one the server chose;
* ``send(data)``, ``receive(timeout=1)``, ``receive_nothing(timeout=0.1)``;
* ``close(code=1000)``, and ``close_code``/``close_reason``: those of the
  server's close frame (1006: the connection ended without one). Leaving
  the ``with`` block closes the connection and waits for the view to end.

Database: the view runs in another thread, so the connection shares the
test thread's open database connections with it (as ``LiveServerTestCase``
does): data created in a ``TestCase`` (inside its transaction) is visible
to the view. Both threads then use one database connection, so the test
should not query the database while the view does (wait for a message
first). The view's thread sends neither ``request_started`` nor
``request_finished``: their receiver ``close_old_connections`` would close
the shared connection.

Errors: an exception in the view closes the connection with 1011, is
logged (``dwebsocket_c`` logger) with its traceback as under a server, and
the traceback is also kept in ``errors`` and shown by the
``ConnectionClosed`` that ``receive()`` raises.
"""

from __future__ import annotations

import base64
import logging
import os
import selectors
import socket
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.db import connections
from django.http import HttpHeaders, HttpResponse
from django.test import Client

from . import _core
from .devserver import DETACH_ENVIRON_KEY, SOCKET_ENVIRON_KEY
from .exceptions import ConnectionClosed, WebSocketError

__all__ = [
    "WebSocketClient",
    "WebSocketConnection",
    "HandshakeRefused",
    "ReceiveTimeout",
]

#: Seconds allowed for the handshake, and for the view to end after a close.
HANDSHAKE_TIMEOUT = 10.0
CLOSE_TIMEOUT = 10.0


class HandshakeRefused(WebSocketError):
    """``send()``/``receive()`` on a connection whose handshake was refused."""


class ReceiveTimeout(WebSocketError, TimeoutError):
    """``receive()`` waited ``timeout`` seconds and no message came."""


class _SessionHandler(BaseHandler):
    """Django's request handling as ``django.test.Client``'s handler does it,
    minus the request signals (see the module docstring)."""

    def __init__(self, enforce_csrf_checks: bool) -> None:
        super().__init__()
        self.enforce_csrf_checks = enforce_csrf_checks

    def __call__(self, environ: dict[str, Any]) -> HttpResponse:
        if self._middleware_chain is None:
            self.load_middleware()
        request = WSGIRequest(environ)
        request._dont_enforce_csrf_checks = not self.enforce_csrf_checks  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.wsgi_request = request  # type: ignore[attr-defined]
        return response


class _ViewErrors(logging.Handler):
    """Keeps the tracebacks the library logs from one thread (the view's)."""

    def __init__(self, thread: threading.Thread) -> None:
        super().__init__(logging.ERROR)
        self.thread = thread
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread.ident:
            self.texts.append(self.format(record))


class WebSocketClient:
    """Opens WebSocket connections to the project's views; see the module docstring.

    ``client``: the ``django.test.Client`` whose cookies (a ``force_login()``
    session among them), ``defaults`` and CSRF setting are used; a new one
    if None.
    """

    def __init__(self, client: Client | None = None) -> None:
        self.client = client if client is not None else Client()
        self._handler: _SessionHandler | None = None

    def connect(
        self,
        path: str,
        headers: dict[str, str] | None = None,
        subprotocols: list[str] | tuple[str, ...] | None = None,
    ) -> WebSocketConnection:
        """Open a connection to ``path`` (a query string may follow ``?``).

        ``headers``: extra request headers (``{"Origin": ...}``); they
        override the handshake's own. ``subprotocols``: offered in
        ``Sec-WebSocket-Protocol``. The handshake is done when this returns;
        check ``status_code``.
        """
        if self._handler is None:
            self._handler = _SessionHandler(self.client.handler.enforce_csrf_checks)
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        request_headers = {
            # What a browser sends (Django's test client puts the host in
            # SERVER_NAME only).
            "Host": self.client.defaults.get("HTTP_HOST", "testserver"),
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": key,
            "Sec-WebSocket-Version": "13",
        }
        if subprotocols:
            request_headers["Sec-WebSocket-Protocol"] = ", ".join(subprotocols)
        request_headers.update(headers or {})
        connection = WebSocketConnection(path, key)
        connection._start(self._handler, self._environ(path, request_headers))
        return connection

    def _environ(self, path: str, headers: dict[str, str]) -> dict[str, Any]:
        parsed = urlsplit(str(path))
        return self.client._base_environ(**{
            "PATH_INFO": self.client._get_path(parsed),
            "QUERY_STRING": parsed.query,
            "REQUEST_METHOD": "GET",
            "wsgi.multithread": True,
            **HttpHeaders.to_wsgi_names(headers),
        })


class WebSocketConnection:
    """One connection opened by :meth:`WebSocketClient.connect`."""

    def __init__(self, path: str, key: str) -> None:
        self.path = path
        self._key = key
        #: 101 once the handshake succeeded, else the HTTP status of the answer.
        self.status_code: int | None = None
        #: The ``HttpResponse`` of a refused handshake (None after a 101).
        self.response: HttpResponse | None = None
        #: The response headers of the 101 (lower-case names).
        self.headers: dict[str, str] = {}
        #: The subprotocol the server chose, or None.
        self.subprotocol: str | None = None
        #: The code and reason of the server's close frame (1006: TCP ended without one).
        self.close_code: int | None = None
        self.close_reason: str = ""
        #: Tracebacks of the errors the view raised (logged by the library).
        self.errors: list[str] = []
        self._sock, self._server_sock = socket.socketpair()
        self._parser = _core.FrameParser(max_message_size=None, client_side=True)
        self._messages: deque[str | bytes] = deque()
        self._close_sent = False
        self._close_received = False
        self._eof = False
        self._detached = False
        self._thread: threading.Thread | None = None
        self._thread_error: BaseException | None = None
        self._log_handler: _ViewErrors | None = None

    # ------------------------------------------------------------- handshake

    def _start(self, handler: _SessionHandler, environ: dict[str, Any]) -> None:
        environ[SOCKET_ENVIRON_KEY] = self._server_sock
        environ[DETACH_ENVIRON_KEY] = self._detach
        # The test thread's open database connections, for the view's thread.
        shared = list(connections.all(initialized_only=True))
        for conn in shared:
            conn.inc_thread_sharing()
        self._thread = threading.Thread(
            target=self._serve, args=(handler, environ, shared),
            name=f"WebSocketClient {self.path}", daemon=True,
        )
        self._log_handler = _ViewErrors(self._thread)
        logging.getLogger("dwebsocket_c").addHandler(self._log_handler)
        self._thread.start()
        self._read_handshake()

    def _detach(self) -> None:
        self._detached = True

    def _serve(self, handler: _SessionHandler, environ: dict[str, Any], shared: list[Any]) -> None:
        shared_aliases = {conn.alias for conn in shared}
        for conn in shared:
            connections[conn.alias] = conn
        try:
            response = handler(environ)
            if not self._detached:  # no 101: an ordinary HTTP answer
                self.response = response
        except BaseException as error:  # re-raised by connect()
            self._thread_error = error
        finally:
            for conn in connections.all(initialized_only=True):
                if conn.alias not in shared_aliases:
                    conn.close()
            for conn in shared:
                conn.dec_thread_sharing()
            # As a server does once the request is over (the library has
            # already shut a WebSocket down): the test's end then sees EOF.
            self._server_sock.close()

    def _read_handshake(self) -> None:
        data = b""
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT
        while b"\r\n\r\n" not in data:
            chunk = self._recv(deadline)
            if chunk is None:
                self._abandon()
                raise ReceiveTimeout(
                    f"no answer to the WebSocket handshake of {self.path} within "
                    f"{HANDSHAKE_TIMEOUT} s")
            if not chunk:
                break
            data += chunk
        if b"\r\n\r\n" not in data:  # the view's thread answered over HTTP
            self._join(HANDSHAKE_TIMEOUT)
            if self._thread_error is not None:
                raise self._thread_error
            assert self.response is not None
            self.status_code = self.response.status_code
            self._eof = True
            return
        head, _, rest = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status_code = int(status_line.split()[1])
        for line in header_lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        if self.headers.get("sec-websocket-accept") != _core.accept_key(self._key):
            raise AssertionError(f"wrong Sec-WebSocket-Accept in {head!r}")
        self.subprotocol = self.headers.get("sec-websocket-protocol")
        self._feed(rest)

    @property
    def content(self) -> bytes:
        """The body of a refused handshake's response (b"" after a 101)."""
        return self.response.content if self.response is not None else b""

    # --------------------------------------------------------------- sending

    def send(self, data: str | bytes | bytearray | memoryview) -> None:
        """Send a message: a ``str`` as text, bytes as binary."""
        self._check_open("send")
        if isinstance(data, str):
            frame = _core.build_frame(_core.OP_TEXT, data.encode("utf-8"), mask=True)
        elif isinstance(data, (bytes, bytearray, memoryview)):
            frame = _core.build_frame(_core.OP_BINARY, data, mask=True)
        else:
            raise TypeError(f"send() takes str (text) or bytes (binary), not {type(data).__name__}")
        self._sock.sendall(frame)

    # ------------------------------------------------------------- receiving

    def receive(self, timeout: float = 1) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary.

        Raises :class:`ReceiveTimeout` if none comes within ``timeout``
        seconds, and :class:`~dwebsocket_c.exceptions.ConnectionClosed` once
        the server has closed (its code, and the view's traceback for 1011).
        """
        if self.status_code != 101:
            self._check_open("receive")
        self._wait_for_event(time.monotonic() + timeout)
        if self._messages:
            return self._messages.popleft()
        if self._close_received or self._eof:
            detail = f"the server closed {self.path}"
            if self.errors:
                detail += " after an error in the view:\n" + self.errors[-1]
            raise ConnectionClosed(self.close_code, self.close_reason, detail)
        raise ReceiveTimeout(f"no message from {self.path} within {timeout} s")

    def receive_nothing(self, timeout: float = 0.1) -> bool:
        """True if no message (and no close) arrives within ``timeout``
        seconds. A message that did arrive stays there for ``receive()``."""
        if self.status_code == 101:
            self._wait_for_event(time.monotonic() + timeout)
        return not self._messages and not self._close_received

    def _wait_for_event(self, deadline: float) -> None:
        while not self._messages and not self._close_received and not self._eof:
            chunk = self._recv(deadline)
            if chunk is None:
                return
            if not chunk:
                self._end_of_stream()
                return
            self._feed(chunk)

    def _end_of_stream(self) -> None:
        self._eof = True
        if self.close_code is None:  # TCP ended without a close frame
            self.close_code = _core.CLOSE_ABNORMAL

    def _recv(self, deadline: float) -> bytes | None:
        """Bytes from the server; b"" at EOF; None when ``deadline`` passed."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._sock, selectors.EVENT_READ)
            if not selector.select(max(0.0, deadline - time.monotonic())):
                return None
        try:
            return self._sock.recv(65536)
        except ConnectionResetError:
            return b""

    def _feed(self, data: bytes) -> None:
        self._parser.feed(data)
        for opcode, payload in self._parser:
            if opcode == _core.OP_TEXT:
                self._messages.append(payload.decode("utf-8"))
            elif opcode == _core.OP_BINARY:
                self._messages.append(payload)
            elif opcode == _core.OP_PING:
                self._send_control(_core.build_frame(_core.OP_PONG, payload, mask=True))
            elif opcode == _core.OP_CLOSE:
                self._close_received = True
                self.close_code, self.close_reason = _core.parse_close(payload)
                # Answer at once, as a browser does, so the view's close ends.
                echo = None if self.close_code == _core.CLOSE_NO_STATUS else self.close_code
                self._send_close(echo)
        self.errors = list(self._log_handler.texts) if self._log_handler else []

    def _send_control(self, frame: bytes) -> None:
        if self._close_sent:
            return
        try:
            self._sock.sendall(frame)
        except OSError:  # the server is gone; reading will tell
            pass

    def _send_close(self, code: int | None, reason: str = "") -> None:
        self._send_control(_core.build_close(code, reason, mask=True))
        self._close_sent = True

    # --------------------------------------------------------------- closing

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (the closing handshake) and wait until the
        view has ended. ``close_code`` is then the server's code."""
        if self._thread is None:
            return
        if self.status_code == 101:
            if not self._close_sent:
                self._send_close(code, reason)
            # The server's close frame, then the end of the stream; what
            # arrives meanwhile is no longer for the test.
            deadline = time.monotonic() + CLOSE_TIMEOUT
            while not self._eof:
                chunk = self._recv(deadline)
                if chunk is None:
                    break
                if not chunk:
                    self._end_of_stream()
                else:
                    self._feed(chunk)
            self._messages.clear()
        ended = self._join(CLOSE_TIMEOUT)
        self._release()
        if not ended:
            raise AssertionError(
                f"the view of {self.path} was still running {CLOSE_TIMEOUT} s after "
                "the connection was closed")

    def _join(self, timeout: float) -> bool:
        assert self._thread is not None
        self._thread.join(timeout)
        if self._log_handler is not None:
            self.errors = list(self._log_handler.texts)
        return not self._thread.is_alive()

    def _release(self) -> None:
        if self._log_handler is not None:
            logging.getLogger("dwebsocket_c").removeHandler(self._log_handler)
            self._log_handler = None
        self._sock.close()
        self._eof = True

    def _abandon(self) -> None:
        self._sock.close()
        self._join(CLOSE_TIMEOUT)
        self._release()

    def _check_open(self, what: str) -> None:
        if self.status_code != 101:
            body = self.content.decode("utf-8", "replace")
            raise HandshakeRefused(
                f"cannot {what}: the WebSocket handshake of {self.path} was answered "
                f"with {self.status_code} ({body[:200]!r})")
        if self._close_sent or self._eof:
            raise ConnectionClosed(self.close_code, self.close_reason,
                                   f"cannot {what} on a closed connection to {self.path}")

    def __enter__(self) -> WebSocketConnection:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<WebSocketConnection {self.path} status={self.status_code} close_code={self.close_code}>"
