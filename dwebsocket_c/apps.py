"""The Django app ``dwebsocket_c``: its system checks and its ``runserver``.

Add it to ``INSTALLED_APPS``, **before** ``"django.contrib.staticfiles"``::

    INSTALLED_APPS = [
        "dwebsocket_c",
        ...,
        "django.contrib.staticfiles",
    ]

Installing the app is what makes ``manage.py runserver`` serve WebSockets
(see :mod:`dwebsocket_c.management.commands.runserver`) and what runs the
checks of :mod:`dwebsocket_c.checks`. The decorators and the middleware work
without it under gunicorn, uWSGI, eventlet and gevent.
"""

from django.apps import AppConfig


class DWebSocketConfig(AppConfig):
    name = "dwebsocket_c"
    verbose_name = "WebSocket for Django views"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
