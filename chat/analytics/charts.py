"""Small server-drawn SVG charts for the metrics screen: lines, vertical and horizontal bars.

No JavaScript and nothing from a CDN: each chart is an ``<svg role="img">`` with a
``<title>`` and a ``<desc>`` for screen readers, a ``<title>`` on every point and bar (the
browser shows it on hover), axis labels with units, values read as everywhere else (units.py:
durations ``1:30``, shares ``75,0 %``) and dates as ``31/05``. Every piece of text is escaped by
``format_html``; colours are presentation attributes that the stylesheet may override
(a Content-Security-Policy without ``'unsafe-inline'`` allows them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .units import Unit

WIDTH = 640
HEIGHT = 260
MARGIN_LEFT = 64
MARGIN_RIGHT = 16
MARGIN_TOP = 28
MARGIN_BOTTOM = 44
PALETTE = ["#e60012", "#1f5fa8", "#6b7280", "#0f8a5f"]
MAX_X_LABELS = 10


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]


def format_day(day: date) -> str:
    return day.strftime("%d/%m")


class _Frame:
    """Plot area and scales shared by the vertical charts."""

    def __init__(self, labels: list[date], ticks: list[float]):
        self.labels = labels
        self.ticks = ticks
        self.left, self.right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
        self.top, self.bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
        self.slot = (self.right - self.left) / max(len(labels), 1)

    def x(self, index: int) -> float:
        return round(self.left + self.slot * (index + 0.5), 1)

    def y(self, value: float) -> float:
        top = self.ticks[-1] or 1.0
        shown = max(0.0, min(value, top))
        return round(self.bottom - (self.bottom - self.top) * shown / top, 1)


def _open(chart_id: str, title: str, description: str, height: int = HEIGHT) -> SafeString:
    return format_html(
        '<svg class="chart" id="{id}" role="img" aria-labelledby="{id}-title {id}-desc" '
        'viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMidYMid meet" '
        'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="12">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>',
        id=chart_id,
        w=WIDTH,
        h=height,
        title=title,
        desc=description,
    )


def _axes(frame: _Frame, unit: Unit, y_label: str, x_label: str) -> SafeString:
    parts = []
    for tick in frame.ticks:
        y = frame.y(tick)
        parts.append(
            format_html(
                '<line class="chart__grid" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d1d5db" '
                'stroke-width="1"/>'
                '<text class="chart__tick" x="{}" y="{}" text-anchor="end" fill="currentColor">{}</text>',
                frame.left,
                frame.right,
                y,
                y,
                frame.left - 6,
                y + 4,
                unit.tick_text(tick),
            )
        )
    every = max(1, math.ceil(len(frame.labels) / MAX_X_LABELS))
    for index, day in enumerate(frame.labels):
        if index % every == 0 or index == len(frame.labels) - 1:
            parts.append(
                format_html(
                    '<text class="chart__tick" x="{}" y="{}" text-anchor="middle" '
                    'fill="currentColor">{}</text>',
                    frame.x(index),
                    frame.bottom + 16,
                    format_day(day),
                )
            )
    unit_suffix = f" ({unit.axis_symbol})" if unit.axis_symbol else ""
    parts.append(
        format_html(
            '<line class="chart__axis" x1="{l}" x2="{r}" y1="{b}" y2="{b}" stroke="#6b7280" '
            'stroke-width="1"/>'
            '<text class="chart__label" x="12" y="{mid}" transform="rotate(-90 12 {mid})" '
            'text-anchor="middle" '
            'fill="currentColor">{yl}</text>'
            '<text class="chart__label" x="{cx}" y="{xy}" text-anchor="middle" '
            'fill="currentColor">{xl}</text>',
            l=frame.left,
            r=frame.right,
            b=frame.bottom,
            mid=round((frame.top + frame.bottom) / 2),
            yl=f"{y_label}{unit_suffix}",
            cx=round((frame.left + frame.right) / 2),
            xy=HEIGHT - 6,
            xl=x_label,
        )
    )
    return mark_safe("".join(parts))  # every part comes from format_html


def _legend(series: list[Series]) -> SafeString:
    if len(series) < 2:
        return mark_safe("")
    return format_html_join(
        "",
        '<g class="chart__legend"><rect x="{}" y="8" width="12" height="4" fill="{}"/>'
        '<text x="{}" y="14" fill="currentColor">{}</text></g>',
        (
            (
                MARGIN_LEFT + index * 150,
                PALETTE[index % len(PALETTE)],
                MARGIN_LEFT + index * 150 + 16,
                item.name,
            )
            for index, item in enumerate(series)
        ),
    )


def _describe(labels: list[date], series: list[Series], unit: Unit) -> str:
    if not labels:
        return _("No data.")
    pieces = [
        _("Daily values from %(first)s to %(last)s.")
        % {"first": format_day(labels[0]), "last": format_day(labels[-1])}
    ]
    for item in series:
        known = [(value, day) for value, day in zip(item.values, labels, strict=True) if value is not None]
        if not known:
            pieces.append(_("%(series)s: no data.") % {"series": item.name})
            continue
        high, high_day = max(known, key=lambda pair: pair[0])
        low, low_day = min(known, key=lambda pair: pair[0])
        pieces.append(
            _("%(series)s: highest %(high)s on %(high_day)s, lowest %(low)s on %(low_day)s.")
            % {
                "series": item.name,
                "high": unit.text(high),
                "high_day": format_day(high_day),
                "low": unit.text(low),
                "low_day": format_day(low_day),
            }
        )
    return " ".join(pieces)


def line_chart(
    *, chart_id: str, title: str, labels: list[date], series: list[Series], unit: Unit, y_label: str
) -> SafeString:
    """Lines over days; a missing value breaks the line (nothing is invented)."""
    largest = max((value for item in series for value in item.values if value is not None), default=0)
    frame = _Frame(labels, unit.ticks(largest))
    parts = [
        _open(chart_id, title, _describe(labels, series, unit)),
        _axes(frame, unit, y_label, _("Day")),
        _legend(series),
    ]
    for index, item in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        commands, pen_down = [], False
        for position, value in enumerate(item.values):
            if value is None:
                pen_down = False
                continue
            commands.append(f"{'L' if pen_down else 'M'}{frame.x(position)} {frame.y(value)}")
            pen_down = True
        if commands:
            parts.append(
                format_html(
                    '<path class="chart__line chart__line--{}" d="{}" fill="none" stroke="{}" '
                    'stroke-width="2" '
                    'stroke-linejoin="round"/>',
                    index + 1,
                    " ".join(commands),
                    color,
                )
            )
        parts.append(
            format_html_join(
                "",
                '<circle class="chart__point" cx="{}" cy="{}" r="3" fill="{}"><title>{}</title></circle>',
                (
                    (
                        frame.x(position),
                        frame.y(value),
                        color,
                        f"{item.name}, {format_day(labels[position])}: {unit.text(value)}",
                    )
                    for position, value in enumerate(item.values)
                    if value is not None
                ),
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # every part comes from format_html


def bar_chart(
    *,
    chart_id: str,
    title: str,
    labels: list[date],
    values: list[float | None],
    unit: Unit,
    y_label: str,
    series_name: str,
    top: float | None = None,
) -> SafeString:
    """One bar per day; a day without a value has no bar. ``top`` fixes the scale (100 %)."""
    largest = top if top is not None else max((value for value in values if value is not None), default=0)
    frame = _Frame(labels, unit.ticks(largest))
    series = [Series(series_name, values)]
    parts = [_open(chart_id, title, _describe(labels, series, unit)), _axes(frame, unit, y_label, _("Day"))]
    width = max(min(frame.slot * 0.7, 40), 1.5)
    parts.append(
        format_html_join(
            "",
            '<rect class="chart__bar" x="{}" y="{}" width="{}" height="{}" '
            'fill="{}"><title>{}</title></rect>',
            (
                (
                    round(frame.x(index) - width / 2, 1),
                    frame.y(value),
                    round(width, 1),
                    round(frame.bottom - frame.y(value), 1),
                    PALETTE[0],
                    f"{format_day(labels[index])}: {unit.text(value)}",
                )
                for index, value in enumerate(values)
                if value is not None
            ),
        )
    )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # every part comes from format_html


def horizontal_bar_chart(
    *, chart_id: str, title: str, items: list[tuple[str, float]], unit: Unit
) -> SafeString:
    """Labelled horizontal bars, largest first as given (e.g. the common issues)."""
    row_height, label_width = 26, 190
    height = MARGIN_TOP + row_height * max(len(items), 1) + 12
    largest = max((value for _, value in items), default=0) or 1
    left, right = label_width, WIDTH - 80
    description = "; ".join(f"{label}: {unit.text(value)}" for label, value in items) or _("No data.")
    parts = [_open(chart_id, title, description, height=height)]
    for index, (label, value) in enumerate(items):
        y = MARGIN_TOP + index * row_height
        length = round((right - left) * value / largest, 1)
        parts.append(
            format_html(
                '<text class="chart__tick" x="{lx}" y="{ty}" text-anchor="end" '
                'fill="currentColor">{label}</text>'
                '<rect class="chart__bar" x="{left}" y="{y}" width="{w}" height="{h}" fill="{color}">'
                "<title>{label}: {text}</title></rect>"
                '<text class="chart__value" x="{vx}" y="{ty}" fill="currentColor">{text}</text>',
                lx=left - 8,
                ty=y + 14,
                label=label,
                left=left,
                y=y + 2,
                w=max(length, 1),
                h=row_height - 8,
                color=PALETTE[1],
                text=unit.text(value),
                vx=left + max(length, 1) + 6,
            )
        )
    if not items:
        parts.append(
            format_html(
                '<text x="{}" y="{}" fill="currentColor">{}</text>', left, MARGIN_TOP + 14, _("No data.")
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # every part comes from format_html
