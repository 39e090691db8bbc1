"""Write the seed corpora in fuzz/corpus/ (run once; the files are committed).

Usage: python fuzz/make_seeds.py   (needs dwebsocket_c._core built)
"""

import os

from dwebsocket_c import _core as c

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = b"\x37\xfa\x21\x3d"


def cfg(client_side=False, rsv1=False, limit=6):
    """Byte 0 of a fuzz_parser input; limit indexes fuzz_parser.c's table."""
    return bytes([int(client_side) | int(rsv1) << 1 | limit << 2])


def srv(*frames):  # frames as a client sends them (masked), parsed by a server
    return cfg() + b"\x05" + b"".join(frames)


def cli(*frames):
    return cfg(client_side=True) + b"\x09" + b"".join(frames)


def m(op, payload=b"", **kw):
    return c.build_frame(op, payload, mask_key=KEY, **kw)


parser_seeds = {
    "rfc-masked-hello": srv(bytes.fromhex("818537fa213d7f9f4d5158")),
    "rfc-unmasked-hello": cli(bytes.fromhex("810548656c6c6f")),
    "rfc-fragmented": cli(bytes.fromhex("010348656c"), bytes.fromhex("80026c6f")),
    "rfc-ping": cli(bytes.fromhex("890548656c6c6f")),
    "len-126": srv(m(2, bytes(126))),
    "len-256": cli(c.build_frame(2, bytes(256))),
    "len-64k": cli(c.build_frame(2, bytes(65536))),
    "len-64bit-nonminimal": cli(b"\x82\x7f" + (5).to_bytes(8, "big") + b"abcde"),
    "fragments-ping-between": srv(m(1, "héllo".encode()[:2], fin=False), m(9, b"p"),
                                  m(0, "héllo".encode()[2:])),
    "close": srv(m(8, b"\x03\xe8bye")),
    "close-empty": srv(m(8)),
    "close-bad-code": srv(m(8, b"\x03\xed")),
    "pong-binary-text": srv(m(10, b"x"), m(2, b"\x00\xff"), m(1, "€".encode())),
    "bad-utf8": srv(m(1, b"\xed\xa0\x80")),
    "rsv1": cfg(rsv1=True) + b"\x03" + m(1, b"\xff\x00", rsv1=True) + m(2, b"z"),
    "limit-126": cfg(limit=3) + b"\x01" + m(2, bytes(126)) + m(2, bytes(127)),
    "unlimited": cfg(limit=7) + b"\x02" + b"\x82\xff" + (2**40).to_bytes(8, "big") + KEY + b"abc",
    "top-bit": srv(b"\x82\xff" + (2**63).to_bytes(8, "big") + KEY),
}

def deflated(data, bits=15):
    import zlib

    z = zlib.compressobj(wbits=-bits)
    return (z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH))[:-4]


def inflating(limit=4, takeover=True):
    """Byte 0 for the inflate path: RSV1 allowed, inflate on (bit 5), the
    client's context takeover (bit 6 = no takeover)."""
    return bytes([1 << 1 | limit << 2 | 1 << 5 | (0 if takeover else 1 << 6)])


parser_seeds.update({
    "deflate-text": inflating() + b"\x06" + m(1, deflated(b"hello hello hello"), rsv1=True),
    "deflate-fragmented": inflating(takeover=False) + b"\x06"
        + m(1, deflated("héllo wörld " .encode() * 9)[:7], rsv1=True, fin=False)
        + m(9, b"p") + m(0, deflated("héllo wörld ".encode() * 9)[7:]),
    "deflate-bomb": inflating(limit=4) + b"\x00" + m(2, deflated(bytes(50000)), rsv1=True),
    "deflate-empty": inflating() + b"\x01" + m(2, b"", rsv1=True) + m(2, b"\x00", rsv1=True),
    "deflate-bad": inflating() + b"\x02" + m(2, b"\xff\xff", rsv1=True),
})

pmd_seeds = {
    "browser": b"\x1bpermessage-deflate; client_max_window_bits",
    "all-params": b"\x00permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                  b"server_max_window_bits=10; client_max_window_bits=\"12\"",
    "several": b"\xc0x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8, permessage-deflate",
    "bad-syntax": b"\x12permessage-deflate; client_max_window_bits=\"1",
}

handshake_seeds = {
    "valid": b"\x1fGET\nwebsocket\nUpgrade\n13\ndGhlIHNhbXBsZSBub25jZQ==",
    "valid-lists": b"\x1fGET\nwebsocket, h2c\nkeep-alive, Upgrade\n 13 \n dGhlIHNhbXBsZSBub25jZQ== ",
    "version-8": b"\x1fGET\nwebsocket\nupgrade\n8\ndGhlIHNhbXBsZSBub25jZQ==",
    "no-version": b"\x17GET\nwebsocket\nupgrade\n\ndGhlIHNhbXBsZSBub25jZQ==",
    "bad-key": b"\x1fGET\nwebsocket\nupgrade\n13\nAAAA",
    "post": b"\x1fPOST\nwebsocket\nupgrade\n13\ndGhlIHNhbXBsZSBub25jZQ==",
}

for name, seeds in (("fuzz_parser", parser_seeds), ("fuzz_handshake", handshake_seeds),
                    ("fuzz_pmd", pmd_seeds)):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)
    print(f"{len(seeds)} seeds in {d}")
