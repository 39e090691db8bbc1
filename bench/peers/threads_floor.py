"""The floor of a thread-per-connection server: how little CPU one WebSocket
round trip can cost when every connection has its own OS thread under the GIL.

    python threads_floor.py PORT

No Django, no WSGI, no timeouts, no keepalive, no locks: one thread per
connection doing blocking ``recv_into`` -> ``FrameParser.feed`` -> ``send``
of a frame built by ``dwebsocket_c._core``. Nothing a real server must do is
here, so nothing built on OS threads can go below it. Against the
``websockets`` asyncio server it shows what the threading model itself costs
(bench_e2e.py, contender ``floor-threads``); against ours under gthread and
runserver, what our Django layer adds on top.
"""

import socket
import sys
import threading

from dwebsocket_c import _core


def serve_one(sock: socket.socket) -> None:
    with sock:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = sock.recv(4096)
            if not chunk:
                return
            request += chunk
        key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
                   if line.lower().startswith(b"sec-websocket-key:"))
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + _core.accept_key(key).encode() + b"\r\n\r\n")
        parser = _core.FrameParser(max_message_size=16 << 20)
        buffer = bytearray(65536)
        view = memoryview(buffer)
        build = _core.build_frame
        while True:
            received = sock.recv_into(buffer)
            if not received:
                return
            parser.feed(view[:received])
            for opcode, payload in parser:
                if opcode == _core.OP_CLOSE:
                    sock.sendall(_core.build_close(1000))
                    return
                if opcode in (_core.OP_TEXT, _core.OP_BINARY):
                    sock.sendall(build(opcode, payload))


def main(port: int) -> None:
    listener = socket.create_server(("127.0.0.1", port), backlog=4096)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=serve_one, args=(sock,), daemon=True).start()


if __name__ == "__main__":
    try:
        main(int(sys.argv[1]))
    except KeyboardInterrupt:
        pass
