"""Opening handshake: SHA-1, base64, accept key, check_request,
select_subprotocol and build_response."""

import base64
import hashlib
import sys

import pytest

from dwebsocket_c import _core
from dwebsocket_c._core import HandshakeError

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
# RFC 6455 section 1.3 (and section 4.2.2 step 5.4).
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def data(n):
    return bytes((i * 37 + n) & 0xFF for i in range(n))


# -- SHA-1 and base64 -------------------------------------------------------------


def test_sha1_fips_vectors():
    assert _core.sha1(b"abc").hex() == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert _core.sha1(b"").hex() == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert (
        _core.sha1(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex()
        == "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
    )


def test_sha1_against_hashlib():
    for n in list(range(0, 200)) + [1000, 4096, 100003]:
        d = data(n)
        assert _core.sha1(d) == hashlib.sha1(d).digest(), n
    assert _core.sha1(bytearray(b"x" * 1_000_000)) == hashlib.sha1(b"x" * 1_000_000).digest()


def test_base64_against_stdlib():
    for n in range(0, 100):
        d = data(n)
        enc = base64.b64encode(d)
        assert _core.base64_encode(d) == enc
        assert _core.base64_decode(enc) == d
        assert _core.base64_decode(enc.decode()) == d
    all_bytes = bytes(range(256)) * 2
    assert _core.base64_encode(all_bytes) == base64.b64encode(all_bytes)
    assert _core.base64_decode(base64.b64encode(all_bytes)) == all_bytes


@pytest.mark.parametrize(
    "bad",
    ["A", "AA", "AAA", "AAAAA", "A===", "====", "AA=A", "A=AA", "=AAA", "AA==AA==",
     "AAA=AAAA", "AB CD", "ABCD\n", " ABC", "AB-_", "ABC\x00", "ABCé", "ABC.", "AB:D"],
)
def test_base64_decode_is_strict(bad):
    with pytest.raises(ValueError):
        _core.base64_decode(bad)
    with pytest.raises(ValueError):
        _core.base64_decode(bad.encode("utf-8"))


def test_base64_decode_padding_forms():
    assert _core.base64_decode("") == b""
    assert _core.base64_decode("YQ==") == b"a"
    assert _core.base64_decode("YWI=") == b"ab"
    assert _core.base64_decode("YWJj") == b"abc"
    # Non-canonical trailing bits are tolerated, as by b64decode(validate=True).
    assert _core.base64_decode("YR==") == base64.b64decode("YR==", validate=True)


# -- accept key ------------------------------------------------------------------


def test_accept_key_rfc_vector():
    assert _core.accept_key(KEY) == ACCEPT
    assert _core.accept_key(KEY.encode()) == ACCEPT


def test_accept_key_against_python():
    guid = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    for key in (b"", b"x", b"AQIDBAUGBwgJCgsMDQ4PEC==", data(100)):
        expected = base64.b64encode(hashlib.sha1(key + guid).digest()).decode()
        assert _core.accept_key(key) == expected
    with pytest.raises(TypeError):
        _core.accept_key(5)


# -- check_request ---------------------------------------------------------------


def check(method="GET", upgrade="websocket", connection="Upgrade", version="13", key=KEY):
    return _core.check_request(method, upgrade, connection, version, key)


def refused(status, **kw):
    with pytest.raises(HandshakeError) as e:
        check(**kw)
    assert e.value.status == status
    assert e.value.args == (status, e.value.reason)
    assert str(e.value) == e.value.reason and e.value.reason
    assert isinstance(e.value, _core.WebSocketError)
    return e.value


def test_valid_request():
    assert check() == ACCEPT
    assert _core.check_request(method="GET", upgrade="websocket", connection="Upgrade",
                               version="13", key=KEY) == ACCEPT


@pytest.mark.parametrize(
    "upgrade",
    ["websocket", "WebSocket", "WEBSOCKET", "websocket, foo", "foo, websocket", "h2c,websocket",
     " websocket ", "websocket\t,\tfoo", ",websocket,"],
)
def test_upgrade_token_forms(upgrade):
    assert check(upgrade=upgrade) == ACCEPT


@pytest.mark.parametrize(
    "connection",
    ["Upgrade", "upgrade", "UPGRADE", "keep-alive, Upgrade", "Upgrade, keep-alive",
     "keep-alive,upgrade", "  upgrade  ", "close ,\tUpgrade"],
)
def test_connection_token_forms(connection):
    assert check(connection=connection) == ACCEPT


@pytest.mark.parametrize("method", ["POST", "get", "HEAD", "", "GET "])
def test_bad_method(method):
    refused(400, method=method)


@pytest.mark.parametrize("upgrade", [None, "", "websocket2", "web socket", "h2c", "websocket/13", "foo websocket"])
def test_bad_upgrade(upgrade):
    refused(400, upgrade=upgrade)


@pytest.mark.parametrize("connection", [None, "", "keep-alive", "upgraded", "Upgrade-Insecure", "upgrade keep-alive"])
def test_bad_connection(connection):
    refused(400, connection=connection)


@pytest.mark.parametrize(
    "key",
    [None, "", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ",  # 23/22 chars
     "dGhlIHNhbXBsZSBub25jZQ===", "dGhlIHNhbXBsZSBub25j",  # 15 bytes
     "dGhlIHNhbXBsZSBub25jZTEy",  # 18 bytes
     "dGhlIHNhbXBsZSBub25jZTE=",  # 17 bytes
     "dGhlIHNhbXBsZSBub25jZQ!!", "dGhl IHNhbXBsZSBub25jZQ=", "not base64 at all"],
)
def test_bad_key(key):
    refused(400, key=key)


def test_key_must_decode_to_16_bytes():
    good = base64.b64encode(bytes(range(16))).decode()
    assert check(key=good) == _core.accept_key(good)
    assert check(key=" " + good + " ") == _core.accept_key(good)  # optional whitespace


@pytest.mark.parametrize("version", [None, "", "8", "12", "14", "13, 8", "013", "1 3"])
def test_bad_version_is_426(version):
    e = refused(426, version=version)
    assert "version" in e.reason.lower()


def test_version_with_whitespace():
    assert check(version=" 13 ") == ACCEPT


def test_bytes_arguments_and_type_errors():
    assert _core.check_request(b"GET", b"websocket", b"Upgrade", b"13", KEY.encode()) == ACCEPT
    with pytest.raises(TypeError):
        _core.check_request("GET", 1, "Upgrade", "13", KEY)
    with pytest.raises(TypeError):
        _core.check_request("GET", "websocket", "Upgrade", "13")


def test_handshake_error_class():
    e = HandshakeError(426, "nope")
    assert (e.status, e.reason, e.args, str(e)) == (426, "nope", (426, "nope"), "nope")


# -- select_subprotocol ----------------------------------------------------------


def test_select_subprotocol():
    sel = _core.select_subprotocol
    assert sel("chat, superchat", ["superchat", "chat"]) == "superchat"  # server's order
    assert sel("chat, superchat", ["chat", "superchat"]) == "chat"
    assert sel("a,b ,\tc", ["c"]) == "c"
    assert sel("chat", ["other"]) is None
    assert sel(None, ["chat"]) is None
    assert sel("chat", []) is None
    assert sel("Chat", ["chat"]) is None  # exact comparison
    assert sel("a,,b", [""]) is None
    assert sel("chat.v2", ["chat"]) is None
    assert sel("chat", ("x", "chat")) == "chat"
    with pytest.raises(TypeError):
        sel("chat", [b"chat"])
    with pytest.raises(TypeError):
        sel("chat", 5)


# -- build_response --------------------------------------------------------------


def test_build_response_exact_bytes():
    assert _core.build_response(ACCEPT) == (
        b"HTTP/1.1 101 Switching Protocols\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        b"\r\n"
    )
    assert _core.build_response(ACCEPT, "chat", [("X-A", "1"), ("Set-Cookie", "a=b; Path=/")]) == (
        b"HTTP/1.1 101 Switching Protocols\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        b"Sec-WebSocket-Protocol: chat\r\n"
        b"X-A: 1\r\n"
        b"Set-Cookie: a=b; Path=/\r\n"
        b"\r\n"
    )
    assert _core.build_response(ACCEPT, None, (("X", "y"),)).endswith(b"Accept: " + ACCEPT.encode() + b"\r\nX: y\r\n\r\n")
    assert _core.build_response(accept="a", subprotocol="p", extra_headers=[]) == (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: a\r\nSec-WebSocket-Protocol: p\r\n\r\n"
    )


@pytest.mark.parametrize("bad", ["a\rb", "a\nb", "a\x00b", "\r\n", "x\r\nEvil: 1"])
def test_build_response_refuses_injection(bad):
    with pytest.raises(ValueError):
        _core.build_response(bad)
    with pytest.raises(ValueError):
        _core.build_response(ACCEPT, bad)
    with pytest.raises(ValueError):
        _core.build_response(ACCEPT, None, [(bad, "v")])
    with pytest.raises(ValueError):
        _core.build_response(ACCEPT, None, [("X-Ok", "fine"), ("N", bad)])


def test_build_response_type_errors():
    with pytest.raises(TypeError):
        _core.build_response(ACCEPT, None, [("only-one",)])
    with pytest.raises(TypeError):
        _core.build_response(ACCEPT, None, [("name", 5)])
    with pytest.raises(TypeError):
        _core.build_response(ACCEPT, None, 5)
    with pytest.raises(ValueError):  # UnicodeEncodeError: not ISO-8859-1
        _core.build_response(ACCEPT, None, [("X", "☃")])


def test_handshake_refcounts_stable():
    supported = ["a", "chat"]
    headers = [("X-A", "1")]
    before = sys.getrefcount(supported[1]), sys.getrefcount(headers[0])
    for _ in range(10000):
        check()
        _core.select_subprotocol("x, chat", supported)
        _core.build_response(ACCEPT, "chat", headers)
        try:
            check(version="8")
        except HandshakeError:
            pass
    assert (sys.getrefcount(supported[1]), sys.getrefcount(headers[0])) == before
