"""CSV exports of the metrics: the daily rows and one row per chat.

Made for Excel in Brazil: UTF-8 with a byte-order mark (so accents show right), ``;`` between
cells and a decimal comma (Excel pt-BR reads ``;`` as the separator and ``12,5`` as a
number); dates are ISO (``2024-05-31``, ``2024-05-31 14:03:09``, local time of
``settings.TIME_ZONE``). Headers are the figures' labels in the active language with their
unit (``Tempo médio de resposta (min:s)``, ``Dentro do SLA (%)``), and every figure reads
as on the screen: durations as minutes:seconds (``1:30``; Excel takes it for a time of day,
so a column still sorts and adds up, shown as ``01:30``), shares as percentages with one
decimal, ratings with two. Categories (issue, topic, status, who ended) are their labels
(``Atraso / entrega``, ``Cliente``), not their codes. A cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading ``'`` so that a spreadsheet never
runs it as a formula (customer names and comments are free text).

The daily export's columns are the registry's CSV metrics: a header and its cells come from
one declaration.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import services as audit
from chat import policy
from chat.models import ChatSession, Issue
from jtchat.network import client_ip

from . import periods, registry
from .conversations import conversation_rows
from .days import yesterday
from .screen import DEFAULT_PERIOD, require
from .units import COUNT, DURATION

MAX_EXPORT_DAYS = 366
CSV_DELIMITER = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


class _Echo:
    """A file-like object whose write() hands back the line the csv writer made."""

    def write(self, value: str) -> str:
        return value


def neutralise(cell: str) -> str:
    """Keep spreadsheets from running a cell as a formula (OWASP "CSV injection")."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_datetime(value, zone=None) -> str:
    """Local date and time, to the second: 2024-05-31 14:03:09."""
    if not value:
        return ""
    return value.astimezone(zone or timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M:%S")


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


def csv_response(filename: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream_csv(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def export_range(request) -> tuple[date | None, date | None, str | None]:
    """The export's days from ``from``/``to`` (YYYY-MM-DD); default the last 30 days."""
    try:
        last = date.fromisoformat(request.GET["to"]) if request.GET.get("to") else yesterday()
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


def _bad_range(error: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")


def _audit(request, action: str, first: date, last: date) -> None:
    """Exports are access to data in bulk: who took which days, from where."""
    audit.record(actor=request.user, action=action, target=f"{first}..{last}", ip=client_ip(request))


# --- the daily rows ------------------------------------------------------------------------


def daily_header() -> list[str]:
    return [
        str(capfirst(_("date"))),
        *(metric.unit.csv_heading(metric.label) for metric in registry.csv_columns()),
    ]


def daily_cells(row) -> list:
    return [
        row.date.isoformat(),
        *(metric.unit.csv(getattr(row, metric.key)) for metric in registry.csv_columns()),
    ]


def export_daily_view(request):
    require(request, policy.EXPORT)
    first, last, error = export_range(request)
    if error:
        return _bad_range(error)
    _audit(request, audit.Action.EXPORT_DAILY, first, last)
    rows = periods.daily_rows(first, last).only("date", *(metric.key for metric in registry.csv_columns()))
    return csv_response(
        f"jtchat-metricas-diarias_{first}_{last}.csv",
        daily_header(),
        (daily_cells(row) for row in rows.iterator(chunk_size=ROWS_PER_CHUNK)),
    )


# --- one row per chat ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the conversations export: its header and how a row's cell reads."""

    heading: Callable[[], str]
    cell: Callable[[dict, dict], object]  # (row, context: time zone and choice labels)


def _field_label(name: str) -> Callable[[], str]:
    return lambda: str(capfirst(ChatSession._meta.get_field(name).verbose_name))


def _duration(key: str, label) -> Column:
    return Column(lambda: DURATION.csv_heading(label), lambda row, context: DURATION.csv(row[key]))


def _choice(key: str, labels: str) -> Column:
    return Column(_field_label(key), lambda row, context: context[labels].get(row[key], row[key]))


def _yes_no(key: str) -> Column:
    return Column(_field_label(key), lambda row, context: context["yes"] if row[key] else context["no"])


CONVERSATION_COLUMNS = (
    Column(lambda: str(capfirst(_("chat"))), lambda row, context: row["id"]),
    Column(_field_label("started_at"), lambda row, context: csv_datetime(row["started_at"], context["zone"])),
    Column(_field_label("ended_at"), lambda row, context: csv_datetime(row["ended_at"], context["zone"])),
    _choice("status", "statuses"),
    _choice("ended_by", "ended_by"),
    Column(_field_label("assigned_agent"), lambda row, context: row["agent_name"] or ""),
    Column(lambda: _("Customer name"), lambda row, context: row["customer_name"]),
    _choice("topic", "issues"),
    _choice("issue", "issues"),
    _duration("frt_seconds", gettext_lazy("First response")),
    _duration("response_avg_seconds", gettext_lazy("Response time, average")),
    _duration("response_max_seconds", gettext_lazy("Response time, longest")),
    Column(lambda: _("Agent replies"), lambda row, context: COUNT.csv(row["agent_replies"])),
    Column(lambda: _("Files"), lambda row, context: COUNT.csv(row["files"])),
    _duration("duration_seconds", gettext_lazy("Chat duration")),
    Column(_field_label("satisfaction_rating"), lambda row, context: COUNT.csv(row["satisfaction_rating"])),
    Column(_field_label("satisfaction_comment"), lambda row, context: row["satisfaction_comment"]),
    _yes_no("opened_without_agents"),
    _yes_no("opened_outside_hours"),
)


def conversation_header() -> list[str]:
    return [column.heading() for column in CONVERSATION_COLUMNS]


def conversation_cells(row: dict, context: dict) -> list:
    return [column.cell(row, context) for column in CONVERSATION_COLUMNS]


def conversation_context() -> dict:
    """What every row's cells read, worked out once per export (labels in the active language)."""
    return {
        "zone": timezone.get_current_timezone(),
        "statuses": {value: str(label) for value, label in ChatSession.Status.choices},
        "ended_by": {value: str(label) for value, label in ChatSession.EndedBy.choices},
        "issues": {value: str(label) for value, label in Issue.choices},
        "yes": _("yes"),
        "no": _("no"),
    }


def export_conversations_view(request):
    require(request, policy.EXPORT)
    first, last, error = export_range(request)
    if error:
        return _bad_range(error)
    _audit(request, audit.Action.EXPORT_CONVERSATIONS, first, last)
    context = conversation_context()
    return csv_response(
        f"jtchat-conversas_{first}_{last}.csv",
        conversation_header(),
        (conversation_cells(row, context) for row in conversation_rows(first, last, chunk_size=2000)),
    )
