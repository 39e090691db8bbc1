"""Where the memory of an idle connection goes, measured inside a gunicorn gevent worker.

Bench only, not part of the library. ``bench_e2e.py --scale-memprobe N`` starts
the example project under ``gunicorn -k gevent -c bench/memprobe_gevent.py``
with ``DWS_BENCH_MEMPROBE_OUT=<file>``. In the worker, SIGUSR2 (handled in a
greenlet of the hub, so the walk below sees a consistent heap) takes a
measurement: the first one is the baseline, taken before the connections; the
second one describes what was allocated since, and writes both as JSON to the
file.

What it reports, divided by the number of ``WebSocket`` objects alive:
  * process numbers: RSS (/proc/self/status), glibc malloc (mallinfo2: bytes
    in use and bytes taken from the system), pymalloc (sys._debugmallocstats:
    bytes in allocated blocks, arenas);
  * Python objects created since the baseline, found by gc.get_objects() and
    the untracked objects they reference (str, bytes, int, ...), sized with
    sys.getsizeof (instance dicts are materialized to be sized, which adds a
    dict header to each instance that had none), and attributed to an owner:
    an object whose class lives in gevent/gunicorn/io/socket ("server"),
    django ("django"), dwebsocket_c ("ours") belongs to that owner; a plain
    object (dict, list, str, deque, lock, method, cell, ...) belongs to the first
    owner that reaches it, owners visited in that order (so the environ dict
    built by the server is the server's, the locks and deque a WebSocket
    created are ours); greenlets and their suspended frames come next, and what
    no owner reaches is "unattributed";
  * per greenlet: its saved C stack slice (greenlet's ``_stack_saved``) and its
    Python frames (sys.getsizeof of each frame on its suspended stack); on
    CPython 3.11+ those frames live in a data-stack chunk of at least 16 KiB
    that the greenlet reserves with mmap, resident as deep as its stack ever
    went: RSS minus malloc minus pymalloc blocks is mostly those pages.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import re
import signal
import sys
import tempfile
import time

OUT = os.environ.get("DWS_BENCH_MEMPROBE_OUT")
_state: dict = {}

#: Module prefixes of the owners, in the order they claim plain objects.
OWNERS = [
    ("server", ("gunicorn", "gevent.pywsgi", "gevent._socket3", "gevent.socket", "gevent._socketcommon",
                "gevent._fileobject", "gevent._fileobjectcommon", "_io", "io", "socket")),
    ("django", ("django",)),
    ("ours", ("dwebsocket_c",)),
]
#: Types that any owner may create: they take the owner that reaches them first.
PLAIN_MODULES = {
    "builtins", "_thread", "threading", "_collections", "collections", "_weakref", "weakref", "_contextvars",
    "gevent._gevent_c_semaphore", "gevent.lock", "gevent._gevent_cevent", "gevent.event", "gevent.thread",
    "gevent._gevent_c_abstract_linkable", "gevent.libev.corecext", "gevent.libuv.watcher", "gevent.timeout",
    "gevent._gevent_c_waiter", "gevent._gevent_c_hub_primitives", "gevent._gevent_c_ident", "gevent.local",
    "gevent._gevent_clocal", "_queue", "queue",
}


def post_worker_init(worker):  # gunicorn hook: in the worker, gevent already running
    if not OUT:
        return
    import gevent

    gevent.signal_handler(signal.SIGUSR2, _on_signal)
    _watch_dummy_threads()
    worker.log.warning("memprobe: SIGUSR2 takes a measurement (first: baseline) -> %s", OUT)


def _on_signal() -> None:
    try:
        if "base" not in _state:
            _state["base"] = _census()  # first: the census's own memory is in both measurements
            _state["numbers"] = _numbers()
            _write({"phase": "baseline", "numbers": _state["numbers"], "objects": len(_state["base"])})
        else:
            _write(_measure())
    except Exception as exc:  # noqa: BLE001 - report it to the bench instead of killing the worker
        _write({"phase": "error", "error": repr(exc)})


def _watch_dummy_threads() -> None:
    """Under gevent, threading.current_thread() in a greenlet makes a
    _DummyThread for it: record who does it (the Python stack, counted)."""
    import traceback

    import gevent.threading

    cls = getattr(gevent.threading, "_DummyThread", None)
    if cls is None:
        return
    original = cls.__init__
    seen = _state.setdefault("dummy_threads", {})

    def __init__(self, *args, **kwargs):
        stack = traceback.extract_stack(limit=8)[:-1]
        key = " <- ".join(f"{os.path.basename(f.filename)}:{f.lineno} {f.name}" for f in reversed(stack))
        seen[key] = seen.get(key, 0) + 1
        original(self, *args, **kwargs)

    cls.__init__ = __init__


def _write(data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(OUT) or ".")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, OUT)  # the bench polls for the file: never let it see half of it


# ------------------------------------------------------------------ numbers


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def _mallinfo() -> dict:
    try:
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = _Mallinfo2
        m = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    # in use: allocated chunks (brk heap and arenas) + mmapped chunks;
    # from the system: the arenas' size + mmapped chunks
    return {"malloc_in_use": m.uordblks + m.hblkhd, "malloc_system": m.arena + m.hblkhd}


def _pymalloc() -> dict:
    """sys._debugmallocstats() writes to the C stderr: catch it in a file."""
    with tempfile.TemporaryFile() as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    out = {}
    for key, pat in (("pymalloc_allocated_blocks", r"# bytes in allocated blocks\s*=\s*([\d,]+)"),
                     ("pymalloc_arenas", r"# arenas allocated current\s*=\s*([\d,]+)"),
                     ("pymalloc_total", r"^Total\s*=\s*([\d,]+)")):
        m = re.search(pat, text, re.M)
        if m:
            out[key] = int(m.group(1).replace(",", ""))
    return out


def _numbers() -> dict:
    rss = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    maps = sum(1 for _ in open("/proc/self/maps"))
    return {"rss": rss, "maps": maps, **_mallinfo(), **_pymalloc()}


# ------------------------------------------------------------------ objects


def _census() -> dict:
    """Every object reachable as gc-tracked or as an untracked referent of
    one, by id. Holding them keeps their ids from being reused."""
    objs = gc.get_objects()
    seen = {id(o): o for o in objs}
    stack = objs
    while stack:
        o = stack.pop()
        for r in gc.get_referents(o):
            if id(r) not in seen:
                seen[id(r)] = r
                if not gc.is_tracked(r):
                    stack.append(r)
    return seen


def _owner_of_type(t: type) -> str | None:
    """The owner a class's instances belong to; None for a plain type."""
    import greenlet

    mod = getattr(t, "__module__", "") or ""
    if isinstance(t, type) and issubclass(t, greenlet.greenlet):
        return "greenlet"
    if t.__name__ == "frame" and mod == "builtins":
        return "greenlet"
    if mod in PLAIN_MODULES:
        return None
    for owner, prefixes in OWNERS:
        if mod.startswith(prefixes):
            return owner
    return "other"


def _instance_dict(o):
    try:
        d = object.__getattribute__(o, "__dict__")
    except (AttributeError, TypeError):
        return None
    return d if isinstance(d, dict) else None


def _short(path: str) -> str:
    """A source path without its site-packages or checkout prefix."""
    for marker in ("site-packages/", "/dwebsocket_c/", "/example_project/"):
        if marker in path:
            return (marker.strip("/") + "/" if marker != "site-packages/" else "") + path.split(marker, 1)[1]
    return os.path.basename(path)


def _measure() -> dict:
    numbers = _numbers()  # before this walk allocates anything
    base = _state["base"]
    objs = gc.get_objects()
    skip = {id(base), id(_state), id(objs)}
    new = {id(o): o for o in objs if id(o) not in base and id(o) not in skip}
    del objs
    stack = list(new.values())
    while stack:  # untracked objects (str, bytes, int, atomic tuples) held by new ones
        o = stack.pop()
        for r in gc.get_referents(o):
            if id(r) not in base and id(r) not in new and not gc.is_tracked(r):
                new[id(r)] = r
                stack.append(r)
    greenlets = [o for o in new.values() if _owner_of_type(type(o)) == "greenlet" and type(o).__name__ != "frame"]

    owner: dict[int, str] = {}
    label: dict[int, str] = {}  # a better name than "dict" for instance dicts
    typed: dict[str, list] = {}
    for o in new.values():
        w = _owner_of_type(type(o))
        if w is not None:
            owner[id(o)] = w
            typed.setdefault(w, []).append(o)

    def claim(name: str, roots: list) -> None:
        stack = list(roots)
        while stack:
            o = stack.pop()
            refs = gc.get_referents(o)
            d = _instance_dict(o)
            if d is not None:
                refs.append(d)
                if id(d) not in base and id(d) not in new:
                    new[id(d)] = d  # materialized now (3.11 keeps instance attributes without a dict)
                label.setdefault(id(d), f"__dict__ of {type(o).__qualname__}")
            for r in refs:
                i = id(r)
                if i in new and i not in owner:
                    owner[i] = name
                    stack.append(r)

    for name in ("server", "django", "ours", "greenlet", "other"):
        claim(name, typed.get(name, []))

    n_ws = sum(1 for o in new.values() if type(o).__name__ == "WebSocket"
               and (type(o).__module__ or "").startswith("dwebsocket_c"))
    rows: dict[tuple[str, str], list] = {}
    for i, o in new.items():
        t = type(o)
        key = (owner.get(i, "unattributed"),
               label.get(i) or f"{t.__module__}.{t.__qualname__}".replace("builtins.", ""))
        row = rows.setdefault(key, [0, 0])
        row[0] += 1
        try:
            row[1] += sys.getsizeof(o)
        except TypeError:
            pass

    # greenlets: the saved C stack slice, and the Python frames of the
    # suspended stack (materialized by gr_frame; sized like the data stack)
    stack_saved = frames_bytes = frames = 0
    sample = []  # one websocket greenlet's suspended stack, innermost first
    for g in greenlets:
        stack_saved += getattr(g, "_stack_saved", 0)
        f, this = getattr(g, "gr_frame", None), 0
        one = []
        while f is not None:
            this += sys.getsizeof(f)
            frames += 1
            one.append(f"{_short(f.f_code.co_filename)}:{f.f_lineno} {f.f_code.co_name} ({sys.getsizeof(f)} B)")
            f = f.f_back
        if not sample and any("dwebsocket_c" in line for line in one):
            sample = one + [f"saved C stack slice: {getattr(g, '_stack_saved', 0)} B"]
        frames_bytes += this
    return {
        "phase": "measure",
        "websockets": n_ws,
        "greenlets": len(greenlets),
        "numbers_base": _state["numbers"],
        "numbers": numbers,
        "objects": [{"owner": k[0], "type": k[1], "count": v[0], "bytes": v[1]}
                    for k, v in sorted(rows.items(), key=lambda kv: -kv[1][1])],
        "greenlet_stack_saved": stack_saved,
        "greenlet_frames": frames,
        "greenlet_frames_bytes": frames_bytes,
        "sample_stack": sample,
        "dummy_threads": _state.get("dummy_threads", {}),
        "time": time.time(),
    }
