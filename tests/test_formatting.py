"""The shared, UI-free formatting module: what the CLI and the TUI print for the same values."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from runtui import formatting as f
from runtui.status import LIVE, LIVE_VALUES, TERMINAL, TERMINAL_VALUES, RunStatus


def test_importing_it_loads_no_ui_library() -> None:
    code = (
        "import sys, json, runtui.formatting; "
        "print(json.dumps(sorted(m for m in ('rich', 'textual', 'sqlalchemy') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_live_statuses_have_one_definition() -> None:
    assert frozenset(RunStatus) - TERMINAL == LIVE
    assert set(LIVE_VALUES) == {s.value for s in LIVE}
    assert set(TERMINAL_VALUES) == {"Completed", "Failed", "Canceled"}
    assert all(s.is_live == (s in LIVE) for s in RunStatus)


def test_every_status_has_a_distinct_glyph_and_a_role() -> None:
    assert set(f.STATUS_GLYPH) == set(RunStatus) == set(f.STATUS_ROLE)
    assert len(set(f.STATUS_GLYPH.values())) == len(RunStatus)
    assert all(f.cell_width(g) == 1 for g in f.STATUS_GLYPH.values())


@pytest.mark.parametrize(
    ("text", "cells"),
    [
        ("", 0),
        ("loss", 4),
        ("ünïcödé", 7),
        ("学习率", 6),
        ("ｆｕｌｌ", 8),  # fullwidth Latin
        ("e\u0301", 1),  # e + combining acute accent
        ("a\u200bb", 2),  # zero-width space
        ("🚀 run", 6),
        ("\x1b", 0),
    ],
)
def test_cell_width(text: str, cells: int) -> None:
    assert f.cell_width(text) == cells


@pytest.mark.parametrize(
    "text", ["loss", "学习率/验证集", "ｆｕｌｌ width", "e\u0301t\u00e9", "🚀🚀 go", "Ελληνικά", "한국어 텍스트"]
)
def test_cell_width_agrees_with_rich(text: str) -> None:
    # The TUI draws with Rich's cell widths: the shared module must count the same without importing it.
    cells = pytest.importorskip("rich.cells")
    assert f.cell_width(text) == cells.cell_len(text)


@pytest.mark.parametrize(
    ("text", "width", "cut"),
    [
        ("learning_rate", 20, "learning_rate"),
        ("learning_rate", 13, "learning_rate"),
        ("learning_rate", 8, "learnin…"),
        ("学习率学习率", 7, "学习率…"),  # 6 cells + the ellipsis
        ("学习率学习率", 6, "学习…"),  # a wide character is never split: 5 cells, not 6
        ("abc", 1, "…"),
        ("abc", 0, ""),
        ("abc", -3, ""),
    ],
)
def test_truncate_by_cells(text: str, width: int, cut: str) -> None:
    assert f.truncate(text, width) == cut
    assert f.cell_width(f.truncate(text, width)) <= max(0, width)


def test_pad_fills_to_cells() -> None:
    assert f.pad("学习", 6) == "学习  "
    assert f.cell_width(f.pad("学习率学习率", 5)) == 5
    assert f.pad("ab", 4) == "ab  "


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (float("nan"), "-"), (-5, "0s"), (9.9, "9s"), (245, "4m05s"), (3 * 3600 + 420, "3h07m")],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert f.format_duration(seconds) == text


def test_format_duration_missing_is_configurable() -> None:
    assert f.format_duration(None, missing="") == ""
    assert f.format_duration(2 * 86400 + 4 * 3600) == "2d04h"


@pytest.mark.parametrize(
    ("ago", "text"),
    [
        (0.2, "just now"),
        (-3, "just now"),
        (42, "42s ago"),
        (300, "5m ago"),
        (3 * 3600 + 5, "3h ago"),
        (12 * 86400, "12d ago"),
    ],
)
def test_format_age(ago: float, text: str) -> None:
    now = 1_800_000_000.0
    assert f.format_age(now - ago, now) == text


def test_format_age_missing() -> None:
    assert f.format_age(None) == "-"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "-"),
        (0.123456, "0.1235"),
        (3.0, "3"),
        (7, "7"),
        (True, "True"),
        (123456789.0, "123456789"),
        (1e12, "1e+12"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        ("x\n", "x\\n"),
    ],
)
def test_format_number(value: float | str | None, text: str) -> None:
    assert f.format_number(value) == text


def test_format_metric_always_keeps_the_name() -> None:
    assert f.format_metric("loss", 2.1019) == "loss=2.102"
    assert f.format_metric("learning_rate", 0.003, width=12) == "learn…=0.003"
    assert f.format_metric("学习率", 0.5, width=7) == "学…=0.5"
    narrow = f.format_metric("loss", 0.123456, width=5)
    assert narrow.startswith("l") and f.cell_width(narrow) <= 5
    for width in range(4, 30):
        label = f.format_metric("validation/accuracy", 0.98765, width=width)
        assert f.cell_width(label) <= width
        assert label[0] == "v"


def test_format_tags_sorted_and_escaped() -> None:
    assert f.format_tags({"z": None, "a": "1\x1b"}) == "a=1\\x1b z"


def test_safe_escapes_controls() -> None:
    assert f.safe("\x1b]0;t\x07\nx") == "\\x1b]0;t\\x07\\nx"
    assert f.safe_block("a\n\x1b") == "a\n\\x1b"


def test_iso_utc_and_time() -> None:
    assert f.iso_utc(0.0) == "1970-01-01T00:00:00.000000Z"
    assert f.iso_utc(1.5) == "1970-01-01T00:00:01.500000Z"
    assert f.iso_utc(None) is None
    assert f.format_time(None) == "-"
    assert len(f.format_time(0.0)) == len("1970-01-01 00:00:00")


def test_system_metrics_and_bytes() -> None:
    assert f.format_system_metric("sys/cpu_percent", 42.4) == "42%"
    assert f.format_system_metric("sys/rss", 3 * 1024**2) == "3.0 MB"
    assert f.format_system_metric("sys/gpu0_mem_mb", 1536) == "1.5 GB"
    assert f.format_bytes(10) == "10 B"
    assert f.format_bytes(5 * 1024**4) == "5.0 TB"
    assert f.is_system_metric("sys/x") and not f.is_system_metric("loss")


def test_sparkline() -> None:
    assert f.sparkline([0, 1, None, float("nan"), 2], 10) == "▁▅█"
    assert f.sparkline([1, 1], 5) == "▅▅"
    assert f.sparkline([], 5) == ""
    assert len(f.sparkline(list(range(100)), 10)) == 10
