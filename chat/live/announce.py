"""What services announce when a chat changes: which event, in which shape, to whom.

Services call these inside their transaction; every event leaves after commit
(chat/live/events.py), so nothing is announced that was not stored.
"""

from django.db import transaction
from django.utils import timezone

from chat import payloads, selectors
from chat.models import ChatMessage, ChatSession

from .events import (
    AGENTS_GROUP,
    QUEUE_GROUP,
    agent_group,
    send_agent_event_on_commit,
    send_event_on_commit,
    session_group,
)


def message(session: ChatSession, message: ChatMessage) -> dict:
    """A new message to the chat's customer (never an internal note) and its agents; returns
    the payload, which the sender's answer repeats."""
    payload = payloads.message(message)
    if not message.is_internal:
        send_event_on_commit(session_group(session.pk), {"type": "message", "message": payload})
    to_agents(session, {"type": "message", "message": payload}, change=False)
    return payload


def session(session: ChatSession, *, change: bool = True) -> None:
    """The chat's state to its customer and agents. ``change``: status or assignment
    changed; otherwise activity (a rating)."""
    send_event_on_commit(
        session_group(session.pk),
        # assigned_agent: for the customer's socket (where its typing goes), never forwarded.
        {
            "type": "session",
            "session": payloads.public_session(session),
            "assigned_agent": session.assigned_agent_id,
        },
    )
    event = {"type": "session", "session": payloads.agent_session(session)}
    if not change:
        event["activity"] = True
    to_agents(session, event, change=change)
    if change:
        inbox_counts()


def new_session(session: ChatSession) -> None:
    """A chat just opened: every inbox shows it."""
    to_agents(
        session, {"type": "session", "session": payloads.agent_session(session), "new": True}, change=True
    )
    inbox_counts()


def inbox_counts() -> None:
    """After commit, the open chats per status to every agent (tab counts, the tab title):
    ``{"type": "counts", "waiting": n, "active": n, "open": n, "as_of": iso}``.

    Counted after the commit, so a count never misses the change it follows; ``as_of`` lets a
    page keep the latest of two counts that crossed on the way."""
    transaction.on_commit(_send_inbox_counts)


def _send_inbox_counts() -> None:
    counts = selectors.inbox_tab_counts()
    send_event_on_commit(
        AGENTS_GROUP, {"type": "counts", **counts, "as_of": payloads.iso_time(timezone.now())}
    )


def read(session: ChatSession, agent, unread: int) -> None:
    """The agent read the chat up to a message: their other pages update its unread count."""
    send_event_on_commit(agent_group(agent.pk), {"type": "read", "session_id": session.pk, "unread": unread})


def inbox_activity(session: ChatSession) -> None:
    """A message moved the chat's waiting/answered times: refresh its inbox row."""
    event = {"type": "session", "session": payloads.agent_session(session), "activity": True}
    to_agents(session, event, change=False)


def to_agents(session: ChatSession, event: dict, *, change: bool) -> None:
    """Every agents' event names its chat, the chat's agent and status (for the sockets and
    the pages to decide). A ``change`` of status or assignment goes to every agent; activity
    only to the chat's agent and its transcript's watchers, unless the chat is waiting."""
    event.update(session_id=session.pk, assigned_agent=session.assigned_agent_id, status=session.status)
    send_agent_event_on_commit(
        event, session_pk=session.pk, assigned_agent_id=session.assigned_agent_id, everyone=change
    )


def queue() -> None:
    """Tell waiting customers that the queue moved (each socket works out its position)."""
    transaction.on_commit(_send_queue_snapshot)


def _send_queue_snapshot() -> None:
    snapshot = selectors.queue_snapshot()
    send_event_on_commit(QUEUE_GROUP, {"type": "queue", **snapshot})


def access_changed(sender=None, *, user_id: int, **kwargs) -> None:
    """Someone's access narrowed (deactivated, groups or staff status changed): their agent
    sockets check it again now and close (4403) if it is gone (chat/live/agent.py)."""
    send_event_on_commit(agent_group(user_id), {"type": "access", "user_id": user_id})
