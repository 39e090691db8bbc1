"""The one-socket transports (dwebsocket_c._transport) on a socketpair, under
each concurrency model: native threads, gevent (monkey-patched), eventlet.

Each scenario runs in its own interpreter (monkey-patching is for life):

* a write that times out half-way through a frame leaves the connection
  down (ConnectionClosed, then nothing more is written: no frame may follow
  a partial one);
* a reader that keeps waking up (wait(timeout=...), read()) while another
  thread/greenlet writes a big frame to a slow reader never disturbs that
  write: the frame arrives whole;
* the receive timeout is exact for wait(timeout=...);
* the socket is never closed, and gets its timeout back at the end.
"""

import subprocess
import sys
import textwrap

import pytest

PRELUDE = {
    "native": """
        import threading, time, socket
        def spawn(f): t = threading.Thread(target=f); t.start(); return t
        def join(t): t.join()
        sleep = time.sleep
        Lock = threading.Lock
        make_timeout = None
    """,
    "gevent": """
        from gevent import monkey; monkey.patch_all()
        import gevent, gevent.lock, time, socket
        def spawn(f): return gevent.spawn(f)
        def join(g): g.join()
        sleep = gevent.sleep
        Lock = gevent.lock.Semaphore
        make_timeout = gevent.Timeout
    """,
    "eventlet": """
        import warnings; warnings.simplefilter("ignore")
        import eventlet; eventlet.monkey_patch()
        import eventlet.semaphore, time, socket
        def spawn(f): return eventlet.spawn(f)
        def join(g): g.wait()
        sleep = eventlet.sleep
        Lock = eventlet.semaphore.Semaphore
        make_timeout = eventlet.Timeout
    """,
}

SCENARIO = """
    from dwebsocket_c import _core
    from dwebsocket_c._transport import is_native_socket
    from dwebsocket_c.exceptions import ConnectionClosed
    from dwebsocket_c.servers.base import green_timeout_class
    from dwebsocket_c.websocket import WebSocket

    def pair():
        a, b = socket.socketpair()
        assert is_native_socket(a) == (make_timeout is None), type(a)
        assert green_timeout_class(a) is make_timeout
        return a, b

    def masked(opcode, payload):
        return _core.build_frame(opcode, payload, mask_key=b"abcd")

    # 1. a write that times out half-way: the connection is down, and
    #    nothing else is ever written.
    a, b = pair()
    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ws = WebSocket(a, send_timeout=0.5, ping_interval=None, lock_factory=Lock,
                   make_timeout=make_timeout, server_timeout=7.0)
    started = time.monotonic()
    try:
        ws.send_bytes(b"x" * (8 << 20))
    except ConnectionClosed:
        pass
    else:
        raise AssertionError("an 8 MiB frame to a client that reads nothing was sent")
    took = time.monotonic() - started
    assert 0.4 <= took <= 2.0, took
    assert ws.closed
    try:
        ws.send("more")
    except ConnectionClosed:
        pass
    else:
        raise AssertionError("sent after a partial frame")
    ws._finish()
    assert a.fileno() != -1, "the server's socket was closed"
    assert a.gettimeout() == 7.0, a.gettimeout()
    a.close(); b.close()

    # 2. a reader waking up all the time while a big frame goes to a slow
    #    reader: the frame arrives whole.
    a, b = pair()
    ws = WebSocket(a, send_timeout=10, ping_interval=None, lock_factory=Lock,
                   make_timeout=make_timeout)
    payload = bytes(range(256)) * 4096  # 1 MiB
    stop = []
    def reader():
        while not stop:
            ws.wait(timeout=0.003)
            ws.read()
            ws.count_messages()
    def writer():
        ws.send_bytes(payload)
        stop.append(1)
    r = spawn(reader)
    w = spawn(writer)
    got = bytearray()
    while len(got) < len(payload) + 10:
        chunk = b.recv(4096)
        assert chunk
        got += chunk
        sleep(0.0005)
    join(w); join(r)
    parser = _core.FrameParser(max_message_size=None, client_side=True)
    parser.feed(bytes(got))
    events = list(parser)
    assert events == [(_core.OP_BINARY, payload)], [(o, len(p)) for o, p in events]

    # 3. echo, exact wait timeout, then the close handshake.
    b.sendall(masked(_core.OP_TEXT, b"hello"))
    assert ws.wait() == b"hello"
    started = time.monotonic()
    assert ws.wait(timeout=0.2) is None
    assert 0.18 <= time.monotonic() - started <= 0.5
    b.sendall(_core.build_close(1000, mask_key=b"abcd"))
    assert ws.wait() is None and ws.close_code == 1000
    ws._finish()
    assert a.fileno() != -1
    print("OK")
"""


@pytest.mark.parametrize("model", ["native", "gevent", "eventlet"])
def test_one_socket_transport(model):
    code = textwrap.dedent(PRELUDE[model]) + textwrap.dedent(SCENARIO)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip().endswith("OK"), done.stdout + done.stderr
