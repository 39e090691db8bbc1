"""dwebsocket_c.testing.WebSocketClient, used as a project would use it.

The tests themselves are client_tests.py (django.test.TestCase, run by
Django's test runner) and client_pytest_tests.py (pytest-django): each runs
in a subprocess, as Django can be configured once per process. Their
project is clientsite: the example project's views, and tests/django's
wsproject views under /wsproject/.
"""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ENV = dict(
    os.environ,
    DJANGO_SETTINGS_MODULE="clientsite.settings",
    # Before what PYTHONPATH held (scripts/sanitize-tests' build).
    PYTHONPATH=os.pathsep.join(map(str, [HERE, REPO / "example_project", REPO / "tests" / "django",
                                         *filter(None, [os.environ.get("PYTHONPATH")])])),
)


def run(*args):
    result = subprocess.run([sys.executable, *args], cwd=HERE, env=ENV, capture_output=True,
                            text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


def test_inside_django_testcase():
    status, output = run("-m", "django", "test", "client_tests", "-v", "2")
    assert status == 0, output
    assert "Ran 16 tests" in output and "\nOK" in output, output


def test_with_pytest_django():
    status, output = run("-m", "pytest", "-p", "pytest_django", "-o", "addopts=",
                         "-p", "no:cacheprovider", "client_pytest_tests.py", "-q")
    assert status == 0, output
    assert "2 passed" in output, output
