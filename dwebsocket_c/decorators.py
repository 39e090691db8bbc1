"""``accept_websocket`` and ``require_websocket``: make a view a WebSocket view.

::

    from dwebsocket_c import accept_websocket

    @accept_websocket
    def echo(request):
        if not request.is_websocket():
            return render(request, "echo.html")     # plain HTTP: a normal view
        for message in request.websocket:            # until the client closes
            request.websocket.send(message)

* ``accept_websocket``: the view takes both plain HTTP and WebSocket requests.
* ``require_websocket``: the view takes WebSocket requests only; plain HTTP
  gets ``400 Bad Request``.

A WebSocket request runs the view once, for the whole connection, with
``request.websocket`` open (see :mod:`dwebsocket_c.websocket`); what the view
returns is ignored, and the connection is closed properly when it returns
(see :mod:`dwebsocket_c.session`). A malformed handshake gets 400, a
cross-origin one 403, before the view runs.

The decorators work with or without
:class:`~dwebsocket_c.middleware.WebSocketMiddleware`, and never upgrade a
request twice (decorating twice, or decorator plus middleware, is fine).
They are for synchronous views; for a class-based view decorate the result
of ``as_view()`` (or use ``method_decorator`` on ``dispatch``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from .session import prepare_request, run_websocket_view

__all__ = ["accept_websocket", "require_websocket"]


def _websocket_view(view: Callable[..., Any], *, required: bool) -> Callable[..., Any]:
    if iscoroutinefunction(view):
        raise TypeError(
            f"{view.__qualname__} is an async view; dwebsocket_c runs WebSockets "
            "under WSGI and supports synchronous views only."
        )

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        prepare_request(request)
        if request.websocket is not None:  # already upgraded further out
            return view(request, *args, **kwargs)
        if request.is_websocket():
            return run_websocket_view(request, view, args, kwargs)
        if required:
            return HttpResponseBadRequest(
                "This URL accepts WebSocket connections only.",
                content_type="text/plain; charset=utf-8",
            )
        return view(request, *args, **kwargs)

    wrapper.accept_websocket = True  # type: ignore[attr-defined]
    wrapper.require_websocket = required  # type: ignore[attr-defined]
    return wrapper


def accept_websocket(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view accepts WebSocket connections as well as plain HTTP."""
    return _websocket_view(view, required=False)


def require_websocket(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view accepts WebSocket connections only (plain HTTP gets 400)."""
    return _websocket_view(view, required=True)
