"""Repaint only the cells that changed: a diff of two rendered lines, and a block of lines that uses it.

Textual marks a widget's whole region dirty when its content changes (`Static.update`), and every dirty line
goes to the terminal in full: at 80x24 a details line is 150-300 bytes of text and colour codes. A live run's
duration ticking from 13s to 14s changes one cell. Textual can send part of a line (a dirty `Region` narrower
than the widget is cut out of the line it renders), so here each update is compared with what was painted,
cell by cell, and only the runs of changed cells are marked dirty (bytes on the wire, issue 15).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

Cell = tuple[str, "Style | None"]

# Two runs of changed cells closer than this are sent as one: a cursor move and a colour code cost about as
# much as a few unchanged cells.
MERGE_GAP = 4


def cells(strip: Strip) -> list[Cell]:
    """One (text, style) per terminal cell; the second cell of a wide character is ("", style)."""
    out: list[Cell] = []
    for segment in strip:
        if segment.control:
            continue
        style = segment.style
        for ch in segment.text:
            width = cell_len(ch)
            if width <= 0:
                if out:  # a combining mark belongs to the cell before it
                    text, prev = out[-1]
                    out[-1] = (text + ch, prev)
                continue
            out.append((ch, style))
            if width == 2:
                out.append(("", style))
    return out


def changed_spans(old: Strip, new: Strip, gap: int = MERGE_GAP) -> list[tuple[int, int]]:
    """The cell ranges `[x1, x2)` where `new` differs from `old` (text or style); nearby ranges merged."""
    a, b = cells(old), cells(new)
    spans: list[tuple[int, int]] = []
    length = max(len(a), len(b))
    x = 0
    while x < length:
        if x < len(a) and x < len(b) and a[x] == b[x]:
            x += 1
            continue
        start = x
        while x < length and not (x < len(a) and x < len(b) and a[x] == b[x]):
            x += 1
        # A change inside a wide character repaints the whole character.
        if start > 0 and ((start < len(b) and b[start][0] == "") or (start < len(a) and a[start][0] == "")):
            start -= 1
        if spans and start - spans[-1][1] <= gap:
            spans[-1] = (spans[-1][0], x)
        else:
            spans.append((start, x))
    return spans


class CellLines(Widget):
    """Any Rich renderable, shown as lines; `update` repaints only the cells that differ from the last paint.

    Its height follows the renderable (height: auto); a change in the number of lines lays the screen out
    again, any other change only repaints the changed cells.
    """

    DEFAULT_CSS = """
    CellLines {
        height: auto;
    }
    """

    def __init__(self, renderable: RenderableType = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._renderable: RenderableType = renderable
        self._strips: list[Strip] = []
        self._key: tuple[int, Style] | None = None  # (width, base style) the strips were rendered for

    @property
    def renderable(self) -> RenderableType:
        return self._renderable

    @property
    def plain(self) -> str:
        """What the widget shows, as text (tests read it)."""
        return "\n".join(strip.text.rstrip() for strip in self._lines(max(1, self.size.width)))

    def update(self, renderable: RenderableType) -> None:
        """Show `renderable`; only the cells that changed are repainted."""
        self._renderable = renderable
        width = self.size.width
        if not self.is_mounted or width <= 0 or self._key is None:
            self._key = None
            self.refresh(layout=True)
            return
        old = self._strips
        new = self._render_strips(width)
        if len(new) != len(old) or self._key != (width, self.rich_style):
            self._keep(new, width)
            self.refresh(layout=True)
            return
        self._keep(new, width)
        regions = [
            Region(x1, y, x2 - x1, 1)
            for y, (a, b) in enumerate(zip(old, new, strict=True))
            for x1, x2 in changed_spans(a, b)
        ]
        if regions:
            self.refresh(*regions)

    def _keep(self, strips: list[Strip], width: int) -> None:
        self._strips = strips
        self._key = (width, self.rich_style)

    def _render_strips(self, width: int) -> list[Strip]:
        renderable = self._renderable
        if isinstance(renderable, str):
            renderable = Text(renderable)
        console = self.app.console
        options = console.options.update(width=width, min_width=width, max_width=width, height=None, highlight=False)
        style = self.rich_style
        lines = console.render_lines(renderable, options, style=style, pad=True, new_lines=False)
        return [Strip(line, width) for line in lines]

    def _lines(self, width: int) -> list[Strip]:
        if self._key != (width, self.rich_style):
            self._keep(self._render_strips(width), width)
        return self._strips

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width)) if width > 0 else 0

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        lines = self._lines(width)
        if 0 <= y < len(lines):
            return lines[y]
        return Strip.blank(width, self.rich_style)
