"""The braille line chart's plotting."""

from __future__ import annotations

import math

from runtui.tui.widgets.chart import BRAILLE_BASE, plot_braille


def dots(rows: list[str]) -> int:
    return sum(bin(ord(c) - BRAILLE_BASE).count("1") for row in rows for c in row if c != " ")


def test_rising_line_goes_from_bottom_left_to_top_right() -> None:
    drawn = plot_braille([0, 1, 2, 3], [0.0, 1.0, 2.0, 3.0], width=4, height=2)
    assert drawn is not None
    rows, xr, yr = drawn
    assert xr == (0, 3) and yr == (0.0, 3.0)
    assert len(rows) == 2 and all(len(r) == 4 for r in rows)
    assert rows[1][0] != " " and rows[0][-1] != " "
    assert rows[0][0] == " " and rows[1][-1] == " "


def test_gaps_and_non_finite_points() -> None:
    assert plot_braille([0, 1], [None, math.nan], 5, 2) is None
    drawn = plot_braille([0, 1, 2, 3, 4], [1.0, 2.0, None, 2.0, 1.0], 10, 3)
    assert drawn is not None
    joined = plot_braille([0, 1, 2, 3, 4], [1.0, 2.0, 2.0, 2.0, 1.0], 10, 3)
    assert joined is not None
    assert dots(drawn[0]) < dots(joined[0])  # the gap is not drawn


def test_flat_series_and_single_point() -> None:
    drawn = plot_braille([5], [1.0], 3, 1)
    assert drawn is not None
    assert dots(drawn[0]) == 1
    flat = plot_braille([0, 10], [2.0, 2.0], 6, 2)
    assert flat is not None and flat[2] == (1.0, 3.0)
