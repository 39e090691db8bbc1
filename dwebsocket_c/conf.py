"""The ``WEBSOCKET_*`` settings, their defaults, and how they are read.

Every setting is optional; the defaults are safe for a public site.

=================================  ===========  =========================================
Setting                            Default      Meaning
=================================  ===========  =========================================
``WEBSOCKET_ACCEPT_ALL``           ``False``    With ``WebSocketMiddleware`` installed,
                                                every view accepts WebSocket connections
                                                (not only decorated ones).
``WEBSOCKET_MAX_MESSAGE_SIZE``     ``1048576``  Largest message accepted from a client,
                                                in bytes (all fragments together). A
                                                bigger one closes the connection with
                                                1009. ``None``: no limit.
``WEBSOCKET_ALLOWED_ORIGINS``      ``[]``       Extra origins (``"https://example.com"``,
                                                ``"https://*.example.com"``, or ``"*"``
                                                for any) a browser may connect from. The
                                                site's own origin and the entries of
                                                ``CSRF_TRUSTED_ORIGINS`` are always
                                                allowed. See :mod:`dwebsocket_c.origins`.
``WEBSOCKET_SUBPROTOCOLS``         ``[]``       Subprotocols the server speaks, in order
                                                of preference; the first one the client
                                                offers is chosen (``websocket.subprotocol``).
``WEBSOCKET_TEXT_AS_STR``          ``False``    Received text messages are ``str`` instead
                                                of :class:`~dwebsocket_c.message.TextMessage`
                                                (a ``bytes`` subclass).
``WEBSOCKET_PING_INTERVAL``        ``20``       Seconds of silence from the client before
                                                the server sends a ping. ``None``: never.
``WEBSOCKET_PING_TIMEOUT``         ``20``       Seconds to wait for any reply to a ping
                                                before the connection is declared dead.
``WEBSOCKET_CLOSE_TIMEOUT``        ``10``       Seconds to wait for the client's close frame
                                                after sending ours (closing handshake).
``WEBSOCKET_HANDSHAKE_TIMEOUT``    ``10``       Seconds allowed for writing the ``101``
                                                response on the socket; under this
                                                app's ``runserver``, also the longest
                                                silence while a client sends its request
                                                line and headers (then the connection is
                                                closed, freeing its thread).
``WEBSOCKET_SEND_TIMEOUT``         ``30``       Seconds one frame may take to be written
                                                when the client does not read; after that
                                                the connection is dropped.
``WEBSOCKET_COMPRESSION``          ``True``     Accept the client's ``permessage-deflate``
                                                offer (RFC 7692).
``WEBSOCKET_MAX_CONNECTIONS``      ``None``     Open WebSockets per process; more get
                                                ``503``. ``None``: on a fixed thread pool
                                                (gthread, uWSGI threads) the pool less a
                                                reserve for HTTP, else unbounded. See
                                                :mod:`dwebsocket_c.capacity`.
``WEBSOCKET_LEGACY_API``           ``False``    The end of the connection as dwebsocket
                                                0.5 signalled it: iteration yields a final
                                                ``None``, and once the client closed
                                                ``has_messages()`` is True and ``read()``
                                                returns ``None``. Unset, it is True in a
                                                project that called
                                                :func:`dwebsocket_c.install_as_dwebsocket`.
``WEBSOCKET_GROUPS_URL``           ``None``     Where group messages go
                                                (:mod:`dwebsocket_c.groups`): ``None``, this
                                                process only; ``"redis://host:6379/0"``,
                                                ``"rediss://..."``, ``"unix:///path"``:
                                                every process on that Redis.
``WEBSOCKET_GROUP_OUTBOX_LIMIT``   ``4194304``  Bytes of group messages that may wait for a
                                                client that reads slowly; beyond, it is
                                                disconnected (1008).
=================================  ===========  =========================================

Compression details (used only when ``WEBSOCKET_COMPRESSION`` is on):

===============================================  =======  ==============================
Setting                                          Default  Meaning
===============================================  =======  ==============================
``WEBSOCKET_COMPRESSION_THRESHOLD``              ``128``  Messages shorter than this
                                                          (bytes) are sent uncompressed.
``WEBSOCKET_COMPRESSION_SERVER_CONTEXT_TAKEOVER`` ``False`` Keep a compressor per
                                                          connection (better ratio on
                                                          similar messages, ~256 KiB
                                                          per connection); off: one
                                                          shared compressor per thread.
``WEBSOCKET_COMPRESSION_CLIENT_CONTEXT_TAKEOVER`` ``True`` Let the client keep its
                                                          context (the server then keeps
                                                          an inflate window per
                                                          connection once it received a
                                                          compressed message).
``WEBSOCKET_COMPRESSION_SERVER_MAX_WINDOW_BITS`` ``15``   Window of the server's
                                                          compressor, 9..15.
``WEBSOCKET_COMPRESSION_CLIENT_MAX_WINDOW_BITS`` ``12``   Window asked of the client
                                                          (when it allows it), 9..15:
                                                          the server's inflate memory
                                                          per connection is ~7 KiB +
                                                          2**bits.
``WEBSOCKET_COMPRESSION_MEM_LEVEL``              ``8``    zlib's memLevel for the
                                                          server's compressor, 1..9.
``WEBSOCKET_COMPRESSION_LEVEL``                  ``1``    zlib's compression level, 1..9
                                                          (1: fastest; 6: zlib's default,
                                                          ~2.7x the CPU on 64 KiB of
                                                          JSON for ~1% smaller output).
===============================================  =======  ==============================

Settings are read again for every connection (cheap), so
``override_settings`` works in tests. Their types are checked by
:mod:`dwebsocket_c.checks` (``manage.py check``); a wrong value that reaches
run time raises ``ImproperlyConfigured`` naming the setting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

MEBIBYTE = 1024 * 1024


def _is_optional_positive_int(value: Any) -> bool:
    return value is None or (type(value) is int and value > 0)


def _is_positive_number(value: Any) -> bool:
    return type(value) in (int, float) and value > 0


def _is_optional_positive_number(value: Any) -> bool:
    return value is None or _is_positive_number(value)


def _is_list_of_str(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_non_negative_int(value: Any) -> bool:
    return type(value) is int and value >= 0


def _is_window_bits(value: Any) -> bool:
    return type(value) is int and 9 <= value <= 15


def _is_1_to_9(value: Any) -> bool:
    return type(value) is int and 1 <= value <= 9
def _is_optional_groups_url(value: Any) -> bool:
    return value is None or (
        isinstance(value, str) and value.startswith(("redis://", "rediss://", "unix://"))
    )


@dataclasses.dataclass(frozen=True)
class SettingSpec:
    """One ``WEBSOCKET_*`` setting: its default and what a valid value is."""

    name: str
    default: Any
    is_valid: Callable[[Any], bool]
    expected: str  # human description of a valid value, for error messages


SETTINGS_SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("WEBSOCKET_ACCEPT_ALL", False, _is_bool, "True or False"),
    SettingSpec(
        "WEBSOCKET_MAX_MESSAGE_SIZE", MEBIBYTE, _is_optional_positive_int,
        "a positive int (bytes) or None",
    ),
    SettingSpec(
        "WEBSOCKET_ALLOWED_ORIGINS", (), _is_list_of_str,
        'a list of origins such as "https://example.com"',
    ),
    SettingSpec("WEBSOCKET_SUBPROTOCOLS", (), _is_list_of_str, "a list of str"),
    SettingSpec("WEBSOCKET_TEXT_AS_STR", False, _is_bool, "True or False"),
    SettingSpec(
        "WEBSOCKET_PING_INTERVAL", 20, _is_optional_positive_number,
        "a positive number of seconds or None",
    ),
    SettingSpec(
        "WEBSOCKET_PING_TIMEOUT", 20, _is_positive_number, "a positive number of seconds",
    ),
    SettingSpec(
        "WEBSOCKET_CLOSE_TIMEOUT", 10, _is_positive_number, "a positive number of seconds",
    ),
    SettingSpec(
        "WEBSOCKET_HANDSHAKE_TIMEOUT", 10, _is_positive_number,
        "a positive number of seconds",
    ),
    SettingSpec(
        "WEBSOCKET_SEND_TIMEOUT", 30, _is_positive_number, "a positive number of seconds",
    ),
    SettingSpec("WEBSOCKET_COMPRESSION", True, _is_bool, "True or False"),
    SettingSpec(
        "WEBSOCKET_COMPRESSION_THRESHOLD", 128, _is_non_negative_int,
        "an int >= 0 (bytes)",
    ),
    SettingSpec(
        "WEBSOCKET_COMPRESSION_SERVER_CONTEXT_TAKEOVER", False, _is_bool, "True or False",
    ),
    SettingSpec(
        "WEBSOCKET_COMPRESSION_CLIENT_CONTEXT_TAKEOVER", True, _is_bool, "True or False",
    ),
    SettingSpec(
        "WEBSOCKET_COMPRESSION_SERVER_MAX_WINDOW_BITS", 15, _is_window_bits,
        "an int from 9 to 15",
    ),
    SettingSpec(
        "WEBSOCKET_COMPRESSION_CLIENT_MAX_WINDOW_BITS", 12, _is_window_bits,
        "an int from 9 to 15",
    ),
    SettingSpec("WEBSOCKET_COMPRESSION_MEM_LEVEL", 8, _is_1_to_9, "an int from 1 to 9"),
    SettingSpec("WEBSOCKET_COMPRESSION_LEVEL", 1, _is_1_to_9, "an int from 1 to 9"),
    # Its default is really legacy_api_default(): see _value().
    SettingSpec("WEBSOCKET_LEGACY_API", False, _is_bool, "True or False"),
    SettingSpec(
        "WEBSOCKET_MAX_CONNECTIONS", None, _is_optional_positive_int,
        "a positive int or None (derived from the server's thread pool)",
    ),
    SettingSpec(
        "WEBSOCKET_GROUPS_URL", None, _is_optional_groups_url,
        'None or a Redis URL ("redis://", "rediss://" or "unix://")',
    ),
    SettingSpec(
        "WEBSOCKET_GROUP_OUTBOX_LIMIT", 4 * MEBIBYTE,
        lambda value: value is not None and _is_optional_positive_int(value),
        "a positive int (bytes)",
    ),
)


def legacy_api_default() -> bool:
    """``WEBSOCKET_LEGACY_API`` when unset: on once ``install_as_dwebsocket()``
    ran, since a project that calls it is one written for the old library."""
    from .compat import is_installed

    return is_installed()


def _value(spec: SettingSpec) -> Any:
    if spec.name == "WEBSOCKET_LEGACY_API" and not hasattr(django_settings, spec.name):
        return legacy_api_default()
    return getattr(django_settings, spec.name, spec.default)


def invalid_settings() -> list[tuple[SettingSpec, Any]]:
    """The ``(spec, value)`` pairs of every setting whose value is invalid."""
    problems = []
    for spec in SETTINGS_SPECS:
        value = _value(spec)
        if not spec.is_valid(value):
            problems.append((spec, value))
    return problems


@dataclasses.dataclass(frozen=True)
class WebSocketSettings:
    """A snapshot of the ``WEBSOCKET_*`` settings (see the module docstring)."""

    accept_all: bool
    max_message_size: int | None
    allowed_origins: tuple[str, ...]
    subprotocols: tuple[str, ...]
    text_as_str: bool
    ping_interval: float | None
    ping_timeout: float
    close_timeout: float
    handshake_timeout: float
    send_timeout: float
    compression: bool
    compression_threshold: int
    compression_server_context_takeover: bool
    compression_client_context_takeover: bool
    compression_server_max_window_bits: int
    compression_client_max_window_bits: int
    compression_mem_level: int
    compression_level: int
    max_connections: int | None
    legacy_api: bool


def get_settings() -> WebSocketSettings:
    """Read and validate the ``WEBSOCKET_*`` settings now.

    Raises ``ImproperlyConfigured`` naming the first invalid setting.
    """
    values = {}
    for spec in SETTINGS_SPECS:
        value = _value(spec)
        if not spec.is_valid(value):
            raise ImproperlyConfigured(
                f"{spec.name} must be {spec.expected}, not {value!r}."
            )
        values[spec.name] = value
    return WebSocketSettings(
        accept_all=values["WEBSOCKET_ACCEPT_ALL"],
        max_message_size=values["WEBSOCKET_MAX_MESSAGE_SIZE"],
        allowed_origins=tuple(values["WEBSOCKET_ALLOWED_ORIGINS"]),
        subprotocols=tuple(values["WEBSOCKET_SUBPROTOCOLS"]),
        text_as_str=values["WEBSOCKET_TEXT_AS_STR"],
        ping_interval=values["WEBSOCKET_PING_INTERVAL"],
        ping_timeout=values["WEBSOCKET_PING_TIMEOUT"],
        close_timeout=values["WEBSOCKET_CLOSE_TIMEOUT"],
        handshake_timeout=values["WEBSOCKET_HANDSHAKE_TIMEOUT"],
        send_timeout=values["WEBSOCKET_SEND_TIMEOUT"],
        compression=values["WEBSOCKET_COMPRESSION"],
        compression_threshold=values["WEBSOCKET_COMPRESSION_THRESHOLD"],
        compression_server_context_takeover=values["WEBSOCKET_COMPRESSION_SERVER_CONTEXT_TAKEOVER"],
        compression_client_context_takeover=values["WEBSOCKET_COMPRESSION_CLIENT_CONTEXT_TAKEOVER"],
        compression_server_max_window_bits=values["WEBSOCKET_COMPRESSION_SERVER_MAX_WINDOW_BITS"],
        compression_client_max_window_bits=values["WEBSOCKET_COMPRESSION_CLIENT_MAX_WINDOW_BITS"],
        compression_mem_level=values["WEBSOCKET_COMPRESSION_MEM_LEVEL"],
        compression_level=values["WEBSOCKET_COMPRESSION_LEVEL"],
        max_connections=values["WEBSOCKET_MAX_CONNECTIONS"],
        legacy_api=values["WEBSOCKET_LEGACY_API"],
    )
