"""LGPD: chats ended long ago lose their personal data, and the metrics stay the same."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict
from django.utils import timezone

from chat import services
from chat.analytics.daily import compute_daily_metrics, day_figures
from chat.exceptions import InvalidInput
from chat.models import ChatAnalytics, ChatMessage, ChatSession

pytestmark = pytest.mark.django_db

PERSONAL = ["customer_name", "customer_email", "tracking_code", "user_agent", "satisfaction_comment"]
KEPT = [
    "status",
    "started_at",
    "ended_at",
    "ended_by",
    "first_response_at",
    "last_message_at",
    "assigned_agent",
    "issue",
    "topic",
    "satisfaction_rating",
]


def chat_that_ended(agent, days_ago: int, *, end: bool = True) -> ChatSession:
    """A full conversation moved back in time by ``days_ago`` days."""
    session = services.session_open(
        customer_name="Maria Souza",
        customer_email="maria@example.com",
        tracking_code="JT123456789BR",
        topic="rastreamento",
        user_ip="203.0.113.5",
        user_agent="Mozilla/5.0 (Android)",
    )
    services.customer_message_post(session_key=session.session_id, content="Meu CPF é 123.456.789-00")
    services.agent_message_post(session_pk=session.pk, agent=agent, content="Olá Maria!")
    services.agent_message_post(
        session_pk=session.pk, agent=agent, content="nota: cliente VIP", is_internal=True
    )
    if end:
        services.session_end(session=session, ended_by="customer", rating=4, comment="Rua das Flores, 10")
    shift = timedelta(days=days_ago)
    for field in ("started_at", "ended_at", "first_response_at", "last_message_at"):
        value = getattr(ChatSession.objects.get(pk=session.pk), field)
        if value is not None:
            ChatSession.objects.filter(pk=session.pk).update(**{field: value - shift})
    for message in session.messages.all():
        ChatMessage.objects.filter(pk=message.pk).update(created_at=message.created_at - shift)
    return ChatSession.objects.get(pk=session.pk)


def test_old_ended_chats_lose_personal_data_but_keep_what_metrics_read(agent):
    old = chat_that_ended(agent, days_ago=200)
    before = model_to_dict(old, fields=KEPT)
    result = services.sessions_anonymize(older_than_days=180)
    assert result.sessions == 1 and result.messages == 0
    old.refresh_from_db()
    assert all(getattr(old, field) == "" for field in PERSONAL)
    assert old.user_ip is None
    assert model_to_dict(old, fields=KEPT) == before
    assert old.satisfaction_rating == 4 and old.issue == "rastreamento"
    # Messages stay unless asked.
    assert old.messages.filter(content="Meu CPF é 123.456.789-00").exists()


def test_recent_and_open_chats_are_untouched(agent):
    recent = chat_that_ended(agent, days_ago=10)
    still_open = chat_that_ended(agent, days_ago=400, end=False)
    assert services.sessions_anonymize(older_than_days=180, include_messages=True).sessions == 0
    for session in (recent, still_open):
        session.refresh_from_db()
        assert session.customer_name == "Maria Souza" and session.user_ip == "203.0.113.5"
        assert session.messages.filter(content="Meu CPF é 123.456.789-00").exists()


def test_messages_too_when_asked(agent):
    old = chat_that_ended(agent, days_ago=200)
    recent = chat_that_ended(agent, days_ago=1)
    result = services.sessions_anonymize(older_than_days=180, include_messages=True)
    removed = services.removed_message_text()
    assert result.messages == 3  # the customer's message, the reply and the internal note
    texts = dict(old.messages.values_list("author", "content").filter(author="customer"))
    assert texts == {"customer": removed}
    assert set(old.messages.exclude(author="system").values_list("content", flat=True)) == {removed}
    # System lines (who joined, who ended) hold no customer data and stay readable.
    assert old.messages.filter(author="system").exclude(content=removed).exists()
    # Response times, read by the metrics, are kept.
    assert old.messages.filter(author="agent", response_seconds__isnull=False).exists()
    assert recent.messages.filter(content="Meu CPF é 123.456.789-00").exists()


def test_running_again_changes_nothing(agent):
    chat_that_ended(agent, days_ago=200)
    assert services.sessions_anonymize(older_than_days=180, include_messages=True).sessions == 1
    again = services.sessions_anonymize(older_than_days=180, include_messages=True)
    assert (again.sessions, again.messages) == (0, 0)


def test_metrics_are_the_same_before_and_after(agent, other_agent):
    old = chat_that_ended(agent, days_ago=200)
    chat_that_ended(other_agent, days_ago=200)
    day = timezone.localtime(old.started_at).date()
    stored = model_to_dict(compute_daily_metrics(day))
    figures = day_figures(day)
    assert figures["total_sessions"] == 2

    services.sessions_anonymize(older_than_days=180, include_messages=True)

    assert model_to_dict(ChatAnalytics.objects.get(date=day)) == stored
    assert day_figures(day) == figures


@pytest.mark.parametrize("days", [0, -1, True, "180"])
def test_the_age_must_be_a_positive_number_of_days(days):
    with pytest.raises(InvalidInput):
        services.sessions_anonymize(older_than_days=days)


class TestCommand:
    def test_summary_and_default_retention(self, agent, settings):
        settings.CHAT_RETENTION_DAYS = 30
        chat_that_ended(agent, days_ago=45)
        out = StringIO()
        call_command("anonymize_sessions", stdout=out)
        assert "1 chat(s)" in out.getvalue() and "30 day(s)" in out.getvalue()
        assert ChatSession.objects.get().customer_name == ""

    def test_older_than_days_and_messages(self, agent):
        chat_that_ended(agent, days_ago=45)
        out = StringIO()
        call_command("anonymize_sessions", "--older-than-days", "60", stdout=out)
        assert "0 chat(s)" in out.getvalue()
        call_command("anonymize_sessions", "--older-than-days", "40", "--messages", stdout=out)
        assert "3 message(s)" in out.getvalue()
        assert not ChatMessage.objects.filter(content__contains="CPF").exists()

    def test_a_bad_age_is_a_clear_error(self):
        with pytest.raises(CommandError, match="--older-than-days must be 1 or more"):
            call_command("anonymize_sessions", "--older-than-days", "0")
