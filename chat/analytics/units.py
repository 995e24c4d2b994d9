"""How each kind of figure reads, wherever a manager sees it: one unit per figure everywhere.

A duration is minutes and seconds (``1:30``) on the cards, the charts, the tables, the admin
list and the CSV alike; a rating always has two decimals (``4,00`` beside ``3,98``); a share
is a percentage with one decimal (``75,0 %``); a count has none (``1.234``). Where a value
carries no symbol of its own (``1:30``), its heading says the unit (``… (min:s)``).

On screen numbers follow the active language (pt-BR: decimal comma, a dot between
thousands); CSV cells have a decimal comma and no grouping, for Excel in Brazil. Each unit
also says how many decimals a stored figure keeps, how a change against the previous period
reads (relative, in percentage points, or a plain difference) and what the API's number is.
"""

from __future__ import annotations

import math

from django.utils.formats import number_format

from chat.models import Issue

MISSING = "—"
MINUS = "−"


def format_number(value: float, decimals: int) -> str:
    """A localised number with exactly ``decimals`` decimals: 1.234,5 in pt-BR."""
    return number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True)


def format_tick(value: float) -> str:
    """An axis value with only the decimals it needs: 0,25 / 0,5 / 1.000."""
    if float(value).is_integer():
        return format_number(value, 0)
    return number_format(round(value, 2), decimal_pos=2, use_l10n=True, force_grouping=True).rstrip("0")


def csv_decimal(value: float, decimals: int) -> str:
    """A plain number with a decimal comma and fixed decimals: 4.5 → "4,50" (2 decimals)."""
    return f"{value:.{decimals}f}".replace(".", ",")


def minutes_seconds(seconds: float) -> str:
    """Whole seconds as m:ss (halves round up): 90 → "1:30", 45 → "0:45", 4510 → "75:10"."""
    total = math.floor(abs(seconds) + 0.5)
    minutes, rest = divmod(total, 60)
    sign = MINUS if seconds < 0 and total else ""
    return f"{sign}{minutes}:{rest:02d}"


def nice_ticks(largest: float, count: int = 4) -> list[float]:
    """0 and round steps up to at least ``largest`` (1, 2, 2.5 or 5 times a power of ten)."""
    if not largest or largest <= 0 or math.isnan(largest):
        largest = 1.0
    raw = largest / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    top = math.ceil(largest / step - 1e-9) * step
    return [round(step * index, 10) for index in range(int(round(top / step)) + 1)]


class Unit:
    """A kind of figure: counts, durations, shares, ratings (subclasses below)."""

    stored_digits: int | None = None  # decimals a stored figure keeps (None: a whole number)
    change = "relative"  # a change reads as a percentage of the previous figure
    heading_symbol = ""  # said in headings, where values carry no symbol of their own
    csv_symbol = ""  # said in CSV headers (cells are bare numbers)
    axis_symbol = ""  # said beside a chart's axis label
    api_help = ""

    def text(self, value) -> str:
        return MISSING if value is None else self._text(value)

    def csv(self, value) -> str:
        return "" if value is None else self._csv(value)

    def heading(self, label) -> str:
        return f"{label} ({self.heading_symbol})" if self.heading_symbol else str(label)

    def csv_heading(self, label) -> str:
        return f"{label} ({self.csv_symbol})" if self.csv_symbol else str(label)

    def store(self, value):
        if value is None:
            return None
        return int(value) if self.stored_digits is None else round(float(value), self.stored_digits)

    def ticks(self, largest: float) -> list[float]:
        return nice_ticks(largest)

    def tick_text(self, value: float) -> str:
        return format_tick(value)

    def _text(self, value) -> str:
        raise NotImplementedError

    def _csv(self, value) -> str:
        raise NotImplementedError


class Count(Unit):
    api_help = "A count."

    def _text(self, value) -> str:
        return format_number(value, 0)

    def _csv(self, value) -> str:
        return str(int(value))


class Duration(Unit):
    """Seconds, shown as m:ss."""

    stored_digits = 3
    heading_symbol = csv_symbol = axis_symbol = "min:s"
    api_help = "Seconds."
    STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200)

    def _text(self, value) -> str:
        return minutes_seconds(value)

    def _csv(self, value) -> str:
        return minutes_seconds(value)

    def ticks(self, largest: float) -> list[float]:
        """Steps a clock reads: 0:15, 0:30, 1:00, 2:00, 5:00 …"""
        largest = largest if largest and largest > 0 else 60.0
        step = next((step for step in self.STEPS if step * 4 >= largest), 86400)
        return [float(step * index) for index in range(math.ceil(largest / step - 1e-9) + 1)]

    def tick_text(self, value: float) -> str:
        return minutes_seconds(value)


class Share(Unit):
    """A fraction from 0 to 1, shown as a percentage with one decimal."""

    stored_digits = 4
    change = "points"
    csv_symbol = axis_symbol = "%"
    api_help = "A share from 0 to 1."

    def _text(self, value) -> str:
        return f"{format_number(value * 100, 1)} %"

    def _csv(self, value) -> str:
        return csv_decimal(value * 100, 1)

    def tick_text(self, value: float) -> str:
        return format_tick(value * 100)


class Rating(Unit):
    """An average rating from 1 to 5, always with two decimals."""

    stored_digits = 3
    change = "absolute"
    api_help = "An average rating, 1 to 5."

    def _text(self, value) -> str:
        return format_number(value, 2)

    def _csv(self, value) -> str:
        return csv_decimal(value, 2)


class IssueCounts(Unit):
    """``[{"issue": code, "count": n}]``, most frequent first, shown with the issues' labels."""

    api_help = "Issue categories and how many chats had each, most frequent first."

    def store(self, value):
        return value

    def _text(self, value) -> str:
        return ", ".join(f"{issue_label(item['issue'])}: {item['count']}" for item in value) or MISSING

    def _csv(self, value) -> str:
        return " | ".join(f"{issue_label(item['issue'])}: {item['count']}" for item in value)


def issue_label(code: str) -> str:
    try:
        return str(Issue(code).label)
    except ValueError:
        return code


COUNT = Count()
DURATION = Duration()
SHARE = Share()
RATING = Rating()
ISSUES = IssueCounts()
