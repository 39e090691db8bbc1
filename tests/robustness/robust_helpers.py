"""Helpers of tests/robustness: reading a server's process tree in /proc,
and small raw-socket websocket clients (frames built in plain Python)."""

from __future__ import annotations

import os
import socket
import struct
import time
from pathlib import Path

import wsraw
from wsraw import OP_BINARY, OP_CLOSE, OP_TEXT, RawWebSocket

MIB = 1 << 20

#: Under scripts/sanitize-tests (which sets DWEBSOCKET_SANITIZED) a server's
#: RSS also holds ASan's own memory: freed blocks in quarantine (16 MiB
#: there), shadow memory, and a fake stack per thread that fills as the thread
#: runs (detect_stack_use_after_return: the gthread soak, 64 threads, grew
#: 49 MiB with it and 9.9 MiB without). The RSS bounds are enforced by the
#: plain runs of the same tests; a sanitized run, which looks for memory
#: errors, adds this allowance to them.
SANITIZER_RSS_ALLOWANCE_KIB = 96 * 1024 if os.environ.get("DWEBSOCKET_SANITIZED") else 0


# --------------------------------------------------------------------- /proc


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command may contain spaces/parens: split after the last ')'
    return int(stat.rsplit(")", 1)[1].split()[1])


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (gunicorn/uWSGI workers, uWSGI's router)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            ppid = _ppid(int(entry))
            if ppid is not None:
                children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _status_field(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rss_kib(server) -> int:
    """VmRSS of the server's whole process tree (master + workers), KiB."""
    total = 0
    for pid in process_tree(server.proc.pid):
        try:
            total += _status_field(pid, "VmRSS")
        except OSError:
            pass
    return total


def rss_by_pid(server) -> dict[int, int]:
    out = {}
    for pid in process_tree(server.proc.pid):
        try:
            out[pid] = _status_field(pid, "VmRSS")
        except OSError:
            pass
    return out


def fd_count(server) -> int:
    """Open file descriptors over the server's process tree."""
    total = 0
    for pid in process_tree(server.proc.pid):
        try:
            total += len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            pass
    return total


def uwsgi_router_pid(server) -> int | None:
    """The process of uWSGI's HTTP router (``--http``): the master's child
    that is not the worker (the worker has the 50 threads)."""
    if server.name != "uwsgi-http":
        return None
    children = [pid for pid in process_tree(server.proc.pid) if pid != server.proc.pid]
    if len(children) < 2:
        return None
    return min(children, key=lambda pid: _status_field(pid, "Threads"))


def socket_fd_count(server, *, without_router: bool = False) -> int:
    """Open sockets over the server's process tree (listening ones included).

    ``without_router``: leave uWSGI's HTTP router out (a proxy of its own,
    with its own buffers and ``--http-timeout``)."""
    total = 0
    skip = uwsgi_router_pid(server) if without_router else None
    for pid in process_tree(server.proc.pid):
        if pid == skip:
            continue
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                        total += 1
                except OSError:
                    pass
        except OSError:
            pass
    return total


def thread_count(server) -> int:
    total = 0
    for pid in process_tree(server.proc.pid):
        try:
            total += _status_field(pid, "Threads")
        except OSError:
            pass
    return total


def wait_until(predicate, timeout: float, interval: float = 0.05):
    """Poll ``predicate`` until it returns a true value or ``timeout`` passes;
    returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def settle(measure, timeout: float = 5.0, quiet: float = 0.5):
    """``measure()`` once it stopped changing for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last = measure()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = measure()
        if now == last:
            return now
        last = now
    return last


# ----------------------------------------------------------------- websockets


def raw_open(server, path: str = "/ws/echo/", *, rcvbuf: int | None = None, timeout: float = 10.0) -> RawWebSocket:
    """A raw websocket, handshake done. ``rcvbuf``: SO_RCVBUF set before connect."""
    if rcvbuf is None:
        r = RawWebSocket(server.host, server.port, timeout=timeout)
    else:
        r = RawWebSocket.__new__(RawWebSocket)
        r.host, r.port = server.host, server.port
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        sock.connect((server.host, server.port))
        r.sock, r.buf, r.after_handshake, r.eof = sock, b"", b"", False
    resp = r.handshake(path)
    assert resp.status == 101, resp
    return r


def masked_header(opcode: int, length: int, *, fin: bool = True) -> tuple[bytes, bytes]:
    """(header with mask key, mask key) of a client frame."""
    key = os.urandom(4)
    return wsraw.frame_header(opcode, length, fin=fin, mask_key=key), key


def recv_close(r: RawWebSocket, timeout: float) -> tuple[int, str, float]:
    """Read frames until a close frame: (code, reason, seconds it took)."""
    start = time.monotonic()
    r.sock.settimeout(timeout)
    while True:
        op, payload = r.recv_message()
        if op == OP_CLOSE:
            code, reason = wsraw.parse_close_payload(payload)
            return code, reason, time.monotonic() - start


def eof_within(sock: socket.socket, timeout: float) -> float | None:
    """Seconds until the peer closed TCP (EOF or reset), discarding data; None on timeout."""
    start = time.monotonic()
    deadline = start + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return time.monotonic() - start
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - start
    return None


def echo_once(server, text: str = "still serving", timeout: float = 10.0) -> None:
    """A new connection is served: one text message echoed, then a clean close."""
    with raw_open(server, timeout=timeout) as r:
        r.send_text(text)
        op, payload = r.recv_message()
        assert (op, payload) == (OP_TEXT, text.encode()), (op, payload[:100])
        r.send_close(1000)
        code, _, _ = recv_close(r, timeout)
        assert code == 1000


