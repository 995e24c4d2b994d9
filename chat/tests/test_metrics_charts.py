"""The server-drawn SVG charts: scales, pt-BR numbers, gaps, escaping, accessibility."""

import re
from datetime import date, timedelta

import pytest
from django.utils import translation

from chat.charts import (
    COUNT,
    PERCENT,
    Series,
    bar_chart,
    duration_unit,
    format_tick,
    horizontal_bar_chart,
    line_chart,
    nice_ticks,
)

DAYS = [date(2024, 5, 1) + timedelta(days=offset) for offset in range(5)]


@pytest.fixture(autouse=True)
def pt_br():
    with translation.override("pt-br"):
        yield


@pytest.mark.parametrize(
    ("largest", "ticks"),
    [
        (0, [0, 0.25, 0.5, 0.75, 1.0]),
        (3, [0, 1, 2, 3]),
        (100, [0, 25, 50, 75, 100]),
        (130, [0, 50, 100, 150]),
        (2154, [0, 1000, 2000, 3000]),
    ],
)
def test_nice_ticks(largest, ticks):
    assert nice_ticks(largest) == ticks


def test_numbers_and_units_read_as_pt_br():
    assert format_tick(0.25) == "0,25"
    assert format_tick(0.5) == "0,5"
    assert format_tick(3000) == "3.000"
    assert duration_unit(90).text(95.5) == "95,5 s"
    assert duration_unit(300).text(150) == "2,5 min"
    assert duration_unit(4 * 3600).text(5400) == "1,5 h"
    assert PERCENT.text(0.755) == "75,5 %"
    assert COUNT.text(1234) == "1.234"


def test_a_line_chart_leaves_a_gap_where_a_day_has_no_value():
    svg = line_chart(
        chart_id="c",
        title="FRT",
        labels=DAYS,
        series=[Series("Average", [60.0, 90.0, None, 30.0, 45.0])],
        unit=duration_unit(90),
        y_label="First response",
    )
    path = re.search(r'<path class="chart__line[^"]*" d="([^"]+)"', svg).group(1)
    assert path.count("M") == 2  # the line starts again after the missing day
    assert svg.count("<circle") == 4
    assert "First response (s)" in svg
    assert "01/05: 60 s" in svg and "04/05: 30 s" in svg


def test_every_chart_is_an_image_with_a_title_and_a_description():
    svg = bar_chart(
        chart_id="bars",
        title="Chats per day",
        labels=DAYS,
        values=[3, 0, None, 5, 1],
        unit=COUNT,
        y_label="Chats",
        series_name="Chats",
    )
    opening = re.match(r"<svg[^>]*>", svg).group(0)
    assert 'role="img"' in opening and 'aria-labelledby="bars-title bars-desc"' in opening
    assert '<title id="bars-title">Chats per day</title>' in svg
    description = re.search(r'<desc id="bars-desc">(.*?)</desc>', svg).group(1)
    assert "05/05" in description and "5" in description
    assert svg.count('<rect class="chart__bar"') == 4  # no bar for the day without a value


def test_labels_are_escaped():
    svg = horizontal_bar_chart(
        chart_id="issues", title="<b>Issues</b>", items=[("<script>alert(1)</script>", 3)], unit=COUNT
    )
    assert "<script>" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "<b>" not in svg


def test_empty_charts_say_so():
    svg = horizontal_bar_chart(chart_id="issues", title="Issues", items=[], unit=COUNT)
    assert "<rect" not in svg
    line = line_chart(
        chart_id="l", title="FRT", labels=DAYS, series=[Series("Average", [None] * 5)], unit=duration_unit(0),
        y_label="FRT",
    )  # fmt: skip
    assert "<path" not in line and "<circle" not in line
