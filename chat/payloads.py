"""The shapes clients see of a message and a chat, as plain dicts.

One shape per thing, made here and nowhere else: the live events (services announce them),
the REST answers (chat/api/serializers.py delegates its output here and declares the same
fields for the OpenAPI schema) and the admin's JSON answers all use these functions. Times
are ISO 8601 in the current time zone, ``Z`` for UTC, as Django REST framework writes them.
Every message sent is shaped at least twice (its live event and its answer), so these are
plain functions rather than serializers.
"""

from django.urls import reverse
from django.utils import timezone

from .models import ChatAttachment, ChatMessage, ChatSession


def iso_time(value) -> str | None:
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def agent_name(user) -> str | None:
    return user.public_name if user is not None else None


def message(message: ChatMessage) -> dict:
    return {
        "id": message.pk,
        "author": message.author,
        "content": message.content,
        "created_at": iso_time(message.created_at),
        "client_id": str(message.client_id) if message.client_id is not None else None,
        "agent_name": agent_name(message.agent) if message.agent_id else None,
        "is_internal": message.is_internal,
        "attachments": [attachment(item) for item in attachments_of(message)],
    }


def attachments_of(message: ChatMessage) -> list[ChatAttachment]:
    """The message's files: ``attachment_list`` as the services and selectors set it (for a
    list, one query for all its messages: ``selectors.with_attachments``), else read now."""
    found = getattr(message, "attachment_list", None)
    if found is None:
        found = message.attachment_list = list(message.attachments.order_by("id")) if message.pk else []
    return found


def attachment(item: ChatAttachment) -> dict:
    """A file as both sides see it. Its URLs lead to the file view, which asks who is asking
    (chat/api/attachments.py); none once the file was removed (retention)."""
    return {
        "id": item.pk,
        "kind": item.kind,
        "name": item.name,
        "content_type": item.content_type,
        "size": item.size,
        "width": item.width,
        "height": item.height,
        "url": None if item.is_removed else reverse("chat-attachment", args=[item.pk]),
        "thumbnail_url": reverse("chat-attachment-thumbnail", args=[item.pk]) if item.thumbnail else None,
    }


def public_session(session: ChatSession) -> dict:
    """What the customer may see of their own chat (the key itself is not repeated: events
    travel on the chat's own socket, and the REST answer adds it)."""
    return {
        "status": session.status,
        "agent_name": agent_name(session.assigned_agent) if session.assigned_agent_id else None,
        "customer_name": session.customer_name,
        "topic": session.topic,
        "tracking_code": session.tracking_code,
        "started_at": iso_time(session.started_at),
        "ended_at": iso_time(session.ended_at),
        "ended_by": session.ended_by,
        "satisfaction_rating": session.satisfaction_rating,
        # Whether the answer can reach them by e-mail (the address itself is not repeated).
        "email_given": bool(session.customer_email),
    }


def agent_session(session: ChatSession) -> dict:
    """What agents see of a chat (no session key: that is the customer's secret)."""
    return {
        "id": session.pk,
        "status": session.status,
        "customer_name": session.customer_name,
        "customer_email": session.customer_email,
        "tracking_code": session.tracking_code,
        "topic": session.topic,
        "issue": session.issue,
        "assigned_agent": session.assigned_agent_id,
        "agent_name": agent_name(session.assigned_agent) if session.assigned_agent_id else None,
        "started_at": iso_time(session.started_at),
        "ended_at": iso_time(session.ended_at),
        "ended_by": session.ended_by,
        "first_response_at": iso_time(session.first_response_at),
        "waiting_since": iso_time(session.waiting_since),
        "last_message_at": iso_time(session.last_message_at),
        "satisfaction_rating": session.satisfaction_rating,
        "satisfaction_comment": session.satisfaction_comment,
        "opened_without_agents": session.opened_without_agents,
        "opened_outside_hours": session.opened_outside_hours,
        "email_status": session.email_status,
    }


def inbox_row(session: ChatSession) -> dict:
    """A chat as the agents' lists show it (the inbox's rows, the conversation screen's
    list): the agents' shape plus the list's columns, from the annotations of
    ``chat.selectors.inbox_sessions`` — the customer's current wait, the last message
    between customer and agent, and the unread count (None where the agent has none)."""
    preview = session.last_message_preview
    return {
        **agent_session(session),
        "waiting_for_since": iso_time(session.waiting_since_for_inbox),
        # "" for a message of files alone (the lists show a paper clip)
        "last_message": (
            {"author": session.last_message_author, "preview": " ".join(preview.split())}
            if preview is not None
            else None
        ),
        "unread": session.unread_count,
    }
