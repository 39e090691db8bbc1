"""Plain `websockets` threading echo server (``websockets.sync.server``):
the no-framework baseline for servers with one OS thread per connection.

    python websockets_sync_echo.py PORT

Any path echoes. Same limits as websockets_echo.py (16 MiB messages, no
compression).
"""

import sys

from websockets.sync.server import serve


def echo(ws):
    for message in ws:
        ws.send(message)


def main(port: int) -> None:
    with serve(echo, "127.0.0.1", port, max_size=16 * 2**20, compression=None) as server:
        print(f"listening on 127.0.0.1:{port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    try:
        main(int(sys.argv[1]))
    except KeyboardInterrupt:
        pass
