"""How the CLI prints: escaped text from runs, tables, durations, numbers, JSON lines, colours.

Text that comes from runs (names, tag values, errors) is data: control characters are shown escaped
(`\\x1b`), so nothing a run stored can move the cursor or retitle the terminal of someone listing it.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import shutil
import sys
from collections.abc import Sequence
from operator import itemgetter
from typing import Any, TextIO

from runtui.status import RunStatus

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


def use_color(stream: TextIO) -> bool:
    """Colours only on a terminal, and never with NO_COLOR (https://no-color.org) or TERM=dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


_STATUS_SGR: dict[RunStatus, str] = {
    RunStatus.RUNNING: "36",
    RunStatus.FINALIZING: "36",
    RunStatus.PREPARING: "33",
    RunStatus.STARTING: "33",
    RunStatus.CANCEL_REQUESTED: "35",
    RunStatus.COMPLETED: "32",
    RunStatus.FAILED: "31",
    RunStatus.NOT_RESPONDING: "91",
    RunStatus.CANCELED: "90",
    RunStatus.QUEUED: "90",
    RunStatus.NOT_STARTED: "90",
}


def paint_status(status: RunStatus, text: str, color: bool) -> str:
    return f"\x1b[{_STATUS_SGR[status]}m{text}\x1b[0m" if color else text


def format_duration(seconds: float | None) -> str:
    """Compact: 9s, 4m05s, 3h07m, 2d04h."""
    if seconds is None or seconds != seconds:
        return "-"
    s = int(seconds) if seconds > 0 else 0
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def format_number(value: float | str | None) -> str:
    """Four significant digits for floats, whole numbers plain."""
    if type(value) is float:
        if value.is_integer() and -1e15 < value < 1e15:
            return str(int(value))
        return f"{value:.4g}"  # also nan, inf, -inf
    if value is None:
        return "-"
    if isinstance(value, str):
        return safe(value)
    return str(value)


def format_time(epoch: float | None) -> str:
    """Local time, to the second."""
    if epoch is None:
        return "-"
    return _dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


_UTC = _dt.timezone.utc


def iso_utc(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return _dt.datetime.fromtimestamp(epoch, tz=_UTC).isoformat().replace("+00:00", "Z")


def format_tags(tags: dict[str, str | None]) -> str:
    """`key=value key2 ...`, sorted by key so that the same tags always read the same."""
    return " ".join(safe(k) if v is None else f"{safe(k)}={safe(v)}" for k, v in sorted(tags.items()))


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029]")


_ENCODER: json.JSONEncoder | None = None


def json_encoder() -> json.JSONEncoder:
    """One compact encoder, reused (`json.dumps` with non-default options builds a new one per call)."""
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    return _ENCODER


def escape_json_controls(text: str) -> str:
    """JSON text with DEL and C1 controls escaped too (json escapes only C0); valid JSON either way."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if _JSON_UNSAFE.search(text) else text


def json_text(obj: Any, indent: int | None = None) -> str:
    """JSON with non-ASCII letters readable but control characters escaped."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent) if indent else json_encoder().encode(obj)
    return escape_json_controls(text)


def finite(value: Any) -> Any:
    """NaN and infinities as null: they are not JSON, and `jq` and friends reject them."""
    if type(value) is float and (value != value or value in (math.inf, -math.inf)):
        return None
    return value


def terminal_width(stream: TextIO) -> int | None:
    """The width to fit a table to, or None when the output is not a terminal (then nothing is cut)."""
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return shutil.get_terminal_size((100, 24)).columns


def clip(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…" if width > 0 else ""


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    max_widths: Sequence[int | None],
    width: int | None,
    first_sgr: Sequence[str] | None = None,
) -> list[str]:
    """Left-aligned columns separated by two spaces, laid out with one `str.format` per row (100,000 rows in
    a fraction of a second). Cells wider than their column's max are clipped with an ellipsis; on a terminal
    (`width` given) the last column is clipped to fit. `first_sgr[i]` colours row i's first cell.
    """
    ncols = len(headers)
    last = ncols - 1
    getters = [itemgetter(i) for i in range(ncols)]
    widths = [max(len(headers[i]), max(map(len, map(getters[i], rows)), default=0)) for i in range(ncols)]
    limits = list(max_widths)
    if width is not None:
        used = sum(min(w, m) if m is not None else w for w, m in zip(widths[:last], limits[:last], strict=True))
        room = max(len(headers[last]), width - used - 2 * last)
        cap = limits[last]
        limits[last] = room if cap is None else min(room, cap)
    over = [i for i in range(ncols) if limits[i] is not None and widths[i] > (limits[i] or 0)]
    if over:
        for i in over:
            widths[i] = limits[i] or 0
        rows = [
            tuple(clip(cell, widths[i]) if i in over and len(cell) > widths[i] else cell for i, cell in enumerate(row))
            for row in rows
        ]
    head = "  ".join(h.ljust(w) for h, w in zip(headers[:last], widths[:last], strict=True)) + "  " + headers[last]
    lines = [head.rstrip()]
    if first_sgr is not None and rows:
        w0 = widths[0]
        fmt = "  ".join([f"\x1b[{{}}m{{:<{w0}}}\x1b[0m", *(f"{{:<{w}}}" for w in widths[1:last])]) + "  {}"
        lines.extend(fmt.format(sgr, *row).rstrip() for row, sgr in zip(rows, first_sgr, strict=True))
    else:
        fmt = "  ".join(f"{{:<{w}}}" for w in widths[:last]) + "  {}"
        lines.extend(fmt.format(*row).rstrip() for row in rows)
    return lines


def status_sgr(status: RunStatus) -> str:
    return _STATUS_SGR[status]


def note(message: str) -> None:
    """A remark for a person (progress, hints) on stderr, never mixed into the data on stdout."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
