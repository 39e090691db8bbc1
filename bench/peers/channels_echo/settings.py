"""Channels + daphne echo project (an AsyncWebsocketConsumer), a peer."""

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
MIDDLEWARE = []
ROOT_URLCONF = "urls"
DATABASES = {}
USE_TZ = True
ASGI_APPLICATION = "asgi.application"
# No channel layer: a plain echo needs none (and so no Redis).
