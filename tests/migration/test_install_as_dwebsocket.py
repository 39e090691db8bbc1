"""install_as_dwebsocket(): the alias, the app under both names, the checks,
WEBSOCKET_LEGACY_API's default, runserver whatever the app order.

Each case runs in a fresh interpreter (a settings module written to a
temporary directory), since Django is configured once per process.
"""

import subprocess
import sys
import textwrap

import pytest

from migration_servers import HERE

INSTALL = "import dwebsocket_c\ndwebsocket_c.install_as_dwebsocket()\n"
BASE_SETTINGS = """
SECRET_KEY = "x"
ROOT_URLCONF = "urls_for_checks"
DATABASES = {}
STATIC_URL = "/static/"
USE_TZ = True
"""


def run_python(tmp_path, settings, *code):
    """Run ``code`` after django.setup() with ``settings``; (exit status, output)."""
    (tmp_path / "settings_for_checks.py").write_text(textwrap.dedent(settings) + BASE_SETTINGS)
    (tmp_path / "urls_for_checks.py").write_text("urlpatterns = []\n")
    script = "import django\ndjango.setup()\n" + "".join(map(textwrap.dedent, code))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(tmp_path),
             "DJANGO_SETTINGS_MODULE": "settings_for_checks"},
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


CHECK = """
from django.core.management import call_command
call_command("check")
print("CHECK PASSED")
"""


def test_old_project_check_names_what_is_obsolete():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=HERE / "oldproject",
        capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(HERE / "oldproject")},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "dwebsocket_c.W002" in output and "delete MIDDLEWARE_CLASSES" in output
    assert "dwebsocket_c.W006" in output and "WEBSOCKET_FACTORY_CLASS is obsolete" in output
    # The old names are aliases now, not the old package; staticfiles first is fine.
    assert "dwebsocket_c.E002" not in output and "dwebsocket_c.W001" not in output
    assert "2 issues" in output, output


def test_nothing_named_dwebsocket_without_the_call(tmp_path):
    status, output = run_python(tmp_path, "INSTALLED_APPS = ['dwebsocket_c']", """
        import dwebsocket_c.decorators, dwebsocket_c.middleware
        try:
            import dwebsocket
        except ModuleNotFoundError as error:
            print("ABSENT", error.name)
        from dwebsocket_c.conf import get_settings
        print("legacy_api", get_settings().legacy_api)
    """)
    assert status == 0, output
    assert "ABSENT dwebsocket" in output and "legacy_api False" in output


def test_old_names_are_the_new_modules(tmp_path):
    status, output = run_python(tmp_path, INSTALL + "INSTALLED_APPS = ['dwebsocket']", """
        import dwebsocket, dwebsocket.decorators, dwebsocket.middleware, dwebsocket.websocket
        import dwebsocket_c
        from dwebsocket import accept_websocket, require_websocket
        from dwebsocket import *
        assert dwebsocket is dwebsocket_c
        assert dwebsocket.decorators is dwebsocket_c.decorators
        assert dwebsocket.decorators.__spec__.name == "dwebsocket_c.decorators"
        assert accept_websocket is dwebsocket_c.accept_websocket
        assert dwebsocket.websocket.WebSocket is dwebsocket_c.WebSocket
        from django.apps import apps
        config = apps.get_app_config("dwebsocket_c")
        assert config.name == "dwebsocket_c" and len(apps.get_app_configs()) == 1
        from dwebsocket_c.conf import get_settings
        print("legacy_api", get_settings().legacy_api)
        try:
            import dwebsocket.backends.uwsgi.factory
        except ImportError as error:
            print("GONE:", error)
    """)
    assert status == 0, output
    assert "legacy_api True" in output
    assert "GONE: dwebsocket.backends was part of the old dwebsocket" in output


def test_explicit_legacy_setting_wins(tmp_path):
    status, output = run_python(
        tmp_path, INSTALL + "INSTALLED_APPS = ['dwebsocket']\nWEBSOCKET_LEGACY_API = False", """
        from dwebsocket_c.conf import get_settings
        print("legacy_api", get_settings().legacy_api)
    """)
    assert status == 0, output
    assert "legacy_api False" in output


def test_legacy_setting_type_is_checked(tmp_path):
    status, output = run_python(
        tmp_path, "INSTALLED_APPS = ['dwebsocket_c']\nWEBSOCKET_LEGACY_API = 'yes'", CHECK)
    assert status != 0
    assert "dwebsocket_c.E001" in output and "WEBSOCKET_LEGACY_API must be True or False" in output


@pytest.mark.parametrize("apps_order", [["dwebsocket", "dwebsocket_c"], ["dwebsocket_c", "dwebsocket"]])
def test_both_names_listed_is_one_app(tmp_path, apps_order):
    status, output = run_python(tmp_path, INSTALL + f"INSTALLED_APPS = {apps_order!r}", """
        from django.apps import apps
        print(sorted((c.label, c.name, c.is_alias_twin) for c in apps.get_app_configs()))
    """, CHECK)
    assert status == 0, output
    assert "[('dwebsocket', 'dwebsocket', True), ('dwebsocket_c', 'dwebsocket_c', False)]" in output
    assert "CHECK PASSED" in output and "System check identified no issues" in output


def test_old_name_without_the_call_is_refused(tmp_path):
    # A stand-in for the real old package, so that INSTALLED_APPS can load it.
    (tmp_path / "dwebsocket").mkdir()
    (tmp_path / "dwebsocket" / "__init__.py").write_text("")
    status, output = run_python(tmp_path, "INSTALLED_APPS = ['dwebsocket_c', 'dwebsocket']", CHECK)
    assert status != 0
    assert "dwebsocket_c.E002" in output and "install_as_dwebsocket()" in output


def test_the_call_refuses_to_shadow_an_imported_real_dwebsocket(tmp_path):
    (tmp_path / "dwebsocket").mkdir()
    (tmp_path / "dwebsocket" / "__init__.py").write_text("REAL = True\n")
    status, output = run_python(
        tmp_path, "import dwebsocket\n" + INSTALL + "INSTALLED_APPS = ['dwebsocket_c']", "")
    assert status != 0
    assert "ImportError: install_as_dwebsocket(): the real dwebsocket package is already imported" in output


def test_middleware_in_middleware_classes_only(tmp_path):
    status, output = run_python(tmp_path, """
        INSTALLED_APPS = ['dwebsocket_c']
        MIDDLEWARE_CLASSES = ['dwebsocket_c.middleware.WebSocketMiddleware']
    """, CHECK)
    assert status == 0, output
    assert "dwebsocket_c.W002" in output
    assert "Add 'dwebsocket_c.middleware.WebSocketMiddleware' at the end of MIDDLEWARE" in output


def test_old_middleware_path_counts_as_the_middleware(tmp_path):
    # No W004 (ACCEPT_ALL without the middleware): the old path is the middleware.
    status, output = run_python(tmp_path, INSTALL + """
INSTALLED_APPS = ['dwebsocket']
MIDDLEWARE = ['dwebsocket.middleware.WebSocketMiddleware']
WEBSOCKET_ACCEPT_ALL = True
""", CHECK)
    assert status == 0, output
    assert "System check identified no issues" in output


@pytest.mark.parametrize("apps_order", [
    ["django.contrib.staticfiles", "dwebsocket_c"],
    ["dwebsocket_c", "django.contrib.staticfiles"],
    ["dwebsocket_c"],
])
def test_runserver_serves_websockets_whatever_the_app_order(tmp_path, apps_order):
    status, output = run_python(tmp_path, f"INSTALLED_APPS = {apps_order!r}", """
        from django.core.management import get_commands, load_command_class
        from dwebsocket_c.devserver import WebSocketServerMixin
        command = load_command_class(get_commands()["runserver"], "runserver")
        print("serves websockets:", issubclass(command.server_cls, WebSocketServerMixin))
    """, CHECK)
    assert status == 0, output
    assert "serves websockets: True" in output
    assert "System check identified no issues" in output


def test_a_foreign_runserver_first_is_reported(tmp_path):
    # An app whose runserver is not Django's (daphne's runs an ASGI server).
    commands = tmp_path / "asgiserver" / "management" / "commands"
    commands.mkdir(parents=True)
    for package in (tmp_path / "asgiserver", commands.parent, commands):
        (package / "__init__.py").write_text("")
    (commands / "runserver.py").write_text(textwrap.dedent("""
        from django.core.management.commands.runserver import Command as Base

        class Command(Base):
            def inner_run(self, *args, **options):
                raise SystemExit("an ASGI server")
    """))
    status, output = run_python(tmp_path, "INSTALLED_APPS = ['asgiserver', 'dwebsocket_c']", CHECK)
    assert status == 0, output
    assert "dwebsocket_c.W001" in output and "the runserver command of 'asgiserver'" in output
