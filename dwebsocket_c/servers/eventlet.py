"""eventlet's own WSGI server (``eventlet.wsgi.server``; checked against 0.41).

The socket: ``environ["eventlet.input"].get_socket()``, a ``GreenSocket``
(the server's own object: the library never closes it). Locks are eventlet semaphores, so a greenthread
waiting to send yields to the others instead of blocking the hub.

After the view, ``eventlet.wsgi.WSGI_LOCAL.already_handled = True`` makes
``HttpProtocol.handle_one_response`` write nothing and close the connection
(eventlet >= 0.30.3).

Note: gunicorn 26 removed its eventlet worker, and eventlet itself
discourages new projects; prefer gunicorn's gthread or gevent worker.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from .base import ServerAdapter, read_ahead


class EventletAdapter(ServerAdapter):
    name = "eventlet.wsgi"

    @classmethod
    def handles(cls, environ: dict[str, Any]) -> bool:
        return hasattr(environ.get("eventlet.input"), "get_socket")

    def take_socket(self) -> socket.socket:
        return self.environ["eventlet.input"].get_socket()

    def take_buffered(self, sock: Any) -> bytes:
        """The request's reader (``eventlet.input.rfile``) may hold more."""
        return read_ahead(getattr(self.environ["eventlet.input"], "rfile", None), sock)

    def make_lock(self) -> Callable[[], Any]:
        from eventlet.semaphore import Semaphore

        return Semaphore

    def release(self) -> None:
        from eventlet.wsgi import WSGI_LOCAL

        WSGI_LOCAL.already_handled = True
