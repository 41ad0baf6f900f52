"""A metric that is not a number: a table, a row series, a list, or one of Azure's documents (confusion matrix,
accuracy table, residuals, predictions), shown as what it means rather than as JSON.

`render_metric(kind, values)` is the whole translation (values are the metric's points, oldest first, as the
store decodes them); `MetricTable` is the bordered box in the metrics view that shows it. Every string that
came from a run is control-stripped and shown as text, never as markup.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from runtui.terminal_text import strip_controls
from runtui.tui.formatting import format_number, truncate

MAX_ROWS = 12  # rows of a table shown (the newest); the title says how many there are
MAX_COLS = 8
SPARK = "▁▂▃▄▅▆▇█"


def _cell(value: Any) -> str:
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        return format_number(value)
    if value is None:
        return "–"
    return truncate(strip_controls(str(value)), 24)


def sparkline(values: Sequence[Any], width: int = 40) -> str:
    """One character per value (the last `width`), height by value; non-numbers are gaps."""
    nums = [v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None for v in values]
    nums = nums[-width:]
    finite = [v for v in nums if v is not None]
    if not finite:
        return ""
    lo, hi = min(finite), max(finite)
    span = hi - lo or 1.0
    return "".join(" " if v is None else SPARK[min(7, int((v - lo) / span * 7.999))] for v in nums)


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]], total: int | None = None) -> RenderableType:
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold", expand=False)
    for col in list(columns)[:MAX_COLS]:
        table.add_column(Text(truncate(strip_controls(str(col)), 24)), justify="right", no_wrap=True)
    shown = list(rows)[-MAX_ROWS:]
    for row in shown:
        table.add_row(*[Text(_cell(v)) for v in list(row)[:MAX_COLS]])
    parts: list[RenderableType] = [table]
    total = len(rows) if total is None else total
    notes = []
    if total > len(shown):
        notes.append(f"last {len(shown)} of {total:,} rows")
    if len(columns) > MAX_COLS:
        notes.append(f"{MAX_COLS} of {len(columns)} columns")
    if notes:
        parts.append(Text(", ".join(notes), style="dim"))
    return Group(*parts)


def _rows_of_table(values: Sequence[Any]) -> tuple[list[str], list[list[Any]]]:
    """log_table points (dicts of column -> list) and log_row points (dicts of column -> value) as rows."""
    columns: list[str] = []
    rows: list[list[Any]] = []
    for point in values:
        if not isinstance(point, Mapping):
            continue
        for col in point:
            if col not in columns:
                columns.append(str(col))
        if all(isinstance(v, list) for v in point.values()):
            length = max((len(v) for v in point.values()), default=0)
            for i in range(length):
                rows.append([point.get(c, [None] * length)[i] if c in point else None for c in columns])
        else:
            rows.append([point.get(c) for c in columns])
    width = len(columns)
    return columns, [r + [None] * (width - len(r)) for r in rows]


def _document(values: Sequence[Any]) -> Mapping[str, Any] | None:
    """The newest document's `data` (Azure's schema: schema_type, schema_version, data)."""
    for point in reversed(values):
        if isinstance(point, Mapping):
            data = point.get("data", point)
            return data if isinstance(data, Mapping) else None
    return None


def _confusion_matrix(data: Mapping[str, Any]) -> RenderableType:
    labels = [str(x) for x in data.get("class_labels", [])]
    matrix = data.get("matrix", [])
    if not isinstance(matrix, list) or not matrix:
        return Text("no matrix in this document", style="dim")
    labels = labels or [str(i) for i in range(len(matrix))]
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column(Text("true \\ predicted", style="dim"), no_wrap=True)
    for label in labels[:MAX_COLS]:
        table.add_column(Text(truncate(strip_controls(label), 12)), justify="right", no_wrap=True)
    for label, row in zip(labels[:MAX_ROWS], matrix, strict=False):
        cells = []
        for j, v in enumerate(list(row)[:MAX_COLS] if isinstance(row, list) else []):
            diagonal = labels.index(label) == j
            cells.append(Text(_cell(v), style="bold" if diagonal else ""))
        table.add_row(Text(truncate(strip_controls(label), 16), style="bold"), *cells)
    return table


def _accuracy_table(data: Mapping[str, Any]) -> RenderableType:
    """Per class, TP/FP/TN/FN at a few of the probability thresholds (Azure stores them at every 1/100)."""
    labels = [str(x) for x in data.get("class_labels", [])]
    tables = data.get("probability_tables", [])
    thresholds = data.get("probability_thresholds", [])
    if not isinstance(tables, list) or not tables:
        return Text("no probability tables in this document", style="dim")
    rows = []
    for c, per_class in enumerate(tables[:MAX_ROWS]):
        if not isinstance(per_class, list) or not per_class:
            continue
        n = len(per_class)
        for i in sorted({0, n // 4, n // 2, (3 * n) // 4, n - 1}):
            counts = per_class[i] if isinstance(per_class[i], list) else []
            threshold = thresholds[i] if i < len(thresholds) else i / max(1, n - 1)
            label = labels[c] if c < len(labels) else str(c)
            rows.append([label, threshold, *counts[:4]])
    return _table(["class", "threshold", "TP", "FP", "TN", "FN"], rows)


def _bars(edges: Sequence[Any], counts: Sequence[Any], width: int = 30) -> RenderableType:
    """A horizontal bar per bin: its edges, its count and a bar scaled to the largest count."""
    nums = [c if isinstance(c, (int, float)) and not isinstance(c, bool) else 0 for c in counts]
    top = max(nums, default=0) or 1
    rows = []
    for i, count in enumerate(nums[: MAX_ROWS * 2]):
        lo = edges[i] if i < len(edges) else None
        hi = edges[i + 1] if i + 1 < len(edges) else None
        bar = "█" * round(count / top * width)
        rows.append(Text(f"{_cell(lo):>8} … {_cell(hi):<8} {_cell(count):>6} {bar}"))
    return Group(*rows) if rows else Text("no bins in this document", style="dim")


def _predictions(data: Mapping[str, Any]) -> RenderableType:
    edges = data.get("bin_edges", [])
    averages = data.get("bin_averages", [])
    errors = data.get("bin_errors", [])
    counts = data.get("bin_counts", [])
    rows = []
    for i in range(len(averages) if isinstance(averages, list) else 0):
        lo = edges[i] if i < len(edges) else None
        hi = edges[i + 1] if i + 1 < len(edges) else None
        rows.append([f"{_cell(lo)} … {_cell(hi)}", averages[i], errors[i] if i < len(errors) else None,
                     counts[i] if i < len(counts) else None])  # fmt: skip
    if not rows:
        return Text("no bins in this document", style="dim")
    return _table(["true value bin", "mean predicted", "error", "count"], rows)


def render_metric(kind: str, values: Sequence[Any]) -> RenderableType:
    """What the metrics view shows for a metric of `kind` whose points are `values` (oldest first)."""
    if not values:
        return Text("no points yet", style="dim")
    if kind in ("table", "row"):
        columns, rows = _rows_of_table(values)
        return _table(columns, rows) if columns else Text("an empty table", style="dim")
    if kind == "list":
        flat = [v for point in values for v in (point if isinstance(point, list) else [point])]
        nums = [v for v in flat if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        out = Text()
        out.append(f"{len(flat):,} values", style="dim")
        if nums:
            out.append("  min ", style="dim")
            out.append(format_number(min(nums)))
            out.append("  max ", style="dim")
            out.append(format_number(max(nums)))
            out.append("  last ", style="dim")
            out.append(_cell(flat[-1]), style="bold")
            out.append("\n")
            out.append(sparkline(flat, 60))
        else:
            out.append("\n" + ", ".join(_cell(v) for v in flat[-MAX_ROWS:]))
        return out
    data = _document(values)
    if data is None:
        return Text(truncate(strip_controls(str(values[-1])), 200))
    if kind == "confusion_matrix":
        return _confusion_matrix(data)
    if kind == "accuracy_table":
        return _accuracy_table(data)
    if kind == "residuals":
        return _bars(data.get("bin_edges", []), data.get("bin_counts", []))
    if kind == "predictions":
        return _predictions(data)
    return Text(truncate(strip_controls(str(values[-1])), 200))


KIND_TITLES = {
    "table": "table",
    "row": "table",
    "list": "list",
    "confusion_matrix": "confusion matrix",
    "accuracy_table": "accuracy table",
    "residuals": "residuals",
    "predictions": "predictions",
    "text": "text",
    "image": "image",
}


class MetricTable(Widget):
    """A box in the metrics view: the metric's name and kind as its title, its rendering inside."""

    DEFAULT_CSS = """
    MetricTable {
        height: auto;
        max-height: 24;
        border: round $panel-lighten-2;
        padding: 0 1;
        margin: 0 1;
    }
    MetricTable:focus { border: round $accent; }
    """

    def __init__(self, name: str, kind: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.metric = name
        self.kind = kind
        self.values: list[Any] = []
        self.border_title = Text(f"{truncate(strip_controls(name), 50)} · {KIND_TITLES.get(kind, kind)}")
        self.can_focus = True

    def set_values(self, values: Sequence[Any]) -> None:
        values = list(values)
        if values == self.values:
            return
        self.values = values
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        return render_metric(self.kind, self.values)
