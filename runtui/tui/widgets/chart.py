"""A line chart of one metric series, drawn with braille dots (2x4 per cell): step on x, value on y.

Its own small widget rather than a plotting library: it renders in microseconds, fits any size down to a
few cells, looks the same with NO_COLOR, and is deterministic for snapshot tests. Series arrive already
down-sampled (the store averages buckets of steps), so drawing cost depends on the widget size only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from runtui.terminal_text import strip_controls
from runtui.tui.formatting import format_number, truncate

BRAILLE_BASE = 0x2800
# dot bit for (x in 0..1, y in 0..3), y from the top of the cell
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


def plot_braille(
    xs: Sequence[float], ys: Sequence[float | None], width: int, height: int
) -> tuple[list[str], tuple[float, float], tuple[float, float]] | None:
    """Rows of braille characters drawing the polyline through the points, and the x and y ranges.

    Points with a missing or non-finite y break the line. None when there is nothing to draw.
    """
    pts = [(x, y) for x, y in zip(xs, ys, strict=False) if y is not None and math.isfinite(y)]
    if not pts or width < 1 or height < 1:
        return None
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    if x1 == x0:
        x1 = x0 + 1
    pw, ph = width * 2, height * 4
    grid = [[0] * width for _ in range(height)]

    def to_px(x: float, y: float) -> tuple[int, int]:
        px = round((x - x0) / (x1 - x0) * (pw - 1))
        py = round((y1 - y) / (y1 - y0) * (ph - 1))
        return px, py

    def dot(px: int, py: int) -> None:
        grid[py // 4][px // 2] |= _DOTS[px % 2][py % 4]

    prev: tuple[int, int] | None = None
    last_ok_index = -2
    index = 0
    for x, y in zip(xs, ys, strict=False):
        if y is None or not math.isfinite(y):
            index += 1
            continue
        cur = to_px(x, y)
        if prev is not None and last_ok_index == index - 1:
            _line(prev, cur, dot)
        else:
            dot(*cur)
        prev = cur
        last_ok_index = index
        index += 1
    rows = ["".join(chr(BRAILLE_BASE + bits) if bits else " " for bits in row) for row in grid]
    return rows, (x0, x1), (y0, y1)


def _line(a: tuple[int, int], b: tuple[int, int], dot: object) -> None:
    """Bresenham from a to b."""
    (xa, ya), (xb, yb) = a, b
    dx, dy = abs(xb - xa), -abs(yb - ya)
    sx = 1 if xa < xb else -1
    sy = 1 if ya < yb else -1
    err = dx + dy
    while True:
        dot(xa, ya)  # type: ignore[operator]
        if xa == xb and ya == yb:
            return
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            xa += sx
        if e2 <= dx:
            err += dx
            ya += sy


class LineChart(Widget):
    """One metric's chart: a title line, the plot with a y axis, and the x (step) range."""

    DEFAULT_CSS = """
    LineChart {
        height: 10;
        border: round $panel-lighten-2;
        padding: 0 1;
    }
    LineChart:focus { border: round $accent; }
    """

    def __init__(self, name: str, *, color: str = "cyan", id: str | None = None) -> None:
        super().__init__(id=id)
        self.metric = name
        self.color = color
        self.steps: list[float] = []
        self.values: list[float | None] = []
        self.note = "loading…"
        self.figures: tuple[float | None, float | None, float | None] | None = None
        # The metric name is user text: a Text title is never parsed as markup (a str would be).
        self.border_title = Text(truncate(strip_controls(name), 60))
        self.can_focus = True

    def set_series(
        self,
        steps: Sequence[float],
        values: Sequence[float | None],
        note: str = "",
        *,
        figures: tuple[float | None, float | None, float | None] | None = None,
    ) -> None:
        """Draw `values` over `steps`. `figures` are the data's own (last, min, max) when the series drawn is
        down-sampled: the header shows them rather than those of the averaged points."""
        steps, values = list(steps), list(values)
        if steps == self.steps and values == self.values and note == self.note and figures == self.figures:
            return  # a re-read of a series that did not change repaints nothing
        self.steps = steps
        self.values = values
        self.note = note
        self.figures = figures
        self.refresh()

    def set_note(self, note: str) -> None:
        self.note = note
        self.refresh()

    def render(self) -> RenderableType:
        width = self.content_region.width
        height = self.content_region.height
        finite = [v for v in self.values if v is not None and math.isfinite(v)]
        if not finite:
            return Text(self.note or "no numeric points", style="dim")
        last, lo, hi = finite[-1], min(finite), max(finite)
        if self.figures is not None:
            last = self.figures[0] if self.figures[0] is not None else last
            lo = self.figures[1] if self.figures[1] is not None else lo
            hi = self.figures[2] if self.figures[2] is not None else hi
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append("last ", style="dim")
        header.append(format_number(last), style="bold")
        header.append("  min ", style="dim")
        header.append(format_number(lo))
        header.append("  max ", style="dim")
        header.append(format_number(hi))
        if self.note:
            header.append("  " + self.note, style="dim")
        labels_y = [format_number(v) for v in (max(finite), min(finite))]
        axis_w = max(len(s) for s in labels_y) + 1
        plot_h = max(1, height - 2)
        plot_w = max(1, width - axis_w - 1)
        drawn = plot_braille(self.steps, self.values, plot_w, plot_h)
        out = Text(no_wrap=True, overflow="crop", end="")
        out.append_text(header)
        if drawn is None:
            return out
        rows, (x0, x1), (y0, y1) = drawn
        for i, row in enumerate(rows):
            out.append("\n")
            if i == 0:
                label = format_number(y1)
            elif i == len(rows) - 1:
                label = format_number(y0)
            else:
                label = ""
            out.append(label.rjust(axis_w - 1) + " ", style="dim")
            out.append("│", style="dim")
            out.append(row, style=self.color)
        left, right = f"{x0:.0f}", f"step {x1:.0f}"
        gap = max(1, plot_w + 1 - len(left) - len(right))
        out.append("\n")
        out.append(" " * axis_w + left + " " * gap + right, style="dim")
        return out
