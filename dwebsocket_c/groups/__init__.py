"""Groups: push to WebSockets from anywhere (another view, another worker
process, another machine, a Celery task, a management command).

In a WebSocket view::

    request.websocket.join("news")          # leave("news"); a closed connection leaves all
    request.websocket.join_user(request.user)  # every tab of this user: group user_group(user)
    for message in request.websocket:       # group messages go straight to the socket
        ...

Anywhere that has Django settings::

    from dwebsocket_c import send_to_group
    send_to_group("news", "hello")          # str: text; bytes: text (UTF-8) or binary=True
    send_to_user(user, "your download is ready")

Backends, chosen by ``WEBSOCKET_GROUPS_URL``:

* ``None`` (the default): **in-process**. ``send_to_group`` reaches the members
  held by the threads or greenlets of the calling process only.
* ``"redis://host:6379/0"``, ``"rediss://..."``, ``"unix:///path/redis.sock"``:
  **Redis pub/sub** (``pip install 'dwebsocket-c[redis]'``), every process and
  machine on that Redis; see :mod:`.redis_backend`.

Delivery is at most once and in order per sender: a member gets the messages
sent to its groups while it is a member, in the order each sender sent them.
Nothing is stored: a message published while Redis is unreachable (or while
the subscriber reconnects) is lost, and :data:`messages_lost` tells the
process's code so that pages can re-sync. A member that cannot keep up is
disconnected instead of holding up the others (see :mod:`.fanout`).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from django.conf import settings
from django.dispatch import Signal

from .. import _core
from ..exceptions import ConnectionClosed, WebSocketError
from ..message import outgoing
from .fanout import Member, OutboxTransport, stats
from .registry import check_group_name, deliver_local, registry

__all__ = [
    "send_to_group",
    "send_to_user",
    "user_group",
    "messages_lost",
    "GroupBackendError",
    "stats",
]

#: Sent (from the subscriber's thread) when the connection to Redis came back
#: after a gap: ``groups`` (the names with local members), ``seconds`` (how
#: long it was gone), ``url`` (without password). Messages published during
#: the gap were lost; a receiver can tell the pages to re-sync, e.g.
#: ``send_to_group(group, '{"type": "resync"}')`` for each group.
messages_lost = Signal()

DEFAULT_OUTBOX_LIMIT = 4 * 1024 * 1024


class GroupBackendError(WebSocketError):
    """The group backend (Redis) cannot be reached; the message names its URL."""


# ------------------------------------------------------------------ backends


class InProcessBackend:
    """Members of this process only (``WEBSOCKET_GROUPS_URL = None``)."""

    def publish(self, group: str, frame: bytes) -> None:
        deliver_local(group, frame)

    def sync(self, group: str) -> None:
        pass

    def close(self) -> None:
        pass


_backends: dict[str | None, Any] = {}
_backends_pid = 0
_backends_lock = threading.Lock()


def groups_url() -> str | None:
    return getattr(settings, "WEBSOCKET_GROUPS_URL", None)


def get_backend() -> Any:
    """The backend for ``WEBSOCKET_GROUPS_URL``, made once per process (a
    child of a fork makes its own: connections are never shared with a parent)."""
    global _backends_pid
    url = groups_url()
    pid = os.getpid()
    backend = _backends.get(url) if _backends_pid == pid else None
    if backend is None:
        with _backends_lock:
            if _backends_pid != pid:
                _backends.clear()  # the parent's: dropped, never closed (its sockets are shared)
                _backends_pid = pid
            backend = _backends.get(url)
            if backend is None:
                backend = _backends[url] = _make_backend(url)
    return backend


def _make_backend(url: str | None) -> Any:
    if url is None:
        return InProcessBackend()
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f'WEBSOCKET_GROUPS_URL must be None or a Redis URL ("redis://", "rediss://" '
            f'or "unix://"), not {url!r}.'
        )
    from .redis_backend import RedisBackend

    return RedisBackend(url, GroupBackendError)


def reset_backends() -> None:
    """Close every backend of this process (tests; settings changed)."""
    with _backends_lock:
        for backend in _backends.values():
            backend.close()
        _backends.clear()


# ---------------------------------------------------------------- messages


def build_group_frame(message: Any, binary: bool = False) -> bytes:
    """The frame every member gets: the same rules as ``WebSocket.send()``."""
    opcode, payload = outgoing(
        message, binary or None, sender="send_to_group()", binary_hint="pass binary=True"
    )
    return _core.build_frame(opcode, payload)


def send_to_group(group: str, message: str | bytes, binary: bool = False) -> None:
    """Send ``message`` to every WebSocket in ``group``, on every process
    that shares the backend. Never blocks on a slow member.

    ``str`` is sent as text; ``bytes`` as text too (they must be UTF-8, else
    :class:`~dwebsocket_c.exceptions.InvalidTextError`), or as binary with
    ``binary=True``. Raises :class:`GroupBackendError` when Redis cannot be
    reached.
    """
    name = check_group_name(group)
    frame = build_group_frame(message, binary)
    get_backend().publish(name, frame)


def user_group(user: Any) -> str:
    """The group of every connection of ``user`` (a user object or its primary key)."""
    pk = getattr(user, "pk", user)
    if pk is None or isinstance(pk, bool) or not isinstance(pk, (int, str)):
        raise ValueError(f"user_group() needs a saved user or a primary key, not {user!r}")
    return f"user.{pk}"


def send_to_user(user: Any, message: str | bytes, binary: bool = False) -> None:
    """``send_to_group(user_group(user), message, binary)``: every tab of ``user``."""
    send_to_group(user_group(user), message, binary)


# ------------------------------------------------------------- membership


def _outbox_limit() -> int:
    return getattr(settings, "WEBSOCKET_GROUP_OUTBOX_LIMIT", DEFAULT_OUTBOX_LIMIT)


def _require_green_patching(websocket: Any) -> None:
    """gevent/eventlet sockets: the writer and subscriber threads are only
    green (never block the hub, may take the connection's green lock) when
    ``threading`` is monkey-patched."""
    from .._transport import socket_library

    library = socket_library(websocket._transport.sock)
    if library == "gevent":
        from gevent.monkey import is_module_patched

        patched = is_module_patched("threading")
    elif library == "eventlet":
        from eventlet.patcher import is_monkey_patched

        patched = is_monkey_patched("thread")
    else:
        return
    if not patched:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"WebSocket groups under {library} need its monkey-patching "
            f"({'gevent.monkey.patch_all()' if library == 'gevent' else 'eventlet.monkey_patch()'}"
            " before Django starts); gunicorn's gevent worker does it."
        )


def join_group(websocket: Any, group: str) -> None:
    name = check_group_name(group)
    if websocket.closed:
        raise ConnectionClosed(websocket.close_code, websocket.close_reason)
    member = websocket._group_member
    if member is None:
        _require_green_patching(websocket)
        member = Member(websocket, _outbox_limit(), websocket._transport._send_timeout)
        with websocket._send_lock:
            websocket._transport = OutboxTransport(websocket._transport, member)
            websocket._group_member = member
    if name in member.groups:
        return
    member.groups.add(name)
    if registry.add(name, member):
        get_backend().sync(name)


def leave_group(websocket: Any, group: str) -> None:
    name = check_group_name(group)
    member = websocket._group_member
    if member is None or name not in member.groups:
        return
    member.groups.discard(name)
    if registry.remove(name, member):
        get_backend().sync(name)


def leave_all_groups(websocket: Any) -> None:
    member = websocket._group_member
    if member is None:
        return
    for name in list(member.groups):
        leave_group(websocket, name)
