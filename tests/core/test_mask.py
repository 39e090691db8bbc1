"""Masking (RFC 6455 section 5.3): apply_mask / apply_mask_inplace against a
pure-Python loop, at every key offset, many lengths and odd alignments."""

import sys
import threading

import pytest

from dwebsocket_c import _core

KEY = b"\x37\xfa\x21\x3d"


def py_mask(data, key, offset=0):
    return bytes(b ^ key[(offset + i) % 4] for i, b in enumerate(data))


def payload(n, seed=1):
    return bytes((i * 131 + seed * 17 + (i >> 7)) & 0xFF for i in range(n))


def test_rfc_example():
    # Section 5.7: "Hello" masked with 37 fa 21 3d.
    assert _core.apply_mask(b"Hello", KEY) == bytes.fromhex("7f9f4d5158")
    assert _core.apply_mask(bytes.fromhex("7f9f4d5158"), KEY) == b"Hello"


@pytest.mark.parametrize("offset", [0, 1, 2, 3])
def test_every_length_and_offset(offset):
    for n in range(71):
        data = payload(n, n)
        assert _core.apply_mask(data, KEY, offset) == py_mask(data, KEY, offset), n


@pytest.mark.parametrize(
    "n", [127, 128, 129, 255, 256, 257, 1000, 4097, 65535, 65536, 65537, (1 << 20) + 3]
)
@pytest.mark.parametrize("offset", [0, 3])
def test_simd_boundaries_and_large(n, offset):
    data = payload(n, 7)
    expected = py_mask(data, KEY, offset) if n < 5000 else None
    got = _core.apply_mask(data, KEY, offset)
    if expected is not None:
        assert got == expected
    else:
        # Large: unmask in pieces with the running offset and compare.
        assert _core.apply_mask(got, KEY, offset) == data
        assert got[:999] == py_mask(data[:999], KEY, offset)
        tail = n - 777
        assert got[tail:] == py_mask(data[tail:], KEY, offset + tail)


def test_offset_is_taken_mod_4():
    data = payload(50)
    for offset in (4, 5, 7, 1001, 2**70 + 2, -1, -2, -5, -(2**70) + 1):
        assert _core.apply_mask(data, KEY, offset) == py_mask(data, KEY, offset % 4)


@pytest.mark.parametrize("start", range(1, 9))
def test_unaligned_input_and_output(start):
    # A memoryview into the middle of a buffer starts at an odd address.
    raw = bytearray(payload(300 + start, start))
    view = memoryview(raw)[start:]
    for n in (0, 1, 15, 16, 17, 33, 64, 65, 200, 300):
        assert _core.apply_mask(view[:n], KEY, start) == py_mask(raw[start : start + n], KEY, start)
    buf = bytearray(raw)
    _core.apply_mask_inplace(memoryview(buf)[start:], KEY, 1)
    assert bytes(buf[start:]) == py_mask(raw[start:], KEY, 1)
    assert buf[:start] == raw[:start]


def test_piecewise_unmasking_equals_whole():
    data = payload(1000, 3)
    whole = _core.apply_mask(data, KEY)
    pos, out = 0, b""
    for size in (1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 1000):
        piece = data[pos : pos + size]
        out += _core.apply_mask(piece, KEY, pos)
        pos += len(piece)
    assert out == whole


@pytest.mark.parametrize("n", [0, 1, 3, 4, 17, 70, 100000])
def test_inplace(n):
    data = payload(n)
    buf = bytearray(data)
    assert _core.apply_mask_inplace(buf, KEY, 2) is None
    assert bytes(buf) == _core.apply_mask(data, KEY, 2)
    if n <= 70:
        assert bytes(buf) == py_mask(data, KEY, 2)
    _core.apply_mask_inplace(memoryview(buf), KEY, offset=2)
    assert bytes(buf) == data


def test_accepts_any_buffer_and_keywords():
    data = payload(20)
    expected = py_mask(data, KEY)
    assert _core.apply_mask(bytearray(data), bytearray(KEY)) == expected
    assert _core.apply_mask(memoryview(data), memoryview(KEY)) == expected
    assert _core.apply_mask(data=data, mask_key=KEY, offset=0) == expected
    assert type(_core.apply_mask(bytearray(data), KEY)) is bytes


def test_errors():
    with pytest.raises(ValueError):
        _core.apply_mask(b"abc", b"123")
    with pytest.raises(ValueError):
        _core.apply_mask(b"abc", b"12345")
    with pytest.raises(TypeError):
        _core.apply_mask("abc", KEY)
    with pytest.raises(TypeError):
        _core.apply_mask(b"abc", None)
    with pytest.raises(TypeError):
        _core.apply_mask(b"abc", KEY, 1.5)
    with pytest.raises(TypeError):
        _core.apply_mask(b"abc")
    with pytest.raises(TypeError):
        _core.apply_mask(b"abc", KEY, 0, 1)
    with pytest.raises(TypeError):
        _core.apply_mask(b"abc", KEY, bogus=1)
    with pytest.raises(TypeError):
        _core.apply_mask(b"abc", KEY, data=b"x")
    with pytest.raises((TypeError, BufferError)):
        _core.apply_mask_inplace(b"read-only", KEY)


def test_large_inputs_from_threads():
    # Above 64 KiB the GIL is released: concurrent calls must stay correct.
    data = payload(1 << 20, 9)
    expected = _core.apply_mask(data, KEY, 1)
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(_core.apply_mask(data, KEY, 1) == expected)
                buf = bytearray(data)
                _core.apply_mask_inplace(buf, KEY, 1)
                results.append(bytes(buf) == expected)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 40 and all(results)


def test_refcounts_stable():
    data, key, big = payload(100), bytes(KEY), payload(70000)
    before = (sys.getrefcount(data), sys.getrefcount(key), sys.getrefcount(big))
    for _ in range(10000):
        _core.apply_mask(data, key, 1)
        _core.apply_mask(big[:10], key)
    for _ in range(100):
        _core.apply_mask(big, key)
        _core.apply_mask_inplace(bytearray(16), key)
    assert (sys.getrefcount(data), sys.getrefcount(key), sys.getrefcount(big)) == before
