"""System checks (``manage.py check``) for projects that use ``dwebsocket_c``.

========================  ===========================================================
ID                        Problem
========================  ===========================================================
``dwebsocket_c.E001``     A ``WEBSOCKET_*`` setting has the wrong type or value.
``dwebsocket_c.E002``     The old ``dwebsocket`` package is still configured
                          (``INSTALLED_APPS`` or ``MIDDLEWARE``) and
                          ``install_as_dwebsocket()`` was not called.
``dwebsocket_c.E003``     An entry of ``WEBSOCKET_ALLOWED_ORIGINS`` is not an origin.
``dwebsocket_c.E004``     An entry of ``WEBSOCKET_SUBPROTOCOLS`` is not a valid token.
``dwebsocket_c.E005``     ``WEBSOCKET_GROUPS_URL`` names Redis but the ``redis``
                          package is not installed.
``dwebsocket_c.W001``     The ``runserver`` command of the project is not one that
                          serves WebSockets (another app, ``daphne`` for one,
                          replaces Django's with a server of its own).
``dwebsocket_c.W002``     ``WebSocketMiddleware`` is in the obsolete
                          ``MIDDLEWARE_CLASSES`` setting (ignored by Django).
``dwebsocket_c.W003``     ``WebSocketMiddleware`` is not last in ``MIDDLEWARE`` while
                          ``WEBSOCKET_ACCEPT_ALL`` is on.
``dwebsocket_c.W004``     ``WEBSOCKET_ACCEPT_ALL`` is on but ``WebSocketMiddleware``
                          is not installed (the setting then does nothing).
``dwebsocket_c.W005``     ``ASGI_APPLICATION`` is set: under an ASGI server
                          ``dwebsocket_c`` cannot serve WebSockets.
``dwebsocket_c.W006``     ``WEBSOCKET_FACTORY_CLASS`` (the old library's uWSGI
                          backend) is set: it is ignored, the server is
                          recognised from each request.
========================  ===========================================================
"""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks

from . import compat
from .conf import invalid_settings

MIDDLEWARE_PATH = "dwebsocket_c.middleware.WebSocketMiddleware"
OLD_PACKAGE = compat.OLD_NAME
OLD_MIDDLEWARE_PATH = "dwebsocket.middleware.WebSocketMiddleware"
_ORIGIN_RE = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#\s]+$", re.IGNORECASE)
# RFC 7230 token characters, as RFC 6455 requires for subprotocol names.
_TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _middleware() -> list[str]:
    """``MIDDLEWARE``, with the old middleware path read as the new one when
    ``install_as_dwebsocket()`` made it an alias."""
    entries = list(getattr(settings, "MIDDLEWARE", None) or [])
    if compat.is_installed():
        entries = [MIDDLEWARE_PATH if m == OLD_MIDDLEWARE_PATH else m for m in entries]
    return entries


def _runserver_problem() -> str | None:
    """Why ``manage.py runserver`` would not serve WebSockets, or None."""
    from django.core.management import get_commands, load_command_class
    from django.core.management.commands.runserver import Command as DjangoRunserver

    from .devserver import WebSocketServerMixin

    app_name = get_commands().get("runserver", "django.core")
    if not isinstance(app_name, str):  # a command object registered by hand
        return None
    command_class = type(load_command_class(app_name, "runserver"))
    serves = (
        issubclass(command_class, DjangoRunserver)
        and command_class.inner_run is DjangoRunserver.inner_run
        and isinstance(command_class.server_cls, type)
        and issubclass(command_class.server_cls, WebSocketServerMixin)
    )
    if serves:
        return None
    return f"the runserver command of {app_name!r}"


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
    middleware = _middleware()

    if not compat.is_installed():
        old_entries = [app for app in installed
                       if app == OLD_PACKAGE or app.startswith(OLD_PACKAGE + ".")]
        old_entries += [m for m in middleware if m.startswith(OLD_PACKAGE + ".")]
        for entry in old_entries:
            messages.append(checks.Error(
                f"{entry!r} belongs to the old 'dwebsocket' package.",
                hint=f"Replace it with {entry.replace(OLD_PACKAGE, 'dwebsocket_c', 1)!r} "
                     "and import from dwebsocket_c instead of dwebsocket, or call "
                     "dwebsocket_c.install_as_dwebsocket() at the top of settings.py.",
                id="dwebsocket_c.E002",
            ))

    if apps.is_installed("dwebsocket_c"):
        runserver = _runserver_problem()
        if runserver:
            messages.append(checks.Warning(
                f"`manage.py runserver` is {runserver}, which cannot hand a "
                "connection over to a WebSocket view: under it, WebSocket "
                "requests get 501.",
                hint="Run another server for WebSockets (gunicorn -k gthread, "
                     "uWSGI...), or remove the app that replaces runserver.",
                id="dwebsocket_c.W001",
            ))

    listed_old_way = [m for m in getattr(settings, "MIDDLEWARE_CLASSES", None) or []
                      if m in (MIDDLEWARE_PATH, OLD_MIDDLEWARE_PATH)]
    for entry in listed_old_way:
        if MIDDLEWARE_PATH in middleware:
            hint = "It is in MIDDLEWARE already: delete MIDDLEWARE_CLASSES."
        else:
            hint = (f"Add {MIDDLEWARE_PATH!r} at the end of MIDDLEWARE if you want it "
                    "(the decorators work without it), and delete MIDDLEWARE_CLASSES.")
        messages.append(checks.Warning(
            f"{entry!r} is listed in MIDDLEWARE_CLASSES, which Django no longer "
            "reads: it does nothing there.",
            hint=hint,
            id="dwebsocket_c.W002",
        ))

    if getattr(settings, "WEBSOCKET_FACTORY_CLASS", None) is not None:
        messages.append(checks.Warning(
            "WEBSOCKET_FACTORY_CLASS is obsolete and ignored: dwebsocket_c "
            "recognises the server (uWSGI included) from each request and takes "
            "the connection over the way that server needs.",
            hint="Delete the setting.",
            id="dwebsocket_c.W006",
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
