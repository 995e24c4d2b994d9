"""The Redis channel layer used in production: channels-redis pub/sub, decoded once per process.

An agents' event reaches every agent socket of a process. The pub/sub layer hands each
socket the same received bytes but decodes them once per socket; here the last messages
decoded are kept by identity, so every socket gets the same dict and
``chat.live.base.SharedEncoding`` encodes it to JSON once as well. Consumers never modify
the events they receive.

Services announce from synchronous code (WSGI request threads): ``group_send_blocking``
publishes from the calling thread with a plain Redis client, instead of handing each event
to an event loop in another thread and waiting for it there. One service call makes
several events (the customer's socket, the assigned agent, the transcript's watchers);
``group_send_many_blocking`` sends them all in one pipeline per Redis host, so they cost
the request one round trip instead of one per event (chat.live.events.publishing_batch).

Pub/sub keeps nothing for a subscriber that is away: whatever was published while the
process's subscriber connection was down (a Redis restart, a dropped connection) is gone,
and redis-py reconnects and subscribes again by itself. The layer counts those reconnections
(``subscriber_reconnections``) so that the sockets can ask their clients to reconnect and
catch up before any later event moves the clients' cursors past the gap (chat/live/base.py).
"""

import logging
import threading

import redis
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisSingleShardConnection
from channels_redis.utils import _consistent_hash, decode_hosts
from redis.asyncio.client import PubSub

logger = logging.getLogger(__name__)


class SharedDecodingPubSubChannelLayer(RedisPubSubChannelLayer):
    decoded_cache_size = 64

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._decoded: dict[int, tuple[bytes, dict]] = {}
        self._blocking_clients: list[redis.Redis] | None = None
        self._blocking_lock = threading.Lock()
        self.subscriber_reconnections = 0

    def _get_layer(self):
        """The event loop's pub/sub layer, its shards counting their reconnections."""
        layer = super()._get_layer()
        if not getattr(layer, "counts_reconnections", False):
            layer._shards = [ReconnectionCountingShard(shard.host, layer, self) for shard in layer._shards]
            layer.counts_reconnections = True
        return layer

    def subscriber_reconnected(self) -> None:
        self.subscriber_reconnections += 1
        logger.warning("Redis subscriber connection re-established; sockets reconnect and catch up")

    def group_send_blocking(self, group: str, message: dict) -> None:
        """``group_send`` for synchronous code: one PUBLISH on the calling thread."""
        self.group_send_many_blocking([(group, message)])

    def group_send_many_blocking(self, items: list[tuple[str, dict]]) -> None:
        """Publish (group, message) pairs from synchronous code: one round trip per host.

        Each channel is the one the async layer subscribes its group members to
        (``<prefix>__group__<group>``, on the host its consistent hash picks), and each
        payload is serialized by the layer itself; test_redis_layer.py proves that sockets
        receive what is published here. A host's PUBLISHes go in one pipeline, without
        MULTI: Redis runs them in the order sent, so each group's events keep their order.
        A host that fails does not keep the others' events from going out; the first
        failure is raised once every host has been tried.
        """
        prefix = self._kwargs.get("prefix", "asgi")
        clients = self._blocking_clients or self._connect_blocking()
        pipelines: dict[int, redis.client.Pipeline] = {}
        for group, message in items:
            channel = f"{prefix}__group__{group}"
            index = _consistent_hash(channel, len(clients))
            if index not in pipelines:
                pipelines[index] = clients[index].pipeline(transaction=False)
            pipelines[index].publish(channel, self.serialize(message))
        failure = None
        for pipeline in pipelines.values():
            try:
                pipeline.execute()
            except Exception as exc:  # raised below, once the other hosts had their turn
                failure = failure or exc
        if failure is not None:
            raise failure

    def _connect_blocking(self) -> list[redis.Redis]:
        with self._blocking_lock:
            if self._blocking_clients is None:
                hosts = decode_hosts(self._kwargs.get("hosts"))
                if any("address" not in host for host in hosts):
                    raise NotImplementedError("blocking publish needs Redis hosts given by address")
                self._blocking_clients = [
                    redis.Redis.from_url(host["address"], socket_timeout=5, health_check_interval=30)
                    for host in hosts
                ]
            return self._blocking_clients

    def deserialize(self, message):
        entry = self._decoded.get(id(message))
        if entry is not None and entry[0] is message:
            return entry[1]
        decoded = super().deserialize(message)
        if len(self._decoded) >= self.decoded_cache_size:
            self._decoded.pop(next(iter(self._decoded)))
        self._decoded[id(message)] = (message, decoded)
        return decoded


class ReconnectionCountingPubSub(PubSub):
    """redis-py calls ``on_connect`` when the subscriber connection comes back (the first
    connection is made before it is registered): count it, then subscribe again."""

    def __init__(self, *args, channel_layer: SharedDecodingPubSubChannelLayer, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel_layer = channel_layer

    async def on_connect(self, connection):
        self.channel_layer.subscriber_reconnected()
        await super().on_connect(connection)


class ReconnectionCountingShard(RedisSingleShardConnection):
    def __init__(self, host, loop_layer, channel_layer: SharedDecodingPubSubChannelLayer):
        super().__init__(host, loop_layer)
        self.counting_layer = channel_layer

    def _ensure_redis(self):
        if self._redis is None:
            super()._ensure_redis()
            self._pubsub = ReconnectionCountingPubSub(
                self._redis.connection_pool, channel_layer=self.counting_layer
            )
