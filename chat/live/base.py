"""What both sockets share: the first-frame handshake, group upkeep, ping and typing.

Sending is over REST; the sockets only push what services announced after commit
(chat/live/events.py), plus typing, which is ephemeral. The protocol is in the README
("Live delivery"): the first frame is ``{"type": "hello", ...}``; the server answers
``ready``, then live events. The customer's socket is chat/live/customer.py, the agents'
chat/live/agent.py.

Close codes: 4400 missing or malformed first frame (or none within 10 s), 4403 agent
socket refused, 4404 unknown chat, 1012 reconnect (the channel layer lost its state or
events; the client reconnects and catches up).
"""

import asyncio
import json
import logging
import random
import time

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import instruments
from .layer_watch import LayerWatch, layer_watch, subscriber_reconnections

logger = logging.getLogger(__name__)

CLOSE_BAD_HELLO = 4400
CLOSE_FORBIDDEN = 4403
CLOSE_UNKNOWN_SESSION = 4404
CLOSE_RECONNECT = 1012  # "service restart": reconnect, then catch up

HELLO_TIMEOUT_SECONDS = 10
# Sockets re-join their groups this often (and on every ping), and check that Redis kept its
# data (see LayerWatch): group membership must never be lost silently.
REJOIN_SECONDS = 30
TYPING_REPEAT_SECONDS = 3.0
TYPING_MIN_GAP_SECONDS = 0.5


class TypingThrottle:
    """Lets a change of state through, and a repeated "still typing" at most every few seconds.

    Typing is never stored; the throttle keeps a chatty client from flooding the layer.
    """

    def __init__(self):
        self.typing = False
        self.started_at = float("-inf")

    def allow(self, typing: bool, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if not typing:
            if not self.typing:
                return False
            self.typing = False
            return True
        gap = TYPING_REPEAT_SECONDS if self.typing else TYPING_MIN_GAP_SECONDS
        if now - self.started_at < gap:
            return False
        self.typing = True
        self.started_at = now
        return True


class SharedEncoding:
    """One JSON text per event per process.

    An agents' event goes to every agent socket of the process as the same dict (see
    chat/live/layers.py): encode it once, not once per socket. Entries hold the event itself, so an id is
    never mistaken for a later object's.
    """

    def __init__(self, size: int = 256):
        self.size = size
        self.entries: dict[int, tuple[dict, str]] = {}

    def text(self, event: dict) -> str:
        entry = self.entries.get(id(event))
        if entry is not None and entry[0] is event:
            return entry[1]
        text = json.dumps(event)
        if len(self.entries) >= self.size:
            self.entries.pop(next(iter(self.entries)))
        self.entries[id(event)] = (event, text)
        return text


shared_encoding = SharedEncoding()


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """What both sockets share: the first-frame handshake, group upkeep, ping and typing."""

    hello_timeout = HELLO_TIMEOUT_SECONDS
    closing = False
    rejoin_seconds = REJOIN_SECONDS

    async def connect(self):
        self.greeted = False
        self.joined: set[str] = set()
        self.layer_generation: int | None = None
        self.layer_reconnections = subscriber_reconnections(self.channel_layer)
        self.reconnect_asked = False
        self.closing = False
        self.background: list[asyncio.Task] = []
        await self.accept()
        instruments.socket_opened(self)
        self.counted_open = True
        self.background.append(asyncio.ensure_future(self._close_without_hello()))

    async def dispatch(self, message):
        """Channels' ``AsyncConsumer.dispatch``, without its per-message ``aclose_old_connections()``.

        That call hops to the sync thread for every event, one socket after another, and an
        agents' event reaches every agent socket of the process: bench/dispatch_bench.py
        measures what the hop costs (README, "Private internals"). Every database access
        here already goes through ``database_sync_to_async``, which closes stale connections
        itself. chat/tests/test_consumers.py fails if Channels' dispatch changes what it does.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        if message["type"].startswith("chat.") and self.closing:
            return  # closed by the server: nothing more goes out
        if message["type"].startswith("chat.") and self.layer_lost_events():
            # Events published while the layer's subscriber was away are gone: deliver
            # nothing after the gap, or the client's cursor would move past it.
            await self.ask_to_reconnect()
            return
        await handler(message)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if not isinstance(content, dict):
            if not self.greeted:
                await self.close(CLOSE_BAD_HELLO)
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if not self.greeted:
            if kind != "hello":
                await self.close(CLOSE_BAD_HELLO)
                return
            self.greeted = True
            await self.hello(content)
            return
        if self.closing:
            return
        if kind == "ping":
            await self.refresh_groups()
            if not self.closing:
                await self.send_json({"type": "pong"})
        elif kind == "typing":
            await self.typing(content)
        else:
            await self.command(kind, content)

    async def disconnect(self, code):
        if getattr(self, "counted_open", False):
            self.counted_open = False
            instruments.socket_closed(self)
        for task in self.background:
            task.cancel()
        for group in list(self.joined):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # the group entry expires by itself
                logger.debug("group_discard failed", exc_info=True)
        self.joined.clear()

    async def close(self, code=None, reason=None):
        self.closing = True
        await super().close(code, reason)

    async def hello(self, content: dict) -> None:
        raise NotImplementedError

    async def typing(self, content: dict) -> None:
        raise NotImplementedError

    async def command(self, kind, content: dict) -> None:
        """Any other client frame; unknown ones are ignored."""

    # --- groups ------------------------------------------------------------------------

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.add(group)

    async def leave(self, group: str) -> None:
        if group in self.joined:
            self.joined.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    def _layer_watch(self) -> LayerWatch:
        return layer_watch(self.channel_layer, self.channel_layer_alias)

    async def start_live(self) -> None:
        """After ``ready``: remember the layer's generation and keep the groups joined."""
        self.layer_generation = await self._layer_watch().current_generation()
        self.background.append(asyncio.ensure_future(self._keep_groups()))

    def layer_lost_events(self) -> bool:
        return subscriber_reconnections(self.channel_layer) != self.layer_reconnections

    async def ask_to_reconnect(self) -> None:
        """Close with 1012 (once): the client reconnects and catches up from its cursor."""
        if not self.reconnect_asked:
            self.reconnect_asked = True
            instruments.RECONNECT_REQUESTS.inc()
            await self.close(CLOSE_RECONNECT)

    async def refresh_groups(self) -> None:
        """Re-add this socket to its groups; ask the client to reconnect if Redis lost data
        or the layer lost events."""
        if self.layer_generation is None:
            return
        if self.layer_lost_events():
            await self.ask_to_reconnect()
            return
        try:
            generation = await self._layer_watch().current_generation()
            if generation != self.layer_generation:
                await self.ask_to_reconnect()
                return
            for group in list(self.joined):
                await self.channel_layer.group_add(group, self.channel_name)
        except Exception:
            logger.warning("channel layer unreachable; retrying in %ss", self.rejoin_seconds, exc_info=True)

    async def _keep_groups(self) -> None:
        while True:
            # Jitter, so that sockets opened together do not all re-join at the same moment.
            await asyncio.sleep(self.rejoin_seconds * random.uniform(0.8, 1.2))
            await self.refresh_groups()

    async def _close_without_hello(self) -> None:
        await asyncio.sleep(self.hello_timeout)
        if not self.greeted:
            await self.close(CLOSE_BAD_HELLO)


def is_cursor(value) -> bool:
    """A message or chat id as a client may send it: a non-negative 64-bit integer."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63
