"""Live events: the one place that announces a stored change to the sockets.

Only services call :func:`send_event_on_commit` and :func:`send_agent_event_on_commit`. The
event is JSON-checked where it is made, and handed to the channel layer after the
surrounding transaction commits, so that nothing is announced that was not stored (and a
rolled-back write announces nothing).

Agents' events go only where they matter: a change every inbox shows (a chat opened,
claimed, transferred or ended, anything about a waiting chat) to every agent socket; the
rest of an assigned chat (its messages, its per-message inbox refresh, a rating, customer
typing) to the assigned agent's sockets and to the sockets watching its transcript. So a
message costs a few frames, not one per connected agent.

Those few frames should not cost the request a few trips to Redis either. A service call
runs inside :func:`publishing_batch`: the events its commit announces are kept until the
call ends, and then sent together, in one round trip on the production layer
(``group_send_many_blocking``, chat/live/layers.py). Events announced after the batch ended (a
commit of an outer transaction that was still open) are sent one by one, as without it.
"""

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from .instruments import EVENTS_FAILED, EVENTS_PUBLISHED

logger = logging.getLogger(__name__)

AGENTS_GROUP = "agents"
QUEUE_GROUP = "queue"
EVENT = "chat.event"
# The copy of an event sent to a transcript's watchers: the chat's assigned agent has the
# same event from their own group, so their sockets drop this one (no duplicates).
WATCHED_EVENT = "chat.watched_event"


def session_group(session_pk: int) -> str:
    """The customer's socket of one chat."""
    return f"session.{session_pk}"


def agent_group(agent_pk: int) -> str:
    """Every socket of one agent."""
    return f"agent.{agent_pk}"


def watchers_group(session_pk: int) -> str:
    """Agent sockets that have the chat's transcript open (``watch`` frame)."""
    return f"session.{session_pk}.agents"


def agent_targets(*, session_pk: int, assigned_agent_id: int | None, everyone: bool) -> list[tuple[str, str]]:
    """(group, layer message type) pairs an agents' event about one chat goes to."""
    if everyone or assigned_agent_id is None:
        return [(AGENTS_GROUP, EVENT)]
    return [(agent_group(assigned_agent_id), EVENT), (watchers_group(session_pk), WATCHED_EVENT)]


def customer_typing_targets(*, session_pk: int, assigned_agent_id: int | None) -> list[tuple[str, str]]:
    """Customer typing: the assigned agent and the transcript's watchers (no inbox shows it)."""
    targets = [(watchers_group(session_pk), WATCHED_EVENT)]
    if assigned_agent_id is not None:
        targets.insert(0, (agent_group(assigned_agent_id), EVENT))
    return targets


def send_event_on_commit(group: str, event: dict) -> None:
    """Send ``event`` (a JSON-able dict with a ``type``) to ``group`` after commit."""
    payload = json.loads(json.dumps(event))  # fail here, where a bad payload is made
    transaction.on_commit(lambda: _publish(group, payload))


def send_agent_event_on_commit(
    event: dict, *, session_pk: int, assigned_agent_id: int | None, everyone: bool
) -> None:
    """Send an agents' event about one chat after commit (groups: :func:`agent_targets`).

    ``everyone``: a change every inbox shows. Otherwise the event is activity in the chat,
    and goes to every agent only while the chat has no agent (the waiting queue).
    """
    payload = json.loads(json.dumps(event))
    targets = agent_targets(session_pk=session_pk, assigned_agent_id=assigned_agent_id, everyone=everyone)
    for group, message_type in targets:
        _publish_on_commit(group, payload, message_type)


def _publish_on_commit(group: str, payload: dict, message_type: str) -> None:
    transaction.on_commit(lambda: _publish(group, payload, message_type))


async def send_ephemeral_event(group: str, event: dict, message_type: str = EVENT) -> None:
    """Send a short-lived event (typing) to ``group`` now.

    Nothing is stored for it, so there is no commit to wait for; only consumers call this.
    A failure is logged and dropped: the next typing frame says the same thing again.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(group, {"type": message_type, "event": event})
    except Exception:
        EVENTS_FAILED.inc()
        logger.warning("ephemeral event to %s not delivered", group, exc_info=True)
    else:
        EVENTS_PUBLISHED.inc()


_batch = threading.local()  # .events: the (group, message) pairs kept by publishing_batch


@contextmanager
def publishing_batch() -> Iterator[None]:
    """Keep this thread's committed events while the block runs, then send them together.

    Wrap a service call (``with publishing_batch():`` or ``@publishing_batch()``): its
    events go out when it ends, in one round trip to Redis instead of one per event, in the
    order they were announced. A batch inside a batch joins the outer one, which sends
    everything at its end. Events are sent even when the block raises (a commit before the
    failure did store what they announce), and the exception goes on; a failed send is
    logged, never raised, like any failed announcement.
    """
    if getattr(_batch, "events", None) is not None:
        yield
        return
    _batch.events = []
    try:
        yield
    finally:
        kept, _batch.events = _batch.events, None
        if kept:
            _send(kept)


def _publish(group: str, payload: dict, message_type: str = EVENT) -> None:
    message = {"type": message_type, "event": payload}
    kept = getattr(_batch, "events", None)
    if kept is not None:
        kept.append((group, message))
    else:
        _send([(group, message)])


def _send(items: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if hasattr(layer, "group_send_many_blocking"):
        # The production layer (chat/live/layers.py): PUBLISH from this thread, no loop hop, and
        # every event of the batch in one round trip.
        try:
            layer.group_send_many_blocking(items)
        except Exception:  # a failed announcement must not fail the stored write
            EVENTS_FAILED.inc(len(items))
            groups = ", ".join(dict.fromkeys(group for group, _ in items))
            logger.exception("live event to %s not delivered; clients catch up on reconnect", groups)
        else:
            EVENTS_PUBLISHED.inc(len(items))
        return
    for group, message in items:
        try:
            if isinstance(layer, InMemoryChannelLayer):
                # The in-memory layer lives on the server's event loop: run there.
                async_to_sync(layer.group_send)(group, message)
            else:
                _background_loop().run(layer.group_send(group, message))
        except Exception:  # a failed announcement must not fail the stored write
            EVENTS_FAILED.inc()
            logger.exception("live event to %s not delivered; clients catch up on reconnect", group)
        else:
            EVENTS_PUBLISHED.inc()


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
