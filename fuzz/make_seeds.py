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

handshake_seeds = {
    "valid": b"\x1fGET\nwebsocket\nUpgrade\n13\ndGhlIHNhbXBsZSBub25jZQ==",
    "valid-lists": b"\x1fGET\nwebsocket, h2c\nkeep-alive, Upgrade\n 13 \n dGhlIHNhbXBsZSBub25jZQ== ",
    "version-8": b"\x1fGET\nwebsocket\nupgrade\n8\ndGhlIHNhbXBsZSBub25jZQ==",
    "no-version": b"\x17GET\nwebsocket\nupgrade\n\ndGhlIHNhbXBsZSBub25jZQ==",
    "bad-key": b"\x1fGET\nwebsocket\nupgrade\n13\nAAAA",
    "post": b"\x1fPOST\nwebsocket\nupgrade\n13\ndGhlIHNhbXBsZSBub25jZQ==",
}

for name, seeds in (("fuzz_parser", parser_seeds), ("fuzz_handshake", handshake_seeds)):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)
    print(f"{len(seeds)} seeds in {d}")
