"""Group fan-out through Redis: one message to 1,000 and 10,000 members.

    python bench/bench_groups.py                  # 1,000 and 10,000 members, 3 rounds
    python bench/bench_groups.py --sizes 1000 --rounds 5
    python bench/bench_groups.py --quick          # 1,000 members, 2 rounds

Contenders (each a real server subprocess on a free 127.0.0.1 port, all on one
redis-server that this script starts, without persistence):

  ours-gevent        example_project's /ws/group/<name>/ under gunicorn -k gevent -w 1;
                     published with dwebsocket_c.send_to_group (Redis PUBLISH of the
                     ready frame)
  channels-core      Channels consumers under daphne, channels_redis RedisChannelLayer;
                     published with `await layer.group_send(...)`
  channels-pubsub    the same with RedisPubSubChannelLayer

Each round runs every contender once, in a shuffled order: N members connect
(a raw asyncio client in this process: handshake, then frames counted as
they arrive), then

* latency: 20 messages one after the other, each waited for at every member
  (at most 10 s: then the missing deliveries count as lost);
  publish -> the last member's receipt, p50 and p99 over the round's messages;
* throughput: a burst of messages published back to back; group messages per
  second = deliveries / members / (first publish -> the last receipt); the
  server's CPU (process and children, /proc) over the burst divided by the
  deliveries gives CPU µs per delivered message (and the kernel's share of
  it: on loopback a send also runs the receiving side's TCP); messages that never arrive
  within 60 s are counted as lost.

The members then disconnect. Tables show the median [min-max] over rounds and
ratios (ours / theirs) of per-round values. Receipt times include this
client's own Python work per frame (the same for every contender).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "example_project"
CHANNELS_APP = Path(__file__).resolve().parent / "peers" / "channels_groups"
BIN = Path(sys.executable).parent
GROUP = "bench"
LATENCY_MESSAGES = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def tree_cpu_seconds(root: int) -> tuple[float, float]:
    """(utime + stime, stime) of ``root`` and its descendants, in seconds."""
    children: dict[int, list[int]] = {}
    times: dict[int, tuple[float, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
        times[int(entry)] = ((int(fields[11]) + int(fields[12])) / CLK_TCK, int(fields[12]) / CLK_TCK)
    total = kernel = 0.0
    todo = [root]
    while todo:
        pid = todo.pop()
        both, system = times.get(pid, (0.0, 0.0))
        total, kernel = total + both, kernel + system
        todo.extend(children.get(pid, []))
    return total, kernel


class Server:
    def __init__(self, name: str, argv: list[str], cwd: Path, env: dict[str, str], path: str, port: int):
        self.name, self.argv, self.cwd, self.env, self.path, self.port = name, argv, cwd, env, path, port
        self.proc: subprocess.Popen | None = None

    def start(self, log_dir: Path) -> None:
        log = open(log_dir / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env={**os.environ, **self.env},
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not listen within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def make_servers(redis_url: str, members: int) -> dict[str, Server]:
    ours_port = free_port()
    servers = {
        "ours-gevent": Server(
            "ours-gevent",
            [tool("gunicorn"), "-k", "gevent", "-w", "1", "--worker-connections", str(members + 100),
             "-b", f"127.0.0.1:{ours_port}", "--error-logfile", "-", "--log-level", "warning",
             "mysite.wsgi:application"],
            EXAMPLE, {"DJANGO_SETTINGS_MODULE": "mysite.settings", "REDIS_URL": redis_url,
                      "PYTHONPATH": str(EXAMPLE)},
            f"/ws/group/{GROUP}/", ours_port),
    }
    for layer in ("core", "pubsub"):
        port = free_port()
        servers[f"channels-{layer}"] = Server(
            f"channels-{layer}",
            [tool("daphne"), "-b", "127.0.0.1", "-p", str(port), "--verbosity", "0", "asgi:application"],
            CHANNELS_APP, {"BENCH_LAYER": layer, "BENCH_REDIS_URL": redis_url,
                           "DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": str(CHANNELS_APP)},
            "/group/", port)
    return servers


# ------------------------------------------------------------------ members


class Members:
    """N raw websocket clients in one asyncio loop, counting group messages."""

    def __init__(self, server: Server, count: int) -> None:
        self.server, self.count = server, count
        self.received: dict[int, int] = {}
        self.last_at: dict[int, float] = {}
        self.complete: dict[int, asyncio.Event] = {}
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: list[asyncio.Task] = []

    def expect(self, seq: int) -> asyncio.Event:
        event = self.complete[seq] = asyncio.Event()
        self.received[seq] = 0
        return event

    async def open(self) -> None:
        gate = asyncio.Semaphore(50)  # handshakes in flight (channels_redis: a pool of 100)
        joined = asyncio.Event()
        pending = [self.count]

        async def one() -> None:
            async with gate:
                for attempt in range(3):  # a full listen backlog resets a connection now and then
                    try:
                        reader, writer = await self._handshake()
                        break
                    except ConnectionError:
                        if attempt == 2:
                            raise
                        await asyncio.sleep(0.5)
                self.writers.append(writer)
            self.tasks.append(asyncio.ensure_future(self._read(reader, writer, joined, pending)))

        await asyncio.gather(*(one() for _ in range(self.count)))
        await asyncio.wait_for(joined.wait(), 120)

    async def _handshake(self):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port, limit=1 << 20)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET {self.server.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.server.port}\r\n"
                      f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"{self.server.name}: handshake answered {head[:80]!r}")
        return reader, writer

    async def _read(self, reader, writer, joined, pending) -> None:
        buffer = b""
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                buffer += data
                while len(buffer) >= 2:
                    length, header = buffer[1] & 0x7F, 2
                    if length == 126:
                        length, header = int.from_bytes(buffer[2:4], "big"), 4
                    elif length == 127:
                        length, header = int.from_bytes(buffer[2:10], "big"), 10
                    if len(buffer) < header + length:
                        break
                    opcode, payload = buffer[0] & 0x0F, buffer[header:header + length]
                    buffer = buffer[header + length:]
                    if opcode == 1 and payload.startswith(b"m:"):
                        seq = int(payload[2:])
                        count = self.received.get(seq, 0) + 1
                        self.received[seq] = count
                        self.last_at[seq] = time.perf_counter()
                        if count == self.count and seq in self.complete:
                            self.complete[seq].set()
                    elif opcode == 1 and payload.startswith(b"joined"):
                        pending[0] -= 1
                        if pending[0] == 0:
                            joined.set()
                    elif opcode == 9:  # ping: pong, masked with a zero key
                        writer.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
        except (ConnectionError, asyncio.CancelledError):
            return

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


# --------------------------------------------------------------- publishers


class OursPublisher:
    def __init__(self, redis_url: str) -> None:
        from django.conf import settings

        if not settings.configured:
            settings.configure(WEBSOCKET_GROUPS_URL=redis_url)
        from dwebsocket_c import send_to_group

        self._send = send_to_group

    async def publish(self, text: str) -> None:
        self._send(GROUP, text)


class ChannelsPublisher:
    def __init__(self, layer: str, redis_url: str) -> None:
        if layer == "core":
            from channels_redis.core import RedisChannelLayer

            self.layer = RedisChannelLayer(hosts=[redis_url])
        else:
            from channels_redis.pubsub import RedisPubSubChannelLayer

            self.layer = RedisPubSubChannelLayer(hosts=[redis_url])

    async def publish(self, text: str) -> None:
        await self.layer.group_send(GROUP, {"type": "bench.message", "text": text})


# ------------------------------------------------------------------ measure


async def measure(server: Server, publisher, members: int, burst: int, seq_base: int) -> dict:
    crowd = Members(server, members)
    started = time.perf_counter()
    await crowd.open()
    connect_s = time.perf_counter() - started
    await asyncio.sleep(0.5)
    result: dict = {"connect_s": connect_s}
    latencies = []
    for k in range(LATENCY_MESSAGES):
        seq = seq_base + k
        done = crowd.expect(seq)
        sent_at = time.perf_counter()
        await publisher.publish(f"m:{seq}")
        try:
            await asyncio.wait_for(done.wait(), 10)
            latencies.append(crowd.last_at[seq] - sent_at)
        except asyncio.TimeoutError:
            result["lost_latency"] = result.get("lost_latency", 0) + members - crowd.received[seq]
    latencies.sort()
    if latencies:
        result["p50_ms"] = 1000 * latencies[len(latencies) // 2]
        result["p99_ms"] = 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]

    seqs = [seq_base + LATENCY_MESSAGES + k for k in range(burst)]
    events = [crowd.expect(seq) for seq in seqs]
    cpu_before = tree_cpu_seconds(server.proc.pid)
    first = time.perf_counter()
    for seq in seqs:
        await publisher.publish(f"m:{seq}")
    publish_s = time.perf_counter() - first
    try:
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 60)
    except asyncio.TimeoutError:
        pass
    cpu_after = tree_cpu_seconds(server.proc.pid)
    cpu, kernel = cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]
    delivered = sum(crowd.received[seq] for seq in seqs)
    last = max((crowd.last_at.get(seq, first) for seq in seqs), default=first)
    result.update(
        msgs_per_s=delivered / members / (last - first) if delivered else float("nan"),
        publish_s=publish_s,
        lost=burst * members - delivered,
        cpu_us_per_delivery=1e6 * cpu / delivered if delivered else float("nan"),
        kernel_share=kernel / cpu if cpu else float("nan"),
    )
    await crowd.close()
    await asyncio.sleep(1.0)  # let the servers see the disconnections
    return result


# ------------------------------------------------------------------ output


def med(xs: list[float]) -> float:
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def cell(xs: list[float], prec: int = 1) -> str:
    xs = [x for x in xs if x == x]
    if not xs:
        return "-"
    return f"{med(xs):,.{prec}f} [{min(xs):,.{prec}f}-{max(xs):,.{prec}f}]"


def print_tables(results: dict, order: list[str], sizes: list[int], rounds: int) -> None:
    columns = [("p50_ms", "p50 ms", 1), ("p99_ms", "p99 ms", 1), ("msgs_per_s", "group msgs/s", 0),
               ("cpu_us_per_delivery", "server CPU us/delivery", 2), ("kernel_share", "kernel share", 2),
               ("lost", "lost", 0),
               ("connect_s", "connect s", 1)]
    for size in sizes:
        print(f"\n== {size:,} members of one group, through Redis: {rounds} rounds, median [min-max]")
        header = f"{'contender':<17}" + "".join(f" {title:>26}" for _, title, _ in columns)
        print(header)
        print("-" * len(header))
        for name in order:
            rows = results[size].get(name, [])
            line = f"{name:<17}"
            for key, _, prec in columns:
                line += f" {cell([r.get(key, float('nan')) for r in rows], prec):>26}"
            print(line)
        ours = results[size].get("ours-gevent", [])
        for name in order:
            if name == "ours-gevent":
                continue
            theirs = results[size].get(name, [])
            pairs = list(zip(ours, theirs))
            throughput = med([a["msgs_per_s"] / b["msgs_per_s"] for a, b in pairs
                              if a.get("msgs_per_s") and b.get("msgs_per_s")])
            latency = med([b["p99_ms"] / a["p99_ms"] for a, b in pairs if "p99_ms" in a and "p99_ms" in b])
            cpu = med([b["cpu_us_per_delivery"] / a["cpu_us_per_delivery"] for a, b in pairs
                       if a.get("cpu_us_per_delivery") and b.get("cpu_us_per_delivery")])
            print(f"ours-gevent vs {name}: throughput x{throughput:.1f}, p99 latency /{latency:.1f}, "
                  f"server CPU per delivery /{cpu:.1f} (medians of per-round ratios)")


async def run(args) -> None:
    log_dir = Path(args.log_dir or (REPO / "bench" / "build" / "groups-logs"))
    log_dir.mkdir(parents=True, exist_ok=True)
    redis_port = free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    redis_proc = subprocess.Popen(
        [shutil.which("redis-server") or "/usr/sbin/redis-server", "--port", str(redis_port),
         "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=open(log_dir / "redis.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    servers = make_servers(redis_url, max(args.sizes))
    order = [name for name in servers if name in args.contenders]
    try:
        time.sleep(0.5)
        for name in order:
            servers[name].start(log_dir)
        for name in order:
            servers[name].wait_ready()
        publishers = {"ours-gevent": OursPublisher(redis_url),
                      "channels-core": ChannelsPublisher("core", redis_url),
                      "channels-pubsub": ChannelsPublisher("pubsub", redis_url)}
        results: dict = {size: {name: [] for name in order} for size in args.sizes}
        rng = random.Random(args.seed)
        seq = 0
        for size in args.sizes:
            burst = args.burst or (200 if size <= 1000 else 20)
            for round_ in range(args.rounds):
                shuffled = order[:]
                rng.shuffle(shuffled)
                for name in shuffled:
                    result = await measure(servers[name], publishers[name], size, burst, seq)
                    seq += LATENCY_MESSAGES + burst
                    results[size][name].append(result)
                    print(f"  {size} members, round {round_ + 1}, {name}: "
                          + ", ".join(f"{k}={v:.3g}" for k, v in result.items()), flush=True)
        print_tables(results, order, args.sizes, args.rounds)
    finally:
        for server in servers.values():
            server.stop()
        redis_proc.terminate()
        redis_proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="members per group, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst", type=int, default=0,
                        help="messages per throughput burst (default 200 at <= 1,000 members, else 20)")
    parser.add_argument("--contenders", default="ours-gevent,channels-core,channels-pubsub")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="1,000 members, 2 rounds")
    parser.add_argument("--log-dir", default="")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.contenders = args.contenders.split(",")
    if args.quick:
        args.sizes, args.rounds = [1000], 2
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
