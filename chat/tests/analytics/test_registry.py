"""The registry drives every output: a metric declared once shows wherever it is declared to.

One day of chats goes through the real pipeline (compute_daily_metrics), then the screen, the
daily CSV, the API and the admin list are read the way a manager or an integrator reads
them, and each metric of the registry is looked for where its declaration says it shows —
and not where it says it does not.
"""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Avg, Count, Q

from chat.analytics import registry
from chat.analytics.daily import compute_daily_metrics
from chat.analytics.days import yesterday
from chat.analytics.registry import (
    CATEGORY_BARS,
    MESSAGES,
    NEUTRAL,
    PERCENTILE_PERIOD,
    SESSIONS,
    Aggregate,
    Metric,
    Percentile,
    Summed,
    Total,
)
from chat.analytics.sql import FRT_SECONDS
from chat.analytics.units import COUNT, DURATION
from chat.models import ChatAnalytics

from .factories import agent_says, customer_says, local, make_session

pytestmark = pytest.mark.django_db

METRICS_URL = "/admin/chat/chatanalytics/metrics/"
CHANGELIST_URL = "/admin/chat/chatanalytics/"
DAILY_CSV_URL = "/admin/chat/chatanalytics/export/daily.csv"
API_URL = "/api/chat/analytics/"


def a_day_of_chats(day, agent):
    """Four chats: answered within and beyond the SLA, rated high and low, one abandoned."""
    for hour, frt, replies, rating, issue in [
        (9, 60, [30, 60], 5, "rastreamento"),
        (10, 180, [175], 2, "atraso_entrega"),
        (11, 45, [45, 400], 4, "rastreamento"),
    ]:
        started = local(day, hour)
        chat = make_session(
            started,
            agent=agent,
            first_response_at=local(day, hour, frt // 60, frt % 60),
            ended_at=local(day, hour, 30),
            rating=rating,
            issue=issue,
        )
        for minute, seconds in enumerate(replies):
            customer_says(chat, local(day, hour, minute * 10))
            agent_says(chat, agent, local(day, hour, minute * 10 + 5), response_seconds=seconds)
    abandoned = make_session(local(day, 12), ended_at=local(day, 12, 10), issue="endereco")
    customer_says(abandoned, local(day, 12, 0, 30))


@pytest.fixture
def outputs(client, manager, agent):
    day = yesterday()
    a_day_of_chats(day, agent)
    row = compute_daily_metrics(day)
    client.force_login(manager)
    raw = b"".join(client.get(DAILY_CSV_URL, {"from": day, "to": day}).streaming_content).decode("utf-8-sig")
    header, *cells = list(csv.reader(io.StringIO(raw), delimiter=";"))
    return {
        "row": row,
        "screen": client.get(METRICS_URL, {"days": 7}).content.decode(),
        "listing": client.get(CHANGELIST_URL).content.decode(),
        "csv": dict(zip(header, cells[0], strict=True)),
        "api": client.get(API_URL, {"from": day, "to": day}).json(),
    }


def chart_svg(html: str, chart: str) -> str:
    start = html.index(f'id="chart-{chart}"')
    return html[start : html.index("</svg>", start)]


def test_the_model_stores_exactly_what_the_registry_declares():
    figures = {field.name for field in ChatAnalytics._meta.get_fields()} - {
        "id",
        "date",
        "per_agent",
        "computed_at",
    }
    assert figures == {metric.key for metric in registry.stored()}


def test_every_metric_shows_where_it_is_declared_and_nowhere_else(outputs):
    row, screen, listing, csv_row, api = (outputs[key] for key in ("row", "screen", "listing", "csv", "api"))
    shown_cards = set(re.findall(r'data-figure="([^"]+)"', screen))
    daily_table = re.search(r'data-table="daily">(.*?)</table>', screen, re.S).group(1)
    table_headings = re.findall(r'<th scope="col">(.*?)</th>', daily_table)
    problems = []

    def expect(condition: bool, metric, where: str) -> None:
        if not condition:
            problems.append(f"{metric.key}: {where}")

    for metric in registry.METRICS:
        value = getattr(row, metric.key) if metric.stored else None
        if metric.stored:
            expect(value is not None, metric, "no value in the daily row")
            expect(metric.key in api["daily"][0], metric, "not in the API's daily rows")
        expect((metric.key in shown_cards) == bool(metric.card), metric, "card")
        expect((metric.key in api["summary"]) == metric.combined, metric, "API summary")
        heading = metric.unit.csv_heading(metric.label)
        expect((heading in csv_row) == metric.csv, metric, "CSV column")
        if metric.csv:
            expect(csv_row[heading] == metric.unit.csv(value), metric, f"CSV cell {csv_row[heading]!r}")
        in_list = f'class="field-{metric.key}_shown"' in listing
        expect(in_list == metric.admin_list, metric, "admin list column")
        if metric.admin_list:
            cell = re.search(rf'<td class="field-{metric.key}_shown">(.*?)</td>', listing).group(1)
            expect(cell == metric.unit.text(value), metric, f"admin cell {cell!r}")
        if metric.chart:
            chart = registry.CHARTS_BY_KEY[metric.chart]
            svg = chart_svg(screen, metric.chart)
            name = str(metric.series or chart.y_label or metric.label)
            expect(chart.kind == CATEGORY_BARS or name in svg, metric, f"line or bars {name!r} in its chart")
            if chart.kind != CATEGORY_BARS:
                expect(metric.heading in table_headings, metric, "column of the day-by-day table")
                point = f"{yesterday():%d/%m}: {metric.unit.text(value)}"
                expect(point in svg, metric, f"point {point!r} in its chart")
        else:
            expect(metric.heading not in table_headings, metric, "an uncharted figure in the table")
    assert problems == []


def test_the_median_response_time_shows_everywhere_from_its_declaration(client, manager, agent):
    """response_time_median: a model field and a registry entry, nothing else."""
    day = yesterday()
    chat = make_session(local(day, 9), agent=agent, first_response_at=local(day, 9, 0, 30))
    for minute, seconds in enumerate([400, 30, 175, 50]):  # median of 4: (50 + 175) / 2 = 112.5 s
        agent_says(chat, agent, local(day, 9, minute), response_seconds=seconds)
    agent_says(chat, agent, local(day, 9, 5))  # a follow-up nobody waited for: no response time
    agent_says(chat, agent, local(day, 9, 6), response_seconds=999, internal=True)  # a note
    agent_says(chat, agent, local(day, 0, 0) - timedelta(seconds=1), response_seconds=5)  # the day before
    client.force_login(manager)

    screen = client.get(METRICS_URL, {"days": 7}).content.decode()  # the screen computes the day

    assert ChatAnalytics.objects.get(date=day).response_time_median == pytest.approx(112.5)
    assert f"Mediana, {day:%d/%m}: 1:53" in chart_svg(screen, "response")  # 112.5 s to the second
    daily_table = re.search(r'data-table="daily">(.*?)</table>', screen, re.S).group(1)
    assert "Tempo de resposta, mediana (min:s)" in daily_table
    assert 'data-figure="response_time_median"' not in screen  # no card: a period has no median
    raw = b"".join(client.get(DAILY_CSV_URL, {"from": day, "to": day}).streaming_content).decode("utf-8-sig")
    header, cells = list(csv.reader(io.StringIO(raw), delimiter=";"))
    assert dict(zip(header, cells, strict=True))["Tempo de resposta, mediana (min:s)"] == "1:53"
    api = client.get(API_URL, {"from": day, "to": day}).json()
    assert api["daily"][0]["response_time_median"] == pytest.approx(112.5)
    assert "response_time_median" not in api["summary"]
    listing = client.get(CHANGELIST_URL).content.decode()
    assert '<td class="field-response_time_median_shown">1:53</td>' in listing
    assert "Tempo de resposta, mediana (min:s)" in listing


@pytest.mark.parametrize(
    ("metric", "problem"),
    [
        (Metric("x", "X", DURATION, day=None, period=Summed()), "a period-only figure has no CSV"),
        (
            Metric(
                "x",
                "X",
                DURATION,
                day=Percentile(SESSIONS, FRT_SECONDS, 0.5, Q()),
                period=PERCENTILE_PERIOD,
                card=NEUTRAL,
            ),
            "a card needs a figure for the period",
        ),
        (
            Metric("x", "X", COUNT, day=Total(("nope",)), period=Summed(), csv=False),
            "unknown metrics ['nope']",
        ),
        (
            Metric("x", "X", COUNT, day=Aggregate(MESSAGES, Avg("response_seconds")), period=Summed()),
            "Count or a Sum",
        ),
        (
            Metric("x", "X", COUNT, day=Aggregate(SESSIONS, Count("id")), period=Summed(), chart="nope"),
            "unknown chart",
        ),
    ],
)
def test_a_declaration_the_screens_could_not_follow_is_refused_at_import(metric, problem):
    with pytest.raises(ImproperlyConfigured, match=re.escape(problem)):
        registry._check((*registry.METRICS, metric), registry.CHARTS_BY_KEY)
