"""The system checks of dwebsocket_c, run by `manage.py check` in a subprocess."""

import subprocess
import sys
import textwrap

import pytest

from django_servers import HERE


def run_check(tmp_path, extra_settings):
    # A stand-in for the old package, so that INSTALLED_APPS can load it.
    (tmp_path / "dwebsocket").mkdir()
    (tmp_path / "dwebsocket" / "__init__.py").write_text("")
    settings = tmp_path / "check_settings.py"
    settings.write_text(
        "from wsproject.settings import *  # noqa\n" + textwrap.dedent(extra_settings)
    )
    result = subprocess.run(
        [sys.executable, str(HERE / "manage.py"), "check"],
        cwd=HERE,
        env={"PYTHONPATH": f"{HERE}:{tmp_path}", "DJANGO_SETTINGS_MODULE": "check_settings"},
        capture_output=True,
        text=True,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("", "no issues"),
        ("WEBSOCKET_MAX_MESSAGE_SIZE = '1MB'", "dwebsocket_c.E001"),
        ("WEBSOCKET_PING_INTERVAL = -1", "dwebsocket_c.E001"),
        ("WEBSOCKET_ALLOWED_ORIGINS = 'https://a.example'", "dwebsocket_c.E001"),
        ("INSTALLED_APPS = ['dwebsocket', *INSTALLED_APPS]", "dwebsocket_c.E002"),
        ("MIDDLEWARE = ['dwebsocket.middleware.WebSocketMiddleware']", "dwebsocket_c.E002"),
        ("WEBSOCKET_ALLOWED_ORIGINS = ['example.com']", "dwebsocket_c.E003"),
        ("WEBSOCKET_SUBPROTOCOLS = ['a b']", "dwebsocket_c.E004"),
        # runserver serves WebSockets whatever the order (W001: tests/migration).
        ("INSTALLED_APPS = ['django.contrib.staticfiles', 'dwebsocket_c']", "no issues"),
        ("MIDDLEWARE_CLASSES = ['dwebsocket_c.middleware.WebSocketMiddleware']", "dwebsocket_c.W002"),
        (
            "WEBSOCKET_ACCEPT_ALL = True\nMIDDLEWARE = ['dwebsocket_c.middleware."
            "WebSocketMiddleware', 'django.middleware.common.CommonMiddleware']",
            "dwebsocket_c.W003",
        ),
        ("WEBSOCKET_ACCEPT_ALL = True", "dwebsocket_c.W004"),
        ("ASGI_APPLICATION = 'x.asgi.application'", "dwebsocket_c.W005"),
    ],
)
def test_check(tmp_path, settings, expected):
    assert expected in run_check(tmp_path, settings)
