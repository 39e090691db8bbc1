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
``WEBSOCKET_GROUPS_URL``           ``None``     Where group messages go
                                                (:mod:`dwebsocket_c.groups`): ``None``, this
                                                process only; ``"redis://host:6379/0"``,
                                                ``"rediss://..."``, ``"unix:///path"``:
                                                every process on that Redis.
``WEBSOCKET_GROUP_OUTBOX_LIMIT``   ``4194304``  Bytes of group messages that may wait for a
                                                client that reads slowly; beyond, it is
                                                disconnected (1008).
=================================  ===========  =========================================

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


def invalid_settings() -> list[tuple[SettingSpec, Any]]:
    """The ``(spec, value)`` pairs of every setting whose value is invalid."""
    problems = []
    for spec in SETTINGS_SPECS:
        value = getattr(django_settings, spec.name, spec.default)
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


def get_settings() -> WebSocketSettings:
    """Read and validate the ``WEBSOCKET_*`` settings now.

    Raises ``ImproperlyConfigured`` naming the first invalid setting.
    """
    values = {}
    for spec in SETTINGS_SPECS:
        value = getattr(django_settings, spec.name, spec.default)
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
    )
