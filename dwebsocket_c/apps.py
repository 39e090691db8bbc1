"""The Django app ``dwebsocket_c``: its system checks and ``runserver``.

Add it to ``INSTALLED_APPS`` (anywhere in the list)::

    INSTALLED_APPS = [
        ...,
        "dwebsocket_c",
    ]

Installing the app is what makes ``manage.py runserver`` serve WebSockets
and what runs the checks of :mod:`dwebsocket_c.checks`. Its ``ready()`` gives
Django's ``runserver`` command, and so ``django.contrib.staticfiles``' one
that derives from it, the server class
:class:`dwebsocket_c.devserver.WebSocketWSGIServer`, which can hand a
connection over to a WebSocket view; so the position of the app relative to
``django.contrib.staticfiles`` does not matter. (A ``runserver`` that is not
Django's, such as ``daphne``'s, cannot serve these views: the check
``dwebsocket_c.W001`` says so.) The decorators and the middleware work
without the app under gunicorn, uWSGI, eventlet and gevent.

After :func:`dwebsocket_c.install_as_dwebsocket`, ``'dwebsocket'`` in
``INSTALLED_APPS`` is this same app; listed with ``'dwebsocket_c'`` as well,
the second of the two is an inert twin labelled ``dwebsocket`` (so Django
sees no duplicate label).
"""

from types import ModuleType

from django.apps import AppConfig

from . import compat


class DWebSocketConfig(AppConfig):
    name = "dwebsocket_c"
    verbose_name = "WebSocket for Django views"

    def __init__(self, app_name: str, app_module: ModuleType | None) -> None:
        from django.apps import apps

        # Listed under both names (after install_as_dwebsocket()): the
        # second entry must neither duplicate the label nor run ready() again.
        # (Only while the project's registry is being populated: a registry
        # a test builds later has nothing to do with it.)
        self.is_alias_twin = (
            compat.is_installed() and not apps.apps_ready and "dwebsocket_c" in apps.app_configs
        )
        if self.is_alias_twin:
            app_name = self.label = compat.OLD_NAME
        super().__init__(app_name, app_module)

    def ready(self) -> None:
        if self.is_alias_twin:
            return
        from . import checks  # noqa: F401  (registers the checks)

        serve_websockets_from_runserver()


def serve_websockets_from_runserver() -> None:
    """Give Django's ``runserver`` (and the commands derived from it) the
    server class that can hand a connection over to a WebSocket view, unless
    a project chose another one."""
    from django.core.management.commands.runserver import Command
    from django.core.servers.basehttp import WSGIServer

    from .devserver import WebSocketWSGIServer

    if Command.server_cls is WSGIServer:
        Command.server_cls = WebSocketWSGIServer
