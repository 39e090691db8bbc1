"""Django's ``runserver``, when it is the one of this app.

With ``"dwebsocket_c"`` in ``INSTALLED_APPS`` (before
``"django.contrib.staticfiles"``), ``manage.py runserver`` is the command in
:mod:`dwebsocket_c.management.commands.runserver`, whose request handler
(:mod:`dwebsocket_c.devserver`) puts the socket in the environ and knows how
to detach the connection from HTTP. Django's plain ``runserver`` does
neither: the library answers its WebSocket requests with a 501 that says
how to fix ``INSTALLED_APPS``.
"""

from __future__ import annotations

import socket
from typing import Any

from ..devserver import DETACH_ENVIRON_KEY, READER_ENVIRON_KEY, SOCKET_ENVIRON_KEY
from .base import ServerAdapter, read_ahead


class RunserverAdapter(ServerAdapter):
    name = "Django runserver (dwebsocket_c)"

    @classmethod
    def handles(cls, environ: dict[str, Any]) -> bool:
        return SOCKET_ENVIRON_KEY in environ and DETACH_ENVIRON_KEY in environ

    def take_socket(self) -> socket.socket:
        self.environ[DETACH_ENVIRON_KEY]()
        return self.environ[SOCKET_ENVIRON_KEY]

    def take_buffered(self, sock: Any) -> bytes:
        """The request handler's ``rfile`` may have read ahead."""
        return read_ahead(self.environ.get(READER_ENVIRON_KEY), sock)
