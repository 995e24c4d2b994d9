"""Local days (``settings.TIME_ZONE``, America/Sao_Paulo by default) and spans of them.

One local day D is the interval from local midnight of D to local midnight of D+1, turned
into aware datetimes, so a day is 23 or 25 hours long on a DST change and nothing is counted
twice or lost.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local day in ``settings.TIME_ZONE``, as UTC datetimes.

    A local midnight that does not exist (Brazil's DST used to start at midnight) resolves to
    the moment of the change, which is when that day began.
    """
    zone = timezone.get_default_timezone()
    start = datetime.combine(day, time.min).replace(tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min).replace(tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def yesterday() -> date:
    return timezone.localdate() - timedelta(days=1)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def period_ending(last: date, length: int) -> tuple[date, date]:
    return last - timedelta(days=length - 1), last
