"""permessage-deflate with a real client: the `websockets` library, its
compression on, against the example project on every server.

The client checks what it receives itself (it inflates with the window the
server announced and fails the connection on a bad frame); these tests
count how many of the server's replies came compressed (RSV1), and check
that every message of 10 B to 512 KiB comes back intact, text and binary,
under the client's default offer and under stricter parameters.
"""

from __future__ import annotations

import os

import pytest
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.sync.client import connect as ws_connect

MIB = 1 << 20
SIZES = [10, 200, 5000, 70000, 512 * 1024]


def payload(size: int, binary: bool) -> str | bytes:
    unit = b'{"event": "tick", "value": 42, "tags": ["x", "y"]} '
    data = (unit * (size // len(unit) + 1))[:size]
    if binary:
        return bytes(b ^ 0x5A for b in data[: size // 2]) + os.urandom(size - size // 2)
    return data.decode()


def count_compressed(ws) -> list[int]:
    """Count the frames with RSV1 that the client inflates."""
    [extension] = ws.protocol.extensions
    counter = [0]
    decode = extension.decode

    def counting(frame, *, max_size=None):
        if frame.rsv1:
            counter[0] += 1
        return decode(frame, max_size=max_size)

    extension.decode = counting
    return counter


def exchange(ws, rounds: int = 2) -> int:
    sent = 0
    for _ in range(rounds):
        for size in SIZES:
            for binary in (False, True):
                message = payload(size, binary)
                ws.send(message)
                assert ws.recv(timeout=20) == message, (size, binary)
                sent += 1
    return sent


CONFIGS = {
    # What the websockets client offers by default.
    "default": ClientPerMessageDeflateFactory(client_max_window_bits=True),
    "small-windows-no-takeover": ClientPerMessageDeflateFactory(
        server_max_window_bits=10, client_max_window_bits=9,
        server_no_context_takeover=True, client_no_context_takeover=True,
    ),
    "window-15-takeover": ClientPerMessageDeflateFactory(
        server_max_window_bits=15, client_max_window_bits=15,
    ),
}

EXPECTED_HEADER = {
    "default": "permessage-deflate; server_no_context_takeover; client_max_window_bits=12",
    "small-windows-no-takeover": "permessage-deflate; server_no_context_takeover; "
    "client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
    "window-15-takeover": "permessage-deflate; server_no_context_takeover; "
    "server_max_window_bits=15; client_max_window_bits=12",
}


@pytest.mark.parametrize("config", list(CONFIGS))
def test_websockets_client_with_compression(server, config):
    with ws_connect(
        server.ws_url("/ws/echo/"), extensions=[CONFIGS[config]], compression=None,
        max_size=4 * MIB, open_timeout=10, close_timeout=5, ping_interval=None,
    ) as ws:
        assert ws.response.headers["Sec-WebSocket-Extensions"] == EXPECTED_HEADER[config]
        compressed = count_compressed(ws)
        sent = exchange(ws)
        # Every reply of at least 128 bytes (WEBSOCKET_COMPRESSION_THRESHOLD)
        # came compressed; the 10-byte ones did not.
        assert compressed[0] == sent - 2 * 2, (compressed[0], sent)
