#!/usr/bin/env python3
"""End-to-end benchmark: server CPU per WebSocket round trip, and scale.

Every contender is a real server subprocess on a free loopback port. The
native client ``build/wsload`` (bench/wsload.c) opens the connections, does the
handshake, then loops send-one-masked-frame / read-and-verify-the-echo. wsload
itself reads /proc/<pid>/stat of the server and all its descendants (gunicorn's
workers included; utime+stime+cutime+cstime) at the exact start and end of the
measured window, so "server us/RT" is the server tree's CPU time in the window
divided by the round trips completed in it.

The machine has 2 cores and drifts in speed, so all servers stay up for the
whole run and the contenders alternate round by round (their order rotated
every round); tables report medians with [min-max], and ratios are paired per
round (same round, same row) before taking their median.

    python bench/bench_e2e.py                  # all rows, all contenders
    python bench/bench_e2e.py --quick          # 2 rounds x 1.5 s
    python bench/bench_e2e.py --scale          # also the idle-connection scale test
    python bench/bench_e2e.py --scale-only --scale-conns 1000,5000,10000
    python bench/bench_e2e.py --scale-only --scale-conns 10000,100000 --scale-contenders ours-gevent,websockets
    python bench/bench_e2e.py --scale-memprobe 10000   # where an idle ours-gevent connection's memory goes
    python bench/bench_e2e.py --setup          # (re)create the peers' venvs only
    python bench/bench_e2e.py --sched          # syscalls, futex calls, context switches per round trip
    python bench/bench_e2e.py --profile ours-gthread [--profile-row 1mx1] [--profile-perf]
                                               # py-spy (or perf) the server under one row

Contenders (those that cannot start are reported and skipped):
  ours-gthread    example_project /echo/ under gunicorn -k gthread (1 worker, 64 threads)
  ours-gevent     example_project /echo/ under gunicorn -k gevent (1 worker)
  ours-runserver  example_project /echo/ under `manage.py runserver --noreload` (ours)
  ours-eventlet   example_project /echo/ under eventlet.wsgi (serve_eventlet.py; not in the default set)
  dws05-gthread   the original dwebsocket 0.5.12 (pure Python, Django 3.0.14) under gunicorn gthread
  daphne          Channels AsyncWebsocketConsumer echo under daphne
  websockets      plain `websockets` asyncio echo server (no framework)
  websockets-sync plain `websockets` threading echo server (websockets.sync.server; one thread per connection)
  floor-threads   not a product: one OS thread per connection doing only recv_into -> _core parser -> send
                  (peers/threads_floor.py), the least CPU any thread-per-connection server can spend per
                  round trip; it separates what the threading model costs from what our layer adds
  floor-threads-work  the same plus ~0.9 us of Python before and after each send (not in the default set):
                  how steeply the GIL makes a threaded server's cost grow with its Python per message
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BUILD = BENCH / "build"
LOGS = BUILD / "logs"
WSLOAD = BUILD / "wsload"
EXAMPLE = ROOT / "example_project"
PEERS = BENCH / "peers"
# The Python (a venv with dwebsocket_c and the servers) that serves "ours":
# the one running this script unless told otherwise.
DEV_PY = Path(os.environ.get("DWEBSOCKET_BENCH_PYTHON", sys.executable))
DEV_BIN = DEV_PY.parent
VENV_DWS = BUILD / "venv-dwebsocket"
VENV_CH = BUILD / "venv-channels"

# Pinned so the baseline does not move under us. dwebsocket 0.5.12 needs
# Django <= 3.0: from 3.1 on, decorator_from_middleware() passes get_response to
# its WebSocketMiddleware, which takes no arguments (TypeError on every request).
VENV_SPECS = {
    VENV_DWS: ["Django==3.0.14", "six", "gunicorn", "dwebsocket==0.5.12"],
    VENV_CH: ["Django>=5.2,<6", "channels==4.3.2", "daphne==4.2.3"],
}


# ---------------------------------------------------------------- building


def build_wsload() -> None:
    """Compile bench/wsload.c into build/wsload (warnings are errors here)."""
    BUILD.mkdir(parents=True, exist_ok=True)
    src = BENCH / "wsload.c"
    if WSLOAD.exists() and WSLOAD.stat().st_mtime >= src.stat().st_mtime:
        return
    cc = os.environ.get("CC", "gcc")
    subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(WSLOAD), str(src)], check=True)


def base_python() -> str:
    """The interpreter the peers' venvs are made from (the dev venv's base)."""
    out = subprocess.run(
        [str(DEV_PY), "-c", "import sys, os; print(os.path.join(sys.base_prefix, 'bin', 'python3'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    return out if os.path.exists(out) else sys.executable


def setup_venvs(force: bool = False) -> dict[str, str]:
    """Create the peers' venvs when missing. Returns {venv: error} for failures."""
    errors = {}
    for venv, reqs in VENV_SPECS.items():
        marker = venv / ".bench-ok"
        if marker.exists() and not force:
            continue
        print(f"[setup] creating {venv}: {' '.join(reqs)}", flush=True)
        try:
            if venv.exists():
                shutil.rmtree(venv)
            subprocess.run([base_python(), "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *reqs], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=900)
            marker.write_text(" ".join(reqs) + "\n")
        except subprocess.CalledProcessError as exc:
            errors[venv.name] = (exc.stderr or str(exc)).strip().splitlines()[-1:] or [str(exc)]
        except Exception as exc:  # noqa: BLE001 - report, go on without this peer
            errors[venv.name] = [repr(exc)]
    return errors


# ----------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile(want: int = 0) -> None:
    """RLIMIT_NOFILE of this process (a server's child before exec, or the
    bench itself): the soft limit up to the hard one, and the hard one up to
    `want` when the kernel allows it (CAP_SYS_RESOURCE, at most fs.nr_open).
    Process-local, inherited by children: nothing system-wide changes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if want and hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return
        except (ValueError, OSError):
            pass  # not allowed: the soft limit still goes up to the hard one
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def process_nofile(pid: int) -> int:
    """The soft RLIMIT_NOFILE of a running process, from /proc/<pid>/limits."""
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                soft = line.split()[3]
                return 1 << 62 if soft == "unlimited" else int(soft)
    except (OSError, ValueError, IndexError):
        pass
    return 0


def read_sysctl(name: str) -> str:
    try:
        return " ".join(Path("/proc/sys", *name.split(".")).read_text().split())
    except OSError:
        return "?"


def local_ports() -> int:
    """How many ephemeral ports one source address has towards one server port."""
    try:
        lo, hi = map(int, read_sysctl("net.ipv4.ip_local_port_range").split())
        return hi - lo + 1
    except ValueError:
        return 28232  # Linux's default range, 32768-60999


def src_addrs_for(conns: int) -> int:
    """wsload --src-addrs for `conns` connections: 0 (the kernel's choice of
    127.0.0.1) while one address has ports to spare, else enough addresses
    that each uses at most 85% of the ephemeral range (about 24,000 with the
    default range)."""
    per_addr = int(local_ports() * 0.85)
    return 0 if conns <= per_addr else math.ceil(conns / per_addr)


@dataclass
class Contender:
    name: str
    label: str
    kind: str  # "ours", "peer" or "reference"
    argv: list[str]
    cwd: Path
    path: str = "/echo/"
    env: dict[str, str] = field(default_factory=dict)
    nofile: int = 0  # file descriptors the server needs (the scale test's connections)
    proc: subprocess.Popen | None = None
    port: int = 0
    error: str | None = None
    log: Path | None = None

    def start(self, timeout: float = 30.0) -> bool:
        self.port = free_port()
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log = LOGS / f"{self.name}.log"
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        env = dict(os.environ)
        env.update(self.env)
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log, "w") as logf:
            logf.write(f"$ (cd {self.cwd} && {' '.join(argv)})\n")
            logf.flush()
            self.proc = subprocess.Popen(argv, cwd=self.cwd, env=env, stdin=subprocess.DEVNULL,
                                         stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=functools.partial(raise_nofile, self.nofile))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.error = f"exited with {self.proc.returncode}: {self.log_tail()}"
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.error = f"not listening after {timeout:.0f} s: {self.log_tail()}"
            self.stop()
            return False
        # sanity: a short echo run must work
        res = run_wsload(self, conns=1, size=16, binary=False, duration=0.3, warmup=0.1)
        if res.get("round_trips", 0) <= 0 or res.get("errors", 1):
            time.sleep(0.2)
            self.error = f"echo sanity check failed ({res.get('error') or res.get('errors')} errors): {self.log_tail()}"
            self.stop()
            return False
        return True

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group we created for it
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        self.proc = None

    def log_tail(self, n: int = 3) -> str:
        try:
            lines = [ln.strip() for ln in self.log.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return ""
        return " | ".join(lines[-n:])[-400:]


def contenders(scale_conns: int = 0) -> dict[str, Contender]:
    gunicorn = str(DEV_BIN / "gunicorn")
    wc = str(max(20000, scale_conns + 100))
    # The kernel caps a listen backlog at net.core.somaxconn (4096 by default),
    # far above the handshakes wsload keeps in flight (--inflight).
    common = ["-w", "1", "-b", "127.0.0.1:{port}", "--backlog", "4096", "--log-level", "warning"]
    ex_env = {"DJANGO_DB_PATH": str(BUILD / "bench-db.sqlite3")}
    nofile = scale_conns + 1024  # the connections plus the server's own files
    cs = {
        c.name: c
        for c in [
            Contender("ours-gthread", "ours gunicorn gthread", "ours",
                      [gunicorn, "-k", "gthread", "--threads", "64", *common, "mysite.wsgi:application"],
                      EXAMPLE, env=ex_env),
            Contender("ours-gevent", "ours gunicorn gevent", "ours",
                      [gunicorn, "-k", "gevent", "--worker-connections", wc, *common, "mysite.wsgi:application"],
                      EXAMPLE, env=ex_env),
            Contender("ours-runserver", "ours runserver", "ours",
                      [str(DEV_PY), "manage.py", "runserver", "--noreload", "127.0.0.1:{port}"],
                      EXAMPLE, env=ex_env),
            Contender("ours-eventlet", "ours eventlet.wsgi", "ours",
                      [str(DEV_PY), "serve_eventlet.py", "127.0.0.1", "{port}"], EXAMPLE, env=ex_env),
            Contender("dws05-gthread", "dwebsocket 0.5.12 gthread", "peer",
                      [str(VENV_DWS / "bin" / "gunicorn"), "-k", "gthread", "--threads", "64", *common,
                       "wsgi:application"], PEERS / "dwebsocket_old"),
            Contender("daphne", "channels + daphne", "peer",
                      [str(VENV_CH / "bin" / "daphne"), "-b", "127.0.0.1", "-p", "{port}", "--verbosity", "0",
                       "asgi:application"], PEERS / "channels_echo"),
            Contender("websockets", "websockets asyncio", "peer",
                      [str(DEV_PY), str(PEERS / "websockets_echo.py"), "{port}"], PEERS),
            Contender("websockets-sync", "websockets threads", "peer",
                      [str(DEV_PY), str(PEERS / "websockets_sync_echo.py"), "{port}"], PEERS),
            Contender("floor-threads", "floor: bare threads + core", "reference",
                      [str(DEV_PY), str(PEERS / "threads_floor.py"), "{port}"], PEERS),
            Contender("floor-threads-work", "floor + 2x0.9 us Python", "reference",
                      [str(DEV_PY), str(PEERS / "threads_floor.py"), "{port}", "--work", "40"], PEERS),
        ]
    }
    for c in cs.values():
        c.nofile = nofile
    return cs


BASELINES = ["dws05-gthread", "daphne", "websockets", "websockets-sync", "floor-threads", "floor-threads-work"]


# ------------------------------------------------------------------ wsload


def wsload_argv(c: Contender, *, conns: int, size: int, binary: bool, duration: float, warmup: float,
                extra: list[str] | None = None) -> list[str]:
    argv = [str(WSLOAD), "-p", str(c.port), "-P", c.path, "-c", str(conns), "-s", str(size),
            "-d", str(duration), "-w", str(warmup), "--cpu-pid", str(c.proc.pid), "--verbose", "2"]
    if binary:
        argv.append("-b")
    return argv + (extra or [])


def wsload_result(returncode: int, stdout: str, stderr: str) -> dict:
    try:
        res = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": f"wsload rc={returncode}: {stderr.strip()[-300:]}", "errors": 1}
    if stderr.strip():
        res["stderr"] = stderr.strip()[-300:]
    return res


def run_wsload(c: Contender, *, conns: int, size: int, binary: bool, duration: float, warmup: float,
               extra: list[str] | None = None, timeout: float | None = None) -> dict:
    argv = wsload_argv(c, conns=conns, size=size, binary=binary, duration=duration, warmup=warmup, extra=extra)
    limit = timeout or (duration + warmup + 30)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"error": f"wsload timed out after {limit:.0f} s", "errors": 1}
    return wsload_result(p.returncode, p.stdout, p.stderr)


# ------------------------------------------------------------------ tables


ROWS = {
    "16x1": dict(size=16, conns=1, binary=False, label="16 B text x 1 conn"),
    "16x50": dict(size=16, conns=50, binary=False, label="16 B text x 50 conns"),
    "64kx1": dict(size=65536, conns=1, binary=True, label="64 KiB binary x 1 conn"),
    "1mx1": dict(size=1 << 20, conns=1, binary=True, label="1 MiB binary x 1 conn"),
}


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(x, prec=0):
    if x != x:  # nan
        return "-"
    if prec == 0:
        return f"{x:,.0f}"
    return f"{x:,.{prec}f}"


def spread(xs, prec=0):
    if not xs:
        return "-"
    return f"{fmt(med(xs), prec)} [{fmt(min(xs), prec)}-{fmt(max(xs), prec)}]"


def print_row_table(row: str, results: dict, order: list[str], cs: dict[str, Contender], rounds: int,
                    duration: float) -> None:
    spec = ROWS[row]
    print(f"\n== e2e {spec['label']}: {rounds} rounds x {duration:g} s, median [min-max]")
    hdr = (f"{'contender':<27} {'round trips/s':>26} {'server us/RT':>26} {'kernel':>6} {'client us/RT':>12} "
           f"{'p50 us':>8} {'p99 us':>8} {'err':>4}")
    print(hdr)
    print("-" * len(hdr))
    for name in order:
        rs = results.get(row, {}).get(name, [])
        ok = [r for r in rs if "rt_per_s" in r and r.get("round_trips", 0) > 0]
        errs = sum(r.get("errors", 0) for r in rs)
        if not ok:
            why = rs[-1].get("error", "no result") if rs else "not run"
            print(f"{cs[name].label:<27} {'-':>26} {'-':>26}   ({why[:60]})")
            continue
        prec_rate = 1 if med([r["rt_per_s"] for r in ok]) < 100 else 0
        prec_cpu = 1 if med([r["server_cpu_us_per_rt"] for r in ok]) < 1000 else 0
        print(f"{cs[name].label:<27} {spread([r['rt_per_s'] for r in ok], prec_rate):>26} "
              f"{spread([r['server_cpu_us_per_rt'] for r in ok], prec_cpu):>26} "
              f"{fmt(100 * med([r.get('server_sys_s', 0) / r['server_cpu_s'] for r in ok if r['server_cpu_s'] > 0])):>5}% "
              f"{fmt(med([r['client_cpu_us_per_rt'] for r in ok]), 1):>12} "
              f"{fmt(med([r['lat_us']['p50'] for r in ok])):>8} {fmt(med([r['lat_us']['p99'] for r in ok])):>8} "
              f"{errs:>4}")


def paired(results, row, a, b, key):
    """Per-round ratios a/b of metric key (same round), their list."""
    ra = {r["round"]: r for r in results.get(row, {}).get(a, []) if r.get("round_trips", 0) > 0}
    rb = {r["round"]: r for r in results.get(row, {}).get(b, []) if r.get("round_trips", 0) > 0}
    out = []
    for k in sorted(set(ra) & set(rb)):
        x, y = ra[k][key], rb[k][key]
        if x > 0 and y > 0:
            out.append(x / y)
    return out


def print_ratios(results, rows, order, cs) -> None:
    ours = [n for n in order if cs[n].kind == "ours"]
    bases = [n for n in BASELINES if n in order]
    if not ours or not bases:
        print("\n(no ratios: need at least one of ours and one peer with results)")
        return
    print("\n== e2e ratios, paired per round, median [min-max]")
    print("   CPU = baseline server us/RT / ours (>1: ours uses less CPU per round trip)")
    print("   rate = ours round trips/s / baseline's")
    hdr = f"{'row':<24} {'ours':<22}" + "".join(f" {('vs ' + cs[b].label)[:30]:>30}" for b in bases)
    print(hdr)
    print("-" * len(hdr))
    for row in rows:
        for o in ours:
            cells = []
            for b in bases:
                cpu = paired(results, row, b, o, "server_cpu_us_per_rt")
                rate = paired(results, row, o, b, "rt_per_s")
                cells.append("-" if not cpu else f"CPU {med(cpu):.2f}x rate {med(rate):.2f}x")
            print(f"{ROWS[row]['label']:<24} {cs[o].label:<22}" + "".join(f" {c:>30}" for c in cells))


# ------------------------------------------------------------------- main


def run_e2e(args, cs: dict[str, Contender]) -> dict:
    rows = [r for r in args.rows.split(",") if r]
    for r in rows:
        if r not in ROWS:
            sys.exit(f"unknown row {r!r}; rows: {', '.join(ROWS)}")
    names = [n for n in args.contenders.split(",") if n]
    for n in names:
        if n not in cs:
            sys.exit(f"unknown contender {n!r}; contenders: {', '.join(cs)}")
    up = []
    for n in names:
        c = cs[n]
        print(f"[e2e] starting {n} ...", end=" ", flush=True)
        if c.start():
            print(f"port {c.port}, pid {c.proc.pid}", flush=True)
            up.append(n)
        else:
            print(f"UNAVAILABLE: {c.error}", flush=True)
    results: dict = {r: {n: [] for n in up} for r in rows}
    try:
        for rnd in range(args.rounds):
            for row in rows:
                spec = ROWS[row]
                k = (rnd + rows.index(row)) % max(1, len(up))
                order = up[k:] + up[:k]  # rotate: nobody always goes first
                for n in order:
                    c = cs[n]
                    if not c.alive():
                        print(f"[e2e] {n} died ({c.log_tail()}); restarting", flush=True)
                        c.stop()
                        if not c.start():
                            results[row][n].append({"round": rnd, "error": c.error, "errors": 1})
                            continue
                    res = run_wsload(c, conns=spec["conns"], size=spec["size"], binary=spec["binary"],
                                     duration=args.duration, warmup=args.warmup)
                    res["round"] = rnd
                    results[row][n].append(res)
                    if args.verbose:
                        print(f"  r{rnd} {row:<6} {n:<15} {res.get('rt_per_s', 0):>10.1f} rt/s "
                              f"{res.get('server_cpu_us_per_rt', 0):>10.1f} us/RT err={res.get('errors')}"
                              f" {res.get('error', '')}", flush=True)
            print(f"[e2e] round {rnd + 1}/{args.rounds} done", flush=True)
    finally:
        for n in up:
            cs[n].stop()
    for row in rows:
        print_row_table(row, results, up, cs, args.rounds, args.duration)
    print_ratios(results, rows, up, cs)
    unavailable = {n: cs[n].error for n in names if n not in up}
    if unavailable:
        print("\nnot measured:")
        for n, e in unavailable.items():
            print(f"  {n}: {e}")
    return {"rows": rows, "results": results, "unavailable": unavailable}


def fds_per_conn(res: dict) -> str:
    n = res.get("opened", 0)
    if not n or "server_fds_open" not in res:
        return "-"
    return f"{(res['server_fds_open'] - res['server_fds_before']) / n:.2f}"


def scale_environment(wanted: int) -> str:
    """The limits that decide how many connections fit, for the table's header."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    refused = (f", wanted {wanted}: raising the hard limit needs CAP_SYS_RESOURCE"
               if soft != resource.RLIM_INFINITY and soft < wanted else "")
    return (f"fd limit {soft} (hard {hard}{refused}) for the bench, wsload and the servers; "
            f"ip_local_port_range {read_sysctl('net.ipv4.ip_local_port_range')} "
            f"({local_ports()} ports per source address); somaxconn {read_sysctl('net.core.somaxconn')}; "
            f"tcp_max_syn_backlog {read_sysctl('net.ipv4.tcp_max_syn_backlog')}")


def scale_once(c: Contender, target: int, args) -> dict:
    """Start the server, hold `target` idle connections with wsload, ping each
    once, stop the server. Returns wsload's JSON (or an error)."""
    if not c.start():
        return {"error": f"unavailable: {c.error}", "fatal": True}
    try:
        have = process_nofile(c.proc.pid)
        if have and have < target + 64:
            return {"error": f"the server's fd limit is {have}, below {target} connections (raising the hard "
                             "limit needs CAP_SYS_RESOURCE: ulimit -Hn, or the container's nofile limit)",
                    "fatal": True}
        time.sleep(0.5)
        extra = ["-m", "idle", "--hold", str(args.scale_hold), "--inflight", str(args.scale_inflight),
                 "--timeout", str(max(180, target // 150)), "--ping-timeout", str(max(30, target // 2000)),
                 "--src-addrs", str(src_addrs_for(target))]
        res = run_wsload(c, conns=target, size=16, binary=False, duration=1, warmup=0, extra=extra,
                         timeout=args.scale_hold + max(300, target // 100))
    finally:
        c.stop()
    if "opened" in res and res["pongs_ok"] < target:
        why = [ln for ln in (c.log or Path("/dev/null")).read_text(errors="replace").splitlines()
               if "Errno" in ln or "Error" in ln][-1:]
        res["ceiling"] = (f"{res['pongs_ok']} connections answered a ping"
                          + (f"; server log: {why[0].strip()[:150]}" if why else "")
                          + (f"; wsload: {res['stderr'].splitlines()[0][:150]}" if res.get("stderr") else ""))
    return res


def run_scale(args, cs: dict[str, Contender]) -> dict:
    """Idle connections held by one server process, each answering a ping.

    Step by step (smallest first); within a step, --scale-rounds rounds with
    the contenders' order rotated every round, as in the e2e tables. A
    contender that stays below a step's target (its ceiling) or cannot run it
    is not tried at the larger steps."""
    steps = sorted(int(x) for x in args.scale_conns.split(",") if x)
    names = [n for n in args.scale_contenders.split(",") if n]
    for n in names:
        if n not in cs:
            sys.exit(f"unknown contender {n!r}; contenders: {', '.join(cs)}")
    rounds = max(1, args.scale_rounds)
    kib_w = 22 if rounds > 1 else 8
    print(f"\n== scale: idle connections on one server process (hold {args.scale_hold:g} s, then one ping per "
          f"connection; {rounds} round(s), median [min-max])")
    print(f"   {scale_environment(max(steps) + 1024)}")
    hdr = (f"{'contender':<24} {'target':>7} {'src':>3} {'opened':>7} {'alive':>7} {'pongs/pings':>13} "
           f"{'connect s':>9} {'RSS before':>11} {'RSS open':>10} {'KiB/conn':>{kib_w}} {'idle CPU':>8} {'fds/conn':>8}")
    print(hdr)
    print("-" * len(hdr), flush=True)
    out: dict = {n: {} for n in names}
    stopped: dict[str, str] = {}
    for target in steps:
        runs: dict[str, list] = {n: [] for n in names}
        for rnd in range(rounds):
            live = [n for n in names if n not in stopped]
            k = (rnd + steps.index(target)) % max(1, len(live))
            for n in live[k:] + live[:k]:
                if n in stopped:
                    continue
                res = scale_once(cs[n], target, args)
                res["round"] = rnd
                runs[n].append(res)
                if args.verbose:
                    print(f"  r{rnd} {target} {n}: {json.dumps(res)[:300]}", flush=True)
                if res.get("fatal"):
                    stopped[n] = res["error"]
        for n in names:
            rs = runs[n]
            out[n][target] = rs
            ok = [r for r in rs if "opened" in r]
            label = cs[n].label
            if not rs:
                continue
            if not ok:
                print(f"{label:<24} {target:>7}   failed: {(rs[-1].get('error') or '?')[:150]}", flush=True)
                stopped.setdefault(n, "failed")
                continue
            last = ok[-1]
            pongs = f"{med([r['pongs_ok'] for r in ok]):.0f}/{med([r['pings_sent'] for r in ok]):.0f}"
            print(f"{label:<24} {target:>7} {last.get('src_addrs', 0):>3} {med([r['opened'] for r in ok]):>7.0f} "
                  f"{med([r['alive_after_hold'] for r in ok]):>7.0f} "
                  f"{pongs:>13} "
                  f"{med([r['connect_s'] for r in ok]):>9.1f} "
                  f"{med([r['server_rss_before_kb'] for r in ok]) / 1024:>7.1f} MiB "
                  f"{med([r['server_rss_open_kb'] for r in ok]) / 1024:>6.0f} MiB "
                  f"{spread([r['server_rss_per_conn_kb'] for r in ok], 1) if rounds > 1 else fmt(ok[0]['server_rss_per_conn_kb'], 1):>{kib_w}} "
                  f"{med([r['server_idle_cpu_pct'] for r in ok]):>7.1f}% {fds_per_conn(last):>8}", flush=True)
            ceilings = [r["ceiling"] for r in ok if "ceiling" in r]
            if ceilings:
                print(f"{'':<24} ceiling: {ceilings[-1]}", flush=True)
                stopped.setdefault(n, "ceiling")
    return out


def worker_pid(c: Contender) -> int:
    """gunicorn's (only) worker: the master's child."""
    kids = [p for p in tree_pids(c.proc.pid) if p != c.proc.pid]
    return kids[0] if kids else c.proc.pid


def memprobe_once(c: Contender, target: int, out: Path, args) -> dict:
    """Baseline in the worker, `target` idle connections, measurement in the
    worker (bench/memprobe_gevent.py), then stop everything."""
    def probe(phase: str, timeout: float) -> dict:
        out.unlink(missing_ok=True)
        os.kill(worker_pid(c), signal.SIGUSR2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if out.exists():
                data = json.loads(out.read_text())
                if data.get("phase") in (phase, "error"):
                    return data
            time.sleep(0.2)
        return {"phase": "error", "error": f"no {phase} from the worker after {timeout:.0f} s: {c.log_tail()}"}

    if not c.start():
        return {"error": f"unavailable: {c.error}"}
    load = None
    try:
        # a few connections first, so what the first websocket imports or
        # caches is in the baseline and not counted per connection
        run_wsload(c, conns=20, size=16, binary=False, duration=0.3, warmup=0.1)
        time.sleep(1.0)
        base = probe("baseline", 120)
        if base.get("phase") == "error":
            return base
        argv = wsload_argv(c, conns=target, size=16, binary=False, duration=1, warmup=0,
                           extra=["-m", "idle", "--hold", "3600", "--inflight", str(args.scale_inflight),
                                  "--timeout", str(max(180, target // 150)), "--src-addrs", str(src_addrs_for(target))])
        load = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert load.stderr is not None
        line = load.stderr.readline()  # "wsload: N/M connections open after S s" once connected
        if "connections open" not in line:
            return {"error": f"wsload: {line.strip() or load.stderr.read()[-300:]}"}
        time.sleep(3.0)  # let the last handshakes' garbage go
        res = probe("measure", 600)
        res["wsload"] = line.strip()
        return res
    finally:
        if load is not None and load.poll() is None:
            load.terminate()  # it holds for an hour otherwise
            load.wait(timeout=30)
        c.stop()


def print_memprobe(res: dict, target: int) -> None:
    n = res.get("websockets") or 0
    if res.get("phase") != "measure" or not n:
        print(f"\n== memprobe {target}: failed: {res.get('error', res)}")
        return
    b, a = res["numbers_base"], res["numbers"]

    def per(key: str) -> str:
        return f"{(a.get(key, 0) - b.get(key, 0)) / n:>10,.0f}" if key in a and key in b else f"{'-':>10}"

    print(f"\n== memprobe: ours gunicorn gevent, {n} idle websockets ({res.get('wsload', '')}), bytes per connection")
    if res.get("env"):
        print(f"   with {res['env']}")
    print(f"   RSS (/proc/self/status VmRSS)                 {per('rss')}")
    print(f"   glibc malloc in use (mallinfo2)               {per('malloc_in_use')}")
    print(f"   glibc malloc taken from the system            {per('malloc_system')}")
    print(f"   pymalloc bytes in allocated blocks            {per('pymalloc_allocated_blocks')}")
    print(f"   pymalloc arenas (x 1 MiB) per 1000 conns      "
          f"{(a.get('pymalloc_arenas', 0) - b.get('pymalloc_arenas', 0)) * 1000 / n:>10,.1f}")
    print(f"   memory maps (/proc/self/maps lines) per conn  {(a['maps'] - b['maps']) / n:>10,.2f}")
    rest = sum(a.get(k, 0) - b.get(k, 0) for k in ("rss",)) - sum(
        a.get(k, 0) - b.get(k, 0) for k in ("malloc_in_use", "pymalloc_allocated_blocks"))
    print(f"   RSS - malloc in use - pymalloc blocks         {rest / n:>10,.0f}   (the greenlets' data-stack "
          "pages, allocator slack)")
    by_owner: dict[str, int] = {}
    for o in res["objects"]:
        by_owner[o["owner"]] = by_owner.get(o["owner"], 0) + o["bytes"]
    total = sum(by_owner.values())
    print(f"\n   Python objects created since the baseline (sys.getsizeof), by owner: {total / n:,.0f} per connection")
    for owner, nbytes in sorted(by_owner.items(), key=lambda kv: -kv[1]):
        print(f"\n   {owner:<14} {nbytes / n:>8,.0f}")
        for o in res["objects"]:
            if o["owner"] == owner and o["bytes"] / n >= 8:
                print(f"      {o['type'][:58]:<58} {o['count'] / n:>6.2f} x {o['bytes'] / max(o['count'], 1):>7,.0f}"
                      f" = {o['bytes'] / n:>7,.0f}")
    if res.get("sample_stack"):
        print("\n   one websocket greenlet's suspended stack, innermost first (sys.getsizeof of each frame):")
        for line in res["sample_stack"]:
            print(f"      {line}")
    for where, count in sorted(res.get("dummy_threads", {}).items(), key=lambda kv: -kv[1])[:3]:
        print(f"\n   threading._DummyThread made {count} times (per greenlet, by current_thread()) at: {where}")
    g = max(res.get("greenlets") or 0, 1)
    print(f"\n   greenlets: {res.get('greenlets')}; per greenlet: saved C stack slice "
          f"{res['greenlet_stack_saved'] / g:,.0f} B, {res['greenlet_frames'] / g:.1f} suspended Python frames of "
          f"{res['greenlet_frames_bytes'] / g:,.0f} B (CPython 3.11+: in the greenlet's own data-stack chunk, "
          "16 KiB reserved, resident as far as the deepest call went)")


def run_memprobe(args, cs: dict[str, Contender]) -> dict:
    steps = [int(x) for x in args.scale_memprobe.split(",") if x]
    base = cs["ours-gevent"]
    out = {}
    for target in steps:
        c = Contender(base.name, base.label, base.kind,
                      base.argv[:1] + ["-c", str(BENCH / "memprobe_gevent.py")] + base.argv[1:], base.cwd,
                      env={**base.env, "DWS_BENCH_MEMPROBE_OUT": str(BUILD / f"memprobe-{target}.json")},
                      nofile=base.nofile)
        res = memprobe_once(c, target, BUILD / f"memprobe-{target}.json", args)
        res["env"] = " ".join(args.scale_env)
        out[target] = res
        print_memprobe(res, target)
    return out


VENV_TOOLS = BUILD / "venv-tools"


def run_profile(args, cs: dict[str, Contender]) -> None:
    """py-spy the server (and its workers) while wsload drives one row; print
    where the samples fall: top functions by self time and by inclusive time."""
    pyspy = VENV_TOOLS / "bin" / "py-spy"
    if not pyspy.exists():
        print("[profile] installing py-spy into bench/build/venv-tools", flush=True)
        subprocess.run([base_python(), "-m", "venv", str(VENV_TOOLS)], check=True)
        subprocess.run([str(VENV_TOOLS / "bin" / "pip"), "install", "-q", "py-spy"], check=True)
    c = cs[args.profile]
    spec = ROWS[args.profile_row]
    if args.profile_perf:
        return run_perf(args, c, spec)
    if not c.start():
        print(f"[profile] {c.name} unavailable: {c.error}")
        return
    raw = BUILD / f"profile-{c.name}-{args.profile_row}.txt"
    secs = args.profile_seconds
    try:
        spy = subprocess.Popen([str(pyspy), "record", "--pid", str(c.proc.pid), "--subprocesses",
                                *(["--native"] if args.profile_native else ["--nonblocking"]),
                                *(["--idle"] if args.profile_idle else []), "--rate", "500",
                                "--format", "raw", "-o", str(raw), "-d", str(int(secs))],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        res = run_wsload(c, conns=spec["conns"], size=spec["size"], binary=spec["binary"],
                         duration=secs, warmup=0.0)
        try:
            _, err = spy.communicate(timeout=secs + 30)
        except subprocess.TimeoutExpired:
            spy.kill()
            _, err = spy.communicate()
    finally:
        c.stop()
    print(f"\n== profile {c.label}, {spec['label']}: {res.get('rt_per_s', 0):,.0f} rt/s, "
          f"{res.get('server_cpu_us_per_rt', 0):.1f} server us/RT (py-spy at 500 Hz; raw stacks: {raw})")
    if not raw.exists():
        print(f"[profile] py-spy produced nothing: {err.strip()[-300:]}")
        return
    self_c: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        n = int(n)
        frames = [f.split(" (")[0] + (" (" + f.split(" (")[1].split(":")[0].rsplit("/", 1)[-1] + ")"
                                      if " (" in f else "") for f in stack.split(";")]
        # drop the process/thread root frames py-spy adds
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += n
        self_c[frames[-1]] = self_c.get(frames[-1], 0) + n
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n
    if not total:
        print("[profile] no samples")
        return
    print(f"{'self %':>7}  function (file)")
    for f, n in sorted(self_c.items(), key=lambda kv: -kv[1])[: args.profile_top]:
        print(f"{100 * n / total:6.1f}%  {f}")
    print(f"\n{'incl %':>7}  function (file)")
    for f, n in sorted(incl.items(), key=lambda kv: -kv[1])[: args.profile_top]:
        print(f"{100 * n / total:6.1f}%  {f}")


def tree_pids(root: int) -> list[int]:
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
                parent[int(d)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, pp in parent.items():
            if pp in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sorted(tree)


def run_perf(args, c: Contender, spec: dict) -> None:
    """perf record (on-CPU samples only, kernel included) of the server tree
    during one row; prints the split by shared object and the hottest symbols."""
    if not shutil.which("perf"):
        print("[profile] perf not installed")
        return
    if not c.start():
        print(f"[profile] {c.name} unavailable: {c.error}")
        return
    data = BUILD / f"perf-{c.name}-{args.profile_row}.data"
    secs = args.profile_seconds
    try:
        pids = ",".join(map(str, tree_pids(c.proc.pid)))
        perf = subprocess.Popen(["perf", "record", "-F", "1999", "-g", "-o", str(data), "-p", pids, "--",
                                 "sleep", str(secs)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.3)
        res = run_wsload(c, conns=spec["conns"], size=spec["size"], binary=spec["binary"],
                         duration=secs - 1, warmup=0.2)
        perf.wait(timeout=secs + 30)
    finally:
        c.stop()
    print(f"\n== perf {c.label}, {spec['label']}: {res.get('rt_per_s', 0):,.0f} rt/s, "
          f"{res.get('server_cpu_us_per_rt', 0):.1f} server us/RT, "
          f"kernel {100 * res.get('server_sys_s', 0) / max(res.get('server_cpu_s', 1e-9), 1e-9):.0f}% "
          f"(perf record -F 1999 -g; data: {data})")
    for sort, limit in (("dso", 1.0), ("sym", 0.7)):
        rep = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "-g", "none",
                              "--sort", sort, "--percent-limit", str(limit)],
                             capture_output=True, text=True, timeout=120)
        lines = [ln for ln in rep.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
        print(f"\n-- by {sort} (>= {limit}%)")
        print("\n".join(lines[: args.profile_top]))


#: What --sched counts in the server tree (perf stat); the tracepoints need
#: tracefs, which the bench mounts when it is missing (root) or goes without.
SCHED_EVENTS = {
    "task-clock": "CPU us",
    "context-switches": "ctx sw",
    "raw_syscalls:sys_enter": "syscalls",
    "syscalls:sys_enter_futex": "futex",
}


def tracepoints_available() -> bool:
    tracing = Path("/sys/kernel/tracing")
    if not (tracing / "events").exists() and tracing.exists():
        subprocess.run(["mount", "-t", "tracefs", "nodev", str(tracing)], capture_output=True)
    probe = subprocess.run(["perf", "stat", "-x", ",", "-e", "syscalls:sys_enter_futex", "--", "true"],
                           capture_output=True, text=True)
    return probe.returncode == 0


def measure_sched(c: Contender, spec: dict, duration: float, events: list[str]) -> dict:
    """One wsload run; perf stat counts the server tree's events in a window
    inside the measured one (wsload --announce says when it opens). Returns
    wsload's result plus events per round trip."""
    argv = wsload_argv(c, conns=spec["conns"], size=spec["size"], binary=spec["binary"],
                       duration=duration, warmup=0.5, extra=["--announce"])
    load = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert load.stdout is not None
    first = load.stdout.readline()  # blocks until the window opens (or wsload ends)
    counts: dict[str, float] = {}
    window = max(duration - 0.3, 0.3)
    perf_err = ""
    if first.strip() == "measuring":
        pids = ",".join(map(str, tree_pids(c.proc.pid)))
        started = time.monotonic()
        perf = subprocess.run(["perf", "stat", "-x", ",", "-e", ",".join(events), "-p", pids, "--",
                               "sleep", f"{window:.2f}"], capture_output=True, text=True, timeout=window + 30)
        window = time.monotonic() - started
        perf_err = perf.stderr
        for line in perf.stderr.splitlines():
            fields = line.split(",")
            if len(fields) > 2 and fields[2] in events:
                try:
                    counts[fields[2]] = float(fields[0]) * (1000.0 if fields[2] == "task-clock" else 1.0)  # ms -> us
                except ValueError:
                    pass  # "<not counted>"
    out, err = load.communicate(timeout=duration + 60)
    res = wsload_result(load.returncode, first + out, err)
    rate = res.get("rt_per_s", 0)
    if rate > 0 and counts:
        res["per_rt"] = {e: v / window / rate for e, v in counts.items()}
    else:
        res.setdefault("error", f"perf stat: {perf_err.strip()[-200:]}")
    return res


def run_sched(args, cs: dict[str, Contender]) -> dict:
    """Where a round trip's kernel time goes: system calls, futex calls (GIL
    handoffs and locks) and context switches per round trip, by perf stat,
    alternating the contenders round by round like the e2e tables."""
    if not shutil.which("perf"):
        sys.exit("--sched needs perf (apt-get install linux-perf)")
    events = list(SCHED_EVENTS) if tracepoints_available() else ["task-clock", "context-switches"]
    rows = [r for r in args.sched_rows.split(",") if r]
    names = [n for n in args.contenders.split(",") if n]
    up = []
    for n in names:
        if cs[n].start():
            up.append(n)
        else:
            print(f"[sched] {n} unavailable: {cs[n].error}")
    results: dict = {r: {n: [] for n in up} for r in rows}
    try:
        for rnd in range(args.rounds):
            for row in rows:
                k = (rnd + rows.index(row)) % max(1, len(up))
                for n in up[k:] + up[:k]:
                    res = measure_sched(cs[n], ROWS[row], args.duration, events)
                    results[row][n].append(res)
            print(f"[sched] round {rnd + 1}/{args.rounds} done", flush=True)
    finally:
        for n in up:
            cs[n].stop()
    for row in rows:
        print(f"\n== sched {ROWS[row]['label']}: per round trip, server process tree, perf stat, "
              f"median of {args.rounds} rounds x {args.duration:g} s")
        hdr = f"{'contender':<27} {'round trips/s':>14}" + "".join(f" {SCHED_EVENTS[e]:>9}" for e in events)
        print(hdr)
        print("-" * len(hdr))
        for n in up:
            ok = [r for r in results[row][n] if "per_rt" in r]
            if not ok:
                why = results[row][n][-1].get("error", "no result") if results[row][n] else "not run"
                print(f"{cs[n].label:<27} ({why[:80]})")
                continue
            print(f"{cs[n].label:<27} {fmt(med([r['rt_per_s'] for r in ok])):>14}"
                  + "".join(f" {fmt(med([r['per_rt'].get(e, float('nan')) for r in ok]), 2):>9}" for e in events))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=float, default=2.5, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--contenders", default="ours-gthread,ours-gevent,ours-runserver,dws05-gthread,daphne,websockets,"
                                            "websockets-sync,floor-threads")
    ap.add_argument("--quick", action="store_true", help="2 rounds x 1.5 s")
    ap.add_argument("--scale", action="store_true", help="also run the idle-connection scale test")
    ap.add_argument("--scale-only", action="store_true")
    ap.add_argument("--scale-conns", default="1000,5000,10000")
    ap.add_argument("--scale-contenders", default="ours-gevent,websockets,daphne")
    ap.add_argument("--scale-hold", type=float, default=5.0)
    ap.add_argument("--scale-rounds", type=int, default=1, help="rounds per scale step (contenders alternate)")
    ap.add_argument("--scale-inflight", type=int, default=200, help="handshakes wsload keeps in flight")
    ap.add_argument("--scale-env", metavar="NAME=VALUE", action="append", default=[],
                    help="environment for our servers in the scale test and --scale-memprobe (repeatable), e.g. "
                         "DJANGO_SETTINGS_MODULE=bench_settings_bare (no middleware; bench/peers is put on "
                         "PYTHONPATH) or GEVENT_TRACK_GREENLET_TREE=0")
    ap.add_argument("--scale-memprobe", metavar="N[,N]",
                    help="instead of the tables: where an idle ours-gevent connection's memory goes, at N connections")
    ap.add_argument("--setup", action="store_true", help="(re)create the peers' venvs and exit")
    ap.add_argument("--profile", metavar="CONTENDER", help="py-spy this contender under one row, print hot spots")
    ap.add_argument("--profile-row", default="16x1")
    ap.add_argument("--profile-seconds", type=float, default=8)
    ap.add_argument("--profile-top", type=int, default=25)
    ap.add_argument("--profile-idle", action="store_true", help="include idle (waiting) samples")
    ap.add_argument("--profile-native", action="store_true", help="py-spy --native (C frames; pauses the process)")
    ap.add_argument("--profile-perf", action="store_true", help="use perf (on-CPU, kernel included) instead of py-spy")
    ap.add_argument("--sched", action="store_true",
                    help="instead of the e2e tables: syscalls, futex calls and context switches per round trip")
    ap.add_argument("--sched-rows", default="16x1,16x50")
    ap.add_argument("--json", help="write raw results here")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every run")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.duration, args.warmup = 2, 1.5, 0.3

    # Raise the fd limit for us and wsload (inherited; wsload and the servers
    # raise their own too).
    biggest = max(int(x) for x in (args.scale_conns + "," + (args.scale_memprobe or "0")).split(",") if x)
    raise_nofile(biggest + 1024)

    build_wsload()
    errs = setup_venvs(force=args.setup)
    for v, e in errs.items():
        print(f"[setup] {v} failed: {e}")
    if args.setup:
        return

    cs = contenders(biggest)
    for item in args.scale_env:
        name, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"--scale-env wants NAME=VALUE, not {item!r}")
        for c in cs.values():
            if c.kind == "ours":
                c.env[name] = value
                if name == "DJANGO_SETTINGS_MODULE":  # bench/peers/bench_settings_*.py
                    c.env["PYTHONPATH"] = f"{PEERS}{os.pathsep}{EXAMPLE}"
    if args.profile:
        run_profile(args, cs)
        return
    if args.sched:
        report = run_sched(args, cs)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1, default=str))
        return
    if args.scale_memprobe:
        report = run_memprobe(args, cs)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1, default=str))
        return
    report = {"machine": {"nproc": os.cpu_count()}, "args": vars(args)}
    if not args.scale_only:
        report["e2e"] = run_e2e(args, cs)
    if args.scale or args.scale_only:
        report["scale"] = run_scale(args, cs)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
