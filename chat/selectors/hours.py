"""Business hours as they stand today: the week of CHAT_BUSINESS_HOURS (chat/hours.py) less
the holidays managers added in the admin."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from chat.hours import LOOK_AHEAD_DAYS, WeeklyHours, parse_business_hours
from chat.models import Holiday

UPCOMING_HOLIDAY_DAYS = 14  # holidays the page mentions ahead of time


@dataclass(frozen=True)
class BusinessStatus:
    open: bool
    opens_at: datetime | None  # when closed: the next opening (local time), if within a month


def weekly_hours() -> WeeklyHours:
    return parse_business_hours(settings.CHAT_BUSINESS_HOURS)


def closed_dates(first: date, days: int = LOOK_AHEAD_DAYS) -> set[date]:
    return set(
        Holiday.objects.filter(date__gte=first, date__lte=first + timedelta(days=days)).values_list(
            "date", flat=True
        )
    )


def business_status(now: datetime | None = None) -> BusinessStatus:
    """Open or not at ``now``, and when it opens next: one query (the coming holidays)."""
    local = timezone.localtime(now or timezone.now())
    hours = weekly_hours()
    closed = closed_dates(local.date())
    if hours.is_open(local, closed):
        return BusinessStatus(open=True, opens_at=None)
    return BusinessStatus(open=False, opens_at=hours.next_opening(local, closed))


def upcoming_holidays(days: int = UPCOMING_HOLIDAY_DAYS) -> list[Holiday]:
    today = timezone.localdate()
    return list(Holiday.objects.filter(date__gte=today, date__lte=today + timedelta(days=days)))
