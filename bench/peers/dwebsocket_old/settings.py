"""Echo project for the ORIGINAL dwebsocket 0.5.12 (pure Python), the baseline.

Runs in its own venv (bench/build/venv-dwebsocket) on Django 3.0.x: 0.5.12's
decorators build the middleware with ``decorator_from_middleware``, which on
Django >= 3.1 passes ``get_response`` to a class that takes no arguments.
"""

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["dwebsocket"]
MIDDLEWARE = []
ROOT_URLCONF = "urls"
DATABASES = {}
USE_TZ = True
LOGGING = {"version": 1, "disable_existing_loggers": False}
