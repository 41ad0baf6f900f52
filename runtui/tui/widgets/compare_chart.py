"""One metric of several runs on shared axes: each run's curve in its own theme colour, braille dots.

Each curve is drawn into its own dot grid, then the grids are merged cell by cell: a cell takes the dots of
every curve that passes through it and the colour of the last of them (curves are listed in legend order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from runtui.terminal_text import strip_controls
from runtui.tui.formatting import format_number, truncate
from runtui.tui.widgets.chart import BRAILLE_BASE, plot_envelope

SERIES_CLASSES = tuple(f"compare-chart--series-{i}" for i in range(6))

Series = tuple[Sequence[Any], ...]  # (steps, values) or (steps, means, mins, maxs)

SERIES_CSS = """
    WIDGET > .compare-chart--series-0 { color: $accent; }
    WIDGET > .compare-chart--series-1 { color: $success; }
    WIDGET > .compare-chart--series-2 { color: $warning; }
    WIDGET > .compare-chart--series-3 { color: $error; }
    WIDGET > .compare-chart--series-4 { color: $secondary; }
    WIDGET > .compare-chart--series-5 { color: $primary; }
"""


def plot_many(
    series: Sequence[Series], width: int, height: int
) -> tuple[list[list[tuple[int, int]]], tuple[float, float], tuple[float, float]] | None:
    """Cells (dot bits, index of the curve that coloured it, -1 for none) for every curve on shared axes,
    and the x and y ranges. None when no curve has a finite point.

    A curve is (steps, values) or (steps, bucket means, bucket mins, bucket maxs): with the bucket ranges each
    pixel column is filled from its lowest to its highest point, so a spike in one run stays visible and the
    shared y range is the data's own, not the bucket means'."""
    curves = [(c[0], c[1], c[2], c[3]) if len(c) == 4 else (c[0], c[1], c[1], c[1]) for c in series]
    xs_all: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    for xs, means, lo, hi in curves:
        for x, m, a, b in zip(xs, means, lo, hi, strict=False):
            if m is None or not math.isfinite(m):
                continue
            xs_all.append(x)
            lows.append(a if a is not None and math.isfinite(a) else m)
            highs.append(b if b is not None and math.isfinite(b) else m)
    if not xs_all or width < 1 or height < 1:
        return None
    x_range, y_range = (min(xs_all), max(xs_all)), (min(lows), max(highs))
    cells = [[(0, -1)] * width for _ in range(height)]
    drawn_ranges = (x_range, y_range)
    for index, (xs, means, lo, hi) in enumerate(curves):
        drawn = plot_envelope(xs, means, lo, hi, width, height, x_range=x_range, y_range=y_range)
        if drawn is None:
            continue
        rows, xr, yr, _ = drawn
        drawn_ranges = (xr, yr)
        for r, row in enumerate(rows):
            for c, char in enumerate(row):
                if char != " ":
                    old_bits, _ = cells[r][c]
                    cells[r][c] = (old_bits | (ord(char) - BRAILLE_BASE), index)
    return cells, drawn_ranges[0], drawn_ranges[1]


class CompareChart(Widget):
    """One metric's curves, one per run, with the shared y range and each run's last value."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(SERIES_CLASSES)
    """One colour per run, in legend order (from the theme)."""

    DEFAULT_CSS = """
    CompareChart {
        height: 12;
        border: round $panel-lighten-2;
        padding: 0 1;
    }
    CompareChart:focus { border: round $accent; }
    """ + SERIES_CSS.replace("WIDGET", "CompareChart")

    def __init__(self, metric: str, runs: Sequence[str]) -> None:
        super().__init__()
        self.metric = metric
        self.runs = list(runs)  # run ids in legend order
        self.series: dict[str, Series] = {}
        self.lasts: dict[str, float | None] = {}  # each run's last logged value (the data's, not a bucket's)
        self.border_title = Text(truncate(strip_controls(metric), 60))
        self.can_focus = True

    def set_series(
        self,
        run_id: str,
        steps: Sequence[float],
        values: Sequence[float | None],
        *,
        lows: Sequence[float | None] | None = None,
        highs: Sequence[float | None] | None = None,
        last: float | None = None,
    ) -> None:
        """One run's curve: `values` over `steps`, with each bucket's `lows`/`highs` when down-sampled, and the
        run's `last` logged value for the header."""
        new: Series = (list(steps), list(values))
        if lows is not None and highs is not None:
            new = (list(steps), list(values), list(lows), list(highs))
        if self.series.get(run_id) == new and self.lasts.get(run_id) == last:
            return  # nothing changed: no repaint
        self.series[run_id] = new
        self.lasts[run_id] = last
        self.refresh()

    def series_style(self, index: int) -> Style:
        return self.get_component_rich_style(SERIES_CLASSES[index % len(SERIES_CLASSES)], partial=True)

    def render(self) -> RenderableType:
        width, height = self.content_region.width, self.content_region.height
        ordered = [(i, self.series[r]) for i, r in enumerate(self.runs) if r in self.series]
        if not ordered:
            return Text("loading…", style="dim")
        header = Text(no_wrap=True, overflow="ellipsis")
        for i, curve in ordered:
            finite = [v for v in curve[1] if v is not None and math.isfinite(v)]
            last = self.lasts.get(self.runs[i])
            if last is None and finite:
                last = finite[-1]
            if last is not None:
                header.append("━ ", style=self.series_style(i))
                header.append(format_number(last) + "  ")
        drawn = plot_many([s for _, s in ordered], max(1, width - 10), max(1, height - 2))
        out = Text(no_wrap=True, overflow="crop", end="")
        out.append_text(header)
        if drawn is None:
            return out
        cells, (x0, x1), (y0, y1) = drawn
        index_of = [i for i, _ in ordered]
        for r, row in enumerate(cells):
            out.append("\n")
            label = format_number(y1) if r == 0 else (format_number(y0) if r == len(cells) - 1 else "")
            out.append(label.rjust(8) + " ", style="dim")
            out.append("│", style="dim")
            for bits, which in row:
                if bits:
                    out.append(chr(BRAILLE_BASE + bits), style=self.series_style(index_of[which]))
                else:
                    out.append(" ")
        out.append("\n")
        left, right = f"{x0:.0f}", f"step {x1:.0f}"
        out.append(" " * 10 + left + " " * max(1, width - 10 - len(left) - len(right)) + right, style="dim")
        return out


class CompareLegend(Widget):
    """Which colour is which run (the same component classes as the charts)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(SERIES_CLASSES)
    DEFAULT_CSS = """
    CompareLegend { height: auto; padding: 0 1; }
    """ + SERIES_CSS.replace("WIDGET", "CompareLegend")

    def __init__(self, entries: Sequence[str], id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries = list(entries)

    def render(self) -> RenderableType:
        legend = Text()
        for i, entry in enumerate(self.entries):
            if legend:
                legend.append("   ")
            style = self.get_component_rich_style(SERIES_CLASSES[i % len(SERIES_CLASSES)], partial=True)
            legend.append("━━ ", style=style)
            legend.append(entry)
        return legend
