"""gunicorn (``gthread`` and ``gevent`` workers; checked against gunicorn 27).

The socket: ``environ["gunicorn.socket"]`` (set in ``gunicorn/http/wsgi.py``).
Bytes gunicorn read past the headers wait in its request parser's
"unreader" and are handed to the WebSocket first.

After the view, gunicorn writes the response headers with ``sendall``. The
library has shut the TCP connection down by then, so that write fails with
``EPIPE``; both workers catch it (``gthread.ThreadWorker.handle`` and
``base_async.AsyncWorker.handle``) and log "Ignoring connection epipe" /
"Ignoring EPIPE" at DEBUG, then close their socket. Nothing reaches the
wire, nothing is logged as an error, and gunicorn's socket is never closed
by us (closing it ourselves makes gunicorn log ``EBADF``).

The ``sync`` worker is refused: it serves one connection at a time and its
``--timeout`` (30 s) kills any request that lasts longer, i.e. every
WebSocket. Use ``-k gthread --threads N`` (one thread per open WebSocket) or
``-k gevent``.

A TLS socket (gunicorn started with ``--certfile``) is refused too: the
library writes frames on the raw socket; terminate TLS in a reverse proxy
instead.
"""

from __future__ import annotations

import ssl
import socket
from typing import Any

from ..exceptions import UnsupportedServer
from .base import ServerAdapter


class GunicornAdapter(ServerAdapter):
    name = "gunicorn"

    @classmethod
    def handles(cls, environ: dict[str, Any]) -> bool:
        return "gunicorn.socket" in environ

    def __init__(self, environ: dict[str, Any]) -> None:
        super().__init__(environ)
        software = environ.get("SERVER_SOFTWARE", "gunicorn")
        if not environ.get("wsgi.multithread"):
            raise UnsupportedServer(
                f"WebSocket refused: {software} runs the 'sync' worker, which "
                "serves one request at a time and kills any request longer than "
                "its --timeout. Start gunicorn with '-k gthread --threads 32' "
                "(one thread per open WebSocket) or '-k gevent'."
            )
        if isinstance(environ["gunicorn.socket"], ssl.SSLSocket):
            raise UnsupportedServer(
                f"WebSocket refused: {software} terminates TLS itself (--certfile) "
                "and a TLS socket cannot be taken over; terminate TLS in a reverse "
                "proxy (nginx, haproxy) in front of gunicorn."
            )

    def take_socket(self) -> socket.socket:
        return self.environ["gunicorn.socket"]

    def take_buffered(self, sock: Any) -> bytes:
        """gunicorn's request parser reads the socket in 8 KiB chunks and
        keeps what follows the headers in its "unreader"
        (``wsgi.input.reader.unreader``; ``take_buffered()`` since gunicorn 27)."""
        reader = getattr(self.environ.get("wsgi.input"), "reader", None)
        unreader = getattr(reader, "unreader", None)
        take = getattr(unreader, "take_buffered", None)
        if take is not None:
            return bytes(take())
        buf = getattr(unreader, "buf", None)  # older gunicorn: a BytesIO
        if unreader is None or buf is None:
            return b""
        data = buf.getvalue()
        unreader.buf = type(buf)()
        return data
