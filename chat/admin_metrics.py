"""Managers' metrics in the admin: the daily rows, the metrics screen and the CSV exports.

The daily rows (ChatAnalytics) are read-only here: ``compute_daily_metrics`` is their only
writer. The metrics screen and the exports are extra URLs of that admin (``get_urls``),
behind ``admin_site.admin_view`` (sign-in) and the ``chat.view_metrics`` permission (the
Gestores group): a signed-in agent without it gets 403.

CSV exports are made for Excel in Brazil: UTF-8 with a byte-order mark (so accents show
right), ``;`` between cells and a decimal comma (Excel pt-BR reads ``;`` as the separator
and ``12,5`` as a number); dates are ISO (``2024-05-31``, ``2024-05-31 14:03:09``, local
time of ``settings.TIME_ZONE``). Read them elsewhere with e.g. pandas
``read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")``. A cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so that a
spreadsheet never runs it as a formula (customer names and comments are free text).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import services as audit
from jtchat.network import client_ip

from . import charts, metrics, policy
from .charts import COUNT, PERCENT, Series, Unit, duration_unit
from .models import ChatAnalytics

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
MAX_EXPORT_DAYS = 366
CSV_DELIMITER = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


# --- formatting ------------------------------------------------------------------------


def seconds_text(value: float | None) -> str:
    """A duration in the unit that reads best: 45 s, 3,5 min, 1,2 h."""
    return duration_unit(value).text(value)


SECONDS = Unit("s", 1.0, 1)
MINUTES = Unit("min", 60.0, 1)


def column_unit(values) -> Unit:
    """One unit for a whole table column (mixing 45 s and 2,1 min in a column misleads)."""
    return duration_unit(max((value for value in values if value is not None), default=0))


def share_text(value: float | None) -> str:
    return PERCENT.text(value)


def rating_text(value: float | None) -> str:
    return Unit("", 1.0, 2).text(value)


# --- the daily rows ----------------------------------------------------------------------


@admin.register(ChatAnalytics)
class ChatAnalyticsAdmin(admin.ModelAdmin):
    list_display = (
        "date",
        "total_sessions",
        "total_messages",
        "answered_sessions",
        "abandoned_sessions",
        "frt_average",
        "frt_median_display",
        "frt_p90_display",
        "response_time",
        "duration",
        "satisfaction",
        "csat",
        "sla",
    )
    date_hierarchy = "date"
    list_per_page = 62
    change_list_template = "admin/chat/chatanalytics/change_list.html"
    fields = (
        "date",
        ("total_sessions", "answered_sessions", "abandoned_sessions", "ended_sessions"),
        ("total_messages", "customer_messages", "agent_messages", "timed_replies"),
        ("frt_average", "frt_median_display", "frt_p90_display"),
        ("response_time", "duration"),
        ("satisfaction", "ratings_count", "csat", "sla"),
        "issues",
        "agents",
        "computed_at",
    )
    readonly_fields = tuple(
        name for line in fields for name in (line if isinstance(line, tuple) else (line,))
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("first response, average"), ordering="frt_avg")
    def frt_average(self, row):
        return SECONDS.text(row.frt_avg)

    @admin.display(description=gettext_lazy("first response, median"), ordering="frt_median")
    def frt_median_display(self, row):
        return SECONDS.text(row.frt_median)

    @admin.display(description=gettext_lazy("first response, p90"), ordering="frt_p90")
    def frt_p90_display(self, row):
        return SECONDS.text(row.frt_p90)

    @admin.display(description=gettext_lazy("response time"), ordering="avg_response_time")
    def response_time(self, row):
        return SECONDS.text(row.avg_response_time)

    @admin.display(description=gettext_lazy("average duration"), ordering="avg_session_duration")
    def duration(self, row):
        return MINUTES.text(row.avg_session_duration)

    @admin.display(description=gettext_lazy("satisfaction"), ordering="satisfaction_avg")
    def satisfaction(self, row):
        return rating_text(row.satisfaction_avg)

    @admin.display(description=gettext_lazy("CSAT"), ordering="csat_share")
    def csat(self, row):
        return share_text(row.csat_share)

    @admin.display(description=gettext_lazy("SLA"), ordering="sla_share")
    def sla(self, row):
        return share_text(row.sla_share)

    @admin.display(description=gettext_lazy("common issues"))
    def issues(self, row):
        return (
            ", ".join(
                f"{metrics.issue_label(item['issue'])}: {item['count']}" for item in row.common_issues or []
            )
            or "—"
        )

    @admin.display(description=gettext_lazy("per agent"))
    def agents(self, row):
        return (
            "; ".join(
                _("%(agent)s: %(chats)d chats, first response %(frt)s, satisfaction %(rating)s")
                % {
                    "agent": entry.get("agent_name") or f"#{entry['agent_id']}",
                    "chats": entry.get("chats", 0),
                    "frt": seconds_text(entry.get("frt_avg")),
                    "rating": rating_text(entry.get("satisfaction_avg")),
                }
                for entry in row.per_agent or []
            )
            or "—"
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_view_metrics": policy.can(request.user, policy.VIEW_METRICS),
        }
        return super().changelist_view(request, extra_context)

    # -- extra screens ------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("metrics/", wrap(self.metrics_view), name="chat_metrics"),
            path("export/daily.csv", wrap(self.export_daily_view), name="chat_metrics_export_daily"),
            path(
                "export/conversations.csv",
                wrap(self.export_conversations_view),
                name="chat_metrics_export_conversations",
            ),
            *super().get_urls(),
        ]

    # Who may: the access policy (chat/policy.py). The daily rows are the metrics screen's.
    def has_module_permission(self, request):
        return policy.can(request.user, policy.VIEW_METRICS)

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, policy.VIEW_METRICS)

    @staticmethod
    def _require(request, capability: policy.Capability) -> None:
        if not policy.can(request.user, capability):
            raise PermissionDenied

    def metrics_view(self, request):
        self._require(request, policy.VIEW_METRICS)
        period = _period_from(request.GET.get("days"))
        current, previous = metrics.load_periods(period)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Service metrics"),
            "opts": self.model._meta,
            "period": period,
            "periods": [(days, days == period) for days in PERIODS],
            "current": current,
            "previous": previous,
            **metrics_screen(current, previous),
            "live": _live_context(),
            "export_daily_url": reverse("admin:chat_metrics_export_daily"),
            "export_conversations_url": reverse("admin:chat_metrics_export_conversations"),
            "changelist_url": reverse("admin:chat_chatanalytics_changelist"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/chat/metrics.html", context)

    def export_daily_view(self, request):
        self._require(request, policy.EXPORT)
        first, last, error = _export_range(request)
        if error:
            return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
        audit.record(
            actor=request.user,
            action=audit.Action.EXPORT_DAILY,
            target=f"{first}..{last}",
            ip=client_ip(request),
        )
        rows = metrics.daily_rows(first, last).values(*DAILY_CSV_SOURCE)
        return _csv_response(
            f"jtchat-metricas-diarias_{first}_{last}.csv",
            DAILY_CSV_HEADER,
            (daily_csv_cells(row) for row in rows.iterator(chunk_size=ROWS_PER_CHUNK)),
        )

    def export_conversations_view(self, request):
        self._require(request, policy.EXPORT)
        first, last, error = _export_range(request)
        if error:
            return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
        audit.record(
            actor=request.user,
            action=audit.Action.EXPORT_CONVERSATIONS,
            target=f"{first}..{last}",
            ip=client_ip(request),
        )
        rows = metrics.conversation_rows(first, last, chunk_size=2000)
        zone = timezone.get_current_timezone()
        return _csv_response(
            f"jtchat-conversas_{first}_{last}.csv",
            CONVERSATION_CSV_HEADER,
            (conversation_csv_cells(row, zone) for row in rows),
        )


def _period_from(raw) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return value if value in PERIODS else DEFAULT_PERIOD


# --- the metrics screen ---------------------------------------------------------------


def _change(current, previous, *, kind: str, lower_is_better: bool | None):
    """How a figure moved against the previous period, as text and a direction.

    ``kind``: "relative" (counts, durations: percent change), "points" (shares: percentage
    points) or "absolute" (ratings: the difference).
    """
    if current is None or previous is None or (kind == "relative" and not previous):
        return {"text": "—", "trend": "none"}
    difference = current - previous
    if kind == "relative":
        amount = difference / previous * 100
        text = f"{'+' if amount > 0 else ''}{charts.format_number(amount, 1)} %"
    elif kind == "points":
        amount = difference * 100
        text = f"{'+' if amount > 0 else ''}{charts.format_number(amount, 1)} p.p."
    else:
        amount = difference
        text = f"{'+' if amount > 0 else ''}{charts.format_number(amount, 2)}"
    if abs(amount) < 0.05:
        trend = "same"
    elif lower_is_better is None:
        trend = "up" if amount > 0 else "down"
    else:
        trend = "better" if (amount < 0) == lower_is_better else "worse"
    return {"text": text.replace("-", "−"), "trend": trend}


def _headlines(summary: dict, before: dict) -> list[dict]:
    figures = [
        ("sessions", _("Chats"), summary["total_sessions"], before["total_sessions"], "relative", None,
         charts.format_number(summary["total_sessions"], 0)),
        ("messages", _("Messages"), summary["total_messages"], before["total_messages"], "relative", None,
         charts.format_number(summary["total_messages"], 0)),
        ("answered", _("Answered"), summary["answered_share"], before["answered_share"], "points", False,
         share_text(summary["answered_share"])),
        ("frt", _("First response, average"), summary["frt_avg"], before["frt_avg"], "relative", True,
         seconds_text(summary["frt_avg"])),
        ("response", _("Response time, average"), summary["avg_response_time"], before["avg_response_time"],
         "relative", True, seconds_text(summary["avg_response_time"])),
        ("duration", _("Chat duration, average"), summary["avg_session_duration"],
         before["avg_session_duration"], "relative", None, seconds_text(summary["avg_session_duration"])),
        ("satisfaction", _("Satisfaction (1–5)"), summary["satisfaction_avg"], before["satisfaction_avg"],
         "absolute", False, rating_text(summary["satisfaction_avg"])),
        ("csat", _("CSAT (ratings 4–5)"), summary["csat_share"], before["csat_share"], "points", False,
         share_text(summary["csat_share"])),
        ("sla", _("Within the SLA"), summary["sla_share"], before["sla_share"], "points", False,
         share_text(summary["sla_share"])),
        ("abandoned", _("Abandoned"), summary["abandoned_sessions"], before["abandoned_sessions"], "relative",
         True, charts.format_number(summary["abandoned_sessions"], 0)),
    ]  # fmt: skip
    return [
        {
            "key": key,
            "label": label,
            "value": shown,
            "change": _change(value, previous, kind=kind, lower_is_better=lower_is_better),
        }
        for key, label, value, previous, kind, lower_is_better, shown in figures
    ]


def metrics_screen(current: metrics.Period, previous: metrics.Period) -> dict:
    """Everything the metrics screen shows about a period (no queries but the agents' names)."""
    summary = metrics.summarize(current.rows)
    before = metrics.summarize(previous.rows)
    labels = current.days
    by_day = {row.date: row for row in current.rows}
    rows = [by_day.get(day) for day in labels]

    def column(name):
        return [getattr(row, name) if row is not None else None for row in rows]

    frt_series = [
        Series(_("Average"), column("frt_avg")),
        Series(_("Median"), column("frt_median")),
        Series(_("90th percentile"), column("frt_p90")),
    ]
    frt_unit = duration_unit(max((v for s in frt_series for v in s.values if v is not None), default=0))
    response_values = column("avg_response_time")
    response_unit = duration_unit(max((v for v in response_values if v is not None), default=0))
    issues = [(metrics.issue_label(item["issue"]), item["count"]) for item in summary["common_issues"]]
    chart_list = [
        {
            "id": "chart-frt",
            "title": _("First response time per day"),
            "svg": charts.line_chart(
                chart_id="chart-frt",
                title=_("First response time per day"),
                labels=labels,
                series=frt_series,
                unit=frt_unit,
                y_label=_("First response"),
            ),
        },
        {
            "id": "chart-response",
            "title": _("Response time per day"),
            "svg": charts.line_chart(
                chart_id="chart-response",
                title=_("Response time per day"),
                labels=labels,
                series=[Series(_("Average"), response_values)],
                unit=response_unit,
                y_label=_("Response time"),
            ),
        },
        {
            "id": "chart-sessions",
            "title": _("Chats per day"),
            "svg": charts.bar_chart(
                chart_id="chart-sessions",
                title=_("Chats per day"),
                labels=labels,
                values=column("total_sessions"),
                unit=COUNT,
                y_label=_("Chats"),
                series_name=_("Chats"),
            ),
        },
        {
            "id": "chart-csat",
            "title": _("CSAT per day (share of ratings 4–5)"),
            "svg": charts.bar_chart(
                chart_id="chart-csat",
                title=_("CSAT per day (share of ratings 4–5)"),
                labels=labels,
                values=column("csat_share"),
                unit=PERCENT,
                y_label=_("CSAT"),
                series_name=_("CSAT"),
                top=1.0,
            ),
        },
        {
            "id": "chart-sla",
            "title": _("Chats answered within the SLA per day"),
            "svg": charts.bar_chart(
                chart_id="chart-sla",
                title=_("Chats answered within the SLA per day"),
                labels=labels,
                values=column("sla_share"),
                unit=PERCENT,
                y_label=_("Within the SLA"),
                series_name=_("Within the SLA"),
                top=1.0,
            ),
        },
        {
            "id": "chart-issues",
            "title": _("Common issues"),
            "svg": charts.horizontal_bar_chart(
                chart_id="chart-issues", title=_("Common issues"), items=issues, unit=COUNT
            ),
        },
    ]
    frt_columns = ("frt_avg", "frt_median", "frt_p90", "avg_response_time")
    units = {name: column_unit(column(name)) for name in frt_columns}
    table = [
        {
            "day": day,
            "computed": row is not None,
            "sessions": row.total_sessions if row else None,
            **{name: units[name].text(getattr(row, name)) if row else "—" for name in frt_columns},
            "csat": share_text(row.csat_share) if row else "—",
            "sla": share_text(row.sla_share) if row else "—",
        }
        for day, row in zip(labels, rows, strict=True)
    ]
    period_agents = metrics.summarize_agents(current.rows)
    agent_frt_unit = column_unit(agent["frt_avg"] for agent in period_agents)
    agent_response_unit = column_unit(agent["avg_response_time"] for agent in period_agents)
    agents = [
        {
            **agent,
            "frt_text": agent_frt_unit.text(agent["frt_avg"]),
            "response_text": agent_response_unit.text(agent["avg_response_time"]),
            "satisfaction_text": rating_text(agent["satisfaction_avg"]),
        }
        for agent in period_agents
    ]
    return {
        "summary": summary,
        "headlines": _headlines(summary, before),
        "charts": chart_list,
        "daily_table": table,
        "agents": agents,
        "issues": issues,
        "missing_days": current.missing_days,
    }


def _live_context() -> dict:
    live = metrics.live_figures()
    return {**live, "oldest_wait_text": seconds_text(live["oldest_wait_seconds"])}


# --- CSV exports ------------------------------------------------------------------------


class _Echo:
    """A file-like object whose write() hands back the line the csv writer made."""

    def write(self, value: str) -> str:
        return value


def neutralise(cell: str) -> str:
    """Keep spreadsheets from running a cell as a formula (OWASP "CSV injection")."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_number(value, decimals: int = 3) -> str:
    """A decimal comma and no trailing zeros: 12.5 → "12,5"; None → ""."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def csv_datetime(value, zone=None) -> str:
    """Local date and time, to the second: 2024-05-31 14:03:09."""
    if not value:
        return ""
    return value.astimezone(zone or timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M:%S")


def csv_percent(share) -> str:
    return csv_number(None if share is None else share * 100, 2)


def stream_csv(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """The CSV text in chunks of a few hundred lines, BOM first."""
    writer = csv.writer(_Echo(), delimiter=CSV_DELIMITER, lineterminator="\r\n")
    chunk = ["\ufeff", writer.writerow(header)]
    for row in rows:
        chunk.append(writer.writerow([neutralise("" if cell is None else str(cell)) for cell in row]))
        if len(chunk) >= ROWS_PER_CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def _csv_response(filename: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream_csv(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _export_range(request) -> tuple[date | None, date | None, str | None]:
    """The export's days from ``from``/``to`` (YYYY-MM-DD); default the last 30 days."""
    default_last = metrics.yesterday()
    try:
        last = date.fromisoformat(request.GET["to"]) if request.GET.get("to") else default_last
        first = (
            date.fromisoformat(request.GET["from"])
            if request.GET.get("from")
            else last - timedelta(days=DEFAULT_PERIOD - 1)
        )
    except ValueError:
        return None, None, _("Use dates as YYYY-MM-DD, e.g. 2024-05-31.")
    if first > last:
        return None, None, _("The first day is after the last day.")
    if (last - first).days + 1 > MAX_EXPORT_DAYS:
        return None, None, _("Export at most %(days)d days at a time.") % {"days": MAX_EXPORT_DAYS}
    return first, last, None


# Every stored figure of a day except the per-agent JSON and the bookkeeping timestamp.
DAILY_CSV_SOURCE = [field for field in metrics.DAILY_FIELDS if field not in ("per_agent", "computed_at")]
DAILY_CSV_HEADER = [
    "date",
    "sessions",
    "messages",
    "customer_messages",
    "agent_messages",
    "answered",
    "abandoned",
    "ended",
    "frt_avg_s",
    "frt_median_s",
    "frt_p90_s",
    "response_avg_s",
    "timed_replies",
    "duration_avg_s",
    "satisfaction_avg",
    "ratings",
    "csat_pct",
    "sla_pct",
    "common_issues",
]


def daily_csv_cells(row: dict) -> list:
    return [
        row["date"].isoformat(),
        row["total_sessions"],
        row["total_messages"],
        row["customer_messages"],
        row["agent_messages"],
        row["answered_sessions"],
        row["abandoned_sessions"],
        row["ended_sessions"],
        csv_number(row["frt_avg"]),
        csv_number(row["frt_median"]),
        csv_number(row["frt_p90"]),
        csv_number(row["avg_response_time"]),
        row["timed_replies"],
        csv_number(row["avg_session_duration"]),
        csv_number(row["satisfaction_avg"]),
        row["ratings_count"],
        csv_percent(row["csat_share"]),
        csv_percent(row["sla_share"]),
        " | ".join(f"{item['issue']}: {item['count']}" for item in row["common_issues"] or []),
    ]


CONVERSATION_CSV_HEADER = [
    "id",
    "started_at",
    "ended_at",
    "status",
    "ended_by",
    "agent",
    "customer_name",
    "topic",
    "issue",
    "frt_s",
    "response_avg_s",
    "response_max_s",
    "agent_replies",
    "duration_s",
    "rating",
    "comment",
]


def conversation_csv_cells(row: dict, zone=None) -> list:
    return [
        row["id"],
        csv_datetime(row["started_at"], zone),
        csv_datetime(row["ended_at"], zone),
        row["status"],
        row["ended_by"],
        row["agent_name"] or "",
        row["customer_name"],
        row["topic"],
        row["issue"],
        csv_number(row["frt_seconds"]),
        csv_number(row["response_avg_seconds"]),
        csv_number(row["response_max_seconds"]),
        row["agent_replies"],
        csv_number(row["duration_seconds"]),
        row["satisfaction_rating"] if row["satisfaction_rating"] is not None else "",
        row["satisfaction_comment"],
    ]
