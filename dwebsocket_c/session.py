"""One WebSocket session: handshake, the view, the close, and the server.

:func:`run_websocket_view` is what the decorators and the middleware call
for a request that asks for a WebSocket:

1. :func:`~dwebsocket_c.handshake.negotiate` validates the handshake
   (400/426/403 answers go back as ordinary HTTP responses);
2. the server adapter (:mod:`dwebsocket_c.servers`) is found (an
   unsupported server gets a 501 with an explanation, logged at ERROR, at
   most once every 10 s: :mod:`dwebsocket_c.refusals`), and a slot among
   the process's open WebSockets is taken (:mod:`dwebsocket_c.capacity`:
   beyond the limit, ``503`` with ``Retry-After``); the adapter hands over
   the socket and what the server had read past the request's headers;
3. the ``101 Switching Protocols`` is written straight on the socket and
   ``request.websocket`` becomes a :class:`~dwebsocket_c.websocket.WebSocket`;
4. the view runs. Whatever it returns is ignored (HTTP is over);
5. the connection is closed properly: close frame 1000 and the closing
   handshake if the view left it open; close 1011 if the view raised (the
   exception is logged once, on the ``dwebsocket_c`` logger, with its
   traceback; the closing handshake is done the same way); a view ended by
   :class:`~dwebsocket_c.exceptions.ConnectionClosed` (it sent to a client
   that had gone) is normal and logged at DEBUG only. TCP is then shut down
   and the adapter stops the server from writing anything more.

The function returns a :class:`WebSocketSessionEnded` response (status 101)
that Django's middleware sees and the access logs show, but that the server
never writes.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from .capacity import RETRY_AFTER, slots
from .conf import WebSocketSettings, get_settings
from .exceptions import ConnectionClosed, UnsupportedServer
from .handshake import Handshake, HandshakeRefused, is_websocket_request, negotiate
from .refusals import log_refusal, refusal_response
from .servers import get_server_adapter
from .servers.base import ServerAdapter
from .websocket import WebSocket

logger = logging.getLogger("dwebsocket_c")


class WebSocketSessionEnded(HttpResponse):
    """Returned once a WebSocket session is over; never written on the wire."""

    status_code = 101

    def __init__(self) -> None:
        super().__init__(status=101)


def prepare_request(request: HttpRequest) -> None:
    """Give ``request`` its ``is_websocket()`` and ``websocket`` (None for now).

    Idempotent: the middleware and the decorators both call it.
    """
    if not hasattr(request, "is_websocket"):
        asks_for_websocket = is_websocket_request(request)
        request.is_websocket = lambda: asks_for_websocket
        request.websocket = None


def _view_name(view: Callable[..., Any]) -> str:
    return f"{getattr(view, '__module__', '?')}.{getattr(view, '__qualname__', repr(view))}"


def run_websocket_view(
    request: HttpRequest,
    view: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> HttpResponse:
    """Accept the WebSocket for ``request`` and run ``view`` on it."""
    settings = get_settings()
    try:
        handshake = negotiate(request, settings)
    except HandshakeRefused as refused:
        return refused.response
    try:
        adapter = get_server_adapter(request)
    except UnsupportedServer as error:
        log_refusal("unsupported-server", 501, request, str(error), logging.ERROR)
        return refusal_response(501, str(error))

    limit = slots.limit_for(request.environ, settings.max_connections)
    if not slots.acquire(limit):
        log_refusal(
            "capacity", 503, request,
            f"{limit} WebSockets are open in this process, its limit "
            "(WEBSOCKET_MAX_CONNECTIONS, or the thread pool less a reserve for HTTP)",
        )
        response = refusal_response(
            503, "Too many open WebSocket connections on this server process; retry later."
        )
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    try:
        return _run_session(request, view, args, kwargs, settings, handshake, adapter)
    finally:
        slots.release()


def _run_session(
    request: HttpRequest,
    view: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    settings: WebSocketSettings,
    handshake: Handshake,
    adapter: ServerAdapter,
) -> HttpResponse:
    sock = adapter.take_socket()
    server_timeout = sock.gettimeout()
    try:
        read_ahead = adapter.take_buffered(sock)
        adapter.send_handshake(sock, handshake.response, settings.handshake_timeout)
    except OSError as error:
        logger.info("WebSocket handshake not sent, the client is gone: %s", error)
        # The server's own socket: shut down (a partial 101 must not be
        # followed by the server's response), never closed here.
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.settimeout(server_timeout)
        adapter.release()
        return WebSocketSessionEnded()

    websocket = WebSocket(
        sock,
        max_message_size=settings.max_message_size,
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        close_timeout=settings.close_timeout,
        send_timeout=settings.send_timeout,
        text_as_str=settings.text_as_str,
        subprotocol=handshake.subprotocol,
        deflate=handshake.deflate,
        lock_factory=adapter.make_lock(),
        server_timeout=server_timeout,
        make_timeout=adapter.make_timeout(sock),
        initial_data=read_ahead,
        legacy_api=settings.legacy_api,
    )
    request.websocket = websocket
    try:
        view(request, *args, **kwargs)
    except ConnectionClosed as closed:
        logger.debug("WebSocket view %s ended: %s", _view_name(view), closed)
    except Exception:
        logger.exception("Error in WebSocket view %s", _view_name(view))
        try:
            websocket.close(1011, "internal server error")
        except OSError:
            pass
    finally:
        try:
            websocket._finish()
        finally:
            adapter.release()
    return WebSocketSessionEnded()
