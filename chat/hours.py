"""Business hours: the weekly opening hours of ``CHAT_BUSINESS_HOURS``, in ``TIME_ZONE``.

The setting lists weekdays (``mon`` … ``sun``, or a range like ``mon-fri``) with one or more
intervals each, groups separated by ``;``::

    CHAT_BUSINESS_HOURS="mon-fri 08:00-20:00; sat 08:00-12:00,13:00-17:00"

Days not named are closed; ``24:00`` ends a day; an interval may not cross midnight (write
it as two days). Empty (the default) means always open. Holidays (chat.models.Holiday, added
by managers in the admin) close a whole day whatever the week says. This module is pure (no
database): chat/selectors/hours.py adds the holidays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from django.utils.translation import gettext_lazy as _

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)
END_OF_DAY = time.max
LOOK_AHEAD_DAYS = 31  # the next opening is searched this far ahead (a long holiday stretch)
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class WeeklyHours:
    """Opening intervals per weekday (0 = Monday), each a tuple of (start, end) times."""

    days: tuple[tuple[tuple[time, time], ...], ...]
    always_open: bool = False

    def is_open(self, moment: datetime, closed_dates: frozenset[date] | set[date] = frozenset()) -> bool:
        """Whether ``moment`` (local, aware or naive) falls in an opening interval."""
        if moment.date() in closed_dates:
            return False
        if self.always_open:
            return True
        now = moment.time().replace(tzinfo=None)
        return any(start <= now < end for start, end in self.days[moment.weekday()])

    def next_opening(
        self, moment: datetime, closed_dates: frozenset[date] | set[date] = frozenset()
    ) -> datetime | None:
        """The first opening after ``moment`` (same time zone), or None within LOOK_AHEAD_DAYS."""
        for offset in range(LOOK_AHEAD_DAYS + 1):
            day = moment.date() + timedelta(days=offset)
            if day in closed_dates:
                continue
            starts = [time(0, 0)] if self.always_open else [start for start, _end in self.days[day.weekday()]]
            for start in starts:
                candidate = moment.replace(
                    year=day.year,
                    month=day.month,
                    day=day.day,
                    hour=start.hour,
                    minute=start.minute,
                    second=0,
                    microsecond=0,
                )
                if candidate > moment:
                    return candidate
        return None

    def summary(self) -> list[tuple[str, str]]:
        """Consecutive days with the same hours grouped, for the page: [("Monday – Friday",
        "08:00–20:00"), ("Saturday", "08:00–12:00, 13:00–17:00")]. Closed days are left out."""
        rows: list[tuple[str, str]] = []
        index = 0
        while index < 7:
            intervals = self.days[index]
            last = index
            while last + 1 < 7 and self.days[last + 1] == intervals:
                last += 1
            if intervals:
                names = str(WEEKDAY_NAMES[index])
                if last > index:
                    names = f"{WEEKDAY_NAMES[index]} – {WEEKDAY_NAMES[last]}"
                text = ", ".join(f"{_clock(start)}–{_clock(end)}" for start, end in intervals)
                rows.append((names, text))
            index = last + 1
        return rows


def _clock(value: time) -> str:
    return "24:00" if value == END_OF_DAY else value.strftime("%H:%M")


def _day_range(text: str) -> list[int]:
    first, _sep, last = text.partition("-")
    if first not in WEEKDAYS or (last and last not in WEEKDAYS):
        raise ValueError(f"unknown weekday in {text!r} (use mon, tue, wed, thu, fri, sat, sun)")
    start = WEEKDAYS.index(first)
    end = WEEKDAYS.index(last) if last else start
    if end < start:
        raise ValueError(f"{text!r} runs backwards (write e.g. mon-fri)")
    return list(range(start, end + 1))


def _interval(text: str) -> tuple[time, time]:
    match = _INTERVAL.match(text)
    if not match:
        raise ValueError(f"{text!r} is not an interval like 08:00-18:00")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
        raise ValueError(f"{text!r} is not a time of day")
    start = time(start_h, start_m)
    end = END_OF_DAY if end_h == 24 else time(end_h, end_m)
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts (an interval cannot cross midnight)")
    return start, end


@cache
def parse_business_hours(text: str) -> WeeklyHours:
    """Parse the setting; ValueError with what is wrong."""
    text = (text or "").strip().lower()
    if not text:
        return WeeklyHours(days=((),) * 7, always_open=True)
    days: list[list[tuple[time, time]]] = [[] for _day in range(7)]
    for group in filter(None, (part.strip() for part in text.split(";"))):
        day_text, _sep, intervals_text = group.partition(" ")
        intervals = [_interval(part.strip()) for part in intervals_text.split(",") if part.strip()]
        if not intervals:
            raise ValueError(f"{group!r} names days but no hours (e.g. mon-fri 08:00-18:00)")
        for day in _day_range(day_text.strip()):
            days[day].extend(intervals)
    for intervals in days:
        intervals.sort()
        for (_start, end), (next_start, _end) in zip(intervals, intervals[1:], strict=False):
            if next_start < end:
                raise ValueError("two intervals of the same day overlap")
    return WeeklyHours(days=tuple(tuple(intervals) for intervals in days))
