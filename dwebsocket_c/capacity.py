"""How many WebSockets one server process may hold open at once.

On a server with a fixed pool of threads (gunicorn ``-k gthread --threads N``,
uWSGI ``--threads N``) every open WebSocket holds one thread for as long as it
lives. Without a bound, N idle sockets from anyone leave no thread for plain
HTTP, and the whole site stops answering. So on such servers the library
keeps a reserve of threads for HTTP and refuses the WebSocket handshakes
beyond the rest with ``503 Service Unavailable`` and ``Retry-After``:

* ``WEBSOCKET_MAX_CONNECTIONS = None`` (the default): on a thread pool of N
  threads, at most ``N - reserve`` open WebSockets per process, where
  ``reserve = max(2, ceil(N / 10))`` (N = 50: 45 WebSockets, 5 threads for
  HTTP), and at least 1. Servers with no such pool are not bounded:
  runserver (a new thread per connection), gevent and eventlet (a greenlet
  per connection: thousands are cheap).
* ``WEBSOCKET_MAX_CONNECTIONS = <int>``: that bound, on every server.

The first WebSocket of a process logs the numbers (INFO); refusals are
logged like every refused handshake (:mod:`dwebsocket_c.refusals`: WARNING,
at most one line per 10 s, with a count of the others).
"""

from __future__ import annotations

import logging
import math
import threading
import weakref
from typing import Any

logger = logging.getLogger("dwebsocket_c")

#: Seconds a refused client is told to wait (``Retry-After``).
RETRY_AFTER = 5


def http_reserve(threads: int) -> int:
    """Threads of a pool of ``threads`` kept for plain HTTP."""
    return max(2, math.ceil(threads / 10))


def default_limit(threads: int) -> int:
    """Open WebSockets allowed on a pool of ``threads`` threads."""
    return max(1, threads - http_reserve(threads))


def thread_pool_size(environ: dict[str, Any]) -> tuple[str, int] | None:
    """The server's fixed thread pool, as (description, size), or None when
    its connections do not share one (runserver, gevent, eventlet)."""
    if "uwsgi.version" in environ:
        try:
            import uwsgi

            threads = int(uwsgi.opt.get("threads", 1) or 1)
        except (ImportError, TypeError, ValueError):
            return None
        return "uWSGI --threads", threads
    if "gunicorn.socket" in environ and environ.get("wsgi.multithread"):
        # gthread runs requests on a concurrent.futures.ThreadPoolExecutor:
        # its worker threads hold a weak reference to the executor. (gevent's
        # worker runs greenlets: no executor, no bound.)
        # threading._active, not current_thread(): under gevent that would
        # make a _DummyThread for every greenlet (~0.6 KiB each, kept).
        thread = threading._active.get(threading.get_ident())  # type: ignore[attr-defined]
        args = getattr(thread, "_args", None) or (None,)
        executor_ref = args[0]
        executor = executor_ref() if isinstance(executor_ref, weakref.ref) else None
        max_workers = getattr(executor, "_max_workers", None)
        if isinstance(max_workers, int) and max_workers > 0:
            return "gunicorn gthread --threads", max_workers
    return None


class ConnectionSlots:
    """The count of open WebSockets of this process, against its limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._announced = False

    def limit_for(self, environ: dict[str, Any], setting: int | None) -> int | None:
        """The bound for this process (None: unbounded); logged once."""
        if setting is not None:
            limit, why = setting, "WEBSOCKET_MAX_CONNECTIONS"
        else:
            pool = thread_pool_size(environ)
            if pool is None:
                limit, why = None, "no fixed thread pool"
            else:
                name, threads = pool
                limit = default_limit(threads)
                why = (f"{name} {threads}: {threads - limit} threads kept for plain HTTP; "
                       "set WEBSOCKET_MAX_CONNECTIONS to change it, or serve many "
                       "WebSockets with gunicorn -k gevent")
        if not self._announced:
            self._announced = True
            if limit is None:
                logger.info("No limit on open WebSockets per process (%s)", why)
            else:
                logger.info("At most %d open WebSockets per process (%s)", limit, why)
        return limit

    def acquire(self, limit: int | None) -> bool:
        """Take a slot; False when ``limit`` are open already."""
        with self._lock:
            if limit is None or self._open < limit:
                self._open += 1
                return True
            return False

    def release(self) -> None:
        with self._lock:
            self._open -= 1


#: The process's slots (each worker process has its own after the fork).
slots = ConnectionSlots()
