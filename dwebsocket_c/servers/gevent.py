"""gevent's WSGI server (``gevent.pywsgi.WSGIServer``; checked against 26.x).

For an upgrade request pywsgi passes its buffered reader itself as
``environ["wsgi.input"]`` (see ``WSGIHandler.get_environ``); the socket is
that reader's raw stream's socket. Locks are gevent semaphores.

After the view pywsgi writes the response headers; the TCP connection is
shut down by then, so the write fails with ``EPIPE``, which pywsgi counts
among its ``ignored_socket_errors``: it closes the connection, logs the
request line, and writes nothing.

(gunicorn's ``-k gevent`` worker is handled by the gunicorn adapter.)
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from ..exceptions import UnsupportedServer
from .base import ServerAdapter, read_ahead


def _reader_socket(environ: dict[str, Any]) -> Any:
    raw = getattr(environ.get("wsgi.input"), "raw", None)
    return getattr(raw, "_sock", None)


class GeventAdapter(ServerAdapter):
    name = "gevent.pywsgi"

    @classmethod
    def handles(cls, environ: dict[str, Any]) -> bool:
        return str(environ.get("SERVER_SOFTWARE", "")).startswith("gevent")

    def __init__(self, environ: dict[str, Any]) -> None:
        super().__init__(environ)
        if _reader_socket(environ) is None:
            raise UnsupportedServer(
                f"WebSocket refused: cannot find the socket of this "
                f"{environ.get('SERVER_SOFTWARE')} connection (wsgi.input is "
                f"{type(environ.get('wsgi.input')).__name__}). Serve with "
                "gunicorn -k gevent instead."
            )

    def take_socket(self) -> socket.socket:
        return _reader_socket(self.environ)

    def take_buffered(self, sock: Any) -> bytes:
        return read_ahead(self.environ.get("wsgi.input"), sock)

    def make_lock(self) -> Callable[[], Any]:
        from gevent.lock import Semaphore

        return Semaphore
