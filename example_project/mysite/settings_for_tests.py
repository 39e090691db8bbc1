"""Settings used by tests/integration and tests/browser: the example's own,
with shorter timeouts so that waiting for a silent client costs seconds."""

from .settings import *  # noqa: F401,F403

# After the server's close frame, wait this long for the client's reply
# before dropping the TCP connection (default 10 s).
WEBSOCKET_CLOSE_TIMEOUT = 2
