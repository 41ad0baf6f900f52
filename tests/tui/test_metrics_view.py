"""The metrics view: figures that do not lie (spikes survive down-sampling), cheap live repaints, and the
metrics that are not numbers (tables, lists, Azure's documents) shown as what they mean."""

from __future__ import annotations

import time

import pytest
from test_app import select_run, started
from textual.app import App, ComposeResult
from textual.screen import Screen
from tui_helpers import run_python, wait_until
from wire import WireCounter

from runtui.config import WorkspaceConfig
from runtui.status import RunStatus as S
from runtui.store import NewRun, Store
from runtui.store.overview import sampled_envelope
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.metrics import MetricsScreen
from runtui.tui.widgets.chart import LineChart, nice_bounds, nice_ceil

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def spiky(store: Store, run_id: str, n: int = 10_000, spike_at: int = 4321) -> None:
    now = time.time()
    store.write_metrics([(run_id, "loss", s, 1.0 if s == spike_at else 0.1, None, "scalar", now) for s in range(n)])


class OneChart(App[None]):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.chart_width = width

    def compose(self) -> ComposeResult:
        chart = LineChart("loss")
        chart.styles.width = self.chart_width
        yield chart


def plot_rows(chart: LineChart) -> list[str]:
    """The chart's plot rows (after the header; without the y axis), as shown."""
    rows = chart.build(chart.content_region.width, chart.content_region.height).plain.split("\n")[1:-1]
    return [row.split("│", 1)[1] for row in rows]


async def test_a_spike_among_10000_points_survives_in_a_60_column_chart(ws_store: Store) -> None:
    ws_store.create_runs([NewRun(id="r", experiment="e", status=S.RUNNING)])
    spiky(ws_store, "r")
    envelope = sampled_envelope(ws_store, "r", "loss", width=25)  # 400 buckets
    assert max(v for v in envelope.maxs if v is not None) == 1.0
    app = OneChart(64)  # 60 columns inside the border and padding
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(LineChart)
        summary = ws_store.get_summaries(["r"])["r"][0]
        chart.set_series(
            envelope.steps, envelope.means, f"{summary.count:,} points",
            figures=(summary.last, summary.min, summary.max), lows=envelope.mins, highs=envelope.maxs,
            points=summary.count,
        )  # fmt: skip
        await pilot.pause()
        assert chart.content_region.width == 60
        header = chart.header_plain
        assert "max 1 " in header + " " and "min 0.1" in header
        assert "downsampled ×" in header
        rows = plot_rows(chart)
        top_label = chart.build(60, chart.content_region.height).plain.split("\n")[1].split("│")[0].strip()
        assert top_label == "1", f"the y axis tops out at {top_label}, not the spike's 1"
        assert rows[0].strip(), "the spike does not reach the top row"
        assert any(row.strip() for row in rows[-1:]), "the 0.1 baseline is not on the bottom row"


async def test_a_small_series_says_nothing_about_downsampling() -> None:
    app = OneChart(64)
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(LineChart)
        chart.set_series(list(range(20)), [i / 20 for i in range(20)], "20 points", points=20)
        await pilot.pause()
        assert "downsampled" not in chart.header_plain
        assert "20 points" in chart.header_plain


async def test_a_new_point_on_a_live_chart_repaints_a_few_cells_not_the_chart() -> None:
    app = OneChart(78)
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(LineChart)
        steps = list(range(300))
        values = [1.0 / (1 + s * 0.01) for s in steps]

        def show(n: int) -> None:
            chart.set_series(
                steps[:n], values[:n], f"{n} points", figures=(values[n - 1], min(values[:n]), 1.0),
                points=n, stable=True, x_extent=nice_ceil(n) - 1,
            )  # fmt: skip

        show(250)
        await pilot.pause(0.3)
        wire = WireCounter(app)
        for n in range(251, 261):
            show(n)
            await pilot.pause()
            await pilot.pause(0.02)
        per_point = wire.bytes / 10
        # the whole chart is ~2.5 kB; a point changes the header's figures and a cell or two of the plot
        assert per_point < 500, f"{per_point:.0f} bytes per new point"
        wire.reset()
        show(260)  # the same data again
        await pilot.pause(0.3)
        assert wire.bytes == 0


def test_nice_axes() -> None:
    assert [nice_ceil(v) for v in (1, 2, 2.5, 7, 260, 1001)] == [1, 2, 3, 7.5, 300, 1500]
    lo, hi = nice_bounds(0.13, 1.03)
    assert lo <= 0.13 and hi >= 1.03 and hi - lo < 2


async def open_metrics(pilot, app: RuntuiApp, run_id: str) -> MetricsScreen:  # type: ignore[no-untyped-def]
    screen = await started(pilot, app)
    await select_run(pilot, screen, run_id)
    await pilot.press("m")
    await wait_until(pilot, lambda: isinstance(app.screen, MetricsScreen), "the metrics screen")
    metrics = app.screen
    assert isinstance(metrics, MetricsScreen)
    return metrics


async def test_metrics_view_header_shows_the_datas_max_and_the_spike(
    workspace: WorkspaceConfig, ws_store: Store
) -> None:
    ws_store.create_runs([NewRun(id="r", experiment="e", status=S.RUNNING)])
    spiky(ws_store, "r")
    ws_store.set_status("r", S.COMPLETED)
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        metrics = await open_metrics(pilot, app, "r")
        await wait_until(pilot, lambda: "loss" in metrics.charts and metrics.charts["loss"].steps, "the chart")
        chart = metrics.charts["loss"]
        await pilot.pause(0.2)
        assert "max 1 " in chart.header_plain + " "
        assert "downsampled ×" in chart.header_plain
        assert plot_rows(chart)[0].strip(), "the spike does not reach the top row"


LIVE_WRITER = """
import sys, time
from runtui.store import open_store
store = open_store(sys.argv[1])
store.write_metrics([("r", "acc", None, 0.5, None, "scalar", time.time())])
"""


async def test_a_point_on_one_metric_rereads_that_series_only(workspace: WorkspaceConfig, ws_store: Store) -> None:
    ws_store.create_runs([NewRun(id="r", experiment="e", status=S.RUNNING)])
    now = time.time()
    ws_store.write_metrics(
        [("r", name, s, s * 0.1, None, "scalar", now) for name in ("loss", "acc", "lr") for s in range(50)]
    )
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        metrics = await open_metrics(pilot, app, "r")
        await wait_until(pilot, lambda: len(metrics.charts) == 3 and metrics.reads == 3, "three series read")
        acc = metrics.charts["acc"]
        run_python(LIVE_WRITER, workspace.store_url)
        started_at = time.monotonic()
        await wait_until(pilot, lambda: "51 points" in acc.header_plain, "the new point on screen", timeout=10)
        assert time.monotonic() - started_at < 5
        await pilot.pause(0.5)
        assert metrics.reads == 4, f"{metrics.reads - 3} series re-read for one new point"

        # under another screen the view reads nothing; back on top it catches up
        await app.push_screen(Screen())
        await wait_until(pilot, lambda: app.screen is not metrics, "another screen on top")
        run_python(LIVE_WRITER, workspace.store_url)
        await pilot.pause(2.5)  # longer than the fallback re-read: a read would have happened by now
        assert metrics.reads == 4, "the metrics view read the store while hidden"
        app.pop_screen()
        await wait_until(pilot, lambda: app.screen is metrics, "back on the metrics view")
        await wait_until(pilot, lambda: "52 points" in acc.header_plain, "the point logged meanwhile", timeout=10)


DOCUMENTS = """
import sys
from runtui import Experiment, Workspace
ws = Workspace(path=sys.argv[1])
run = Experiment(ws, "docs").start_logging(display_name="docs")
run.log_confusion_matrix("cm", {"schema_type": "confusion_matrix", "schema_version": "1.0.0",
    "data": {"class_labels": ["cat", "dog"], "matrix": [[41, 3], [5, 51]]}})
run.log_accuracy_table("acc_table", {"schema_type": "accuracy_table", "schema_version": "1.0.1",
    "data": {"class_labels": ["cat", "dog"], "probability_thresholds": [0.0, 0.5, 1.0],
             "probability_tables": [[[44, 56, 0, 0], [40, 4, 52, 4], [0, 0, 56, 44]],
                                    [[56, 44, 0, 0], [50, 5, 39, 6], [0, 0, 44, 56]]]}})
run.log_residuals("res", {"schema_type": "residuals", "schema_version": "1.0.0",
    "data": {"bin_edges": [-1.0, 0.0, 1.0], "bin_counts": [12, 30]}})
run.log_predictions("pred", {"schema_type": "predictions", "schema_version": "1.0.0",
    "data": {"bin_averages": [0.25, 0.75], "bin_errors": [0.01, 0.02], "bin_counts": [10, 20],
             "bin_edges": [0.0, 0.5, 1.0]}})
run.log_table("scores", {"fold": [1, 2], "f1": [0.81, 0.84]})
run.log_row("per_epoch", epoch=1, val=0.5)
run.log_row("per_epoch", epoch=2, val=0.6)
run.log_list("lrs", [0.1, 0.05, 0.01])
run.log("loss", 0.3)
run.complete()
print(run.id)
"""


async def test_tables_matrices_and_lists_are_shown_readably(workspace: WorkspaceConfig, ws_store: Store) -> None:
    workspace.home.mkdir(parents=True, exist_ok=True)
    run_id = run_python(DOCUMENTS, str(workspace.home)).strip().splitlines()[-1]
    app = RuntuiApp(workspace)
    async with app.run_test(size=(100, 60)) as pilot:
        metrics = await open_metrics(pilot, app, run_id)
        await wait_until(pilot, lambda: len(metrics.tables) == 7, "seven non-numeric metrics")
        await wait_until(pilot, lambda: all(t.values for t in metrics.tables.values()), "their values")

        def shown(name: str) -> str:
            table = metrics.tables[name]
            lines = table.render_lines(table.outer_size.region)
            return "\n".join("".join(segment.text for segment in line) for line in lines)

        cm = shown("cm")
        assert "true \\ predicted" in cm and "cat" in cm and "dog" in cm and "51" in cm
        assert "schema_type" not in cm and "{" not in cm
        acc = shown("acc_table")
        assert "TP" in acc and "FN" in acc and "0.5" in acc
        res = shown("res")
        assert "█" in res and "30" in res
        pred = shown("pred")
        assert "mean predicted" in pred and "0.75" in pred
        scores = shown("scores")
        assert "fold" in scores and "0.84" in scores
        rows = shown("per_epoch")
        assert "epoch" in rows and "0.6" in rows
        lrs = shown("lrs")
        assert "3 values" in lrs and any(c in lrs for c in "▁█")
        assert "loss" in metrics.charts
