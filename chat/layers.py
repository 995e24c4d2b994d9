"""The Redis channel layer used in production: channels-redis pub/sub, decoded once per process.

An agents' event reaches every agent socket of a process. The pub/sub layer hands each
socket the same received bytes but decodes them once per socket; here the last messages
decoded are kept by identity, so every socket gets the same dict and
``chat.consumers.SharedEncoding`` encodes it to JSON once as well. Consumers never modify
the events they receive.
"""

from channels_redis.pubsub import RedisPubSubChannelLayer


class SharedDecodingPubSubChannelLayer(RedisPubSubChannelLayer):
    decoded_cache_size = 64

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._decoded: dict[int, tuple[bytes, dict]] = {}

    def deserialize(self, message):
        entry = self._decoded.get(id(message))
        if entry is not None and entry[0] is message:
            return entry[1]
        decoded = super().deserialize(message)
        if len(self._decoded) >= self.decoded_cache_size:
            self._decoded.pop(next(iter(self._decoded)))
        self._decoded[id(message)] = (message, decoded)
        return decoded
