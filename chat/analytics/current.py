"""What is happening right now (not stored): open chats, agents online and available, the
longest wait."""

from __future__ import annotations

from django.db.models import Case, Count, DateTimeField, F, Min, Q, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from chat import selectors
from chat.models import ChatSession

Status = ChatSession.Status


def live_figures() -> dict:
    """Waiting and active chats, agents online and available (online, accepting, under their
    maximum: chat/live/presence.py), the oldest wait.

    The oldest wait is the longest a customer of an open chat has been waiting for an
    answer: since their oldest unanswered message, or since the chat opened if they are in
    the queue and have not written yet.
    """
    waiting_since = Case(
        When(status=Status.WAITING, then=Coalesce("waiting_since", "started_at")),
        When(status=Status.ACTIVE, then=F("waiting_since")),
        output_field=DateTimeField(),
    )
    open_chats = ChatSession.objects.filter(status__in=[Status.WAITING, Status.ACTIVE]).aggregate(
        waiting=Count("id", filter=Q(status=Status.WAITING)),
        active=Count("id", filter=Q(status=Status.ACTIVE)),
        oldest=Min(waiting_since),
    )
    agents = selectors.agent_counts()
    oldest = open_chats["oldest"]
    now = timezone.now()
    return {
        "waiting_chats": open_chats["waiting"],
        "active_chats": open_chats["active"],
        "agents_online": agents.online,
        "agents_available": agents.available,
        "oldest_wait_seconds": max((now - oldest).total_seconds(), 0.0) if oldest else None,
        "as_of": now,
    }


def active_sessions_count() -> int:
    return ChatSession.objects.filter(status=Status.ACTIVE).count()
