"""Raw-socket helpers: what exactly goes on the wire (no WebSocket library)."""

import base64
import os
import socket
import struct


def raw_handshake(port, path, key=None, version="13", extra=b""):
    """Send a handshake; return (socket, response head, bytes after the head)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(10)
    key = key or base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: {version}\r\n".encode() + extra + b"\r\n"
    )
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return sock, head, rest


def read_until_eof(sock, data=b""):
    """Everything the server sends until it closes TCP."""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def client_frame(opcode, payload, mask=b"abcd"):
    """A masked client frame (payload < 65536 bytes)."""
    length = len(payload)
    if length < 126:
        header = bytes([0x80 | opcode, 0x80 | length])
    else:
        header = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", length)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close_frame_code(data):
    """The code of the server close frame that ``data`` starts with."""
    assert data[0] == 0x88, data
    return struct.unpack("!H", data[2:4])[0]
