"""Hand-built chats with exact timestamps for the metrics tests.

Rows are created directly (not through the services) because the tests need to place every
timestamp on the clock; the services would stamp "now".
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from chat.models import ChatMessage, ChatSession

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def local(day: date, hour: int, minute: int = 0, second: int = 0, zone=SAO_PAULO, fold: int = 0):
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone, fold=fold)


def make_session(
    started_at,
    *,
    agent=None,
    first_response_at=None,
    ended_at=None,
    rating=None,
    comment="",
    issue="",
    status=None,
    customer_name="",
    topic="",
    **extra,
):
    if status is None:
        if ended_at is not None:
            status = ChatSession.Status.ENDED
        elif agent is not None or first_response_at is not None:
            status = ChatSession.Status.ACTIVE
        else:
            status = ChatSession.Status.WAITING
    return ChatSession.objects.create(
        started_at=started_at,
        assigned_agent=agent,
        first_response_at=first_response_at,
        ended_at=ended_at,
        ended_by=ChatSession.EndedBy.CUSTOMER if ended_at else "",
        status=status,
        satisfaction_rating=rating,
        satisfaction_comment=comment,
        issue=issue,
        topic=topic,
        customer_name=customer_name,
        **extra,
    )


def customer_says(session, created_at, content="Olá"):
    return ChatMessage.objects.create(
        session=session, author=ChatMessage.Author.CUSTOMER, content=content, created_at=created_at
    )


def agent_says(session, agent, created_at, response_seconds=None, internal=False, content="Oi!"):
    return ChatMessage.objects.create(
        session=session,
        author=ChatMessage.Author.AGENT,
        agent=agent,
        content=content,
        created_at=created_at,
        response_seconds=response_seconds,
        is_internal=internal,
    )


def system_says(session, created_at, content="Ana entrou na conversa."):
    return ChatMessage.objects.create(
        session=session, author=ChatMessage.Author.SYSTEM, content=content, created_at=created_at
    )
