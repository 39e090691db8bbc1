"""The example project's settings with zlib's default compression level (6,
what `websockets` uses), for bench_deflate.py's like-for-like row."""

from mysite.settings import *  # noqa: F401,F403

WEBSOCKET_COMPRESSION_LEVEL = 6
