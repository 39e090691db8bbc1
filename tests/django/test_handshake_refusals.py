"""Refused handshakes on every server: HTTP/1.0 and a missing Host (RFC 6455
section 4.2.1), Origin wildcards, and the log line each refusal leaves.

Each test runs once per server of conftest.WEBSOCKET_SERVERS. The servers
write the ``dwebsocket_c`` logger to their log file (wsproject/settings.py);
``log_since`` reads what a test added to it. Every test provokes refusals of
a reason no other test of this module uses, so that the rate limit (one line
per reason per 10 s) never hides a line a test looks for.
"""

import base64
import os
import socket

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from django_servers import wsgi_server

#: In wsproject/settings.py's WEBSOCKET_ALLOWED_ORIGINS.
TRUSTED_WILDCARD = "http://*.trusted.example"


def raw_request(port, request_line, *, host=True, key=None):
    """Send a complete WebSocket handshake with ``request_line`` (and a Host
    header if ``host``); return (status, head, body) of the answer."""
    key = key or base64.b64encode(os.urandom(16)).decode()
    head = f"{request_line}\r\n"
    if host:
        head += f"Host: 127.0.0.1:{port}\r\n"
    head += (
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        answer, _, body = data.partition(b"\r\n\r\n")
        headers = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(b":") for line in answer.split(b"\r\n")[1:])
        )
        chunked = headers.get(b"transfer-encoding") == b"chunked"
        length = int(headers[b"content-length"]) if b"content-length" in headers else None
        # a keep-alive answer ends with its length or its last chunk, else at
        # EOF; a 101 has no body
        while b" 101 " not in answer.split(b"\r\n")[0] and not (len(body) == length or chunked and body.endswith(b"0\r\n\r\n")):
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            body += chunk
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
    return status, answer, body


def refusal_lines(log, reason):
    return [
        line for line in log.splitlines()
        if "WebSocket handshake refused" in line and reason in line
    ]


def test_http_1_0_handshake_gets_400_and_a_log_line(server):
    mark = server.log_mark()
    if server.name == "eventlet":
        # eventlet.wsgi says "HTTP/1.0" in SERVER_PROTOCOL for every request:
        # the version is invisible there and not checked (README). This
        # tells when that changes.
        status, head, body = raw_request(server.port, "GET /echo/ HTTP/1.0")
        assert status == 101, head + body
        return
    status, head, body = raw_request(server.port, "GET /echo/ HTTP/1.0")
    assert status == 400, head + body
    assert b"needs HTTP/1.1 or later" in body, body
    # HTTP/1.0 without Host too (a Host is optional in HTTP/1.0)
    status, head, body = raw_request(server.port, "GET /echo/ HTTP/1.0", host=False)
    assert status == 400, head + body
    assert b"needs HTTP/1.1 or later" in body, body
    lines = refusal_lines(server.log_since(mark), "needs HTTP/1.1 or later")
    assert len(lines) == 1, server.log_since(mark)  # the second one is rate-limited
    assert "refused with 400 (GET /echo/ from 127.0.0.1)" in lines[0], lines


def test_missing_host_gets_400_and_a_log_line(server):
    mark = server.log_mark()
    status, head, body = raw_request(server.port, "GET /echo/ HTTP/1.1", host=False)
    assert status == 400, head + body
    assert b"missing Host header" in body, body
    lines = refusal_lines(server.log_since(mark), "missing Host header")
    assert len(lines) == 1, server.log_since(mark)


def test_origin_wildcard_matches_the_host_only(server):
    with connect(server.url + "/echo/", origin="http://a.trusted.example") as ws:
        ws.send("trusted subdomain")
        assert ws.recv() == "trusted subdomain"
    mark = server.log_mark()
    for origin in ("http://user@a.trusted.example", "http://evil.com%2F.trusted.example",
                   "http://a.trusted.example:8080", "https://a.trusted.example"):
        with pytest.raises(InvalidStatus) as info:
            connect(server.url + "/echo/", origin=origin)
        assert info.value.response.status_code == 403, origin
        assert origin.encode() in info.value.response.body
    lines = refusal_lines(server.log_since(mark), "refused with 403")
    assert len(lines) == 1, server.log_since(mark)
    # which Origin, and what the site's own origin is
    assert "'http://user@a.trusted.example'" in lines[0], lines
    assert f"(http://127.0.0.1:{server.port})" in lines[0], lines


def test_fifty_refusals_give_a_bounded_number_of_log_lines(server):
    mark = server.log_mark()
    for _ in range(50):
        status, head, body = raw_request(server.port, "GET /echo/ HTTP/1.1", key="short")
        assert status == 400, head + body
    log = server.log_since(mark)
    lines = refusal_lines(log, "Sec-WebSocket-Key")
    # one line per 10 s: two if the 50 took longer (a loaded machine)
    assert 1 <= len(lines) <= 2, log
    # and no line of Django's own per refused request (django.request)
    assert "Bad Request: /echo/" not in log, log


def test_middleware_refusal_of_an_undecorated_view_is_logged(tmp_path):
    """A handshake to a view that takes no WebSocket (WebSocketMiddleware's 400)."""
    with wsgi_server("gunicorn-gthread", tmp_path, WSPROJECT_MIDDLEWARE="1") as server:
        mark = server.log_mark()
        status, head, body = raw_request(server.port, "GET /plain/ HTTP/1.1")
        assert status == 400, head + body
        assert b"does not accept WebSocket connections" in body
        lines = refusal_lines(server.log_since(mark), "does not accept WebSocket")
        assert len(lines) == 1, server.log_since(mark)
        # a plain GET is no handshake: not logged, even when refused
        assert server.http_get("/plain/")[0] == 200
        assert server.http_get("/boom/")[0] == 400  # require_websocket
        assert len(refusal_lines(server.log_since(mark), "")) == 1, server.log_since(mark)
