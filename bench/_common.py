"""Shared benchmark harness: interleaved rounds, medians, a plain-text table.

The machine's speed drifts (up to ~1.5x within minutes), so contenders are
never timed in separate blocks: every round runs each contender once, in a
shuffled order, for a fixed number of iterations calibrated beforehand so that
one sample lasts at least ``target_ns``.  Ratios are computed per round (two
contenders of the same round ran seconds apart at most) and then reduced to a
median, which cancels most of the drift.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable
from itertools import repeat

# A contender: a zero-argument factory returning ``(func, args)``; the timed
# loop calls ``func(*args)`` ``iters`` times.
Runner = Callable[[], tuple[Callable, tuple]]


def time_loop(func: Callable, args: tuple, iters: int) -> int:
    """Wall time in ns of ``iters`` calls of ``func(*args)``."""
    t0 = time.perf_counter_ns()
    for _ in repeat(None, iters):
        func(*args)
    return time.perf_counter_ns() - t0


def calibrate(func: Callable, args: tuple, target_ns: int) -> int:
    """Iterations needed for one sample to last at least ``target_ns``."""
    iters = 1
    while True:
        elapsed = time_loop(func, args, iters)
        if elapsed >= target_ns:
            return iters
        # Aim a bit above the target, grow at most 100x per step.
        grow = max(2.0, min(100.0, 1.3 * target_ns / max(elapsed, 1)))
        iters = int(iters * grow) + 1


def run_rounds(
    contenders: dict[str, tuple[Callable, tuple]],
    *,
    rounds: int,
    target_ns: int,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Per contender, the ns per call of each round (same round = same index)."""
    iters = {name: calibrate(f, a, target_ns) for name, (f, a) in contenders.items()}
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    order = list(contenders)
    rng = random.Random(seed)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            rng.shuffle(order)
            for name in order:
                func, args = contenders[name]
                samples[name].append(time_loop(func, args, iters[name]) / iters[name])
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


def median_ratio(num: list[float], den: list[float]) -> float:
    """Median over rounds of ``num[i] / den[i]``."""
    return statistics.median(n / d for n, d in zip(num, den))


def fmt_size(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def render_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    def line(cells):
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        )
    out = [line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)
