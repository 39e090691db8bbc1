"""The example project's settings, with tests/django's wsproject views mounted
under /wsproject/ too: the views that dwebsocket_c.testing is tested on."""

from mysite.settings import *  # noqa: F401,F403

ROOT_URLCONF = "clientsite.urls"
WEBSOCKET_SUBPROTOCOLS = ["chat.v2", "chat.v1"]  # as wsproject's settings
WEBSOCKET_CLOSE_TIMEOUT = 3
# The view's errors reach WebSocketConnection.errors (a handler it adds to
# this logger); keep them out of the test output.
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "loggers": {"dwebsocket_c": {"handlers": [], "propagate": False},
                       "django.request": {"handlers": [], "propagate": False}}}
