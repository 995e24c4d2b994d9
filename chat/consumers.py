"""Live delivery over WebSockets: customers at /ws/chat/, agents at /ws/agents/.

Sending is over REST; the sockets only push what services announced after commit
(chat/events.py), plus typing, which is ephemeral. The protocol is in the README ("Live
delivery"): the first frame is ``{"type": "hello", ...}``; the server answers ``ready``,
then (customers) every message after the client's ``after`` cursor, then live events.

Agent sockets get what concerns them (chat/events.py): every change of the waiting queue and
every status or assignment change, everything about their own chats, and everything about a
transcript they watch (``{"type": "watch", "session_id": pk}``, answered by ``watching``;
``unwatch`` stops).

Close codes: 4400 missing or malformed first frame (or none within 10 s), 4403 agent
socket refused, 4404 unknown chat, 1012 reconnect (the channel layer lost its state or
events; the client reconnects and catches up).
"""

import asyncio
import json
import logging
import random
import time
import uuid
import weakref

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings

from . import selectors, services
from .events import (
    AGENTS_GROUP,
    QUEUE_GROUP,
    agent_group,
    customer_typing_targets,
    send_ephemeral_event,
    session_group,
    watchers_group,
)
from .exceptions import InvalidInput, SessionNotFound
from .models import ChatSession
from .serializers import message_payload, public_session_payload
from .tickets import agent_from_ticket

logger = logging.getLogger(__name__)

Status = ChatSession.Status

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
CATCH_UP_PAGE_SIZE = 500
MAX_TRACKED_TYPING_CHATS = 50
MAX_WATCHED_CHATS = 20
VIEW_PERMISSIONS = ("chat.view_chatsession", "chat.change_chatsession")  # as the admin's view


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
        if self.checking or (self.checked_at is not None and now - self.checked_at < REJOIN_SECONDS / 2):
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
    """How often the layer's Redis subscriber connection came back (chat/layers.py): each
    time, whatever was published meanwhile never arrived."""
    return getattr(layer, "subscriber_reconnections", 0)


def _layer_redis_url(alias: str) -> str | None:
    config = settings.CHANNEL_LAYERS.get(alias, {})
    if not config.get("BACKEND", "").startswith(("channels_redis.", "chat.layers.")):
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


class SharedEncoding:
    """One JSON text per event per process.

    An agents' event goes to every agent socket of the process as the same dict (see
    chat/layers.py): encode it once, not once per socket. Entries hold the event itself, so an id is
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
    rejoin_seconds = REJOIN_SECONDS

    async def __call__(self, scope, receive, send):
        """AsyncConsumer.__call__, with a channel-layer receive that survives a Redis hiccup.

        Channels lets an error from the layer's receive end the consumer, so one Redis
        timeout under load would drop every socket of the process at once. Here the receive
        is retried with back-off; Redis losing its data is handled by ``refresh_groups``.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.base_send = send
        try:
            await await_many_dispatch([receive, self._receive_from_layer], self.dispatch)
        except StopConsumer:
            pass

    async def _receive_from_layer(self) -> dict:
        delay = 0.1
        while True:
            try:
                return await self.channel_layer.receive(self.channel_name)
            except Exception:
                logger.warning("channel layer receive failed; retrying in %.1fs", delay, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def connect(self):
        self.greeted = False
        self.joined: set[str] = set()
        self.layer_generation: int | None = None
        self.layer_reconnections = subscriber_reconnections(self.channel_layer)
        self.reconnect_asked = False
        self.background: list[asyncio.Task] = []
        await self.accept()
        self.background.append(asyncio.ensure_future(self._close_without_hello()))

    async def dispatch(self, message):
        """Dispatch without Channels' per-message ``aclose_old_connections()``.

        That call hops to the sync thread for every event, and an agents' event reaches
        every agent socket; here every database access already goes through
        ``database_sync_to_async``, which closes stale connections itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
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
        if kind == "ping":
            await self.refresh_groups()
            await self.send_json({"type": "pong"})
        elif kind == "typing":
            await self.typing(content)
        else:
            await self.command(kind, content)

    async def disconnect(self, code):
        for task in self.background:
            task.cancel()
        for group in list(self.joined):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # the group entry expires by itself
                logger.debug("group_discard failed", exc_info=True)
        self.joined.clear()

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


def _is_cursor(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def _customer_snapshot(session_pk: int, after: int) -> tuple[dict, int | None, dict, list[dict]]:
    """The chat's public state, its agent's id, its queue status and every message after the
    cursor."""
    session = selectors.session_for_staff(session_pk)
    queue = selectors.queue_status(session)
    messages: list[dict] = []
    cursor = after
    while True:
        page = [
            message_payload(m)
            for m in selectors.messages_after(session=session, after=cursor, limit=CATCH_UP_PAGE_SIZE)
        ]
        messages.extend(page)
        if len(page) < CATCH_UP_PAGE_SIZE:
            break
        cursor = page[-1]["id"]
    return public_session_payload(session), session.assigned_agent_id, queue, messages


def _customer_queue_status(session_pk: int) -> dict:
    return selectors.queue_status(selectors.session_for_staff(session_pk))


class CustomerConsumer(LiveConsumer):
    """A customer's socket: their own chat's events, and their place in the queue."""

    session_pk: int | None = None
    status: str | None = None
    assigned_agent_id: int | None = None
    caught_up_ids: set[int] | frozenset[int] = frozenset()

    async def hello(self, content: dict) -> None:
        after = content.get("after", 0)
        if not _is_cursor(after):
            await self.close(CLOSE_BAD_HELLO)
            return
        try:
            session = await database_sync_to_async(selectors.customer_session)(content.get("session_id"))
        except InvalidInput:
            await self.close(CLOSE_BAD_HELLO)
            return
        except SessionNotFound:
            await self.close(CLOSE_UNKNOWN_SESSION)
            return
        self.session_pk = session.pk
        # Join before reading: whatever commits from now on arrives live, whatever
        # committed before is in the snapshot; a message in both is sent once.
        await self.join(session_group(session.pk))
        if session.status == Status.WAITING:
            await self.join(QUEUE_GROUP)
        snapshot = await database_sync_to_async(_customer_snapshot)(session.pk, after)
        public, self.assigned_agent_id, queue, messages = snapshot
        self.status = public["status"]
        if self.status != Status.WAITING:
            await self.leave(QUEUE_GROUP)
        self.caught_up_ids = {message["id"] for message in messages}
        await self.send_json({"type": "ready", "session": public, "queue": queue})
        for message in messages:
            await self.send_json({"type": "message", "message": message})
        await self.start_live()

    async def chat_event(self, message: dict) -> None:
        event = message["event"]
        kind = event.get("type")
        if kind == "message":
            payload = event["message"]
            if payload.get("is_internal") or payload["id"] in self.caught_up_ids:
                return
            await self.send_json({"type": "message", "message": payload})
        elif kind == "session":
            self.status = event["session"].get("status", self.status)
            self.assigned_agent_id = event.get("assigned_agent", self.assigned_agent_id)
            if self.status != Status.WAITING:
                await self.leave(QUEUE_GROUP)
            await self.send_json({"type": "session", "session": event["session"]})
        elif kind == "queue":
            await self._send_queue(event)
        elif kind == "typing" and event.get("author") == "agent":
            await self.send_json(
                {"type": "typing", "author": "agent", "name": event.get("name"), "typing": event["typing"]}
            )

    async def _send_queue(self, event: dict) -> None:
        """Turn the queue snapshot into this customer's own position; never forward the ids."""
        if self.status != Status.WAITING:
            return
        waiting = event.get("waiting") or []
        try:
            position = waiting.index(self.session_pk) + 1
        except ValueError:
            position = 0
        if position == 0 and len(waiting) >= selectors.QUEUE_SNAPSHOT_LIMIT:
            queue = await database_sync_to_async(_customer_queue_status)(self.session_pk)
        else:
            agents = event.get("agents_available", 0)
            per_chat = event.get("wait_per_chat_seconds", selectors.DEFAULT_WAIT_PER_CHAT_SECONDS)
            queue = {
                "position": position,
                "estimated_wait_seconds": selectors.estimate_wait_seconds(position, agents, per_chat),
                "agents_available": agents,
                "waiting_chats": len(waiting),
            }
        await self.send_json({"type": "queue", **queue})

    async def typing(self, content: dict) -> None:
        typing = content.get("typing")
        if self.session_pk is None or not isinstance(typing, bool) or self.status == Status.ENDED:
            return
        if not hasattr(self, "typing_throttle"):
            self.typing_throttle = TypingThrottle()
        if not self.typing_throttle.allow(typing):
            return
        event = {
            "type": "typing",
            "session_id": self.session_pk,
            "author": "customer",
            "typing": typing,
            "assigned_agent": self.assigned_agent_id,
            "status": self.status,
        }
        for group, message_type in customer_typing_targets(
            session_pk=self.session_pk, assigned_agent_id=self.assigned_agent_id
        ):
            await send_ephemeral_event(group, event, message_type)


def _agent_permissions(agent) -> tuple[bool, bool]:
    """May the agent reply to chats; may they read transcripts (the admin's view permission)."""
    return services.can_reply(agent), any(agent.has_perm(permission) for permission in VIEW_PERMISSIONS)


def _agent_may_type_in(agent, session_pk: int) -> bool:
    try:
        session = selectors.session_for_staff(session_pk)
    except SessionNotFound:
        return False
    return session.status != Status.ENDED and session.assigned_agent_id in (None, agent.pk)


class AgentConsumer(LiveConsumer):
    """An agent's socket: the waiting queue, status and assignment changes of every chat,
    everything about the agent's own chats and the transcripts they watch.

    Groups: ``agents`` (every agent), ``agent.<pk>`` (this agent's sockets) and
    ``session.<pk>.agents`` per watched transcript; services pick the groups (chat/events.py).
    """

    agent = None
    agent_can_reply = False
    agent_can_view = False

    async def hello(self, content: dict) -> None:
        ticket = content.get("ticket")
        if ticket is not None:
            agent = await database_sync_to_async(agent_from_ticket)(ticket)
        else:
            user = self.scope.get("user")
            signed_in = bool(user and user.is_authenticated and user.is_active and user.is_staff)
            agent = user if signed_in else None
        if agent is None:
            await self.close(CLOSE_FORBIDDEN)
            return
        self.agent = agent
        self.agent_can_reply, self.agent_can_view = await database_sync_to_async(_agent_permissions)(agent)
        self.typing_throttles: dict[int, TypingThrottle] = {}
        self.watched: set[int] = set()
        await self.join(AGENTS_GROUP)
        await self.join(agent_group(agent.pk))
        await self.send_json({"type": "ready"})
        await self.start_live()

    async def chat_event(self, message: dict) -> None:
        event = message["event"]
        if event.get("type") in ("message", "session", "typing"):
            await self.send(text_data=shared_encoding.text(event))

    async def chat_watched_event(self, message: dict) -> None:
        """A watched transcript's event; its assigned agent has it from their own group."""
        if message["event"].get("assigned_agent") == self.agent.pk:
            return
        await self.chat_event(message)

    async def command(self, kind, content: dict) -> None:
        session_pk = content.get("session_id")
        if kind not in ("watch", "unwatch") or not (_is_cursor(session_pk) and session_pk > 0):
            return
        if kind == "unwatch":
            self.watched.discard(session_pk)
            await self.leave(watchers_group(session_pk))
            return
        if not self.agent_can_view:
            return
        if session_pk not in self.watched:
            if len(self.watched) >= MAX_WATCHED_CHATS:
                return
            await self.join(watchers_group(session_pk))
            self.watched.add(session_pk)
        # From here on the transcript's events arrive: the page catches up from its last id.
        await self.send_json({"type": "watching", "session_id": session_pk})

    async def typing(self, content: dict) -> None:
        session_pk = content.get("session_id")
        typing = content.get("typing")
        valid = _is_cursor(session_pk) and session_pk > 0 and isinstance(typing, bool)
        if not (valid and self.agent_can_reply):
            return
        throttle = self.typing_throttles.get(session_pk)
        if throttle is None:
            if len(self.typing_throttles) >= MAX_TRACKED_TYPING_CHATS:
                self.typing_throttles.clear()
            throttle = self.typing_throttles[session_pk] = TypingThrottle()
        if not throttle.allow(typing):
            return
        if typing and not await database_sync_to_async(_agent_may_type_in)(self.agent, session_pk):
            throttle.typing = False
            return
        await send_ephemeral_event(
            session_group(session_pk),
            {"type": "typing", "author": "agent", "name": self.agent.public_name, "typing": typing},
        )
