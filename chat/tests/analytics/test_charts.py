"""The server-drawn SVG charts: scales, pt-BR numbers, gaps, escaping, accessibility."""

import re
from datetime import date, timedelta

import pytest
from django.utils import translation

from chat.analytics.charts import Series, bar_chart, horizontal_bar_chart, line_chart
from chat.analytics.units import COUNT, DURATION, SHARE

DAYS = [date(2024, 5, 1) + timedelta(days=offset) for offset in range(5)]


@pytest.fixture(autouse=True)
def pt_br():
    with translation.override("pt-br"):
        yield


def test_a_line_chart_leaves_a_gap_where_a_day_has_no_value():
    svg = line_chart(
        chart_id="c",
        title="FRT",
        labels=DAYS,
        series=[Series("Average", [60.0, 90.0, None, 30.0, 45.0])],
        unit=DURATION,
        y_label="First response",
    )
    path = re.search(r'<path class="chart__line[^"]*" d="([^"]+)"', svg).group(1)
    assert path.count("M") == 2  # the line starts again after the missing day
    assert svg.count("<circle") == 4
    assert "First response (min:s)" in svg
    assert "01/05: 1:00" in svg and "04/05: 0:30" in svg


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
        chart_id="l", title="FRT", labels=DAYS, series=[Series("Average", [None] * 5)], unit=DURATION,
        y_label="FRT",
    )  # fmt: skip
    assert "<path" not in line and "<circle" not in line


Y_TICK = re.compile(r'<text class="chart__tick" x="\d+" y="[\d.]+" text-anchor="end"[^>]*>([^<]*)</text>')


def tick_texts(svg: str) -> list[str]:
    return Y_TICK.findall(svg)


def test_duration_axes_and_points_read_as_minutes_and_seconds():
    svg = line_chart(
        chart_id="frt",
        title="FRT",
        labels=DAYS[:2],
        series=[Series("Average", [95.5, 200.0])],
        unit=DURATION,
        y_label="First response",
    )
    assert tick_texts(svg) == ["0:00", "1:00", "2:00", "3:00", "4:00"]
    assert "01/05: 1:36" in svg and "02/05: 3:20" in svg  # the same text as the cards and the CSV


def test_share_bars_read_as_percentages_with_one_decimal():
    svg = bar_chart(
        chart_id="csat",
        title="CSAT",
        labels=DAYS[:2],
        values=[0.755, 1.0],
        unit=SHARE,
        y_label="CSAT",
        series_name="CSAT",
        top=1.0,
    )
    assert tick_texts(svg) == ["0", "25", "50", "75", "100"]
    assert "CSAT (%)" in svg
    assert "01/05: 75,5 %" in svg and "02/05: 100,0 %" in svg
