"""Noticing that the channel layer lost events, so sockets can ask clients to catch up.

Two signs, both per process: Redis lost its data (a restart without persistence: a key this
process wrote is gone), and the layer's subscriber connection came back after a drop
(chat/live/layers.py counts it). Either way, whatever was published meanwhile never arrived,
and a socket cannot tell; the sockets then close with 1012 and clients reconnect and catch
up from their last message id (chat/live/base.py).
"""

import asyncio
import logging
import time
import uuid
import weakref

from django.conf import settings

logger = logging.getLogger(__name__)

# How often a process checks that Redis kept its data (the sockets re-join their groups at
# twice this interval).
CHECK_SECONDS = 15


class LayerWatch:
    """Notices, once per process, that Redis lost its data (a restart without persistence).

    The pub/sub layer subscribes again by itself when Redis comes back, but what was
    published in between is gone, and a socket cannot tell. A key this process wrote
    disappearing is the sign: every socket of the process is then asked to reconnect
    (close 1012), and reconnecting clients catch up from their last message id.
    """

    def __init__(self, redis_url: str | None):
        self.redis_url = redis_url
        self.key = f"jtchat:alive:{uuid.uuid4().hex}"
        self.generation = 0
        self.checked_at: float | None = None
        self.checking = False
        self.client = None
        self.client_loop = None

    def _redis(self):
        loop = asyncio.get_running_loop()
        if self.client is None or self.client_loop is not loop:
            import redis.asyncio

            self.client = redis.asyncio.Redis.from_url(self.redis_url, socket_timeout=5)
            self.client_loop = loop
        return self.client

    async def current_generation(self) -> int:
        if not self.redis_url:  # the in-memory layer cannot lose anything this way
            return 0
        now = time.monotonic()
        if self.checking or (self.checked_at is not None and now - self.checked_at < CHECK_SECONDS):
            return self.generation
        self.checking = True
        try:
            redis = self._redis()
            if not await redis.expire(self.key, 86400):
                if self.checked_at is not None:
                    self.generation += 1
                    logger.warning("Redis lost its data; sockets reconnect and catch up")
                await redis.set(self.key, "1", ex=86400)
            self.checked_at = now
        finally:
            self.checking = False
        return self.generation


def subscriber_reconnections(layer) -> int:
    """How often the layer's Redis subscriber connection came back (chat/live/layers.py): each
    time, whatever was published meanwhile never arrived."""
    return getattr(layer, "subscriber_reconnections", 0)


def _layer_redis_url(alias: str) -> str | None:
    config = settings.CHANNEL_LAYERS.get(alias, {})
    if not config.get("BACKEND", "").startswith(("channels_redis.", "chat.live.layers.")):
        return None
    host = (config.get("CONFIG", {}).get("hosts") or [None])[0]
    if isinstance(host, dict):
        host = host.get("address")
    return host if isinstance(host, str) else None


_layer_watches: "weakref.WeakKeyDictionary[object, LayerWatch]" = weakref.WeakKeyDictionary()


def layer_watch(layer, alias: str = "default") -> LayerWatch:
    watch = _layer_watches.get(layer)
    if watch is None:
        watch = _layer_watches[layer] = LayerWatch(_layer_redis_url(alias))
    return watch
