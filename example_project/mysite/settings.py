"""Settings of the dwebsocket-c example project.

Everything that varies between machines comes from the environment:

  DJANGO_DEBUG=1                 debug mode (off by default)
  DJANGO_SECRET_KEY=...          required when DJANGO_DEBUG is off in production;
                                 a fixed development key is used otherwise
  DJANGO_ALLOWED_HOSTS=a,b       default: localhost,127.0.0.1,[::1]
  DJANGO_DB_PATH=/path/db.sqlite3  default: db.sqlite3 next to manage.py
  REDIS_URL=redis://127.0.0.1:6379/0  group messages (chat, download) through
                                 Redis, across worker processes and servers;
                                 unset: within one process
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = os.environ.get("DJANGO_DEBUG", "").lower() in ("1", "true", "yes", "on")

SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY",
    "django-insecure-dwebsocket-c-example-project-development-key-only",
)

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Makes `runserver` (staticfiles' one too) serve websockets; any position.
    "dwebsocket_c",
    "django.contrib.staticfiles",
    "demo",
    "testapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Optional: accept websockets on every URL, as the blog post shows. The
    # views here use the decorators instead.
    # "dwebsocket_c.middleware.WebSocketMiddleware",
]

# With the middleware above, let every single view accept websockets:
# WEBSOCKET_ACCEPT_ALL = True

# permessage-deflate (on by default; stated here because the example relies
# on it): browsers then send and receive compressed messages.
WEBSOCKET_COMPRESSION = True

# The chat room and the download page send through groups: in one process
# by default, through Redis (every worker, every server) with REDIS_URL.
WEBSOCKET_GROUPS_URL = os.environ.get("REDIS_URL") or None

ROOT_URLCONF = "mysite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "mysite.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DB_PATH", str(BASE_DIR / "db.sqlite3")),
    }
}

# Sessions in signed cookies: no database needed to serve the pages.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Errors (a websocket view that raises, for instance) go to stderr, whatever
# DEBUG says: Django's default only prints them when DEBUG is on.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {
        # Let django.* (django.request's 500s among them) reach the root handler.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# Test-only: GET /ws/test-login/?username=NAME logs the browser in as NAME
# (creating the user). Never enable this outside the test suite.
EXAMPLE_TEST_LOGIN = os.environ.get("EXAMPLE_TEST_LOGIN", "") == "1"
