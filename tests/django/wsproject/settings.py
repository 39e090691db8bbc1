"""Settings of the small project that tests/django serves for real.

Knobs (environment variables, read at startup): WSPROJECT_MIDDLEWARE=1 adds
WebSocketMiddleware, WSPROJECT_ACCEPT_ALL=1 sets WEBSOCKET_ACCEPT_ALL,
WSPROJECT_PING / WSPROJECT_PING_TIMEOUT set the keepalive (seconds),
WSPROJECT_TEXT_AS_STR=1 sets WEBSOCKET_TEXT_AS_STR, WSPROJECT_LEGACY=1 sets
WEBSOCKET_LEGACY_API.
"""

import os

SECRET_KEY = "tests-django-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["dwebsocket_c", "django.contrib.staticfiles"]
MIDDLEWARE = (
    ["dwebsocket_c.middleware.WebSocketMiddleware"]
    if os.environ.get("WSPROJECT_MIDDLEWARE") == "1" else []
)
ROOT_URLCONF = "wsproject.urls"
WSGI_APPLICATION = "wsproject.wsgi.application"
STATIC_URL = "/static/"
DATABASES = {}
USE_TZ = True
WEBSOCKET_ACCEPT_ALL = os.environ.get("WSPROJECT_ACCEPT_ALL") == "1"
WEBSOCKET_ALLOWED_ORIGINS = ["http://*.trusted.example"]  # test_handshake_refusals
WEBSOCKET_SUBPROTOCOLS = ["chat.v2", "chat.v1"]
WEBSOCKET_PING_INTERVAL = float(os.environ.get("WSPROJECT_PING", "20"))
WEBSOCKET_PING_TIMEOUT = float(os.environ.get("WSPROJECT_PING_TIMEOUT", "20"))
WEBSOCKET_CLOSE_TIMEOUT = 3
WEBSOCKET_TEXT_AS_STR = os.environ.get("WSPROJECT_TEXT_AS_STR") == "1"
WEBSOCKET_LEGACY_API = os.environ.get("WSPROJECT_LEGACY") == "1"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"dwebsocket_c": {"handlers": ["console"], "level": "DEBUG"}},
}
