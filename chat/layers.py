"""The Redis channel layer used in production: channels-redis pub/sub, decoded once per process.

An agents' event reaches every agent socket of a process. The pub/sub layer hands each
socket the same received bytes but decodes them once per socket; here the last messages
decoded are kept by identity, so every socket gets the same dict and
``chat.consumers.SharedEncoding`` encodes it to JSON once as well. Consumers never modify
the events they receive.

Services announce from synchronous code (WSGI request threads): ``group_send_blocking``
publishes from the calling thread with a plain Redis client, instead of handing each event
to an event loop in another thread and waiting for it there.
"""

import threading

import redis
from channels_redis.pubsub import RedisPubSubChannelLayer
from channels_redis.utils import _consistent_hash, decode_hosts


class SharedDecodingPubSubChannelLayer(RedisPubSubChannelLayer):
    decoded_cache_size = 64

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._decoded: dict[int, tuple[bytes, dict]] = {}
        self._blocking_clients: list[redis.Redis] | None = None
        self._blocking_lock = threading.Lock()

    def group_send_blocking(self, group: str, message: dict) -> None:
        """``group_send`` for synchronous code: one PUBLISH on the calling thread.

        The channel is the one the async layer subscribes its group members to
        (``<prefix>__group__<group>``, on the host its consistent hash picks), and the
        payload is serialized by the layer itself; test_redis_layer.py proves that sockets
        receive what is published here.
        """
        channel = f"{self._kwargs.get('prefix', 'asgi')}__group__{group}"
        clients = self._blocking_clients or self._connect_blocking()
        client = clients[_consistent_hash(channel, len(clients))]
        client.publish(channel, self.serialize(message))

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
