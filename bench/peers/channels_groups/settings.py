"""Channels + daphne group members, a peer of bench_groups.py.

BENCH_LAYER: "core" (channels_redis RedisChannelLayer) or "pubsub"
(RedisPubSubChannelLayer); BENCH_REDIS_URL: the Redis both use.
"""

import os

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
MIDDLEWARE = []
ROOT_URLCONF = "urls"
DATABASES = {}
USE_TZ = True
ASGI_APPLICATION = "asgi.application"
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": {
            "core": "channels_redis.core.RedisChannelLayer",
            "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
        }[os.environ.get("BENCH_LAYER", "core")],
        "CONFIG": {"hosts": [os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")]},
    }
}
