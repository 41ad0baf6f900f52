"""A line chart of one metric series, drawn with braille dots (2x4 per cell): step on x, value on y.

Its own small widget rather than a plotting library: it renders in microseconds, fits any size down to a
few cells, looks the same with NO_COLOR, and is deterministic for snapshot tests.

Figures that do not lie: a series arrives as an envelope (buckets of steps with each bucket's mean, min and
max, read in the store), and each pixel column is drawn as the line through the means *plus* the column's
whole min..max range, so one spike among 10,000 points still reaches the top row. The header's last/min/max
are the data's own (the store's summary), and the header says when more than one point shares a column.

Bytes on the wire: a new point changes a few cells, so `set_series` compares the new rendering with the one
on screen and repaints only the cells that differ. A live chart's axes are rounded out to "nice" bounds so
that new points rarely rescale (a rescale changes every cell).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget

from runtui.terminal_text import strip_controls
from runtui.tui.formatting import format_number, truncate

BRAILLE_BASE = 0x2800
# dot bit for (x in 0..1, y in 0..3), y from the top of the cell
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_NICE = (1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0)

Range = tuple[float, float]


def nice_ceil(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 5, 7.5 x 10^k at or above `value` (a live x axis grows in these steps)."""
    if value <= 0:
        return 1.0
    scale = 10 ** math.floor(math.log10(value))
    return next(m * scale for m in _NICE if m * scale >= value * (1 - 1e-12))


def nice_bounds(lo: float, hi: float) -> Range:
    """`lo`..`hi` widened to multiples of a 1/2/5 step of about a quarter of the span (a live y axis)."""
    span = hi - lo if hi > lo else (abs(hi) or 1.0)
    raw = span / 4
    scale = 10 ** math.floor(math.log10(raw))
    step = next(m * scale for m in (1.0, 2.0, 5.0, 10.0) if m * scale >= raw)
    low, high = math.floor(lo / step) * step, math.ceil(hi / step) * step
    return (low, high) if high > low else (low - step, high + step)


def plot_envelope(
    xs: Sequence[float],
    means: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    width: int,
    height: int,
    *,
    x_range: Range | None = None,
    y_range: Range | None = None,
) -> tuple[list[str], Range, Range, int] | None:
    """Rows of braille characters, the x and y ranges drawn, and how many pixel columns hold data.

    Points are (x, mean) with the bucket's `lows`/`highs` range; a point whose mean is missing or not finite
    breaks the line. Points sharing a pixel column are merged: the line goes through their mean and the
    column is filled from their lowest low to their highest high. None when there is nothing to draw.
    """
    # (x, mean, low, high) per point; a point without a finite mean is a gap (None)
    pts: list[tuple[float, float, float, float] | None] = []
    for x, m, lo, hi in zip(xs, means, lows, highs, strict=False):
        if m is None or not math.isfinite(m):
            pts.append(None)
            continue
        low = lo if lo is not None and math.isfinite(lo) else m
        high = hi if hi is not None and math.isfinite(hi) else m
        pts.append((x, m, low, high))
    finite = [p for p in pts if p is not None]
    if not finite or width < 1 or height < 1:
        return None
    if x_range is None:
        x_range = (min(p[0] for p in finite), max(p[0] for p in finite))
    if y_range is None:
        y_range = (min(p[2] for p in finite), max(p[3] for p in finite))
    x0, x1 = x_range
    y0, y1 = y_range
    if y1 <= y0:
        y0, y1 = y0 - 1, y1 + 1
    if x1 <= x0:
        x1 = x0 + 1
    pw, ph = width * 2, height * 4
    grid = [[0] * width for _ in range(height)]

    def px_of(x: float) -> int:
        return min(pw - 1, max(0, round((x - x0) / (x1 - x0) * (pw - 1))))

    def py_of(y: float) -> int:
        return min(ph - 1, max(0, round((y1 - y) / (y1 - y0) * (ph - 1))))

    def dot(px: int, py: int) -> None:
        grid[py // 4][px // 2] |= _DOTS[px % 2][py % 4]

    # merge the points of each pixel column, keeping gaps (a missing mean) as breaks
    columns: list[tuple[int, float, float, float] | None] = []
    acc: list[tuple[float, float, float]] = []
    acc_px = -1
    for point in pts:
        if point is None:
            if acc:
                columns.append(_merge(acc_px, acc))
                acc = []
            columns.append(None)
            continue
        x, m, lo, hi = point
        px = px_of(x)
        if acc and px != acc_px:
            columns.append(_merge(acc_px, acc))
            acc = []
        acc_px = px
        acc.append((m, lo, hi))
    if acc:
        columns.append(_merge(acc_px, acc))

    prev: tuple[int, int] | None = None
    used = 0
    for col in columns:
        if col is None:
            prev = None
            continue
        px, mean, lo, hi = col
        used += 1
        cur = (px, py_of(mean))
        if prev is not None:
            _line(prev, cur, dot)
        else:
            dot(*cur)
        for py in range(py_of(hi), py_of(lo) + 1):  # the column's whole range: spikes stay visible
            dot(px, py)
        prev = cur
    rows = ["".join(chr(BRAILLE_BASE + bits) if bits else " " for bits in row) for row in grid]
    return rows, (x0, x1), (y0, y1), used


def _merge(px: int, acc: list[tuple[float, float, float]]) -> tuple[int, float, float, float]:
    return px, sum(a[0] for a in acc) / len(acc), min(a[1] for a in acc), max(a[2] for a in acc)


def plot_braille(
    xs: Sequence[float], ys: Sequence[float | None], width: int, height: int
) -> tuple[list[str], Range, Range] | None:
    """Rows of braille characters drawing the polyline through the points, and the x and y ranges.

    Points with a missing or non-finite y break the line. None when there is nothing to draw.
    """
    drawn = plot_envelope(xs, ys, ys, ys, width, height)
    return None if drawn is None else drawn[:3]


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


def downsampling_note(points: int, columns: int) -> str:
    """What the header says about merged points: nothing when every point has its own pixel column."""
    if columns <= 0 or points <= columns:
        return ""
    ratio = points / columns
    return f"downsampled ×{ratio:.1f}" if ratio < 10 else f"downsampled ×{ratio:,.0f}"


SERIES_COLOURS = 6


class LineChart(Widget):
    """One metric's chart: a title line, the plot with a y axis, and the x (step) range."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"line-chart--series-{i}" for i in range(SERIES_COLOURS)}
    """The curve's colour: charts take turns through the theme's colours, so a theme change reaches them."""

    DEFAULT_CSS = """
    LineChart {
        height: 10;
        border: round $panel-lighten-2;
        padding: 0 1;
    }
    LineChart:focus { border: round $accent; }
    LineChart > .line-chart--series-0 { color: $accent; }
    LineChart > .line-chart--series-1 { color: $success; }
    LineChart > .line-chart--series-2 { color: $secondary; }
    LineChart > .line-chart--series-3 { color: $warning; }
    LineChart > .line-chart--series-4 { color: $primary; }
    LineChart > .line-chart--series-5 { color: $error; }
    """

    def __init__(self, name: str, *, series: int = 0, id: str | None = None) -> None:
        super().__init__(id=id)
        self.metric = name
        self.series = series % SERIES_COLOURS
        self.steps: list[float] = []
        self.values: list[float | None] = []  # bucket means (or the points themselves)
        self.lows: list[float | None] = []
        self.highs: list[float | None] = []
        self.note = "loading…"
        self.figures: tuple[float | None, float | None, float | None] | None = None
        self.points = 0  # how many points the series holds (0: as many as drawn)
        self.stable = False  # live: nice axes that rarely rescale
        self.x_extent: float | None = None  # the x axis' right end (live: ahead of the data)
        self.columns_used = 0  # pixel columns holding data in the last rendering
        self.header_plain = ""  # the header line as plain text (what the reader sees)
        self._shown: list[str] | None = None  # the plain rows on screen, to repaint only what changed
        self._shown_size: tuple[int, int] = (0, 0)
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
        lows: Sequence[float | None] | None = None,
        highs: Sequence[float | None] | None = None,
        points: int = 0,
        stable: bool = False,
        x_extent: float | None = None,
    ) -> None:
        """Draw `values` over `steps`, each with its bucket's `lows`/`highs` range when down-sampled.

        `figures` are the data's own (last, min, max); `points` how many points the data holds (the header
        says "downsampled" when more than one shares a pixel column). `stable` rounds the axes out so that a
        growing series rarely rescales; `x_extent` is where the x axis ends."""
        steps, values = list(steps), list(values)
        lows = list(lows) if lows is not None else values
        highs = list(highs) if highs is not None else values
        state = (steps, values, lows, highs, note, figures, points, stable, x_extent)
        old = (
            self.steps, self.values, self.lows, self.highs, self.note, self.figures, self.points, self.stable,
            self.x_extent,
        )  # fmt: skip
        if state == old:
            return  # a re-read of a series that did not change repaints nothing
        self.steps, self.values, self.lows, self.highs = steps, values, lows, highs
        self.note, self.figures, self.points, self.stable, self.x_extent = note, figures, points, stable, x_extent
        self._repaint_changes()

    def set_note(self, note: str) -> None:
        self.note = note
        self._repaint_changes()

    def _repaint_changes(self) -> None:
        """Refresh only the cells whose text differs from what is on screen (a full refresh the first time)."""
        size = (self.content_region.width, self.content_region.height)
        if self._shown is None or size != self._shown_size or not self.is_mounted:
            self.refresh()
            return
        new = self.build(*size).plain.split("\n")
        old = self._shown
        regions = []
        for y in range(max(len(old), len(new))):
            a = old[y] if y < len(old) else ""
            b = new[y] if y < len(new) else ""
            if a == b:
                continue
            n = max(len(a), len(b))
            a, b = a.ljust(n), b.ljust(n)
            first = next(i for i in range(n) if a[i] != b[i])
            last = next(i for i in range(n - 1, -1, -1) if a[i] != b[i])
            regions.append(Region(first, y, last - first + 1, 1))
        if regions:
            self.refresh(*regions)

    def render(self) -> RenderableType:
        size = (self.content_region.width, self.content_region.height)
        out = self.build(*size)
        self._shown = out.plain.split("\n")
        self._shown_size = size
        return out

    def build(self, width: int, height: int) -> Text:
        lows = [v for v in self.lows if v is not None and math.isfinite(v)]
        highs = [v for v in self.highs if v is not None and math.isfinite(v)]
        means = [v for v in self.values if v is not None and math.isfinite(v)]
        if not means:
            self.header_plain = self.note or "no numeric points"
            return Text(self.header_plain, style="dim", end="")
        last, lo, hi = means[-1], min(lows or means), max(highs or means)
        if self.figures is not None:
            last = self.figures[0] if self.figures[0] is not None else last
            lo = self.figures[1] if self.figures[1] is not None else lo
            hi = self.figures[2] if self.figures[2] is not None else hi
        data_lo, data_hi = min(lows or means), max(highs or means)
        y_range = nice_bounds(data_lo, data_hi) if self.stable else (data_lo, data_hi)
        labels_y = [format_number(v) for v in y_range]
        axis_w = max(len(s) for s in labels_y) + 1
        plot_h = max(1, height - 2)
        plot_w = max(1, width - axis_w - 1)
        x_range = None
        if self.steps:
            x_end = self.x_extent if self.x_extent is not None else max(self.steps)
            x_range = (min(self.steps), max(x_end, max(self.steps)))
        drawn = plot_envelope(
            self.steps, self.values, self.lows, self.highs, plot_w, plot_h, x_range=x_range, y_range=y_range
        )
        header = Text(no_wrap=True, overflow="ellipsis", end="")
        header.append("last ", style="dim")
        header.append(format_number(last), style="bold")
        header.append("  min ", style="dim")
        header.append(format_number(lo))
        header.append("  max ", style="dim")
        header.append(format_number(hi))
        self.columns_used = drawn[3] if drawn is not None else 0
        notes = [n for n in (self.note, downsampling_note(self.points or len(means), self.columns_used)) if n]
        if notes:
            header.append("  " + ", ".join(notes), style="dim")
        header.truncate(width, overflow="ellipsis")
        self.header_plain = header.plain
        out = Text(no_wrap=True, overflow="crop", end="")
        out.append_text(header)
        if drawn is None:
            return out
        rows, (x0, x1), (y0, y1), _ = drawn
        curve = (
            self.get_component_rich_style(f"line-chart--series-{self.series}", partial=True) if self.is_mounted else ""
        )
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
            out.append(row, style=curve)
        left, right = f"{x0:.0f}", f"step {x1:.0f}"
        gap = max(1, plot_w + 1 - len(left) - len(right))
        out.append("\n")
        out.append(" " * axis_w + left + " " * gap + right, style="dim")
        return out
