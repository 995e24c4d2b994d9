"""One row per chat of a range of local days, for the conversations export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from django.db.models import Avg, CharField, Count, Max, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from chat.models import ChatAttachment, ChatMessage, ChatSession

from .days import local_day_bounds
from .sql import DURATION_SECONDS, FRT_SECONDS

CONVERSATION_FIELDS = [
    "id",
    "started_at",
    "ended_at",
    "status",
    "ended_by",
    "agent_name",
    "customer_name",
    "topic",
    "issue",
    "frt_seconds",
    "response_avg_seconds",
    "response_max_seconds",
    "agent_replies",
    "files",
    "duration_seconds",
    "satisfaction_rating",
    "satisfaction_comment",
    "opened_without_agents",
    "opened_outside_hours",
]


def conversation_rows(first: date, last: date, chunk_size: int = 2000) -> Iterator[dict]:
    """One dict per chat started between two local days (inclusive), oldest first.

    A single query read in chunks: a long range streams instead of loading into memory.
    """
    return conversations(first, last).iterator(chunk_size=chunk_size)


def conversations(first: date, last: date) -> QuerySet:
    """The chats of ``conversation_rows`` as a values() query.

    The reply figures are correlated subqueries over the chat's own messages (the
    ``(session, id)`` index), not a join grouped over all messages: read through a cursor,
    rows come out at once and in ``started_at`` order, whatever the size of the range.
    """
    start, _ = local_day_bounds(first)
    _, end = local_day_bounds(last)
    replies = ChatMessage.objects.filter(
        session=OuterRef("pk"), author=ChatMessage.Author.AGENT, is_internal=False
    ).order_by()

    # Files the customer and the agents sent (internal notes' files left out, like the notes).
    files = ChatAttachment.objects.filter(session=OuterRef("pk"), message__is_internal=False).order_by()

    def reply_figure(aggregate):
        return Subquery(replies.values("session").annotate(figure=aggregate).values("figure")[:1])

    agent_name = Coalesce(
        NullIf("assigned_agent__display_name", Value("")),
        NullIf("assigned_agent__first_name", Value("")),
        "assigned_agent__username",
        output_field=CharField(),
    )
    return (
        ChatSession.objects.filter(started_at__gte=start, started_at__lt=end)
        .annotate(
            agent_name=agent_name,
            frt_seconds=FRT_SECONDS,
            duration_seconds=DURATION_SECONDS,
            response_avg_seconds=reply_figure(Avg("response_seconds")),
            response_max_seconds=reply_figure(Max("response_seconds")),
            agent_replies=Coalesce(reply_figure(Count("id")), 0),
            files=Coalesce(Subquery(files.values("session").annotate(n=Count("id")).values("n")[:1]), 0),
        )
        .values(*CONVERSATION_FIELDS)
        .order_by("started_at", "id")
    )
