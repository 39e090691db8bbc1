"""The example project's settings without middleware, for the scale test's
memory breakdown (bench_e2e.py --scale-env DJANGO_SETTINGS_MODULE=bench_settings_bare):
what an idle connection costs when Django runs no middleware around the view."""

from mysite.settings import *  # noqa: F401,F403

MIDDLEWARE: list[str] = []
