"""One metric of several runs on shared axes: each run's curve in its own theme colour, braille dots.

Each curve is drawn into its own dot grid, then the grids are merged cell by cell: a cell takes the dots of
every curve that passes through it and the colour of the last of them (curves are listed in legend order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from runtui.terminal_text import strip_controls
from runtui.tui.formatting import format_number, truncate
from runtui.tui.widgets.chart import _DOTS, BRAILLE_BASE, _line

SERIES_CLASSES = tuple(f"compare-chart--series-{i}" for i in range(6))

Series = tuple[Sequence[float], Sequence[float | None]]

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
    and the x and y ranges. None when no curve has a finite point."""
    pts = [(x, y) for xs, ys in series for x, y in zip(xs, ys, strict=False) if y is not None and math.isfinite(y)]
    if not pts or width < 1 or height < 1:
        return None
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    if x1 == x0:
        x1 = x0 + 1
    pw, ph = width * 2, height * 4
    cells = [[(0, -1)] * width for _ in range(height)]
    for index, (xs, ys) in enumerate(series):
        grid = [[0] * width for _ in range(height)]

        def dot(px: int, py: int, grid: list[list[int]] = grid) -> None:
            grid[py // 4][px // 2] |= _DOTS[px % 2][py % 4]

        prev: tuple[int, int] | None = None
        for x, y in zip(xs, ys, strict=False):
            if y is None or not math.isfinite(y):
                prev = None
                continue
            cur = (round((x - x0) / (x1 - x0) * (pw - 1)), round((y1 - y) / (y1 - y0) * (ph - 1)))
            if prev is not None:
                _line(prev, cur, dot)
            else:
                dot(*cur)
            prev = cur
        for r in range(height):
            for c in range(width):
                bits = grid[r][c]
                if bits:
                    old_bits, _ = cells[r][c]
                    cells[r][c] = (old_bits | bits, index)
    return cells, (x0, x1), (y0, y1)


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
        self.border_title = Text(truncate(strip_controls(metric), 60))
        self.can_focus = True

    def set_series(self, run_id: str, steps: Sequence[float], values: Sequence[float | None]) -> None:
        new = (list(steps), list(values))
        if self.series.get(run_id) == new:
            return  # nothing changed: no repaint
        self.series[run_id] = new
        self.refresh()

    def series_style(self, index: int) -> Style:
        return self.get_component_rich_style(SERIES_CLASSES[index % len(SERIES_CLASSES)], partial=True)

    def render(self) -> RenderableType:
        width, height = self.content_region.width, self.content_region.height
        ordered = [(i, self.series[r]) for i, r in enumerate(self.runs) if r in self.series]
        if not ordered:
            return Text("loading…", style="dim")
        header = Text(no_wrap=True, overflow="ellipsis")
        for i, (_, ys) in ordered:
            finite = [v for v in ys if v is not None and math.isfinite(v)]
            if finite:
                header.append("━ ", style=self.series_style(i))
                header.append(format_number(finite[-1]) + "  ")
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
