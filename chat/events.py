"""Live events: the one place that announces a stored change to the sockets.

Only services call :func:`send_event_on_commit`. The event is JSON-checked where it is
made, and handed to the channel layer after the surrounding transaction commits, so that
nothing is announced that was not stored (and a rolled-back write announces nothing).
"""

import asyncio
import json
import logging
import threading

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

AGENTS_GROUP = "agents"
QUEUE_GROUP = "queue"


def session_group(session_pk: int) -> str:
    return f"session.{session_pk}"


def send_event_on_commit(group: str, event: dict) -> None:
    """Send ``event`` (a JSON-able dict with a ``type``) to ``group`` after commit."""
    payload = json.loads(json.dumps(event))  # fail here, where a bad payload is made
    transaction.on_commit(lambda: _publish(group, payload))


async def send_ephemeral_event(group: str, event: dict) -> None:
    """Send a short-lived event (typing) to ``group`` now.

    Nothing is stored for it, so there is no commit to wait for; only consumers call this.
    A failure is logged and dropped: the next typing frame says the same thing again.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(group, {"type": "chat.event", "event": event})
    except Exception:
        logger.warning("ephemeral event to %s not delivered", group, exc_info=True)


def _publish(group: str, payload: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "chat.event", "event": payload}
    try:
        if isinstance(layer, InMemoryChannelLayer):
            # The in-memory layer lives on the server's event loop: run there.
            async_to_sync(layer.group_send)(group, message)
        else:
            _background_loop().run(layer.group_send(group, message))
    except Exception:  # a failed announcement must not fail the stored write
        logger.exception("live event to %s not delivered; clients catch up on reconnect", group)


class _LoopThread:
    """One event loop per process for publishing from sync (WSGI) code.

    channels-redis keeps a connection pool per event loop; ``async_to_sync`` would make a
    new loop (and new Redis connections) per call, which costs a WSGI worker more than the
    request itself. A single long-lived loop keeps the connections warm.
    """

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="chat-events", daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 5.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


_loop_thread: _LoopThread | None = None
_loop_lock = threading.Lock()


def _background_loop() -> _LoopThread:
    global _loop_thread
    with _loop_lock:
        if _loop_thread is None or not _loop_thread.thread.is_alive():
            _loop_thread = _LoopThread()
        return _loop_thread
