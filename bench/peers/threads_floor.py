"""The floor of a thread-per-connection server: how little CPU one WebSocket
round trip can cost when every connection has its own OS thread under the GIL.

    python threads_floor.py PORT            # the floor
    python threads_floor.py PORT --work 40  # plus a little Python per message

No Django, no WSGI, no timeouts, no keepalive, no locks: one thread per
connection doing blocking ``recv_into`` -> ``FrameParser.feed`` -> ``send``
of a frame built by ``dwebsocket_c._core``. Nothing a real server must do is
here, so nothing built on OS threads can go below it. Against the
``websockets`` asyncio server it shows what the threading model itself costs
(bench_e2e.py, contender ``floor-threads``); against ours under gthread and
runserver, what our Django layer adds on top.

``--work N`` adds a Python loop of N steps before and after each send (40:
about 2 x 0.9 us on the bench machine, less than our layer's per-message
Python): with one thread per connection under the GIL, the cost per round
trip at 50 busy connections depends steeply on how long each thread holds
the GIL between system calls (contender ``floor-threads-work``).
"""

import argparse
import socket
import threading

from dwebsocket_c import _core


def work(steps: int) -> int:
    total = 0
    for i in range(steps):
        total += i
    return total


def serve_one(sock: socket.socket, steps: int) -> None:
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
                    if steps:
                        work(steps)
                    sock.sendall(build(opcode, payload))
                    if steps:
                        work(steps)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--work", type=int, default=0, help="Python loop steps before and after each send")
    args = ap.parse_args()
    listener = socket.create_server(("127.0.0.1", args.port), backlog=4096)
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=serve_one, args=(sock, args.work), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
