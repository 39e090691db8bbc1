"""``manage.py runserver`` that also serves WebSocket connections.

It is Django's ``runserver`` — or ``django.contrib.staticfiles``'s when that
app is installed, so static files keep being served — with one change: its
server (:class:`dwebsocket_c.devserver.WebSocketWSGIServer`) can hand a
connection over to a WebSocket view. Autoreload, logging, ``--noreload``,
``--ipv6``, ``--nostatic`` and the rest are unchanged. On reload, open
WebSockets are dropped (the process restarts).

The app's ``ready()`` (:mod:`dwebsocket_c.apps`) gives Django's own command
the same server class, so ``runserver`` serves WebSockets whichever of
``dwebsocket_c`` and ``django.contrib.staticfiles`` comes first in
``INSTALLED_APPS``; this module only names the command in ``manage.py help``.
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
