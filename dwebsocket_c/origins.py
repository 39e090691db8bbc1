"""The ``Origin`` check of the opening handshake (cross-site WebSocket hijacking).

A browser lets any page open a WebSocket to any site, with that site's
cookies, and says which page it was in the ``Origin`` header. So a handshake
whose ``Origin`` is another site is refused with ``403 Forbidden`` (and a
reason), unless that origin is trusted. The rules follow Django's own CSRF
origin check:

* no ``Origin`` header: allowed — the client is not a browser (a script, a
  server, a command-line tool), and the header is what browsers send;
* the request's own origin, ``<scheme>://<request.get_host()>``: allowed
  (behind a TLS-terminating proxy set ``SECURE_PROXY_SSL_HEADER`` so that the
  scheme is ``https``, as for Django's CSRF check);
* an entry of ``WEBSOCKET_ALLOWED_ORIGINS`` or ``CSRF_TRUSTED_ORIGINS``:
  allowed. Entries are full origins (``"https://example.com"``,
  ``"http://localhost:3000"``) and may start the host with ``*.`` to allow
  the domain and every subdomain (``"https://*.example.com"``), with that
  scheme and port only, and only for an ``Origin`` that is exactly
  ``scheme://host[:port]`` (no user, path, query, fragment or ``%``: not
  ``https://user@a.example.com`` nor ``https://evil.com%2F.example.com``).
  ``"*"`` in ``WEBSOCKET_ALLOWED_ORIGINS`` allows every origin (not
  recommended);
* anything else, including ``Origin: null`` (sandboxed frames, ``file:``
  pages): refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings as django_settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest

from .refusals import quoted


def trusted_origins(extra: Iterable[str]) -> list[str]:
    """``WEBSOCKET_ALLOWED_ORIGINS`` (given as ``extra``) + ``CSRF_TRUSTED_ORIGINS``."""
    return [*extra, *getattr(django_settings, "CSRF_TRUSTED_ORIGINS", ())]


# scheme "://" host [":" port], and nothing else: no userinfo, path, query,
# fragment or percent-escape (RFC 6454 section 6.1 serializes an origin so).
_ORIGIN = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://"
    r"(?P<host>\[[0-9a-f:.]+\]|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*)"
    r"(?::(?P<port>[0-9]{1,5}))?",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def parse_origin(value: str, *, wildcard: bool = False) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of an origin, lower-cased, the port None when
    neither given nor known for the scheme; None if ``value`` is not exactly
    ``scheme://host[:port]``. With ``wildcard`` the host may start with
    ``*.`` (a pattern of the settings)."""
    star = ""
    if wildcard:
        scheme, sep, rest = value.partition("://*.")
        if sep:
            value, star = f"{scheme}://{rest}", "*."
    match = _ORIGIN.fullmatch(value.rstrip("/") if star else value)
    if match is None:
        return None
    scheme, host = match["scheme"].lower(), match["host"].lower()
    port = int(match["port"]) if match["port"] else _DEFAULT_PORTS.get(scheme)
    if port is not None and not 0 < port < 65536:
        return None
    return scheme, star + host, port


def origin_matches(origin: str, pattern: str) -> bool:
    """Whether the ``Origin`` header ``origin`` is allowed by ``pattern``, an
    entry of the settings: ``"*"``; an exact origin (compared
    case-insensitively); or ``"scheme://*.domain[:port]"``, which allows
    ``domain`` and its subdomains with that scheme and port, and only a
    well-formed origin (``scheme://host[:port]``, nothing else)."""
    if pattern == "*":
        return True
    if "*" not in pattern:
        return origin.lower() == pattern.lower().rstrip("/")
    wanted, offered = parse_origin(pattern, wildcard=True), parse_origin(origin)
    if wanted is None or offered is None or not wanted[1].startswith("*."):
        return False
    (scheme, host, port), domain = offered, wanted[1][2:]
    return (
        scheme == wanted[0]
        and port == wanted[2]
        and (host == domain or host.endswith("." + domain))
    )


def origin_refusal(request: HttpRequest, allowed_origins: Iterable[str]) -> str | None:
    """Why this handshake's ``Origin`` is refused, or None when it is allowed."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return None
    try:
        own_origin = f"{request.scheme}://{request.get_host()}"
    except DisallowedHost:
        own_origin = None
    if own_origin is not None and origin.lower() == own_origin.lower():
        return None
    if any(origin_matches(origin, pattern) for pattern in trusted_origins(allowed_origins)):
        return None
    if own_origin is None:
        site = f"its Host {quoted(request.META.get('HTTP_HOST'))} is not in ALLOWED_HOSTS"
    else:
        site = own_origin
    return (
        f"Origin {quoted(origin)} is not this site ({site}) and is not listed in "
        "WEBSOCKET_ALLOWED_ORIGINS or CSRF_TRUSTED_ORIGINS."
    )
