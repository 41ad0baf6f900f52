"""Send a partly changed line from where it changed, not from the widget's left edge.

Textual 8 writes a dirty region narrower than a widget from the widget's left edge up to the region's right
edge (`_compositor.ChopsUpdate.render_segments`; its `__rich_console__` twin has a "TODO: crop to x extents").
runtui marks only the cells that changed (a duration's digit, a metric's value: `widgets/cell_lines.py`), and
with that cut a live run's tree line still cost ~200 bytes per change, as much as repainting it whole.
`install()` replaces that one method with the same code plus the left crop (never inside a wide character),
and writes neighbouring cells that look the same under one colour code (Textual opens and closes the codes
for every segment: a log line and its padding, or a tree label's parts under the cursor, each pay again).
It is installed only on the Textual versions it was written against; elsewhere Textual's own method stays.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.color import ColorSystem
from rich.console import Console
from rich.control import Control
from textual.strip import Strip

_installed = False


def cell_start(strip: Strip, offset: int) -> int:
    """`offset`, or the start of the wide character it would cut in two."""
    pos = 0
    for segment in strip:
        width = segment.cell_length
        if pos + width <= offset:
            pos += width
            continue
        for ch in segment.text:
            w = cell_len(ch)
            if pos + w > offset:
                return pos
            pos += w
        break
    return offset


def render_strip(strip: Strip, console: Console) -> str:
    """`Strip.render`, with runs of segments that render alike under one SGR sequence."""
    color_system = console._color_system or ColorSystem.TRUECOLOR
    out: list[str] = []
    run_ansi = ""
    run: list[str] = []

    def flush() -> None:
        if run:
            text = "".join(run)
            out.append(f"\x1b[{run_ansi}m{text}\x1b[0m" if run_ansi else text)
            run.clear()

    for segment in strip:
        text, style = segment.text, segment.style
        if style is not None and style._link:
            flush()
            out.append(Strip.render_style(style, text, color_system))
            continue
        ansi = "" if style is None else (style._ansi or Strip.render_ansi(style, color_system))
        if ansi != run_ansi:
            flush()
            run_ansi = ansi
        run.append(text)
    flush()
    return "".join(out)


def render_segments(self: object, console: Console) -> str:
    """`ChopsUpdate.render_segments` of Textual 8.2, each span also cut on its left."""
    sequences: list[str] = []
    append = sequences.append
    chops = self.chops  # type: ignore[attr-defined]
    chop_ends = self.chop_ends  # type: ignore[attr-defined]
    spans: list[tuple[int, int, int]] = self.spans  # type: ignore[attr-defined]
    last_y = spans[-1][0]
    for y, x1, x2 in spans:
        line = chops[y]
        ends = chop_ends[y]
        for end, (x, strip) in zip(ends, line.items(), strict=False):
            if strip is None:
                continue
            if x > x2 or end <= x1:
                continue
            if x2 > x >= x1 and end <= x2:
                append(Control.move_to(x, y).segment.text)
                append(render_strip(strip, console))
                continue
            start = cell_start(strip, x1 - x) if x1 > x else 0
            strip = strip.crop(start, min(end, x2) - x)
            append(Control.move_to(x + start, y).segment.text)
            append(render_strip(strip, console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def install() -> bool:
    """Use the left-cropping method (once per process); False when this Textual is not the one it fits."""
    global _installed
    if _installed:
        return True
    import os

    if os.environ.get("RUNTUI_PARTIAL_LINES", "1") == "0":
        return False  # the escape hatch: Textual's own method (whole spans from the widget's left edge)
    import textual
    from textual import _compositor

    if not textual.__version__.startswith("8.") or not hasattr(_compositor, "ChopsUpdate"):
        return False
    _compositor.ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]
    _installed = True
    return True
