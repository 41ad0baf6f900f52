"""The `m` screen: a chart per metric of one run, step on x, and its tables, matrices and lists below.

Charts fill in one at a time: the worker reads the list of metrics, then each series as an envelope of
buckets (mean, min, max per bucket, read in the store), posting each as it arrives, so the first chart shows
after one small read even for 20 metrics of 50,000 steps.

A live run is followed, not polled: the worker wakes on the store's change events, re-reads only the series
whose summary changed, and of those only the last bucket onwards (bucket widths stay fixed while the live
x axis, rounded ahead of the data, holds). Reads are throttled to one per `THROTTLE_S` on the trailing edge,
so a point is on screen a fraction of a second after it was logged while a fast writer costs a few small
repaints a second (each chart repaints only the cells that changed).
"""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from runtui.terminal_text import strip_controls
from runtui.tui.formatting import STATUS_GLYPH, is_system_metric, status_style
from runtui.tui.screens.opaque import OpaqueScreen
from runtui.tui.widgets.chart import LineChart, nice_ceil
from runtui.tui.widgets.metric_table import MetricTable

if TYPE_CHECKING:
    from runtui.store.overview import Envelope
    from runtui.store.records import MetricSummary, RunRecord
    from runtui.store.store import Store
    from runtui.tui.app import RuntuiApp

CHART_POINTS = 400  # buckets read per series: more than a chart has pixel columns at 200 cells wide
THROTTLE_S = 0.25  # at most one read (and one repaint per changed chart) this often while a run is live
FALLBACK_S = 2.0  # re-read at least this often when no change event came (network filesystems miss events)


class MetricsScreen(OpaqueScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("m", "close", "Back", show=False),
    ]

    class Listed(Message):
        def __init__(self, summaries: list[MetricSummary], run: RunRecord, others: list[MetricSummary]) -> None:
            super().__init__()
            self.summaries = summaries
            self.run = run
            self.others = others

    class SeriesLoaded(Message):
        def __init__(self, envelope: Envelope, summary: MetricSummary, live: bool, x_extent: float | None) -> None:
            super().__init__()
            self.envelope = envelope
            self.summary = summary
            self.live = live
            self.x_extent = x_extent

    class ValuesLoaded(Message):
        """The points of a table, matrix or list metric (their latest state)."""

        def __init__(self, summary: MetricSummary, values: list[Any]) -> None:
            super().__init__()
            self.summary = summary
            self.values = values

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, run: RunRecord) -> None:
        super().__init__()
        self.run = run
        self.charts: dict[str, LineChart] = {}
        self.tables: dict[str, MetricTable] = {}
        self._title = Static(self._title_text(), classes="screen-title")
        self._title_plain = ""
        self._grid = Grid(id="charts")
        self._empty = Static(Text("loading metrics…", style="dim"), id="charts-empty")
        self.reads = 0  # series reads done (tests: a point on one metric re-reads one series)

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
        self._follow()

    def on_resize(self) -> None:
        self._grid.styles.grid_size_columns = 2 if self.size.width >= 120 else 1

    @work(thread=True, exclusive=True, group="metrics", exit_on_error=False)
    def _follow(self) -> None:
        """Read every metric once; for a live run, then re-read what changed whenever the store changes."""
        worker = get_current_worker()
        watcher = subscription = None
        pause = threading.Event()  # never set: a wait that cannot be cut short by a stray wake
        known: dict[str, tuple[Any, ...]] = {}
        envelopes: dict[str, Envelope] = {}
        try:
            store = self.runtui_app.store
            while not worker.is_cancelled:
                started = time.monotonic()
                # a screen that is not visible does no work (not `is_current`: Textual counts the screen just
                # below the top one as current, so that stayed true under the help screen)
                if self.app.screen is self or not known:
                    live = self._read_changes(store, known, envelopes, worker)
                    if not live:
                        return  # the run has ended: this read was its last
                if subscription is None and watcher is None:
                    try:
                        from runtui.watch import store_watcher

                        watcher = store_watcher(self.runtui_app.config.store_url)
                        subscription = watcher.subscribe()
                    except Exception:  # no change events: the fallback poll below still finds every change
                        watcher = None
                if subscription is not None:
                    subscription.wait(FALLBACK_S)
                else:
                    pause.wait(FALLBACK_S)
                # trailing edge: what changed during the pause is read at its end, in one go
                pause.wait(max(0.0, THROTTLE_S - (time.monotonic() - started)))
        except Exception as exc:  # shown, never swallowed
            self.post_message(self.Failed(f"cannot read metrics: {exc}"))
        finally:
            if watcher is not None:
                watcher.close()

    def _read_changes(
        self, store: Store, known: dict[str, tuple[Any, ...]], envelopes: dict[str, Envelope], worker: Any
    ) -> bool:
        """Read the series whose summary changed since the last call; True while the run is live."""
        run = store.get_run(self.run.id)
        summaries = store.get_summaries([self.run.id]).get(self.run.id, [])
        scalars = [s for s in summaries if s.kind == "scalar"]
        # the run's own metrics first, system samples (CPU, RAM, GPU) after
        scalars.sort(key=lambda s: is_system_metric(s.name))
        others = [s for s in summaries if s.kind != "scalar"]
        self.post_message(self.Listed(scalars, run, others))
        live = run.status.is_live
        for s in [*scalars, *others]:
            if worker.is_cancelled:
                return False
            signature = (s.count, s.last_step, s.last, s.min, s.max, live)
            if known.get(s.name) == signature:
                continue
            known[s.name] = signature
            self.reads += 1
            if s.kind == "scalar":
                envelope, extent = _read_envelope(store, s, live, envelopes.get(s.name))
                envelopes[s.name] = envelope
                self.post_message(self.SeriesLoaded(envelope, s, live, extent))
            else:
                series = store.get_series(self.run.id, [s.name])
                self.post_message(self.ValuesLoaded(s, series[0].values if series else []))
        return live

    def on_metrics_screen_listed(self, message: MetricsScreen.Listed) -> None:
        self.run = message.run
        title = self._title_text()
        if title.plain != self._title_plain:
            self._title_plain = title.plain
            self._title.update(title, layout=False)
        if not message.summaries and not message.others:
            self._empty.update(Text("this run has logged no metrics yet", style="dim"))
            return
        if self._empty.display:
            self._empty.display = False
        for i, s in enumerate(message.summaries):
            if s.name not in self.charts:
                chart = LineChart(s.name, series=i)
                self.charts[s.name] = chart
                self._grid.mount(chart)
        for s in message.others:
            if s.name not in self.tables:
                table = MetricTable(s.name, s.kind)
                self.tables[s.name] = table
                self.query_one("#charts-scroll").mount(table)  # below the charts, as tall as it needs

    def on_metrics_screen_series_loaded(self, message: MetricsScreen.SeriesLoaded) -> None:
        chart = self.charts.get(message.envelope.name)
        if chart is None:
            return
        s, env = message.summary, message.envelope
        last = s.last if isinstance(s.last, (int, float)) else None
        chart.set_series(
            env.steps,
            env.means,
            f"{s.count:,} point{'' if s.count == 1 else 's'}",
            figures=(last, s.min, s.max),
            lows=env.mins,
            highs=env.maxs,
            points=s.count,
            stable=message.live,
            x_extent=message.x_extent,
        )

    def on_metrics_screen_values_loaded(self, message: MetricsScreen.ValuesLoaded) -> None:
        table = self.tables.get(message.summary.name)
        if table is not None:
            table.set_values(message.values)

    def on_metrics_screen_failed(self, message: MetricsScreen.Failed) -> None:
        self.notify(message.error, severity="error", markup=False)
        self._empty.display = True
        self._empty.update(Text(message.error, style="bold"))

    def action_close(self) -> None:
        self.dismiss(None)


def _read_envelope(
    store: Store, summary: MetricSummary, live: bool, previous: Envelope | None
) -> tuple[Envelope, float | None]:
    """The series as buckets, and where a live chart's x axis ends (ahead of the data, so it rarely rescales).

    While the bucket width holds, only the last bucket and what came after it are read again."""
    from runtui.store.overview import Envelope, sampled_envelope

    span = summary.last_step + 1
    extent = nice_ceil(span) if live else float(span)
    width = max(1, math.ceil(extent / CHART_POINTS))
    if previous is None or previous.width != width or not previous.steps:
        envelope = sampled_envelope(store, summary.run_id, summary.name, width)
    else:
        tail = sampled_envelope(store, summary.run_id, summary.name, width, from_step=previous.steps[-1])
        keep = len(previous.steps) - 1
        envelope = Envelope(
            summary.run_id,
            summary.name,
            width,
            previous.steps[:keep] + tail.steps,
            previous.means[:keep] + tail.means,
            previous.mins[:keep] + tail.mins,
            previous.maxs[:keep] + tail.maxs,
            previous.counts[:keep] + tail.counts,
        )
    return envelope, (extent - 1 if live else None)
