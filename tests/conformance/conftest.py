"""Autobahn-style conformance suite: fixtures, the batch runner, the summary.

How to run (from the repository root, package installed in the venv)::

    /work/venv311/bin/python -m pytest tests/conformance -q

One server, or some groups only (test ids are ``[<server>-<case id>]``)::

    python -m pytest tests/conformance -k uwsgi
    python -m pytest tests/conformance -k "gunicorn-gevent and 6."

Environment:

* ``DWS_CONFORMANCE_SERVERS``: comma-separated subset of the servers
  (runserver, gunicorn-gthread, gunicorn-gevent, eventlet, uwsgi). The extra
  name ``websockets-ref`` adds an in-process echo server built on the
  ``websockets`` library: a reference that checks the suite's own
  expectations (it is not part of the default run).
* ``DWS_CONFORMANCE_EXTERNAL``: ``name@host:port[,...]``: also run against
  servers already listening there (started by hand), as extra columns.
* ``DWS_CONFORMANCE_WORKERS``: cases run at once against one server (8).
* ``DWS_CONFORMANCE_TIMEOUT``: seconds a case waits for any one answer (5).
* ``DWS_SERVER_LOG_DIR``: where the servers' logs go (a temp dir otherwise).
* ``DWS_CONFORMANCE_REPORT``: write every result (outcome, strict or not,
  notes, figures) to this JSON file.

How it works: the servers are the example project started by
``tests/integration/dws_servers.py`` (the helper the integration suite uses),
all in parallel when the first conformance test runs. Each test is one
(server, case) pair; the first test of a server runs *every selected case*
of that server concurrently in a thread pool, and each test then reports its
own result. At the end, ``pytest_terminal_summary`` prints a table: rows are
the Autobahn case groups, columns the servers.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "integration"))

import conformance_cases as cc  # noqa: E402

try:  # the integration suite's server helper (shared, not ours to edit)
    import dws_servers  # noqa: E402

    DEFAULT_SERVERS = list(dws_servers.SERVER_NAMES)
except ImportError as exc:  # pragma: no cover - reported as a failure by the tests
    dws_servers = None
    DWS_IMPORT_ERROR = exc
    DEFAULT_SERVERS = ["runserver", "gunicorn-gthread", "gunicorn-gevent", "eventlet", "uwsgi"]

REFERENCE = "websockets-ref"
WORKERS = int(os.environ.get("DWS_CONFORMANCE_WORKERS", "8"))
TIMEOUT = float(os.environ.get("DWS_CONFORMANCE_TIMEOUT", "5"))


def external_servers() -> dict[str, tuple[str, int]]:
    out = {}
    for item in os.environ.get("DWS_CONFORMANCE_EXTERNAL", "").split(","):
        if item.strip():
            name, _, addr = item.strip().partition("@")
            host, _, port = addr.rpartition(":")
            out[name] = (host, int(port))
    return out


def selected_servers() -> list[str]:
    env = os.environ.get("DWS_CONFORMANCE_SERVERS")
    names = [s.strip() for s in env.split(",") if s.strip()] if env is not None else list(DEFAULT_SERVERS)
    return names + [n for n in external_servers() if n not in names]


def pytest_generate_tests(metafunc):
    if "conformance_case" in metafunc.fixturenames:
        servers = selected_servers()
        params, ids = [], []
        for server in servers:
            for case in cc.CASES:
                params.append((server, case))
                ids.append(f"{server}-{case.id}")
        metafunc.parametrize("conformance_case", params, ids=ids)


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        cs = getattr(item, "callspec", None)
        if cs is not None and "conformance_case" in cs.params:
            server, case = cs.params["conformance_case"]
            item.user_properties.append(("conformance", (server, case.group, case.id)))


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------


class ReferenceServer:
    """The ``websockets`` library's sync server, echoing: a reference only."""

    name = REFERENCE
    host = "127.0.0.1"

    def __init__(self):
        from websockets.sync.server import serve

        def handler(ws):
            try:
                for msg in ws:
                    ws.send(msg)
            except Exception:
                pass

        self._srv = serve(handler, self.host, 0, max_size=cc.MAX_MESSAGE_SIZE, compression=None,
                          ping_interval=None, close_timeout=2)
        self.port = self._srv.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True)
        self._thread.start()
        self.log_path = "(in process)"

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._srv.shutdown()

    def log_tail(self, n: int = 40) -> str:
        return ""


class ExternalServer:
    """A server started by hand (DWS_CONFORMANCE_EXTERNAL)."""

    log_path = "(external)"

    def __init__(self, name: str, host: str, port: int):
        self.name, self.host, self.port = name, host, port

    def alive(self) -> bool:
        return True

    def stop(self) -> None:
        pass

    def log_tail(self, n: int = 40) -> str:
        return ""


class ConformancePool:
    """Every selected server, started in parallel, and the cases' results."""

    def __init__(self, names: list[str], wanted_cases: dict[str, list[cc.Case]]):
        self.names = names
        self.wanted = wanted_cases
        chosen = os.environ.get("DWS_SERVER_LOG_DIR")
        self.log_dir = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="dws-conformance-logs-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.servers: dict[str, object] = {}
        self.errors: dict[str, str] = {}
        self.results: dict[str, dict[str, tuple]] = {}
        self.batch_seconds: dict[str, float] = {}
        self.lock = threading.Lock()

    def start(self) -> None:
        ext = external_servers()
        for n in self.names:
            if n in ext:
                self.servers[n] = ExternalServer(n, *ext[n])
        real = [n for n in self.names if n != REFERENCE and n not in ext]
        if REFERENCE in self.names:
            try:
                self.servers[REFERENCE] = ReferenceServer()
            except Exception as exc:
                self.errors[REFERENCE] = f"reference server: {exc!r}"
        if real and dws_servers is None:
            for n in real:
                self.errors[n] = f"tests/integration/dws_servers.py not importable: {DWS_IMPORT_ERROR!r}"
            return
        env = dws_servers.server_env(self.log_dir / "db.sqlite3") if real else {}
        for name in real:
            try:
                self.servers[name] = dws_servers.ServerProcess(name, self.log_dir, env).start()
            except Exception as exc:
                self.errors[name] = f"{name} could not be started: {exc!r}"

        def ready(server):
            try:
                server.wait_ready()
            except Exception as exc:
                self.errors[server.name] = str(exc)

        threads = [threading.Thread(target=ready, args=(self.servers[n],)) for n in real if n in self.servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def stop(self) -> None:
        for s in self.servers.values():
            try:
                s.stop()
            except Exception:
                pass

    def result(self, name: str, case: cc.Case) -> tuple:
        """(outcome or None, exception text or None, seconds) for one case,
        running the whole batch of ``name`` on first use."""
        with self.lock:
            if name not in self.results:
                self.results[name] = self._run_batch(name)
        return self.results[name][case.id]

    def _run_batch(self, name: str) -> dict[str, tuple]:
        if name in self.errors:
            # The full reason (log tail) on the first test; a pointer after.
            msg, self.errors[name] = self.errors[name], f"{name} is not running: see the first failure of {name}"
            pytest.fail(msg, pytrace=False)
        server = self.servers[name]
        ctx = cc.Ctx(server.host, server.port, timeout=TIMEOUT)
        cases = self.wanted.get(name, [])
        # The long ones first, so they overlap with the many short ones.
        cases = sorted(cases, key=lambda c: 0 if c.group == "9" else 1)

        def run(case):
            t0 = time.perf_counter()
            try:
                out = case.fn(ctx) or cc.Outcome()
                return case.id, (out, None, time.perf_counter() - t0)
            except AssertionError as exc:
                return case.id, (None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)
            except Exception:
                return case.id, (None, traceback.format_exc(limit=6), time.perf_counter() - t0)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix=f"conf-{name}") as ex:
            res = dict(ex.map(run, cases))
        self.batch_seconds[name] = time.perf_counter() - t0
        if not server.alive():
            msg = f"{name} died during the conformance run\n{server.log_tail()}"
            res = {k: (None, msg, v[2]) for k, v in res.items()}
        return res


_POOL: ConformancePool | None = None


@pytest.fixture(scope="session")
def conformance_pool(request):
    global _POOL
    names, wanted = [], {}
    for item in request.session.items:
        cs = getattr(item, "callspec", None)
        if cs is not None and "conformance_case" in cs.params:
            server, case = cs.params["conformance_case"]
            if server not in names:
                names.append(server)
            wanted.setdefault(server, []).append(case)
    pool = ConformancePool(names, wanted)
    pool.start()
    _POOL = pool
    yield pool
    pool.stop()


# --------------------------------------------------------------------------
# The summary table
# --------------------------------------------------------------------------

_RECORDS: dict[str, dict] = {}


def pytest_runtest_logreport(report):
    props = dict(report.user_properties)
    if "conformance" not in props:
        return
    server, group, cid = props["conformance"]
    rec = _RECORDS.setdefault(report.nodeid, {"server": server, "group": group, "case": cid,
                                              "outcome": "passed", "mode": "strict"})
    if report.failed:
        rec["outcome"] = "failed"
    elif report.skipped and rec["outcome"] != "failed":
        rec["outcome"] = "skipped"
    if report.when == "call":
        for k, v in report.user_properties:
            if k == "conformance_mode":
                rec["mode"] = v
            elif k == "conformance_figures":
                rec["figures"] = v
            elif k == "conformance_notes":
                rec["notes"] = v


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _RECORDS:
        return
    report_path = os.environ.get("DWS_CONFORMANCE_REPORT")
    if report_path:  # every (server, case) result as JSON, for the record
        import json

        with open(report_path, "w") as f:
            json.dump(sorted(_RECORDS.values(), key=lambda r: (r["server"], r["case"])), f, indent=1)
    tr = terminalreporter
    servers = []
    for rec in _RECORDS.values():
        if rec["server"] not in servers:
            servers.append(rec["server"])
    groups = [g for g in cc.GROUPS if any(r["group"] == g for r in _RECORDS.values())]
    table: dict[tuple[str, str], list[int]] = {}
    for rec in _RECORDS.values():
        cell = table.setdefault((rec["group"], rec["server"]), [0, 0, 0, 0])  # passed, failed, skipped, non-strict
        if rec["outcome"] == "passed":
            cell[0] += 1
            if rec["mode"] != "strict":
                cell[3] += 1
        elif rec["outcome"] == "failed":
            cell[1] += 1
        else:
            cell[2] += 1

    def fmt(c):
        if c is None:
            return "-"
        out = f"{c[0]}"
        if c[1]:
            out += f" F{c[1]}"
        if c[2]:
            out += f" skip{c[2]}"
        if c[3]:
            out += f" ns{c[3]}"
        return out

    totals = {s: [0, 0, 0, 0] for s in servers}
    for (g, s), c in table.items():
        totals[s] = [a + b for a, b in zip(totals[s], c)]
    w0 = max(len(cc.GROUPS[g]) for g in groups) + 2
    widths = [max(len(s), len(fmt(totals[s])), max(len(fmt(table.get((g, s)))) for g in groups)) + 2
              for s in servers]
    tr.section("conformance results per server: N passed, FN failed, nsN of the passed were non-strict")
    tr.write_line("".ljust(w0) + "".join(s.ljust(w) for s, w in zip(servers, widths)))
    for g in groups:
        row = cc.GROUPS[g].ljust(w0)
        for s, w in zip(servers, widths):
            row += fmt(table.get((g, s))).ljust(w)
        tr.write_line(row)
    tr.write_line("TOTAL".ljust(w0) + "".join(fmt(totals[s]).ljust(w) for s, w in zip(servers, widths)))
    tr.write_line("strict: the server sent the expected close frame then closed TCP; "
                  "non-strict: it dropped TCP without a close frame where RFC 6455 7.1.7 allows it (SHOULD), "
                  "or (H cases) refused with an allowed status other than the expected one.")

    # Which cases failed / were non-strict, per server.
    for s in servers:
        failed = [r["case"] for r in _RECORDS.values() if r["server"] == s and r["outcome"] == "failed"]
        loose = [r["case"] for r in _RECORDS.values() if r["server"] == s and r["outcome"] == "passed"
                 and r["mode"] != "strict"]
        total = sum(1 for r in _RECORDS.values() if r["server"] == s)
        if failed and len(failed) == total:
            tr.write_line(f"{s}: FAILED all {total} cases")
        elif failed:
            tr.write_line(f"{s}: FAILED {', '.join(failed)}")
        if loose:
            tr.write_line(f"{s}: non-strict {', '.join(loose)}")

    # Notes: what the informational cases observed (same note on several
    # servers printed once).
    notes: dict[tuple[str, str], list[str]] = {}
    for r in _RECORDS.values():
        for note in r.get("notes", []):
            notes.setdefault((r["case"], note), []).append(r["server"])
    if notes:
        tr.section("conformance notes (informational outcomes)")
        for (cid, note), on in sorted(notes.items(), key=lambda kv: kv[0]):
            where = "all servers" if len(on) == len(servers) and len(servers) > 1 else ", ".join(on)
            tr.write_line(f"{cid}: {note} [{where}]")

    # Figures (timings), not asserted.
    labels = []
    for r in _RECORDS.values():
        for k in r.get("figures", {}):
            if k not in labels:
                labels.append(k)
    if labels:
        tr.section("conformance timings (seconds, informational)")
        lw = max(len(x) for x in labels) + 2
        tr.write_line("".ljust(lw) + "".join(s.ljust(max(len(s) + 2, 10)) for s in servers))
        for lab in labels:
            row = lab.ljust(lw)
            for s in servers:
                vals = [r["figures"][lab] for r in _RECORDS.values() if r["server"] == s and lab in r.get("figures", {})]
                row += (f"{vals[0]:.3f}" if vals else "-").ljust(max(len(s) + 2, 10))
            tr.write_line(row)
        if _POOL is not None and _POOL.batch_seconds:
            tr.write_line("whole batch per server: " + ", ".join(
                f"{s} {t:.1f}s" for s, t in _POOL.batch_seconds.items()))
