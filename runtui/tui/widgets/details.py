"""The details pane: everything about the highlighted run (or experiment), read in a worker.

Every value from a run (names, tags, properties, errors, arguments) is put in a `Text` object, so it is shown
literally: `[red]x[/]` stays those characters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from runtui.terminal_text import strip_controls
from runtui.tui.data import RunDetails, read_details
from runtui.tui.formatting import (
    STATUS_COLOR,
    STATUS_GLYPH,
    format_duration,
    format_number,
    format_system_metric,
    format_time,
    ink,
    is_system_metric,
    sparkline,
    status_style,
)

if TYPE_CHECKING:
    from runtui.tui.app import RuntuiApp
    from runtui.tui.widgets.run_tree import ExperimentEntry

ERROR_LINES = 12


def _t(value: object, style: str = "") -> Text:
    """A literal text cell (never markup); control characters removed."""
    return Text(strip_controls(str(value)), style=style, no_wrap=False, overflow="fold")


def _grid() -> Table:
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(style="bold", no_wrap=True, min_width=8)
    grid.add_column(ratio=1, overflow="fold")
    return grid


def render_run(details: RunDetails, now: float, width: int, no_color: bool = False) -> RenderableType:
    """The details of one run as a Rich renderable (pure: used by the pane and by tests)."""
    rec = details.record
    title = Text(no_wrap=True, overflow="ellipsis")
    title.append(STATUS_GLYPH[rec.status] + " ", style=status_style(rec.status, no_color))
    title.append(rec.status.value, style=ink(f"bold {STATUS_COLOR[rec.status]}", no_color))
    title.append("  ")
    title.append(strip_controls(rec.name), style="bold")

    grid = _grid()
    grid.add_row(_t("id"), _t(rec.id))
    where = Text(strip_controls(rec.experiment))
    if rec.parent_id:
        where.append("  parent ", style="dim")
        where.append(rec.parent_id)
    grid.add_row(_t("exp"), where)
    if details.children:
        grid.add_row(_t("children"), _t(details.children))
    duration = format_duration(rec.duration(now))
    started = rec.started_at or rec.created_at
    times = Text(format_time(started))
    if duration:
        times.append(f"  ({duration}{'' if rec.ended_at else ', running'})", style="dim")
    grid.add_row(_t("started" if rec.started_at is not None else "created"), times)
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
        grid.add_row(_t("exit"), _t(rec.exit_code, ink("bold red" if rec.exit_code else "green", no_color)))
    if details.tags:
        tags = Text()
        for key, value in sorted(details.tags.items()):
            if tags:
                tags.append("  ")
            tags.append(strip_controls(key), style="bold")
            if value is not None:
                tags.append("=" + strip_controls(value))
        grid.add_row(_t("tags"), tags)
    if details.properties:
        props = Text()
        for key, value in sorted(details.properties.items()):
            if props:
                props.append("  ")
            props.append(strip_controls(key), style="bold")
            props.append("=" + strip_controls(value))
        grid.add_row(_t("props"), props)

    parts: list[RenderableType] = [title, grid]
    metrics = [s for s in details.summaries if not is_system_metric(s.name)]
    system = [s for s in details.summaries if is_system_metric(s.name)]
    if metrics:
        table = Table(box=None, padding=(0, 1), expand=False, show_edge=False, header_style="bold dim")
        table.add_column("metric", no_wrap=True, max_width=max(8, width // 3), overflow="ellipsis")
        table.add_column("last", justify="right", no_wrap=True)
        table.add_column("min", justify="right", no_wrap=True)
        table.add_column("max", justify="right", no_wrap=True)
        spark_width = max(0, width - 4 - max(8, width // 3) - 3 * 9)
        if spark_width >= 6:
            table.add_column("", no_wrap=True, style=ink("cyan", no_color))
        for s in metrics:
            row: list[RenderableType] = [
                _t(s.name),
                _t(format_number(s.last)),
                _t(format_number(s.min) if s.kind == "scalar" else ""),
                _t(format_number(s.max) if s.kind == "scalar" else ""),
            ]
            if spark_width >= 6:
                row.append(Text(sparkline(details.sparks.get(s.name, []), min(spark_width, 24))))
            table.add_row(*row)
        parts.append(Text(""))
        parts.append(table)
    if system:
        sys_text = Text()
        for s in system:
            if sys_text:
                sys_text.append("  ")
            sys_text.append(strip_controls(s.name.removeprefix("sys/")) + " ", style="dim")
            sys_text.append(format_system_metric(s.name, s.last))
        grid2 = _grid()
        grid2.add_row(_t("system"), sys_text)
        parts.append(grid2)
    if rec.error:
        lines = [strip_controls(line) for line in rec.error.rstrip().splitlines()]
        shown = lines[-ERROR_LINES:]
        err = Text("error", style="bold red")
        if len(lines) > len(shown):
            err.append(f"  (last {len(shown)} of {len(lines)} lines)", style="dim")
        parts.append(Text(""))
        parts.append(err)
        parts.append(Text("\n".join(shown), style=ink("red", no_color), overflow="fold"))
    return Group(*parts)


def render_experiment(entry: ExperimentEntry) -> RenderableType:
    grid = _grid()
    grid.add_row(_t("runs"), _t(entry.total))
    grid.add_row(_t("live"), _t(entry.live, "cyan" if entry.live else ""))
    title = Text("experiment  ", style="dim")
    title.append(strip_controls(entry.name), style="bold")
    hint = Text("enter: expand · /: filter the runs", style="dim")
    return Group(title, grid, Text(""), hint)


class DetailsPane(VerticalScroll):
    """The highlighted run's details; reloads in a worker when asked."""

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
        self._body = Static(Text("select a run", style="dim"), id="details-body")

    def compose(self):  # type: ignore[no-untyped-def]
        yield self._body

    @property
    def runtui_app(self) -> RuntuiApp:
        return self.app  # type: ignore[return-value]

    def show_run(self, run_id: str) -> None:
        if run_id != self.run_id:
            self.run_id = run_id
            self.details = None
            self.scroll_home(animate=False)
        self.reload()

    def show_experiment(self, entry: ExperimentEntry) -> None:
        self.run_id = None
        self.details = None
        self._token += 1
        self._body.update(render_experiment(entry))

    def show_text(self, text: Text) -> None:
        self.run_id = None
        self.details = None
        self._token += 1
        self._body.update(text)

    def reload(self) -> None:
        if self.run_id is None:
            return
        self._token += 1
        self._load(self.run_id, self._token)

    def tick(self) -> None:
        """Redraw the duration of a live run."""
        if self.details is not None and self.details.record.status.is_live:
            self._render_details()

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
            self._body.update(Text(message.error, style="red"))

    def _render_details(self) -> None:
        if self.details is not None:
            width = max(20, self.scrollable_content_region.width)
            self._body.update(render_run(self.details, self.clock(), width, self.app.no_color))
