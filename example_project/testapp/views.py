"""Websocket endpoints that tests/integration drives on every server.

Not part of the tutorial: they exist to make the library's behaviour
observable (close codes, exceptions, the user, the adapter in use).
"""

import logging
import os
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.dispatch import receiver
from django.http import Http404, HttpResponse, JsonResponse

from dwebsocket_c.decorators import accept_websocket, require_websocket
from dwebsocket_c import GroupBackendError, send_to_group
from dwebsocket_c.exceptions import ConnectionClosed
from dwebsocket_c.groups import messages_lost
from dwebsocket_c.groups import stats as group_stats

logger = logging.getLogger("testapp")


def health(request):
    """Plain HTTP: the fixtures poll this until the server answers."""
    return HttpResponse("ok", content_type="text/plain")


@accept_websocket
def echo(request):
    """Echo every message (text as text, binary as binary) until the client closes."""
    if not request.is_websocket():
        return HttpResponse("websocket echo endpoint", content_type="text/plain")
    for message in request.websocket:
        request.websocket.send(message)


@accept_websocket
def close(request):
    """After the first message, close with ?code= (default 1000) and ?reason=."""
    if not request.is_websocket():
        return HttpResponse("websocket close endpoint", content_type="text/plain")
    code = int(request.GET.get("code", "1000"))
    reason = request.GET.get("reason", "")
    request.websocket.wait()
    request.websocket.close(code, reason)


class ViewBoom(RuntimeError):
    pass


@accept_websocket
def raise_(request):
    """After the first message, raise: the client must see close code 1011."""
    if not request.is_websocket():
        return HttpResponse("websocket raise endpoint", content_type="text/plain")
    message = request.websocket.wait()
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    raise ViewBoom(f"testapp raise: {message}")


@require_websocket
def require(request):
    """require_websocket: plain HTTP gets 400; a websocket gets one echo."""
    message = request.websocket.wait()
    if message is not None:
        request.websocket.send(message)


@accept_websocket
def user(request):
    """Send the user's name, or "anonymous"."""
    if not request.is_websocket():
        return HttpResponse("websocket user endpoint", content_type="text/plain")
    name = request.user.username if request.user.is_authenticated else "anonymous"
    request.websocket.send(name)


@accept_websocket
def info(request):
    """Send the class of request.websocket (which adapter the server got)."""
    if not request.is_websocket():
        return HttpResponse("websocket info endpoint", content_type="text/plain")
    ws = request.websocket
    request.websocket.send(f"{type(ws).__module__}.{type(ws).__qualname__}")


@accept_websocket
def send_then_return(request):
    """Send one text message and return without closing (like the blog's `path`)."""
    if not request.is_websocket():
        return HttpResponse("websocket send-then-return endpoint", content_type="text/plain")
    request.websocket.send("bye")


def test_login(request):
    """Log in as ?username= (created on demand). Only with EXAMPLE_TEST_LOGIN=1."""
    if not settings.EXAMPLE_TEST_LOGIN:
        raise Http404("test login is disabled")
    username = request.GET["username"]
    user, _ = get_user_model().objects.get_or_create(username=username)
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponse(f"logged in as {username}", content_type="text/plain")


@accept_websocket
def stream(request):
    """tests/robustness: push ?size= byte binary messages (default 65536) as
    fast as send() returns, without reading, until send() raises
    ConnectionClosed; then log how much went out and how long the last
    send() blocked (the test reads it from the server's log)."""
    if not request.is_websocket():
        return HttpResponse("websocket stream endpoint", content_type="text/plain")
    chunk = b"s" * int(request.GET.get("size", "65536"))
    tag = request.GET.get("tag", "")
    sent = 0
    started = time.monotonic()
    while True:
        before = time.monotonic()
        try:
            request.websocket.send_bytes(chunk)
        except ConnectionClosed as closed:
            now = time.monotonic()
            logger.warning(
                "stream %s: ConnectionClosed after %d bytes in %.2f s; the last send() "
                "blocked %.2f s (%s)", tag, sent, now - started, now - before, closed)
            return
        sent += len(chunk)


# --- tests/robustness/test_hardening.py ----------------------------------


@require_websocket
def slow_echo(request):
    """Echo, spending ?delay= seconds (default 0.6) on each message."""
    delay = float(request.GET.get("delay", "0.6"))
    for message in request.websocket:
        time.sleep(delay)
        request.websocket.send(message)


@require_websocket
def big_views(request):
    """Send a non-contiguous memoryview over 64 KiB (every other byte of a
    buffer), then "after": both must arrive whole and in order."""
    data = bytes(range(256)) * 1024  # 256 KiB
    request.websocket.send(memoryview(data)[::2], binary=True)
    request.websocket.send("after")
    request.websocket.wait()


@require_websocket
def interrupted_send(request):
    """Under gevent/eventlet: a green Timeout interrupts a big send() to a
    client that does not read; the next send() must then raise
    ConnectionClosed (the connection is failed, no frame follows half of
    one). Logs what happened for the test."""
    from dwebsocket_c.servers.base import green_timeout_class

    ws = request.websocket
    timeout_class = green_timeout_class(ws._transport.sock)
    if timeout_class is None:
        logger.warning("interrupted_send: not a green server")
        return
    try:
        # The libraries' own Timeout: a BaseException, not an OSError.
        with timeout_class(0.5):
            ws.send(b"x" * (16 << 20), binary=True)
        logger.warning("interrupted_send: the big send completed?")
    except timeout_class:
        try:
            ws.send("after")
            logger.warning("interrupted_send: the second send() returned normally")
        except ConnectionClosed:
            logger.warning("interrupted_send: second send raised ConnectionClosed")


@require_websocket
def two_readers(request):
    """Two threads (greenlets) read one connection at once until the client
    closes, one with wait(), one polling read(); the summary goes to the log."""
    import threading

    ws = request.websocket
    got, ends, errors = [], [], []

    def reader(polls):
        """wait() in a loop; or (polls) read() in a busy loop, as a view that
        polls does, until the connection is closed and read() has nothing."""
        try:
            while True:
                message = ws.read() if polls else ws.wait()
                if message is None:
                    if polls and not ws.is_closed():
                        time.sleep(0)  # a greenlet must let the others run
                        continue
                    ends.append(None)
                    return
                got.append(message.text)
        except Exception as error:  # the bug was IndexError here
            errors.append(repr(error))

    # Threads switch every 5 ms by default: a race between two readers needs
    # a switch at one exact point. Switching (nearly) all the time finds it.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=reader, args=(polls,)) for polls in (False, True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        sys.setswitchinterval(switch_interval)
    logger.warning("two_readers: got=%d distinct=%d ends=%d errors=%s",
                   len(got), len(set(got)), len(ends), errors)


# --- tests/groups ------------------------------------------------------------


@accept_websocket
def group_member(request, name):
    """Join group ``name`` (and ?also=a,b), say ``joined <pid>``, then relay
    every message received to the group; one that starts with ``self:`` is
    sent back by the view itself instead."""
    if not request.is_websocket():
        return HttpResponse("websocket group endpoint", content_type="text/plain")
    websocket = request.websocket
    websocket.join(name)
    for extra in filter(None, request.GET.get("also", "").split(",")):
        websocket.join(extra)
    websocket.send(f"joined {os.getpid()}")
    for message in websocket:
        if message.startswith(b"self:"):  # the view's own send, amid group messages
            websocket.send(message)
            continue
        try:
            send_to_group(name, message)
        except GroupBackendError as error:
            websocket.send(f"error {error}")


@receiver(messages_lost)
def tell_members_to_resync(sender, groups, seconds, url, **kwargs):
    """After a Redis outage, every group with members here hears "resync"."""
    for group in groups:
        try:
            send_to_group(group, "resync")
        except GroupBackendError:
            pass  # gone again


def group_publish(request):
    """Plain HTTP: send ?text= to ?group= (503 naming the problem if the backend is down)."""
    try:
        send_to_group(request.GET["group"], request.GET.get("text", ""))
    except GroupBackendError as error:
        return HttpResponse(str(error), status=503, content_type="text/plain; charset=utf-8")
    return HttpResponse("sent", content_type="text/plain")


def process_stats(request):
    """Plain HTTP: this worker process's pid, OS threads, open fds, dropped members."""
    return JsonResponse({
        "pid": os.getpid(),
        "threads": len(os.listdir("/proc/self/task")),
        "fds": len(os.listdir("/proc/self/fd")),
        "dropped": group_stats["dropped"],
    })
