"""System checks (``manage.py check``) for projects that use ``dwebsocket_c``.

========================  ===========================================================
ID                        Problem
========================  ===========================================================
``dwebsocket_c.E001``     A ``WEBSOCKET_*`` setting has the wrong type or value.
``dwebsocket_c.E002``     The old ``dwebsocket`` package is still configured
                          (``INSTALLED_APPS`` or ``MIDDLEWARE``).
``dwebsocket_c.E003``     An entry of ``WEBSOCKET_ALLOWED_ORIGINS`` is not an origin.
``dwebsocket_c.E004``     An entry of ``WEBSOCKET_SUBPROTOCOLS`` is not a valid token.
``dwebsocket_c.E005``     ``WEBSOCKET_GROUPS_URL`` names Redis but the ``redis``
                          package is not installed.
``dwebsocket_c.W001``     ``dwebsocket_c`` comes after ``django.contrib.staticfiles``
                          or ``daphne`` in ``INSTALLED_APPS``: their ``runserver``
                          wins and cannot serve WebSockets.
``dwebsocket_c.W002``     ``WebSocketMiddleware`` is in the obsolete
                          ``MIDDLEWARE_CLASSES`` setting (ignored by Django).
``dwebsocket_c.W003``     ``WebSocketMiddleware`` is not last in ``MIDDLEWARE`` while
                          ``WEBSOCKET_ACCEPT_ALL`` is on.
``dwebsocket_c.W004``     ``WEBSOCKET_ACCEPT_ALL`` is on but ``WebSocketMiddleware``
                          is not installed (the setting then does nothing).
``dwebsocket_c.W005``     ``ASGI_APPLICATION`` is set: under an ASGI server
                          ``dwebsocket_c`` cannot serve WebSockets.
========================  ===========================================================
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core import checks

from .conf import invalid_settings

MIDDLEWARE_PATH = "dwebsocket_c.middleware.WebSocketMiddleware"
OLD_PACKAGE = "dwebsocket"
_ORIGIN_RE = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#\s]+$", re.IGNORECASE)
# RFC 7230 token characters, as RFC 6455 requires for subprotocol names.
_TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _app_names() -> list[str]:
    from django.apps import apps

    return [config.name for config in apps.get_app_configs()]


@checks.register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = [
        checks.Error(
            f"{spec.name} must be {spec.expected}, not {value!r}.",
            id="dwebsocket_c.E001",
        )
        for spec, value in invalid_settings()
    ]
    origins = getattr(settings, "WEBSOCKET_ALLOWED_ORIGINS", [])
    if isinstance(origins, (list, tuple)):
        for origin in origins:
            if isinstance(origin, str) and origin != "*" and not _ORIGIN_RE.match(origin):
                errors.append(checks.Error(
                    f"WEBSOCKET_ALLOWED_ORIGINS entry {origin!r} is not an origin.",
                    hint='Write scheme and host, e.g. "https://example.com" or '
                         '"https://*.example.com", or "*" for any origin.',
                    id="dwebsocket_c.E003",
                ))
    subprotocols = getattr(settings, "WEBSOCKET_SUBPROTOCOLS", [])
    if isinstance(subprotocols, (list, tuple)):
        for name in subprotocols:
            if isinstance(name, str) and not _TOKEN_RE.match(name):
                errors.append(checks.Error(
                    f"WEBSOCKET_SUBPROTOCOLS entry {name!r} is not a valid token "
                    "(no spaces, commas or separators).",
                    id="dwebsocket_c.E004",
                ))
    return errors


@checks.register()
def check_installation(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    installed = list(getattr(settings, "INSTALLED_APPS", []))
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])

    old_entries = [app for app in installed if app == OLD_PACKAGE or app.startswith(OLD_PACKAGE + ".")]
    old_entries += [m for m in middleware if m.startswith(OLD_PACKAGE + ".")]
    for entry in old_entries:
        messages.append(checks.Error(
            f"{entry!r} belongs to the old 'dwebsocket' package.",
            hint=f"Replace it with {entry.replace(OLD_PACKAGE, 'dwebsocket_c', 1)!r} "
                 "and import from dwebsocket_c instead of dwebsocket.",
            id="dwebsocket_c.E002",
        ))

    names = _app_names()
    if "dwebsocket_c" in names:
        position = names.index("dwebsocket_c")
        for rival in ("django.contrib.staticfiles", "daphne"):
            if rival in names and names.index(rival) < position:
                messages.append(checks.Warning(
                    f"'dwebsocket_c' comes after {rival!r} in INSTALLED_APPS, so "
                    f"`manage.py runserver` is {rival!r}'s and cannot serve WebSockets.",
                    hint=f"Move 'dwebsocket_c' before {rival!r}.",
                    id="dwebsocket_c.W001",
                ))

    if MIDDLEWARE_PATH in (getattr(settings, "MIDDLEWARE_CLASSES", None) or []):
        messages.append(checks.Warning(
            "WebSocketMiddleware is listed in MIDDLEWARE_CLASSES, which Django "
            "no longer reads.",
            hint="Move it to MIDDLEWARE.",
            id="dwebsocket_c.W002",
        ))

    accept_all = getattr(settings, "WEBSOCKET_ACCEPT_ALL", False) is True
    if accept_all and MIDDLEWARE_PATH in middleware and middleware[-1] != MIDDLEWARE_PATH:
        messages.append(checks.Warning(
            "WebSocketMiddleware is not the last entry of MIDDLEWARE: with "
            "WEBSOCKET_ACCEPT_ALL the process_view() of the middleware after it "
            "does not run for WebSocket requests.",
            hint="Move it to the end of MIDDLEWARE.",
            id="dwebsocket_c.W003",
        ))
    if accept_all and MIDDLEWARE_PATH not in middleware:
        messages.append(checks.Warning(
            "WEBSOCKET_ACCEPT_ALL is True but WebSocketMiddleware is not in "
            "MIDDLEWARE, so the setting has no effect.",
            hint=f"Add {MIDDLEWARE_PATH!r} at the end of MIDDLEWARE.",
            id="dwebsocket_c.W004",
        ))

    if getattr(settings, "ASGI_APPLICATION", None):
        messages.append(checks.Warning(
            "ASGI_APPLICATION is set: when the project is served by an ASGI "
            "server, dwebsocket_c views answer WebSocket requests with 501.",
            hint="Serve WebSocket views through WSGI (gunicorn -k gthread/gevent, "
                 "uWSGI, runserver), or use Django Channels under ASGI.",
            id="dwebsocket_c.W005",
        ))
    return messages


@checks.register()
def check_groups(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    url = getattr(settings, "WEBSOCKET_GROUPS_URL", None)
    if not isinstance(url, str):
        return []  # None, or a wrong type (E001)
    try:
        import redis  # noqa: F401
    except ImportError:
        return [checks.Error(
            "WEBSOCKET_GROUPS_URL names a Redis server but the redis package is not installed.",
            hint="pip install 'dwebsocket-c[redis]'",
            id="dwebsocket_c.E005",
        )]
    return []
