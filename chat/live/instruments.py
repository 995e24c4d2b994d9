"""Live delivery's metrics: sockets open, events published and failed, delivery lag, 1012s.

The sockets' figures live in the socket process's own registry (jtchat/prometheus.py);
events are published mostly by gunicorn's workers, whose counters add up across workers.
"""

import time
from datetime import datetime

from channels.layers import get_channel_layer
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily

from jtchat import prometheus

from .layer_watch import subscriber_reconnections

SOCKETS_OPEN = prometheus.gauge("jtchat_live_sockets_open", "WebSockets open now, by kind.", ["kind"])
EVENTS_PUBLISHED = prometheus.counter(
    "jtchat_live_events_published", "Live events handed to the channel layer (Redis)."
)
EVENTS_FAILED = prometheus.counter(
    "jtchat_live_events_failed", "Live events the channel layer refused; clients catch up on reconnect."
)
DELIVERY_LAG = prometheus.histogram(
    "jtchat_live_delivery_lag_seconds",
    "A message's created_at to its frame sent on a socket (the server's part of delivery).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RECONNECT_REQUESTS = prometheus.counter(
    "jtchat_live_reconnect_requests",
    "Sockets closed with 1012 (reconnect and catch up: the layer lost events).",
)


def socket_kind(consumer) -> str:
    """``customer`` or ``agent``, from the consumer's class name."""
    return type(consumer).__name__.removesuffix("Consumer").lower() or "other"


def socket_opened(consumer) -> None:
    SOCKETS_OPEN.labels(socket_kind(consumer)).inc()


def socket_closed(consumer) -> None:
    SOCKETS_OPEN.labels(socket_kind(consumer)).dec()


def message_sent(payload: dict) -> None:
    """A message's frame just went out on a socket: how long after it was stored."""
    created_at = payload.get("created_at")
    if created_at:
        lag = time.time() - datetime.fromisoformat(created_at).timestamp()
        DELIVERY_LAG.observe(max(lag, 0.0))


class LayerCollector:
    """How often this process's Redis subscriber connection came back (chat/live/layers.py)."""

    def collect(self):
        yield CounterMetricFamily(
            "jtchat_live_redis_reconnections",
            "Times this process's Redis subscriber connection was re-established.",
            value=subscriber_reconnections(get_channel_layer()),
        )


if prometheus.enabled() and not prometheus.multiprocess_dir():
    REGISTRY.register(LayerCollector())  # the socket process (gunicorn's workers hold no sockets)
