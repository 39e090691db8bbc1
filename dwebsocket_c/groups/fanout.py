"""Fan-out: one group message, framed once, written to every local member
without one slow member holding the others up.

A member is one open :class:`~dwebsocket_c.websocket.WebSocket` that joined
at least one group. Delivering a frame to it (:meth:`Member.offer`):

* when its send lock is free and nothing of it is waiting, the frame is
  written with one **non-blocking** ``send`` (``MSG_DONTWAIT``): the usual
  case, one system call per member;
* what the kernel does not take (the client reads slowly), or the whole
  frame when the lock is busy (the view is sending), goes to the member's
  **outbox**, and the process's one writer thread (a greenlet under gevent
  and eventlet, whose monkey-patching makes ``threading`` green) flushes
  it, again without blocking, looking every ``WRITER_POLL_INTERVAL`` (10 ms)
  while some member has bytes waiting, and sleeping otherwise;
* a member whose outbox grows past ``WEBSOCKET_GROUP_OUTBOX_LIMIT`` bytes,
  or makes no progress for ``WEBSOCKET_SEND_TIMEOUT`` seconds, is
  disconnected: close 1008 when its outbox ends on a frame boundary (the
  close frame is written without blocking; the client may not get it),
  else TCP is shut down. Each drop is counted (:data:`stats`) and logged.

Frames never interleave: every write of a member happens under its
WebSocket's send lock, and while the outbox holds anything the
connection's own writes (``send()``, pings, close) first write the outbox
out, in order (:class:`OutboxTransport` wraps the WebSocket's transport
when it joins its first group).
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections import deque
from typing import Any

from .. import _core

logger = logging.getLogger("dwebsocket_c.groups")

#: How often the writer looks again at members whose socket was full.
WRITER_POLL_INTERVAL = 0.01

_MSG_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0x40)

#: Counters for the whole process: ``dropped`` slow members, ``queued``
#: frames that had to wait in an outbox.
stats = {"dropped": 0, "queued": 0}


def _os_socket(sock: Any) -> Any:
    """The OS socket under the server's socket object (gevent keeps it in
    ``_sock``, eventlet in ``fd``); the socket itself when it is one."""
    import _socket

    if isinstance(sock, _socket.socket):
        return sock
    for name in ("_sock", "fd"):
        inner = getattr(sock, name, None)
        if isinstance(inner, _socket.socket):
            return inner
    raise TypeError(f"no OS socket found under {type(sock).__name__}")


class Member:
    """One WebSocket's side of the fan-out: its outbox and its groups."""

    def __init__(self, websocket: Any, outbox_limit: int, stall_timeout: float) -> None:
        self.websocket = websocket
        self.lock = websocket._send_lock
        self.os_socket = _os_socket(websocket._transport.sock)
        self.outbox: deque[Any] = deque()  # bytes or memoryviews, in order
        self.outbox_bytes = 0
        self.head_started = False  # outbox[0] is the rest of a frame partly written
        self.last_progress = 0.0
        self.outbox_limit = outbox_limit
        self.stall_timeout = stall_timeout
        self.groups: set[str] = set()
        self.dropped = False

    def __repr__(self) -> str:
        return f"<Member {self.websocket!r} outbox={self.outbox_bytes}B groups={len(self.groups)}>"

    # ------------------------------------------------------------- delivery

    def offer(self, frame: bytes) -> None:
        """Deliver one frame without blocking (see the module docstring)."""
        if self.dropped:
            return
        if self.lock.acquire(blocking=False):
            try:
                if self.websocket.closed:
                    return
                if not self.outbox:
                    # The usual case, once per member: one non-blocking send.
                    try:
                        sent = self.os_socket.send(frame, _MSG_DONTWAIT)
                    except (BlockingIOError, InterruptedError):
                        sent = 0
                    except OSError as exc:
                        logger.debug("group message not delivered, connection gone: %s", exc)
                        return
                    if sent == len(frame):
                        return
                    if sent:
                        # First in line: a sender that found the lock busy may
                        # have queued a frame meanwhile, and it must come after.
                        self._enqueue(memoryview(frame)[sent:], first=True)
                        self.head_started = True
                        return
                self._enqueue(frame)
            finally:
                self.lock.release()
        elif not self.websocket.closed:
            self._enqueue(frame)

    def _enqueue(self, frame: Any, first: bool = False) -> None:
        if not self.outbox:
            self.last_progress = time.monotonic()
        if first:
            self.outbox.appendleft(frame)
        else:
            self.outbox.append(frame)
        self.outbox_bytes += len(frame)
        stats["queued"] += 1
        writer().wake(self)

    def _send_nowait(self, data: Any) -> int:
        try:
            return self.os_socket.send(data, _MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return 0

    def flush_nowait(self) -> bool:
        """Write what the socket takes now. Caller holds the send lock.
        Returns True once the outbox is empty. Raises OSError."""
        outbox = self.outbox
        while outbox:
            head = outbox[0]
            sent = self._send_nowait(head)
            if sent:
                self.last_progress = time.monotonic()
                self.outbox_bytes -= sent
            if sent == len(head):
                outbox.popleft()
                self.head_started = False
                continue
            if sent:
                outbox[0] = memoryview(head)[sent:]
                self.head_started = True
            return False
        return True

    def flush_blocking(self, transport: Any) -> None:
        """Write the whole outbox with the connection's own (blocking, send
        timeout) writes: before a frame of the connection itself. Caller
        holds the send lock. Raises OSError as ``transport.sendall``."""
        outbox = self.outbox
        while outbox:
            head = outbox.popleft()
            self.outbox_bytes -= len(head)
            self.head_started = False
            transport.sendall(head)

    # ------------------------------------------------------------ dropping

    def stalled(self, now: float) -> str | None:
        """Why this member must be dropped, or None."""
        if self.outbox_bytes > self.outbox_limit:
            return f"over {self.outbox_limit} bytes of group messages waiting"
        if self.outbox and now - self.last_progress > self.stall_timeout:
            return f"no group message bytes taken for {self.stall_timeout} s"
        return None

    def drop(self, why: str) -> None:
        """Disconnect a member that cannot keep up. Caller holds the send lock."""
        self.dropped = True
        clean = not self.head_started
        self.outbox.clear()
        self.outbox_bytes = 0
        stats["dropped"] += 1
        logger.warning(
            "Disconnecting a slow WebSocket group member (%s; groups %s); "
            "%d dropped in this process so far",
            why, sorted(self.groups), stats["dropped"],
        )
        close_frame = _core.build_close(1008, "too slow for group messages") if clean else None
        self.websocket._group_member_dropped(close_frame, self._send_nowait)


class Writer:
    """The process's one writer: flushes the outboxes of members whose
    socket was full, drops the ones that stay stuck."""

    def __init__(self) -> None:
        self._wakeups: queue.Queue[Member] = queue.Queue()
        self._pending: set[Member] = set()
        self._thread = threading.Thread(target=self._run, name="dwebsocket_c group writer", daemon=True)
        self._thread.start()

    def wake(self, member: Member) -> None:
        self._wakeups.put(member)

    def _run(self) -> None:
        while True:
            try:
                timeout = WRITER_POLL_INTERVAL if self._pending else None
                member = self._wakeups.get(timeout=timeout)
                self._pending.add(member)
                while True:  # take every wake-up already queued
                    self._pending.add(self._wakeups.get_nowait())
            except queue.Empty:
                pass
            now = time.monotonic()
            for member in list(self._pending):
                if self._service(member, now):
                    self._pending.discard(member)

    def _service(self, member: Member, now: float) -> bool:
        """Flush one member; True when it needs no more attention."""
        if member.dropped or member.websocket.closed:
            return True  # nothing more is written; the outbox goes with the member
        if not member.lock.acquire(blocking=False):
            return False  # the holder may be flushing: look again
        try:
            try:
                if member.flush_nowait():
                    return True
            except OSError as exc:
                logger.debug("group message not delivered, connection gone: %s", exc)
                member.outbox.clear()
                member.outbox_bytes = 0
                return True
            why = member.stalled(now)
            if why is not None:
                member.drop(why)
                return True
            return False
        except Exception:  # never let the writer die
            logger.exception("group writer: error while writing to %r", member)
            return True
        finally:
            member.lock.release()


_writer: Writer | None = None
_writer_pid = 0
_writer_lock = threading.Lock()


def writer() -> Writer:
    """This process's writer, started on first use (after any fork)."""
    global _writer, _writer_pid
    import os

    pid = os.getpid()
    if _writer is None or _writer_pid != pid:
        with _writer_lock:
            if _writer is None or _writer_pid != pid:
                _writer, _writer_pid = Writer(), pid
    return _writer


def frame_length(data: Any) -> int:
    """The whole size (header and payload) of the frame ``data`` begins;
    ``data`` holds at least the header, as the WebSocket writes it."""
    with memoryview(data) as view, view.cast("B") as octets:
        length, header = octets[1] & 0x7F, 2
        if length == 126:
            length, header = int.from_bytes(octets[2:4], "big"), 4
        elif length == 127:
            length, header = int.from_bytes(octets[2:10], "big"), 10
        if octets[1] & 0x80:
            header += 4  # masked (a server never masks; counted anyway)
        return header + length


class OutboxTransport:
    """The WebSocket's transport, with the member's outbox written out
    before each frame of the connection's own (``send()``, pings, close).

    A frame may take several ``sendall`` calls (a big one: header, then
    payload), so the frames are followed: the outbox is written only where
    a frame of the connection begins, never inside one.
    """

    def __init__(self, inner: Any, member: Member) -> None:
        self.inner = inner
        self.member = member
        self.sock = inner.sock
        # Reads go straight to the transport (bound once: no extra call).
        self.receive = inner.receive
        self.recv = inner.recv
        self._frame_left = 0  # bytes of the connection's current frame still to write

    def sendall(self, data: Any) -> None:
        if self._frame_left <= 0:  # a frame begins
            member = self.member
            if member.outbox:
                member.flush_blocking(self.inner)
            self._frame_left = frame_length(data)
        self._frame_left -= memoryview(data).nbytes
        try:
            self.inner.sendall(data)
        except BaseException:
            self._frame_left = 0  # the connection is failed: no frame follows this one
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
