"""`websockets` echo servers with compression on (the library's default:
permessage-deflate, server window 12 bits, memLevel 5), for bench_deflate.py.

    python websockets_deflate_echo.py PORT [asyncio|sync]
"""

import asyncio
import sys


def run_sync(port: int) -> None:
    from websockets.sync.server import serve

    def echo(ws):
        for message in ws:
            ws.send(message)

    with serve(echo, "127.0.0.1", port, max_size=16 * 2**20) as server:
        print(f"listening on 127.0.0.1:{port}", flush=True)
        server.serve_forever()


async def run_asyncio(port: int) -> None:
    from websockets.asyncio.server import serve

    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", port, max_size=16 * 2**20, backlog=4096) as server:
        print(f"listening on 127.0.0.1:{port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    port, flavor = int(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else "asyncio")
    try:
        if flavor == "sync":
            run_sync(port)
        else:
            asyncio.run(run_asyncio(port))
    except KeyboardInterrupt:
        pass
