"""The waiting queue and how the service stands: positions, agents available, business
hours, and an estimated wait only where it can be met.

The service is, for a customer opening or waiting in a chat:

- ``available`` — an agent can take a chat now (chat/selectors/agents.py): the estimate
  divides the queue by the available agents;
- ``busy`` — agents are online and accepting but all at their maximum: the estimate divides
  by them (they free up as chats end);
- ``closed`` — nobody available and outside business hours (``opens_at`` says when the
  service opens again);
- ``offline`` — nobody available (or busy) within business hours.

Closed and offline chats still open and wait; they get no estimate (``null``), and the page
says so and asks for an e-mail.
"""

from datetime import timedelta

from django.db.models import Avg, F
from django.utils import timezone

from chat import payloads
from chat.models import ChatSession

from .agents import agent_counts
from .hours import business_status, upcoming_holidays

Status = ChatSession.Status

AVAILABLE, BUSY, CLOSED, OFFLINE = "available", "busy", "closed", "offline"
SERVICE_STATES = (AVAILABLE, BUSY, CLOSED, OFFLINE)

# Used for the estimated wait until enough chats were answered to measure one.
DEFAULT_WAIT_PER_CHAT_SECONDS = 120
QUEUE_SNAPSHOT_LIMIT = 1000


def service_status(now=None) -> dict:
    """How the service stands now: ``service`` (one of SERVICE_STATES), ``agents_available``,
    ``agents_staffed`` (online and accepting, busy or not), ``outside_hours`` and ``opens_at``
    (ISO, when closed)."""
    counts = agent_counts()
    hours = business_status(now)
    if counts.available:
        state = AVAILABLE
    elif not hours.open:
        state = CLOSED
    elif counts.staffed:
        state = BUSY
    else:
        state = OFFLINE
    return {
        "service": state,
        "agents_available": counts.available,
        "agents_staffed": counts.staffed,
        "outside_hours": not hours.open,
        "opens_at": payloads.iso_time(hours.opens_at) if state == CLOSED else None,
    }


def available_agents_count() -> int:
    """Agents who can take a chat now (the queue's "available")."""
    return agent_counts().available


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
    """Waiting chats in queue order, with what a customer needs to estimate the wait (each
    customer's socket works out its own figures with :func:`customer_queue`)."""
    waiting = list(
        ChatSession.objects.filter(status=Status.WAITING)
        .order_by("id")
        .values_list("id", flat=True)[:QUEUE_SNAPSHOT_LIMIT]
    )
    return {
        "waiting": waiting,
        **service_status(),
        "wait_per_chat_seconds": round(average_wait_per_chat_seconds(), 1),
    }


def estimate_wait_seconds(position: int, agents_available: int, wait_per_chat: float) -> int:
    if position <= 0:
        return 0
    return int(round(position * wait_per_chat / max(agents_available, 1)))


def customer_queue(*, position: int, waiting_chats: int, service: dict, wait_per_chat: float) -> dict:
    """What a customer is told: the service state, agents available, the queue, their
    position, and an estimate only when someone can answer (else ``null``)."""
    state = service.get("service", OFFLINE)
    if state == AVAILABLE:
        estimate = estimate_wait_seconds(position, service.get("agents_available", 0), wait_per_chat)
    elif state == BUSY:
        estimate = estimate_wait_seconds(position, service.get("agents_staffed", 0), wait_per_chat)
    else:
        estimate = None
    return {
        "service": state,
        "agents_available": service.get("agents_available", 0),
        "waiting_chats": waiting_chats,
        "opens_at": service.get("opens_at"),
        "position": position,
        "estimated_wait_seconds": estimate,
    }


def queue_position(session: ChatSession) -> int:
    """1 for the next chat to be taken; 0 when the chat is not waiting."""
    if session.status != Status.WAITING:
        return 0
    return ChatSession.objects.filter(status=Status.WAITING, id__lt=session.pk).count() + 1


def queue_status(session: ChatSession | None = None) -> dict:
    service = service_status()
    waiting = ChatSession.objects.filter(status=Status.WAITING).count()
    if session is None:
        # Before a chat opens, the page also lists the coming holidays (one query).
        return {
            "service": service["service"],
            "agents_available": service["agents_available"],
            "waiting_chats": waiting,
            "opens_at": service["opens_at"],
            "holidays": [
                {"date": holiday.date.isoformat(), "name": holiday.name} for holiday in upcoming_holidays()
            ],
        }
    return customer_queue(
        position=queue_position(session),
        waiting_chats=waiting,
        service=service,
        wait_per_chat=average_wait_per_chat_seconds(),
    )
