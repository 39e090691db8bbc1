"""Clients of the example's /ws/group/<name>/ endpoint (join, say
``joined <pid>``, relay what the client sends to the group)."""

from __future__ import annotations

import time
import urllib.parse

from websockets.sync.client import connect


def join(server, group: str, also: tuple[str, ...] = ()):
    """(connection, pid of the worker process that serves it)."""
    path = f"/ws/group/{urllib.parse.quote(group)}/"
    if also:
        path += "?also=" + ",".join(also)
    ws = connect(server.ws_url(path), open_timeout=15, close_timeout=3,
                 compression=None, max_size=None, ping_interval=None)
    ws.__enter__()  # websockets >= 17.1 warns unless entered
    hello = ws.recv(15)
    assert hello.startswith("joined "), hello
    return ws, int(hello.split()[1])


def join_distinct_workers(server, group: str, workers: int, tries: int = 40):
    """One member per worker process of ``server`` (gunicorn -w N)."""
    by_pid, extra = {}, []
    for _ in range(tries):
        ws, pid = join(server, group)
        if pid in by_pid:
            extra.append(ws)
        else:
            by_pid[pid] = ws
        if len(by_pid) == workers:
            break
    for ws in extra:
        ws.close()
    assert len(by_pid) == workers, f"{server.name}: only pids {sorted(by_pid)} after {tries} connections"
    return list(by_pid.items())


def receive(ws, count: int, timeout: float) -> list[str]:
    """``count`` messages within ``timeout`` seconds (fails with what came)."""
    deadline = time.monotonic() + timeout
    got = []
    while len(got) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{len(got)} of {count} messages within {timeout} s; last: {got[-3:]}")
        try:
            got.append(ws.recv(remaining))
        except TimeoutError:
            continue
    return got


def publish(server, group: str, text: str) -> tuple[int, str]:
    """GET /ws/group-publish/ (a plain HTTP view calls send_to_group)."""
    query = urllib.parse.urlencode({"group": group, "text": text})
    status, body = server.http_get(f"/ws/group-publish/?{query}", timeout=15)
    return status, body.decode("utf-8", "replace")


def process_stats(server, pids_wanted: int = 1, tries: int = 30) -> dict[int, dict]:
    """pid -> {threads, fds, dropped} of each worker (several GETs for -w N)."""
    import json

    found = {}
    for _ in range(tries):
        status, body = server.http_get("/ws/process-stats/")
        assert status == 200, body
        stats = json.loads(body)
        found[stats["pid"]] = stats
        if len(found) >= pids_wanted:
            break
    return found
