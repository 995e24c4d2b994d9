"""How figures read: one unit per kind of figure, fixed decimals, pt-BR numbers."""

import pytest
from django.utils import translation

from chat.analytics.units import (
    COUNT,
    DURATION,
    ISSUES,
    RATING,
    SHARE,
    format_tick,
    minutes_seconds,
    nice_ticks,
)


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
    assert DURATION.text(95.5) == "1:36"
    assert DURATION.text(150) == "2:30"
    assert DURATION.text(5400) == "90:00"
    assert SHARE.text(0.755) == "75,5 %"
    assert COUNT.text(1234) == "1.234"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (0.4, "0:00"), (0.5, "0:01"), (45, "0:45"), (59.6, "1:00"), (90, "1:30"), (4510, "75:10")],
)
def test_durations_are_minutes_and_seconds(seconds, text):
    assert minutes_seconds(seconds) == text


def test_every_unit_keeps_its_decimals_even_on_round_values():
    assert RATING.text(4) == "4,00" and RATING.text(3.98) == "3,98"  # never "4" beside "3,98"
    assert SHARE.text(1.0) == "100,0 %" and SHARE.text(0.5) == "50,0 %"
    assert COUNT.text(70) == "70"
    assert [unit.text(None) for unit in (COUNT, DURATION, SHARE, RATING)] == ["—"] * 4


def test_csv_cells_are_bare_numbers_with_a_decimal_comma_and_the_unit_in_the_header():
    assert RATING.csv(4) == "4,00"
    assert SHARE.csv(0.6667) == "66,7"
    assert DURATION.csv(12.5) == "0:13"
    assert COUNT.csv(1234) == "1234"  # no thousands dot: Excel would read 1.234 as a decimal
    assert [unit.csv(None) for unit in (COUNT, DURATION, SHARE, RATING)] == [""] * 4
    assert DURATION.csv_heading("Tempo") == "Tempo (min:s)"
    assert SHARE.csv_heading("CSAT") == "CSAT (%)"
    assert RATING.csv_heading("Satisfação") == "Satisfação"


def test_issue_counts_read_with_the_categories_labels():
    counts = [{"issue": "atraso_entrega", "count": 3}, {"issue": "rastreamento", "count": 1}]
    assert ISSUES.csv(counts) == "Atraso / entrega: 3 | Rastreamento: 1"
    assert ISSUES.text(counts) == "Atraso / entrega: 3, Rastreamento: 1"
    assert ISSUES.text([]) == "—"


def test_stored_figures_keep_a_fixed_number_of_decimals():
    assert DURATION.store(12.34567) == 12.346
    assert SHARE.store(2 / 3) == 0.6667
    assert RATING.store(11 / 3) == 3.667
    assert COUNT.store(7) == 7
