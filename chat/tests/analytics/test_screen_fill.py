"""Opening a period fills in its missing past days, once, through the daily service."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.analytics.daily import compute_daily_metrics
from chat.analytics.days import yesterday
from chat.analytics.screen import open_periods
from chat.models import ChatAnalytics

from .factories import local, make_session
from .test_screen import METRICS_URL, add_day, cards

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def writes(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries
        if "chat_chatanalytics" in query["sql"]
        and query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]


def test_a_day_without_a_row_gets_one_when_the_screen_opens(manager_client, agent):
    day = yesterday() - timedelta(days=2)
    make_session(
        local(day, 9), agent=agent, first_response_at=local(day, 9, 1, 30), ended_at=local(day, 9, 20)
    )
    assert not ChatAnalytics.objects.exists()

    html = manager_client.get(METRICS_URL, {"days": 7}).content.decode()

    assert ChatAnalytics.objects.count() == 14  # the week shown and the week it is compared with
    assert ChatAnalytics.objects.get(date=day).total_sessions == 1
    figures = cards(html)
    assert figures["total_sessions"]["value"] == "1"
    assert figures["frt_avg"]["value"] == "1:30"
    content = html.split('<div id="content-main"')[1]
    assert "compute_daily_metrics" not in content and "manage.py" not in content
    assert "data-missing-days" not in content


def test_a_second_opening_computes_nothing(manager_client, agent):
    day, busy, empty = yesterday(), yesterday() - timedelta(days=30), yesterday() - timedelta(days=31)
    for started in (local(day, 9), local(busy, 9)):
        make_session(started, agent=agent, first_response_at=started + timedelta(minutes=1))
    with CaptureQueriesContext(connection) as per_busy_day:
        compute_daily_metrics(busy)
    with CaptureQueriesContext(connection) as per_empty_day:
        compute_daily_metrics(empty)

    with CaptureQueriesContext(connection) as first:
        manager_client.get(METRICS_URL, {"days": 7})
    stamps = dict(ChatAnalytics.objects.values_list("date", "computed_at"))
    with CaptureQueriesContext(connection) as second:
        manager_client.get(METRICS_URL, {"days": 7})

    assert len(writes(first)) == 14
    assert writes(second) == []
    assert dict(ChatAnalytics.objects.values_list("date", "computed_at")) == stamps
    # The fill is 14 days of the daily service's fixed handful of queries (one more, for the
    # agents' names, on the day with a chat), and nothing else.
    assert len(first) - len(second) == 13 * len(per_empty_day) + len(per_busy_day)


def test_only_missing_days_are_computed_and_stored_rows_are_kept(manager_client):
    kept = add_day(yesterday(), total_sessions=10)  # no chats behind it: a recomputation would say 0

    manager_client.get(METRICS_URL, {"days": 7})

    kept.refresh_from_db()
    assert kept.total_sessions == 10
    assert ChatAnalytics.objects.count() == 14


def test_the_fill_is_bounded_by_the_periods_shown_and_never_touches_today(manager_client):
    manager_client.get(METRICS_URL, {"days": 30})
    assert ChatAnalytics.objects.count() == 60
    assert ChatAnalytics.objects.order_by("date").first().date == yesterday() - timedelta(days=59)

    today = timezone.localdate()
    current, previous, computed = open_periods(7, last=today)
    assert today in current.days
    assert today not in [row.date for row in computed]
    assert not ChatAnalytics.objects.filter(date=today).exists()


def test_after_the_fill_the_queries_do_not_grow_with_the_days(manager_client):
    manager_client.get(METRICS_URL, {"days": 7})
    manager_client.get(METRICS_URL, {"days": 90})
    with CaptureQueriesContext(connection) as week:
        manager_client.get(METRICS_URL, {"days": 7})
    with CaptureQueriesContext(connection) as quarter:
        manager_client.get(METRICS_URL, {"days": 90})
    assert len(quarter) == len(week)
    assert writes(week) == writes(quarter) == []
