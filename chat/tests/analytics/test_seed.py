"""seed_chats: exact counts, chats shaped the way the services shape them, argument errors."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Min

from chat.analytics.daily import compute_daily_metrics
from chat.analytics.days import local_day_bounds
from chat.models import ChatMessage, ChatSession

pytestmark = pytest.mark.django_db

DAY = date(2024, 5, 10)


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_chats", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def seeded():
    seed(sessions=60, messages=500, date="2024-05-10", agents=3, waiting=2, active=3, seed=7)


def test_exact_numbers_of_chats_messages_and_open_chats(seeded):
    assert ChatSession.objects.count() == 60
    assert ChatMessage.objects.count() == 500
    statuses = dict(ChatSession.objects.values_list("status").annotate(n=Count("id")))
    assert statuses == {"waiting": 2, "active": 3, "ended": 55}


def test_chats_start_on_the_local_day(seeded):
    start, end = local_day_bounds(DAY)
    bounds = ChatSession.objects.aggregate(first=Min("started_at"), last=Max("started_at"))
    assert start <= bounds["first"] and bounds["last"] < end


def test_chats_are_shaped_like_real_ones(seeded):
    for session in ChatSession.objects.prefetch_related("messages"):
        messages = list(session.messages.all())  # ordered by id
        assert [m.created_at for m in messages] == sorted(m.created_at for m in messages)
        if messages:
            assert messages[0].author == ChatMessage.Author.CUSTOMER
            assert session.issue  # classified from the first message
        agent_replies = [m for m in messages if m.author == ChatMessage.Author.AGENT and not m.is_internal]
        if agent_replies:
            assert session.assigned_agent_id is not None
            assert session.first_response_at == agent_replies[0].created_at
            assert session.first_response_at >= session.started_at
            assert all(m.agent_id == session.assigned_agent_id for m in agent_replies)
            assert agent_replies[0].response_seconds > 0
        else:
            assert session.first_response_at is None
        if session.status == ChatSession.Status.ENDED:
            assert session.ended_at >= session.started_at
            assert session.waiting_since is None
        if session.satisfaction_rating is not None:
            assert 1 <= session.satisfaction_rating <= 5 and agent_replies


def test_metrics_of_a_seeded_day_add_up(seeded):
    row = compute_daily_metrics(DAY)
    assert row.total_sessions == 60
    assert row.answered_sessions == ChatSession.objects.filter(first_response_at__isnull=False).count()
    assert ChatMessage.objects.filter(is_internal=True).exists()  # some internal notes, left out
    non_system = ChatMessage.objects.exclude(author=ChatMessage.Author.SYSTEM).filter(is_internal=False)
    start, end = local_day_bounds(DAY)
    assert row.total_messages == non_system.filter(created_at__gte=start, created_at__lt=end).count()
    assert 0 < row.frt_median <= row.frt_p90


def test_the_same_seed_gives_the_same_chats():
    seed(sessions=10, messages=60, date="2024-05-10", agents=2, seed=3)
    first = list(
        ChatSession.objects.order_by("id").values_list("started_at", "status", "issue", "satisfaction_rating")
    )
    ChatSession.objects.all().delete()
    seed(sessions=10, messages=60, date="2024-05-10", agents=2, seed=3)
    again = list(
        ChatSession.objects.order_by("id").values_list("started_at", "status", "issue", "satisfaction_rating")
    )
    assert first == again


def test_several_days_and_repeated_runs_add_up():
    seed(sessions=30, messages=90, date="2024-05-10", days=3, agents=2, waiting=0, active=0, seed=1)
    seed(sessions=5, messages=20, date="2024-05-10", agents=2, waiting=0, active=0, seed=2)
    assert ChatSession.objects.count() == 35
    assert ChatMessage.objects.count() == 110
    first, _ = local_day_bounds(DAY - timedelta(days=2))
    assert ChatSession.objects.filter(started_at__lt=first).count() == 0


def test_summary_line():
    output = seed(sessions=3, messages=9, date="2024-05-10", agents=1, seed=1)
    assert "Seeded 3 chats and 9 messages from 2024-05-10 to 2024-05-10" in output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sessions": -1}, "--sessions"),
        ({"sessions": 0, "messages": 5}, "--messages"),
        ({"days": 0}, "--days"),
        ({"sessions": 3, "waiting": 2, "active": 2}, "fit in --sessions"),
        ({"sessions": 3, "active": 1, "agents": 0}, "agent"),
        ({"date": "10/05/2024"}, "YYYY-MM-DD"),
        ({"date": "2999-01-01"}, "future"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(CommandError, match=message):
        seed(**options)
    assert ChatSession.objects.count() == 0
