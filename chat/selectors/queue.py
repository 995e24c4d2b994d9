"""The waiting queue: positions, agents available and the estimated wait."""

from datetime import timedelta

from django.db.models import Avg, F
from django.utils import timezone

from chat.models import ChatSession

from .agents import reply_capable_agents

Status = ChatSession.Status

# Used for the estimated wait until enough chats were answered to measure one.
DEFAULT_WAIT_PER_CHAT_SECONDS = 120
QUEUE_SNAPSHOT_LIMIT = 1000


def available_agents_count() -> int:
    """Agents who can answer chats and are accepting new ones (the queue's "available")."""
    return reply_capable_agents().filter(accepting_chats=True).count()


def average_wait_per_chat_seconds() -> float:
    """Average first response time over the last day's answered chats."""
    since = timezone.now() - timedelta(days=1)
    value = ChatSession.objects.filter(started_at__gte=since, first_response_at__isnull=False).aggregate(
        avg=Avg(F("first_response_at") - F("started_at"))
    )["avg"]
    if value is None:
        return float(DEFAULT_WAIT_PER_CHAT_SECONDS)
    return max(value.total_seconds(), 1.0)


def queue_snapshot() -> dict:
    """Waiting chats in queue order, with what a customer needs to estimate the wait."""
    waiting = list(
        ChatSession.objects.filter(status=Status.WAITING)
        .order_by("id")
        .values_list("id", flat=True)[:QUEUE_SNAPSHOT_LIMIT]
    )
    return {
        "waiting": waiting,
        "agents_available": available_agents_count(),
        "wait_per_chat_seconds": round(average_wait_per_chat_seconds(), 1),
    }


def estimate_wait_seconds(position: int, agents_available: int, wait_per_chat: float) -> int:
    if position <= 0:
        return 0
    return int(round(position * wait_per_chat / max(agents_available, 1)))


def queue_position(session: ChatSession) -> int:
    """1 for the next chat to be taken; 0 when the chat is not waiting."""
    if session.status != Status.WAITING:
        return 0
    return ChatSession.objects.filter(status=Status.WAITING, id__lt=session.pk).count() + 1


def queue_status(session: ChatSession | None = None) -> dict:
    agents = available_agents_count()
    waiting = ChatSession.objects.filter(status=Status.WAITING).count()
    per_chat = average_wait_per_chat_seconds()
    status = {"agents_available": agents, "waiting_chats": waiting}
    if session is not None:
        position = queue_position(session)
        status["position"] = position
        status["estimated_wait_seconds"] = estimate_wait_seconds(position, agents, per_chat)
    return status
