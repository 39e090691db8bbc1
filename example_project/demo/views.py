"""The tutorial's views: the blog post's `login`/`path` pair, an echo, a chat room."""

import logging
import threading

from django.shortcuts import render

from dwebsocket_c.decorators import accept_websocket

log = logging.getLogger(__name__)


# --- The blog post, unchanged but for the package name ---------------------


def login(request):
    return render(request, 'login.html')


@accept_websocket
def path(request):
    if request.is_websocket():
        request.websocket.send('下载完成'.encode('utf-8'))


# --- Echo: the page and its websocket share one URL ------------------------


@accept_websocket
def echo(request):
    if not request.is_websocket():
        return render(request, "echo.html")
    # Iterating waits for each message and ends when the client closes.
    # A received message is bytes that knows its kind (message.is_text), and
    # send() sends it back the same way: text as text, binary as binary.
    for message in request.websocket:
        request.websocket.send(message)


# --- Chat: every connected browser sees every message ----------------------
#
# The room is a set of open websockets shared by the threads (or greenlets)
# of ONE server process. With several worker processes each has its own room:
# relay through something shared (Redis pub/sub, a database) instead.

_room = set()
_room_lock = threading.Lock()


def broadcast(message):
    with _room_lock:
        peers = list(_room)  # send outside the lock: a slow peer must not block joins
    for peer in peers:
        try:
            peer.send(message)  # text stays text, binary stays binary
        except Exception:  # that peer is gone: drop it, carry on with the others
            log.info("chat: dropping a peer that could not be sent to")
            with _room_lock:
                _room.discard(peer)


@accept_websocket
def chat(request):
    if not request.is_websocket():
        return render(request, "chat.html")
    websocket = request.websocket
    with _room_lock:
        _room.add(websocket)
    try:
        for message in websocket:
            broadcast(message)
    finally:
        with _room_lock:
            _room.discard(websocket)


def index(request):
    return render(request, "index.html")
