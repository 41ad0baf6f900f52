"""Snapshot tests of the main, help, log and metrics screens at 80x24 and 120x40.

Deterministic: the showcase store has fixed run ids, timestamps and metric curves; the app's clock is pinned;
times are shown in UTC; live updates are off. Update with `pytest tests/tui/test_snapshots.py --snapshot-update`
after checking the new pictures by eye.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import wait_until

from runtui.config import WorkspaceConfig
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.help import HelpScreen
from runtui.tui.screens.log import LogScreen
from runtui.tui.screens.main import MainScreen
from runtui.tui.screens.metrics import MetricsScreen
from runtui.tui.showcase import HOST, NOW, RESNET, SWEEP, build_showcase
from runtui.tui.widgets.run_tree import ExperimentEntry

SIZES = [(80, 24), (120, 40)]
MAIN_SIZES = [(60, 15), (80, 24), (120, 40), (200, 60)]  # the main screen at every size the issue names
LONG_RUN = f"{RESNET}_1700000000_00000003"
FAILED_RUN = f"{RESNET}_1700000000_00000002"
SWEEP_CHILD = f"{SWEEP}_1700000000_00000003"


@pytest.fixture(scope="module")
def showcase(tmp_path_factory: pytest.TempPathFactory) -> WorkspaceConfig:
    return build_showcase(tmp_path_factory.mktemp("showcase") / "ws")


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def make_app(config: WorkspaceConfig) -> RuntuiApp:
    return RuntuiApp(config, clock=lambda: NOW, live=False, local_host=HOST)


def prepare(run_id: str, then: Callable[[Any, MainScreen], Awaitable[None]] | None = None) -> Any:
    """A `run_before` that waits for the data, puts the cursor on `run_id` and waits for its details and log."""

    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await wait_until(pilot, lambda: any(isinstance(s, MainScreen) for s in app.screen_stack), "main screen")
        screen = next(s for s in app.screen_stack if isinstance(s, MainScreen))
        await wait_until(pilot, lambda: screen.loaded, "data")
        await wait_until(pilot, lambda: settled(screen), "the opened experiments' runs")
        parent = app.store.get_run(run_id).parent_id
        if parent is not None:
            await wait_until(pilot, lambda: screen.run_tree.run_node(parent) is not None, "the parent run")
            screen.run_tree.run_node(parent).expand()
        await wait_until(pilot, lambda: screen.run_tree.run_node(run_id) is not None, "the run")
        target = screen.run_tree.run_node(run_id)
        screen.run_tree.move_cursor(target)
        await wait_until(pilot, lambda: screen.run_tree.cursor_node is target, "the cursor on the run")
        await wait_until(
            pilot, lambda: screen.details.details is not None and screen.details.run_id == run_id, "details"
        )
        await wait_until(pilot, lambda: screen.log_panel.view.line_count > 0, "log")
        if then is not None:
            await then(pilot, screen)
        await pilot.pause(0.2)

    return run_before


def settled(screen: MainScreen) -> bool:
    """Every opened experiment has its runs (page loads finish in any order)."""
    for node in screen.run_tree.root.children:
        data = node.data
        if isinstance(data, ExperimentEntry) and node.is_expanded and not data.loaded:
            return False
    return True


async def open_help(pilot: Any, screen: MainScreen) -> None:
    await pilot.press("question_mark")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "help")


async def open_log(pilot: Any, screen: MainScreen) -> None:
    await pilot.press("l")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LogScreen), "log screen")
    log_screen = pilot.app.screen
    await wait_until(pilot, lambda: log_screen.panel.view.line_count > 0, "log lines")


async def open_metrics(pilot: Any, screen: MainScreen) -> None:
    await pilot.press("m")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, MetricsScreen), "metrics screen")
    metrics = pilot.app.screen
    await wait_until(pilot, lambda: metrics.charts and all(c.steps for c in metrics.charts.values()), "charts")


@pytest.mark.parametrize("size", MAIN_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare: Any, showcase: WorkspaceConfig, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(showcase), terminal_size=size, run_before=prepare(LONG_RUN))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_screen(snap_compare: Any, showcase: WorkspaceConfig, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(showcase), terminal_size=size, run_before=prepare(LONG_RUN, open_help))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_log_screen(snap_compare: Any, showcase: WorkspaceConfig, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(showcase), terminal_size=size, run_before=prepare(FAILED_RUN, open_log))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_metrics_screen(snap_compare: Any, showcase: WorkspaceConfig, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(showcase), terminal_size=size, run_before=prepare(SWEEP_CHILD, open_metrics))


def test_snapshot_store_is_deterministic(tmp_path: Path) -> None:
    from runtui.store import open_store

    a = build_showcase(tmp_path / "a")
    b = build_showcase(tmp_path / "b")
    sa, sb = open_store(a.store_url), open_store(b.store_url)
    runs_a = sorted((r.id, r.status, r.created_at, r.started_at, r.ended_at) for r in sa.query_runs())
    runs_b = sorted((r.id, r.status, r.created_at, r.started_at, r.ended_at) for r in sb.query_runs())
    assert runs_a == runs_b and len(runs_a) == 10
