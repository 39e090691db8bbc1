"""``manage.py runserver`` that also serves WebSocket connections.

It is Django's ``runserver`` — or ``django.contrib.staticfiles``'s when that
app is installed, so static files keep being served — with one change: its
server (:class:`dwebsocket_c.devserver.WebSocketWSGIServer`) can hand a
connection over to a WebSocket view. Autoreload, logging, ``--noreload``,
``--ipv6``, ``--nostatic`` and the rest are unchanged. This is how Channels'
``daphne`` app replaces ``runserver`` too.

Django uses the ``runserver`` of the *first* app in ``INSTALLED_APPS`` that
has one, so ``"dwebsocket_c"`` must come before
``"django.contrib.staticfiles"`` (and ``"daphne"``); the system check
``dwebsocket_c.W001`` says so when it does not. On reload, open WebSockets
are dropped (the process restarts).
"""

from django.apps import apps

from dwebsocket_c.devserver import WebSocketWSGIServer

if apps.is_installed("django.contrib.staticfiles"):
    from django.contrib.staticfiles.management.commands.runserver import (
        Command as BaseRunserverCommand,
    )
else:
    from django.core.management.commands.runserver import Command as BaseRunserverCommand


class Command(BaseRunserverCommand):
    help = (
        "Starts a lightweight web server for development, which also serves "
        "WebSocket views (dwebsocket_c)."
    )
    server_cls = WebSocketWSGIServer
