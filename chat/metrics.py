"""Daily service metrics: the only writer of ChatAnalytics, and the reads built on its rows.

One local day D is the interval from local midnight of D to local midnight of D+1 in
``settings.TIME_ZONE``, turned into aware datetimes, so a day is 23 or 25 hours long on a DST
change and nothing is counted twice or lost.

Definitions (DESIGN.md, "Metrics"; over the sessions *started* on D unless said otherwise):

- ``total_sessions``: sessions started on D.
- ``customer_messages`` / ``agent_messages`` / ``total_messages``: messages *created* on D
  by the customer / by agents, and their sum. System messages and internal notes are left out.
- ``answered_sessions``: sessions with a first agent reply (``first_response_at`` set).
- FRT (first response time) = ``first_response_at - started_at`` over answered sessions:
  ``frt_avg``, ``frt_median``, ``frt_p90``.
- ``avg_response_time``: average ``response_seconds`` of agent replies *created* on D (an agent
  reply carries it when it answers a waiting customer; ``timed_replies`` counts them).
- ``avg_session_duration``: average ``ended_at - started_at`` of the ended sessions
  (``ended_sessions`` counts them).
- ``satisfaction_avg``, ``ratings_count``, ``csat_share`` (share of ratings that are 4 or 5).
- ``abandoned_sessions``: ended sessions that never got an agent reply.
- ``sla_share``: share of answered sessions whose FRT is at most
  ``settings.CHAT_SLA_FIRST_RESPONSE_SECONDS``.
- ``common_issues``: ``[{"issue": code, "count": n}]``, most frequent first, ties by code;
  sessions without an issue (the customer never wrote and picked no topic) are not counted.
- ``per_agent``: one entry per agent who was assigned a session started on D or replied on D.
  A chat counts for the agent it is assigned to at the end (after transfers), and so do its
  FRT and rating; response times count for the agent who wrote the reply.

Percentiles use the continuous definition of PostgreSQL's ``percentile_cont`` (also numpy's
default and Excel's PERCENTILE.INC): sort the n values, take the position p·(n−1) counted from
0, and interpolate linearly between the two values around it. PostgreSQL computes it in the
database; other databases (SQLite) fetch the ordered values of that single column and apply
the same formula, so both give the same numbers.

Every figure comes from SQL aggregation: a handful of queries per day whatever the number of
rows. Running a day again replaces its row (``update_or_create`` on the date).

The second half of this module reads the stored rows for the metrics screen, the exports and
the API (period summaries, live figures, one row per conversation).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import NotSupportedError, connection, transaction
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from . import selectors
from .models import ChatAnalytics, ChatMessage, ChatSession, Issue

Status = ChatSession.Status
Author = ChatMessage.Author

SECONDS_DIGITS = 3
SHARE_DIGITS = 4
RATING_DIGITS = 3


# --- database helpers ----------------------------------------------------------------


class DurationSeconds(Func):
    """The seconds (a float) of a duration expression such as ``F("b") - F("a")``.

    PostgreSQL subtracts timestamps into an interval; Django's SQLite backend returns the
    difference in microseconds, so both give exact, identical values.
    """

    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"EXTRACT(EPOCH FROM ({sql}))::double precision", params
        if not connection.features.has_native_duration_field:
            return f"(({sql}) / 1000000.0)", params
        raise NotSupportedError(f"DurationSeconds is not implemented for {connection.vendor}.")


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(fraction), **extra)

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor != "postgresql":
            raise NotSupportedError("percentile_cont needs PostgreSQL; use interpolated_percentile.")
        return super().as_sql(compiler, connection, **extra_context)


def interpolated_percentile(ordered: list[float], fraction: float) -> float | None:
    """``percentile_cont`` over values already sorted ascending (None for no values)."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def database_computes_percentiles() -> bool:
    return connection.vendor == "postgresql"


FRT_SECONDS = DurationSeconds(F("first_response_at") - F("started_at"))
DURATION_SECONDS = DurationSeconds(F("ended_at") - F("started_at"))


# --- days ----------------------------------------------------------------------------


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local day in ``settings.TIME_ZONE``, as UTC datetimes.

    A local midnight that does not exist (Brazil's DST used to start at midnight) resolves to
    the moment of the change, which is when that day began.
    """
    zone = timezone.get_default_timezone()
    start = datetime.combine(day, time.min).replace(tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min).replace(tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def yesterday() -> date:
    return timezone.localdate() - timedelta(days=1)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _round(value, digits: int):
    return None if value is None else round(float(value), digits)


def _share(part: int, whole: int):
    return round(part / whole, SHARE_DIGITS) if whole else None


# --- computing one day ---------------------------------------------------------------


def day_figures(day: date) -> dict:
    """Every ChatAnalytics figure of one local day, without writing anything."""
    start, end = local_day_bounds(day)
    sessions = ChatSession.objects.filter(started_at__gte=start, started_at__lt=end)
    figures = _session_figures(sessions)
    figures.update(_common_issues(sessions))
    message_groups = _message_groups(start, end)
    figures.update(_message_figures(message_groups))
    figures["per_agent"] = _per_agent(sessions, message_groups)
    return figures


def compute_daily_metrics(day: date) -> ChatAnalytics:
    """Compute and store the metrics of one local day; running it again replaces the row."""
    figures = day_figures(day)
    with transaction.atomic():
        row, _created = ChatAnalytics.objects.update_or_create(
            date=day, defaults={**figures, "computed_at": timezone.now()}
        )
    return row


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


def _session_figures(sessions: QuerySet) -> dict:
    sla_seconds = settings.CHAT_SLA_FIRST_RESPONSE_SECONDS
    answered = Q(first_response_at__isnull=False)
    ended = Q(status=Status.ENDED, ended_at__isnull=False)
    aggregates = {
        "total_sessions": Count("id"),
        "answered_sessions": Count("id", filter=answered),
        "ended_sessions": Count("id", filter=ended),
        "abandoned_sessions": Count("id", filter=Q(status=Status.ENDED, first_response_at__isnull=True)),
        "frt_avg": Avg(FRT_SECONDS, filter=answered),
        "avg_session_duration": Avg(DURATION_SECONDS, filter=ended),
        "satisfaction_avg": Avg("satisfaction_rating"),
        "ratings_count": Count("satisfaction_rating"),
        "csat_count": Count("id", filter=Q(satisfaction_rating__gte=4)),
        "sla_met": Count("id", filter=answered & Q(LessThanOrEqual(FRT_SECONDS, sla_seconds))),
    }
    if database_computes_percentiles():
        aggregates["frt_median"] = PercentileCont(FRT_SECONDS, 0.5, filter=answered)
        aggregates["frt_p90"] = PercentileCont(FRT_SECONDS, 0.9, filter=answered)
    result = sessions.aggregate(**aggregates)
    if not database_computes_percentiles():
        ordered = list(
            sessions.filter(answered).annotate(frt=FRT_SECONDS).order_by("frt").values_list("frt", flat=True)
        )
        result["frt_median"] = interpolated_percentile(ordered, 0.5)
        result["frt_p90"] = interpolated_percentile(ordered, 0.9)

    return {
        "total_sessions": result["total_sessions"],
        "answered_sessions": result["answered_sessions"],
        "ended_sessions": result["ended_sessions"],
        "abandoned_sessions": result["abandoned_sessions"],
        "frt_avg": _round(result["frt_avg"], SECONDS_DIGITS),
        "frt_median": _round(result["frt_median"], SECONDS_DIGITS),
        "frt_p90": _round(result["frt_p90"], SECONDS_DIGITS),
        "avg_session_duration": _round(result["avg_session_duration"], SECONDS_DIGITS),
        "satisfaction_avg": _round(result["satisfaction_avg"], RATING_DIGITS),
        "ratings_count": result["ratings_count"],
        "csat_share": _share(result["csat_count"], result["ratings_count"]),
        "sla_share": _share(result["sla_met"], result["answered_sessions"]),
    }


def _common_issues(sessions: QuerySet) -> dict:
    counts = (
        sessions.exclude(issue="").values("issue").annotate(count=Count("id")).order_by("-count", "issue")
    )
    return {"common_issues": [{"issue": row["issue"], "count": row["count"]} for row in counts]}


def _message_groups(start: datetime, end: datetime) -> list[dict]:
    """Customer and agent messages created in [start, end), one group per ``agent_id``.

    Customer messages have no agent and land in the ``None`` group (with replies of agents
    whose account was deleted); the day's totals are the sums over all groups.
    """
    agent_reply = Q(author=Author.AGENT)
    return list(
        ChatMessage.objects.filter(
            created_at__gte=start,
            created_at__lt=end,
            is_internal=False,
            author__in=[Author.CUSTOMER, Author.AGENT],
        )
        .values("agent_id")
        .annotate(
            customer=Count("id", filter=Q(author=Author.CUSTOMER)),
            agent=Count("id", filter=agent_reply),
            response_sum=Sum("response_seconds", filter=agent_reply),
            timed=Count("response_seconds", filter=agent_reply),
        )
        .order_by()
    )


def _message_figures(groups: list[dict]) -> dict:
    customer = sum(group["customer"] for group in groups)
    agent = sum(group["agent"] for group in groups)
    timed = sum(group["timed"] for group in groups)
    response_sum = sum(group["response_sum"] or 0.0 for group in groups)
    return {
        "customer_messages": customer,
        "agent_messages": agent,
        "total_messages": customer + agent,
        "timed_replies": timed,
        "avg_response_time": _round(response_sum / timed, SECONDS_DIGITS) if timed else None,
    }


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
            frt_avg=_round(row["frt_avg"], SECONDS_DIGITS),
            ratings=row["ratings"],
            satisfaction_avg=_round(row["satisfaction_avg"], RATING_DIGITS),
        )
    for group in message_groups:
        agent_id = group["agent_id"]
        if agent_id is None or not group["agent"]:
            continue
        entry = by_agent.setdefault(agent_id, _empty_agent_entry(agent_id))
        entry.update(
            replies=group["agent"],
            timed_replies=group["timed"],
            avg_response_time=(
                _round(group["response_sum"] / group["timed"], SECONDS_DIGITS) if group["timed"] else None
            ),
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


# --- reading the daily rows ----------------------------------------------------------

DAILY_FIELDS = [
    "date",
    "total_sessions",
    "total_messages",
    "customer_messages",
    "agent_messages",
    "answered_sessions",
    "abandoned_sessions",
    "ended_sessions",
    "frt_avg",
    "frt_median",
    "frt_p90",
    "avg_response_time",
    "timed_replies",
    "avg_session_duration",
    "satisfaction_avg",
    "ratings_count",
    "csat_share",
    "sla_share",
    "common_issues",
    "per_agent",
    "computed_at",
]


def daily_rows(first: date, last: date) -> QuerySet[ChatAnalytics]:
    return ChatAnalytics.objects.filter(date__gte=first, date__lte=last).order_by("date")


def _weighted(pairs: Iterable[tuple[float | None, int]], digits: int):
    """Average of per-day averages weighted by how many values each day averaged."""
    total = weight = 0.0
    for value, count in pairs:
        if value is not None and count:
            total += value * count
            weight += count
    return round(total / weight, digits) if weight else None


def summarize(rows: list[ChatAnalytics]) -> dict:
    """The figures of a period, combined exactly from its daily rows.

    Averages are weighted by the count each day averaged (answered sessions for FRT, timed
    replies for response time, ...), so they equal the average over the whole period.
    Medians cannot be combined this way, so a period has none.
    """
    sessions = sum(row.total_sessions for row in rows)
    answered = sum(row.answered_sessions for row in rows)
    ratings = sum(row.ratings_count for row in rows)
    issues: Counter[str] = Counter()
    for row in rows:
        for item in row.common_issues or []:
            issues[item["issue"]] += item["count"]
    return {
        "days": len(rows),
        "total_sessions": sessions,
        "total_messages": sum(row.total_messages for row in rows),
        "customer_messages": sum(row.customer_messages for row in rows),
        "agent_messages": sum(row.agent_messages for row in rows),
        "answered_sessions": answered,
        "abandoned_sessions": sum(row.abandoned_sessions for row in rows),
        "ended_sessions": sum(row.ended_sessions for row in rows),
        "answered_share": _share(answered, sessions),
        "frt_avg": _weighted(((row.frt_avg, row.answered_sessions) for row in rows), SECONDS_DIGITS),
        "avg_response_time": _weighted(
            ((row.avg_response_time, row.timed_replies) for row in rows), SECONDS_DIGITS
        ),
        "avg_session_duration": _weighted(
            ((row.avg_session_duration, row.ended_sessions) for row in rows), SECONDS_DIGITS
        ),
        "satisfaction_avg": _weighted(
            ((row.satisfaction_avg, row.ratings_count) for row in rows), RATING_DIGITS
        ),
        "ratings_count": ratings,
        "csat_share": _weighted(((row.csat_share, row.ratings_count) for row in rows), SHARE_DIGITS),
        "sla_share": _weighted(((row.sla_share, row.answered_sessions) for row in rows), SHARE_DIGITS),
        "common_issues": [
            {"issue": issue, "count": count}
            for issue, count in sorted(issues.items(), key=lambda item: (-item[1], item[0]))
        ],
    }


def summarize_agents(rows: list[ChatAnalytics]) -> list[dict]:
    """Per-agent figures of a period from the daily ``per_agent`` entries."""
    merged: dict[int, dict] = {}
    for row in rows:
        for entry in row.per_agent or []:
            agent = merged.setdefault(
                entry["agent_id"],
                {
                    "agent_id": entry["agent_id"],
                    "agent_name": "",
                    "parts": [],
                    "chats": 0,
                    "answered": 0,
                    "replies": 0,
                    "timed_replies": 0,
                    "ratings": 0,
                },
            )
            agent["agent_name"] = entry.get("agent_name") or agent["agent_name"]
            agent["parts"].append(entry)
            for key in ("chats", "answered", "replies", "timed_replies", "ratings"):
                agent[key] += entry.get(key) or 0
    result = []
    for agent in merged.values():
        parts = agent.pop("parts")
        agent["frt_avg"] = _weighted(((p.get("frt_avg"), p.get("answered")) for p in parts), SECONDS_DIGITS)
        agent["avg_response_time"] = _weighted(
            ((p.get("avg_response_time"), p.get("timed_replies")) for p in parts), SECONDS_DIGITS
        )
        agent["satisfaction_avg"] = _weighted(
            ((p.get("satisfaction_avg"), p.get("ratings")) for p in parts), RATING_DIGITS
        )
        result.append(agent)
    _refresh_agent_names(result)
    return sorted(
        result, key=lambda agent: (-agent["chats"], agent["agent_name"].casefold(), agent["agent_id"])
    )


def _refresh_agent_names(agents: list[dict]) -> None:
    """Show today's names (an agent may have changed theirs); keep the stored one otherwise."""
    users = get_user_model().objects.filter(pk__in=[agent["agent_id"] for agent in agents])
    names = {user.pk: user.public_name for user in users.only("username", "first_name", "display_name")}
    for agent in agents:
        agent["agent_name"] = names.get(agent["agent_id"]) or agent["agent_name"] or f"#{agent['agent_id']}"


@dataclass
class Period:
    first: date
    last: date
    rows: list[ChatAnalytics] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        return days_between(self.first, self.last)

    @property
    def missing_days(self) -> list[date]:
        present = {row.date for row in self.rows}
        return [day for day in self.days if day not in present]


def period_ending(last: date, length: int) -> tuple[date, date]:
    return last - timedelta(days=length - 1), last


def load_periods(length: int, last: date | None = None) -> tuple[Period, Period]:
    """The ``length`` days ending ``last`` (default: yesterday) and the same span before.

    One query for both periods.
    """
    last = last or yesterday()
    first, last = period_ending(last, length)
    previous_first, previous_last = period_ending(first - timedelta(days=1), length)
    current, previous = Period(first, last), Period(previous_first, previous_last)
    for row in daily_rows(previous_first, last):
        (current if row.date >= first else previous).rows.append(row)
    return current, previous


def live_figures() -> dict:
    """What is happening now: waiting and active chats, agents accepting, the oldest wait.

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
    agents = selectors.available_agents_count()
    oldest = open_chats["oldest"]
    now = timezone.now()
    return {
        "waiting_chats": open_chats["waiting"],
        "active_chats": open_chats["active"],
        "agents_accepting": agents,
        "oldest_wait_seconds": max((now - oldest).total_seconds(), 0.0) if oldest else None,
        "as_of": now,
    }


def active_sessions_count() -> int:
    return ChatSession.objects.filter(status=Status.ACTIVE).count()


# --- one row per conversation (export) -----------------------------------------------

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
    "duration_seconds",
    "satisfaction_rating",
    "satisfaction_comment",
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
        session=OuterRef("pk"), author=Author.AGENT, is_internal=False
    ).order_by()

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
        )
        .values(*CONVERSATION_FIELDS)
        .order_by("started_at", "id")
    )


def issue_label(code: str) -> str:
    try:
        return str(Issue(code).label)
    except ValueError:
        return code
