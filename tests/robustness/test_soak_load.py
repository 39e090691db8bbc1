"""Items 7 and 8: many messages over many connections.

* Soak (gunicorn gthread and gevent): 50 rounds x 100 concurrent
  connections x 200 messages = 1,000,000 echoed messages per server (gthread:
  40 connections a round, under its 45 open websockets per process; 15-30 s
  each), each connection opened, used and closed (closing handshake)
  within its round. The server's RSS is taken after 20 warm-up rounds and
  at the end of the 30 others: growth below 10 MiB; its open fds and
  threads, once the connections are closed, back to the warm-up figures.
  Measured (Nov 2026, 2 cores): RSS climbs ~20 MiB over the first ~20
  rounds (gthread's pool growing to its 50 threads, allocator arenas), then
  grows by less and less (+1.4, +0.7, +0.3, +0.5, +0.3 MiB per 10 rounds
  with glibc's default arenas; flat with MALLOC_ARENA_MAX=2, which the
  servers here run with): fragmentation, not a per-connection leak.
* Load (gunicorn gevent): 1,000 concurrent connections (asyncio
  `websockets` client, one process), 20 unique messages each: every message
  echoed exactly once, in order, no error.
"""

from __future__ import annotations

import asyncio
import os
import resource
import threading
import time

import pytest

import wsraw
from robust_helpers import (
    SANITIZER_RSS_ALLOWANCE_KIB, OP_CLOSE, OP_TEXT, fd_count, raw_open, recv_close, rss_kib, settle, socket_fd_count, thread_count,
)

SOAK_WARMUP_ROUNDS = 20
SOAK_ROUNDS = 50  # warm-up included
SOAK_CONNECTIONS = 100
#: gunicorn gthread --threads 50 holds at most 45 open websockets (5 threads
#: stay for HTTP; dwebsocket_c.capacity): the excess would get 503. A round
#: there stays under that, with room for slots still being released.
SOAK_CONNECTIONS_GTHREAD = 40
SOAK_MESSAGES = 200
SOAK_RSS_BOUND_KIB = 10 * 1024 + SANITIZER_RSS_ALLOWANCE_KIB

LOAD_CONNECTIONS = 1000
LOAD_MESSAGES = 20


def _conversation(server, tag: str, errors: list) -> None:
    """One connection: SOAK_MESSAGES unique text messages sent in one burst,
    every echo checked in order, then the closing handshake and EOF."""
    try:
        r = raw_open(server, timeout=30)
        try:
            payloads = [f"{tag}:{i}:{'x' * (i % 50)}".encode() for i in range(SOAK_MESSAGES)]
            r.send_raw(b"".join(wsraw.build_frame(OP_TEXT, p) for p in payloads))
            for expected in payloads:
                op, payload = r.recv_message()
                if (op, payload) != (OP_TEXT, expected):
                    raise AssertionError(f"{tag}: expected {expected!r}, got {(op, payload[:80])!r}")
            r.send_close(1000)
            code, _, _ = recv_close(r, 10)
            if code != 1000:
                raise AssertionError(f"{tag}: close code {code}")
            if r.read_until_eof(timeout=10) != b"":
                raise AssertionError(f"{tag}: bytes after the closing handshake")
        finally:
            r.close()
    except Exception as exc:  # collected, reported by the test
        errors.append(f"{tag}: {exc!r}")


def _round(server, number: int, connections: int) -> list:
    errors: list = []
    threads = [threading.Thread(target=_conversation, args=(server, f"r{number}c{c}", errors))
               for c in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


#: gunicorn gthread's --threads in tests/integration/dws_servers.py.
GTHREAD_POOL_THREADS = 50


@pytest.mark.slow
@pytest.mark.parametrize("server", ["gunicorn-gthread", "gunicorn-gevent"], indirect=True)
def test_soak(server, figures):
    connections = SOAK_CONNECTIONS_GTHREAD if server.name == "gunicorn-gthread" else SOAK_CONNECTIONS
    for number in range(SOAK_WARMUP_ROUNDS):  # thread pools, imports, allocator arenas
        errors = _round(server, number, connections)
        assert not errors, f"warm-up round {number}: {errors[:5]}"
    rss_warm = settle(lambda: rss_kib(server))
    fds_warm = settle(lambda: fd_count(server))
    sockets_warm = socket_fd_count(server)
    threads_warm = thread_count(server)
    start = time.monotonic()
    rss_rounds = []
    for number in range(SOAK_WARMUP_ROUNDS, SOAK_ROUNDS):
        errors = _round(server, number, connections)
        assert not errors, f"round {number}: {len(errors)} failed conversations: {errors[:5]}"
        rss_rounds.append(rss_kib(server))
    took = time.monotonic() - start
    messages = (SOAK_ROUNDS - SOAK_WARMUP_ROUNDS) * connections * SOAK_MESSAGES
    rss_end = settle(lambda: rss_kib(server))
    fds_end = settle(lambda: fd_count(server), timeout=10)
    sockets_end = socket_fd_count(server)
    threads_end = thread_count(server)
    total = SOAK_ROUNDS * connections * SOAK_MESSAGES
    figures(f"{server.name}: messages echoed (connections)", f"{total:,} ({SOAK_ROUNDS * connections:,})")
    figures(f"{server.name}: echoed messages/s after warm-up", messages / took)
    figures(f"{server.name}: RSS after warm-up / end (KiB)", f"{rss_warm:,} / {rss_end:,} "
                                                            f"(+{(rss_end - rss_warm) / 1024:.1f} MiB)")
    figures(f"{server.name}: RSS every 5th round (KiB)", " ".join(f"{v:,}" for v in rss_rounds[::5]))
    figures(f"{server.name}: fds (sockets) after warm-up / end", f"{fds_warm} ({sockets_warm}) / {fds_end} ({sockets_end})")
    figures(f"{server.name}: threads after warm-up / end", f"{threads_warm} / {threads_end}")
    assert rss_end - rss_warm < SOAK_RSS_BOUND_KIB, (
        f"RSS grew by {(rss_end - rss_warm) / 1024:.1f} MiB over {messages:,} messages")
    assert fds_end <= fds_warm, f"file descriptors left open: {fds_warm} after warm-up, {fds_end} at the end"
    # gthread's pool starts threads lazily, up to --threads (50): it may still
    # be growing after warm-up. A leak would go past the pool's size.
    thread_bound = max(threads_warm, GTHREAD_POOL_THREADS + 4) if server.name == "gunicorn-gthread" else threads_warm
    assert threads_end <= thread_bound, f"threads: {threads_warm} after warm-up, {threads_end} at the end"


# --------------------------------------------------------------------- load


async def _load_client(url: str, index: int, stats: dict) -> None:
    from websockets.asyncio.client import connect

    payloads = [f"c{index}-m{i}-{os.urandom(6).hex()}" for i in range(LOAD_MESSAGES)]
    async with connect(url, open_timeout=60, close_timeout=10, ping_interval=None,
                       compression=None, max_queue=None) as ws:
        stats["open"] += 1
        stats["peak"] = max(stats["peak"], stats["open"])
        # all clients hold their connection until every one is open
        await stats["all_open"].wait()
        for p in payloads:
            await ws.send(p)
        received = [await asyncio.wait_for(ws.recv(), 60) for _ in payloads]
        if received != payloads:
            lost = [p for p in payloads if p not in received]
            raise AssertionError(f"client {index}: {len(lost)} lost, order/content wrong: "
                                 f"{received[:3]!r}... vs {payloads[:3]!r}...")
        stats["echoed"] += len(received)
        stats["open"] -= 1


async def _load(url: str) -> tuple[dict, list]:
    stats = {"open": 0, "peak": 0, "echoed": 0, "all_open": asyncio.Event()}
    tasks = [asyncio.create_task(_load_client(url, i, stats)) for i in range(LOAD_CONNECTIONS)]
    deadline = time.monotonic() + 90
    while stats["open"] < LOAD_CONNECTIONS and time.monotonic() < deadline:
        if any(t.done() and t.exception() for t in tasks):
            break
        await asyncio.sleep(0.05)
    stats["all_open_at"] = time.monotonic()
    stats["all_open"].set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    return stats, errors


@pytest.mark.slow
@pytest.mark.parametrize("server", ["gunicorn-gevent"], indirect=True)
def test_load_1000_concurrent_connections(server, figures):
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft >= LOAD_CONNECTIONS + 200, (
        f"RLIMIT_NOFILE is {soft}: raise the hard limit (ulimit -Hn) to >= {LOAD_CONNECTIONS + 200}")
    rss_before = rss_kib(server)
    sockets_before = socket_fd_count(server)
    start = time.monotonic()
    stats, errors = asyncio.run(_load(server.ws_url("/ws/echo/")))
    took = time.monotonic() - start
    sockets_after = settle(lambda: socket_fd_count(server), timeout=10)
    figures("gunicorn-gevent: concurrent connections open at once", stats["peak"])
    figures("gunicorn-gevent: messages echoed / expected", f"{stats['echoed']:,} / {LOAD_CONNECTIONS * LOAD_MESSAGES:,}")
    figures("gunicorn-gevent: time to open all / whole run (s)", f"{stats['all_open_at'] - start:.2f} / {took:.2f}")
    figures("gunicorn-gevent: RSS before / after (KiB)", f"{rss_before:,} / {rss_kib(server):,}")
    figures("gunicorn-gevent: server sockets before / after", f"{sockets_before} / {sockets_after}")
    assert not errors, f"{len(errors)} clients failed: {errors[:5]}"
    assert stats["peak"] == LOAD_CONNECTIONS, f"only {stats['peak']} connections were open at once"
    assert stats["echoed"] == LOAD_CONNECTIONS * LOAD_MESSAGES
    assert sockets_after <= sockets_before
