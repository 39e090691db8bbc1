"""A decompression bomb against every server: permessage-deflate messages
that inflate to 256 MiB each, from a few clients at once, are refused with
1009 once WEBSOCKET_MAX_MESSAGE_SIZE (1 MiB) is passed, and the server's
RSS grows by about the limit per connection, not by what the bomb holds.
"""

from __future__ import annotations

import os
import threading
import zlib

import pytest

import wsraw
from dws_servers import SERVER_NAMES
from robust_helpers import (
    MIB, OP_BINARY, SANITIZER_RSS_ALLOWANCE_KIB, echo_once, recv_close, rss_kib,
)
from wsraw import RawWebSocket

CONNECTIONS = 4
INFLATED = 256 * MIB
# Per connection: the 1 MiB message buffer and the compressed frame; plus
# the allocator's slack: far below one bomb's 256 MiB.
RSS_GROWTH_BOUND_KIB = 24 * 1024 + SANITIZER_RSS_ALLOWANCE_KIB


@pytest.fixture(scope="module")
def bomb_frame() -> bytes:
    """256 MiB of zeros, compressed to ~256 KiB, as one masked RSV1 frame."""
    z = zlib.compressobj(level=9, wbits=-15)
    block = bytes(MIB)
    data = b"".join(z.compress(block) for _ in range(INFLATED // MIB))
    data = (data + z.flush(zlib.Z_SYNC_FLUSH))[:-4]
    key = os.urandom(4)
    header = bytearray(wsraw.frame_header(OP_BINARY, len(data), mask_key=key))
    header[0] |= 0x40  # RSV1: compressed
    return bytes(header) + wsraw.mask(data, key)


def deflate_open(server) -> RawWebSocket:
    r = RawWebSocket(server.host, server.port, timeout=20)
    resp = r.handshake(
        "/ws/echo/", {"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"}
    )
    assert resp.status == 101, resp
    agreed = resp.header("Sec-WebSocket-Extensions") or ""
    assert agreed.startswith("permessage-deflate"), agreed
    return r


@pytest.mark.parametrize("server", SERVER_NAMES, indirect=True)
def test_deflate_bomb_is_1009_with_bounded_memory(server, bomb_frame, figures):
    before = rss_kib(server)
    peak = before
    connections = [deflate_open(server) for _ in range(CONNECTIONS)]
    results: list[tuple[int, float] | BaseException] = []

    def attack(r: RawWebSocket) -> None:
        try:
            r.send_raw(bomb_frame)
            code, _, took = recv_close(r, timeout=30)
            results.append((code, took))
        except BaseException as exc:  # reported below
            results.append(exc)

    threads = [threading.Thread(target=attack, args=(r,)) for r in connections]
    try:
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak = max(peak, rss_kib(server))
            for t in threads:
                t.join(0.02)
        peak = max(peak, rss_kib(server))
    finally:
        for r in connections:
            r.close()
    errors = [x for x in results if isinstance(x, BaseException)]
    assert not errors, errors
    assert [code for code, _ in results] == [1009] * CONNECTIONS, results
    figures(f"{server.name}: slowest 1009 (s)", f"{max(took for _, took in results):.3f}")
    figures(f"{server.name}: RSS before / peak (KiB)", f"{before:,} / {peak:,}")
    figures(f"{server.name}: bomb inflates to / is sent as (bytes)",
            f"{CONNECTIONS} x {INFLATED:,} / {len(bomb_frame):,}")
    assert peak - before < RSS_GROWTH_BOUND_KIB, (
        f"RSS grew by {(peak - before) / 1024:.1f} MiB under {CONNECTIONS} bombs")
    echo_once(server)
