"""How values read on a terminal, for the CLI and the TUI alike: durations, ages, times, metric values, tags,
status glyphs and colour roles, and cutting text to a number of terminal cells.

UI-free on purpose (no textual, no rich, only the standard library): `runtui ls`, `runtui show` and the TUI's
tree and details must say the same thing about the same run, and the CLI must not pay for a UI import.

Text that comes from runs (names, tag values, errors) is data: `safe()` shows every control character as an
escape (`\\x1b`), so nothing a run stored can move the cursor or retitle the terminal of someone reading it.

Widths are terminal cells, not `len()`: East Asian wide and fullwidth characters (CJK, most emoji) take two
cells, combining marks and zero-width characters none (`unicodedata`, the same rule wcwidth and Rich follow).
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache

from runtui.status import RunStatus

S = RunStatus

MISSING = "-"  # what an absent value reads as, everywhere
ELLIPSIS = "…"

# ---------------------------------------------------------------- statuses

# Every status has its own glyph, so a listing reads the same without colour (NO_COLOR).
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

# A status's colour as a role, not a colour: the TUI maps roles to its theme's variables ($success, $error,
# ...), the CLI to the 16 ANSI colours (which follow the terminal's own palette).
STATUS_ROLE: dict[RunStatus, str] = {
    S.NOT_STARTED: "muted",
    S.QUEUED: "muted",
    S.PREPARING: "warning",
    S.STARTING: "warning",
    S.RUNNING: "accent",
    S.FINALIZING: "accent",
    S.CANCEL_REQUESTED: "secondary",
    S.COMPLETED: "success",
    S.FAILED: "error",
    S.CANCELED: "muted",
    S.NOT_RESPONDING: "error",
}

# Statuses that need attention when there is no colour (shown bold).
ATTENTION: frozenset[RunStatus] = frozenset({S.FAILED, S.NOT_RESPONDING, S.CANCEL_REQUESTED})

# ---------------------------------------------------------------- text from runs

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_KEEP_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _SHORT_ESCAPES.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def safe(text: object) -> str:
    """One line of display text: every control character (newlines too) shown as an escape."""
    s = text if isinstance(text, str) else str(text)
    return _CONTROL.sub(_escape, s) if _CONTROL.search(s) else s


def safe_block(text: str) -> str:
    """Multi-line display text (an error's traceback): newlines and tabs kept, other controls escaped."""
    return _CONTROL_KEEP_LINES.sub(_escape, text) if _CONTROL_KEEP_LINES.search(text) else text


# ---------------------------------------------------------------- cell widths


@lru_cache(maxsize=4096)
def char_width(ch: str) -> int:
    """Terminal cells of one character: 2 for East Asian wide/fullwidth, 0 for controls, combining marks and
    zero-width format characters, else 1."""
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return 0
    if code < 0x300:  # Latin-1 and Latin Extended: no combining or wide characters below U+0300
        return 1
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf") or 0x1160 <= code <= 0x11FF:
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """How many terminal cells `text` takes."""
    if text.isascii() and text.isprintable():
        return len(text)
    return sum(map(char_width, text))


def truncate(text: str, width: int, ellipsis: str = ELLIPSIS) -> str:
    """`text` cut to at most `width` cells, ending in `…` when cut; a wide character is never split."""
    if width <= 0:
        return ""
    if cell_width(text) <= width:
        return text
    room = width - cell_width(ellipsis)
    if room < 0:
        return ellipsis[:width] if cell_width(ellipsis[:width]) <= width else ""
    used = 0
    out = []
    for ch in text:
        w = char_width(ch)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out) + ellipsis


def pad(text: str, width: int) -> str:
    """`text` left-aligned in `width` cells (cut with `…` when longer): `str.ljust` by cells."""
    text = truncate(text, width)
    return text + " " * (width - cell_width(text))


# ---------------------------------------------------------------- durations, ages, times


def format_duration(seconds: float | None, missing: str = MISSING) -> str:
    """Compact and nearly fixed-width: 9s, 4m05s, 3h07m, 2d04h."""
    if seconds is None or seconds != seconds:
        return missing
    s = int(seconds) if seconds > 0 else 0
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def format_age(epoch: float | None, now: float | None = None, missing: str = MISSING) -> str:
    """How long ago: `just now`, `42s ago`, `5m ago`, `3h ago`, `12d ago` (one unit, rounded down)."""
    if epoch is None or epoch != epoch:
        return missing
    ago = (time.time() if now is None else now) - epoch
    if ago < 1:
        return "just now"  # also a clock a little ahead of ours
    s = int(ago)
    if s < 60:
        return f"{s}s ago"
    if s < 3600:
        return f"{s // 60}m ago"
    if s < 86400:
        return f"{s // 3600}h ago"
    return f"{s // 86400}d ago"


def format_time(epoch: float | None, missing: str = MISSING) -> str:
    """Local wall-clock time, to the second."""
    if epoch is None:
        return missing
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


_ISO_DAYS: dict[int, str] = {}
_ISO_CLOCK: dict[int, str] = {}


def iso_utc(epoch: float | None) -> str | None:
    """ISO 8601 in UTC to the microsecond, with a `Z` (`2026-11-30T16:37:14.123456Z`), as in the JSON outputs;
    None for None."""
    return None if epoch is None else iso_text(epoch)


def iso_text(epoch: float) -> str:
    """`iso_utc` of a time that is there. The same text as `datetime` gives, faster: a listing formats hundreds
    of thousands of these, so dates and clock times are cached (by day, by second of the day)."""
    seconds = int(epoch) if epoch >= 0 else math.floor(epoch)
    micros = round((epoch - seconds) * 1_000_000)
    if micros >= 1_000_000:
        seconds, micros = seconds + 1, micros - 1_000_000
    day, clock = divmod(seconds, 86400)
    date = _ISO_DAYS.get(day)
    if date is None:
        date = _ISO_DAYS[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86400))
    hms = _ISO_CLOCK.get(clock)
    if hms is None:
        hms = _ISO_CLOCK[clock] = f"{clock // 3600:02d}:{clock % 3600 // 60:02d}:{clock % 60:02d}."
    return f"{date}{hms}{micros:06d}Z"


# ---------------------------------------------------------------- numbers and metrics


def format_number(value: float | str | None, missing: str = MISSING) -> str:
    """A metric value: four significant digits for floats, whole floats and ints plain, nan/inf/-inf by name;
    a string value as safe text."""
    if type(value) is float:
        if value.is_integer() and -1e9 < value < 1e9:
            return str(int(value))
        return f"{value:.4g}"  # also nan, inf, -inf
    if value is None:
        return missing
    if isinstance(value, str):
        return safe(value)
    return str(value)  # int, bool


def format_metric(name: str, value: float | str | None, width: int | None = None) -> str:
    """`name=value`, the one label of a headline metric. Cut to `width` cells, the value stays whole and the
    name is cut with `…` (one character of it always shows), so the name never disappears."""
    shown = format_number(value)
    label = safe(name)
    if width is None or cell_width(label) + 1 + cell_width(shown) <= width:
        return f"{label}={shown}"
    name_room = width - 1 - cell_width(shown)
    if name_room >= 2:
        return f"{truncate(label, name_room)}={shown}"
    # Too narrow for the whole value: keep a stub of the name and cut the value instead.
    return f"{truncate(label, 2)}={truncate(shown, max(1, width - 1 - cell_width(truncate(label, 2))))}"


def format_bytes(value: float) -> str:
    """1023 B, 1.5 KB, 3.2 GB (powers of 1024)."""
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def is_system_metric(name: str) -> bool:
    """Metrics the supervisor samples (`sys/cpu_percent`, ...), not the script's own."""
    return name.startswith("sys/")


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


SPARK_CHARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None], width: int) -> str:
    """Block-character sparkline of the finite values, at most `width` cells (each cell the mean of its bucket)."""
    points = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if not points or width <= 0:
        return ""
    if len(points) > width:
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


# ---------------------------------------------------------------- tags


def format_tags(tags: Mapping[str, str | None]) -> str:
    """`key=value key2 ...` sorted by key, so that the same tags always read the same; key-only tags bare."""
    return " ".join(safe(k) if v is None else f"{safe(k)}={safe(v)}" for k, v in sorted(tags.items()))
