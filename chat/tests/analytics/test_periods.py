"""A period's figures from its stored days, combined as the registry says."""

from datetime import date, timedelta

import pytest

from chat.analytics import registry
from chat.analytics.periods import Period, load_periods, summarize
from chat.models import ChatAnalytics
from conftest import make_staff

pytestmark = pytest.mark.django_db

DAY = date(2024, 5, 10)
NEXT_DAY = date(2024, 5, 11)


@pytest.fixture
def ana(django_user_model):
    return make_staff(django_user_model, "ana", "Agentes", display_name="Ana")


def test_a_period_combines_days_weighted_by_their_counts(ana):
    ChatAnalytics.objects.create(
        date=DAY,
        total_sessions=10,
        answered_sessions=8,
        frt_avg=100.0,
        timed_replies=20,
        avg_response_time=30.0,
        ratings_count=4,
        satisfaction_avg=5.0,
        csat_share=1.0,
        sla_share=0.5,
        common_issues=[{"issue": "rastreamento", "count": 3}, {"issue": "endereco", "count": 1}],
    )
    ChatAnalytics.objects.create(
        date=NEXT_DAY,
        total_sessions=2,
        answered_sessions=2,
        frt_avg=50.0,
        timed_replies=5,
        avg_response_time=80.0,
        ratings_count=1,
        satisfaction_avg=2.0,
        csat_share=0.0,
        sla_share=1.0,
        common_issues=[{"issue": "endereco", "count": 2}],
    )

    summary = summarize(list(ChatAnalytics.objects.order_by("date")))

    assert summary["total_sessions"] == 12
    assert summary["frt_avg"] == pytest.approx((100 * 8 + 50 * 2) / 10)
    assert summary["avg_response_time"] == pytest.approx((30 * 20 + 80 * 5) / 25)
    assert summary["satisfaction_avg"] == pytest.approx((5 * 4 + 2 * 1) / 5)
    assert summary["csat_share"] == pytest.approx((1.0 * 4 + 0) / 5)
    assert summary["sla_share"] == pytest.approx((0.5 * 8 + 1.0 * 2) / 10)
    assert summary["answered_share"] == pytest.approx(10 / 12, abs=1e-4)
    assert summary["common_issues"] == [
        {"issue": "endereco", "count": 3},
        {"issue": "rastreamento", "count": 3},
    ]


def test_percentiles_are_not_mixed_into_a_period_figure():
    ChatAnalytics.objects.create(date=DAY, answered_sessions=3, frt_median=60.0, frt_p90=150.0)
    ChatAnalytics.objects.create(date=NEXT_DAY, answered_sessions=1, frt_median=10.0, frt_p90=10.0)

    summary = summarize(list(ChatAnalytics.objects.order_by("date")))

    # A median of medians is not the period's median: the period has none (the chart shows each day's).
    assert "frt_median" not in summary and "frt_p90" not in summary
    assert not registry.get("frt_median").combined


def test_a_summary_holds_every_metric_a_period_combines():
    ChatAnalytics.objects.create(date=DAY, total_sessions=4, answered_sessions=3)

    summary = summarize(list(ChatAnalytics.objects.all()))

    assert set(summary) == {"days"} | {metric.key for metric in registry.combined()}
    assert summary["days"] == 1
    assert summary["answered_share"] == 0.75  # a period-only figure: answered over total
    assert summary["frt_avg"] is None  # no day had a first response time


def test_the_period_and_the_previous_one_are_read_in_one_query(django_assert_num_queries):
    for offset in range(14):
        ChatAnalytics.objects.create(date=DAY - timedelta(days=offset), total_sessions=offset)

    with django_assert_num_queries(1):
        current, previous = load_periods(7, last=DAY)

    assert (current.first, current.last) == (DAY - timedelta(days=6), DAY)
    assert (previous.first, previous.last) == (DAY - timedelta(days=13), DAY - timedelta(days=7))
    assert [row.total_sessions for row in current.rows] == [6, 5, 4, 3, 2, 1, 0]
    assert current.missing_days == previous.missing_days == []


def test_rows_computed_later_join_their_period_in_day_order():
    period = Period(DAY, NEXT_DAY, rows=[ChatAnalytics(date=NEXT_DAY)])
    assert period.missing_days == [DAY]

    period.add([ChatAnalytics(date=DAY), ChatAnalytics(date=NEXT_DAY + timedelta(days=1))])

    assert [row.date for row in period.rows] == [DAY, NEXT_DAY]  # the day after is not the period's
    assert period.missing_days == []
