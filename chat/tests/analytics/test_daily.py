"""compute_daily_metrics on hand-built days; every expected figure is worked out here by hand."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from chat.analytics import registry
from chat.analytics.daily import compute_daily_metrics
from chat.analytics.days import local_day_bounds
from chat.analytics.registry import MESSAGES, Percentile
from chat.analytics.sql import interpolated_percentile
from chat.models import ChatAnalytics, ChatSession, EmailStatus, ReplyEmail
from conftest import make_staff

from .factories import agent_says, customer_says, local, make_session, system_says

pytestmark = pytest.mark.django_db

DAY = date(2024, 5, 10)
NEXT_DAY = date(2024, 5, 11)
PREVIOUS_DAY = date(2024, 5, 9)


@pytest.fixture
def ana(django_user_model):
    return make_staff(django_user_model, "ana", "Agentes", display_name="Ana")


@pytest.fixture
def bruno(django_user_model):
    return make_staff(django_user_model, "bruno", "Agentes", display_name="Bruno")


@pytest.fixture
def busy_day(ana, bruno):
    """Five chats started on DAY, one the evening before and one just after midnight.

    S0 started the day before; only its reply made on DAY counts (a message figure).
    S1 Ana: FRT 60 s, ended after 1200 s, rated 5, tracking.
    S2 Bruno: FRT 180 s, ended after 1800 s, rated 3, tracking.
    S3 Ana: FRT 30 s, still open, not rated, damage.
    S4 nobody answered; the customer left after 600 s (abandoned), delay.
    S5 opened at 23:59, still waiting, never wrote (no issue).
    S6 opened at 00:00 of the next day: not part of DAY.
    """
    s0 = make_session(local(PREVIOUS_DAY, 23, 50), agent=ana, first_response_at=local(DAY, 0, 5))
    customer_says(s0, local(PREVIOUS_DAY, 23, 58))
    agent_says(s0, ana, local(DAY, 0, 5), response_seconds=400)

    s1 = make_session(
        local(DAY, 9, 0),
        agent=ana,
        first_response_at=local(DAY, 9, 1),
        ended_at=local(DAY, 9, 20),
        rating=5,
        issue="rastreamento",
    )
    customer_says(s1, local(DAY, 9, 0, 10))
    system_says(s1, local(DAY, 9, 0, 50))
    agent_says(s1, ana, local(DAY, 9, 1), response_seconds=50)
    customer_says(s1, local(DAY, 9, 5))
    agent_says(s1, ana, local(DAY, 9, 6), response_seconds=60)
    agent_says(s1, ana, local(DAY, 9, 7), internal=True, content="nota interna")
    system_says(s1, local(DAY, 9, 20), content="O cliente encerrou a conversa.")

    s2 = make_session(
        local(DAY, 10, 0),
        agent=bruno,
        first_response_at=local(DAY, 10, 3),
        ended_at=local(DAY, 10, 30),
        rating=3,
        issue="rastreamento",
    )
    customer_says(s2, local(DAY, 10, 0, 5))
    agent_says(s2, bruno, local(DAY, 10, 3), response_seconds=175)
    agent_says(s2, bruno, local(DAY, 10, 4))  # a follow-up: nobody was waiting, no response time

    s3 = make_session(
        local(DAY, 11, 0), agent=ana, first_response_at=local(DAY, 11, 0, 30), issue="avaria_extravio"
    )
    customer_says(s3, local(DAY, 11, 0))
    agent_says(s3, ana, local(DAY, 11, 0, 30), response_seconds=30)

    s4 = make_session(local(DAY, 12, 0), ended_at=local(DAY, 12, 10), issue="atraso_entrega")
    customer_says(s4, local(DAY, 12, 0))
    customer_says(s4, local(DAY, 12, 5))

    make_session(local(DAY, 23, 59))

    s6 = make_session(local(NEXT_DAY, 0, 0), issue="rastreamento")
    customer_says(s6, local(NEXT_DAY, 0, 0, 30))


def test_a_busy_day_gives_every_figure(busy_day, settings):
    settings.CHAT_SLA_FIRST_RESPONSE_SECONDS = 120
    row = compute_daily_metrics(DAY)

    assert row.date == DAY
    assert row.total_sessions == 5  # S1..S5
    assert row.customer_messages == 2 + 1 + 1 + 2  # S1, S2, S3, S4 (S0's was the day before)
    assert row.agent_messages == 1 + 2 + 2 + 1  # S0, S1, S2, S3 (no internal note, no system)
    assert row.total_messages == 6 + 6
    assert row.answered_sessions == 3  # S1, S2, S3
    assert row.ended_sessions == 3  # S1, S2, S4
    assert row.abandoned_sessions == 1  # S4

    assert row.frt_avg == pytest.approx((60 + 180 + 30) / 3)
    assert row.frt_median == pytest.approx(60)  # sorted 30, 60, 180
    # p90: position 0.9 × (3 − 1) = 1.8 → 60 + 0.8 × (180 − 60)
    assert row.frt_p90 == pytest.approx(60 + 0.8 * (180 - 60))

    assert row.timed_replies == 5
    assert row.avg_response_time == pytest.approx((400 + 50 + 60 + 175 + 30) / 5)
    assert row.avg_session_duration == pytest.approx((1200 + 1800 + 600) / 3)

    assert row.satisfaction_avg == pytest.approx((5 + 3) / 2)
    assert row.ratings_count == 2
    assert row.csat_share == pytest.approx(1 / 2)
    assert row.sla_share == pytest.approx(2 / 3, abs=1e-4)  # S1 (60 s) and S3 (30 s) within 120 s

    assert row.common_issues == [
        {"issue": "rastreamento", "count": 2},
        {"issue": "atraso_entrega", "count": 1},  # ties in code order
        {"issue": "avaria_extravio", "count": 1},
    ]


def test_per_agent_figures(busy_day, ana, bruno):
    row = compute_daily_metrics(DAY)

    ana_row, bruno_row = row.per_agent
    assert ana_row["agent_id"] == ana.pk
    assert ana_row["agent_name"] == "Ana"
    assert ana_row["chats"] == 2  # S1, S3
    assert ana_row["answered"] == 2
    assert ana_row["frt_avg"] == pytest.approx((60 + 30) / 2)
    assert ana_row["replies"] == 1 + 2 + 1  # S0, S1, S3
    assert ana_row["timed_replies"] == 4
    assert ana_row["avg_response_time"] == pytest.approx((400 + 50 + 60 + 30) / 4)
    assert ana_row["ratings"] == 1
    assert ana_row["satisfaction_avg"] == pytest.approx(5)

    assert bruno_row["agent_id"] == bruno.pk
    assert bruno_row["chats"] == 1
    assert bruno_row["frt_avg"] == pytest.approx(180)
    assert bruno_row["replies"] == 2
    assert bruno_row["avg_response_time"] == pytest.approx(175)
    assert bruno_row["satisfaction_avg"] == pytest.approx(3)


def test_sla_follows_the_setting(busy_day, settings):
    settings.CHAT_SLA_FIRST_RESPONSE_SECONDS = 180
    assert compute_daily_metrics(DAY).sla_share == pytest.approx(3 / 3)
    settings.CHAT_SLA_FIRST_RESPONSE_SECONDS = 59
    assert compute_daily_metrics(DAY).sla_share == pytest.approx(1 / 3, abs=1e-4)


def test_chats_opened_outside_hours_and_answered_by_email(ana):
    """Counted over the day's chats: the mark made when each opened, and whether a reply
    e-mail actually went (one that failed or was not needed does not count)."""
    outside = make_session(
        local(DAY, 22, 0), agent=ana, opened_outside_hours=True, opened_without_agents=True
    )
    emailed = make_session(local(DAY, 9, 0), agent=ana)
    failed = make_session(local(DAY, 10, 0), agent=ana)
    before = make_session(local(PREVIOUS_DAY, 23, 0), agent=ana, opened_outside_hours=True)
    sent = {"status": EmailStatus.SENT, "due_at": local(DAY, 9, 10)}
    for chat in (outside, emailed, before):
        ReplyEmail.objects.create(session=chat, **sent)
    ReplyEmail.objects.create(session=emailed, **sent)  # a second e-mail: still one chat
    ReplyEmail.objects.create(session=failed, status=EmailStatus.FAILED, due_at=local(DAY, 10, 10))

    row = compute_daily_metrics(DAY)

    assert row.opened_outside_hours == 1
    assert row.answered_by_email == 2  # outside and emailed; the one before is the previous day's


def test_a_day_with_no_sessions():
    row = compute_daily_metrics(DAY)

    assert (row.total_sessions, row.total_messages, row.customer_messages, row.agent_messages) == (0, 0, 0, 0)
    assert (row.answered_sessions, row.abandoned_sessions, row.ratings_count) == (0, 0, 0)
    assert row.frt_avg is None and row.frt_median is None and row.frt_p90 is None
    assert row.avg_response_time is None and row.avg_session_duration is None
    assert row.satisfaction_avg is None and row.csat_share is None and row.sla_share is None
    assert row.common_issues == [] and row.per_agent == []


def test_a_day_of_unanswered_and_unrated_sessions(ana):
    waiting = make_session(local(DAY, 8, 0), issue="endereco")
    customer_says(waiting, local(DAY, 8, 0, 5))
    closed_by_system = make_session(
        local(DAY, 9, 0), ended_at=local(DAY, 9, 30), status=ChatSession.Status.ENDED, issue="endereco"
    )
    customer_says(closed_by_system, local(DAY, 9, 1))
    answered = make_session(
        local(DAY, 10, 0), agent=ana, first_response_at=local(DAY, 10, 4), ended_at=local(DAY, 10, 10)
    )
    customer_says(answered, local(DAY, 10, 0))
    agent_says(answered, ana, local(DAY, 10, 4), response_seconds=240)

    row = compute_daily_metrics(DAY)

    assert row.total_sessions == 3
    assert row.answered_sessions == 1
    assert row.abandoned_sessions == 1  # ended without any agent reply; the waiting one is not ended
    assert row.ratings_count == 0
    assert row.satisfaction_avg is None and row.csat_share is None
    assert row.frt_avg == row.frt_median == row.frt_p90 == pytest.approx(240)
    assert row.sla_share == 0  # 240 s > 120 s
    assert row.avg_session_duration == pytest.approx((30 * 60 + 10 * 60) / 2)
    assert row.common_issues == [{"issue": "endereco", "count": 2}]


def test_running_a_day_twice_keeps_one_row_with_the_same_values(busy_day):
    first = model_to_dict(compute_daily_metrics(DAY), exclude=["id", "computed_at"])
    second = model_to_dict(compute_daily_metrics(DAY), exclude=["id", "computed_at"])

    assert ChatAnalytics.objects.filter(date=DAY).count() == 1
    assert first == second


def test_running_a_day_again_takes_in_new_data(busy_day):
    compute_daily_metrics(DAY)
    make_session(local(DAY, 15, 0), ended_at=local(DAY, 15, 1), rating=1)

    row = compute_daily_metrics(DAY)

    assert ChatAnalytics.objects.count() == 1
    assert row.total_sessions == 6
    assert row.satisfaction_avg == pytest.approx((5 + 3 + 1) / 3, abs=1e-3)


def test_the_number_of_queries_does_not_grow_with_the_rows(busy_day, ana):
    quiet_day = DAY + timedelta(days=5)
    session = make_session(local(quiet_day, 9, 0), agent=ana, first_response_at=local(quiet_day, 9, 1))
    agent_says(session, ana, local(quiet_day, 9, 1), response_seconds=60)
    compute_daily_metrics(quiet_day)
    compute_daily_metrics(DAY)

    with CaptureQueriesContext(connection) as few:
        compute_daily_metrics(quiet_day)
    with CaptureQueriesContext(connection) as many:
        compute_daily_metrics(DAY)

    assert len(many) == len(few)
    assert len(many) <= 11 + percentile_passes()


def percentile_passes() -> int:
    """Reads the registry's percentiles add to a day: on PostgreSQL one pass over the messages
    when any percentile is over them (those over chats ride on the chats' aggregate), elsewhere
    one ordered read per column and filter."""
    rules = [metric.day for metric in registry.stored() if isinstance(metric.day, Percentile)]
    if connection.vendor == "postgresql":
        return int(any(rule.source == MESSAGES for rule in rules))
    return len({(rule.source, str(rule.expression), str(rule.filter)) for rule in rules})


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.9, 7.0),
        ([10.0, 20.0, 30.0, 40.0], 0.5, 25.0),  # position 1.5: halfway between 20 and 30
        ([10.0, 20.0, 30.0, 40.0], 0.9, 37.0),  # position 2.7: 30 + 0.7 × 10
        ([1.0, 2.0, 3.0, 4.0, 5.0], 0.5, 3.0),
        ([1.0, 2.0], 1.0, 2.0),
        ([1.0, 2.0], 0.0, 1.0),
    ],
)
def test_percentile_interpolates_like_percentile_cont(values, fraction, expected):
    assert interpolated_percentile(values, fraction) == expected


def test_median_and_p90_from_the_database_match_percentile_cont(ana):
    # Four answered chats with FRTs 10, 20, 30, 40 s (even count: the median interpolates).
    for minute, frt in enumerate([40, 10, 30, 20]):
        start = local(DAY, 14, minute)
        make_session(start, agent=ana, first_response_at=start + timedelta(seconds=frt))

    row = compute_daily_metrics(DAY)

    assert row.frt_median == pytest.approx((20 + 30) / 2)
    assert row.frt_p90 == pytest.approx(30 + 0.7 * (40 - 30))


# --- local days and daylight saving time -------------------------------------------


def test_local_day_bounds_in_sao_paulo_today():
    start, end = local_day_bounds(DAY)
    assert start == datetime(2024, 5, 10, 3, 0, tzinfo=UTC)  # UTC−3, no DST since 2019
    assert end == datetime(2024, 5, 11, 3, 0, tzinfo=UTC)


def test_local_day_bounds_on_brazils_old_dst_days():
    # 2018-11-04: clocks jumped from 00:00 to 01:00 (−03 → −02); the day had 23 hours.
    start, end = local_day_bounds(date(2018, 11, 4))
    assert start == datetime(2018, 11, 4, 3, 0, tzinfo=UTC)
    assert end == datetime(2018, 11, 5, 2, 0, tzinfo=UTC)
    # 2019-02-16: at midnight clocks went back to 23:00 (−02 → −03); the day had 25 hours.
    start, end = local_day_bounds(date(2019, 2, 16))
    assert start == datetime(2019, 2, 16, 2, 0, tzinfo=UTC)
    assert end == datetime(2019, 2, 17, 3, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=25)


def test_a_25_hour_day_in_new_york_counts_its_last_hour(settings, ana):
    settings.TIME_ZONE = "America/New_York"
    day = date(2024, 11, 3)  # clocks went back at 02:00 EDT → 01:00 EST
    utc = UTC
    counted = [
        datetime(2024, 11, 3, 4, 0, tzinfo=utc),  # 00:00 EDT, the first instant of the day
        datetime(2024, 11, 3, 5, 30, tzinfo=utc),  # 01:30 EDT
        datetime(2024, 11, 3, 6, 30, tzinfo=utc),  # 01:30 EST, the repeated hour
        datetime(2024, 11, 4, 4, 30, tzinfo=utc),  # 23:30 EST: a fixed 24 h from midnight misses it
    ]
    not_counted = [
        datetime(2024, 11, 3, 3, 59, tzinfo=utc),  # 23:59 EDT the day before
        datetime(2024, 11, 4, 5, 0, tzinfo=utc),  # 00:00 EST the next day
    ]
    for started in counted + not_counted:
        make_session(started, agent=ana, first_response_at=started + timedelta(seconds=90))

    row = compute_daily_metrics(day)

    assert row.total_sessions == 4
    assert row.frt_avg == pytest.approx(90)


def test_a_23_hour_day_with_a_missing_midnight(settings):
    settings.TIME_ZONE = "America/Sao_Paulo"
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    day = date(2018, 11, 4)
    counted = [
        datetime(2018, 11, 4, 1, 0, tzinfo=sao_paulo),  # 01:00 −02: the first hour that existed
        datetime(2018, 11, 4, 23, 59, tzinfo=sao_paulo),
    ]
    not_counted = [
        datetime(2018, 11, 3, 23, 59, tzinfo=sao_paulo),
        datetime(2018, 11, 5, 0, 0, tzinfo=sao_paulo),
    ]
    for started in counted + not_counted:
        make_session(started)

    assert compute_daily_metrics(day).total_sessions == 2
    assert compute_daily_metrics(date(2018, 11, 3)).total_sessions == 1
    assert compute_daily_metrics(date(2018, 11, 5)).total_sessions == 1


def test_messages_belong_to_the_local_day_they_were_sent(settings):
    settings.TIME_ZONE = "America/New_York"
    new_york = ZoneInfo("America/New_York")
    day = date(2024, 3, 10)  # clocks jumped from 02:00 to 03:00: a 23-hour day
    session = make_session(datetime(2024, 3, 10, 1, 0, tzinfo=new_york))
    customer_says(session, datetime(2024, 3, 10, 1, 59, tzinfo=new_york))
    customer_says(session, datetime(2024, 3, 10, 3, 0, tzinfo=new_york))  # one minute later
    customer_says(session, datetime(2024, 3, 10, 23, 59, tzinfo=new_york))
    customer_says(session, datetime(2024, 3, 11, 0, 0, tzinfo=new_york))

    row = compute_daily_metrics(day)

    assert row.customer_messages == 3
