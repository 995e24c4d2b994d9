"""Business hours: CHAT_BUSINESS_HOURS (chat/hours.py), holidays, and what the queue says."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from chat import selectors, services
from chat.hours import parse_business_hours
from chat.models import Holiday
from conftest import bring_online

SP = ZoneInfo("America/Sao_Paulo")
WEEK = "mon-fri 08:00-12:00,13:00-18:00; sat 09:00-13:00"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of the week of Monday 2026-06-01 (local time)."""
    return datetime(2026, 6, day, hour, minute, tzinfo=SP)


class TestParsing:
    def test_days_ranges_and_several_intervals(self):
        hours = parse_business_hours(WEEK)
        assert hours.days[0] == ((time(8), time(12)), (time(13), time(18)))
        assert hours.days[4] == hours.days[0]
        assert hours.days[5] == ((time(9), time(13)),)
        assert hours.days[6] == ()

    def test_empty_means_always_open(self):
        assert parse_business_hours("").always_open
        assert parse_business_hours("").is_open(at(7, 3))

    def test_24_00_ends_the_day(self):
        hours = parse_business_hours("sun 20:00-24:00")
        assert hours.is_open(at(7, 23, 59))
        assert hours.summary() == [("Domingo", "20:00–24:00")]  # the product speaks pt-BR

    @pytest.mark.parametrize(
        "text",
        [
            "weekdays 08:00-18:00",
            "mon 8-18",
            "mon 18:00-08:00",
            "fri-mon 08:00-18:00",
            "mon 08:00-25:00",
            "mon 08:00-12:00,11:00-13:00",
            "mon",
        ],
    )
    def test_bad_values_are_refused_with_the_reason(self, text):
        with pytest.raises(ValueError):
            parse_business_hours(text)

    def test_a_bad_setting_stops_start_up_checks(self, settings):
        settings.CHAT_BUSINESS_HOURS = "mon 18:00-08:00"
        with pytest.raises(SystemCheckError, match="CHAT_BUSINESS_HOURS"):
            call_command("check")

    def test_summary_groups_days_with_the_same_hours(self):
        assert parse_business_hours(WEEK).summary() == [
            ("Segunda-feira – Sexta-feira", "08:00–12:00, 13:00–18:00"),
            ("Sábado", "09:00–13:00"),
        ]


class TestOpenAndNext:
    hours = parse_business_hours(WEEK)

    def test_open_within_an_interval_only(self):
        assert self.hours.is_open(at(1, 8))
        assert not self.hours.is_open(at(1, 12, 30))  # lunch
        assert not self.hours.is_open(at(1, 18))  # the end is excluded
        assert not self.hours.is_open(at(7, 10))  # Sunday

    def test_next_opening(self):
        assert self.hours.next_opening(at(1, 12, 30)) == at(1, 13)
        assert self.hours.next_opening(at(6, 14)) == at(8, 8)  # Saturday afternoon → Monday

    def test_holidays_close_the_day_and_move_the_next_opening(self):
        closed = {date(2026, 6, 1), date(2026, 6, 2)}
        assert not self.hours.is_open(at(1, 10), closed)
        assert self.hours.next_opening(at(1, 10), closed) == at(3, 8)


@pytest.mark.django_db
class TestTheService:
    def test_outside_hours_with_nobody_available_is_closed_with_when_it_opens(self, settings):
        settings.CHAT_BUSINESS_HOURS = WEEK
        status = selectors.service_status(now=at(6, 20))
        assert status["service"] == "closed" and status["outside_hours"] is True
        assert status["opens_at"] == "2026-06-08T08:00:00-03:00"

    def test_a_holiday_closes_an_always_open_service(self, settings):
        Holiday.objects.create(date=date(2026, 6, 4), name="Corpus Christi")
        status = selectors.service_status(now=at(4, 10))
        assert status["service"] == "closed"
        assert status["opens_at"] == "2026-06-05T00:00:00-03:00"

    def test_an_agent_online_outside_hours_still_serves(self, settings, agent):
        settings.CHAT_BUSINESS_HOURS = WEEK
        bring_online(agent)
        status = selectors.service_status(now=at(7, 10))
        assert status["service"] == "available" and status["outside_hours"] is True

    def test_a_chat_opened_outside_hours_is_marked_and_still_opens(self, settings, client):
        settings.CHAT_BUSINESS_HOURS = "sun 00:00-00:01"  # closed nearly all week
        response = client.post(reverse("chat-session"), {}, content_type="application/json")
        assert response.status_code == 201
        body = response.json()
        assert body["status"] == "waiting"
        assert body["queue"]["service"] == "closed"
        assert body["queue"]["estimated_wait_seconds"] is None
        assert body["queue"]["opens_at"] is not None
        session = services.session_open()
        assert session.opened_outside_hours and session.opened_without_agents


@pytest.mark.django_db
def test_the_public_queue_lists_the_next_two_weeks_holidays(client):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    Holiday.objects.create(date=today + timedelta(days=20), name="Longe")
    Holiday.objects.create(date=today + timedelta(days=2), name="Natal")
    Holiday.objects.create(date=today - timedelta(days=1), name="Passou")
    body = client.get(reverse("chat-queue")).json()
    assert body["holidays"] == [{"date": (today + timedelta(days=2)).isoformat(), "name": "Natal"}]


@pytest.mark.django_db
class TestHolidayAdmin:
    URL = reverse("admin:chat_holiday_changelist")

    def test_managers_add_holidays_and_see_the_week(self, client, manager, settings):
        settings.CHAT_BUSINESS_HOURS = WEEK
        client.force_login(manager)
        page = client.get(self.URL)
        assert page.status_code == 200
        assert "Segunda-feira – Sexta-feira" in page.text
        response = client.post(
            reverse("admin:chat_holiday_add"), {"date": "2026-12-25", "name": "Natal"}, follow=True
        )
        assert response.status_code == 200
        assert Holiday.objects.filter(date=date(2026, 12, 25), name="Natal").exists()

    def test_agents_cannot(self, agent_client):
        assert agent_client.get(self.URL).status_code == 403
        response = agent_client.post(reverse("admin:chat_holiday_add"), {"date": "2026-12-25", "name": "x"})
        assert response.status_code == 403
        assert not Holiday.objects.exists()
