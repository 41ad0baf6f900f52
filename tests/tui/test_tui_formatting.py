"""How values look: durations, numbers, system metrics, sparklines, truncation, glyphs."""

from __future__ import annotations

import math

import pytest

from runtui.status import RunStatus
from runtui.tui.formatting import (
    SPARK_CHARS,
    STATUS_GLYPH,
    STATUS_ROLE,
    format_bytes,
    format_duration,
    format_number,
    format_system_metric,
    sparkline,
    truncate,
)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, ""), (0, "0s"), (9.9, "9s"), (65, "1m05s"), (3600 + 7 * 60, "1h07m"), (2 * 86400 + 4 * 3600, "2d04h")],
)
def test_format_duration(seconds: float | None, shown: str) -> None:
    assert format_duration(seconds) == shown


def test_format_duration_never_negative() -> None:
    assert format_duration(-5) == "0s"
    assert format_duration(math.nan) == ""


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "-"),  # the shared formatter's MISSING: the CLI and the TUI agree
        (3, "3"),
        (2.0, "2"),
        (0.123456, "0.1235"),
        (1e-7, "1e-07"),
        (math.nan, "nan"),
        (-math.inf, "-inf"),
        ("text", "text"),
        (True, "True"),
    ],
)
def test_format_number(value: object, shown: str) -> None:
    assert format_number(value) == shown  # type: ignore[arg-type]


def test_system_metrics_by_name() -> None:
    assert format_system_metric("sys/cpu_percent", 312.4) == "312%"
    assert format_system_metric("sys/gpu_util", 93.0) == "93%"
    assert format_system_metric("sys/rss_mb", 2048) == "2.0 GB"
    assert format_system_metric("sys/gpu_mem_mb", 512) == "512.0 MB"
    assert format_system_metric("sys/threads", 12) == "12"
    assert format_bytes(100) == "100 B"


def test_sparkline_shape_and_resampling() -> None:
    assert sparkline([], 10) == ""
    assert sparkline([1, 1, 1], 10) == SPARK_CHARS[4] * 3
    rising = sparkline(list(range(100)), 8)
    assert len(rising) == 8
    assert rising[0] == SPARK_CHARS[0] and rising[-1] == SPARK_CHARS[-1]
    assert sparkline([1.0, None, math.nan, 2.0], 10) == SPARK_CHARS[0] + SPARK_CHARS[-1]


def test_truncate_counts_cells() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("a-long-name", 6) == "a-lon…"
    assert truncate("学习率学习率", 5) == "学习…"
    assert truncate("x", 0) == ""


def test_every_status_has_its_own_glyph_and_a_colour() -> None:
    assert set(STATUS_GLYPH) == set(RunStatus) == set(STATUS_ROLE)
    assert len(set(STATUS_GLYPH.values())) == len(RunStatus)


def test_no_color_keeps_attributes_only() -> None:
    from runtui.tui.formatting import ink, status_style

    assert ink("bold red", no_color=False) == "bold red"
    assert ink("bold red", no_color=True) == "bold"
    assert ink("cyan", no_color=True) == ""
    assert status_style(RunStatus.FAILED, no_color=True) == "bold"
    assert status_style(RunStatus.COMPLETED, no_color=True) == ""
    assert status_style(RunStatus.FAILED) == "red"
