"""Socket I/O for :class:`~dwebsocket_c.websocket.WebSocket`: one socket object
per connection, the server's own, with per-direction timeouts.

A connection is read by one thread (or greenlet) at a time, under the
WebSocket's receive lock, and written by one at a time, under its send lock,
but a read and a write may run at once (a view blocked in ``wait()`` while a
broadcast thread sends). Each direction needs its own timeout: a reader
sleeping until the next keepalive must not give a concurrent write that
deadline, nor a non-blocking read make a write fail half-way through a
frame. CPython's ``settimeout()`` is one value per socket object (and costs
an ``ioctl(FIONBIO)`` plus a ``poll()`` before every ``recv``/``send``), so
the two transports below do without it:

:class:`NativeTransport` (``runserver``, gunicorn ``gthread``, uWSGI: a real
    OS socket). The socket stays in blocking mode and the C
    :class:`~dwebsocket_c._core.Connection` reads and writes it: reads wait
    in the kernel under ``SO_RCVTIMEO`` (set only when the wanted value
    changes: while nothing but keepalive bounds a read it stays put, so an
    echo loop makes no ``setsockopt`` at all), writes are ``MSG_DONTWAIT``
    and wait for room with ``poll()`` up to the send timeout. One round trip
    costs two system calls: ``recvfrom`` and ``sendto``. ``SO_SNDTIMEO``
    (set once) bounds the writes made here, by a group member's outbox.

:class:`GreenTransport` (gevent, eventlet: the library's cooperative socket).
    Under gevent the C Connection reads the OS socket under it without
    waiting and, when nothing is there, :meth:`GreenTransport.wait_readable`
    waits in the hub; eventlet's reads go through its socket object. Writes
    are one non-blocking ``send`` in C; what the socket did not take goes
    through the library's socket (:meth:`GreenTransport.write_rest`).
    The socket's own timeout stays ``None`` at every point where a greenlet
    can switch; a blocking read or write runs under a ``gevent.Timeout`` /
    ``eventlet.Timeout`` of its own (``adapter.make_timeout``) that raises
    ``socket.timeout`` (the read's is kept and started again while its
    seconds fit, as ``SO_RCVTIMEO`` is). A non-blocking read or write sets the timeout to 0
    around one call that cannot switch (both libraries then call the OS
    directly and raise ``BlockingIOError``), so no other greenlet ever sees it.

Receive buffer (for the reads made here; the C Connection has its own, one
per OS thread too): bytes are copied out by the parser right after
``recv_into`` returns, with no thread or greenlet switch in between, so one
buffer per OS thread serves every connection that thread reads: a
``threading.local`` for native sockets (freed with the thread: runserver
starts a thread per connection), a dict keyed by the OS thread's ident for
green ones (``threading.local`` and ``threading.get_ident`` are per greenlet
under gevent/eventlet, so the library's original ``_thread.get_ident`` is
used; ``get_native_id`` would cost a ``gettid`` system call per read).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

#: Size of the receive buffer (one per OS thread, not per connection).
#: 256 KiB was no faster at 1 MiB messages (bench_e2e 1mx1, gthread: 535-560
#: vs 500-517 us of server CPU per round trip; gevent: 588-644 vs 530-588).
RECEIVE_BUFFER_SIZE = 65536

#: How far (a fraction of the wanted timeout, plus 1 ms) the read timeout
#: already set may be from the wanted one and still be kept, when only
#: keepalive bounds the read: waking a little early or late is harmless.
_KEEPALIVE_SLACK = 0.01

_TIMEVAL = struct.Struct("@ll")
_TIMEVAL_ZERO = _TIMEVAL.pack(0, 0)


def _timeval(seconds: float) -> bytes:
    """``struct timeval`` for ``SO_RCVTIMEO``/``SO_SNDTIMEO`` (0 means forever,
    so the shortest is 1 ms)."""
    seconds = max(seconds, 0.001)
    whole = int(seconds)
    return _TIMEVAL.pack(whole, int((seconds - whole) * 1e6))


def socket_library(sock: Any) -> str:
    """The top-level package that made ``sock``'s class: "gevent" and
    "eventlet" for their cooperative sockets, "socket" or "_socket" for OS
    sockets."""
    return type(sock).__module__.partition(".")[0]


def byte_length(data: Any) -> int:
    """The size in bytes of a bytes-like object (a memoryview's len() counts items)."""
    return data.nbytes if isinstance(data, memoryview) else len(data)


def is_native_socket(sock: Any) -> bool:
    """A plain OS socket (not gevent's or eventlet's wrapper, not TLS).

    ``socket.socket`` itself is not the test: gevent's monkey-patching
    replaces it; the C ``_socket.socket`` is never replaced.
    """
    import _socket
    import ssl

    return isinstance(sock, _socket.socket) and not isinstance(sock, ssl.SSLSocket)


class _ThreadBuffers(threading.local):
    """One receive buffer (and a memoryview of it) per OS thread."""

    def __init__(self) -> None:
        self.buffer = bytearray(RECEIVE_BUFFER_SIZE)
        self.view = memoryview(self.buffer)


# Created at import: if gevent patched threading first this would be per
# greenlet, but then no native socket is ever used.
_native_buffers = _ThreadBuffers()

_green_buffers: dict[int, tuple[bytearray, memoryview]] = {}


def _os_thread_ident(sock: Any) -> Callable[[], int]:
    """The unpatched ``_thread.get_ident`` of the library of ``sock``."""
    library = socket_library(sock)
    if library == "gevent":
        from gevent.monkey import get_original

        return get_original("_thread", "get_ident")
    if library == "eventlet":
        from eventlet.patcher import original

        return original("_thread").get_ident
    import _thread

    return _thread.get_ident


def _gevent_read_watcher(sock: Any) -> tuple[Any, Any, Any]:
    """For a gevent socket: the OS socket under it (non-blocking), its hub,
    and an idle read watcher of our own on it; else three Nones."""
    import _socket

    raw = getattr(sock, "_sock", None)
    if socket_library(sock) != "gevent" or not isinstance(raw, _socket.socket):
        return None, None, None
    from gevent import get_hub

    hub = get_hub()
    return raw, hub, hub.loop.io(raw.fileno(), 1)


def _green_buffer(key: int) -> tuple[bytearray, memoryview]:
    entry = _green_buffers.get(key)
    if entry is None:
        buffer = bytearray(RECEIVE_BUFFER_SIZE)
        entry = _green_buffers[key] = (buffer, memoryview(buffer))
    return entry


class NativeTransport:
    """A blocking OS socket with ``SO_RCVTIMEO``/``SO_SNDTIMEO``; see the module docstring."""

    #: The socket's reads and writes are the C Connection's own.
    green = False
    c_reads = True

    def __init__(self, sock: socket.socket, send_timeout: float) -> None:
        self.sock = sock
        self._send_timeout = send_timeout
        sock.settimeout(None)  # blocking mode: the one ioctl of the session
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(send_timeout))
        self._rcvtimeo_set = False  # recv() set SO_RCVTIMEO

    def fileno(self) -> int:
        return self.sock.fileno()

    def receive(self, conn: Any, timeout: float | None, exact: bool = True) -> int | None:
        """One read by the Connection ``conn`` (which keeps ``SO_RCVTIMEO``):
        bytes read, 0 at EOF, None when nothing came within ``timeout``
        (None: without waiting). Raises OSError."""
        return conn.receive(timeout, exact)

    def recv(self, timeout: float, *, exact: bool = True) -> memoryview | None:
        """Read what arrives within ``timeout`` seconds, bypassing the
        parser (draining input at the end): a view of the thread's buffer
        (empty at EOF), or None on timeout. Raises OSError."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(timeout))
        self._rcvtimeo_set = True
        buffers = _native_buffers
        try:
            received = self.sock.recv_into(buffers.buffer)
        except BlockingIOError:  # EAGAIN: SO_RCVTIMEO expired
            return None
        return buffers.view[:received]

    def sendall(self, data: Any) -> None:
        """Write all of ``data`` within ``send_timeout`` seconds, else raise
        ``socket.timeout`` (some of it may have been written)."""
        sock = self.sock
        started = time.monotonic()
        try:
            sent = sock.send(data)
        except BlockingIOError:  # SO_SNDTIMEO expired, nothing written
            raise socket.timeout("send timed out") from None
        if sent != byte_length(data):
            with memoryview(data) as view, view.cast("B") as octets:
                self._send_rest(octets, sent, started + self._send_timeout)

    def _send_rest(self, view: memoryview, sent: int, deadline: float) -> None:
        """A partial send: SO_SNDTIMEO expired, or a signal came. The whole
        write gets ``send_timeout`` in all, not one per ``send()`` call."""
        sock = self.sock
        try:
            while sent < view.nbytes:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise socket.timeout("send timed out")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(remaining))
                try:
                    sent += sock.send(view[sent:])
                except BlockingIOError:
                    raise socket.timeout("send timed out") from None
        finally:
            try:
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(self._send_timeout)
                )
            except OSError:
                pass

    def wait_readable(self, timeout: float) -> None:
        """Never needed: the Connection's reads wait in the kernel."""
        raise AssertionError("a native Connection never says NEXT_WOULD_BLOCK")

    def write_rest(self, data: Any, sent: int) -> None:
        """Never needed: the Connection writes all of a frame or raises."""
        raise AssertionError("a native Connection.write() is never partial")

    def shutdown(self, how: int) -> None:
        self.sock.shutdown(how)

    def release(self, server_timeout: float | None) -> None:
        """Give the socket back as the server left it (its timeout, no SO_*TIMEO)."""
        sock = self.sock
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _TIMEVAL_ZERO)
            if self._rcvtimeo_set:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _TIMEVAL_ZERO)
                self._rcvtimeo_set = False
        except OSError:
            pass
        sock.settimeout(server_timeout)


class GreenTransport:
    """gevent's or eventlet's socket, timeouts by ``make_timeout``; see the module docstring."""

    green = True

    def __init__(
        self, sock: Any, send_timeout: float, make_timeout: Callable[[float, BaseException], Any]
    ) -> None:
        from greenlet import getcurrent

        self.sock = sock
        self._send_timeout = send_timeout
        self._make_timeout = make_timeout
        self._thread_ident = _os_thread_ident(sock)
        self._getcurrent = getcurrent
        # The read timeout, kept from one read to the next (see _read_timer).
        self._timer: Any = None
        self._timer_seconds = 0.0
        self._timer_greenlet: Any = None
        # gevent: read the OS socket ourselves, and after a read that had to
        # wait (a request-reply exchange) wait for data *before* the next
        # one: gevent's recv_into would first make a recv() that fails with
        # EAGAIN, a system call per message. eventlet: its socket's methods.
        self._raw, self._hub, self._read_watcher = _gevent_read_watcher(sock)
        self._wait_first = False
        # gevent: the C Connection reads the OS socket without waiting and
        # this transport waits in the hub (wait_readable). eventlet: reads
        # go through its socket object (receive()).
        self.c_reads = self._raw is not None
        sock.settimeout(None)

    def fileno(self) -> int:
        return (self._raw if self._raw is not None else self.sock).fileno()

    def receive(self, conn: Any, timeout: float | None, exact: bool = True) -> int | None:
        """As :meth:`NativeTransport.receive`: one read through the
        library's socket, fed to ``conn``."""
        chunk = self.recv_nowait() if timeout is None else self.recv(timeout, exact=exact)
        if chunk is None:
            return None
        with chunk:
            conn.feed(chunk)
            return chunk.nbytes

    def wait_readable(self, timeout: float) -> None:
        """gevent: wait in the hub until the socket is readable, or at most
        ``timeout`` seconds (the next keepalive action; the timer is kept
        from one wait to the next, as for reads)."""
        timer = self._read_timer(max(timeout, 0.001), False)
        timer.start()
        try:
            self._hub.wait(self._read_watcher)
        except socket.timeout:
            pass
        finally:
            timer.cancel()

    def write_rest(self, data: Any, sent: int) -> None:
        """The rest of ``data`` after a non-blocking write took ``sent``
        bytes, through the library's socket (waiting in the hub) within the
        send timeout; ``socket.timeout`` otherwise."""
        with memoryview(data) as view, view.cast("B") as octets:
            with self._make_timeout(self._send_timeout, socket.timeout("send timed out")):
                self.sock.sendall(octets[sent:])

    def _read_timer(self, seconds: float, exact: bool) -> Any:
        """A stopped ``Timeout`` of ``seconds`` for a read by this greenlet.

        Making one costs ~3 us (a Python object and a hub timer), a third of
        a small message's round trip in Python, so the last one is started
        again while it fits: same greenlet (an eventlet ``Timeout`` throws
        into the greenlet that made it), same seconds, or, when ``exact`` is
        False, seconds within ``_KEEPALIVE_SLACK``, as for ``SO_RCVTIMEO``.
        """
        timer = self._timer
        if timer is not None and self._timer_greenlet is self._getcurrent():
            held = self._timer_seconds
            if held == seconds or (not exact and abs(held - seconds) <= seconds * _KEEPALIVE_SLACK + 0.001):
                return timer
        timer = self._make_timeout(seconds, socket.timeout("timed out"))
        if timer.pending:  # eventlet's starts when made
            timer.cancel()
        self._timer, self._timer_seconds, self._timer_greenlet = timer, seconds, self._getcurrent()
        return timer

    def recv(self, timeout: float, *, exact: bool = True) -> memoryview | None:
        """As :meth:`NativeTransport.recv`."""
        sock = self.sock
        buffer, view = _green_buffer(self._thread_ident())
        timer = self._read_timer(max(timeout, 0.001), exact)
        timer.start()
        try:
            if self._raw is None:
                received = sock.recv_into(buffer)
            else:
                received = self._recv_gevent(buffer)
        except (BlockingIOError, socket.timeout):
            return None
        finally:
            timer.cancel()
        # No switch since recv_into returned: the thread's buffer is still ours.
        return view[:received]

    def _recv_gevent(self, buffer: bytearray) -> int:
        """Read once from the OS socket, waiting in the hub when there is
        nothing (first, when the last read had drained the socket)."""
        raw, hub, watcher = self._raw, self._hub, self._read_watcher
        if self._wait_first:
            hub.wait(watcher)
        while True:
            try:
                received = raw.recv_into(buffer)
                break
            except BlockingIOError:
                hub.wait(watcher)
        # A full buffer: more is waiting, read it at once next time.
        self._wait_first = received < len(buffer)
        return received

    def recv_nowait(self) -> memoryview | None:
        sock = self.sock
        buffer, view = _green_buffer(self._thread_ident())
        if self._raw is not None:
            try:
                return view[:self._raw.recv_into(buffer)]
            except BlockingIOError:
                return None
        sock.settimeout(0.0)  # no switch until it is None again
        try:
            received = sock.recv_into(buffer)
        except BlockingIOError:
            return None
        finally:
            sock.settimeout(None)
        return view[:received]

    def sendall(self, data: Any) -> None:
        """One non-blocking ``send`` (the whole frame, usually); the rest, if
        any, under a ``send_timeout`` timeout raising ``socket.timeout``."""
        sock = self.sock
        try:
            if self._raw is not None:
                sent = self._raw.send(data)
            else:
                sock.settimeout(0.0)  # no switch until it is None again
                try:
                    sent = sock.send(data)
                finally:
                    sock.settimeout(None)
        except BlockingIOError:
            sent = 0
        if sent != byte_length(data):
            with memoryview(data) as view, view.cast("B") as octets:
                with self._make_timeout(self._send_timeout, socket.timeout("send timed out")):
                    sock.sendall(octets[sent:])

    def shutdown(self, how: int) -> None:
        self.sock.shutdown(how)

    def release(self, server_timeout: float | None) -> None:
        if self._read_watcher is not None:
            self._read_watcher.close()
            self._raw = self._hub = self._read_watcher = None
        self.sock.settimeout(server_timeout)


def make_transport(
    sock: Any, send_timeout: float, make_timeout: Callable[[float, BaseException], Any] | None
) -> NativeTransport | GreenTransport:
    """The transport for ``sock``: native for a plain OS socket, else green
    (then ``make_timeout`` must be given)."""
    if is_native_socket(sock):
        return NativeTransport(sock, send_timeout)
    if make_timeout is None:
        raise TypeError(f"a {type(sock).__name__} needs make_timeout (gevent or eventlet)")
    return GreenTransport(sock, send_timeout, make_timeout)
