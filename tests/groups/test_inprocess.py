"""The in-process default (no WEBSOCKET_GROUPS_URL): groups within one
server process, under runserver and gevent.pywsgi; the API's answers to
bad input; the settings check."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid

import pytest
from group_env import LOG_DIR, django_env
from dws_servers import EXAMPLE_DIR, ServerProcess, migrate, server_env
from group_clients import join, publish, receive

from dwebsocket_c import _core
from dwebsocket_c.exceptions import InvalidTextError
from dwebsocket_c.groups import build_group_frame, user_group
from dwebsocket_c.groups.redis_backend import is_server_frame, redacted
from dwebsocket_c.groups.registry import check_group_name


@pytest.fixture(scope="module")
def local_servers():
    """runserver and gevent.pywsgi with no REDIS_URL: in-process groups."""
    log_dir = LOG_DIR / "in-process"
    log_dir.mkdir(exist_ok=True)
    db_path = log_dir / "db.sqlite3"
    migrate(db_path, log_dir)
    servers = {name: ServerProcess(name, log_dir, server_env(db_path)).start()
               for name in ("runserver", "gevent-pywsgi")}
    try:
        for server in servers.values():
            server.wait_ready(60)
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.mark.parametrize("name", ["runserver", "gevent-pywsgi"])
def test_chat_within_one_process(local_servers, name):
    server = local_servers[name]
    group = f"local-{uuid.uuid4().hex[:8]}"
    members = [join(server, group)[0] for _ in range(3)]
    try:
        def talk(index, ws):
            for k in range(30):
                ws.send(f"{index}:{k}")

        threads = [threading.Thread(target=talk, args=(i, ws)) for i, ws in enumerate(members)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for ws in members:
            got = receive(ws, 90, timeout=20)
            for sender in range(3):
                assert [m for m in got if m.startswith(f"{sender}:")] == [f"{sender}:{k}" for k in range(30)]
        # A plain HTTP view of the same process reaches them too.
        assert publish(server, group, "from a view") == (200, "sent")
        for ws in members:
            assert receive(ws, 1, timeout=10) == ["from a view"]
        members[0].close()  # a closed connection leaves its groups
        assert publish(server, group, "after one left") == (200, "sent")
        for ws in members[1:]:
            assert receive(ws, 1, timeout=10) == ["after one left"]
    finally:
        for ws in members:
            ws.close()


def test_download_page_without_redis(local_servers):
    from websockets.sync.client import connect

    with connect(local_servers["runserver"].ws_url("/download/"), open_timeout=15, close_timeout=3) as ws:
        got = [ws.recv(30) for _ in range(6)]
    assert got == ["20%", "40%", "60%", "80%", "100%", "下载完成"]


def test_group_names_are_checked():
    assert check_group_name("user.42") == "user.42"
    with pytest.raises(TypeError, match="must be a str"):
        check_group_name(42)
    with pytest.raises(ValueError, match="1 to 200 UTF-8 bytes"):
        check_group_name("")
    with pytest.raises(ValueError, match="1 to 200 UTF-8 bytes"):
        check_group_name("组" * 67)  # 201 bytes


def test_group_frames_follow_send_rules():
    assert build_group_frame("下载完成") == _core.build_frame(_core.OP_TEXT, "下载完成".encode())
    assert build_group_frame("下载完成".encode()) == _core.build_frame(_core.OP_TEXT, "下载完成".encode())
    assert build_group_frame(b"\xff", binary=True) == _core.build_frame(_core.OP_BINARY, b"\xff")
    with pytest.raises(InvalidTextError, match="binary=True"):
        build_group_frame(b"\xff")
    with pytest.raises(TypeError, match="takes str or bytes"):
        build_group_frame(42)
    big = build_group_frame(b"x" * 70000, binary=True)
    assert is_server_frame(big) and is_server_frame(build_group_frame("a"))
    assert not is_server_frame(big[:-1]) and not is_server_frame(b"hello")


def test_user_group_and_redacted_urls():
    class User:
        pk = 42

    assert user_group(User()) == "user.42" and user_group(42) == "user.42"
    with pytest.raises(ValueError, match="saved user"):
        user_group(type("Anonymous", (), {"pk": None})())
    assert redacted("redis://:secret@host:6379/0") == "redis://:***@host:6379/0"
    assert redacted("redis://host:6379/0") == "redis://host:6379/0"


def test_settings_check_refuses_a_url_that_is_not_redis():
    env = django_env("http://127.0.0.1:6379/")
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=EXAMPLE_DIR, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "dwebsocket_c.E001" in done.stderr and "WEBSOCKET_GROUPS_URL" in done.stderr, done.stderr


def _raw_member(server, group: str):
    """A raw client that offers permessage-deflate, joined to ``group``."""
    from wsraw import RawWebSocket

    r = RawWebSocket(server.host, server.port, timeout=15)
    resp = r.handshake(f"/ws/group/{group}/", {
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"})
    assert resp.status == 101, resp
    assert "permessage-deflate" in (resp.header("Sec-WebSocket-Extensions") or ""), resp
    return r


def _raw_frame(r) -> tuple[int, bytes]:
    """(first header byte, payload) of the next server frame, RSV bits allowed."""
    r._fill(2)
    length, pos = r.buf[1] & 0x7F, 2
    if length == 126:
        r._fill(4)
        length, pos = int.from_bytes(r.buf[2:4], "big"), 4
    r._fill(pos + length)
    first, payload = r.buf[0], r.buf[pos:pos + length]
    r.buf = r.buf[pos + length:]
    return first, payload


@pytest.mark.parametrize("name", ["runserver", "gevent-pywsgi"])
def test_group_message_compressed_once_for_deflate_members(local_servers, name):
    """Members that negotiated permessage-deflate get the group message
    compressed (RSV1), the same bytes for all of them: compressed once."""
    import zlib

    server = local_servers[name]
    group = f"deflate-{uuid.uuid4().hex[:8]}"
    members = [_raw_member(server, group) for _ in range(3)]
    try:
        for r in members:
            first, payload = _raw_frame(r)
            assert payload.startswith(b"joined "), payload
        text = '{"progress": 42, "note": "' + "almost there " * 150 + '"}'
        assert publish(server, group, text) == (200, "sent")
        frames = [_raw_frame(r) for r in members]
        assert all(first == 0xC1 for first, _ in frames), frames  # FIN, RSV1, text
        assert len({payload for _, payload in frames}) == 1
        payload = frames[0][1]
        assert len(payload) < len(text) // 5
        inflated = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
        assert inflated.decode() == text
    finally:
        for r in members:
            r.close()
