"""Turning raw log output from a run into styled display text.

What is dropped and what survives is decided by `runtui.terminal_text`: SGR colours and attributes survive,
every other control sequence goes, carriage-return progress bars collapse. Here SGR becomes styles: the result
is a `rich.text.Text` built from plain strings and `Style` objects, never parsed as Rich or Textual markup.
"""

from __future__ import annotations

from functools import lru_cache

from rich.color import Color
from rich.style import Style
from rich.text import Text

from runtui.terminal_text import CONTROL, HAS_CONTROL, TAB_SIZE


def to_text(line: str) -> Text:
    """A display line: SGR colours applied as styles, all other controls dropped, never markup-parsed."""
    if HAS_CONTROL.search(line) is None:
        return Text(line.expandtabs(TAB_SIZE) if "\t" in line else line, end="", no_wrap=True)
    text = Text(end="", no_wrap=True)
    state = _SgrState()
    pos = 0
    column = 0
    for match in CONTROL.finditer(line):
        if match.start() > pos:
            column = _append(text, line[pos : match.start()], state.style(), column)
        pos = match.end()
        if match.group("final") == "m":
            state.apply(match.group("params"))
    if pos < len(line):
        _append(text, line[pos:], state.style(), column)
    return text


def _append(text: Text, chunk: str, style: Style | None, column: int) -> int:
    if "\t" in chunk:
        out = []
        for ch in chunk:
            if ch == "\t":
                pad = TAB_SIZE - (column % TAB_SIZE)
                out.append(" " * pad)
                column += pad
            else:
                out.append(ch)
                column += 1
        chunk = "".join(out)
    else:
        column += len(chunk)
    text.append(chunk, style)
    return column


class _SgrState:
    """The current SGR attributes while walking a line."""

    __slots__ = ("attrs", "bg", "fg")

    def __init__(self) -> None:
        self.fg: Color | None = None
        self.bg: Color | None = None
        self.attrs: frozenset[str] = frozenset()

    def style(self) -> Style | None:
        if self.fg is None and self.bg is None and not self.attrs:
            return None
        return _style(self.fg, self.bg, self.attrs)

    def apply(self, params: str) -> None:
        if params and not params[0].isdigit() and params[0] not in ";:":
            return  # private-mode sequences (ESC[>...m, ESC[?...m) are not colours
        groups = params.split(";") if params else ["0"]
        attrs = set(self.attrs)
        i = 0
        while i < len(groups):
            group = groups[i]
            i += 1
            if ":" in group:
                # ISO 8613-6 sub-parameters, self-contained: 38:5:n, 38:2::r:g:b, 38:2:r:g:b, 4:3 (curly)
                sub = [int(x) if x.isdigit() else 0 for x in group.split(":")]
                if sub[0] in (38, 48):
                    rest = sub[1:]
                    if rest[:1] == [2] and len(rest) >= 5:
                        rest = [2, *rest[-3:]]
                    color, _ = _extended_color(rest, 0)
                    self._set_color(sub[0], color)
                elif sub[0] == 4:
                    if len(sub) > 1 and sub[1] == 0:
                        attrs.discard("underline")
                    else:
                        attrs.add("underline")
                continue
            code = int(group) if group.isdigit() else 0
            if code == 0:
                self.fg = self.bg = None
                attrs.clear()
            elif code in _ATTR_ON:
                attrs.add(_ATTR_ON[code])
            elif code in _ATTR_OFF:
                attrs.difference_update(_ATTR_OFF[code])
            elif 30 <= code <= 37:
                self.fg = Color.from_ansi(code - 30)
            elif 90 <= code <= 97:
                self.fg = Color.from_ansi(code - 90 + 8)
            elif 40 <= code <= 47:
                self.bg = Color.from_ansi(code - 40)
            elif 100 <= code <= 107:
                self.bg = Color.from_ansi(code - 100 + 8)
            elif code == 39:
                self.fg = None
            elif code == 49:
                self.bg = None
            elif code in (38, 48):
                codes = [int(g) if g.isdigit() else 0 for g in groups[i : i + 4]]
                color, used = _extended_color(codes, 0)
                i += used
                self._set_color(code, color)
        self.attrs = frozenset(attrs)

    def _set_color(self, code: int, color: Color | None) -> None:
        if code == 38:
            self.fg = color
        else:
            self.bg = color


_ATTR_ON = {1: "bold", 2: "dim", 3: "italic", 4: "underline", 7: "reverse", 9: "strike"}
_ATTR_OFF = {
    21: ("bold",),
    22: ("bold", "dim"),
    23: ("italic",),
    24: ("underline",),
    27: ("reverse",),
    29: ("strike",),
}


def _extended_color(codes: list[int], i: int) -> tuple[Color | None, int]:
    """Parse `5;n` (256 colours) or `2;r;g;b` (true colour) starting at `codes[i]`; return it and codes used."""
    if i < len(codes) and codes[i] == 5 and i + 1 < len(codes):
        return Color.from_ansi(max(0, min(255, codes[i + 1]))), 2
    if i < len(codes) and codes[i] == 2 and i + 3 < len(codes):
        r, g, b = (max(0, min(255, v)) for v in codes[i + 1 : i + 4])
        return Color.from_rgb(r, g, b), 4
    return None, len(codes) - i


@lru_cache(maxsize=1024)
def _style(fg: Color | None, bg: Color | None, attrs: frozenset[str]) -> Style:
    return Style(
        color=fg,
        bgcolor=bg,
        bold=True if "bold" in attrs else None,
        dim=True if "dim" in attrs else None,
        italic=True if "italic" in attrs else None,
        underline=True if "underline" in attrs else None,
        reverse=True if "reverse" in attrs else None,
        strike=True if "strike" in attrs else None,
    )
