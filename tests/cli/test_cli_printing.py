"""The CLI's printing helpers: escaping text from runs, tables, JSON, numbers, and the log sanitizer."""

from __future__ import annotations

import json

import pytest

from runtui.cli import printing as out
from runtui.cli.commands.logs import sanitizer


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain", "plain"),
        ("a\nb", "a\\nb"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("tab\there", "tab\\there"),
        ("c1 \x9b2J", "c1 \\x9b2J"),
        ("line\u2028sep", "line\\u2028sep"),
        ("ünïcödé ✓", "ünïcödé ✓"),
    ],
)
def test_safe_escapes_every_control_character(raw: str, shown: str) -> None:
    assert out.safe(raw) == shown


def test_safe_block_keeps_lines() -> None:
    assert out.safe_block("Traceback\n  \x1b[2Jx\n") == "Traceback\n  \\x1b[2Jx\n"


def test_json_text_escapes_c1_controls_but_keeps_letters() -> None:
    text = out.json_text({"k": "é\x9b\x7f\x1b"})
    assert "\x9b" not in text and "\x7f" not in text and "\x1b" not in text
    assert "é" in text
    assert json.loads(text) == {"k": "é\x9b\x7f\x1b"}


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "-"), (0.123456, "0.1235"), (3.0, "3"), (float("nan"), "nan"), (float("-inf"), "-inf"), ("x\n", "x\\n")],
)
def test_format_number(value: float | str | None, text: str) -> None:
    assert out.format_number(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (9.9, "9s"), (245, "4m05s"), (3 * 3600 + 420, "3h07m"), (2 * 86400 + 4 * 3600, "2d04h")],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert out.format_duration(seconds) == text


def test_format_tags_sorted_and_escaped() -> None:
    assert out.format_tags({"z": None, "a": "1\x1b"}) == "a=1\\x1b z"


def test_render_table_clips_and_fits() -> None:
    rows = [("Running", "a" * 50, "tag1 tag2 tag3"), ("Failed", "short", "")]
    lines = out.render_table(("STATUS", "NAME", "TAGS"), rows, max_widths=(None, 10, None), width=None)
    assert lines[0] == "STATUS   NAME        TAGS"
    assert lines[1] == "Running  aaaaaaaaa…  tag1 tag2 tag3"
    assert lines[2] == "Failed   short"
    fitted = out.render_table(("STATUS", "NAME", "TAGS"), rows, max_widths=(None, 10, None), width=27)
    assert all(len(line) <= 27 for line in fitted)
    assert fitted[1] == "Running  aaaaaaaaa…  tag1 …"


def test_render_table_colours_only_the_first_cell() -> None:
    lines = out.render_table(("S", "N"), [("ok", "x")], max_widths=(None, None), width=None, first_sgr=["32"])
    assert lines[1] == "\x1b[32mok\x1b[0m  x"


def test_render_empty_table() -> None:
    assert out.render_table(("A", "B"), [], max_widths=(None, None), width=None) == ["A  B"]


def test_log_sanitizer_plain_and_coloured() -> None:
    hostile = "\x1b[1;32mok\x1b[0m \x1b]0;t\x07\x1b[2J\x1b[3;1H\x1b[?25l\x1b[>4;1m\x1bc\x9b1m\x07 end"
    assert sanitizer(False)(hostile) == "ok  end"
    coloured = sanitizer(True)(hostile)
    assert coloured == "\x1b[1;32mok\x1b[0m  end\x1b[0m"
    assert sanitizer(True)("a\rb\rfinal") == "final"
    assert sanitizer(True)("no controls") == "no controls"


def test_render_table_lines_up_wide_characters_by_cells() -> None:
    from runtui.formatting import cell_width

    rows = [("ok", "学习率", "a"), ("ok", "plain", "b"), ("ok", "学习率学习率学习率", "c")]
    lines = out.render_table(("S", "NAME", "X"), rows, max_widths=(None, 10, None), width=None)
    starts = {cell_width(line[: line.rindex(" ") + 1]) for line in lines}
    assert starts == {cell_width(lines[0][: lines[0].index("X")])}  # the last column starts in one place
    assert "学习率学…   c" in lines[3]  # cut to 10 cells: 8 + the ellipsis, a wide character never split
