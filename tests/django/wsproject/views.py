"""Views that make each behaviour of dwebsocket_c observable from a client."""

import logging
import threading
import time

from django.http import HttpResponse

from dwebsocket_c.decorators import accept_websocket, require_websocket

logger = logging.getLogger("dwebsocket_c")


def health(request):
    return HttpResponse("ok")


def plain(request):
    return HttpResponse("undecorated")


@accept_websocket
def echo(request):
    if not request.is_websocket():
        return HttpResponse("plain http")
    for message in request.websocket:
        request.websocket.send(message)


@accept_websocket
def blog(request):  # the blog post's view, unchanged but for the package name
    if request.is_websocket():
        request.websocket.send("下载完成".encode("utf-8"))


@require_websocket
def server_close(request):
    message = request.websocket.wait()
    request.websocket.close(4000, "bye " + message.text)


@require_websocket
def boom(request):
    request.websocket.wait()
    raise RuntimeError("view exploded")


@require_websocket
def info(request):
    ws = request.websocket
    ws.send(f"subprotocol={ws.subprotocol}")
    message = ws.wait(timeout=0.5)
    ws.send(f"timeout->{message!r} closed={ws.is_closed()}")
    for message in ws:
        ws.send(f"{type(message).__name__}:{len(message)}")


@require_websocket
def badsend(request):
    ws = request.websocket
    try:
        ws.send(b"\xff\xfe")
    except ValueError as error:
        ws.send(f"error: {error}")
    ws.send(b"\xff\xfe", binary=True)
    ws.send_bytes(b"\x00\x01")


@require_websocket
def push(request):
    ws = request.websocket
    count = 0
    while not ws.is_closed():
        ws.send(f"tick {count}")
        count += 1
        time.sleep(0.2)
    logger.info("push view saw close_code=%s", ws.close_code)


@require_websocket
def broadcast(request):
    """Two threads and the view send at once: frames must not interleave."""
    ws = request.websocket

    def spam(tag):
        for i in range(200):
            ws.send(f"{tag}-{i}-" + "x" * (i * 500))

    threads = [threading.Thread(target=spam, args=(tag,)) for tag in "ab"]
    for thread in threads:
        thread.start()
    for message in ws:
        ws.send(message)
    for thread in threads:
        thread.join()


@require_websocket
def read_nb(request):
    ws = request.websocket
    assert ws.read() is None
    ws.send("ready")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and ws.count_messages() < 2:
        time.sleep(0.05)
    ws.send(
        f"count={ws.count_messages()} has={ws.has_messages()} "
        f"first={ws.read().text} second={ws.read().text} then={ws.read('fb')}"
    )
    ws.wait()


@require_websocket
def idle(request):
    ws = request.websocket
    message = ws.wait()
    if message is not None:
        ws.send(f"got {message.text} closed={ws.is_closed()} code={ws.close_code}")
        ws.wait()


@require_websocket
def closer_thread(request):
    ws = request.websocket
    threading.Timer(0.5, ws.close, args=(4001, "from thread")).start()
    result = ws.wait()
    logger.info("closer_thread: wait() -> %r closed=%s", result, ws.is_closed())


# --- Code written for dwebsocket 0.5 (tests/django/test_legacy.py) --------


@require_websocket
def old_iter(request):
    """The old iteration ended with a final None."""
    for message in request.websocket:
        if not message:
            logger.info("old_iter: ended at %.3f", time.time())
            break
        request.websocket.send(message)


@require_websocket
def old_poll(request):
    """Poll with has_messages()/read(), sleep, never send: the old library's
    has_messages() turned True at the close and read() gave None."""
    while True:
        if request.websocket.has_messages():
            message = request.websocket.read()
            if message is None:
                logger.info("old_poll: ended at %.3f", time.time())
                break
        time.sleep(0.05)


@require_websocket
def old_wait(request):
    while True:
        message = request.websocket.wait()
        if message is None:
            logger.info("old_wait: ended at %.3f", time.time())
            break


_old_room = []


@require_websocket
def old_room(request):
    """A module-level list of websockets, as old chat rooms kept them."""
    _old_room.append(request.websocket)
    try:
        for message in request.websocket:
            if message is None:
                break
    finally:
        _old_room.remove(request.websocket)


def old_post(request):
    """A plain HTTP view broadcasting to every member, closing or not."""
    sent = sum(bool(ws.send(request.GET.get("m", "hi"))) for ws in list(_old_room))
    return HttpResponse(f"sent={sent}")
