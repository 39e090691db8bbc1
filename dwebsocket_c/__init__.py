"""dwebsocket_c: WebSocket for ordinary Django views, on WSGI servers.

The successor of ``dwebsocket`` with its protocol core rewritten in C
(:mod:`dwebsocket_c._core`). Code written for dwebsocket keeps working with
the package name changed::

    from dwebsocket_c.decorators import accept_websocket

    @accept_websocket
    def path(request):
        if request.is_websocket():
            request.websocket.send("下载完成".encode("utf-8"))

Where to read next:

* :mod:`dwebsocket_c.decorators` — ``accept_websocket``, ``require_websocket``;
* :mod:`dwebsocket_c.middleware` — ``WebSocketMiddleware``, ``WEBSOCKET_ACCEPT_ALL``;
* :mod:`dwebsocket_c.websocket` — ``request.websocket``: ``wait``, ``read``,
  iteration, ``send``, ``close``, keepalive, threads;
* :mod:`dwebsocket_c.groups` — ``join``/``leave``, ``send_to_group`` from
  anywhere (in-process, or every process on Redis);
* :mod:`dwebsocket_c.message` — text vs binary messages;
* :mod:`dwebsocket_c.conf` — every ``WEBSOCKET_*`` setting and its default;
* :mod:`dwebsocket_c.origins` — the ``Origin`` check (403);
* :mod:`dwebsocket_c.servers` — which WSGI servers work, and how;
* :mod:`dwebsocket_c.apps` — ``INSTALLED_APPS`` and ``runserver``;
* :mod:`dwebsocket_c.compat` — ``install_as_dwebsocket()``: a project written
  for dwebsocket runs unchanged;
* :mod:`dwebsocket_c.testing` — ``WebSocketClient``: test WebSocket views
  without a server.
"""

from .compat import install_as_dwebsocket
from .decorators import accept_websocket, require_websocket
from .exceptions import ConnectionClosed, InvalidTextError, UnsupportedServer, WebSocketError
from .groups import GroupBackendError, send_to_group, send_to_user, user_group
from .message import BinaryMessage, Message, TextMessage
from .websocket import WebSocket

__all__ = [
    "accept_websocket",
    "require_websocket",
    "install_as_dwebsocket",
    "WebSocket",
    "Message",
    "TextMessage",
    "BinaryMessage",
    "WebSocketError",
    "ConnectionClosed",
    "InvalidTextError",
    "UnsupportedServer",
    "send_to_group",
    "send_to_user",
    "user_group",
    "GroupBackendError",
]
