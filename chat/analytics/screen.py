"""The managers' metrics screen: a period's cards, charts and tables, all from the registry.

Opening a period fills it in: days of the period and of the previous one (the cards compare
with it) that are before today and have no row yet are computed then, through the daily
service (``daily.compute_days``: the same computation as the nightly command, idempotent).
So the work is bounded by what the screen shows — at most twice the period's length in
days, each a fixed handful of queries — and is done once: the next opening finds the rows
and computes nothing. Past that, the screen reads the stored rows of both periods in one
query, whatever their number of days.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from chat import policy
from chat.models import ChatAnalytics

from . import charts, current, daily, periods, registry
from .charts import Series
from .periods import Period
from .registry import BARS, CATEGORY_BARS, HIGHER_IS_BETTER, LINE, LOWER_IS_BETTER
from .units import COUNT, DURATION, MINUS, MISSING, RATING, format_number, issue_label

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30


def require(request, capability: policy.Capability) -> None:
    """Who may: the access policy (chat/policy.py)."""
    if not policy.can(request.user, capability):
        raise PermissionDenied


def period_from(raw) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return value if value in PERIODS else DEFAULT_PERIOD


def open_periods(length: int, last: date | None = None) -> tuple[Period, Period, list[ChatAnalytics]]:
    """The period of ``length`` days ending ``last`` (default yesterday) and the one before it,
    with every missing day before today computed now (returned third)."""
    current_period, previous_period = periods.load_periods(length, last)
    today = timezone.localdate()
    missing = [day for day in previous_period.missing_days + current_period.missing_days if day < today]
    computed = daily.compute_days(missing) if missing else []
    for period in (current_period, previous_period):
        period.add(computed)
    return current_period, previous_period, computed


def metrics_view(request, admin_site, opts):
    """The screen (``admin:chat_metrics``), with the admin chat pages' desk bar (alerts)."""
    from chat.admin.desk import desk_context  # the admin package imports this module

    require(request, policy.VIEW_METRICS)
    length = period_from(request.GET.get("days"))
    current_period, previous_period, _computed = open_periods(length)
    context = {
        **admin_site.each_context(request),
        "title": _("Service metrics"),
        "opts": opts,
        "period": length,
        "periods": [(days, days == length) for days in PERIODS],
        "current": current_period,
        "previous": previous_period,
        **screen_context(current_period, previous_period),
        "live": live_context(),
        "export_daily_url": reverse("admin:chat_metrics_export_daily"),
        "export_conversations_url": reverse("admin:chat_metrics_export_conversations"),
        "changelist_url": reverse("admin:chat_chatanalytics_changelist"),
        **desk_context(request),
    }
    request.current_app = admin_site.name
    return TemplateResponse(request, "admin/chat/metrics.html", context)


def screen_context(current_period: Period, previous_period: Period) -> dict:
    """Everything the screen shows about a period (no queries but the agents' names)."""
    summary = periods.summarize(current_period.rows)
    before = periods.summarize(previous_period.rows)
    by_day = {row.date: row for row in current_period.rows}
    labels = current_period.days
    rows = [by_day.get(day) for day in labels]
    return {
        "summary": summary,
        "headlines": headline_cards(summary, before),
        "charts": chart_list(labels, rows, summary),
        "daily_table": daily_table(labels, rows),
        "agents": agents_table(current_period.rows),
    }


def change(unit, now, then, better: str | None) -> dict:
    """How a figure moved against the previous period, as text and a direction.

    Counts and durations change in percent, shares in percentage points, ratings by their
    difference (two decimals, as the ratings themselves).
    """
    kind = unit.change
    if now is None or then is None or (kind == "relative" and not then):
        return {"text": MISSING, "trend": "none"}
    difference = now - then
    if kind == "relative":
        amount, decimals, suffix = difference / then * 100, 1, " %"
    elif kind == "points":
        amount, decimals, suffix = difference * 100, 1, " p.p."
    else:
        amount, decimals, suffix = difference, 2, ""
    shown = round(amount, decimals)
    sign = "+" if shown > 0 else MINUS if shown < 0 else ""
    text = f"{sign}{format_number(abs(shown), decimals)}{suffix}"
    if abs(amount) < 0.05:
        trend = "same"
    elif better not in (LOWER_IS_BETTER, HIGHER_IS_BETTER):
        trend = "up" if amount > 0 else "down"
    else:
        trend = "better" if (amount < 0) == (better == LOWER_IS_BETTER) else "worse"
    return {"text": text, "trend": trend}


def headline_cards(summary: dict, before: dict) -> list[dict]:
    return [
        {
            "key": metric.key,
            "label": metric.heading,
            "value": metric.unit.text(summary[metric.key]),
            "change": change(metric.unit, summary[metric.key], before[metric.key], metric.card),
        }
        for metric in registry.cards()
    ]


def chart_list(labels: list[date], rows: list, summary: dict) -> list[dict]:
    result = []
    for chart, metrics in registry.charts():
        if not metrics:
            continue
        chart_id = f"chart-{chart.key}"
        title = str(chart.title)
        unit = metrics[0].unit
        if chart.kind == CATEGORY_BARS:
            items = [(issue_label(item["issue"]), item["count"]) for item in summary[metrics[0].key] or []]
            svg = charts.horizontal_bar_chart(chart_id=chart_id, title=title, items=items, unit=COUNT)
        elif chart.kind == LINE:
            series = [
                Series(str(metric.series or metric.label), [periods.day_value(metric, row) for row in rows])
                for metric in metrics
            ]
            svg = charts.line_chart(
                chart_id=chart_id, title=title, labels=labels, series=series, unit=unit, y_label=chart.y_label
            )
        elif chart.kind == BARS:
            metric = metrics[0]
            svg = charts.bar_chart(
                chart_id=chart_id,
                title=title,
                labels=labels,
                values=[periods.day_value(metric, row) for row in rows],
                unit=unit,
                y_label=chart.y_label,
                series_name=str(metric.series or chart.y_label or metric.label),
                top=chart.top,
            )
        else:
            raise ValueError(f"chart {chart.key}: unknown kind {chart.kind}")
        result.append({"id": chart_id, "title": title, "svg": svg})
    return result


def table_metrics() -> list:
    """The charts' figures, as the table beside the charts shows them (registry order)."""
    charted = {chart.key for chart, _metrics in registry.charts() if chart.kind != CATEGORY_BARS}
    return [metric for metric in registry.METRICS if metric.chart in charted]


def daily_table(labels: list[date], rows: list) -> dict:
    columns = table_metrics()
    return {
        "headings": [metric.heading for metric in columns],
        "rows": [
            {
                "day": day,
                "cells": [metric.unit.text(periods.day_value(metric, row)) for metric in columns],
            }
            for day, row in zip(labels, rows, strict=True)
        ],
    }


def agents_table(rows: list[ChatAnalytics]) -> dict:
    columns = [
        (_("Chats handled"), COUNT, "chats"),
        (_("First response, average"), DURATION, "frt_avg"),
        (_("Replies"), COUNT, "replies"),
        (_("Response time, average"), DURATION, "avg_response_time"),
        (_("Ratings"), COUNT, "ratings"),
        (_("Satisfaction (1–5)"), RATING, "satisfaction_avg"),
    ]
    return {
        "headings": [unit.heading(label) for label, unit, _key in columns],
        "rows": [
            {
                "agent_id": agent["agent_id"],
                "agent_name": agent["agent_name"],
                "cells": [unit.text(agent[key]) for _label, unit, key in columns],
            }
            for agent in periods.summarize_agents(rows)
        ],
    }


def live_context() -> dict:
    live = current.live_figures()
    as_of = timezone.localtime(live["as_of"])
    return {
        **live,
        # drawn again in the browser's zone by the page's script (one clock)
        "as_of_clock": format_html(
            '<time datetime="{}" data-clock="time">{}</time>', as_of.isoformat(), as_of.strftime("%H:%M")
        ),
        "oldest_wait_heading": DURATION.heading(_("Longest wait")),
        "oldest_wait_text": DURATION.text(live["oldest_wait_seconds"]),
    }
