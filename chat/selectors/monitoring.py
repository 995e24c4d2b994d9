"""What operators watch, read when Prometheus scrapes (chat/instruments.py): the open chats in
one query, and the scheduled commands' last runs."""

from datetime import timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from chat.models import ChatSession, JobRun

from .inbox import OPEN_STATUSES, _inbox_wait

Status = ChatSession.Status


def open_chats_summary(*, sla_seconds: int) -> dict:
    """Chats waiting and active, the longest current wait and how many waits passed the SLA.

    A wait is what the inbox shows (from the customer's oldest unanswered message, or the
    chat's start while nobody wrote in a waiting chat), so the figures match the screen.
    One aggregate over open chats (the status index), whatever the number of ended ones.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=sla_seconds)
    waited_past_sla = Q(status=Status.WAITING, waiting_since__lt=cutoff) | Q(
        status=Status.WAITING, waiting_since__isnull=True, started_at__lt=cutoff
    )
    waited_past_sla |= Q(status=Status.ACTIVE, waiting_since__lt=cutoff)
    row = ChatSession.objects.filter(status__in=OPEN_STATUSES).aggregate(
        waiting=Count("pk", filter=Q(status=Status.WAITING)),
        active=Count("pk", filter=Q(status=Status.ACTIVE)),
        oldest_wait=Min(_inbox_wait()),
        over_sla=Count("pk", filter=waited_past_sla),
    )
    oldest = row["oldest_wait"]
    return {
        "waiting": row["waiting"],
        "active": row["active"],
        "longest_wait_seconds": max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        "over_sla": row["over_sla"],
    }


def job_runs() -> list[JobRun]:
    return list(JobRun.objects.order_by("command"))
