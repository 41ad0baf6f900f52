"""Comparing runs: a sweep's children one key away, or the runs marked with `x`; one chart per metric with a
curve per run, and `/` chooses the metrics charted."""

from __future__ import annotations

import pytest
from tui_helpers import wait_until

from runtui.config import WorkspaceConfig
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.compare import CompareScreen
from runtui.tui.screens.main import MainScreen

S = RunStatus
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def sweep(store: Store) -> None:
    store.create_runs(
        [
            NewRun(id="p", experiment="sw", status=S.RUNNING, display_name="sweep"),
            NewRun(id="c1", experiment="sw", status=S.RUNNING, parent_id="p", display_name="lr-0.1"),
            NewRun(id="c2", experiment="sw", status=S.RUNNING, parent_id="p", display_name="lr-0.01"),
        ]
    )
    points = []
    for step in range(50):
        points.append(("c1", "loss", step, 1.0 / (step + 1), None, "scalar", 1.0))
        points.append(("c2", "loss", step, 2.0 / (step + 1), None, "scalar", 1.0))
        points.append(("c1", "acc", step, step / 50, None, "scalar", 1.0))
    store.write_metrics(points)


async def test_a_sweeps_children_are_one_key_away(workspace: WorkspaceConfig, ws_store: Store) -> None:
    sweep(ws_store)
    app = RuntuiApp(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.loaded, "the tree")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await wait_until(pilot, lambda: screen.run_tree.run_node("p") is not None, "the parent")
        screen.run_tree.move_cursor(screen.run_tree.run_node("p"))
        await wait_until(pilot, lambda: screen.details.run_id == "p", "p selected")
        await pilot.press("C")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), "the compare screen")
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        assert sorted(r.id for r in compare.runs) == ["c1", "c2"]
        await wait_until(pilot, lambda: "loss" in compare.charts and len(compare.charts["loss"].series) == 2, "two")
        assert set(compare.charts) == {"loss", "acc"} and len(compare.charts["acc"].series) == 1
        await pilot.press("slash", *"loss", "enter")
        await wait_until(pilot, lambda: not compare.charts["acc"].display, "acc filtered out")
        assert compare.charts["loss"].display
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "back")


async def test_marked_runs_are_compared(workspace: WorkspaceConfig, ws_store: Store) -> None:
    sweep(ws_store)
    app = RuntuiApp(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.loaded, "the tree")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        tree = screen.run_tree
        await wait_until(pilot, lambda: tree.run_node("p") is not None, "the parent")
        tree.run_node("p").expand()  # type: ignore[union-attr]
        await wait_until(pilot, lambda: tree.run_node("c2") is not None, "the children")
        for run_id in ("c2", "p"):
            tree.move_cursor(tree.run_node(run_id))
            await wait_until(pilot, lambda run_id=run_id: screen.details.run_id == run_id, run_id)
            await pilot.press("x")
        assert list(tree.marked) == ["c2", "p"]
        await pilot.press("C")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), "the compare screen")
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        assert [r.id for r in compare.runs] == ["c2", "p"]
