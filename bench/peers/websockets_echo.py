"""Plain `websockets` asyncio echo server: the no-framework baseline.

    python websockets_echo.py PORT

Any path echoes. Limits raised so that the 1 MiB row fits; no compression is
negotiated (wsload offers no extension). Pings stay at the library default.
"""

import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main(port: int) -> None:
    async with serve(echo, "127.0.0.1", port, max_size=16 * 2**20, compression=None, backlog=4096) as server:
        print(f"listening on 127.0.0.1:{port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1])))
    except KeyboardInterrupt:
        pass
