"""Reading the stored daily rows: a period's figures, the previous period, per-agent figures.

A period's figures are combined exactly from its days as each metric's registry entry says
(sums; averages weighted by the count each day averaged over, so that they equal the average
over the whole period; ratios of sums). Percentiles are not combined (see registry.py). No
query here but the rows themselves and, for the per-agent table, today's agent names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from chat.models import ChatAnalytics

from . import registry
from .days import days_between, period_ending, yesterday
from .registry import MergedCounts, Metric, NotCombined, RatioOf, Summed, WeightedBy
from .units import DURATION, RATING


def daily_rows(first: date, last: date) -> QuerySet[ChatAnalytics]:
    return ChatAnalytics.objects.filter(date__gte=first, date__lte=last).order_by("date")


def combine(metric: Metric, rows: list[ChatAnalytics]):
    """One metric's figure over the days of ``rows``."""
    rule = metric.period
    if isinstance(rule, Summed):
        return sum(getattr(row, metric.key) or 0 for row in rows)
    if isinstance(rule, WeightedBy):
        return weighted(
            ((getattr(row, metric.key), getattr(row, rule.count)) for row in rows), metric.unit.stored_digits
        )
    if isinstance(rule, RatioOf):
        whole = sum(getattr(row, rule.denominator) or 0 for row in rows)
        part = sum(getattr(row, rule.numerator) or 0 for row in rows)
        return metric.unit.store(part / whole) if whole else None
    if isinstance(rule, MergedCounts):
        return merged_counts(getattr(row, metric.key) for row in rows)
    if isinstance(rule, NotCombined):
        return None
    raise TypeError(f"{metric.key}: unknown period rule {rule!r}")


def day_value(metric: Metric, row: ChatAnalytics | None):
    """One metric's figure for one day (None for a day without a row)."""
    if row is None:
        return None
    return getattr(row, metric.key) if metric.stored else combine(metric, [row])


def weighted(pairs, digits: int | None):
    """Average of per-day averages weighted by how many values each day averaged."""
    total = weight = 0.0
    for value, count in pairs:
        if value is not None and count:
            total += value * count
            weight += count
    return round(total / weight, digits) if weight else None


def merged_counts(lists) -> list[dict]:
    counts: Counter[str] = Counter()
    for items in lists:
        for item in items or []:
            counts[item["issue"]] += item["count"]
    return [
        {"issue": issue, "count": count}
        for issue, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def summarize(rows: list[ChatAnalytics]) -> dict:
    """Every combinable metric of a period (``days``: how many days had a row)."""
    return {"days": len(rows), **{metric.key: combine(metric, rows) for metric in registry.combined()}}


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
        agent["frt_avg"] = weighted(
            ((p.get("frt_avg"), p.get("answered")) for p in parts), DURATION.stored_digits
        )
        agent["avg_response_time"] = weighted(
            ((p.get("avg_response_time"), p.get("timed_replies")) for p in parts), DURATION.stored_digits
        )
        agent["satisfaction_avg"] = weighted(
            ((p.get("satisfaction_avg"), p.get("ratings")) for p in parts), RATING.stored_digits
        )
        result.append(agent)
    _refresh_agent_names(result)
    return sorted(
        result, key=lambda agent: (-agent["chats"], agent["agent_name"].casefold(), agent["agent_id"])
    )


def _refresh_agent_names(agents: list[dict]) -> None:
    """Show today's names (an agent may have changed theirs); keep the stored one otherwise."""
    if not agents:
        return
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

    def add(self, rows: list[ChatAnalytics]) -> None:
        """Take in rows computed after the period was read (those of its days only)."""
        self.rows = sorted(
            [*self.rows, *(row for row in rows if self.first <= row.date <= self.last)], key=lambda r: r.date
        )


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
