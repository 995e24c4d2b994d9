"""Reads that screens, endpoints and sockets need. Nothing here writes."""

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Avg, Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from .exceptions import InvalidInput, SessionNotFound
from .models import ChatMessage, ChatSession

Status = ChatSession.Status

# Used for the estimated wait until enough chats were answered to measure one.
DEFAULT_WAIT_PER_CHAT_SECONDS = 120
QUEUE_SNAPSHOT_LIMIT = 1000


def parse_session_key(value) -> uuid.UUID:
    """A customer's session key from a body or header value; bad shapes are a 400."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(fields={"session_id": [_("Send the chat's session_id.")]})
    try:
        return uuid.UUID(value.strip())
    except ValueError as exc:
        raise InvalidInput(fields={"session_id": [_("Invalid session_id.")]}) from exc


def customer_session(session_key) -> ChatSession:
    """The chat a customer's key opens, or SessionNotFound."""
    key = parse_session_key(session_key)
    try:
        return ChatSession.objects.select_related("assigned_agent").get(session_id=key)
    except ChatSession.DoesNotExist as exc:
        raise SessionNotFound() from exc


def messages_after(
    *, session: ChatSession, after: int = 0, include_internal: bool = False, limit: int = 500
) -> QuerySet[ChatMessage]:
    """Messages of one chat with id > ``after``, oldest first (the catch-up cursor)."""
    qs = ChatMessage.objects.filter(session_id=session.pk, id__gt=after)
    if not include_internal:
        qs = qs.filter(is_internal=False)
    return qs.select_related("agent").order_by("id")[:limit]


def available_agents_count() -> int:
    User = get_user_model()
    return User.objects.filter(is_active=True, is_staff=True, accepting_chats=True).count()


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


def idle_session_ids(*, older_than) -> list[int]:
    return list(
        ChatSession.objects.filter(status__in=[Status.WAITING, Status.ACTIVE])
        .annotate(last_activity=Coalesce("last_message_at", "started_at"))
        .filter(last_activity__lt=older_than)
        .values_list("id", flat=True)
    )


def staff_sessions(*, status: str | None = None) -> QuerySet[ChatSession]:
    qs = ChatSession.objects.select_related("assigned_agent")
    if status:
        qs = qs.filter(status=status)
    # waiting first, then active, then ended; within, the oldest wait first
    return qs.alias(status_rank=_status_rank()).order_by(
        "status_rank", F("waiting_since").asc(nulls_last=True), "started_at"
    )


def _status_rank():
    return Case(
        When(status=Status.WAITING, then=Value(0)),
        When(status=Status.ACTIVE, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def session_for_staff(pk: int) -> ChatSession:
    try:
        return ChatSession.objects.select_related("assigned_agent").get(pk=pk)
    except ChatSession.DoesNotExist as exc:
        raise SessionNotFound() from exc
