"""What the group tests share besides fixtures (a module of its own:
``conftest`` is not a unique module name across the test folders, so test
modules must not import from it)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: The servers' and Redis's logs, for the whole session.
LOG_DIR = Path(tempfile.mkdtemp(prefix="dws-group-logs-"))


def django_env(redis_url: str | None) -> dict[str, str]:
    """The environment of a separate process that uses the example's settings."""
    from dws_servers import EXAMPLE_DIR

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="mysite.settings_for_tests",
               PYTHONPATH=str(EXAMPLE_DIR), PYTHONUNBUFFERED="1")
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env
