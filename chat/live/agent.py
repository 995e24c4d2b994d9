"""The agents' socket (/ws/agents/): the waiting queue, status and assignment changes of
every chat, everything about the agent's own chats and the transcripts they watch
(``{"type": "watch", "session_id": pk}``, answered by ``watching``; ``unwatch`` stops).
"""

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from chat import policy, selectors
from chat.exceptions import SessionNotFound
from chat.models import ChatSession

from . import instruments
from .base import CLOSE_FORBIDDEN, LiveConsumer, TypingThrottle, is_cursor, shared_encoding
from .events import AGENTS_GROUP, agent_group, send_ephemeral_event, session_group, watchers_group
from .heartbeat import process_presence
from .tickets import agent_from_ticket

Status = ChatSession.Status
MAX_TRACKED_TYPING_CHATS = 50
MAX_WATCHED_CHATS = 20


def _access(user) -> tuple[object | None, bool]:
    """The user as stored now, if they may open the agent socket (the policy's "view
    chats"), and whether they may reply; (None, False) otherwise."""
    if user is None or not user.is_authenticated:
        return None, False
    fresh = get_user_model().objects.filter(pk=user.pk).first()
    if fresh is None or not policy.can(fresh, policy.VIEW_CHATS):
        return None, False
    return fresh, policy.can(fresh, policy.REPLY)


def _chat_exists(session_pk: int) -> bool:
    return ChatSession.objects.filter(pk=session_pk).exists()


def _agent_may_type_in(agent, session_pk: int) -> bool:
    try:
        session = selectors.session_for_staff(session_pk)
    except SessionNotFound:
        return False
    return session.status != Status.ENDED and session.assigned_agent_id in (None, agent.pk)


class AgentConsumer(LiveConsumer):
    """An agent's socket: the waiting queue, status and assignment changes of every chat,
    everything about the agent's own chats and the transcripts they watch.

    Only staff whom the access policy lets view chats get in (4403 otherwise), and they are
    asked again whenever their access narrows (an ``access`` event from the users service)
    and every time the socket re-joins its groups: a deactivated agent's sockets close 4403.

    Groups: ``agents`` (every agent), ``agent.<pk>`` (this agent's sockets) and
    ``session.<pk>.agents`` per watched transcript; services pick the groups (chat/live/events.py).
    """

    agent = None
    agent_can_reply = False

    async def hello(self, content: dict) -> None:
        ticket = content.get("ticket")
        if ticket is not None:
            user = await database_sync_to_async(agent_from_ticket)(ticket)
        else:
            user = self.scope.get("user")
        agent, self.agent_can_reply = await database_sync_to_async(_access)(user)
        if agent is None:
            await self.close(CLOSE_FORBIDDEN)
            return
        self.agent = agent
        self.typing_throttles: dict[int, TypingThrottle] = {}
        self.watched: set[int] = set()
        await self.join(AGENTS_GROUP)
        await self.join(agent_group(agent.pk))
        # Online while this socket is open (chat/live/presence.py): available to customers if
        # they may reply, accept chats and are under their maximum. Before "ready", so that
        # the page's next frames (watch) are not kept waiting behind it.
        await process_presence().agent_connected(self.channel_name, agent.pk)
        await self.send_json({"type": "ready"})
        await self.start_live()

    async def disconnect(self, code):
        await super().disconnect(code)
        await process_presence().agent_disconnected(self.channel_name)

    async def check_access(self) -> bool:
        """Ask the policy again; close 4403 when the socket's person may no longer use it."""
        agent, self.agent_can_reply = await database_sync_to_async(_access)(self.agent)
        if agent is None:
            await self.close(CLOSE_FORBIDDEN)
            return False
        self.agent = agent
        return True

    async def refresh_groups(self) -> None:
        if self.agent is not None and not await self.check_access():
            return
        await super().refresh_groups()

    async def chat_event(self, message: dict) -> None:
        event = message["event"]
        kind = event.get("type")
        if kind in ("message", "session", "typing", "counts", "read"):
            await self.send(text_data=shared_encoding.text(event))
            if kind == "message":
                instruments.message_sent(event["message"])
        elif kind == "access":
            await self.check_access()

    async def chat_watched_event(self, message: dict) -> None:
        """A watched transcript's event; its assigned agent has it from their own group."""
        if message["event"].get("assigned_agent") == self.agent.pk:
            return
        await self.chat_event(message)

    async def command(self, kind, content: dict) -> None:
        session_pk = content.get("session_id")
        if kind not in ("watch", "unwatch") or not (is_cursor(session_pk) and session_pk > 0):
            return
        if kind == "unwatch":
            self.watched.discard(session_pk)
            await self.leave(watchers_group(session_pk))
            return
        if session_pk not in self.watched:
            if not await database_sync_to_async(_chat_exists)(session_pk):
                await self.send_json({"type": "error", "code": "session_not_found", "session_id": session_pk})
                return
            if len(self.watched) >= MAX_WATCHED_CHATS:
                return
            await self.join(watchers_group(session_pk))
            self.watched.add(session_pk)
        # From here on the transcript's events arrive: the page catches up from its last id.
        await self.send_json({"type": "watching", "session_id": session_pk})

    async def typing(self, content: dict) -> None:
        session_pk = content.get("session_id")
        typing = content.get("typing")
        valid = is_cursor(session_pk) and session_pk > 0 and isinstance(typing, bool)
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
