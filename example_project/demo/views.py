"""The tutorial's views: the blog post's `login`/`path` pair, an echo, a chat
room, and a download whose progress comes from another process."""

import logging
import subprocess
import sys
import threading
import uuid

from django.conf import settings
from django.shortcuts import render

from dwebsocket_c import GroupBackendError, send_to_group
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
# The room is a group: send_to_group() reaches every member, in this process
# by default, in every worker process and server with REDIS_URL set (Redis).
# A member that stops reading is disconnected instead of holding the others up.

CHAT_GROUP = "chat"


@accept_websocket
def chat(request):
    if not request.is_websocket():
        return render(request, "chat.html")
    websocket = request.websocket
    websocket.join(CHAT_GROUP)  # left by itself when the connection closes
    for message in websocket:
        try:
            send_to_group(CHAT_GROUP, message)  # text stays text, binary stays binary
        except GroupBackendError:  # Redis unreachable: tell the sender, carry on
            log.warning("chat: message not relayed, Redis is unreachable")
            websocket.send("(not delivered: the chat relay is down, try again)")


# --- Download: a job in another process reports to the page that started it -


@accept_websocket
def download(request):
    if not request.is_websocket():
        return render(request, "download.html")
    websocket = request.websocket
    group = f"download.{uuid.uuid4().hex}"  # this page only
    websocket.join(group)
    cross_process = settings.WEBSOCKET_GROUPS_URL is not None
    job = subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "fake_download", group],
        # With Redis the job sends to the group itself; in one process the
        # view relays what it prints.
        stdout=subprocess.DEVNULL if cross_process else subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    if not cross_process:
        threading.Thread(target=_relay_lines, args=(job, group), daemon=True).start()
    try:
        for _ in websocket:  # until the page closes
            pass
    finally:
        if job.poll() is None:
            job.kill()
        job.wait()


def _relay_lines(job, group):
    for line in job.stdout:
        send_to_group(group, line.rstrip(b"\n"))


def index(request):
    return render(request, "index.html")
