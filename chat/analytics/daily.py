"""Computing one local day's metrics: the only writer of ChatAnalytics.

What a day holds is what the registry declares (registry.py: each metric's definition), plus
``per_agent``: one entry per agent who was assigned a chat started on the day or replied on
the day. A chat counts for the agent it is assigned to at the end (after transfers), and so
do its first response time and rating; response times count for the agent who wrote the
reply.

Every figure comes from SQL aggregation, a fixed number of queries per day whatever the
number of rows: one aggregate over the day's chats (percentiles included on PostgreSQL), one
pass over the day's messages grouped by agent (the day's message figures are the sums of the
groups), the chats' issues, the per-agent chat figures and the agents' names; plus, where
the registry declares them, a percentile pass over the messages (PostgreSQL) or one ordered
read per percentile column (other databases). Running a day again replaces its row
(``update_or_create`` on the date), with the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from chat.models import ChatAnalytics, ChatMessage, ChatSession

from . import registry
from .days import days_between, local_day_bounds
from .registry import MESSAGES, SESSIONS, Aggregate, CountsBy, Percentile, Ratio, Total
from .sql import FRT_SECONDS, PercentileCont, database_computes_percentiles, interpolated_percentile
from .units import DURATION, RATING

Author = ChatMessage.Author

# The per-agent figures read these of the day's message groups.
AGENT_REPLIES = "agent_messages"
AGENT_TIMED_REPLIES = "timed_replies"
AGENT_RESPONSE_SUM = "avg_response_time"  # the numerator of its Ratio


def compute_daily_metrics(day: date) -> ChatAnalytics:
    """Compute and store the metrics of one local day; running it again replaces the row."""
    figures = day_figures(day)
    with transaction.atomic():
        row, _created = ChatAnalytics.objects.update_or_create(
            date=day, defaults={**figures, "computed_at": timezone.now()}
        )
    return row


def compute_days(days: Iterable[date]) -> list[ChatAnalytics]:
    """Compute each of ``days`` (each in its own transaction: a long run keeps what it did)."""
    return [compute_daily_metrics(day) for day in days]


def compute_metrics_range(
    first: date, last: date, progress: Callable[[int, int, ChatAnalytics], None] | None = None
) -> list[ChatAnalytics]:
    """Compute every day from ``first`` to ``last`` (inclusive), oldest first."""
    days = days_between(first, last)
    rows = []
    for index, day in enumerate(days, start=1):
        row = compute_daily_metrics(day)
        rows.append(row)
        if progress is not None:
            progress(index, len(days), row)
    return rows


def day_figures(day: date) -> dict:
    """Every ChatAnalytics figure of one local day, without writing anything."""
    start, end = local_day_bounds(day)
    sources = {SESSIONS: _sessions(start, end), MESSAGES: _messages(start, end)}
    raw = sources[SESSIONS].aggregate(**_aggregates(SESSIONS, in_database_percentiles=True)) or {}
    groups = _message_groups(sources[MESSAGES])
    for name in _aggregates(MESSAGES, in_database_percentiles=False):
        raw[name] = sum(group[name] or 0 for group in groups)
    if database_computes_percentiles():
        message_percentiles = _percentiles(MESSAGES)
        if message_percentiles:
            raw.update(sources[MESSAGES].aggregate(**message_percentiles))
    else:
        raw.update(_ordered_percentiles(sources))

    figures: dict = {}
    derived = []
    for metric in registry.stored():
        rule = metric.day
        if isinstance(rule, Aggregate | Percentile):
            figures[metric.key] = metric.unit.store(raw[metric.key])
        elif isinstance(rule, CountsBy):
            figures[metric.key] = _counts_by(sources[rule.source], rule.field)
        else:
            derived.append(metric)
    for metric in derived:
        rule = metric.day
        if isinstance(rule, Ratio):
            whole = figures[rule.denominator]
            figures[metric.key] = metric.unit.store(raw[metric.key] / whole) if whole else None
        elif isinstance(rule, Total):
            figures[metric.key] = sum(figures[part] for part in rule.parts)
    figures["per_agent"] = _per_agent(sources[SESSIONS], groups)
    return figures


def _sessions(start: datetime, end: datetime) -> QuerySet:
    return ChatSession.objects.filter(started_at__gte=start, started_at__lt=end)


def _messages(start: datetime, end: datetime) -> QuerySet:
    """Customer and agent messages created in [start, end); no system messages, no notes."""
    return ChatMessage.objects.filter(
        created_at__gte=start,
        created_at__lt=end,
        is_internal=False,
        author__in=[Author.CUSTOMER, Author.AGENT],
    )


def _aggregates(source: str, *, in_database_percentiles: bool) -> dict:
    """The SQL aggregates the registry declares over ``source``, named by metric key."""
    aggregates = {}
    for metric in registry.stored():
        rule = metric.day
        if isinstance(rule, Aggregate | Ratio) and rule.source == source:
            aggregates[metric.key] = rule.build()
    if in_database_percentiles and database_computes_percentiles():
        aggregates.update(_percentiles(source))
    return aggregates


def _percentiles(source: str) -> dict:
    return {
        metric.key: PercentileCont(metric.day.expression, metric.day.fraction, filter=metric.day.filter)
        for metric in registry.stored()
        if isinstance(metric.day, Percentile) and metric.day.source == source
    }


def _ordered_percentiles(sources: dict[str, QuerySet]) -> dict:
    """Percentiles without percentile_cont: one ordered read per (source, values, filter)."""
    groups: list[tuple[Percentile, list[str]]] = []
    for metric in registry.stored():
        rule = metric.day
        if not isinstance(rule, Percentile):
            continue
        for first, keys in groups:
            if (first.source, first.expression, first.filter) == (rule.source, rule.expression, rule.filter):
                keys.append(metric.key)
                break
        else:
            groups.append((rule, [metric.key]))
    values = {}
    for rule, keys in groups:
        ordered = list(
            sources[rule.source]
            .filter(rule.filter)
            .annotate(percentile_value=rule.expression)
            .order_by("percentile_value")
            .values_list("percentile_value", flat=True)
        )
        for key in keys:
            values[key] = interpolated_percentile(ordered, registry.get(key).day.fraction)
    return values


def _message_groups(messages: QuerySet) -> list[dict]:
    """The day's messages, one group per ``agent_id``, with the registry's message aggregates.

    Customer messages have no agent and land in the ``None`` group (with replies of agents
    whose account was deleted); the day's figures are the sums over all groups.
    """
    return list(
        messages.values("agent_id")
        .annotate(**_aggregates(MESSAGES, in_database_percentiles=False))
        .order_by()
    )


def _counts_by(sessions: QuerySet, field: str) -> list[dict]:
    counts = (
        sessions.exclude(**{field: ""}).values(field).annotate(count=Count("id")).order_by("-count", field)
    )
    return [{field: row[field], "count": row["count"]} for row in counts]


def _per_agent(sessions: QuerySet, message_groups: list[dict]) -> list[dict]:
    answered = Q(first_response_at__isnull=False)
    by_agent: dict[int, dict] = {}
    session_rows = (
        sessions.filter(assigned_agent__isnull=False)
        .values("assigned_agent_id")
        .annotate(
            chats=Count("id"),
            answered=Count("id", filter=answered),
            frt_avg=Avg(FRT_SECONDS, filter=answered),
            ratings=Count("satisfaction_rating"),
            satisfaction_avg=Avg("satisfaction_rating"),
        )
        .order_by()
    )
    for row in session_rows:
        entry = by_agent.setdefault(row["assigned_agent_id"], _empty_agent_entry(row["assigned_agent_id"]))
        entry.update(
            chats=row["chats"],
            answered=row["answered"],
            frt_avg=DURATION.store(row["frt_avg"]),
            ratings=row["ratings"],
            satisfaction_avg=RATING.store(row["satisfaction_avg"]),
        )
    for group in message_groups:
        agent_id = group["agent_id"]
        if agent_id is None or not group[AGENT_REPLIES]:
            continue
        entry = by_agent.setdefault(agent_id, _empty_agent_entry(agent_id))
        timed = group[AGENT_TIMED_REPLIES]
        entry.update(
            replies=group[AGENT_REPLIES],
            timed_replies=timed,
            avg_response_time=DURATION.store(group[AGENT_RESPONSE_SUM] / timed) if timed else None,
        )
    names = {
        user.pk: user.public_name
        for user in get_user_model()
        .objects.filter(pk__in=by_agent)
        .only("username", "first_name", "display_name")
    }
    for agent_id, entry in by_agent.items():
        entry["agent_name"] = names.get(agent_id, "")
    return sorted(
        by_agent.values(), key=lambda entry: (-entry["chats"], entry["agent_name"], entry["agent_id"])
    )


def _empty_agent_entry(agent_id: int) -> dict:
    return {
        "agent_id": agent_id,
        "agent_name": "",
        "chats": 0,
        "answered": 0,
        "frt_avg": None,
        "replies": 0,
        "timed_replies": 0,
        "avg_response_time": None,
        "ratings": 0,
        "satisfaction_avg": None,
    }
