"""The WEBSOCKET_COMPRESSION* settings, on a real server (gunicorn gthread
serving wsproject with a settings module written for the test), and their
system checks."""

import textwrap

import pytest
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.sync.client import connect

from django_servers import HERE, wsgi_server
from test_checks import run_check
from wsclient import raw_handshake, read_until_eof

OFFER = ClientPerMessageDeflateFactory(client_max_window_bits=True)


def served_with(tmp_path, settings: str):
    (tmp_path / "compression_settings.py").write_text(
        "from wsproject.settings import *  # noqa\n" + textwrap.dedent(settings)
    )
    return wsgi_server(
        "gunicorn-gthread", tmp_path,
        DJANGO_SETTINGS_MODULE="compression_settings", PYTHONPATH=f"{HERE}:{tmp_path}",
    )


def test_compression_off_declines_the_offer_and_rsv1_is_1002(tmp_path):
    with served_with(tmp_path, "WEBSOCKET_COMPRESSION = False") as server:
        sock, response, rest = raw_handshake(
            server.port, "/echo/", extra=b"Sec-WebSocket-Extensions: permessage-deflate\r\n",
        )
        assert b" 101 " in response and b"sec-websocket-extensions" not in response.lower()
        # A text frame with RSV1 (masked, "x"): the server fails with 1002.
        sock.sendall(bytes([0xC1, 0x81, 1, 2, 3, 4, ord("x") ^ 1]))
        data = read_until_eof(sock, rest)
        sock.close()
        assert data[:1] == b"\x88" and data[2:4] == (1002).to_bytes(2, "big"), data


def test_every_compression_setting_reaches_the_wire(tmp_path):
    with served_with(tmp_path, """
        WEBSOCKET_COMPRESSION_THRESHOLD = 0
        WEBSOCKET_COMPRESSION_SERVER_CONTEXT_TAKEOVER = True
        WEBSOCKET_COMPRESSION_CLIENT_CONTEXT_TAKEOVER = False
        WEBSOCKET_COMPRESSION_SERVER_MAX_WINDOW_BITS = 10
        WEBSOCKET_COMPRESSION_CLIENT_MAX_WINDOW_BITS = 9
        WEBSOCKET_COMPRESSION_MEM_LEVEL = 4
        WEBSOCKET_COMPRESSION_LEVEL = 9
    """) as server:
        with connect(server.url + "/echo/", extensions=[OFFER], compression=None) as ws:
            assert ws.response.headers["Sec-WebSocket-Extensions"] == (
                "permessage-deflate; client_no_context_takeover; "
                "server_max_window_bits=10; client_max_window_bits=9")
            [extension] = ws.protocol.extensions
            compressed = []
            decode = extension.decode
            extension.decode = lambda frame, *, max_size=None: (
                compressed.append(frame.rsv1) or decode(frame, max_size=max_size))
            # The client inflates with a 10-bit window and keeps the server's
            # context: it would fail on a frame that used more.
            for i in range(20):
                message = f"tiny {i}" if i % 2 else "x" * 3000 + str(i) * 2000
                ws.send(message)
                assert ws.recv(timeout=10) == message
            assert compressed == [True] * 20  # threshold 0: even "tiny 1"


@pytest.mark.parametrize(
    "setting",
    [
        "WEBSOCKET_COMPRESSION = 'yes'",
        "WEBSOCKET_COMPRESSION_THRESHOLD = -1",
        "WEBSOCKET_COMPRESSION_SERVER_MAX_WINDOW_BITS = 8",
        "WEBSOCKET_COMPRESSION_CLIENT_MAX_WINDOW_BITS = 16",
        "WEBSOCKET_COMPRESSION_MEM_LEVEL = 0",
        "WEBSOCKET_COMPRESSION_LEVEL = 10",
        "WEBSOCKET_COMPRESSION_SERVER_CONTEXT_TAKEOVER = 1",
    ],
)
def test_invalid_compression_settings_fail_the_checks(tmp_path, setting):
    name = setting.split()[0]
    output = run_check(tmp_path, setting)
    assert "dwebsocket_c.E001" in output and name in output, output
