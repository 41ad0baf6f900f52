"""Issue 11 in the TUI: a run's registered models and files in the details; archived experiments hidden
unless asked (`A`, as `runtui ls` hides them); `D` deletes an experiment after a confirmation that names it
and its runs, and refuses while one of its runs is live."""

from __future__ import annotations

from typing import Any

import pytest
from rich.style import Style
from tui_helpers import record_notices, wait_until

from runtui.config import WorkspaceConfig
from runtui.errors import NotFoundError
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.dialogs import ConfirmDialog
from runtui.tui.screens.main import MainScreen

S = RunStatus
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


async def started(pilot: Any, app: RuntuiApp) -> MainScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.loaded, "the first data")
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


def experiment_lines(screen: MainScreen) -> list[str]:
    tree = screen.run_tree
    return [tree.render_label(node, Style(), Style()).plain for node in tree.experiment_nodes().values()]


async def test_details_show_the_runs_models_and_files(workspace: WorkspaceConfig, ws_store: Store) -> None:
    ws_store.create_runs([NewRun(id="r", experiment="e", status=S.COMPLETED)])
    ws_store.add_artifacts(
        "r", [("outputs/model.pkl", 10), ("outputs/metrics.json", 2), ("outputs/plot.png", 3), ("logs/x.log", 1)]
    )
    for _ in range(2):
        ws_store.register_model("clf", path="models/clf", source_path="outputs/model.pkl", run_id="r", experiment="e")
    app = RuntuiApp(workspace, live=False, remember=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await started(pilot, app)
        await wait_until(pilot, lambda: screen.run_tree.run_node("r") is not None, "the run")
        screen.run_tree.move_cursor(screen.run_tree.run_node("r"))
        await wait_until(pilot, lambda: "models" in screen.details._parts["info"].plain, "the models line")
        info = screen.details._parts["info"].plain
        assert "clf:2  clf:1" in info
        files = " ".join(info[info.index("files") :].split())  # the line may wrap
        assert files.startswith("files 4 logs/x.log outputs/metrics.json")  # the count, then the first names
        assert files.endswith("…")  # and that there are more


async def test_archived_experiments_are_hidden_unless_asked(workspace: WorkspaceConfig, ws_store: Store) -> None:
    ws_store.create_runs(
        [
            NewRun(id="a", experiment="active", status=S.COMPLETED, display_name="kept"),
            NewRun(id="o", experiment="old", status=S.COMPLETED, display_name="shelved"),
        ]
    )
    ws_store.archive_experiment("old")
    app = RuntuiApp(workspace, live=False, remember=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        assert set(screen.run_tree.experiment_nodes()) == {"active"}
        await pilot.press("A")
        await wait_until(pilot, lambda: "old" in screen.run_tree.experiment_nodes(), "the archived experiment")
        assert any("old" in line and "archived" in line for line in experiment_lines(screen))
        await pilot.press("A")
        await wait_until(pilot, lambda: "old" not in screen.run_tree.experiment_nodes(), "hidden again")

        # a filter does not reach into an archived experiment either, unless asked
        assert screen.apply_filter("shelved")
        await wait_until(pilot, lambda: screen.run_tree.run_node("o") is None and screen.loaded, "the filter")
        await pilot.pause(0.2)
        assert screen.run_tree.run_node("o") is None
        await pilot.press("A")
        await wait_until(pilot, lambda: screen.run_tree.run_node("o") is not None, "the archived match")


async def test_delete_an_experiment_after_naming_it_and_never_with_live_runs(
    workspace: WorkspaceConfig, ws_store: Store
) -> None:
    ws_store.create_runs(
        [
            NewRun(id="o1", experiment="old", status=S.COMPLETED),
            NewRun(id="o2", experiment="old", status=S.FAILED),
            NewRun(id="b1", experiment="busy", status=S.RUNNING),
        ]
    )
    run_dir = workspace.run_dir("o1")
    run_dir.mkdir(parents=True)
    (run_dir / "note.txt").write_text("x", encoding="utf-8")
    app = RuntuiApp(workspace, live=False, remember=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        notices = record_notices(app)
        tree = screen.run_tree

        tree.move_cursor(tree.experiment_node("busy"))
        await pilot.pause(0.1)
        await pilot.press("D")
        await wait_until(pilot, lambda: any("live run" in n for n in notices), "the refusal")
        assert not isinstance(app.screen, ConfirmDialog)

        tree.move_cursor(tree.experiment_node("old"))
        await pilot.pause(0.1)
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        dialog = app.screen
        body = str(dialog._body)  # type: ignore[attr-defined]
        assert "old" in body and "2 runs" in body
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is screen, "declined")
        assert ws_store.get_run("o1").experiment == "old" and ws_store.get_run("o2").experiment == "old"

        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation again")
        await pilot.press("y")
        await wait_until(pilot, lambda: "old" not in tree.experiment_nodes(), "the experiment gone from the tree")
        with pytest.raises(NotFoundError):
            ws_store.get_run("o1")
        assert not run_dir.exists()
        assert "busy" in tree.experiment_nodes()
        assert any("deleted experiment old" in n for n in notices)


def test_a_list_or_table_metric_keeps_the_details_table_in_the_pane(ws_store: Store) -> None:
    """Seen in the demo at 80x24: an evaluation's per-class list and confusion matrix (JSON) pushed the metric
    table past the pane; its header read `l` and the accuracy `0.8`."""
    from rich.console import Console

    from runtui.tui.data import read_details
    from runtui.tui.widgets.details import run_parts

    ws_store.create_runs([NewRun(id="ev", experiment="e", status=S.RUNNING)])
    matrix = '{"true": ["cat", "dog", "truck", "bird"], "predicted": ["dog", "cat", "truck", "automobile"]}'
    ws_store.write_metrics(
        [
            ("ev", "accuracy", 0, 0.8482, None, "scalar", 1.0),
            ("ev", "per_class", 0, None, "[0.8228, 0.878, 0.8466, 0.8887, 0.8926, 0.7918]", "list", 1.0),
            ("ev", "confusion", 0, None, matrix, "confusion_matrix", 1.0),
        ]
    )
    width = 42  # the details pane at 80x24
    table = run_parts(read_details(ws_store, "ev"), 2.0, width)["metrics"].renderable
    console = Console(width=width, record=True, color_system=None)
    console.print(table)
    lines = console.export_text().rstrip("\n").splitlines()
    assert len(lines) == 4, lines  # the header and one line per metric
    assert "last" in lines[0] and "0.8482" in lines[1]
    assert all(len(line.rstrip()) <= width for line in lines)
