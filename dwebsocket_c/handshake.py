"""The opening handshake (RFC 6455 section 4.2), decided from ``request.META``.

:func:`is_websocket_request` says whether a request *asks* for a WebSocket
(its ``Upgrade`` header names ``websocket``). :func:`negotiate` then decides
whether to accept it, in this order:

1. the request must be a valid handshake: HTTP/1.1 or later
   (``SERVER_PROTOCOL``) with a ``Host`` header (RFC 6455 section 4.2.1),
   then, checked by the C core, ``GET``, ``Upgrade``, ``Connection``,
   ``Sec-WebSocket-Key``: otherwise ``400 Bad Request`` with the reason;
   an unsupported ``Sec-WebSocket-Version`` gets ``426 Upgrade Required`` with
   ``Sec-WebSocket-Version: 13``;
2. the ``Origin`` must be trusted (see :mod:`dwebsocket_c.origins`):
   otherwise ``403 Forbidden`` with the reason;
3. a subprotocol is chosen from ``WEBSOCKET_SUBPROTOCOLS`` (the first the
   client offers; none if it offers none of them);
4. with ``WEBSOCKET_COMPRESSION`` on, the C core picks the first acceptable
   ``permessage-deflate`` offer of ``Sec-WebSocket-Extensions`` (RFC 7692); an
   offer it cannot accept is declined, never the handshake.

Every refusal also logs one WARNING line on the ``dwebsocket_c`` logger
saying why, at most one per reason every 10 seconds
(:mod:`dwebsocket_c.refusals`).

It returns the exact bytes of the ``101 Switching Protocols`` response, built
by the C core; they are written straight on the socket (WSGI's
``start_response`` cannot send a 101).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from django.http import HttpRequest, HttpResponse

from . import _core
from .conf import WebSocketSettings
from .origins import origin_refusal
from .refusals import log_refusal, printable, quoted, refusal_response

_HTTP_VERSION = re.compile(r"HTTP/([0-9]+)(?:\.([0-9]+))?")
#: The environ key eventlet.wsgi (and no other server) sets.
EVENTLET_INPUT_KEY = "eventlet.input"


def is_websocket_request(request: HttpRequest) -> bool:
    """Whether the request asks to upgrade to WebSocket (it may still be malformed)."""
    upgrade = request.META.get("HTTP_UPGRADE", "")
    return any(token.strip().lower() == "websocket" for token in upgrade.split(","))


@dataclasses.dataclass(frozen=True)
class Handshake:
    """An accepted handshake: the ``101`` bytes and the chosen subprotocol."""

    response: bytes
    subprotocol: str | None
    #: The agreed permessage-deflate parameters (for ``WebSocket(deflate=...)``),
    #: or None: no compression.
    deflate: dict[str, Any] | None = None


class HandshakeRefused(Exception):
    """The handshake is refused; ``response`` is the HTTP answer to send."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.content.decode("utf-8", "replace"))
        self.response = response


def _request_line_refusal(meta: dict[str, Any]) -> tuple[str, str] | None:
    """``(log reason, why)`` when the request is not HTTP/1.1 or later, or has
    no ``Host`` (RFC 6455 section 4.2.1); None when it is fine."""
    # Required by WSGI; a caller that leaves it out is not a client's fault.
    protocol = meta.get("SERVER_PROTOCOL")
    if EVENTLET_INPUT_KEY in meta:
        # eventlet.wsgi sets "HTTP/1.0" for every request whatever its request
        # line said (eventlet 0.41): the version cannot be known there.
        protocol = None
    if protocol is not None:
        match = _HTTP_VERSION.fullmatch(protocol)
        if match is None:
            return "http-version", f"the request's protocol {quoted(protocol)} is not HTTP"
        if (int(match[1]), int(match[2] or 0)) < (1, 1):
            return "http-version", (
                f"a WebSocket handshake needs HTTP/1.1 or later, this request is "
                f"{printable(protocol)} (behind a proxy: nginx needs proxy_http_version 1.1)"
            )
    if not meta.get("HTTP_HOST", "").strip():
        return "host", "missing Host header"
    return None


def negotiate(request: HttpRequest, settings: WebSocketSettings) -> Handshake:
    """Accept the handshake or raise :class:`HandshakeRefused` (and log why,
    rate-limited: :mod:`dwebsocket_c.refusals`)."""
    meta = request.META
    bad_request_line = _request_line_refusal(meta)
    if bad_request_line is not None:
        reason, why = bad_request_line
        log_refusal(reason, 400, request, why)
        raise HandshakeRefused(refusal_response(400, why))
    try:
        accept = _core.check_request(
            request.method or "",
            meta.get("HTTP_UPGRADE"),
            meta.get("HTTP_CONNECTION"),
            meta.get("HTTP_SEC_WEBSOCKET_VERSION"),
            meta.get("HTTP_SEC_WEBSOCKET_KEY"),
        )
    except _core.HandshakeError as error:
        response = refusal_response(error.status, error.reason)
        if error.status == 426:
            response["Sec-WebSocket-Version"] = "13"
            why = (f"{error.reason} (the client sent Sec-WebSocket-Version "
                   f"{quoted(meta.get('HTTP_SEC_WEBSOCKET_VERSION'))})")
        else:
            why = error.reason
        # The C core's reasons are a fixed set: each is a reason of its own.
        log_refusal(f"{error.status}: {error.reason}", error.status, request, why)
        raise HandshakeRefused(response) from error

    refusal = origin_refusal(request, settings.allowed_origins)
    if refusal is not None:
        log_refusal("origin", 403, request, refusal)
        raise HandshakeRefused(refusal_response(403, refusal))

    subprotocol = None
    if settings.subprotocols:
        subprotocol = _core.select_subprotocol(
            meta.get("HTTP_SEC_WEBSOCKET_PROTOCOL"), settings.subprotocols
        )
    extra_headers: list[tuple[str, str]] = []
    deflate = None
    if settings.compression:
        agreed = _core.negotiate_deflate(
            meta.get("HTTP_SEC_WEBSOCKET_EXTENSIONS"),
            server_max_window_bits=settings.compression_server_max_window_bits,
            client_max_window_bits=settings.compression_client_max_window_bits,
            server_no_context_takeover=not settings.compression_server_context_takeover,
            client_no_context_takeover=not settings.compression_client_context_takeover,
        )
        if agreed is not None:
            header, deflate = agreed
            deflate["threshold"] = settings.compression_threshold
            deflate["mem_level"] = settings.compression_mem_level
            deflate["level"] = settings.compression_level
            extra_headers.append(("Sec-WebSocket-Extensions", header))
    return Handshake(
        _core.build_response(accept, subprotocol, extra_headers), subprotocol, deflate
    )
