"""How values look on screen: status glyphs and colours, durations, numbers, times, sparklines.

Pure functions (no Textual): unit-tested directly, shared by the tree, details, log and metrics views.
Every status has a distinct glyph, so the tree reads the same with NO_COLOR.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size

from runtui.status import RunStatus

S = RunStatus

STATUS_GLYPH: dict[RunStatus, str] = {
    S.NOT_STARTED: "○",
    S.QUEUED: "◌",
    S.PREPARING: "◔",
    S.STARTING: "◐",
    S.RUNNING: "●",
    S.FINALIZING: "◑",
    S.CANCEL_REQUESTED: "◍",
    S.COMPLETED: "✓",
    S.FAILED: "✗",
    S.CANCELED: "⊘",
    S.NOT_RESPONDING: "?",
}

# Rich colour names (the 16 ANSI colours degrade well over SSH and map to the terminal's own palette).
STATUS_COLOR: dict[RunStatus, str] = {
    S.NOT_STARTED: "bright_black",
    S.QUEUED: "bright_black",
    S.PREPARING: "yellow",
    S.STARTING: "yellow",
    S.RUNNING: "cyan",
    S.FINALIZING: "cyan",
    S.CANCEL_REQUESTED: "magenta",
    S.COMPLETED: "green",
    S.FAILED: "red",
    S.CANCELED: "bright_black",
    S.NOT_RESPONDING: "bright_red",
}

SPARK_CHARS = "▁▂▃▄▅▆▇█"

_ATTRIBUTES = frozenset({"bold", "dim", "italic", "underline", "reverse", "strike"})


def ink(style: str, no_color: bool) -> str:
    """`style`, or with NO_COLOR only its text attributes.

    Textual's NO_COLOR turns colours into greys by luminance, and red on a dark background becomes nearly
    invisible; attributes (bold) stay readable, and every status has its own glyph anyway.
    """
    if not no_color:
        return style
    return " ".join(part for part in style.split() if part in _ATTRIBUTES)


def status_style(status: RunStatus, no_color: bool = False) -> str:
    """The style of a status glyph: its colour, or bold for the ones that need attention without colour."""
    if no_color:
        return "bold" if status in (S.FAILED, S.NOT_RESPONDING, S.CANCEL_REQUESTED) else ""
    return STATUS_COLOR[status]


def format_duration(seconds: float | None) -> str:
    """Compact and fixed-ish width: 9s, 4m05s, 3h07m, 2d04h."""
    if seconds is None or math.isnan(seconds):
        return ""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d{h:02d}h"


def format_number(value: float | str | None) -> str:
    """Four significant digits for floats, plain for ints; strings shown as they are."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.4g}"


def format_bytes(value: float) -> str:
    units = ["B", "KB", "MB", "GB", "TB"]
    size = float(value)
    for unit in units:
        if abs(size) < 1024 or unit == units[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover


def format_time(epoch: float | None) -> str:
    """Local wall-clock time of an epoch timestamp."""
    if epoch is None:
        return "–"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def format_system_metric(name: str, value: float | str | None) -> str:
    """`sys/*` metrics by their name: percentages, byte counts, megabytes."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return format_number(value)
    lowered = name.lower()
    if "percent" in lowered or "util" in lowered or lowered.endswith("_pct"):
        return f"{value:.0f}%"
    if "bytes" in lowered or lowered.endswith("rss"):
        return format_bytes(value)
    if lowered.endswith("_mb"):
        return format_bytes(value * 1024 * 1024)
    if lowered.endswith("_gb"):
        return format_bytes(value * 1024**3)
    return format_number(value)


def sparkline(values: Sequence[float | None], width: int) -> str:
    """Block-character sparkline of `values`, resampled to at most `width` cells (NaN/None skipped)."""
    points = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if not points or width <= 0:
        return ""
    if len(points) > width:
        # mean of each bucket: keeps the shape of long series
        step = len(points) / width
        points = [
            sum(chunk) / len(chunk)
            for chunk in (points[int(i * step) : max(int(i * step) + 1, int((i + 1) * step))] for i in range(width))
        ]
    lo, hi = min(points), max(points)
    if hi == lo:
        return SPARK_CHARS[len(SPARK_CHARS) // 2] * len(points)
    scale = (len(SPARK_CHARS) - 1) / (hi - lo)
    return "".join(SPARK_CHARS[round((v - lo) * scale)] for v in points)


def is_system_metric(name: str) -> bool:
    return name.startswith("sys/")


def truncate(text: str, width: int) -> str:
    """Cut to `width` terminal cells with an ellipsis (wide characters count double)."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1) + "…" if width > 1 else "…"
