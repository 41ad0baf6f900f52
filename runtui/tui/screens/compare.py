"""The `C` screen: several runs' metrics overlaid, one chart per metric, one theme colour per run, a legend,
and `/` to choose which metrics are charted (a substring of their names)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from runtui.terminal_text import strip_controls
from runtui.tui.formatting import STATUS_GLYPH, is_system_metric, truncate
from runtui.tui.screens.opaque import OpaqueScreen
from runtui.tui.widgets.compare_chart import SERIES_CLASSES, CompareChart, CompareLegend

if TYPE_CHECKING:
    from runtui.store.overview import Envelope
    from runtui.store.records import RunRecord
    from runtui.tui.app import RuntuiApp

CHART_POINTS = 200
MAX_RUNS = len(SERIES_CLASSES)


class CompareScreen(OpaqueScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("slash", "filter_metrics", "Which metrics"),
    ]

    class Listed(Message):
        def __init__(self, names: list[str]) -> None:
            super().__init__()
            self.names = names

    class SeriesLoaded(Message):
        def __init__(self, run_id: str, envelope: Envelope, last: float | None) -> None:
            super().__init__()
            self.run_id = run_id
            self.envelope = envelope
            self.last = last

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, runs: list[RunRecord], why: str) -> None:
        super().__init__()
        self.runs = runs[:MAX_RUNS]
        self.why = why
        self.charts: dict[str, CompareChart] = {}
        self.metric_filter = ""
        self._legend = CompareLegend(
            [STATUS_GLYPH[r.status] + " " + truncate(strip_controls(r.name), 30) for r in self.runs],
            id="compare-legend",
        )
        self._grid = Grid(id="charts")
        self._empty = Static(Text("loading metrics…", style="dim"), id="charts-empty")
        self._input = Input(placeholder="metrics whose name contains… (empty: all)", id="compare-filter")

    @property
    def runtui_app(self) -> RuntuiApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f" compare {len(self.runs)} runs", style="bold")
        title.append(f"  {self.why}", style="dim")
        yield Static(title, classes="screen-title")
        yield self._legend
        yield self._input
        with VerticalScroll(id="charts-scroll"):
            yield self._empty
            yield self._grid
        yield Footer()

    def on_mount(self) -> None:
        self._input.display = False
        self.query_one("#charts-scroll").focus()
        self._load()

    def on_resize(self) -> None:
        self._grid.styles.grid_size_columns = 2 if self.size.width >= 140 else 1

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _load(self) -> None:
        from runtui.store.overview import sampled_envelope

        worker = get_current_worker()
        try:
            store = self.runtui_app.store
            ids = [r.id for r in self.runs]
            summaries = store.get_summaries(ids)
            names: list[str] = []
            for run_id in ids:
                for s in summaries.get(run_id, []):
                    if s.kind == "scalar" and s.name not in names:
                        names.append(s.name)
            names.sort(key=is_system_metric)  # the runs' own metrics first, system samples after
            self.post_message(self.Listed(names))
            for name in names:
                for run_id in ids:
                    if worker.is_cancelled:
                        return
                    summary = next((s for s in summaries.get(run_id, []) if s.name == name), None)
                    if summary is not None:
                        # buckets keep their min and max: a spike in one run is drawn, and sets the shared range
                        width = max(1, math.ceil((summary.last_step + 1) / CHART_POINTS))
                        envelope = sampled_envelope(store, run_id, name, width)
                        last = summary.last if isinstance(summary.last, (int, float)) else None
                        self.post_message(self.SeriesLoaded(run_id, envelope, last))
        except Exception as exc:  # shown, never swallowed
            self.post_message(self.Failed(f"cannot read metrics: {exc}"))

    def on_compare_screen_listed(self, message: CompareScreen.Listed) -> None:
        if not message.names:
            self._empty.update(Text("these runs have logged no numeric metrics", style="dim"))
            return
        self._empty.display = False
        for name in message.names:
            chart = CompareChart(name, [r.id for r in self.runs])
            self.charts[name] = chart
            self._grid.mount(chart)
        self._apply_filter()

    def on_compare_screen_series_loaded(self, message: CompareScreen.SeriesLoaded) -> None:
        env = message.envelope
        chart = self.charts.get(env.name)
        if chart is not None:
            chart.set_series(message.run_id, env.steps, env.means, lows=env.mins, highs=env.maxs, last=message.last)

    def on_compare_screen_failed(self, message: CompareScreen.Failed) -> None:
        self.notify(message.error, severity="error", markup=False)
        self._empty.update(Text(message.error, style="bold"))

    def action_filter_metrics(self) -> None:
        self._input.display = True
        self._input.value = self.metric_filter
        self._input.focus()

    @on(Input.Submitted, "#compare-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.metric_filter = event.value.strip()
        self._input.display = False
        self.query_one("#charts-scroll").focus()
        self._apply_filter()

    def _apply_filter(self) -> None:
        wanted = self.metric_filter.lower()
        shown = 0
        for name, chart in self.charts.items():
            chart.display = wanted in name.lower()
            shown += chart.display
        if self.metric_filter:
            self.notify(f"{shown} of {len(self.charts)} metrics charted", markup=False, timeout=2)

    def action_close(self) -> None:
        if self._input.display:
            self._input.display = False
            self.query_one("#charts-scroll").focus()
            return
        self.dismiss(None)
