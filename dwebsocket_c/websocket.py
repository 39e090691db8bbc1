"""``request.websocket``: one open WebSocket connection, seen from a view.

The protocol itself (frames, masking, UTF-8, close codes) is done by the C
core :mod:`dwebsocket_c._core`, and so is the per-message I/O: a
:class:`~dwebsocket_c._core.Connection` reads the socket, feeds the parser,
keeps the received messages and writes frames, so that ``wait()`` and
``send()`` are one C call each while the connection is open. This class is
the policy around it: locks, keepalive, the closing handshake, the end of a
connection, groups.

Receiving
---------
Nothing runs in the background: there is no thread per connection. Bytes are
read from the socket only inside :meth:`WebSocket.wait`, :meth:`~WebSocket.read`,
:meth:`~WebSocket.count_messages`, :meth:`~WebSocket.has_messages`, iteration,
and (at most once a second, without blocking) :meth:`~WebSocket.send`. While
reading, the connection also

* answers the client's pings with pongs,
* answers the client's close frame (the closing handshake) and closes TCP,
* closes with the code the protocol core names when the client breaks the
  protocol (1002, 1007), or sends a message over ``WEBSOCKET_MAX_MESSAGE_SIZE``
  (1009),
* pings the client after ``WEBSOCKET_PING_INTERVAL`` seconds of silence and
  drops the connection (close 1011, then TCP) if nothing comes back within
  ``WEBSOCKET_PING_TIMEOUT``. ``wait()`` sleeps in the socket with a timeout
  so that it wakes up to do this.

**A view that neither reads nor sends** (it sleeps, or blocks on something
else) does none of this meanwhile: the client's pings go unanswered (the
``websockets`` client gives up after its own ping timeout, 20 s + 20 s by
default) and a dead client is only noticed at the next read or send. Such a
view should call ``wait(timeout=...)`` in its loop instead of sleeping. A view
that only pushes (``send()`` in a loop) is fine: ``send()`` looks at what the
client sent, without blocking, at most once a second.

Sending
-------
``send()`` may be called from several threads (or greenlets) at once, e.g. a
broadcast loop and the view itself: each frame is written whole under a lock,
so frames never interleave. ``send(str)`` sends a text message; ``send(bytes)``
also sends *text* (as the original dwebsocket did) after checking the bytes
are UTF-8, and raises :class:`~dwebsocket_c.exceptions.InvalidTextError`
otherwise; binary data goes with ``send(data, binary=True)`` or
``send_bytes(data)``. A received :class:`~dwebsocket_c.message.Message` is
sent back as the kind it is. Sending on a closed connection raises
:class:`~dwebsocket_c.exceptions.ConnectionClosed`.

Closing
-------
``close(code=1000, reason="")`` sends a close frame, waits up to
``WEBSOCKET_CLOSE_TIMEOUT`` for the client's, then shuts TCP down. When the
view returns, the connection is closed this way for it if it is still open.
``close_code`` / ``close_reason`` are what the client sent: 1005 for an empty
close frame, 1006 when TCP ended without one, ``None`` while open.

Sockets
-------
The connection uses the server's own socket object (one file descriptor per
connection) and never closes it: at the end it shuts TCP down, gives the
socket its timeout (blocking mode) back, and the server closes it. Reads and
writes keep separate timeouts without ``settimeout()`` (see
:mod:`dwebsocket_c._transport`): ``SO_RCVTIMEO``/``SO_SNDTIMEO`` on an OS
socket, a ``gevent.Timeout``/``eventlet.Timeout`` per blocking operation on
a green one. So a reader waking up for keepalive, or looking without
blocking, can never make a concurrent write fail half-way through a frame.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from . import _core
from ._transport import byte_length, make_transport
from .exceptions import ConnectionClosed
from .message import BinaryMessage, Message, TextMessage, outgoing

logger = logging.getLogger("dwebsocket_c")

#: How often, at most, ``send()`` looks (without blocking) at incoming data.
SEND_SERVICE_INTERVAL = 1.0

#: Timeout used for a blocking read when nothing else bounds it (the loop
#: simply reads again). The receive buffer is one per OS thread, shared by
#: connections: see :mod:`dwebsocket_c._transport`.
IDLE_READ_SLICE = 3600.0

#: How long the end of the connection (the client's close frame, or a
#: protocol error) waits for a view that does not read the messages that came
#: before it, once ``send()`` looks at the connection again.
DEFERRED_END_GRACE = 1.0

#: ``send()``, ``read()``, ``count_messages()`` and ``has_messages()`` read
#: from the socket only while the messages waiting for the view hold fewer
#: bytes than this (or than ``max_message_size``, if bigger): a client that
#: floods a view that only sends is then held back by TCP instead of filling
#: the server's memory.
RECEIVE_QUEUE_LIMIT = 1048576

#: Payloads up to this size are copied after their header and written with
#: one ``sendall``; bigger ones are written as header, then payload.
COALESCE_LIMIT = 65536

_OPEN, _CLOSING, _CLOSED = "open", "closing", "closed"

_OP_TEXT = _core.OP_TEXT
_OP_BINARY = _core.OP_BINARY
_NEXT_EVENTS = _core.NEXT_EVENTS
_NEXT_KEEPALIVE = _core.NEXT_KEEPALIVE
_NEXT_EOF = _core.NEXT_EOF
_NEXT_WOULD_BLOCK = _core.NEXT_WOULD_BLOCK


class WebSocket:
    """One WebSocket connection (``request.websocket``).

    Created by the library after the handshake; a view never builds one.
    """

    def __init__(
        self,
        sock: socket.socket,
        *,
        max_message_size: int | None = 1048576,
        ping_interval: float | None = 20,
        ping_timeout: float = 20,
        close_timeout: float = 10,
        send_timeout: float = 30,
        text_as_str: bool = False,
        subprotocol: str | None = None,
        lock_factory: Callable[[], Any] = threading.Lock,
        server_timeout: float | None = None,
        make_timeout: Callable[[float, BaseException], Any] | None = None,
        initial_data: bytes = b"",
        legacy_api: bool = False,
        deflate: dict[str, Any] | None = None,
    ) -> None:
        # The server's timeout (its blocking mode), restored at the end.
        self._server_timeout = server_timeout
        # The server's own socket: see "Sockets" above. ``make_timeout``
        # (gevent/eventlet only) builds the per-operation timeouts.
        self._transport = make_transport(sock, send_timeout, make_timeout)

        # ``deflate``: the permessage-deflate parameters of the handshake
        # (None: not negotiated). The parser inflates, the encoder deflates.
        parser = _core.FrameParser(max_message_size=max_message_size, deflate=deflate)
        self._encoder = _core.FrameEncoder(deflate=deflate)
        # The per-message work in C (csrc/connection.c): the socket reads
        # and writes, the parser, the queue of received messages the view
        # has not read (with WEBSOCKET_TEXT_AS_STR a text message waits as
        # bytes and is decoded when read) and the keepalive clock.
        transport = self._transport
        self._conn = _core.Connection(
            transport.fileno(), parser, TextMessage, BinaryMessage,
            text_as_str=text_as_str, green=transport.green, send_timeout=send_timeout,
        )
        # The keepalive clock is the Connection's (it sees every byte arrive).
        self._conn.ping_interval = ping_interval
        self._conn.ping_timeout = ping_timeout
        # The one-call path of wait(): a socket that C can read (an OS
        # socket, or gevent's non-blocking one). eventlet's goes through
        # its own socket object (_recv_once).
        self._fast_reads = transport.c_reads
        self._queue_limit = max(max_message_size or 0, RECEIVE_QUEUE_LIMIT)

        self._close_timeout = close_timeout
        #: The subprotocol chosen in the handshake (``WEBSOCKET_SUBPROTOCOLS``), or None.
        self.subprotocol = subprotocol

        self._send_lock = lock_factory()
        self._recv_lock = lock_factory()
        # dwebsocket 0.5's end-of-connection signals (WEBSOCKET_LEGACY_API).
        self._legacy_api = legacy_api
        # The thread (greenlet) that runs the view: a send() on a closed
        # connection raises only there; see send().
        self._owner = threading.get_ident()

        self._state = _OPEN
        self._close_received = False
        self._transport_down = False  # TCP shut down (by us or by the peer)
        self._shutdown_called = False  # shutdown(SHUT_RDWR) done on our socket
        # The client's close, or a protocol error, that arrived behind
        # messages the view has not read yet: run once they are read.
        self._deferred_end: Callable[[], None] | None = None
        self._deferred_since = 0.0
        self._sockets_released = False
        #: The code of the client's close frame (1005: empty, 1006: none came).
        self.close_code: int | None = None
        #: The reason of the client's close frame.
        self.close_reason: str = ""

        self._next_send_service = time.monotonic() + SEND_SERVICE_INTERVAL

        if initial_data:
            # Frames the server had read along with the handshake (a client
            # or proxy that coalesced them): they come first.
            with self._recv_lock:
                self._conn.feed(initial_data)
                self._handle_events()

    @property
    def _close_sent(self) -> bool:
        """Our close frame is out (or half a frame): no more frames, and
        received data messages are dropped (nobody will read them)."""
        return self._conn.discard

    @_close_sent.setter
    def _close_sent(self, value: bool) -> None:
        self._conn.discard = value

    # ------------------------------------------------------------------ state

    @property
    def closed(self) -> bool:
        """True once closing started (either side) or TCP is gone: no more sends."""
        return self._state != _OPEN

    def is_closed(self) -> bool:
        """Same as :attr:`closed` (the original dwebsocket's spelling)."""
        return self._state != _OPEN

    def __repr__(self) -> str:
        return f"<WebSocket {self._state} close_code={self.close_code}>"

    # ---------------------------------------------------------------- receive

    def wait(self, timeout: float | None = None) -> Message | str | None:
        """The next message, blocking until one arrives.

        Returns ``None`` when the connection is closed (messages that arrived
        before the close are returned first), or when ``timeout`` seconds pass
        without a message — the connection then stays open; tell the two
        apart with :meth:`is_closed`. Several threads may wait at once: each
        message goes to exactly one of them, and all get ``None`` at the end.
        """
        if timeout is None and self._fast_reads:
            message = self._wait_fast()
            if message is not None:
                return message
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            message = self._pop_message()
            if message is not None:
                return message
            if self._deferred_end is not None:
                with self._recv_lock:
                    self._run_deferred_end(force=True)
            if self._receiving_finished():
                return None
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            acquired = (
                self._recv_lock.acquire()
                if remaining is None
                else self._recv_lock.acquire(timeout=remaining)
            )
            if not acquired:
                return None
            try:
                if not self._conn.queued and not self._receiving_finished():
                    self._receive_blocking(deadline)
            finally:
                self._recv_lock.release()

    def _wait_fast(self) -> Message | str | None:
        """wait() without a timeout while the connection is open: a loop
        around ``Connection.next()``, one C call per message. Returns None
        when the connection is no longer open (wait() goes on its way)."""
        conn = self._conn
        while self._state is _OPEN and self._deferred_end is None:
            message = conn.pop()  # one that a concurrent reader queued
            if message is not None:
                return message
            with self._recv_lock:
                while self._state is _OPEN and self._deferred_end is None:
                    try:
                        result = conn.next()
                        if not isinstance(result, int):
                            return result
                        if result == _NEXT_WOULD_BLOCK:
                            # A socket closed by another greenlet raises here.
                            self._transport.wait_readable(conn.read_timeout())
                            continue
                    except OSError as exc:
                        self._connection_lost(f"receive failed: {exc}")
                        return None
                    if result == _NEXT_EVENTS:
                        self._handle_events()
                    elif result == _NEXT_KEEPALIVE:
                        self._keepalive()
                    elif result == _NEXT_EOF:
                        self._connection_lost("the client closed TCP without a close frame")
                    # _NEXT_TIMEOUT: the read timeout ran out; look at keepalive again
        return None

    def read(self, fallback: Any = None) -> Message | str | Any:
        """The next message if one has already arrived, else ``fallback``.

        Never blocks. (With ``WEBSOCKET_LEGACY_API``, ``None`` once the
        connection has ended, as dwebsocket 0.5 did.)
        """
        self._receive_available()
        message = self._pop_message()
        if message is not None:
            return message
        if self._deferred_end is not None and self._recv_lock.acquire(blocking=False):
            try:
                self._run_deferred_end(force=True)
            finally:
                self._recv_lock.release()
        if self._legacy_api and self._receiving_finished():
            return None
        return fallback

    def count_messages(self) -> int:
        """How many received messages are waiting to be read. Never blocks."""
        self._receive_available()
        return self._conn.queued

    def has_messages(self) -> bool:
        """Whether a received message is waiting to be read. Never blocks.

        With ``WEBSOCKET_LEGACY_API``, also True once the connection has
        ended (then :meth:`read` returns ``None``), as dwebsocket 0.5 did.
        """
        if self.count_messages() > 0:
            return True
        return self._legacy_api and self._receiving_finished()

    def __iter__(self) -> Iterator[Message | str | None]:
        """Yield messages until the client closes; idle time never ends it.

        With ``WEBSOCKET_LEGACY_API`` a final ``None`` is yielded at the end,
        as dwebsocket 0.5 did (``for m in ws: if m is None: ...``).
        """
        while True:
            message = self.wait()
            if message is None:
                if self._legacy_api:
                    yield None
                return
            yield message

    def _pop_message(self) -> Message | str | None:
        """The oldest waiting message, or None. Safe for several readers
        (the queue is the Connection's, changed only with the GIL held)."""
        return self._conn.pop()

    def _receiving_finished(self) -> bool:
        return self._close_received or self._transport_down or self._deferred_end is not None

    def _end_after_messages(self, action: Callable[[], None]) -> None:
        """Run ``action`` (answer the client's close, or fail the connection)
        now, or, when messages that arrived before it are still unread, once
        the view has read them: an echo view still answers every message the
        client sent before its close or its bad frame, however slowly it
        works through them. Caller holds the receive lock.
        """
        if self._conn.queued and self._state == _OPEN:
            self._deferred_end = action
            self._deferred_since = time.monotonic()
        else:
            action()

    def _run_deferred_end(self, *, force: bool) -> None:
        """Run the deferred end now (``force``: the view read everything
        before it) or, from ``send()`` and the other non-blocking calls, once
        the view is evidently not reading: no message taken for
        ``close_timeout`` seconds (a view that reads, however slowly, answers
        every message), and ``DEFERRED_END_GRACE`` seconds since the end
        arrived. Caller holds the receive lock.
        """
        action = self._deferred_end
        if action is None:
            return
        if not force:
            now = time.monotonic()
            last_read = self._conn.last_read
            if last_read and now - last_read < self._close_timeout:
                return  # the view is working through the messages: let it
            if now - self._deferred_since < DEFERRED_END_GRACE:
                return
        self._deferred_end = None
        action()

    def _receive_blocking(self, deadline: float | None) -> None:
        """Read once from the socket, sleeping at most until ``deadline`` or
        the next keepalive action. Caller holds the receive lock."""
        now = time.monotonic()
        keepalive_at = self._next_keepalive_at()
        if keepalive_at is not None and now >= keepalive_at:
            self._keepalive()
            return
        if deadline is not None and (keepalive_at is None or deadline <= keepalive_at):
            # The caller's own timeout: exactly the time left.
            self._recv_once(max(deadline - now, 0.001))
        else:
            # Only keepalive (or nothing) bounds the read: the read timeout
            # already set is kept if close enough, so that an echo loop
            # never changes it (waking a little early or late is harmless).
            timeout = IDLE_READ_SLICE if keepalive_at is None else max(keepalive_at - now, 0.001)
            self._recv_once(timeout, exact=False)

    def _receive_available(self) -> None:
        """Process whatever has already arrived, without blocking.

        Skipped when another thread is reading (it processes the data).
        """
        finished = self._close_received or self._transport_down
        if finished or not self._recv_lock.acquire(blocking=False):
            return
        try:
            self._run_deferred_end(force=False)
            if self._receiving_finished():
                return
            if self._conn.queued_bytes >= self._queue_limit:
                # The view does not read: leave the rest in the kernel (TCP
                # holds the client back). The client is evidently alive.
                return
            keepalive_at = self._next_keepalive_at()
            if keepalive_at is not None and time.monotonic() >= keepalive_at:
                self._keepalive()
            if self._sockets_released:
                return
            while not self._receiving_finished() and self._conn.queued_bytes < self._queue_limit:
                if not self._recv_once(None):
                    break
        finally:
            self._recv_lock.release()

    def _recv_once(self, timeout: float | None, *, exact: bool = True) -> bool:
        """One read: feed the parser and handle its events.

        ``timeout``: seconds to wait at most (None: do not wait; ``exact``:
        see :meth:`~dwebsocket_c._transport.NativeTransport.recv`). Returns
        False when nothing was available (timeout / would block).
        Caller holds the receive lock.
        """
        if self._sockets_released:  # the session is over (_release_buffers)
            return False
        try:
            received = self._transport.receive(self._conn, timeout, exact)
        except OSError as exc:
            self._connection_lost(f"receive failed: {exc}")
            return False
        if received is None:
            return False
        if not received:
            self._connection_lost("the client closed TCP without a close frame")
            return False
        self._handle_events()
        return True

    def _handle_events(self) -> None:
        """Act on what the parser found besides data messages (which the
        Connection queued, or dropped once we are closing: nobody will
        read them, and a client that keeps sending must not fill the
        memory). Caller holds the receive lock."""
        conn = self._conn
        try:
            while (event := conn.next_event()) is not None:
                opcode, payload = event
                if opcode == _core.OP_PING:
                    self._send_control(_core.build_frame(_core.OP_PONG, payload))
                elif opcode == _core.OP_CLOSE:
                    self._end_after_messages(partial(self._on_close_frame, payload))
                    return
                # OP_PONG: any received bytes already proved the client alive.
        except _core.ProtocolError as error:
            logger.info(
                "Closing WebSocket: the client broke the protocol (%d %s)",
                error.code, error.reason,
            )
            self._end_after_messages(partial(self._fail, error.code, error.reason))

    def _on_close_frame(self, payload: bytes) -> None:
        code, reason = _core.parse_close(payload)
        self.close_code, self.close_reason = code, reason
        self._close_received = True
        if not self._close_sent:
            # Echo the client's code (RFC 6455 section 5.5.1), then close TCP:
            # the server closes the TCP connection first (section 7.1.1).
            reply = _core.build_close(None if code == _core.CLOSE_NO_STATUS else code)
            self._send_close_frame(reply)
        self._shut_down_transport()

    # -------------------------------------------------------------- keepalive

    def _next_keepalive_at(self) -> float | None:
        return self._conn.keepalive_at if self._state == _OPEN else None

    def _keepalive(self) -> None:
        """Send a ping after silence, or give up on a client that did not answer."""
        if self._conn.ping_sent_at is None:
            self._conn.ping_sent_at = time.monotonic()
            self._send_control(_core.build_frame(_core.OP_PING, os.urandom(4)))
        else:
            logger.info(
                "Closing WebSocket: no answer to a ping within %s s", self._conn.ping_timeout
            )
            self._fail(_core.CLOSE_INTERNAL_ERROR, "keepalive ping timeout", drain=False)

    # ------------------------------------------------------------------- send

    def send(self, message: str | bytes | bytearray | memoryview, binary: bool | None = None) -> bool:
        """Send one message. Returns True once it is written.

        * ``str``: a text message.
        * ``bytes`` (or another bytes-like object): a text message too, as in
          the original dwebsocket; the bytes must be UTF-8, else
          :class:`~dwebsocket_c.exceptions.InvalidTextError` is raised and
          nothing is sent. Pass ``binary=True`` (or use :meth:`send_bytes`) to
          send a binary message.
        * a received :class:`~dwebsocket_c.message.Message`: sent back as the
          kind it is (text or binary), unless ``binary`` says otherwise.

        On a closed connection the view that owns the connection gets
        :class:`~dwebsocket_c.exceptions.ConnectionClosed` (its loop ends
        there, quietly); any other thread or greenlet (a plain HTTP view
        broadcasting to a list of connections, a background thread) gets
        ``False``, and nothing is raised. Safe to call from several threads
        at once.
        """
        # The common kinds first (the rules are outgoing()'s).
        if type(message) is str and not binary:
            return self._send_data(_OP_TEXT, message.encode())
        if binary is None and type(message) is TextMessage:
            return self._send_data(_OP_TEXT, message)
        if binary is None and type(message) is BinaryMessage:
            return self._send_data(_OP_BINARY, message)
        opcode, payload = outgoing(
            message, binary, sender="send()",
            binary_hint="use send(data, binary=True) or send_bytes(data)",
        )
        return self._send_data(opcode, payload)

    def send_bytes(self, data: bytes | bytearray | memoryview) -> bool:
        """Send ``data`` as a binary message (same as ``send(data, binary=True)``)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"send_bytes() takes bytes, not {type(data).__name__}")
        return self.send(data, binary=True)

    def _send_data(self, opcode: int, payload: bytes | bytearray | memoryview) -> bool:
        length = byte_length(payload)
        # Built before the lock and before any byte is written: a payload
        # the core refuses raises here, with the connection untouched. With
        # context takeover (WEBSOCKET_COMPRESSION_SERVER_CONTEXT_TAKEOVER) a
        # frame depends on the ones before it: built under the lock instead,
        # so that frames go out in the order they were compressed.
        encoder = self._encoder
        parts: tuple[Any, ...] | None
        if encoder.keeps_context:
            parts = None  # built under the lock, below
        elif length <= COALESCE_LIMIT or encoder.compresses(length):
            parts = (encoder.encode(opcode, payload),)
        else:
            parts = (encoder.header(opcode, length), memoryview(payload).cast("B"))
        with self._send_lock:
            if self._state != _OPEN:
                return self._closed_send(None)
            try:
                if parts is None:
                    parts = (encoder.encode(opcode, payload),)
                self._write_frame(parts)
            except OSError as exc:  # includes socket.timeout (client not reading)
                return self._closed_send(f"send failed: {exc}", exc)
        if time.monotonic() >= self._next_send_service:
            self._next_send_service = time.monotonic() + SEND_SERVICE_INTERVAL
            self._receive_available()
        return True

    def _closed_send(self, detail: str | None, cause: BaseException | None = None) -> bool:
        """A send found the connection closed (or it just failed): raise in
        the view that owns the connection, return False elsewhere."""
        if threading.get_ident() != self._owner:
            logger.debug("WebSocket send() from another thread on a closed connection: %s",
                         detail or "closed")
            return False
        raise ConnectionClosed(self.close_code, self.close_reason, detail or "") from cause

    def _write_frame(self, parts: tuple[Any, ...]) -> None:
        """Write one whole frame (its parts in order). Caller holds the send lock.

        Whatever interrupts the write (a send timeout, a reset, a
        ``gevent.Timeout`` around ``send()``, ``KeyboardInterrupt``...), the
        frame may be half on the wire, and no later frame could be read
        right by the client: the connection is failed for good (TCP shut
        down, every later send refused) before the exception goes on.
        """
        try:
            if self._group_member is None:
                write = self._conn.write
                for part in parts:
                    sent = write(part)
                    if sent != len(part):  # green: the socket was full
                        self._transport.write_rest(part, sent)
            else:  # through the transport (a group member's flushes its outbox first)
                for part in parts:
                    self._transport.sendall(part)
        except BaseException as exc:
            self._close_sent = True  # no close frame can follow half a frame
            self._shut_down_transport()
            if not isinstance(exc, OSError):
                logger.info("WebSocket failed: a frame was interrupted half-way by %r", exc)
            raise

    def _send_control(self, frame: bytes) -> None:
        """Send a ping/pong; a failure means the connection is gone."""
        with self._send_lock:
            if self._close_sent or self._transport_down:
                return
            try:
                self._write_frame((frame,))
            except OSError as exc:
                logger.debug("WebSocket control frame not sent: %s", exc)

    def _send_close_frame(self, frame: bytes) -> bool:
        """Send our close frame once. Returns whether it was written now."""
        with self._send_lock:
            if self._close_sent or self._transport_down:
                return False
            self._close_sent = True
            if self._state == _OPEN:
                self._state = _CLOSING
            try:
                self._write_frame((frame,))
            except OSError as exc:
                logger.debug("WebSocket close frame not sent: %s", exc)
                return False
            return True

    # ------------------------------------------------------------------ close

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection: the closing handshake, then TCP.

        Sends a close frame with ``code`` and ``reason``, waits up to
        ``WEBSOCKET_CLOSE_TIMEOUT`` seconds for the client's close frame, then
        shuts the TCP connection down. Does nothing if already closed.
        ``ValueError`` for a code that may not be sent (valid: 1000-1003,
        1007-1014, 3000-4999) or a reason over 123 UTF-8 bytes.
        """
        frame = _core.build_close(code, reason)
        if self._deferred_end is not None:
            with self._recv_lock:
                self._run_deferred_end(force=True)
        if not self._send_close_frame(frame):
            if self._transport_down or self._close_received:
                self._shut_down_transport()
            return
        self._await_close_frame()
        self._shut_down_transport()

    def _await_close_frame(self) -> None:
        """After our close frame: read until the client's close frame or timeout."""
        deadline = time.monotonic() + self._close_timeout
        while not self._receiving_finished():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._recv_lock.acquire(timeout=remaining):
                return
            try:
                if not self._receiving_finished():
                    self._recv_once(max(deadline - time.monotonic(), 0.001))
            finally:
                self._recv_lock.release()

    def _fail(self, code: int, reason: str, *, drain: bool = True) -> None:
        """Fail the connection (RFC 6455 section 7.1.7): close frame, then TCP.

        Caller holds the receive lock. With ``drain``, what the client still
        sends is read and discarded until it closes (at most
        ``close_timeout``): closing a socket with unread input makes the
        kernel send a reset, which can destroy the close frame before the
        client reads it.
        """
        reason_bytes = reason.encode("utf-8")[:123]
        reason = reason_bytes.decode("utf-8", "ignore")
        if self._send_close_frame(_core.build_close(code, reason)) and drain:
            self._drain_input()
        self._shut_down_transport()

    def _drain_input(self) -> None:
        """Half-close (FIN after our close frame), then discard input until EOF."""
        try:
            self._transport.shutdown(socket.SHUT_WR)
        except OSError:
            return
        deadline = time.monotonic() + self._close_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                chunk = self._transport.recv(remaining)
            except OSError:  # reset...
                return
            if not chunk:  # EOF, or timeout (None)
                return
            chunk.release()

    def _connection_lost(self, detail: str) -> None:
        if not self._close_received:
            logger.debug("WebSocket connection lost: %s", detail)
        self._shut_down_transport()

    def _mark_transport_down(self) -> None:
        self._transport_down = True
        self._state = _CLOSED
        if not self._close_received and self.close_code is None:
            self.close_code = _core.CLOSE_ABNORMAL

    def _shut_down_transport(self) -> None:
        """Shut TCP down (both directions): the client sees EOF, and the
        server can write nothing more on this connection.

        Done even when the transport is already known to be down: after a
        send that failed (a client that stopped reading: send timeout) the
        socket is still connected, and without the shutdown the server's
        own write after the view (gevent.pywsgi's response headers) would
        block on the full send buffer for as long as the client lives.
        """
        if not self._shutdown_called:
            self._shutdown_called = True
            try:
                self._transport.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already disconnected
        self._mark_transport_down()

    def _finish(self) -> None:
        """End of the view: close if still open, shut TCP down, and give the
        socket back to the server as it was (its timeout; it closes it).

        Called once by the library after the view returned.
        """
        self._leave_all_groups()
        if self._state == _OPEN:
            try:
                self.close()
            except OSError:
                pass
        self._shut_down_transport()
        with self._send_lock:
            self._sockets_released = True
        if self._recv_lock.acquire(timeout=self._close_timeout):
            try:
                self._transport.release(self._server_timeout)
                self._release_buffers()
            finally:
                self._recv_lock.release()
        else:  # another thread is still inside recv(): TCP is down, it returns soon
            logger.debug("WebSocket reader still busy at the end of the view")
            self._transport.release(self._server_timeout)

    def _release_buffers(self) -> None:
        """Free what the session held (a partial message can be up to
        ``max_message_size``) at once: the request that refers to this object
        sits in reference cycles and may live until a full collection.
        Caller holds the receive lock."""
        self._conn.release()
        self._deferred_end = None

    # ----------------------------------------------------------------- groups
    # Push from anywhere: dwebsocket_c.groups keeps the membership and writes
    # group messages straight to the socket (the view does not poll).

    _group_member: Any = None  # dwebsocket_c.groups.fanout.Member, from the first join()

    def join(self, group: str) -> None:
        """Receive the messages sent to ``group`` (``dwebsocket_c.send_to_group``)
        from now on, on any process that shares the backend. Under Redis,
        returns once Redis confirmed the subscription (at most 2 s).
        The connection leaves all its groups when it closes."""
        from .groups import join_group

        join_group(self, group)

    def leave(self, group: str) -> None:
        """Stop receiving the messages of ``group`` (nothing if not a member)."""
        from .groups import leave_group

        leave_group(self, group)

    def join_user(self, user: Any) -> str | None:
        """Join the group of every connection of ``user`` (``request.user``), if
        authenticated: ``dwebsocket_c.send_to_user(user, ...)`` then reaches
        all of the user's tabs. Returns the group's name, or None (anonymous)."""
        from .groups import user_group

        if not getattr(user, "is_authenticated", False):
            return None
        group = user_group(user)
        self.join(group)
        return group

    @property
    def groups(self) -> frozenset[str]:
        """The groups this connection is in."""
        member = self._group_member
        return frozenset(member.groups) if member is not None else frozenset()

    def _leave_all_groups(self) -> None:
        if self._group_member is not None:
            from .groups import leave_all_groups

            leave_all_groups(self)

    def _group_member_dropped(
        self, close_frame: bytes | None, send_nowait: Callable[[bytes], int]
    ) -> None:
        """The fan-out gave up on this client (it does not read): a close
        frame if one can be written without blocking, then TCP shut down; the
        view's reads end and its sends raise ConnectionClosed. Caller holds
        the send lock."""
        if close_frame is not None and not self._close_sent and not self._transport_down:
            self._close_sent = True
            if self._state == _OPEN:
                self._state = _CLOSING
            try:
                send_nowait(close_frame)
            except OSError:
                pass
        self._close_sent = True
        self._shut_down_transport()
