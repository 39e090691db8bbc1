"""Log lines for refused WebSocket handshakes, rate-limited per reason.

A refused handshake (400, 403, 426, 501) is answered with a reason in the
response body, which no browser shows; so the server's log says it too, on
the ``dwebsocket_c`` logger, one line per refusal::

    WebSocket handshake refused with 403 (GET /chat/ from 127.0.0.1): Origin 'http://localhost:8000' is not this site (http://127.0.0.1:8000) ...

Any client can send bad handshakes as fast as it likes, so each *reason*
(a fixed category such as ``"origin"``, never a value the client chose) is
logged at most once per :data:`INTERVAL` seconds per process. The next line
logged for that reason says how many were left out since the previous one
(``[37 more refusals for the same reason were not logged since 12:00:01]``).

The answer itself is built by :func:`refusal_response`, marked as logged so
that Django's ``django.request`` logger does not add a line of its own per
request (``Bad Request: /chat/``), which would let a client flood the log
all the same.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("dwebsocket_c")

#: Seconds between two log lines of one reason.
INTERVAL = 10.0

#: Client-chosen text (an Origin, a header) is cut to this many characters in
#: a log line.
MAX_QUOTED = 200


def printable(value: str) -> str:
    """``value`` as it goes in a log line: escaped like ``repr()`` (no raw
    newline or control character a client could forge log lines with), and
    cut short."""
    text = repr(value[:MAX_QUOTED])[1:-1]
    if len(value) > MAX_QUOTED:
        text += f"... ({len(value)} characters)"
    return text


def quoted(value: str | None) -> str:
    """:func:`printable` in quotes; ``(none)`` for a missing value."""
    return "(none)" if value is None else f"'{printable(value)}'"


class RefusalLog:
    """At most one log line per reason per ``interval`` seconds, thread-safe.

    ``clock`` is a monotonic clock in seconds (a parameter for the tests);
    the time shown in the suppression note is the wall-clock time.
    """

    def __init__(
        self,
        log: logging.Logger = logger,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        # reason -> (monotonic time of its last line, wall time of it, suppressed since)
        self._state: dict[str, tuple[float, float, int]] = {}

    def refused(self, reason: str, level: int, message: str, *args: Any) -> bool:
        """Log ``message % args`` at ``level`` unless ``reason`` was logged
        less than ``interval`` seconds ago; return whether it was logged."""
        now = self._clock()
        with self._lock:
            last = self._state.get(reason)
            if last is not None and now - last[0] < self._interval:
                self._state[reason] = (last[0], last[1], last[2] + 1)
                return False
            self._state[reason] = (now, time.time(), 0)
        if last is not None and last[2]:
            since = time.strftime("%H:%M:%S", time.localtime(last[1]))
            message += " [%d more refusals for the same reason were not logged since %s]"
            args = (*args, last[2], since)
        self._log.log(level, message, *args)
        return True


#: The process's refusal log (the handshake and the session use it).
refusal_log = RefusalLog()


def log_refusal(
    reason: str, status: int, request: HttpRequest, why: str, level: int = logging.WARNING
) -> bool:
    """Log that the handshake of ``request`` was refused with ``status``
    because ``why`` (rate-limited by ``reason``)."""
    return refusal_log.refused(
        reason,
        level,
        "WebSocket handshake refused with %d (%s %s from %s): %s",
        status,
        request.method or "?",
        printable(request.path),
        request.META.get("REMOTE_ADDR") or "an unknown address",
        why,
    )


def refusal_response(status: int, reason: str) -> HttpResponse:
    """The plain-text answer of a refused handshake. Logged by
    :func:`log_refusal` already, so Django's own line for every 4xx/5xx
    response is left out (``django.utils.log.log_response`` skips a response
    it has logged)."""
    response = HttpResponse(reason, status=status, content_type="text/plain; charset=utf-8")
    response._has_been_logged = True
    return response
