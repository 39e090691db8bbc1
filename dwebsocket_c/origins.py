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
  every subdomain (``"https://*.example.com"``). ``"*"`` in
  ``WEBSOCKET_ALLOWED_ORIGINS`` allows every origin (not recommended);
* anything else, including ``Origin: null`` (sandboxed frames, ``file:``
  pages): refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils.http import is_same_domain


def trusted_origins(extra: Iterable[str]) -> list[str]:
    """``WEBSOCKET_ALLOWED_ORIGINS`` (given as ``extra``) + ``CSRF_TRUSTED_ORIGINS``."""
    return [*extra, *getattr(django_settings, "CSRF_TRUSTED_ORIGINS", ())]


def _matches(origin: str, pattern: str) -> bool:
    if pattern == "*":
        return True
    if "*" not in pattern:
        return origin.lower() == pattern.lower().rstrip("/")
    try:
        wanted, offered = urlsplit(pattern), urlsplit(origin)
    except ValueError:
        return False
    if wanted.scheme.lower() != offered.scheme.lower():
        return False
    # "https://*.example.com" -> ".example.com", which is_same_domain()
    # reads as "example.com and its subdomains".
    return is_same_domain(offered.netloc.lower(), wanted.netloc.lower().lstrip("*"))


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
    if any(_matches(origin, pattern) for pattern in trusted_origins(allowed_origins)):
        return None
    return (
        f"WebSocket connection refused: Origin {origin!r} is not this site "
        f"({own_origin or 'unknown host'}) and is not listed in "
        "WEBSOCKET_ALLOWED_ORIGINS or CSRF_TRUSTED_ORIGINS."
    )
