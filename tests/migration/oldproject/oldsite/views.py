"""Views as dwebsocket 0.5's README wrote them: imports from the old package."""

import sys

from django.http import HttpResponse

from dwebsocket import accept_websocket
from dwebsocket.decorators import require_websocket


def health(request):
    return HttpResponse("ok")


@accept_websocket
def echo(request):
    if not request.is_websocket():
        return HttpResponse("plain http")
    for message in request.websocket:
        if message is None:  # the old library's last item
            break
        request.websocket.send(message)


@require_websocket
def only_ws(request):
    message = request.websocket.wait()
    request.websocket.send(message)


def undecorated(request):  # a websocket through WEBSOCKET_ACCEPT_ALL and the old middleware path
    if request.is_websocket():
        request.websocket.send(b"undecorated over websocket")
        return None
    return HttpResponse("undecorated over http")


@require_websocket
def how(request):
    """What the project is running on: which modules, which settings."""
    from dwebsocket_c.conf import get_settings
    from dwebsocket_c.middleware import WebSocketMiddleware

    import dwebsocket.middleware

    request.websocket.send(
        f"dwebsocket={sys.modules['dwebsocket'].__name__} "
        f"same_middleware={dwebsocket.middleware.WebSocketMiddleware is WebSocketMiddleware} "
        f"legacy_api={get_settings().legacy_api}"
    )
