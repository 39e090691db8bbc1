from dwebsocket.decorators import accept_websocket
from django.http import HttpResponse


@accept_websocket
def echo(request):
    if not request.is_websocket():
        return HttpResponse("websocket only")
    ws = request.websocket
    # 0.5.12's wait() blocks forever with timeout=None (its default); the
    # iteration ends when the client closes (wait() returns None).
    for message in ws:
        if message is None:
            break
        ws.send(message)
