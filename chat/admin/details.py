"""The conversation screen's details panel: the customer and the chat, field by field.

Each field names the key of the agents' chat shape (chat/payloads.py ``agent_session``) it
shows and how (``kind``): the page draws them here, and its script
(static/chat/admin/details.js) redraws a field from every event's chat, so the panel stays
true while the chat moves (claimed, answered, ended, rated).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from chat.models import ChatSession, Issue

TOPICS = dict(Issue.choices)
STATUSES = dict(ChatSession.Status.choices)
ENDED_BY = dict(ChatSession.EndedBy.choices)


@dataclass(frozen=True)
class Field:
    key: str  # in payloads.agent_session
    label: str
    kind: str = "text"  # text | topic | status | endedBy | time | rating | agent


SECTIONS = (
    (
        _("Customer"),
        (
            Field("customer_name", _("Name")),
            Field("customer_email", _("E-mail")),
            Field("tracking_code", _("Tracking code")),
            Field("topic", _("Topic"), "topic"),
            Field("issue", _("Issue"), "topic"),
        ),
    ),
    (
        _("Chat"),
        (
            Field("status", _("Status"), "status"),
            Field("agent_name", _("Agent"), "agent"),
            Field("started_at", _("Started"), "time"),
            Field("first_response_at", _("First response"), "time"),
            Field("waiting_since", _("Waiting for an answer since"), "time"),
            Field("ended_at", _("Ended"), "time"),
            Field("ended_by", _("Ended by"), "endedBy"),
        ),
    ),
    (
        _("Rating"),
        (
            Field("satisfaction_rating", _("Rating"), "rating"),
            Field("satisfaction_comment", _("Comment")),
        ),
    ),
)


def sections(session: ChatSession) -> list[dict]:
    """The panel's sections with each field's value as the template draws it: ``value`` is
    the raw value (a datetime for times), ``text`` its label where it has one."""
    values = {
        "customer_name": session.customer_name,
        "customer_email": session.customer_email,
        "tracking_code": session.tracking_code,
        "topic": session.topic,
        "issue": session.issue,
        "status": session.status,
        "agent_name": session.assigned_agent.public_name if session.assigned_agent_id else "",
        "started_at": session.started_at,
        "first_response_at": session.first_response_at,
        "waiting_since": session.waiting_since,
        "ended_at": session.ended_at,
        "ended_by": session.ended_by,
        "satisfaction_rating": session.satisfaction_rating,
        "satisfaction_comment": session.satisfaction_comment,
    }
    labels = {"topic": TOPICS, "status": STATUSES, "endedBy": ENDED_BY}
    drawn = []
    for title, fields in SECTIONS:
        rows = []
        for field in fields:
            value = values[field.key]
            text = labels[field.kind].get(value, "") if field.kind in labels else ""
            rows.append(
                {"key": field.key, "label": field.label, "kind": field.kind, "value": value, "text": text}
            )
        drawn.append({"title": title, "fields": rows})
    return drawn
