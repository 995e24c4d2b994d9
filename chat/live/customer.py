"""The customer's socket (/ws/chat/): their own chat's events, and their place in the queue.

First frame ``{"type": "hello", "session_id": "<uuid>", "after": N}`` (the key never goes in
the URL); the server answers ``ready``, then every message after ``after``, then live events.
"""

import logging

from channels.db import database_sync_to_async

from chat import payloads, selectors, services
from chat.exceptions import InvalidInput, SessionNotFound
from chat.models import ChatSession

from . import instruments
from .base import CLOSE_BAD_HELLO, CLOSE_UNKNOWN_SESSION, LiveConsumer, TypingThrottle, is_cursor
from .events import QUEUE_GROUP, customer_typing_targets, send_ephemeral_event, session_group
from .heartbeat import process_presence

logger = logging.getLogger(__name__)
Status = ChatSession.Status
CATCH_UP_PAGE_SIZE = 500


def _customer_snapshot(session_pk: int, after: int) -> tuple[dict, int | None, dict, list[dict]]:
    """The chat's public state, its agent's id, its queue status and every message after the
    cursor."""
    session = selectors.session_for_staff(session_pk)
    queue = selectors.queue_status(session)
    messages: list[dict] = []
    cursor = after
    while True:
        page = [
            payloads.message(m)
            for m in selectors.messages_after(session=session, after=cursor, limit=CATCH_UP_PAGE_SIZE)
        ]
        messages.extend(page)
        if len(page) < CATCH_UP_PAGE_SIZE:
            break
        cursor = page[-1]["id"]
    return payloads.public_session(session), session.assigned_agent_id, queue, messages


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
        if not is_cursor(after):
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
        await process_presence().customer_connected(self.channel_name, session.pk)
        await database_sync_to_async(services.session_customer_seen)(session_pk=session.pk)

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.session_pk is not None and self.greeted:
            await process_presence().customer_disconnected(self.channel_name)
            try:
                await database_sync_to_async(services.session_customer_seen)(session_pk=self.session_pk)
            except Exception:  # best effort: the connect mark is there
                logger.warning("could not record a customer leaving", exc_info=True)

    async def chat_event(self, message: dict) -> None:
        event = message["event"]
        kind = event.get("type")
        if kind == "message":
            payload = event["message"]
            if payload.get("is_internal") or payload["id"] in self.caught_up_ids:
                return
            await self.send_json({"type": "message", "message": payload})
            instruments.message_sent(payload)
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
            queue = selectors.customer_queue(
                position=position,
                waiting_chats=len(waiting),
                service=event,
                wait_per_chat=event.get("wait_per_chat_seconds", selectors.DEFAULT_WAIT_PER_CHAT_SECONDS),
            )
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
