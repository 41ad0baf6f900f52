"""The details pane: everything about the highlighted run (or experiment), read in a worker.

Every value from a run (names, tags, properties, errors, arguments) is put in a `Text` object, so it is shown
literally: `[red]x[/]` stays those characters.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message

from runtui.terminal_text import strip_controls
from runtui.tui.data import RunDetails, read_details
from runtui.tui.formatting import (
    STATUS_GLYPH,
    format_duration,
    format_number,
    format_system_metric,
    format_time,
    is_system_metric,
    sparkline,
    truncate,
)
from runtui.tui.theme import Ink, component_classes, ink_of, plain_ink, status_ink
from runtui.tui.widgets.cell_lines import CellLines

if TYPE_CHECKING:
    from runtui.store.records import RunRecord
    from runtui.tui.app import RuntuiApp
    from runtui.tui.widgets.run_tree import ExperimentEntry

ERROR_LINES = 12
NUMBER_W = 6  # cells a metric value is given at least (four significant digits: 0.4136)


@dataclass(frozen=True)
class Part:
    """One section of the details pane and the inputs that decide how it looks."""

    renderable: RenderableType
    key: Hashable


PART_NAMES = ("head", "metrics", "system", "info", "error")


def _t(value: object, style: str = "") -> Text:
    """A literal text cell (never markup); control characters removed."""
    return Text(strip_controls(str(value)), style=style, no_wrap=False, overflow="fold")


def _grid() -> Table:
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(style="bold", no_wrap=True, min_width=8)
    grid.add_column(ratio=1, overflow="fold")
    return grid


def head_part(rec: RunRecord, now: float, ink: Ink = plain_ink) -> Part:
    """The status line: the only part that changes with the clock (a live run's duration)."""
    head = Text(no_wrap=True, overflow="ellipsis")
    status_style = status_ink(ink, rec.status)
    head.append(STATUS_GLYPH[rec.status] + " ", style=status_style)
    head.append(rec.status.value, style=status_style + Style(bold=True))
    duration = format_duration(rec.duration(now))
    if duration:
        head.append(f"  {duration}", style="dim")
    head.append("  ")
    head.append(strip_controls(rec.name), style="bold")
    return Part(head, (head.plain, rec.status, status_style))


def run_parts(details: RunDetails, now: float, width: int, ink: Ink = plain_ink) -> dict[str, Part]:
    """The details of one run as separate parts, each with the inputs that decide its look (its key).

    Pure (used by the pane and by tests). Ordered for a small terminal: the status line, then the metrics with
    sparklines, then system figures, then the rest. Only the head ticks (the duration of a live run); the pane
    repaints a part only when its key changed, so a live run costs a line a second, not the whole pane.
    `ink` gives each role (a status's `success`, `spark`, `error`, `ok`) its style from the theme.
    """
    rec = details.record
    parts: dict[str, Part] = {"head": head_part(rec, now, ink)}

    metrics = [s for s in details.summaries if not is_system_metric(s.name)]
    if metrics:
        name_w = max(6, min(24, width // 3))
        wide = width >= 64  # min and max columns as well as last
        spark_w = width - name_w - 10 - (20 if wide else 0) - 2
        table = Table(box=None, padding=(0, 1), expand=False, show_edge=False, header_style="bold dim")
        table.add_column("metric", no_wrap=True, max_width=name_w, overflow="ellipsis")
        # Numbers keep a steady width, so a new value repaints its own cells, not the columns to its right.
        table.add_column("last", justify="right", no_wrap=True, min_width=NUMBER_W)
        if wide:
            table.add_column("min", justify="right", no_wrap=True, min_width=NUMBER_W)
            table.add_column("max", justify="right", no_wrap=True, min_width=NUMBER_W)
        if spark_w >= 6:
            table.add_column("", no_wrap=True, style=ink("spark"))
        # A list, table or text value gets one line of the width a number would have had: a confusion matrix's
        # JSON once pushed the table past the pane (its header cut to "l", the numbers to "0.8"); `m` shows it.
        value_w = max(NUMBER_W, width - name_w - 4) if not wide and spark_w < 6 else max(NUMBER_W, 16)
        for s in metrics:
            last = strip_controls(format_number(s.last))
            if s.kind != "scalar":
                last = truncate(" ".join(last.split()), value_w)
            row: list[RenderableType] = [
                Text(truncate(strip_controls(s.name), name_w)),
                Text(last, no_wrap=True, overflow="ellipsis"),
            ]
            if wide:
                row.append(_t(format_number(s.min) if s.kind == "scalar" else ""))
                row.append(_t(format_number(s.max) if s.kind == "scalar" else ""))
            if spark_w >= 6:
                row.append(Text(sparkline(details.sparks.get(s.name, []), min(spark_w, 32))))
            table.add_row(*row)
        key = (
            tuple((s.name, s.last, s.min, s.max, s.kind) for s in metrics),
            tuple((k, tuple(v)) for k, v in sorted(details.sparks.items())),
            width,
            ink("spark"),
        )
        parts["metrics"] = Part(table, key)

    system = [s for s in details.summaries if is_system_metric(s.name)]
    if system:
        sys_text = Text(no_wrap=True, overflow="ellipsis")  # one line: the log below keeps its rows
        for s in system:
            if sys_text:
                sys_text.append("  ")
            sys_text.append(strip_controls(s.name.removeprefix("sys/")) + " ", style="dim")
            sys_text.append(format_system_metric(s.name, s.last))
        parts["system"] = Part(sys_text, (sys_text.plain,))

    grid = _grid()
    # An id is one word: at 80x24 a long one wrapped onto a second line (the log lost a row); cut it with "…" by
    # cell width instead. The full id is the info part's tooltip, `y` copies it, and `runtui ls` prints it.
    grid.add_row(_t("id"), Text(strip_controls(rec.id), no_wrap=True, overflow="ellipsis"))
    where = Text(strip_controls(rec.experiment), no_wrap=True, overflow="ellipsis")
    if rec.parent_id:
        where.append("  parent ", style="dim")
        where.append(rec.parent_id)
    grid.add_row(_t("exp"), where)
    if details.children:
        grid.add_row(_t("children"), _t(details.children))
    started = rec.started_at or rec.created_at
    grid.add_row(_t("started" if rec.started_at is not None else "created"), _t(format_time(started)))
    if rec.ended_at is not None:
        grid.add_row(_t("ended"), _t(format_time(rec.ended_at)))
    proc = Text()
    for label, value in (("", rec.host), ("pid ", rec.pid), ("user ", rec.user)):
        if value not in (None, ""):
            if proc:
                proc.append("  ")
            if label:
                proc.append(label, style="dim")
            proc.append(strip_controls(str(value)))
    if proc:
        grid.add_row(_t("host"), proc)
    if rec.script:
        grid.add_row(_t("script"), _t(" ".join([rec.script, *rec.arguments])))
    elif rec.arguments:
        grid.add_row(_t("args"), _t(" ".join(rec.arguments)))
    if rec.exit_code is not None:
        exit_text = _t(rec.exit_code)
        exit_text.stylize(ink("error") + Style(bold=True) if rec.exit_code else ink("ok"))
        grid.add_row(_t("exit"), exit_text)
    if details.tags:
        tags = Text()
        for k, v in sorted(details.tags.items()):
            if tags:
                tags.append("  ")
            tags.append(strip_controls(k), style="bold")
            if v is not None:
                tags.append("=" + strip_controls(v))
        grid.add_row(_t("tags"), tags)
    if details.properties:
        props = Text()
        for k, v in sorted(details.properties.items()):
            if props:
                props.append("  ")
            props.append(strip_controls(k), style="bold")
            props.append("=" + strip_controls(v))
        grid.add_row(_t("props"), props)
    if details.models:
        grid.add_row(_t("models"), _t("  ".join(details.models)))
    if details.file_count:
        files = Text(f"{details.file_count}  ")
        files.append(strip_controls("  ".join(details.files)), style="dim")
        if details.file_count > len(details.files):
            files.append("  …", style="dim")
        grid.add_row(_t("files"), files)
    info_key = (
        rec.id, rec.experiment, rec.parent_id, rec.started_at, rec.created_at, rec.ended_at, rec.host, rec.pid,
        rec.user, rec.script, rec.arguments, rec.exit_code, tuple(sorted(details.tags.items(), key=str)),
        tuple(sorted(details.properties.items())), details.children, tuple(details.models), tuple(details.files),
        details.file_count, width, ink("error"), ink("ok"),
    )  # fmt: skip
    parts["info"] = Part(grid, info_key)

    if rec.error:
        lines = [strip_controls(line) for line in rec.error.rstrip().splitlines()]
        shown = lines[-ERROR_LINES:]
        err = Text("error", style=ink("error") + Style(bold=True))
        if len(lines) > len(shown):
            err.append(f"  (last {len(shown)} of {len(lines)} lines)", style="dim")
        body = Text("\n".join(shown), style=ink("error"), overflow="fold")
        parts["error"] = Part(Group(err, body), (rec.error, ink("error")))
    return parts


def render_run(details: RunDetails, now: float, width: int, ink: Ink = plain_ink) -> RenderableType:
    """The details of one run as one Rich renderable (what the pane shows, in one piece)."""
    return Group(*(part.renderable for part in run_parts(details, now, width, ink).values()))


def render_experiment(entry: ExperimentEntry, ink: Ink = plain_ink) -> RenderableType:
    grid = _grid()
    grid.add_row(_t("runs"), _t(entry.total))
    live = _t(entry.live)
    if entry.live:
        live.stylize(ink("accent"))
    grid.add_row(_t("live"), live)
    title = Text("experiment  ", style="dim")
    title.append(strip_controls(entry.name), style="bold")
    hint = Text("enter: expand · /: filter the runs", style="dim")
    return Group(title, grid, Text(""), hint)


class DetailsPane(VerticalScroll):
    """The highlighted run's details; reloads in a worker when asked, repaints only the parts that changed."""

    ALLOW_MAXIMIZE = True  # `z` on the main screen maximises the details (containers are not, by default)

    COMPONENT_CLASSES: ClassVar[set[str]] = component_classes("details", "spark", "ok")
    """
    | Class | Description |
    | :- | :- |
    | `details--accent`, `--success`, `--error`, `--warning`, `--muted`, `--secondary` | The status, by its
      role; `details--error` also colours a run's error and a non-zero exit code. |
    | `details--spark` | Sparklines. |
    | `details--ok` | Exit code 0. |
    """

    DEFAULT_CSS = """
    DetailsPane > .details-part { height: auto; }
    DetailsPane > #details-system { text-wrap: nowrap; text-overflow: ellipsis; }
    DetailsPane > #details-metrics, DetailsPane > #details-system, DetailsPane > #details-error { margin-top: 1; }
    """

    class Loaded(Message):
        def __init__(self, token: int, details: RunDetails) -> None:
            super().__init__()
            self.token = token
            self.details = details

    class Failed(Message):
        def __init__(self, token: int, error: str) -> None:
            super().__init__()
            self.token = token
            self.error = error

    def __init__(self, *, clock: Callable[[], float], id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.run_id: str | None = None
        self.details: RunDetails | None = None
        self._token = 0
        # Each part repaints only its changed cells: a live run's tick sends the duration's digits, not the pane.
        self._parts = {name: CellLines("", id=f"details-{name}", classes="details-part") for name in PART_NAMES}
        self._keys: dict[str, Hashable] = {}
        self._body = self._parts["head"]

    def compose(self) -> ComposeResult:
        yield from self._parts.values()

    @property
    def runtui_app(self) -> RuntuiApp:
        return self.app  # type: ignore[return-value]

    @property
    def ink(self) -> Ink:
        """The current theme's style for a role (`success`, `spark`, ...)."""
        return ink_of(self, "details")

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._render_details()  # a new theme: the parts' keys hold their styles, so what changed is repainted

    def on_mount(self) -> None:
        self._show_only(Text("select a run", style="dim"))

    def _show_only(self, renderable: RenderableType) -> None:
        """One renderable in the head part, every other part hidden."""
        self._keys = {}
        self._parts["head"].update(renderable)
        self._parts["head"].display = True
        for name, widget in self._parts.items():
            if name != "head":
                widget.display = False

    def show_run(self, run_id: str, record: RunRecord | None = None) -> None:
        """Show run `run_id`; `record` (what the tree holds) is shown at once while the rest is read, so the
        pane never shows the previous run's figures under a new highlight (a read can take a while)."""
        if run_id != self.run_id:
            self.run_id = run_id
            self.details = None
            self.scroll_home(animate=False)
            if record is not None:
                head = Text(no_wrap=True, overflow="ellipsis")
                head.append(STATUS_GLYPH[record.status] + " ", style=status_ink(self.ink, record.status))
                head.append(record.status.value + "  ", style="bold")
                head.append(strip_controls(record.name), style="bold")
                head.append("  reading…", style="dim")
                self._show_only(head)
        self.reload()

    def show_experiment(self, entry: ExperimentEntry) -> None:
        self.run_id = None
        self.details = None
        self._token += 1
        self._show_only(render_experiment(entry, self.ink))

    def show_text(self, text: Text) -> None:
        self.run_id = None
        self.details = None
        self._token += 1
        self._show_only(text)

    def reload(self) -> None:
        if self.run_id is None:
            return
        self._token += 1
        self._load(self.run_id, self._token)

    def tick(self) -> None:
        """Redraw the duration of a live run (only the head line changes)."""
        if self.details is not None and self.details.record.status.is_live:
            # only the head: building every part each second was a third of the pane's CPU for a live run
            self._show_part("head", head_part(self.details.record, self.clock(), self.ink))

    @work(thread=True, exclusive=True, group="details", exit_on_error=False)
    def _load(self, run_id: str, token: int) -> None:
        try:
            details = read_details(self.runtui_app.store, run_id)
        except Exception as exc:  # shown in the pane, never swallowed
            self.post_message(self.Failed(token, f"cannot read run {run_id}: {exc}"))
            return
        self.post_message(self.Loaded(token, details))

    def on_details_pane_loaded(self, message: DetailsPane.Loaded) -> None:
        message.stop()
        if message.token != self._token:
            return
        self.details = message.details
        self._render_details()

    def on_details_pane_failed(self, message: DetailsPane.Failed) -> None:
        message.stop()
        if message.token == self._token:
            self._show_only(Text(message.error, style=self.ink("error")))

    def on_resize(self) -> None:
        self._render_details()

    def _render_details(self) -> None:
        if self.details is None:
            return
        width = max(20, self.scrollable_content_region.width)
        parts = run_parts(self.details, self.clock(), width, self.ink)
        record = self.details.record
        tip = record.id if not record.parent_id else f"{record.id}\nparent {record.parent_id}"
        if self._parts["info"].tooltip != tip:
            self._parts["info"].tooltip = tip
        for name in self._parts:
            self._show_part(name, parts.get(name))

    def _show_part(self, name: str, part: Part | None) -> None:
        """Repaint one part if its key changed; None hides it."""
        widget = self._parts[name]
        if part is None:
            if widget.display:
                widget.display = False
            self._keys.pop(name, None)
            return
        if self._keys.get(name) != part.key:
            self._keys[name] = part.key
            widget.update(part.renderable)
        if not widget.display:
            widget.display = True
