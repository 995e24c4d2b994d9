"""The Redis channel layer used in production: channels-redis pub/sub, decoded once per process.

An agents' event reaches every agent socket of a process. The pub/sub layer hands each
socket the same received bytes but decodes them once per socket; here the last messages
decoded are kept by identity, so every socket gets the same dict and
``chat.live.base.SharedEncoding`` encodes it to JSON once as well. Consumers never modify
the events they receive.

Services announce from synchronous code (WSGI request threads): ``group_send_many_blocking``
publishes from the calling thread with a plain Redis client, in one pipeline, instead of
handing each event to an event loop in another thread and waiting for it there. One service
call makes several events (the customer's socket, the assigned agent, the transcript's
watchers), so they cost the request one round trip instead of one per event
(chat.live.events.publishing_batch). It publishes where the layer's ``group_add``
subscribes: the channel ``<prefix>__group__<group>``, a naming of channels-redis that is not
part of its documented API (README, "Private internals"; chat/tests/test_redis_layer.py
fails if it changes). One Redis host only: with several, which host carries a group is
decided by a private function of channels-redis.

Pub/sub keeps nothing for a subscriber that is away: whatever was published while the
process's subscriber connection was down (a Redis restart, a dropped connection) is gone,
and redis-py reconnects and subscribes again by itself. The layer counts those reconnections
(``subscriber_reconnections``) so that the sockets can ask their clients to reconnect and
catch up before any later event moves the clients' cursors past the gap (chat/live/base.py).
It counts them through redis-py's public hooks: its connection pool takes the connection
class to use (``connection_class``), and a pub/sub registers a connect callback on its
connection (``register_connect_callback``), which redis-py calls every time that connection
comes back.
"""

import logging
import threading

import redis
from channels_redis.pubsub import RedisPubSubChannelLayer
from channels_redis.utils import decode_hosts
from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.client import PubSub
from redis.asyncio.connection import Connection, parse_url

logger = logging.getLogger(__name__)


class SharedDecodingPubSubChannelLayer(RedisPubSubChannelLayer):
    decoded_cache_size = 64

    def __init__(self, hosts=None, prefix="asgi", **kwargs):
        hosts = decode_hosts(hosts)
        if len(hosts) != 1 or "address" not in hosts[0]:
            raise ImproperlyConfigured("The chat's channel layer takes one Redis host, given by its URL.")
        self.address = hosts[0]["address"]
        self.prefix = prefix
        self.subscriber_reconnections = 0
        self._decoded: dict[int, tuple[bytes, dict]] = {}
        self._blocking_client: redis.Redis | None = None
        self._blocking_lock = threading.Lock()
        super().__init__(hosts=[self._counting_host(hosts[0])], prefix=prefix, **kwargs)

    def _counting_host(self, host: dict) -> dict:
        """The host's connection-pool arguments, with connections that report a subscriber's
        reconnection to this layer (the URL's own connection class underneath)."""
        options = {key: value for key, value in host.items() if key != "address"}
        options.update(parse_url(host["address"]))
        base = options.get("connection_class", Connection)
        options["connection_class"] = type(
            f"ReconnectionCounting{base.__name__}", (ReconnectionCountingConnection, base), {"layer": self}
        )
        return options

    def subscriber_reconnected(self) -> None:
        self.subscriber_reconnections += 1
        logger.warning("Redis subscriber connection re-established; sockets reconnect and catch up")

    def group_channel(self, group: str) -> str:
        """The Redis channel the layer subscribes a group's members to (channels-redis's naming)."""
        return f"{self.prefix}__group__{group}"

    def group_send_blocking(self, group: str, message: dict) -> None:
        """``group_send`` for synchronous code: one PUBLISH on the calling thread."""
        self.group_send_many_blocking([(group, message)])

    def group_send_many_blocking(self, items: list[tuple[str, dict]]) -> None:
        """Publish (group, message) pairs from synchronous code, in one round trip.

        Each payload is serialized by the layer itself. The PUBLISHes go in one pipeline,
        without MULTI: Redis runs them in the order sent, so each group's events keep their
        order.
        """
        client = self._blocking_client or self._connect_blocking()
        pipeline = client.pipeline(transaction=False)
        for group, message in items:
            pipeline.publish(self.group_channel(group), self.serialize(message))
        pipeline.execute()

    def _connect_blocking(self) -> redis.Redis:
        with self._blocking_lock:
            if self._blocking_client is None:
                self._blocking_client = redis.Redis.from_url(
                    self.address, socket_timeout=5, health_check_interval=30
                )
            return self._blocking_client

    def deserialize(self, message):
        entry = self._decoded.get(id(message))
        if entry is not None and entry[0] is message:
            return entry[1]
        decoded = super().deserialize(message)
        if len(self._decoded) >= self.decoded_cache_size:
            self._decoded.pop(next(iter(self._decoded)))
        self._decoded[id(message)] = (message, decoded)
        return decoded


class ReconnectionCountingConnection:
    """Mixed into the layer's redis-py connection class (``layer`` set per layer).

    A pub/sub registers a callback that subscribes again whenever its connection is
    established anew; the first connection is made before it registers. So a callback
    registered beside it, and run before it, sees exactly the subscriber's reconnections.
    """

    layer: SharedDecodingPubSubChannelLayer

    def register_connect_callback(self, callback):
        if isinstance(getattr(callback, "__self__", None), PubSub):
            super().register_connect_callback(self.count_subscriber_reconnection)
        super().register_connect_callback(callback)

    def count_subscriber_reconnection(self, connection) -> None:
        self.layer.subscriber_reconnected()
