"""Settings for tests/robustness: the test settings with every timeout short,
so that a test waiting for one costs a few seconds.

Used by the tests of keepalive (a half-open connection is dropped after
1 s of silence + 1 s without an answer to the ping), of a client that reads
nothing (``send()`` gives up after 2 s), and of a handshake that never
completes (``runserver`` drops it after 2 s).
"""

from .settings_for_tests import *  # noqa: F401,F403

WEBSOCKET_PING_INTERVAL = 1
WEBSOCKET_PING_TIMEOUT = 1
WEBSOCKET_SEND_TIMEOUT = 2
WEBSOCKET_HANDSHAKE_TIMEOUT = 2
WEBSOCKET_CLOSE_TIMEOUT = 2
