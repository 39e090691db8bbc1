"""Server adapters: how to take the socket from each WSGI server.

:func:`get_server_adapter` picks the adapter from the request's WSGI environ:

===========================================  =========================================
Server                                       Adapter module
===========================================  =========================================
``manage.py runserver`` (this app's)         :mod:`~dwebsocket_c.servers.runserver`
gunicorn ``-k gthread`` / ``-k gevent``      :mod:`~dwebsocket_c.servers.gunicorn`
``eventlet.wsgi.server``                     :mod:`~dwebsocket_c.servers.eventlet`
uWSGI (``--http-socket``, ``--http``)        :mod:`~dwebsocket_c.servers.uwsgi`
``gevent.pywsgi.WSGIServer``                 :mod:`~dwebsocket_c.servers.gevent`
===========================================  =========================================

Any other server (Django's ASGI handler, waitress, Django's own runserver
when this app's command is not the one running, gunicorn's sync worker...)
raises :class:`~dwebsocket_c.exceptions.UnsupportedServer` with a message
naming the server and what to use instead; the library answers the request
with ``501 Not Implemented`` carrying that message and logs it once.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ..exceptions import UnsupportedServer
from .base import ServerAdapter
from .eventlet import EventletAdapter
from .gevent import GeventAdapter
from .gunicorn import GunicornAdapter
from .runserver import RunserverAdapter
from .uwsgi import UwsgiAdapter

#: Tried in this order; the first whose ``handles(environ)`` is true wins.
ADAPTERS: tuple[type[ServerAdapter], ...] = (
    RunserverAdapter,
    GunicornAdapter,
    EventletAdapter,
    UwsgiAdapter,
    GeventAdapter,
)

_SUPPORTED = (
    "gunicorn -k gthread or -k gevent, uWSGI (--http-socket or --http with "
    "--http-websockets), eventlet.wsgi, gevent.pywsgi, or `manage.py runserver` "
    "with 'dwebsocket_c' in INSTALLED_APPS"
)


def unsupported_server_message(environ: dict[str, Any]) -> str:
    """Why a server cannot serve WebSockets here, and what to use instead."""
    software = str(environ.get("SERVER_SOFTWARE") or "an unknown WSGI server")
    if software.startswith("WSGIServer/"):
        return (
            f"WebSocket refused: this is Django's own runserver, or another wsgiref "
            f"server ({software}), which cannot hand a connection over. Add 'dwebsocket_c' to "
            "INSTALLED_APPS (before 'daphne', whose runserver is not Django's), so that "
            "`manage.py runserver` serves WebSockets."
        )
    return (
        f"WebSocket refused: dwebsocket_c cannot take the connection over from "
        f"{software}. Serve the project with {_SUPPORTED}."
    )


def get_server_adapter(request: HttpRequest) -> ServerAdapter:
    """The adapter for the server this request came through.

    Raises :class:`~dwebsocket_c.exceptions.UnsupportedServer`.
    """
    environ = getattr(request, "environ", None)
    if not isinstance(environ, dict) or "asgi" in type(request).__module__:
        raise UnsupportedServer(
            "WebSocket refused: Django is running under ASGI, and dwebsocket_c "
            "works with WSGI servers only. Serve the project with "
            f"{_SUPPORTED}; for WebSockets under ASGI use Django Channels."
        )
    for adapter_class in ADAPTERS:
        if adapter_class.handles(environ):
            return adapter_class(environ)
    raise UnsupportedServer(unsupported_server_message(environ))
