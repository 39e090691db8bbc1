"""Fan-out on real servers through Redis: a member that never reads does not
hold the others up (and is disconnected), and 1,000 members of one group
under gevent all receive every message."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
from group_clients import join, process_stats
from wsraw import RawWebSocket

from dwebsocket_c.groups import build_group_frame
from dwebsocket_c.groups.redis_backend import channel_name

pytestmark = pytest.mark.slow


def _redis(redis_server):
    import redis

    return redis.Redis(host="127.0.0.1", port=redis_server.port)


@pytest.mark.parametrize("server_name", ["uwsgi", "gunicorn-gevent"])
def test_a_member_that_never_reads_does_not_delay_the_others(group_servers, redis_server, server_name):
    server = group_servers[server_name]
    group = f"slow-{uuid.uuid4().hex[:8]}"
    publisher = _redis(redis_server)
    dropped_before = sum(s["dropped"] for s in process_stats(server).values())

    slow = RawWebSocket(server.host, server.port)
    assert slow.handshake(f"/ws/group/{group}/").status == 101
    assert slow.recv_message()[1].startswith(b"joined")
    fast = [join(server, group)[0] for _ in range(3)]

    latencies: list[float] = []
    errors: list[BaseException] = []
    probes = 60

    def read_all(ws):
        try:
            seen = 0
            while seen < probes:
                message = ws.recv(60)
                if isinstance(message, str) and message.startswith("t:"):
                    latencies.append(time.time() - float(message[2:]))
                    seen += 1
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read_all, args=(ws,)) for ws in fast]
    for reader in readers:
        reader.start()
    # 60 x 256 KiB: more than the kernel's buffers and the 4 MiB outbox hold.
    big = build_group_frame(b"x" * 262144, binary=True)
    for _ in range(probes):
        publisher.publish(channel_name(group), big)
        publisher.publish(channel_name(group), build_group_frame(f"t:{time.time()!r}"))
        time.sleep(0.05)
    for reader in readers:
        reader.join(90)
    try:
        assert not errors, errors
        assert len(latencies) == probes * len(fast)
        latencies.sort()
        p50, worst = latencies[len(latencies) // 2], latencies[-1]
        print(f"{server_name}: others' latency with a member that never reads: "
              f"p50 {p50 * 1000:.1f} ms, max {worst * 1000:.1f} ms")
        assert worst < 2.0, f"max latency {worst:.3f} s"  # vs 30 s (send timeout) if it waited

        # The slow member was disconnected: counted, and its TCP connection ends.
        dropped_after = sum(s["dropped"] for s in process_stats(server).values())
        assert dropped_after >= dropped_before + 1
        slow.sock.settimeout(30)
        received = 0
        deadline = time.monotonic() + 30
        while chunk := slow.sock.recv(1 << 20):  # what the kernel held, then EOF
            received += len(chunk)
            assert time.monotonic() < deadline, "the server did not close TCP"
        print(f"{server_name}: the member that never read was disconnected "
              f"({received} bytes were still in the kernel's buffers)")
    finally:
        slow.close()
        for ws in fast:
            ws.close()


@pytest.mark.parametrize("server_name", ["uwsgi", "gunicorn-gevent"])
def test_the_views_own_big_sends_and_group_messages_never_interleave(group_servers, redis_server,
                                                                     server_name):
    """The view sends 200 KiB messages (header and payload written apart)
    while 100 KiB group messages pour in and the client reads late: every
    frame arrives whole (websockets fails the connection otherwise)."""
    server = group_servers[server_name]
    group = f"mixed-{uuid.uuid4().hex[:8]}"
    publisher = _redis(redis_server)
    ws, _ = join(server, group)
    own = [f"self:{k}:" + "s" * 204800 for k in range(20)]
    grouped = [f"group:{k}:" + "g" * 102400 for k in range(40)]
    try:
        def publish_all():
            for text in grouped:
                publisher.publish(channel_name(group), build_group_frame(text))

        pusher = threading.Thread(target=publish_all)
        pusher.start()
        for text in own:
            ws.send(text)
        pusher.join()
        time.sleep(1.0)  # the client has read nothing yet: the buffers are full
        got = [ws.recv(30) for _ in range(len(own) + len(grouped))]
        assert [m for m in got if m.startswith("self:")] == own
        assert [m for m in got if m.startswith("group:")] == grouped
    finally:
        ws.close()


def test_1000_members_under_gevent_all_receive_every_message(group_servers, redis_server):
    from websockets.asyncio.client import connect

    server = group_servers["gunicorn-gevent"]
    group = f"crowd-{uuid.uuid4().hex[:8]}"
    members, messages = 1000, 20
    publisher = _redis(redis_server)

    async def run():
        semaphore = asyncio.Semaphore(50)  # handshakes in flight

        async def open_member():
            async with semaphore:
                ws = await connect(server.ws_url(f"/ws/group/{group}/"), open_timeout=60,
                                   ping_interval=None, compression=None, close_timeout=5)
                assert (await ws.recv()).startswith("joined")
                return ws

        conns = await asyncio.gather(*(open_member() for _ in range(members)))
        try:
            started = time.monotonic()
            for k in range(messages):
                publisher.publish(channel_name(group), build_group_frame(f"m{k}"))

            async def collect(ws):
                return [await asyncio.wait_for(ws.recv(), 60) for _ in range(messages)]

            received = await asyncio.gather(*(collect(ws) for ws in conns))
            elapsed = time.monotonic() - started
        finally:
            await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
        return received, elapsed

    received, elapsed = asyncio.run(run())
    expected = [f"m{k}" for k in range(messages)]
    wrong = [i for i, got in enumerate(received) if got != expected]
    assert not wrong, f"{len(wrong)} members got something else, e.g. {received[wrong[0]][:5]}"
    print(f"{members} members x {messages} messages delivered in {elapsed:.2f} s")
