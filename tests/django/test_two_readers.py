"""Three threads reading one WebSocket at once (one in wait(), two polling
read()), in-process over a socketpair: each message goes to exactly one of
them, and all of them see the end. The server-level test is in
tests/robustness/test_hardening.py; this one makes the threads switch
(nearly) all the time, which is what exposes a check-then-pop race."""

import socket
import sys
import threading

from dwebsocket_c import _core
from dwebsocket_c.websocket import WebSocket

MESSAGES = 20000
ROUNDS = 6


def test_two_pollers_and_a_waiter_share_messages_exactly_once():
    """With threads switching (nearly) all the time, the race between the
    check for a message and its pop shows within a few rounds (it raised
    IndexError: pop from an empty deque)."""
    for _ in range(ROUNDS):
        _one_round()


def _one_round():
    server_end, client_end = socket.socketpair()
    ws = WebSocket(server_end, ping_interval=None)
    got, errors, ends = [], [], []

    def reader(kind):
        try:
            while True:
                message = ws.wait() if kind == "wait" else ws.read()
                if message is None:
                    if kind == "read" and not ws.is_closed():
                        continue
                    ends.append(kind)
                    return
                got.append(bytes(message))
        except Exception as error:
            errors.append(repr(error))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=reader, args=(k,)) for k in ("wait", "read", "read")]
        for t in threads:
            t.start()
        for i in range(MESSAGES):
            client_end.sendall(_core.build_frame(_core.OP_TEXT, b"%d" % i, mask=True))
        client_end.sendall(_core.build_close(1000, mask=True))
        for t in threads:
            t.join(60)
    finally:
        sys.setswitchinterval(interval)
        client_end.close()
    assert errors == []
    assert sorted(got, key=int) == [b"%d" % i for i in range(MESSAGES)]
    assert sorted(ends) == ["read", "read", "wait"]
    ws._finish()
    server_end.close()
