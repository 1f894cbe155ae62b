"""The dashboard's SVG charts: readable axes, escaped text."""

from __future__ import annotations

import pytest

from walletcards.admin.charts import _nice_max, bar_chart, line_chart

pytestmark = pytest.mark.once


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (1, 1), (7, 10), (11, 20), (120, 200), (480, 500), (501, 1000)]
)
def test_the_axis_top_is_a_round_number_at_least_the_largest_value(value: int, top: int) -> None:
    assert _nice_max(value) == top


def test_names_and_labels_are_escaped() -> None:
    svg = line_chart("<b>", ["<script>", "x"], [("</svg><script>", [1, 2])])
    bars = bar_chart("t", [("<img src=x onerror=alert(1)>", 3)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "<img" not in bars and "&lt;img" in bars


def test_each_series_is_one_polyline_with_a_point_per_bucket() -> None:
    svg = line_chart("t", ["a", "b", "c"], [("one", [1, 2, 3]), ("two", [3, 2, 1])])
    assert svg.count("<polyline") == 2
    first = svg.split('points="')[1].split('"')[0]
    assert len(first.split()) == 3


def test_every_bar_is_named_under_it() -> None:
    bars = bar_chart("t", [("no tier", 1), ("Bronze", 1), ("Silver", 1), ("Gold", 2)])
    assert [label.split(">")[-1] for label in bars.split("</text>")[5:-1]] == [
        "no tier",
        "Bronze",
        "Silver",
        "Gold",
    ]
