"""Groups on one Redis across every server: chat, push from another OS
process, Redis down, Redis killed and restarted 20 times.

The servers (gunicorn gthread -w 2, gunicorn gevent, eventlet, uWSGI,
runserver) serve example_project with REDIS_URL set; see conftest.py.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid

import pytest
from group_env import django_env
from dws_servers import EXAMPLE_DIR
from group_clients import join, join_distinct_workers, process_stats, publish, receive

pytestmark = pytest.mark.slow


def _members_everywhere(group_servers, group):
    """Two members on gunicorn gthread (one per worker), one on each other server."""
    members = []
    for name, server in group_servers.items():
        if name == "gunicorn-gthread":
            for pid, ws in join_distinct_workers(server, group, workers=2):
                members.append((f"{name}[{pid}]", ws))
        else:
            members.append((name, join(server, group)[0]))
    return members


def test_chat_across_servers_reaches_everyone_in_each_senders_order(group_servers):
    group = f"chat-{uuid.uuid4().hex[:8]}"
    members = _members_everywhere(group_servers, group)
    per_sender = 20
    try:
        def talk(index, ws):
            for k in range(per_sender):
                ws.send(f"{index}:{k}")

        threads = [threading.Thread(target=talk, args=(i, ws)) for i, (_, ws) in enumerate(members)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        total = per_sender * len(members)
        for name, ws in members:
            got = receive(ws, total, timeout=30)
            for sender in range(len(members)):
                sequence = [int(m.split(":")[1]) for m in got if m.split(":")[0] == str(sender)]
                assert sequence == list(range(per_sender)), (
                    f"{name} got sender {sender}'s messages as {sequence}")
    finally:
        for _, ws in members:
            ws.close()


def test_send_to_group_from_a_separate_process_reaches_two_servers(group_servers, redis_server):
    group = f"notify-{uuid.uuid4().hex[:8]}"
    a, _ = join(group_servers["gunicorn-gevent"], group)
    b, _ = join(group_servers["uwsgi"], group)
    try:
        script = ("import django; django.setup()\n"
                  "from dwebsocket_c import send_to_group\n"
                  f"send_to_group({group!r}, '下载完成')\n"
                  f"send_to_group({group!r}, b'\\x00\\xff', binary=True)\n")
        done = subprocess.run([sys.executable, "-c", script], cwd=EXAMPLE_DIR,
                              env=django_env(redis_server.url), capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        for ws in (a, b):
            assert receive(ws, 2, timeout=10) == ["下载完成", b"\x00\xff"]
    finally:
        a.close()
        b.close()


def test_download_page_gets_progress_from_a_management_command(group_servers):
    from websockets.sync.client import connect

    server = group_servers["gunicorn-gthread"]
    with connect(server.ws_url("/download/"), open_timeout=15, close_timeout=3) as ws:
        got = []
        deadline = time.monotonic() + 60
        while not got or got[-1] != "下载完成":
            got.append(ws.recv(max(deadline - time.monotonic(), 0.1)))
    assert got == ["20%", "40%", "60%", "80%", "100%", "下载完成"]


def test_redis_down_send_to_group_names_the_url_and_views_keep_working(group_servers, redis_server):
    from websockets.sync.client import connect

    server = group_servers["gunicorn-gevent"]
    redis_server.kill()
    try:
        status, body = publish(server, "anyone", "hello")
        assert status == 503, body
        assert f"127.0.0.1:{redis_server.port}" in body and "could not publish" in body, body
        script = ("import django; django.setup()\n"
                  "from dwebsocket_c import send_to_group\n"
                  "send_to_group('anyone', 'hello')\n")
        done = subprocess.run([sys.executable, "-c", script], cwd=EXAMPLE_DIR,
                              env=django_env(redis_server.url), capture_output=True, timeout=60)
        assert done.returncode == 1
        assert b"GroupBackendError" in done.stderr and redis_server.url.encode() in done.stderr
        for name, server in group_servers.items():  # websocket views keep working
            with connect(server.ws_url("/ws/echo/"), open_timeout=15, close_timeout=3) as ws:
                ws.send("still here")
                assert ws.recv(10) == "still here", name
            ws, _ = join(server, "while-redis-is-down")  # join() does not fail either
            ws.close()
    finally:
        redis_server.start()


def test_zz_redis_killed_and_restarted_20_times(group_servers, redis_server):
    """Delivery resumes within a few seconds of each restart; the servers'
    OS threads and fds do not grow."""
    group = f"restarts-{uuid.uuid4().hex[:8]}"
    members = _members_everywhere(group_servers, group)
    sender = group_servers["runserver"]
    try:
        # Warm-up (first connections, pools), then the baseline.
        _await_delivery(sender, members, group, "warm-up", timeout=10)
        before = {name: process_stats(s, 2 if name == "gunicorn-gthread" else 1)
                  for name, s in group_servers.items()}
        resumed_after = []
        seen: dict[str, list[str]] = {}
        for round_ in range(20):
            redis_server.kill()
            time.sleep(0.2)
            redis_server.start()
            started = time.monotonic()
            _await_delivery(sender, members, group, f"round {round_}", timeout=10, seen=seen)
            resumed_after.append(time.monotonic() - started)
        print(f"delivery resumed after (s): max {max(resumed_after):.2f}, "
              f"median {sorted(resumed_after)[10]:.2f}")
        assert max(resumed_after) < 10
        # The messages_lost signal fired after the gaps (testapp's receiver
        # sends "resync" to the groups that had members).
        for name, ws in members:
            assert "resync" in seen.get(name, []) + _drain(ws), f"{name} never heard of a gap"
        after = {name: process_stats(s, 2 if name == "gunicorn-gthread" else 1)
                 for name, s in group_servers.items()}
        for name in group_servers:
            for pid, stats in before[name].items():
                later = after[name].get(pid)
                if later is None:
                    continue
                assert later["threads"] <= stats["threads"] + 1, (name, stats, later)
                assert later["fds"] <= stats["fds"] + 3, (name, stats, later)
    finally:
        for _, ws in members:
            ws.close()


def _await_delivery(sender, members, group, text, timeout, seen=None):
    """Publish ``text`` (again every 0.25 s while Redis refuses or a member
    misses it) until every member got it."""
    deadline = time.monotonic() + timeout
    waiting = dict(members)
    while waiting:
        assert time.monotonic() < deadline, f"{text!r} not delivered to {sorted(waiting)} in {timeout} s"
        status, body = publish(sender, group, text)
        if status != 200:
            time.sleep(0.25)
            continue
        pause = time.monotonic() + 0.5
        for name, ws in list(waiting.items()):
            while True:
                try:
                    message = ws.recv(max(pause - time.monotonic(), 0.01))
                    if seen is not None:
                        seen.setdefault(name, []).append(message)
                    if message == text:
                        del waiting[name]
                        break
                except TimeoutError:
                    break


def _drain(ws, quiet: float = 0.5) -> list[str]:
    got = []
    while True:
        try:
            got.append(ws.recv(quiet))
        except TimeoutError:
            return got
