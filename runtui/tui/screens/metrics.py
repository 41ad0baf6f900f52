"""The `m` screen: a chart per metric of one run, step on x.

Charts fill in one at a time: the worker reads the list of metrics, then each series down-sampled in the
store (a few hundred points), posting each as it arrives, so the first chart shows after one small read
even for 20 metrics of 50,000 steps. A live run's charts are re-read every few seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from runtui.terminal_text import strip_controls
from runtui.tui.formatting import STATUS_GLYPH, is_system_metric, status_style
from runtui.tui.widgets.chart import LineChart

if TYPE_CHECKING:
    from runtui.store.records import MetricSeries, MetricSummary, RunRecord
    from runtui.tui.app import RuntuiApp

CHART_POINTS = 400
REFRESH_S = 3.0
PALETTE = ["cyan", "green", "magenta", "yellow", "blue", "red"]


class MetricsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("m", "close", "Back", show=False),
    ]

    class Listed(Message):
        def __init__(self, summaries: list[MetricSummary], run: RunRecord) -> None:
            super().__init__()
            self.summaries = summaries
            self.run = run

    class SeriesLoaded(Message):
        def __init__(self, series: MetricSeries, note: str, summary: MetricSummary) -> None:
            super().__init__()
            self.series = series
            self.note = note
            self.summary = summary

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, run: RunRecord) -> None:
        super().__init__()
        self.run = run
        self.charts: dict[str, LineChart] = {}
        self._title = Static(self._title_text(), classes="screen-title")
        self._title_plain = ""
        self._grid = Grid(id="charts")
        self._empty = Static(Text("loading metrics…", style="dim"), id="charts-empty")

    @property
    def runtui_app(self) -> RuntuiApp:
        return self.app  # type: ignore[return-value]

    def _title_text(self) -> Text:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(" " + STATUS_GLYPH[self.run.status] + " ", style=status_style(self.run.status, self.app.no_color))
        title.append(strip_controls(self.run.name), style="bold")
        title.append("  metrics", style="dim")
        return title

    def compose(self) -> ComposeResult:
        yield self._title
        with VerticalScroll(id="charts-scroll"):
            yield self._empty
            yield self._grid
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#charts-scroll").focus()
        self._load()
        self.set_interval(REFRESH_S, self._refresh_live)

    def on_resize(self) -> None:
        self._grid.styles.grid_size_columns = 2 if self.size.width >= 120 else 1

    def _refresh_live(self) -> None:
        if self.run.status.is_live and self.is_current:
            self._load()

    @work(thread=True, exclusive=True, group="metrics", exit_on_error=False)
    def _load(self) -> None:
        from runtui.store.overview import sampled_series

        worker = get_current_worker()
        try:
            store = self.runtui_app.store
            run = store.get_run(self.run.id)
            summaries = store.get_summaries([self.run.id])[self.run.id]
            scalars = [s for s in summaries if s.kind == "scalar"]
            # the run's own metrics first, system samples (CPU, RAM, GPU) after
            scalars.sort(key=lambda s: is_system_metric(s.name))
            self.post_message(self.Listed(scalars, run))
            for s in scalars:
                if worker.is_cancelled:
                    return
                series = sampled_series(store, self.run.id, s.name, CHART_POINTS)
                note = f"{s.count:,} points"
                if len(series.steps) < s.count:
                    # the store averages buckets of steps: say so (the figures in the header are the data's own)
                    note += f", downsampled to {len(series.steps)} bucket means"
                self.post_message(self.SeriesLoaded(series, note, s))
        except Exception as exc:  # shown, never swallowed
            self.post_message(self.Failed(f"cannot read metrics: {exc}"))

    def on_metrics_screen_listed(self, message: MetricsScreen.Listed) -> None:
        self.run = message.run
        title = self._title_text()
        if title.plain != self._title_plain:
            self._title_plain = title.plain
            self._title.update(title, layout=False)
        if not message.summaries:
            self._empty.update(Text("this run has logged no numeric metrics yet", style="dim"))
            return
        self._empty.display = False
        for i, s in enumerate(message.summaries):
            if s.name not in self.charts:
                chart = LineChart(s.name, color=PALETTE[i % len(PALETTE)])
                self.charts[s.name] = chart
                self._grid.mount(chart)

    def on_metrics_screen_series_loaded(self, message: MetricsScreen.SeriesLoaded) -> None:
        chart = self.charts.get(message.series.name)
        if chart is not None:
            s = message.summary
            last = s.last if isinstance(s.last, (int, float)) else None
            chart.set_series(message.series.steps, message.series.values, message.note, figures=(last, s.min, s.max))

    def on_metrics_screen_failed(self, message: MetricsScreen.Failed) -> None:
        self.notify(message.error, severity="error", markup=False)
        self._empty.update(Text(message.error, style="red"))

    def action_close(self) -> None:
        self.dismiss(None)
