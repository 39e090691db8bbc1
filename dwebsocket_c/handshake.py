"""The opening handshake (RFC 6455 section 4.2), decided from ``request.META``.

:func:`is_websocket_request` says whether a request *asks* for a WebSocket
(its ``Upgrade`` header names ``websocket``). :func:`negotiate` then decides
whether to accept it, in this order:

1. the request must be a valid handshake (checked by the C core:
   ``GET``, ``Upgrade``, ``Connection``, ``Sec-WebSocket-Key``): otherwise
   ``400 Bad Request`` with the reason; an unsupported
   ``Sec-WebSocket-Version`` gets ``426 Upgrade Required`` with
   ``Sec-WebSocket-Version: 13``;
2. the ``Origin`` must be trusted (see :mod:`dwebsocket_c.origins`):
   otherwise ``403 Forbidden`` with the reason;
3. a subprotocol is chosen from ``WEBSOCKET_SUBPROTOCOLS`` (the first the
   client offers; none if it offers none of them);
4. with ``WEBSOCKET_COMPRESSION`` on, the C core picks the first acceptable
   ``permessage-deflate`` offer of ``Sec-WebSocket-Extensions`` (RFC 7692); an
   offer it cannot accept is declined, never the handshake.

It returns the exact bytes of the ``101 Switching Protocols`` response, built
by the C core; they are written straight on the socket (WSGI's
``start_response`` cannot send a 101).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden

from . import _core
from .conf import WebSocketSettings
from .origins import origin_refusal


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


def negotiate(request: HttpRequest, settings: WebSocketSettings) -> Handshake:
    """Accept the handshake or raise :class:`HandshakeRefused`."""
    meta = request.META
    try:
        accept = _core.check_request(
            request.method or "",
            meta.get("HTTP_UPGRADE"),
            meta.get("HTTP_CONNECTION"),
            meta.get("HTTP_SEC_WEBSOCKET_VERSION"),
            meta.get("HTTP_SEC_WEBSOCKET_KEY"),
        )
    except _core.HandshakeError as error:
        if error.status == 426:
            response = HttpResponse(
                error.reason, status=426, content_type="text/plain; charset=utf-8"
            )
            response["Sec-WebSocket-Version"] = "13"
        else:
            response = HttpResponseBadRequest(
                error.reason, content_type="text/plain; charset=utf-8"
            )
        raise HandshakeRefused(response) from error

    refusal = origin_refusal(request, settings.allowed_origins)
    if refusal is not None:
        raise HandshakeRefused(
            HttpResponseForbidden(refusal, content_type="text/plain; charset=utf-8")
        )

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
