#!/usr/bin/env python3
"""Micro benchmarks of the C core (``dwebsocket_c._core``) against its peers.

Cases (each contender gets the very same input and must produce the same
count, checked before timing):

  parse    a stream of masked client text frames -> whole messages/s
           _core.FrameParser  vs  wsproto FrameProtocol (pure Python, decodes
           text)  vs  websockets' sans-I/O Protocol (its C mask, + .decode() of
           each text payload, as its connection layer does; the Protocol alone
           does not validate UTF-8)
           - "stream": the bytes fed in 4 KiB chunks (a loaded server's recv)
           - "1 frame per feed": one feed() per frame, then drain (the usual
             recv-per-message pattern, where per-call overhead dominates)
  utf8     _core.validate_utf8 vs bytes.decode('utf-8') vs wsaccel's
           Utf8Validator, on ASCII and on mixed text (Chinese, Latin-1,
           emoji), 16 B to 1 MiB -> MB/s
  build    one unmasked server frame: _core.build_frame vs websockets
           Frame.serialize vs wsproto FrameProtocol.send_data -> frames/s

Timing uses this thread's CPU time (time.thread_time), so time stolen by
other processes on the shared machine is not charged; --wall for wall time.

Discipline (the machine has 2 cores and drifts up to 1.5x): each case runs R
rounds; inside a round every contender is timed once, in an order rotated
every round; tables show the median [min-max] and ratios are paired per round
before taking their median.

    python bench/bench_core.py [--rounds 7] [--time 0.2] [--quick] [--only parse,utf8,build]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

try:
    from dwebsocket_c import _core  # type: ignore[attr-defined]

    CORE_ERR = None
except Exception as exc:  # noqa: BLE001 - benchmark the peers anyway
    _core = None
    CORE_ERR = f"{type(exc).__name__}: {exc}"

try:
    import wsproto.frame_protocol as wsp_fp
except Exception:  # noqa: BLE001
    wsp_fp = None
try:
    from websockets.frames import Frame as WsFrame, Opcode as WsOpcode
    from websockets.protocol import Protocol as WsProtocol, Side as WsSide, State as WsState
except Exception:  # noqa: BLE001
    WsProtocol = None
try:
    from wsaccel.utf8validator import Utf8Validator as WsaccelValidator
except Exception:  # noqa: BLE001
    WsaccelValidator = None


# ---------------------------------------------------------------- inputs


def client_frame(opcode: int, payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
    return head + key + masked


def frame_stream(count: int, size: int, seed: int = 1) -> list[bytes]:
    rnd = __import__("random").Random(seed)
    frames = []
    for i in range(count):
        text = ("msg %d " % i).encode()
        payload = (text * (size // len(text) + 1))[:size]
        frames.append(client_frame(0x1, payload, rnd.randbytes(4)))
    return frames


def chunks(data: bytes, n: int) -> list[bytes]:
    return [data[i : i + n] for i in range(0, len(data), n)]


MIXED_UNIT = ("Hello, 世界! 下载完成 — café naïve 🚀 ünïcödé ʕ•ᴥ•ʔ " * 4).encode()


def text_of(kind: str, size: int) -> bytes:
    unit = b"The quick brown fox jumps over the lazy dog. 0123456789\n" if kind == "ascii" else MIXED_UNIT
    data = (unit * (size // len(unit) + 2))[:size]
    while True:  # do not cut a character: trim back to a boundary
        try:
            data.decode("utf-8")
            return data
        except UnicodeDecodeError:
            data = data[:-1]


# ------------------------------------------------------------ contenders


def parse_core(chunks_list):
    def run():
        p = _core.FrameParser(max_message_size=None)
        n = 0
        for c in chunks_list:
            p.feed(c)
            for _op, _payload in p:
                n += 1
        return n

    return run


def parse_wsproto(chunks_list):
    Fin = wsp_fp.FrameProtocol

    def run():
        fp = Fin(client=False, extensions=[])
        n = 0
        for c in chunks_list:
            fp.receive_bytes(c)
            for f in fp.received_frames():
                if f.message_finished:
                    n += 1
        return n

    return run


def parse_websockets(chunks_list):
    text = WsOpcode.TEXT

    def run():
        proto = WsProtocol(WsSide.SERVER, state=WsState.OPEN, max_size=None)
        n = 0
        for c in chunks_list:
            proto.receive_data(c)
            for f in proto.events_received():
                if f.opcode is text:
                    f.data.decode()  # its connection layer decodes text messages
                if f.fin:
                    n += 1
        return n

    return run


# ------------------------------------------------------------------ timing


# CPU time of this thread by default: the machine is shared (other jobs steal
# the cores), and time spent descheduled is not the contender's. --wall uses
# time.perf_counter instead.
CLOCK = time.thread_time


def timed(fn, reps: int) -> float:
    gc_was = gc.isenabled()
    gc.disable()
    try:
        t0 = CLOCK()
        for _ in range(reps):
            fn()
        return CLOCK() - t0
    finally:
        if gc_was:
            gc.enable()


def run_case(title: str, unit: str, contenders: dict, units_per_call: float, expect, rounds: int,
             target: float, scale: float = 1.0, base: str | None = None) -> dict:
    """contenders: name -> fn; each fn() returns a count that must equal expect
    (None: don't check). Rate = units_per_call * reps / time * scale."""
    live = {}
    for name, fn in contenders.items():
        if fn is None:
            continue
        try:
            got = fn()
        except Exception as exc:  # noqa: BLE001
            print(f"  [{title}] {name}: failed: {type(exc).__name__}: {exc}")
            continue
        if expect is not None and got != expect:
            print(f"  [{title}] {name}: wrong count {got} != {expect}; left out")
            continue
        live[name] = fn
    reps = {}
    for name, fn in live.items():  # calibrate: one measurement lasts ~target seconds
        r, dt = 1, timed(fn, 1)
        while dt < target / 4 and r < 1_000_000:
            r *= 4
            dt = timed(fn, r)
        reps[name] = max(1, int(r * target / dt)) if dt > 0 else r
    per_round: dict[str, list[float]] = {n: [] for n in live}
    names = list(live)
    for rnd in range(rounds):
        k = rnd % max(1, len(names))
        for name in names[k:] + names[:k]:
            dt = timed(live[name], reps[name])
            per_round[name].append(units_per_call * reps[name] / dt * scale)
    return {"title": title, "unit": unit, "rates": per_round, "base": base}


def fmt_rate(x: float) -> str:
    for lim, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= lim:
            return f"{x / lim:.2f}{suf}"
    return f"{x:.1f}"


def print_cases(group: str, cases: list[dict]) -> None:
    if not cases:
        return
    print(f"\n== core: {group}  (median [min-max] over rounds; ratio = {cases[0]['base'] or '-'} / contender, paired per round)")
    hdr = f"{'case':<40} {'contender':<26} {'rate':>28} {'ratio':>22}"
    print(hdr)
    print("-" * len(hdr))
    for c in cases:
        base = c["base"]
        first = True
        for name, rates in c["rates"].items():
            rate = f"{fmt_rate(statistics.median(rates))} [{fmt_rate(min(rates))}-{fmt_rate(max(rates))}] {c['unit']}"
            ratio = ""
            if base and base in c["rates"] and name != base:
                rr = [b / x for b, x in zip(c["rates"][base], rates) if x > 0]
                if rr:
                    ratio = f"{statistics.median(rr):.2f}x [{min(rr):.2f}-{max(rr):.2f}]"
            print(f"{c['title'] if first else '':<40} {name:<26} {rate:>28} {ratio:>22}")
            first = False


def median_ratio(case: dict, a: str, b: str) -> float | None:
    if a not in case["rates"] or b not in case["rates"]:
        return None
    rr = [x / y for x, y in zip(case["rates"][a], case["rates"][b]) if y > 0]
    return statistics.median(rr) if rr else None


# ------------------------------------------------------------------- cases


def parse_cases(args) -> list[dict]:
    out = []
    for size, count in ((16, 20000), (125, 10000), (1024, 4000)):
        frames = frame_stream(count, size)
        stream = b"".join(frames)
        for mode, pieces in (("stream, 4 KiB chunks", chunks(stream, 4096)), ("1 frame per feed", frames)):
            if size != 16 and mode == "1 frame per feed":
                continue
            cont = {
                "_core.FrameParser": parse_core(pieces) if _core else None,
                "wsproto FrameProtocol": parse_wsproto(pieces) if wsp_fp else None,
                "websockets Protocol": parse_websockets(pieces) if WsProtocol else None,
            }
            out.append(run_case(f"{size} B text frames, {mode}", "msg/s", cont, count, count, args.rounds,
                                args.time, base="_core.FrameParser" if _core else None))
            print(f"  [parse] {size} B {mode}: done", flush=True)
    return out


def utf8_cases(args) -> list[dict]:
    out = []
    for kind in ("ascii", "mixed"):
        for size in (16, 1024, 65536, 1 << 20):
            data = text_of(kind, size)
            n = len(data)
            v = WsaccelValidator() if WsaccelValidator else None

            def wsaccel_fn(data=data, v=v):
                v.reset()
                ok, end, _i, _t = v.validate(data)
                return ok and end

            cont = {
                "_core.validate_utf8": (lambda data=data: _core.validate_utf8(data)) if _core else None,
                "bytes.decode": lambda data=data: data.decode("utf-8") is not None,
                "wsaccel Utf8Validator": wsaccel_fn if v else None,
            }
            out.append(run_case(f"{kind} {n:,} B", "B/s", cont, n, True, args.rounds, args.time,
                                base="_core.validate_utf8" if _core else None))
    print("  [utf8] done", flush=True)
    return out


def build_cases(args) -> list[dict]:
    out = []
    for size in (16, 1024, 65536):
        payload = os.urandom(size)
        cont = {}
        if _core:
            op = _core.OP_BINARY
            cont["_core.build_frame"] = lambda payload=payload, op=op: len(_core.build_frame(op, payload)) > 0
        if WsProtocol:
            cont["websockets Frame.serialize"] = lambda payload=payload: len(
                WsFrame(WsOpcode.BINARY, payload).serialize(mask=False)) > 0
        if wsp_fp:
            fp = wsp_fp.FrameProtocol(client=False, extensions=[])
            cont["wsproto send_data"] = lambda payload=payload, fp=fp: len(fp.send_data(payload)) > 0
        out.append(run_case(f"{size:,} B binary, server (unmasked)", "frames/s", cont, 1, True, args.rounds,
                            args.time, base="_core.build_frame" if _core else None))
    print("  [build] done", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--time", type=float, default=0.2, help="seconds per measurement")
    ap.add_argument("--quick", action="store_true", help="3 rounds x 0.08 s")
    ap.add_argument("--only", default="parse,utf8,build")
    ap.add_argument("--wall", action="store_true", help="time with wall clock, not this thread's CPU time")
    args = ap.parse_args()
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    if args.quick:
        args.rounds, args.time = 3, 0.08
    only = set(args.only.split(","))
    print(f"python {sys.version.split()[0]}; _core: {'loaded from ' + _core.__file__ if _core else 'UNAVAILABLE (' + CORE_ERR + ')'}")
    import importlib.metadata as md

    vers = []
    for pkg in ("wsproto", "websockets", "wsaccel"):
        try:
            vers.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            vers.append(f"{pkg} missing")
    print("peers: " + ", ".join(vers), flush=True)
    print(f"clock: {'wall (perf_counter)' if args.wall else 'thread CPU time (thread_time)'}; "
          f"{args.rounds} rounds x ~{args.time:g} s per measurement", flush=True)

    parse = parse_cases(args) if "parse" in only else []
    utf8 = utf8_cases(args) if "utf8" in only else []
    build = build_cases(args) if "build" in only else []
    print_cases("parsing client frames into messages", parse)
    print_cases("UTF-8 validation", utf8)
    print_cases("building one frame", build)

    if parse and _core:
        print("\n== targets (parsing, median of paired per-round ratios)")
        for c in parse:
            for peer, goal in (("wsproto FrameProtocol", 20.0), ("websockets Protocol", 3.0)):
                r = median_ratio(c, "_core.FrameParser", peer)
                if r is not None:
                    print(f"  {c['title']:<40} vs {peer:<22} {r:7.2f}x  (target >= {goal:g}x: "
                          f"{'PASS' if r >= goal else 'FAIL'})")


if __name__ == "__main__":
    main()
