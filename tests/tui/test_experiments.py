"""Issue 11 in the TUI: a run's registered models and files in the details; archived experiments hidden
unless asked (`A`, as `runtui ls` hides them); `D` deletes an experiment after a confirmation that names it
and its runs, and refuses while one of its runs is live."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from rich.style import Style
from tui_helpers import REPO, record_notices, wait_until

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


def runtui_cli(workspace: WorkspaceConfig, *args: str) -> None:
    """The CLI in another process, on the same workspace (what another terminal does)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTUI_")}
    env["PYTHONPATH"] = str(REPO)
    subprocess.run(
        [sys.executable, "-m", "runtui", "--home", str(workspace.home), *args],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )


async def test_an_experiment_archived_elsewhere_leaves_the_tree_at_once(
    workspace: WorkspaceConfig, ws_store: Store
) -> None:
    """Bug: `runtui experiment archive X` in another terminal left X in an open TUI until its restart (and the
    details kept showing it). It leaves live; the cursor moves to the nearest row, which the details follow,
    and the reader is told. Re-activated elsewhere, it comes back; `A` still shows archived ones."""
    ws_store.create_runs(
        [
            NewRun(id="a", experiment="active", status=S.COMPLETED, display_name="kept"),
            NewRun(id="o", experiment="old", status=S.COMPLETED, display_name="shelved"),
        ]
    )
    app = RuntuiApp(workspace, remember=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        tree = screen.run_tree
        assert set(tree.experiment_nodes()) == {"active", "old"}
        tree.move_cursor(tree.experiment_nodes()["old"])
        head = screen.details._parts["head"]
        await wait_until(pilot, lambda: "experiment  old" in head.plain, "the details of experiment old")
        notices = record_notices(app)

        runtui_cli(workspace, "experiment", "archive", "old")
        await wait_until(pilot, lambda: "old" not in tree.experiment_nodes(), "old leaving the tree")
        await wait_until(pilot, lambda: "experiment  active" in head.plain, "the details following the cursor")
        assert tree.cursor_node is tree.experiment_nodes()["active"]
        assert any("experiment old was archived" in n for n in notices)
        assert "1 experiment" in screen.status_line.summary

        runtui_cli(workspace, "experiment", "reactivate", "old")
        await wait_until(pilot, lambda: "old" in tree.experiment_nodes(), "old back in the tree")

        runtui_cli(workspace, "experiment", "archive", "old")
        await wait_until(pilot, lambda: "old" not in tree.experiment_nodes(), "old leaving again")
        await pilot.press("A")
        await wait_until(pilot, lambda: "old" in tree.experiment_nodes(), "`A` showing the archived experiment")


def test_a_long_run_id_is_cut_by_cell_width_in_the_details(ws_store: Store) -> None:
    """Bug: at 80x24 a long run id wrapped in the details pane (a second line, the log lost a row). It is cut
    with `…` by cell width (a wide character counts two cells); the full id is the info part's tooltip."""
    from rich.cells import cell_len
    from rich.console import Console

    from runtui.tui.data import read_details
    from runtui.tui.widgets.details import run_parts

    long_id = "sweep_lr_0.001_batch_256_" + "数据" * 6 + "_1796081639_9e6adf69"
    ws_store.create_runs([NewRun(id=long_id, experiment="e", status=S.COMPLETED)])
    width = 42  # the details pane at 80x24
    grid = run_parts(read_details(ws_store, long_id), 2.0, width)["info"].renderable
    console = Console(width=width, record=True, color_system=None)
    console.print(grid)
    lines = console.export_text().rstrip("\n").splitlines()
    id_line = next(line for line in lines if line.startswith("id"))
    assert id_line.rstrip().endswith("…")
    assert cell_len(id_line.rstrip()) <= width
    assert lines[lines.index(id_line) + 1].startswith("exp")  # no wrapped rest of the id below it


async def test_the_details_tooltip_holds_the_full_run_id(workspace: WorkspaceConfig, ws_store: Store) -> None:
    long_id = "a_run_id_far_too_long_for_the_details_pane_at_80x24_1796081639_9e6adf69"
    ws_store.create_runs([NewRun(id=long_id, experiment="e", status=S.COMPLETED)])
    app = RuntuiApp(workspace, live=False, remember=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await wait_until(pilot, lambda: screen.run_tree.run_node(long_id) is not None, "the run")
        screen.run_tree.move_cursor(screen.run_tree.run_node(long_id))
        info = screen.details._parts["info"]
        await wait_until(pilot, lambda: "…" in info.plain, "the id cut in the details")
        assert info.tooltip == long_id
        assert long_id not in info.plain


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


def test_a_reactivated_experiment_comes_back_while_other_runs_change(ws_store: Store) -> None:
    """Seen in `runtui demo`: `runtui experiment reactivate X` while other runs were logging left X out of the
    tree (the feed counted only the changed runs' experiments). One batch holds both: X is in it."""
    from runtui.tui.data import ViewFilter, read_feed

    ws_store.create_runs(
        [
            NewRun(id="a", experiment="active", status=S.RUNNING),
            NewRun(id="o", experiment="old", status=S.COMPLETED),
        ]
    )
    ws_store.archive_experiment("old")
    since = ws_store.current_revision()
    ws_store.reactivate_experiment("old")
    ws_store.set_tags("a", {"step": "2"})  # another run changing in the same batch
    batch = read_feed(ws_store, since, ViewFilter(), 0)
    assert batch is not None and [info.run.id for info in batch.runs] == ["a"]
    assert set(batch.experiments) == {"active", "old"} and not batch.archived
