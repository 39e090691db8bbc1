"""The old-style project (./oldproject) served by the servers of
tests/integration/dws_servers.py."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

from dws_servers import Project, ServerProcess  # noqa: E402

OLDPROJECT = Project(
    directory=HERE / "oldproject",
    wsgi_module="oldsite.wsgi",
    settings_module="oldsite.settings",
    health_path="/health/",
    green_scripts={},
    env={"PYTHONWARNINGS": "ignore"},
)

#: The servers issue 11 names for the migration.
MIGRATION_SERVERS = ["runserver", "gunicorn-gthread", "uwsgi"]

__all__ = ["HERE", "MIGRATION_SERVERS", "OLDPROJECT", "ServerProcess"]
