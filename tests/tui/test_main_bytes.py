"""Bytes on the wire from the main screen (issue 15): a live run repaints the cells that changed, not its
lines; a screen under another one does no work and catches up when it is shown again.

The bytes are what Textual would write to the terminal for each screen update (its compositor's output,
recorded here because a headless test app writes nothing); bench/tui_bytes.py measures the real terminal.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual._compositor import CompositorUpdate
from tui_helpers import run_python, tree_lines, wait_until

from runtui.config import WorkspaceConfig
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.log import LogScreen
from runtui.tui.screens.main import MainScreen
from runtui.tui.widgets.log_view import LogView

S = RunStatus
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

LOG_METRIC = """
import sys
from runtui.store import open_store
point = (sys.argv[2], "loss", int(sys.argv[3]), float(sys.argv[4]), None, "scalar", 5.0)
open_store(sys.argv[1]).write_metrics([point])
"""


def record_bytes(app: RuntuiApp) -> list[str]:
    """What each screen update would send to a terminal, from now on."""
    sent: list[str] = []
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        if isinstance(renderable, CompositorUpdate):
            sent.append(renderable.render_segments(app.console))
        original(screen, renderable)

    app._display = display  # type: ignore[method-assign]
    return sent


async def settled(pilot: Any, sent: list[str]) -> None:
    """Wait until the screen has stopped sending (its opening paints are over), then forget what it sent."""
    for _ in range(50):
        count = len(sent)
        await pilot.pause(0.3)
        if len(sent) == count:
            break
    sent.clear()


async def started(pilot: Any, app: RuntuiApp, run_id: str) -> MainScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.loaded, "the first data")
    screen = app.screen
    assert isinstance(screen, MainScreen)
    await wait_until(pilot, lambda: screen.run_tree.run_node(run_id) is not None, "the run")
    screen.run_tree.move_cursor(screen.run_tree.run_node(run_id))
    await wait_until(pilot, lambda: screen.details.details is not None, "its details")
    return screen


async def test_a_live_run_sends_the_cells_that_changed(workspace: WorkspaceConfig, ws_store: Store) -> None:
    """Before: a tick repainted the run's tree line and the details' status line (~400 bytes a second), and a
    new metric value its tree line and the whole metrics table (~800 bytes)."""
    from runtui.store.overview import set_run_times

    ws_store.create_runs([NewRun(id="r", experiment="e", status=S.RUNNING, display_name="live-run")])
    set_run_times(ws_store, "r", created_at=1000.0, started_at=1000.0)
    ws_store.write_metrics([("r", "loss", i, 1.0 / (i + 1), None, "scalar", 1001.0 + i) for i in range(5)])
    now = [1013.0]
    app = RuntuiApp(workspace, clock=lambda: now[0], remember=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app, "r")
        assert screen._tick_timer is not None
        screen._tick_timer.pause()  # the test ticks by hand
        await wait_until(pilot, lambda: "13s" in screen.details._parts["head"].plain, "13s in the details")
        sent = record_bytes(app)
        await settled(pilot, sent)

        now[0] = 1014.0
        screen._tick()
        await wait_until(pilot, lambda: "14s" in screen.details._parts["head"].plain, "the tick")
        await pilot.pause(0.1)
        tick_bytes = sum(len(s.encode()) for s in sent)
        assert 0 < tick_bytes < 120, sent

        sent.clear()
        run_python(LOG_METRIC, workspace.store_url, "r", "5", "0.1234")
        await wait_until(pilot, lambda: any("0.1234" in line for line in tree_lines(screen.run_tree)), "the value")
        await wait_until(pilot, lambda: "0.1234" in screen.details._parts["metrics"].plain, "the details' value")
        await pilot.pause(0.1)
        value_bytes = sum(len(s.encode()) for s in sent)
        assert 0 < value_bytes < 400, sent
        assert "metric" not in "".join(sent)  # the table's header was not sent again


async def test_a_hidden_main_screen_does_no_work_and_catches_up(workspace: WorkspaceConfig, ws_store: Store) -> None:
    """While `l` is open, a change to the run is not read (a repaint under the log screen repaints the log
    screen too); back on the main screen, the change is shown."""
    ws_store.create_runs([NewRun(id="r", experiment="e", status=S.RUNNING, display_name="live-run")])
    ws_store.write_metrics([("r", "loss", 0, 0.5, None, "scalar", 1.0)])
    log = workspace.run_dir("r") / "logs" / "output.log"
    log.parent.mkdir(parents=True)
    log.write_text("first line\n", encoding="utf-8")
    app = RuntuiApp(workspace, remember=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app, "r")
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LogScreen), "the log screen")
        log_screen = app.screen
        reads = screen.feed_reads
        details_token = screen.details._token

        run_python(LOG_METRIC, workspace.store_url, "r", "1", "0.4321")
        with log.open("a", encoding="utf-8") as f:
            f.write("second line\n")
        # the log screen's own follower saw the line written after the metric: the feed had its chance
        await wait_until(pilot, lambda: "second line" in "\n".join(log_screen.query_one(LogView).plain_lines()), "")
        await pilot.pause(0.6)  # longer than the feed's throttle: a read now would be a bug, not a race
        assert screen.feed_reads == reads
        assert screen.details._token == details_token
        assert not any("0.4321" in line for line in tree_lines(screen.run_tree))

        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "the main screen again")
        await wait_until(pilot, lambda: any("0.4321" in line for line in tree_lines(screen.run_tree)), "caught up")
        await wait_until(pilot, lambda: "0.4321" in screen.details._parts["metrics"].plain, "the details too")


async def test_metric_values_repaint_once_a_second_and_statuses_at_once(
    workspace: WorkspaceConfig, ws_store: Store
) -> None:
    """A run logging many points a second redraws its value at most every VALUE_REPAINT_S (the first at once,
    the last at the interval's end); a status change is never held back."""
    import dataclasses

    from runtui.tui.data import RunInfo
    from runtui.tui.widgets.run_tree import VALUE_REPAINT_S, RunEntry

    ws_store.create_runs([NewRun(id="r", experiment="e", status=S.RUNNING, display_name="live-run")])
    app = RuntuiApp(workspace, live=False, remember=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app, "r")
        tree = screen.run_tree
        node = tree.run_node("r")
        assert node is not None and isinstance(node.data, RunEntry)
        run = node.data.run
        await pilot.pause(VALUE_REPAINT_S + 0.1)  # a quiet spell longer than the interval

        tree._update_node(node, RunInfo(run, ("loss", 0.5)))
        assert not tree._values_due  # the first value: painted at once
        tree._update_node(node, RunInfo(run, ("loss", 0.25)))
        assert node.id in tree._values_due  # the next one waits for the interval's end
        tree._update_node(node, RunInfo(dataclasses.replace(run, status=S.FAILED), ("loss", 0.25)))
        assert node.id in tree._values_due and tree._painted[node.id][2].text.count("✗") == 1  # the status now
        await wait_until(pilot, lambda: not tree._values_due, "the held value painted")
        assert "0.25" in tree._painted[node.id][2].text
