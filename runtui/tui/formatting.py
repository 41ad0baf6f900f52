"""The TUI's view of `runtui.formatting` (the one UI-free formatter set the CLI uses too): re-exported, with the
TUI's choices where a widget needs one.

- A run that has no duration shows none in the tree (`format_duration(None) == ""`), not the CLI's `-`.
- Everything else reads the same as in `runtui ls` / `runtui show`: four significant digits, `-` for a
  missing value, widths in terminal cells, the same status glyphs.

Colours are not here: widgets take them from the theme by role (`runtui/tui/theme.py`). `status_style` and
`ink` remain only for the log and metrics screens' titles (another module's owner moves them to theme roles);
they are Rich colour names and are not used by the main screen.
"""

from __future__ import annotations

from runtui import formatting as shared
from runtui.formatting import (
    ATTENTION,
    SPARK_CHARS,
    STATUS_GLYPH,
    STATUS_ROLE,
    format_bytes,
    format_number,
    format_system_metric,
    format_time,
    is_system_metric,
    sparkline,
    truncate,
)
from runtui.status import RunStatus

__all__ = [
    "ATTENTION",
    "SPARK_CHARS",
    "STATUS_GLYPH",
    "STATUS_ROLE",
    "format_bytes",
    "format_duration",
    "format_number",
    "format_system_metric",
    "format_time",
    "ink",
    "is_system_metric",
    "sparkline",
    "status_style",
    "truncate",
]


def format_duration(seconds: float | None) -> str:
    """`runtui.formatting.format_duration`, empty when there is none (the tree then shows nothing)."""
    return shared.format_duration(seconds, missing="")


# ---------------------------------------------------------------- for screens/log.py and screens/metrics.py only

# Rich colour names by role, for the two screens that still style their title in Python.
_ROLE_COLOR = {
    "muted": "bright_black",
    "warning": "yellow",
    "accent": "cyan",
    "secondary": "magenta",
    "success": "green",
    "error": "red",
}
_ATTRIBUTES = frozenset({"bold", "dim", "italic", "underline", "reverse", "strike"})


def ink(style: str, no_color: bool) -> str:
    """`style`, or with NO_COLOR only its text attributes."""
    if not no_color:
        return style
    return " ".join(part for part in style.split() if part in _ATTRIBUTES)


def status_style(status: RunStatus, no_color: bool = False) -> str:
    """The style of a status glyph by its role (bold for the ones that need attention without colour)."""
    if no_color:
        return "bold" if status in ATTENTION else ""
    return _ROLE_COLOR[STATUS_ROLE[status]]
