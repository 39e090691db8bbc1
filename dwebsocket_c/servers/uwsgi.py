"""uWSGI (``--http-socket``, or ``--http`` with ``--http-websockets``).

The socket: ``uwsgi.connection_fd()``. The library takes the connection
over completely:

1. it duplicates the fd (``os.dup``) into a socket object of its own, which
   carries the whole session: the C core's ``101`` bytes and every frame
   (uWSGI's websocket API, which does its own framing, is not used), and
   which the adapter closes in ``release()`` (the WebSocket never closes
   the socket it is given);
2. it then points uWSGI's fd *number* at ``/dev/null`` (``os.dup2``). uWSGI
   keeps a valid fd that it closes itself as usual, so nothing it writes
   after the view — the response headers of the (ignored) Django response —
   can reach the client, and nothing fails or gets logged. The library
   never closes uWSGI's fd (the old dwebsocket did: the number was reused
   by the next connection, which then received the old response).

Under ``--http`` (uWSGI's HTTP router in front of the workers) add
``--http-websockets``, so that the router forwards raw bytes both ways after
the ``101``; without it the router would forward nothing after the ``101``,
so the request is refused with a 501 saying so (when the router runs in the
same uWSGI instance, where ``uwsgi.opt`` shows it). Give the workers threads (``--threads N``, one per open
WebSocket); without threads a worker serves one connection at a time. TLS
must end in the router (``--https``) or a proxy, not in the worker
(``--https-socket``).
"""

from __future__ import annotations

import os
import socket
from typing import Any

from ..exceptions import UnsupportedServer
from .base import ServerAdapter


def _router_without_websockets(options: dict[str, Any]) -> bool:
    """This instance runs uWSGI's HTTP router without ``--http-websockets``
    (which would answer the 101 and then forward nothing: a hang)."""
    has_router = any(name in options for name in ("http", "https"))
    return has_router and not options.get("http-websockets")


class UwsgiAdapter(ServerAdapter):
    name = "uWSGI"

    @classmethod
    def handles(cls, environ: dict[str, Any]) -> bool:
        return "uwsgi.version" in environ

    def __init__(self, environ: dict[str, Any]) -> None:
        super().__init__(environ)
        import uwsgi

        if _router_without_websockets(uwsgi.opt):
            raise UnsupportedServer(
                "WebSocket refused: uWSGI's HTTP router (--http) forwards WebSocket "
                "frames only with --http-websockets; add that option (or serve "
                "with --http-socket)."
            )

    def take_socket(self) -> socket.socket:
        import uwsgi

        fd = uwsgi.connection_fd()
        sock = socket.socket(fileno=os.dup(fd))
        devnull = os.open(os.devnull, os.O_RDWR)
        try:
            os.dup2(devnull, fd, inheritable=False)
        finally:
            os.close(devnull)
        self._sock: socket.socket | None = sock
        return sock

    def release(self) -> None:
        """The session is over (TCP is shut down): close the adapter's own
        socket; uWSGI closes its ``/dev/null`` fd itself."""
        sock = getattr(self, "_sock", None)
        if sock is not None:
            self._sock = None
            sock.close()
