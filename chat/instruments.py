"""The chat domain's metrics: what the services count as they commit, and what /metrics reads
from the database when Prometheus scrapes (jtchat/prometheus.py).

Counters go up after commit, where the services already are, so a rolled-back write counts
nothing; an increment is a few microseconds of shared memory. Figures of the whole system (the
queue, the waits, the jobs' last runs, whether the service is open, agents online from
presence) are never kept per request: a collector reads them when Prometheus scrapes, in a
few queries and one presence read whatever the number of chats.
"""

import logging

from django.conf import settings
from django.db import transaction
from prometheus_client.core import GaugeMetricFamily

from jtchat import prometheus

from .models import ChatMessage, ChatSession

logger = logging.getLogger(__name__)

MESSAGES = prometheus.counter("jtchat_messages", "Messages stored, by author.", ["author"])
CHATS_OPENED = prometheus.counter("jtchat_chats_opened", "Chats opened.")
CHATS_ENDED = prometheus.counter("jtchat_chats_ended", "Chats ended, by who ended them.", ["ended_by"])

# The labelled series made once: a message pays for one increment, not a look-up.
_messages_by_author = {author: MESSAGES.labels(author) for author in ChatMessage.Author.values}
_ended_by = {who: CHATS_ENDED.labels(who) for who in ChatSession.EndedBy.values}

# The scheduled commands Render runs (render.yaml); their series exist once they ran.
JOBS = ("compute_daily_metrics", "close_idle_sessions", "anonymize_sessions", "send_reply_emails")


def message_stored(author: str) -> None:
    transaction.on_commit(_messages_by_author[author].inc)


def chat_opened() -> None:
    transaction.on_commit(CHATS_OPENED.inc)


def chat_ended(ended_by: str) -> None:
    transaction.on_commit(_ended_by[ended_by].inc)


def _timestamp(value) -> float | None:
    return value.timestamp() if value is not None else None


class ChatStateCollector:
    """The queue and the jobs, read from the database when Prometheus scrapes."""

    def collect(self):
        from chat import selectors

        up = GaugeMetricFamily(
            "jtchat_chat_state_up", "1 when the chat figures below could be read from the database."
        )
        try:
            summary = selectors.open_chats_summary(sla_seconds=settings.CHAT_SLA_FIRST_RESPONSE_SECONDS)
            runs = selectors.job_runs()
        except Exception:
            logger.exception("metrics: the chat figures could not be read")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "jtchat_chats_waiting", "Chats waiting for an agent.", value=summary["waiting"]
        )
        yield GaugeMetricFamily(
            "jtchat_chats_active", "Chats an agent is working on.", value=summary["active"]
        )
        yield GaugeMetricFamily(
            "jtchat_chats_longest_wait_seconds",
            "The longest current wait of a customer for an answer (as the inbox shows it).",
            value=summary["longest_wait_seconds"],
        )
        yield GaugeMetricFamily(
            "jtchat_chats_over_sla",
            "Open chats whose customer has waited longer than CHAT_SLA_FIRST_RESPONSE_SECONDS.",
            value=summary["over_sla"],
        )
        yield GaugeMetricFamily(
            "jtchat_sla_first_response_seconds",
            "The first-response target (CHAT_SLA_FIRST_RESPONSE_SECONDS).",
            value=settings.CHAT_SLA_FIRST_RESPONSE_SECONDS,
        )
        yield from _job_metrics(runs)
        yield from _presence_metrics()


def _presence_metrics():
    """Whether the service is open now, and agents online and available (chat/live/presence.py):
    what the "no agent available in business hours" alert reads."""
    from chat import selectors
    from chat.live import presence

    yield GaugeMetricFamily(
        "jtchat_business_hours_open",
        "1 while the service is open (CHAT_BUSINESS_HOURS and holidays), else 0.",
        value=1 if selectors.business_status().open else 0,
    )
    try:
        online = len(presence.online_agent_ids())
        available = presence.available_agents_count()
    except presence.PresenceUnavailable:
        logger.warning("metrics: presence unreadable (Redis); agents online and available left out")
        return
    yield GaugeMetricFamily(
        "jtchat_agents_online", "Agents with an agent socket open (presence).", value=online
    )
    yield GaugeMetricFamily(
        "jtchat_agents_available",
        "Agents online, accepting chats and below CHAT_AGENT_MAX_ACTIVE_CHATS (presence).",
        value=available,
    )


def _job_metrics(runs):
    success = GaugeMetricFamily(
        "jtchat_job_last_success_timestamp_seconds",
        "When each scheduled command last finished without error (Unix time).",
        labels=["command"],
    )
    duration = GaugeMetricFamily(
        "jtchat_job_last_duration_seconds", "How long each command's last success took.", labels=["command"]
    )
    failure = GaugeMetricFamily(
        "jtchat_job_last_failure_timestamp_seconds",
        "When each scheduled command last failed (Unix time).",
        labels=["command"],
    )
    for run in runs:
        if run.command not in JOBS:
            continue
        if run.last_success_at is not None:
            success.add_metric([run.command], _timestamp(run.last_success_at))
            duration.add_metric([run.command], run.last_duration_seconds or 0.0)
        if run.last_failure_at is not None:
            failure.add_metric([run.command], _timestamp(run.last_failure_at))
    yield success
    yield duration
    yield failure
