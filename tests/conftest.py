"""Suite-wide test configuration.

In CI (``CI`` set, as ``.ci/run`` does) or with ``DWEBSOCKET_NO_SKIP=1``, a
skipped test is reported as a failure: a test that needs something missing
must not pass silently where the machine is supposed to have everything.
"""

import os

import pytest

STRICT = bool(os.environ.get("CI") or os.environ.get("DWEBSOCKET_NO_SKIP"))


def pytest_report_header(config):
    import django

    from dwebsocket_c import _core

    return [
        f"dwebsocket_c._core: {_core.__file__}",
        f"Django {django.get_version()}; skips are {'FAILURES (strict CI mode)' if STRICT else 'allowed'}",
    ]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in strict mode (CI): {reason}"
