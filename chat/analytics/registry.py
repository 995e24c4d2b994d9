"""The metrics managers read, each declared once (one module of a little over 400 lines:
the whole list is read, and changed, in one place).

A metric's ``key`` is its ChatAnalytics field. Its declaration says, in one place:

- ``label`` (English source, pt-BR in the catalog) and ``unit`` (units.py): how its values
  read on screen, in the CSV and on charts, and how many decimals a stored figure keeps;
- ``day``: how one local day is computed (daily.py, the only writer of the rows): an SQL
  aggregate over the day's chats or messages, a percentile, a ratio of an aggregate to
  another figure of the day, a total of other figures, or counts by category;
- ``period``: how days combine into a period (periods.py): summed; an average weighted by a
  named count (so a period's average is the average over all its chats, not of its days);
  a ratio of two sums; or not at all — a period's median or p90 is no mix of its days'
  medians, and computing it would read every chat of the period again, which the daily rows
  exist to avoid: the chart shows each day's value and the period has no figure of its own;
- where it shows: a headline card (and which way is better), a chart (and its line's
  name), a CSV column, an admin list column. The API's daily rows carry every stored metric
  and its summary every metric a period combines.

Sources: SESSIONS are the chats started on the day; MESSAGES are the customer messages and
agent replies created on the day (system messages and internal notes are left out). The
messages are read grouped by agent, so that the per-agent figures come from the same pass:
aggregates over MESSAGES must add up across groups (Count, Sum); an average over them is a
Ratio of a Sum to a count. Percentiles over MESSAGES cost one more pass over the day's
messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Avg, Count, Exists, F, OuterRef, Q, Sum
from django.db.models.lookups import LessThanOrEqual
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chat.models import ChatAttachment, ChatMessage, ChatSession, EmailStatus, ReplyEmail

from .sql import DURATION_SECONDS, FRT_SECONDS
from .units import COUNT, DURATION, ISSUES, RATING, SHARE, Unit

SESSIONS = "sessions"
MESSAGES = "messages"

ANSWERED = Q(first_response_at__isnull=False)
ENDED = Q(status=ChatSession.Status.ENDED, ended_at__isnull=False)
ABANDONED = Q(status=ChatSession.Status.ENDED, first_response_at__isnull=True)
CUSTOMER_MESSAGE = Q(author=ChatMessage.Author.CUSTOMER)
AGENT_REPLY = Q(author=ChatMessage.Author.AGENT)
TIMED_REPLY = AGENT_REPLY & Q(response_seconds__isnull=False)
# A photo or document the customer or an agent sent in the chat (not one of an internal note).
FILES_SHOWN_TO_BOTH = ChatAttachment.objects.filter(session=OuterRef("pk"), message__is_internal=False)
OUTSIDE_HOURS = Q(opened_outside_hours=True)  # as business hours stood when the chat opened


def sent_reply_emails():
    """The chat got at least one agent reply by e-mail (chat/services/emails.py)."""
    return ReplyEmail.objects.filter(session=OuterRef("pk"), status=EmailStatus.SENT)


def within_sla():
    """Answered chats whose first response came within the SLA (read when the day is computed)."""
    limit = settings.CHAT_SLA_FIRST_RESPONSE_SECONDS
    return Count("id", filter=ANSWERED & Q(LessThanOrEqual(FRT_SECONDS, limit)))


# --- how a day is computed ------------------------------------------------------------------


@dataclass(frozen=True)
class Aggregate:
    """An SQL aggregate over the day's ``source`` (a function when it reads settings)."""

    source: str
    expression: Any

    def build(self):
        return self.expression() if callable(self.expression) else self.expression


@dataclass(frozen=True)
class Percentile:
    """``percentile_cont(fraction)`` of ``expression`` over the rows of ``source`` in ``filter``."""

    source: str
    expression: Any
    fraction: float
    filter: Q


@dataclass(frozen=True)
class Ratio:
    """An aggregate over ``source`` divided by another figure of the same day (None over 0)."""

    source: str
    numerator: Any
    denominator: str

    def build(self):
        return self.numerator() if callable(self.numerator) else self.numerator


@dataclass(frozen=True)
class Total:
    """The sum of other figures of the day."""

    parts: tuple[str, ...]


@dataclass(frozen=True)
class CountsBy:
    """``[{field: value, "count": n}]`` over ``source``, most frequent first, blanks left out."""

    source: str
    field: str


# --- how days combine into a period --------------------------------------------------------


@dataclass(frozen=True)
class Summed:
    pass


@dataclass(frozen=True)
class WeightedBy:
    """The days' values weighted by the count each day averaged over."""

    count: str


@dataclass(frozen=True)
class RatioOf:
    numerator: str
    denominator: str


@dataclass(frozen=True)
class NotCombined:
    why: str


@dataclass(frozen=True)
class MergedCounts:
    pass


PERCENTILE_PERIOD = NotCombined(
    "A period's percentile is not a mix of its days' percentiles and would need every row again."
)

# --- where it shows --------------------------------------------------------------------------

LOWER_IS_BETTER, HIGHER_IS_BETTER, NEUTRAL = "lower", "higher", "neutral"
LINE, BARS, CATEGORY_BARS = "line", "bars", "category_bars"


@dataclass(frozen=True)
class Chart:
    key: str
    title: Promise
    kind: str
    y_label: Promise | str = ""
    top: float | None = None  # a fixed top of the scale (100 % for shares)


@dataclass(frozen=True)
class Metric:
    key: str
    label: Promise
    unit: Unit
    day: Aggregate | Percentile | Ratio | Total | CountsBy | None  # None: a period figure only
    period: Summed | WeightedBy | RatioOf | NotCombined | MergedCounts
    card: str | None = None  # LOWER_IS_BETTER, HIGHER_IS_BETTER or NEUTRAL
    chart: str | None = None
    series: Promise | None = None  # the line's name in a chart of several metrics
    csv: bool = True
    admin_list: bool = False

    @property
    def stored(self) -> bool:
        return self.day is not None

    @property
    def combined(self) -> bool:
        return not isinstance(self.period, NotCombined)

    @property
    def heading(self) -> str:
        return self.unit.heading(self.label)


CHARTS = (
    Chart("frt", _("First response time per day"), LINE, _("First response")),
    Chart("response", _("Response time per day"), LINE, _("Response time")),
    Chart("sessions", _("Chats per day"), BARS, _("Chats")),
    Chart("csat", _("CSAT per day (share of ratings 4–5)"), BARS, _("CSAT"), top=1.0),
    Chart("sla", _("Chats answered within the SLA per day"), BARS, _("Within the SLA"), top=1.0),
    Chart("issues", _("Common issues"), CATEGORY_BARS),
)

METRICS = (
    Metric(
        "total_sessions", _("Chats"), COUNT,
        day=Aggregate(SESSIONS, Count("id")), period=Summed(),
        card=NEUTRAL, chart="sessions", admin_list=True,
    ),
    Metric(
        "total_messages", _("Messages"), COUNT,
        day=Total(("customer_messages", "agent_messages")), period=Summed(),
        card=NEUTRAL, admin_list=True,
    ),
    Metric(
        "customer_messages", _("Customer messages"), COUNT,
        day=Aggregate(MESSAGES, Count("id", filter=CUSTOMER_MESSAGE)), period=Summed(),
    ),
    Metric(
        "agent_messages", _("Agent messages"), COUNT,
        day=Aggregate(MESSAGES, Count("id", filter=AGENT_REPLY)), period=Summed(),
    ),
    Metric(
        "answered_sessions", _("Answered chats"), COUNT,
        day=Aggregate(SESSIONS, Count("id", filter=ANSWERED)), period=Summed(),
        admin_list=True,
    ),
    Metric(
        "answered_share", _("Answered"), SHARE,
        day=None, period=RatioOf("answered_sessions", "total_sessions"),
        card=HIGHER_IS_BETTER, csv=False,
    ),
    Metric(
        "abandoned_sessions", _("Abandoned"), COUNT,
        day=Aggregate(SESSIONS, Count("id", filter=ABANDONED)), period=Summed(),
        card=LOWER_IS_BETTER, admin_list=True,
    ),
    Metric(
        "ended_sessions", _("Ended chats"), COUNT,
        day=Aggregate(SESSIONS, Count("id", filter=ENDED)), period=Summed(),
    ),
    Metric(
        "frt_avg", _("First response, average"), DURATION,
        day=Aggregate(SESSIONS, Avg(FRT_SECONDS, filter=ANSWERED)), period=WeightedBy("answered_sessions"),
        card=LOWER_IS_BETTER, chart="frt", series=_("Average"), admin_list=True,
    ),
    Metric(
        "frt_median", _("First response, median"), DURATION,
        day=Percentile(SESSIONS, FRT_SECONDS, 0.5, ANSWERED), period=PERCENTILE_PERIOD,
        chart="frt", series=_("Median"), admin_list=True,
    ),
    Metric(
        "frt_p90", _("First response, p90"), DURATION,
        day=Percentile(SESSIONS, FRT_SECONDS, 0.9, ANSWERED), period=PERCENTILE_PERIOD,
        chart="frt", series=_("90th percentile"), admin_list=True,
    ),
    Metric(
        "avg_response_time", _("Response time, average"), DURATION,
        day=Ratio(MESSAGES, Sum("response_seconds", filter=AGENT_REPLY), "timed_replies"),
        period=WeightedBy("timed_replies"),
        card=LOWER_IS_BETTER, chart="response", series=_("Average"), admin_list=True,
    ),
    Metric(
        "response_time_median", _("Response time, median"), DURATION,
        day=Percentile(MESSAGES, F("response_seconds"), 0.5, TIMED_REPLY), period=PERCENTILE_PERIOD,
        chart="response", series=_("Median"), admin_list=True,
    ),
    Metric(
        "timed_replies", _("Timed agent replies"), COUNT,
        day=Aggregate(MESSAGES, Count("response_seconds", filter=AGENT_REPLY)), period=Summed(),
    ),
    Metric(
        "avg_session_duration", _("Chat duration, average"), DURATION,
        day=Aggregate(SESSIONS, Avg(DURATION_SECONDS, filter=ENDED)), period=WeightedBy("ended_sessions"),
        card=NEUTRAL, admin_list=True,
    ),
    Metric(
        "satisfaction_avg", _("Satisfaction (1–5)"), RATING,
        day=Aggregate(SESSIONS, Avg("satisfaction_rating")), period=WeightedBy("ratings_count"),
        card=HIGHER_IS_BETTER, admin_list=True,
    ),
    Metric(
        "ratings_count", _("Ratings"), COUNT,
        day=Aggregate(SESSIONS, Count("satisfaction_rating")), period=Summed(),
    ),
    Metric(
        "csat_share", _("CSAT (ratings 4–5)"), SHARE,
        day=Ratio(SESSIONS, Count("id", filter=Q(satisfaction_rating__gte=4)), "ratings_count"),
        period=WeightedBy("ratings_count"),
        card=HIGHER_IS_BETTER, chart="csat", admin_list=True,
    ),
    Metric(
        "sla_share", _("Within the SLA"), SHARE,
        day=Ratio(SESSIONS, within_sla, "answered_sessions"), period=WeightedBy("answered_sessions"),
        card=HIGHER_IS_BETTER, chart="sla", admin_list=True,
    ),
    Metric(
        "chats_with_attachments", _("Chats with files"), COUNT,
        day=Aggregate(SESSIONS, lambda: Count("id", filter=Q(Exists(FILES_SHOWN_TO_BOTH)))), period=Summed(),
        card=NEUTRAL,
    ),
    Metric(
        "opened_outside_hours", _("Opened outside hours"), COUNT,
        day=Aggregate(SESSIONS, Count("id", filter=OUTSIDE_HOURS)), period=Summed(),
        card=NEUTRAL,
    ),
    Metric(
        "answered_by_email", _("Answered by e-mail"), COUNT,
        day=Aggregate(SESSIONS, lambda: Count("id", filter=Q(Exists(sent_reply_emails())))), period=Summed(),
        card=NEUTRAL,
    ),
    Metric(
        "common_issues", _("Common issues"), ISSUES,
        day=CountsBy(SESSIONS, "issue"), period=MergedCounts(),
        chart="issues",
    ),
)  # fmt: skip

BY_KEY = {metric.key: metric for metric in METRICS}
CHARTS_BY_KEY = {chart.key: chart for chart in CHARTS}


def get(key: str) -> Metric:
    return BY_KEY[key]


def stored() -> list[Metric]:
    return [metric for metric in METRICS if metric.stored]


def combined() -> list[Metric]:
    return [metric for metric in METRICS if metric.combined]


def cards() -> list[Metric]:
    return [metric for metric in METRICS if metric.card]


def csv_columns() -> list[Metric]:
    return [metric for metric in METRICS if metric.csv]


def admin_columns() -> list[Metric]:
    return [metric for metric in METRICS if metric.admin_list]


def charts() -> list[tuple[Chart, list[Metric]]]:
    """Each chart with its metrics (its lines, or its one set of bars), in declaration order."""
    return [(chart, [metric for metric in METRICS if metric.chart == chart.key]) for chart in CHARTS]


def _check(metrics: tuple[Metric, ...], charts_by_key: dict[str, Chart]) -> None:
    """Refuse, at import, a declaration the screens could not follow."""
    problems = []
    seen: set[str] = set()
    keys = {metric.key: metric for metric in metrics}
    for metric in metrics:
        name = metric.key
        if name in seen:
            problems.append(f"{name}: declared twice")
        missing = [key for key in _dependencies(metric) if key not in keys]
        if missing:
            problems.append(f"{name}: refers to unknown metrics {missing}")
        derived_later = [
            key for key in _day_dependencies(metric) if key not in seen and _derived(keys.get(key))
        ]
        if derived_later:
            problems.append(f"{name}: its day needs {derived_later}, declared after it")
        if isinstance(metric.day, Aggregate) and metric.day.source == MESSAGES:
            if not callable(metric.day.expression) and not isinstance(metric.day.expression, Count | Sum):
                problems.append(f"{name}: an aggregate over messages must be a Count or a Sum")
        if not metric.stored and (metric.csv or metric.admin_list):
            problems.append(f"{name}: a period-only figure has no CSV or admin column")
        if metric.card and not metric.combined:
            problems.append(f"{name}: a card needs a figure for the period")
        if metric.chart and metric.chart not in charts_by_key:
            problems.append(f"{name}: unknown chart {metric.chart}")
        seen.add(name)
    for chart in charts_by_key.values():
        units = {type(metric.unit) for metric in metrics if metric.chart == chart.key}
        if len(units) > 1:
            problems.append(f"chart {chart.key}: its metrics have different units")
    if problems:
        raise ImproperlyConfigured("Metric registry: " + "; ".join(problems))


def _day_dependencies(metric: Metric) -> list[str]:
    if isinstance(metric.day, Ratio):
        return [metric.day.denominator]
    if isinstance(metric.day, Total):
        return list(metric.day.parts)
    return []


def _dependencies(metric: Metric) -> list[str]:
    keys = _day_dependencies(metric)
    if isinstance(metric.period, WeightedBy):
        keys.append(metric.period.count)
    if isinstance(metric.period, RatioOf):
        keys.extend([metric.period.numerator, metric.period.denominator])
    return keys


def _derived(metric: Metric | None) -> bool:
    return metric is not None and (metric.day is None or isinstance(metric.day, Ratio | Total))


_check(METRICS, CHARTS_BY_KEY)
