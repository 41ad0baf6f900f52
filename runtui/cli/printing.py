"""How the CLI prints: escaped text from runs, tables, durations, numbers, JSON lines, colours.

Text that comes from runs (names, tag values, errors) is data: control characters are shown escaped
(`\\x1b`), so nothing a run stored can move the cursor or retitle the terminal of someone listing it.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
from collections.abc import Sequence
from operator import itemgetter
from typing import Any, TextIO

# Value formatting is shared with the TUI (one module, no UI imports); re-exported here for the commands.
from runtui.formatting import (
    STATUS_ROLE,
    cell_width,
    format_duration,
    format_number,
    format_tags,
    format_time,
    has_control,
    iso_utc,
    safe,
    safe_block,
    truncate,
)
from runtui.status import RunStatus

__all__ = [
    "format_duration",
    "format_number",
    "format_tags",
    "format_time",
    "has_control",
    "iso_utc",
    "safe",
    "safe_block",
]


def use_color(stream: TextIO) -> bool:
    """Colours only on a terminal, and never with NO_COLOR (https://no-color.org) or TERM=dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# The 16 ANSI colours for the shared colour roles: they follow the terminal's own palette (light or dark).
ROLE_SGR: dict[str, str] = {
    "accent": "36",
    "success": "32",
    "error": "31",
    "warning": "33",
    "secondary": "35",
    "muted": "90",
}
_STATUS_SGR: dict[RunStatus, str] = {status: ROLE_SGR[role] for status, role in STATUS_ROLE.items()}


def paint_status(status: RunStatus, text: str, color: bool) -> str:
    return f"\x1b[{_STATUS_SGR[status]}m{text}\x1b[0m" if color else text


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
    """`text` cut to `width` terminal cells with an ellipsis."""
    return truncate(text, width)


def _simple(text: str) -> bool:
    # one cell per character: `str.format` pads it right
    return text.isascii() and text.isprintable()


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    max_widths: Sequence[int | None],
    width: int | None,
    first_sgr: Sequence[str] | None = None,
) -> list[str]:
    """Left-aligned columns separated by two spaces. Widths are terminal cells (a CJK name takes two per
    character), so columns line up whatever the script. Rows of plain ASCII are laid out with one `str.format`
    each (100,000 rows in a fraction of a second); others are padded cell by cell. Cells wider than their
    column's max are clipped with an ellipsis; on a terminal (`width` given) the last column is clipped to fit.
    `first_sgr[i]` colours row i's first cell.
    """
    ncols = len(headers)
    last = ncols - 1
    getters = [itemgetter(i) for i in range(ncols)]
    columns = [list(map(getters[i], rows)) for i in range(ncols)]
    plain_columns = [_simple("".join(col)) for col in columns]  # the common case: len() is the cell width
    widths = [
        max(cell_width(headers[i]), max(map(len if plain_columns[i] else cell_width, columns[i]), default=0))
        for i in range(ncols)
    ]
    limits = list(max_widths)
    if width is not None:
        used = sum(min(w, m) if m is not None else w for w, m in zip(widths[:last], limits[:last], strict=True))
        room = max(cell_width(headers[last]), width - used - 2 * last)
        cap = limits[last]
        limits[last] = room if cap is None else min(room, cap)
    over = [i for i in range(ncols) if limits[i] is not None and widths[i] > (limits[i] or 0)]
    if over:
        for i in over:
            widths[i] = limits[i] or 0
        rows = [
            tuple(
                truncate(cell, widths[i]) if i in over and cell_width(cell) > widths[i] else cell
                for i, cell in enumerate(row)
            )
            for row in rows
        ]
    sgrs: Sequence[str | None] = first_sgr if first_sgr is not None else [None] * len(rows)
    head = "  ".join(_pad(h, w) for h, w in zip(headers[:last], widths[:last], strict=True)) + "  " + headers[last]
    lines = [head.rstrip()]
    w0 = widths[0]
    plain = "  ".join(f"{{:<{w}}}" for w in widths[:last]) + "  {}"
    painted = "  ".join([f"\x1b[{{}}m{{:<{w0}}}\x1b[0m", *(f"{{:<{w}}}" for w in widths[1:last])]) + "  {}"
    all_plain = all(plain_columns)
    for row, sgr in zip(rows, sgrs, strict=True):
        if all_plain or _simple("".join(row)):
            line = plain.format(*row) if sgr is None else painted.format(sgr, *row)
        else:
            cells = [_pad(c, w) for c, w in zip(row[:last], widths[:last], strict=True)] + [row[last]]
            if sgr is not None:
                cells[0] = f"\x1b[{sgr}m{cells[0]}\x1b[0m"
            line = "  ".join(cells)
        lines.append(line.rstrip())
    return lines


def _pad(text: str, width: int) -> str:
    return text + " " * (width - cell_width(text))


def status_sgr(status: RunStatus) -> str:
    return _STATUS_SGR[status]


def note(message: str) -> None:
    """A remark for a person (progress, hints) on stderr, never mixed into the data on stdout."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
