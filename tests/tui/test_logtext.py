"""Log text processing: SGR kept as styles, every other control sequence dropped, CR redraws collapsed."""

from __future__ import annotations

import pytest
from rich.color import Color
from rich.text import Text

from runtui.terminal_text import collapse_cr, strip_controls
from runtui.tui.logtext import to_text


def styles_at(text: Text, index: int) -> list[str]:
    return [str(span.style) for span in text.spans if span.start <= index < span.end]


def test_plain_line_is_unchanged_and_not_markup() -> None:
    text = to_text("[red]x[/] [bold]y")
    assert text.plain == "[red]x[/] [bold]y"
    assert text.spans == []


def test_sgr_colours_become_styles() -> None:
    text = to_text("a \x1b[31mred\x1b[0m b \x1b[1;32mbold green\x1b[m c")
    assert text.plain == "a red b bold green c"
    red = text.plain.index("red")
    assert any(span.style.color == Color.from_ansi(1) for span in text.spans if span.start <= red < span.end)
    green = text.plain.index("bold green")
    [style] = [span.style for span in text.spans if span.start <= green < span.end]
    assert style.bold and style.color == Color.from_ansi(2)
    assert styles_at(text, text.plain.index(" c")) == []


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ("\x1b[38;5;208m", Color.from_ansi(208)),
        ("\x1b[38;2;10;20;30m", Color.from_rgb(10, 20, 30)),
        ("\x1b[38:2::10:20:30m", Color.from_rgb(10, 20, 30)),
        ("\x1b[38:5:99m", Color.from_ansi(99)),
        ("\x1b[94m", Color.from_ansi(12)),
    ],
)
def test_extended_colours(sequence: str, expected: Color) -> None:
    text = to_text(sequence + "x")
    assert text.plain == "x"
    assert text.spans[0].style.color == expected


def test_bright_background_and_attribute_resets() -> None:
    text = to_text("\x1b[1;3;4;103mA\x1b[22;23;24;49mB")
    a = text.spans[0].style
    assert a.bold and a.italic and a.underline and a.bgcolor == Color.from_ansi(11)
    assert text.plain == "AB"
    assert all(span.end <= 1 for span in text.spans)  # B carries no style


@pytest.mark.parametrize(
    "hostile",
    [
        "\x1b]0;pwned title\x07",  # set window title (OSC, BEL)
        "\x1b]2;pwned title\x1b\\",  # set window title (OSC, ST)
        "\x1b]8;;https://evil.example\x1b\\",  # hyperlink start
        "\x1b]52;c;aGVsbG8=\x07",  # write the clipboard
        "\x9d0;title\x9c",  # 8-bit OSC and ST
        "\x1b[2J\x1b[H",  # clear screen, cursor home
        "\x1b[10;20H\x1b[5A\x1b[K",  # cursor moves, erase line
        "\x1b[?1049h\x1b[?25l",  # alternate screen, hide cursor
        "\x1bPq#0;2;0;0;0#1!6~\x1b\\",  # DCS (sixel)
        "\x1b_Gf=100;payload\x1b\\",  # APC (kitty graphics)
        "\x1b(0\x1b)B",  # charset switches
        "\x1bc",  # full reset
        "\x1b7\x1b8",  # save/restore cursor
        "\x9b2J",  # 8-bit CSI
        "\x07\x08\x0b\x0c\x0e\x0f\x7f\x85",  # bell, backspace, VT, FF, SO, SI, DEL, NEL
    ],
)
def test_hostile_sequences_are_removed(hostile: str) -> None:
    line = "before " + hostile + "after"
    text = to_text(line)
    assert text.plain == "before after"
    assert strip_controls(line) == "before after"
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text.plain)


def test_unterminated_osc_swallows_the_rest_of_the_line() -> None:
    assert to_text("ok \x1b]0;never ends").plain == "ok "


def test_lone_escape_and_incomplete_csi_leave_no_control_characters() -> None:
    assert "\x1b" not in to_text("a\x1b").plain
    assert "\x1b" not in to_text("a\x1b[31").plain


def test_private_sgr_forms_are_not_colours() -> None:
    text = to_text("\x1b[>4;2mplain")
    assert text.plain == "plain"
    assert text.spans == []


def test_tabs_expand_to_columns() -> None:
    assert to_text("a\tb").plain == "a       b"
    assert to_text("\x1b[31mab\x1b[0m\tc").plain == "ab      c"
    assert strip_controls("ab\tc") == "ab      c"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("plain", "plain"),
        ("crlf line\r", "crlf line"),
        (" 10%|#         |\r 50%|#####     |\r100%|##########|", "100%|##########|"),
        ("progress\r\r", "progress"),
        ("a\rb\r", "b"),
    ],
)
def test_carriage_return_collapse(line: str, expected: str) -> None:
    assert collapse_cr(line) == expected


def test_wide_and_combining_characters_survive() -> None:
    assert to_text("学习率 café \x1b[32mé\x1b[0m").plain == "学习率 café é"
