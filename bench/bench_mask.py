#!/usr/bin/env python
"""Unmask throughput of dwebsocket_c._core against its peers (not a test).

    python bench/bench_mask.py [--rounds N] [--quick]

One table: per payload size, the median throughput in GB/s (10^9 bytes/s) of
each contender over the rounds, with the min-max spread, and the median of the
per-round throughput ratios of ``_core.apply_mask`` to websockets, wsaccel and
a plain copy.  See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import fmt_size, median_ratio, render_table, run_rounds  # noqa: E402

try:
    from dwebsocket_c import _core
except ImportError as exc:  # the one contender that is not optional
    sys.exit(f"dwebsocket_c._core cannot be imported ({exc}): build it first with\n"
             "    pip install --no-build-isolation -e .")

try:
    from websockets.speedups import apply_mask as ws_apply_mask
except ImportError:
    ws_apply_mask = None

try:
    from wsaccel.xormask import XorMaskerSimple
except ImportError:
    XorMaskerSimple = None

SIZES = [16, 125, 64 * 1024, 1024 * 1024]
KEY = b"\x37\xfa\x21\x3d"


def wsaccel_unmask(data: bytes, key: bytes) -> bytes:
    # wsaccel's maskers are stateful (they remember their position in the
    # key), so one masker per payload, as a frame parser would do.
    return XorMaskerSimple(key).process(data)


def contenders_for(size: int) -> dict:
    data = os.urandom(size)
    buf = bytearray(data)
    out = {
        "core": (_core.apply_mask, (data, KEY)),
        "core inplace": (_core.apply_mask_inplace, (buf, KEY)),
        # bytes(bytearray) always copies: the memory-bandwidth ceiling for an
        # operation that reads N bytes and writes N new bytes.
        "copy": (bytes, (buf,)),
    }
    if ws_apply_mask is not None:
        out["websockets"] = (ws_apply_mask, (data, KEY))
    if XorMaskerSimple is not None:
        out["wsaccel"] = (wsaccel_unmask, (data, KEY))
    return out


def sanity_check() -> None:
    """Every contender computes the same thing (else the numbers mean nothing)."""
    data = os.urandom(1000)
    expected = _core.apply_mask(data, KEY)
    buf = bytearray(data)
    _core.apply_mask_inplace(buf, KEY)
    assert buf == expected
    if ws_apply_mask is not None:
        assert ws_apply_mask(data, KEY) == expected
    if XorMaskerSimple is not None:
        assert wsaccel_unmask(data, KEY) == expected


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=None, help="rounds per size (default 15, quick 5)")
    ap.add_argument("--quick", action="store_true", help="5 rounds of >= 5 ms samples")
    ap.add_argument("--seed", type=int, default=0, help="seed of the per-round shuffles")
    args = ap.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 15)
    target_ns = 5_000_000 if args.quick else 20_000_000

    sanity_check()
    names = ["core", "core inplace", "websockets", "wsaccel", "copy"]
    header = ["size"] + names + ["core/websockets", "core/wsaccel", "core/copy"]
    rows = []
    for size in SIZES:
        contenders = contenders_for(size)
        samples = run_rounds(contenders, rounds=rounds, target_ns=target_ns, seed=args.seed)
        row = [fmt_size(size)]
        for name in names:
            if name not in samples:
                row.append("not installed")
                continue
            gbps = [size / ns for ns in samples[name]]  # bytes per ns == GB/s
            row.append(f"{statistics.median(gbps):.2f} ({min(gbps):.2f}-{max(gbps):.2f})")
        for peer in ("websockets", "wsaccel", "copy"):
            if peer not in samples:
                row.append("not installed")
            else:  # throughput ratio == inverse time ratio, per round
                row.append(f"{median_ratio(samples[peer], samples['core']):.2f}x")
        rows.append(row)
        print(f"  {fmt_size(size)} done", file=sys.stderr, flush=True)

    print(f"Unmask throughput, GB/s: median (min-max) of {rounds} interleaved rounds, "
          f"samples >= {target_ns // 1_000_000} ms")
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs; ratios are medians of per-round ratios")
    print(render_table(header, rows))


if __name__ == "__main__":
    main()
