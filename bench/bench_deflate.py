"""permessage-deflate: server CPU per round trip with compression on, the
compression ratio, and memory per idle connection, against `websockets`.

    python bench/bench_deflate.py                 # 5 rounds x 2 s per row and contender
    python bench/bench_deflate.py --quick         # 2 rounds x 1 s
    python bench/bench_deflate.py --only cpu      # or: --only memory

CPU: every server is a real subprocess on 127.0.0.1 (ours: the example
project under gunicorn gthread, compression on as its settings say, at
the default level 1 and at zlib's default level 6 (what websockets uses);
websockets: its asyncio and threading servers, compression on by default).
One client in this process offers ``permessage-deflate;
client_max_window_bits`` (as browsers do), compresses what it sends with
zlib and checks every echo after inflating it. Server CPU time (the process
tree, /proc/<pid>/stat) is read at the start and end of each measured
window. Rounds alternate the contenders' order; the tables give medians
(min-max), and `websockets / ours` is the median of per-round ratios of CPU
per round trip (> 1: ours costs less). Wire ratio: payload bytes on the wire
/ message bytes, both directions.

Fan-out: a group message for N members, compressed once for all (the
encoders' ``share_key`` is equal without context takeover) or once per member.

Memory: N connections to one server process (ours under gunicorn gevent,
websockets asyncio), each after one 1 KiB round trip (so both sides'
compressors and inflaters exist where they exist at all), then held idle;
KiB per connection = RSS growth / N, with the client's offer (compression
on) and without it (off).
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import statistics
import struct
import sys
import time
import zlib
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_e2e import (  # noqa: E402
    DEV_BIN, DEV_PY, EXAMPLE, PEERS, Contender, build_wsload, tree_pids,
)
from dwebsocket_c import _core  # noqa: E402

OFFER = "permessage-deflate; client_max_window_bits"
TAIL = b"\x00\x00\xff\xff"


def contenders(threads: int = 64, worker_connections: int = 5000) -> dict[str, Contender]:
    gunicorn = str(DEV_BIN / "gunicorn")
    common = ["-w", "1", "-b", "127.0.0.1:{port}", "--backlog", "4096", "--log-level", "warning"]
    env = {"DJANGO_DB_PATH": str(BENCH / "build" / "bench-db.sqlite3")}
    peer = str(PEERS / "websockets_deflate_echo.py")
    return {c.name: c for c in [
        Contender("ours-gthread", "ours gunicorn gthread", "ours",
                  [gunicorn, "-k", "gthread", "--threads", str(threads), *common,
                   "mysite.wsgi:application"], EXAMPLE, env=env, path="/ws/echo/"),
        Contender("ours-gthread-l6", "ours gthread, level 6", "ours",
                  [gunicorn, "-k", "gthread", "--threads", str(threads), *common,
                   "mysite.wsgi:application"], EXAMPLE, path="/ws/echo/",
                  env={**env, "DJANGO_SETTINGS_MODULE": "bench_settings_level6",
                       "PYTHONPATH": f"{PEERS}{os.pathsep}{EXAMPLE}"}),
        Contender("ours-gevent", "ours gunicorn gevent", "ours",
                  [gunicorn, "-k", "gevent", "--worker-connections", str(worker_connections),
                   *common, "mysite.wsgi:application"], EXAMPLE, env=env, path="/ws/echo/"),
        Contender("websockets", "websockets asyncio", "peer",
                  [str(DEV_PY), peer, "{port}", "asyncio"], PEERS, path="/"),
        Contender("websockets-sync", "websockets threads", "peer",
                  [str(DEV_PY), peer, "{port}", "sync"], PEERS, path="/"),
    ]}


# ---------------------------------------------------------------- client


class DeflateClient:
    """A blocking client with permessage-deflate, written for measuring:
    zlib for the payloads, the C core for framing and parsing."""

    def __init__(self, port: int, path: str, *, compress: bool = True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   + (f"Sec-WebSocket-Extensions: {OFFER}\r\n" if compress else "") + "\r\n")
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0]:
            raise ConnectionError(lines[0])
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        agreed = headers.get("sec-websocket-extensions")
        self.deflate = agreed is not None
        params = {}
        for part in (agreed or "").split(";")[1:]:
            k, _, v = part.strip().partition("=")
            params[k] = v or True
        self.client_bits = int(params.get("client_max_window_bits", 15))
        server_bits = int(params.get("server_max_window_bits", 15))
        self.server_takeover = "server_no_context_takeover" not in params
        self.client_takeover = "client_no_context_takeover" not in params
        self.z = zlib.compressobj(wbits=-self.client_bits)
        self.server_bits = server_bits
        self.unz = zlib.decompressobj(wbits=-server_bits)
        self.parser = _core.FrameParser(client_side=True, allow_rsv1=True, max_message_size=None)
        self.parser.feed(rest)
        self.wire = self.raw = 0

    def send(self, text: bytes) -> None:
        if self.deflate:
            if not self.client_takeover:
                self.z = zlib.compressobj(wbits=-self.client_bits)
            data = (self.z.compress(text) + self.z.flush(zlib.Z_SYNC_FLUSH))[:-4]
            frame = _core.build_frame(_core.OP_TEXT, data, mask=True, rsv1=True)
        else:
            data = text
            frame = _core.build_frame(_core.OP_TEXT, data, mask=True)
        self.wire += len(data)
        self.raw += len(text)
        self.sock.sendall(frame)

    def recv(self) -> bytes:
        while True:
            for opcode, payload in self.parser:
                if opcode & 0xF not in (_core.OP_TEXT, _core.OP_BINARY):
                    continue
                self.wire += len(payload)
                if opcode & _core.FLAG_RSV1:
                    if not self.server_takeover:
                        self.unz = zlib.decompressobj(wbits=-self.server_bits)
                    payload = self.unz.decompress(payload + TAIL)
                self.raw += len(payload)
                return payload
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed")
            self.parser.feed(chunk)

    def close(self) -> None:
        self.sock.close()


# ---------------------------------------------------------------- CPU


def cpu_seconds(pid: int) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in tree_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def rss_kib(pid: int) -> int:
    total = 0
    for p in tree_pids(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def json_like(size: int, seq: int) -> bytes:
    """A JSON array of chat-like records, different for every message."""
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    out, i = [], 0
    while sum(map(len, out)) + 2 * len(out) < size:
        out.append('{"id": %d, "user": "%s", "text": "%s %s", "ts": %d}' % (
            seq * 1000 + i, words[(seq + i) % 8], words[i % 8], words[(i * 3) % 8],
            1700000000 + seq * 7 + i))
        i += 1
    data = ("[" + ", ".join(out) + "]").encode()
    return data[:size - 1] + b"]"


ROWS = {"1k": 1024, "64k": 65536}


def measure_cpu(c: Contender, size: int, duration: float, warmup: float) -> dict:
    client = DeflateClient(c.port, c.path)
    if not client.deflate:
        raise RuntimeError(f"{c.name} did not negotiate permessage-deflate")
    messages = [json_like(size, i) for i in range(64)]
    try:
        end = time.monotonic() + warmup
        i = 0
        while time.monotonic() < end:
            client.send(messages[i % 64])
            assert client.recv() == messages[i % 64]
            i += 1
        client.wire = client.raw = 0
        cpu0, t0, n = cpu_seconds(c.proc.pid), time.monotonic(), 0
        while time.monotonic() - t0 < duration:
            m = messages[n % 64]
            client.send(m)
            if client.recv() != m:
                raise RuntimeError("wrong echo")
            n += 1
        cpu = cpu_seconds(c.proc.pid) - cpu0
        return {"rt": n, "us_per_rt": 1e6 * cpu / n, "wire_ratio": client.wire / client.raw}
    finally:
        client.close()


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def run_cpu(args, cs) -> None:
    names = ["ours-gthread", "ours-gthread-l6", "websockets", "websockets-sync"]
    up = []
    for n in names:
        if cs[n].start():
            up.append(n)
        else:
            print(f"{n}: UNAVAILABLE {cs[n].error}")
    results = {row: {n: [] for n in up} for row in ROWS}
    try:
        for rnd in range(args.rounds):
            for r, (row, size) in enumerate(ROWS.items()):
                k = (rnd + r) % len(up)
                for n in up[k:] + up[:k]:
                    results[row][n].append(measure_cpu(cs[n], size, args.duration, args.warmup))
            print(f"[cpu] round {rnd + 1}/{args.rounds} done", flush=True)
    finally:
        for n in up:
            cs[n].stop()
    for row, size in ROWS.items():
        print(f"\n== {size // 1024} KiB JSON-like text, compression on, 1 connection: "
              f"{args.rounds} rounds x {args.duration:g} s")
        print(f"{'contender':<22} {'round trips/s':>14} {'server CPU us/RT':>26} {'wire/raw':>9}")
        for n in up:
            rs = results[row][n]
            us = [x["us_per_rt"] for x in rs]
            print(f"{cs[n].label:<22} {med([x['rt'] / args.duration for x in rs]):>14,.0f} "
                  f"{med(us):>10.1f} ({min(us):.1f}-{max(us):.1f}){'':>4} "
                  f"{med([x['wire_ratio'] for x in rs]):>9.3f}")
        for mine in ("ours-gthread", "ours-gthread-l6"):
            ours = results[row].get(mine)
            for peer in ("websockets", "websockets-sync"):
                if ours and results[row].get(peer):
                    ratios = [p["us_per_rt"] / o["us_per_rt"] for p, o in zip(results[row][peer], ours)]
                    print(f"{cs[peer].label} / {cs[mine].label}, CPU per round trip: "
                          f"{med(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})")


# ---------------------------------------------------------------- memory


def run_memory(args, cs) -> None:
    print(f"\n== memory per idle connection: {args.conns} connections on one server process, "
          "each after one 1 KiB round trip")
    print(f"{'contender':<22} {'compression':>11} {'RSS before MiB':>15} {'RSS held MiB':>13} {'KiB/conn':>9}")
    message = json_like(1024, 1)
    for n in ("ours-gevent", "websockets"):
        for compress in (True, False):
            c = cs[n]
            if not c.start():
                print(f"{c.label:<22} UNAVAILABLE {c.error}")
                break
            clients = []
            try:
                warm = DeflateClient(c.port, c.path, compress=compress)  # loads the app
                warm.send(message)
                warm.recv()
                time.sleep(0.5)
                before = rss_kib(c.proc.pid)
                for _ in range(args.conns):
                    cl = DeflateClient(c.port, c.path, compress=compress)
                    assert cl.deflate == compress
                    cl.send(message)
                    assert cl.recv() == message
                    clients.append(cl)
                time.sleep(1.0)
                held = rss_kib(c.proc.pid)
            finally:
                for cl in clients:
                    cl.close()
                c.stop()
            print(f"{c.label:<22} {'on' if compress else 'off':>11} {before / 1024:>15.1f} "
                  f"{held / 1024:>13.1f} {(held - before) / args.conns:>9.1f}", flush=True)


# ---------------------------------------------------------------- fan-out


def run_fanout(args) -> None:
    """A group message for N members: compressed once (the members' encoders
    share a share_key: no context takeover) or once per member (context
    takeover: each encoder's own stream). In-process C calls, CPU time."""
    members = args.members
    params = {"server_max_window_bits": 15, "client_max_window_bits": 15,
              "client_no_context_takeover": False, "threshold": 128, "level": 1}
    print(f"\n== group fan-out: one message to {members} members (FrameEncoder.encode), "
          "CPU per message")
    print(f"{'message':<22} {'once (shared) us':>17} {'per member us':>14} {'ratio':>7}")
    for label, size in (("1 KiB JSON-like", 1024), ("64 KiB JSON-like", 65536)):
        message = json_like(size, 3)
        shared = [_core.FrameEncoder(deflate={**params, "server_no_context_takeover": True})
                  for _ in range(members)]
        own = [_core.FrameEncoder(deflate={**params, "server_no_context_takeover": False})
               for _ in range(members)]
        assert len({e.share_key for e in shared}) == 1 and own[0].share_key is None
        once, each = [], []
        for _ in range(args.rounds):
            t = time.thread_time()
            frame = shared[0].encode(_core.OP_TEXT, message)  # then written to every member
            once.append(time.thread_time() - t)
            t = time.thread_time()
            for e in own:
                e.encode(_core.OP_TEXT, message)
            each.append(time.thread_time() - t)
            assert shared[-1].encode(_core.OP_TEXT, message) == frame
        print(f"{label:<22} {1e6 * med(once):>17.1f} {1e6 * med(each):>14.1f} "
              f"{med(each) / med(once):>6.0f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--warmup", type=float, default=0.3)
    ap.add_argument("--conns", type=int, default=1000, help="connections for the memory part")
    ap.add_argument("--quick", action="store_true", help="2 rounds x 1 s, 300 connections")
    ap.add_argument("--members", type=int, default=200, help="group size for the fan-out part")
    ap.add_argument("--only", choices=["cpu", "memory", "fanout"])
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.duration, args.conns = 2, 1.0, 300
    build_wsload()  # Contender.start checks each server with it
    cs = contenders()
    print(f"zlib {_core.ZLIB_VERSION}; client offer: {OFFER!r}")
    if args.only in (None, "cpu"):
        run_cpu(args, cs)
    if args.only in (None, "memory"):
        run_memory(args, cs)
    if args.only in (None, "fanout"):
        run_fanout(args)


if __name__ == "__main__":
    main()
