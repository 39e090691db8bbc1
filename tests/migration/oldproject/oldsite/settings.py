"""A project written for dwebsocket 0.5, switched to dwebsocket_c by its first
two lines and nothing else: the old app name (after staticfiles), the old
middleware path, the old settings (MIDDLEWARE_CLASSES, WEBSOCKET_FACTORY_CLASS)."""

import dwebsocket_c
dwebsocket_c.install_as_dwebsocket()

SECRET_KEY = "old-project-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "dwebsocket",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "dwebsocket.middleware.WebSocketMiddleware",
]
# What Django < 1.10 read, left over from the old project.
MIDDLEWARE_CLASSES = (
    "django.middleware.common.CommonMiddleware",
    "dwebsocket.middleware.WebSocketMiddleware",
)
WEBSOCKET_ACCEPT_ALL = True
WEBSOCKET_FACTORY_CLASS = "dwebsocket.backends.uwsgi.factory.uWsgiWebSocketFactory"
ROOT_URLCONF = "oldsite.urls"
WSGI_APPLICATION = "oldsite.wsgi.application"
STATIC_URL = "/static/"
DATABASES = {}
USE_TZ = True
WEBSOCKET_CLOSE_TIMEOUT = 3
