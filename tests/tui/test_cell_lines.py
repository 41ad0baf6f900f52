"""Only the cells that changed are repainted: the diff of two painted lines, and the left crop of a partial
line that Textual 8 leaves out (both cut a live run's bytes on the wire, issue 15)."""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate
from textual.strip import Strip

from runtui.tui.partial_lines import cell_start, install, render_strip
from runtui.tui.widgets.cell_lines import changed_spans

BOLD = Style(bold=True)
DIM = Style(dim=True)


def strip(*parts: tuple[str, Style | None]) -> Strip:
    return Strip([Segment(text, style) for text, style in parts])


def test_a_ticking_duration_changes_one_cell() -> None:
    old = strip(("● run-1  ", BOLD), ("loss 0.4136 ", None), ("13s", DIM))
    new = strip(("● run-1  ", BOLD), ("loss 0.4136 ", None), ("14s", DIM))
    assert changed_spans(old, new) == [(22, 23)]


def test_a_style_change_alone_is_a_change() -> None:
    assert changed_spans(strip(("ab", None)), strip(("a", None), ("b", BOLD))) == [(1, 2)]


def test_near_changes_merge_and_far_ones_do_not() -> None:
    assert changed_spans(strip(("a....b", None)), strip(("x....y", None))) == [(0, 6)]
    assert changed_spans(strip(("a" + "." * 10 + "b", None)), strip(("x" + "." * 10 + "y", None))) == [
        (0, 1),
        (11, 12),
    ]


def test_wide_characters_are_repainted_whole() -> None:
    # 学 takes two cells; a change in its second cell repaints from its first
    assert changed_spans(strip(("a学b", None)), strip(("a学c", None))) == [(3, 4)]
    assert changed_spans(strip(("a学", None)), strip(("ab ", None))) == [(1, 3)]
    assert cell_start(strip(("a学b", None)), 2) == 1
    assert cell_start(strip(("a学b", None)), 3) == 3


def test_identical_lines_change_nothing_and_a_longer_line_changes_its_tail() -> None:
    assert changed_spans(strip(("same", BOLD)), strip(("same", BOLD))) == []
    assert changed_spans(strip(("ab", None)), strip(("abcd", None))) == [(2, 4)]


def test_a_partial_line_is_sent_from_where_it_changed() -> None:
    """Textual 8 sends a dirty region from the widget's left edge: 60 bytes for one digit in this line."""
    assert install()
    console = Console(color_system="truecolor", force_terminal=True)
    line = strip(("├ ", DIM), ("● run-1 ", BOLD), ("loss 0.4136 ", None), ("14s", DIM))
    update = ChopsUpdate([{0: line}], [(0, 23, 24)], [[line.cell_length]])
    out = update.render_segments(console)
    assert out == "\x1b[1;24H\x1b[2m4\x1b[0m", repr(out)


def test_neighbours_that_look_alike_share_one_colour_code() -> None:
    console = Console(color_system="truecolor", force_terminal=True)
    line = strip(("step 40", BOLD), ("       ", BOLD), ("x", None))
    assert render_strip(line, console) == "\x1b[1mstep 40       \x1b[0mx"
    assert line.render(console).count("\x1b[1m") == 2  # what Textual alone sends
