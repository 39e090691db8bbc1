"""``WebSocketMiddleware``: WebSocket support for every view of the project.

::

    MIDDLEWARE = [
        ...,
        "dwebsocket_c.middleware.WebSocketMiddleware",   # last
    ]
    WEBSOCKET_ACCEPT_ALL = True   # optional: every view accepts WebSockets

The middleware gives every request ``request.is_websocket()`` and
``request.websocket`` (None on plain HTTP), so other code can ask. Then, for
a request that asks for a WebSocket:

* a view decorated with ``accept_websocket``/``require_websocket`` is left
  to its decorator (so it is upgraded once, as if the middleware were absent);
* with ``WEBSOCKET_ACCEPT_ALL = True`` any other view is run as a WebSocket
  view too;
* otherwise the request gets ``400 Bad Request`` (the view does not accept
  WebSockets), logged like every refused handshake
  (:mod:`dwebsocket_c.refusals`).

Put it **last** in ``MIDDLEWARE``: for an undecorated view under
``WEBSOCKET_ACCEPT_ALL`` the WebSocket session runs from its
``process_view``, so the ``process_view`` of middleware listed after it
(``LoginRequiredMiddleware``, for one) would not run for WebSocket requests.
The system check ``dwebsocket_c.W003`` warns about that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from .conf import get_settings
from .refusals import log_refusal, refusal_response
from .session import prepare_request, run_websocket_view


class WebSocketMiddleware:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        prepare_request(request)
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        prepare_request(request)
        if not request.is_websocket() or getattr(view_func, "accept_websocket", False):
            return None
        if get_settings().accept_all:
            return run_websocket_view(request, view_func, view_args, view_kwargs)
        why = (
            "This URL does not accept WebSocket connections (decorate the view "
            "with dwebsocket_c.accept_websocket, or set WEBSOCKET_ACCEPT_ALL = True)."
        )
        log_refusal("not-a-websocket-view", 400, request, why)
        return refusal_response(400, why)
