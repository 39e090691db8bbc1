"""Groups across processes and machines: Redis pub/sub through ``redis-py``.

* ``send_to_group`` **publishes** the ready frame (the C core's bytes, built
  once by the sender) on the Redis channel ``dwebsocket_c.group.<name>``: one
  ``PUBLISH``, whatever the number of members. A process with no websockets
  (Celery, a management command, ``manage.py shell``) only publishes and
  never subscribes.
* Each process that has members holds **one** subscriber connection, opened
  by the first ``join()`` (so after any fork: gunicorn ``-w N`` and uWSGI
  workers each open their own; never a connection inherited from a parent),
  subscribed to exactly the groups that have local members. Its loop runs in
  one thread: a greenlet under gevent or eventlet (their monkey-patching
  makes ``threading`` and ``socket`` green), so it never blocks the hub. It
  fans each message out to the local members (:mod:`.fanout`).
* Redis gone: the loop reconnects with backoff (0.1 s doubling to 2 s),
  subscribes again to every group with local members, logs how long it was
  gone and sends the :data:`~dwebsocket_c.groups.messages_lost` signal
  (messages published meanwhile are lost: at-most-once delivery).
  ``send_to_group`` meanwhile raises
  :class:`~dwebsocket_c.groups.GroupBackendError` naming the URL; views and
  their own ``send()`` keep working.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from .registry import deliver_local, registry

logger = logging.getLogger("dwebsocket_c.groups")

CHANNEL_PREFIX = b"dwebsocket_c.group."
CONNECT_TIMEOUT = 2.0  # seconds to open a connection to Redis
COMMAND_TIMEOUT = 5.0  # seconds for a PUBLISH (or SUBSCRIBE) to be answered
RECONNECT_MIN, RECONNECT_MAX = 0.1, 2.0  # subscriber's backoff, seconds
IDLE_READ = 5.0  # the subscriber's read timeout; with no group, it pings then
JOIN_CONFIRM_TIMEOUT = 2.0  # join() waits this long, at most, for Redis to confirm


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))


def channel_name(group: str) -> bytes:
    return CHANNEL_PREFIX + group.encode("utf-8")


def is_server_frame(data: bytes) -> bool:
    """One whole unmasked text/binary frame, as ``send_to_group`` publishes:
    anything else published on our channels is never written to a client."""
    if len(data) < 2 or data[0] not in (0x81, 0x82) or data[1] & 0x80:
        return False
    length, header = data[1], 2
    if length == 126:
        length, header = int.from_bytes(data[2:4], "big"), 4
    elif length == 127:
        length, header = int.from_bytes(data[2:10], "big"), 10
    return len(data) == header + length


class RedisBackend:
    """Publishes group messages; subscribes (lazily) for local members."""

    def __init__(self, url: str, error_class: type[Exception]) -> None:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError:
            raise ImproperlyConfigured(
                f"WEBSOCKET_GROUPS_URL is {redacted(url)!r} but the redis package is not "
                "installed: pip install 'dwebsocket-c[redis]'"
            ) from None
        self.url = url
        self.safe_url = redacted(url)
        self._redis = redis
        self._error_class = error_class
        # No retries inside redis-py: a failed PUBLISH is reported at once,
        # and the subscriber sees every disconnection (and logs the gap).
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=COMMAND_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
        self._subscriber: Subscriber | None = None
        self._lock = threading.Lock()

    def publish(self, group: str, frame: bytes) -> None:
        try:
            self.client.publish(channel_name(group), frame)
        except (self._redis.RedisError, OSError) as exc:
            raise self._error_class(
                f"send_to_group({group!r}): could not publish to Redis at {self.safe_url}: {exc}"
            ) from exc

    def sync(self, group: str) -> None:
        """Subscribe to ``group`` or unsubscribe, as its local members say."""
        if self._subscriber is None:
            if not registry.has_members(group):
                return
            with self._lock:
                if self._subscriber is None:
                    self._subscriber = Subscriber(self)
        self._subscriber.sync(group)

    def close(self) -> None:
        """Stop the subscriber and close the connections (tests, shutdown)."""
        subscriber, self._subscriber = self._subscriber, None
        if subscriber is not None:
            subscriber.stop()
        self.client.close()


class Subscriber:
    """The process's one pub/sub connection and the thread that reads it."""

    def __init__(self, backend: RedisBackend) -> None:
        self.backend = backend
        self.lock = threading.Lock()
        self.wanted: set[bytes] = set()  # channels that have local members
        self.pubsub: Any = None  # while connected
        self.confirmations: dict[bytes, threading.Event] = {}
        self.down_since: float | None = None
        self.reconnects = 0
        self._stopping = False
        self.thread = threading.Thread(
            target=self._run, name="dwebsocket_c group subscriber", daemon=True
        )
        self.thread.start()

    def sync(self, group: str) -> None:
        channel = channel_name(group)
        event = None
        with self.lock:
            want = registry.has_members(group)
            if want == (channel in self.wanted):
                return
            pubsub = self.pubsub
            if want:
                self.wanted.add(channel)
                if self.down_since is None:
                    event = self.confirmations.setdefault(channel, threading.Event())
            else:
                self.wanted.discard(channel)
                self.confirmations.pop(channel, None)
            if pubsub is not None:
                try:
                    if want:
                        pubsub.subscribe(channel)
                    else:
                        pubsub.unsubscribe(channel)
                except (self.backend._redis.RedisError, OSError) as exc:
                    # The loop notices too, reconnects and subscribes again.
                    logger.debug("(un)subscribe %r failed: %s", group, exc)
                    event = None
        if event is not None and not event.wait(JOIN_CONFIRM_TIMEOUT):
            logger.warning(
                "Redis at %s did not confirm the subscription to group %r within %s s",
                self.backend.safe_url, group, JOIN_CONFIRM_TIMEOUT,
            )

    def stop(self) -> None:
        self._stopping = True
        with self.lock:
            pubsub, self.pubsub = self.pubsub, None
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:
                pass

    def _run(self) -> None:
        redis = self.backend._redis
        backoff = RECONNECT_MIN
        while not self._stopping:
            pubsub = self.backend.client.pubsub()
            try:
                with self.lock:
                    channels = sorted(self.wanted)
                    if channels:
                        pubsub.subscribe(*channels)
                    else:
                        pubsub.ping()  # connects: an unreachable Redis shows now
                    self.pubsub = pubsub
                    down_since, self.down_since = self.down_since, None
                backoff = RECONNECT_MIN
                if down_since is not None:
                    self._back(time.monotonic() - down_since)
                while not self._stopping:
                    message = pubsub.get_message(timeout=IDLE_READ)
                    if message is not None:
                        self._handle(message)
                    elif not pubsub.subscribed:
                        pubsub.ping()  # no group: nothing is read, so look at the connection
            except (redis.RedisError, OSError) as exc:
                self._lost(pubsub, exc)
            except Exception:  # a bug: keep the process's groups alive anyway
                logger.exception("group subscriber: unexpected error")
                self._lost(pubsub, None)
            else:
                self._lost(pubsub, None)
                return
            time.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = message["channel"]
        if kind == "message":
            data = message["data"]
            if channel.startswith(CHANNEL_PREFIX) and is_server_frame(data):
                deliver_local(channel[len(CHANNEL_PREFIX):].decode("utf-8", "replace"), data)
            else:
                logger.warning("ignoring a message on %r that send_to_group did not publish", channel)
        elif kind == "subscribe":
            with self.lock:
                event = self.confirmations.pop(channel, None)
            if event is not None:
                event.set()

    def _lost(self, pubsub: Any, exc: BaseException | None) -> None:
        with self.lock:
            self.pubsub = None
            waiting = list(self.confirmations.values())
            self.confirmations.clear()
            first = self.down_since is None
            if first and not self._stopping:
                self.down_since = time.monotonic()
        for event in waiting:  # nobody waits for a confirmation that will not come
            event.set()
        try:
            pubsub.close()  # its socket: no fd kept across reconnects
        except Exception:
            pass
        if first and not self._stopping:
            logger.warning(
                "Lost the connection to Redis at %s (%s); reconnecting. Group messages "
                "published until it is back are lost.", self.backend.safe_url, exc,
            )

    def _back(self, gap: float) -> None:
        from . import messages_lost

        self.reconnects += 1
        groups = [c[len(CHANNEL_PREFIX):].decode("utf-8", "replace") for c in sorted(self.wanted)]
        logger.warning(
            "Redis at %s is back after %.1f s; subscribed again to %d group(s). "
            "Group messages published meanwhile were lost.",
            self.backend.safe_url, gap, len(groups),
        )
        messages_lost.send_robust(
            sender=RedisBackend, groups=groups, seconds=gap, url=self.backend.safe_url
        )
