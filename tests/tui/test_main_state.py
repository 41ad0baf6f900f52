"""State that never lies: the details pane shows the highlighted run, actions act on it, a rebuild of the tree
(filter, clear, `a`) keeps the reader's selection and expansion, and the log header tells the truth.

Each of these failed on the TUI before the fix (the bug it names is in the test's docstring).
"""

from __future__ import annotations

import pytest
from tui_helpers import record_notices, run_python, wait_until

from runtui.config import WorkspaceConfig
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.dialogs import PromptDialog
from runtui.tui.screens.main import MainScreen
from runtui.tui.widgets.run_tree import RunEntry

S = RunStatus
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

LOG_METRIC = """
import sys
from runtui.store import open_store
point = (sys.argv[2], "loss", int(sys.argv[3]), float(sys.argv[4]), None, "scalar", 5.0)
open_store(sys.argv[1]).write_metrics([point])
"""


async def started(pilot, app: RuntuiApp) -> MainScreen:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
    screen = app.screen
    assert isinstance(screen, MainScreen)
    await wait_until(pilot, lambda: screen.loaded, "the first data")
    return screen


def in_sync(screen: MainScreen, run_id: str) -> bool:
    """The tree highlights `run_id` and the details show its data (loaded, not stale)."""
    selected = screen.run_tree.selected_run
    details = screen.details.details
    return (
        selected is not None
        and selected.id == run_id
        and screen.details.run_id == run_id
        and details is not None
        and details.record.id == run_id
    )


async def test_escape_after_a_filter_keeps_details_on_the_highlighted_run(
    workspace: WorkspaceConfig, ws_store: Store
) -> None:
    """Bug: after Escape cleared a filter the cursor landed on whatever row took the old line number while the
    details stayed on the old run, and its metric table froze (live updates reloaded only the cursor's run)."""
    ws_store.create_runs(
        [
            NewRun(id="a1", experiment="alpha", status=S.RUNNING),
            NewRun(id="a2", experiment="alpha", status=S.RUNNING),
            NewRun(id="b1", experiment="beta", status=S.RUNNING, tags=(("pick", None),)),
        ]
    )
    ws_store.write_metrics([("b1", "loss", 0, 0.7365, None, "scalar", 1.0)])
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await pilot.press("slash", *"tag:pick", "enter")
        await wait_until(
            pilot, lambda: screen.run_tree.run_node("b1") is not None and screen.run_tree.run_count == 1, "b1"
        )
        screen.run_tree.move_cursor(screen.run_tree.run_node("b1"))
        await wait_until(pilot, lambda: in_sync(screen, "b1"), "b1 highlighted and shown")

        await pilot.press("escape")  # clears the filter: the tree is rebuilt with every experiment
        await wait_until(pilot, lambda: not screen.view.active, "the filter cleared")
        await wait_until(pilot, lambda: screen.run_tree.run_node("a1") is not None, "alpha's runs")
        await wait_until(pilot, lambda: in_sync(screen, "b1"), "b1 still highlighted and shown after escape")

        # the details follow live changes of the run they show (the metric table does not freeze)
        run_python(LOG_METRIC, workspace.store_url, "b1", "1", "0.238")
        await wait_until(
            pilot,
            lambda: (
                screen.details.details is not None
                and any(s.name == "loss" and s.last == 0.238 for s in screen.details.details.summaries)
            ),
            "the new value in the details",
        )
        # and an action acts on that same run
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog), "the tag dialog")
        await pilot.press(*"seen", "enter")
        await wait_until(pilot, lambda: "seen" in ws_store.get_tags(["b1"])["b1"], "the tag on b1")
        assert ws_store.get_tags(["a1", "a2"]) == {"a1": {}, "a2": {}}


async def test_filter_clear_and_a_keep_the_readers_expansion(workspace: WorkspaceConfig, ws_store: Store) -> None:
    """Bug: clearing a filter or toggling `a` collapsed every experiment the reader had opened."""
    ws_store.create_runs(
        [
            NewRun(id="x1", experiment="ex", status=S.RUNNING),
            NewRun(id="y1", experiment="why", status=S.RUNNING),
            NewRun(id="z1", experiment="zed", status=S.RUNNING),
        ]
    )
    for run_id in ("x1", "y1", "z1"):
        ws_store.set_status(run_id, S.COMPLETED)  # nothing live: nothing opens by itself
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        tree = screen.run_tree
        assert not any(node.is_expanded for node in tree.root.children)
        tree.experiment_node("why").expand()  # type: ignore[union-attr]
        await wait_until(pilot, lambda: tree.run_node("y1") is not None, "why's run")
        tree.move_cursor(tree.run_node("y1"))
        await wait_until(pilot, lambda: in_sync(screen, "y1"), "y1 shown")

        await pilot.press("a")  # live only: y1 is finished, so it goes
        await wait_until(pilot, lambda: screen.view.live_only and tree.run_node("y1") is None, "live-only view")
        await pilot.press("a")  # all again
        await wait_until(pilot, lambda: not screen.view.active, "all runs")
        await wait_until(pilot, lambda: in_sync(screen, "y1"), "y1 highlighted again")
        why, ex, zed = (tree.experiment_node(n) for n in ("why", "ex", "zed"))
        assert why is not None and why.is_expanded
        assert ex is not None and not ex.is_expanded and zed is not None and not zed.is_expanded

        assert screen.apply_filter("x1")
        await wait_until(pilot, lambda: screen.view.active and tree.run_node("x1") is not None, "filter")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.view.active, "cleared")
        await wait_until(pilot, lambda: tree.run_node("y1") is not None, "why open again")
        assert tree.experiment_node("why").is_expanded  # type: ignore[union-attr]


async def test_a_selection_the_filter_hides_moves_to_the_nearest_row_and_says_so(
    workspace: WorkspaceConfig, ws_store: Store
) -> None:
    """Bug: the details kept showing a run the filter had removed from the tree, with no word about it."""
    ws_store.create_runs(
        [
            NewRun(id="k1", experiment="keep", status=S.RUNNING, display_name="resnet-keep"),
            NewRun(id="g1", experiment="gone", status=S.RUNNING, display_name="vgg-gone"),
        ]
    )
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        notices = record_notices(app)
        tree = screen.run_tree
        await wait_until(pilot, lambda: tree.run_node("g1") is not None, "g1")
        tree.move_cursor(tree.run_node("g1"))
        await wait_until(pilot, lambda: in_sync(screen, "g1"), "g1 shown")
        assert screen.apply_filter("resnet")
        await wait_until(pilot, lambda: any("vgg-gone is not in this view" in n for n in notices), "the notice")
        selected = tree.selected
        await wait_until(pilot, lambda: screen.details.run_id != "g1", "details off g1")
        assert not (isinstance(selected, RunEntry) and selected.run.id == "g1")
        if isinstance(tree.selected, RunEntry):
            await wait_until(pilot, lambda: in_sync(screen, tree.selected_run.id), "details on the new row")  # type: ignore[union-attr]
        else:
            assert screen.details.run_id is None


async def test_log_header_tells_the_truth(workspace: WorkspaceConfig, ws_store: Store) -> None:
    """Bug: the header said `following` for finished runs and `no log yet in …` for runs that never get one."""
    ws_store.create_runs(
        [
            NewRun(id="sub", experiment="e", status=S.RUNNING, kind="submitted", script="train.py"),
            NewRun(id="inter", experiment="e", status=S.RUNNING, kind="interactive"),
        ]
    )
    log = workspace.run_dir("sub") / "logs" / "output.log"
    log.parent.mkdir(parents=True)
    log.write_text("epoch 1\nepoch 2\n", encoding="utf-8")
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        tree, panel = screen.run_tree, screen.log_panel
        await wait_until(pilot, lambda: tree.run_node("sub") is not None, "the runs")
        tree.move_cursor(tree.run_node("sub"))
        await wait_until(pilot, lambda: panel.view.line_count == 2, "the log")
        assert "following" in panel.title_text

        panel.view.focus()
        panel.view.scroll_to(y=0, animate=False)
        panel.view.release_anchor()
        await wait_until(pilot, lambda: "paused" in panel.title_text, "paused when scrolled up")
        await pilot.press("end")
        await wait_until(pilot, lambda: "following" in panel.title_text, "following again")

        run_python(
            "import sys\nfrom runtui.store import open_store\nfrom runtui.status import RunStatus\n"
            "open_store(sys.argv[1]).set_status('sub', RunStatus.COMPLETED)",
            workspace.store_url,
        )
        await wait_until(pilot, lambda: "ended (Completed)" in panel.title_text, "ended")
        assert "following" not in panel.title_text

        tree.move_cursor(tree.run_node("inter"))
        await wait_until(pilot, lambda: "no log for interactive runs" in panel.title_text, "no log for this kind")


async def test_y_copies_the_run_id_and_z_zooms_a_pane(workspace: WorkspaceConfig, ws_store: Store) -> None:
    ws_store.create_runs([NewRun(id="copy-me", experiment="e", status=S.RUNNING)])
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await wait_until(pilot, lambda: screen.run_tree.run_node("copy-me") is not None, "the run")
        screen.run_tree.move_cursor(screen.run_tree.run_node("copy-me"))
        await wait_until(pilot, lambda: in_sync(screen, "copy-me"), "selected")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.clipboard == "copy-me", "the id on the clipboard")
        await pilot.press("z")
        await wait_until(pilot, lambda: screen.maximized is screen.log_panel, "the log maximised")
        await pilot.press("z")
        await wait_until(pilot, lambda: screen.maximized is screen.details, "the details maximised")
        await pilot.press("z")
        await wait_until(pilot, lambda: screen.maximized is None, "back to the normal layout")


async def test_theme_filter_and_open_experiments_carry_over_to_the_next_session(
    workspace: WorkspaceConfig, ws_store: Store
) -> None:
    ws_store.create_runs(
        [NewRun(id="x1", experiment="ex", status=S.RUNNING), NewRun(id="y1", experiment="why", status=S.RUNNING)]
    )
    for run_id in ("x1", "y1"):
        ws_store.set_status(run_id, S.COMPLETED)
    first = RuntuiApp(workspace)
    async with first.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, first)
        screen.run_tree.experiment_node("why").expand()  # type: ignore[union-attr]
        await wait_until(pilot, lambda: screen.run_tree.run_node("y1") is not None, "why's run")
        first.theme = "textual-light"
        assert screen.apply_filter("x1")
        await wait_until(pilot, lambda: screen.view.active, "the filter")
    assert (workspace.home / "tui.json").exists()

    second = RuntuiApp(workspace)
    async with second.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, second)
        assert second.theme == "textual-light"
        await wait_until(pilot, lambda: screen.view.text == "x1", "the filter back")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.view.active and screen.run_tree.run_node("y1") is not None, "why")
        assert not screen.run_tree.experiment_node("ex").is_expanded  # type: ignore[union-attr]

    (workspace.home / "tui.json").write_text("{not json", encoding="utf-8")
    third = RuntuiApp(workspace)
    async with third.run_test(size=(80, 24)) as pilot:
        notices = record_notices(third)
        screen = await started(pilot, third)
        assert third.saved.problem is not None and "unreadable" in third.saved.problem
        assert screen.view.text == ""
    del notices


async def test_a_failing_worker_is_shown_once(workspace: WorkspaceConfig, ws_store: Store) -> None:
    """Worker failures have one handler on the main screen: a notice (and the log), not one per failure."""
    ws_store.create_runs([NewRun(id="a1", experiment="alpha", status=S.COMPLETED)])
    app = RuntuiApp(workspace, live=False, remember=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        notices = record_notices(app)

        def boom() -> None:
            raise ValueError("broken read")

        for _ in range(2):
            worker = screen.run_worker(boom, name="boom", thread=True, exit_on_error=False)
            await wait_until(pilot, lambda w=worker: w.is_finished, "the worker's end")
            await pilot.pause(0.05)
        shown = [n for n in notices if "broken read" in n]
        assert shown == ["boom failed: ValueError('broken read')"]


async def test_showing_archived_experiments_keeps_the_selection_and_expansion(
    workspace: WorkspaceConfig, ws_store: Store
) -> None:
    """`A` rebuilds the tree (archived experiments join it, then leave): the highlighted run, the details and
    the opened experiments stay."""
    ws_store.create_runs(
        [
            NewRun(id="k1", experiment="kept", status=S.COMPLETED),
            NewRun(id="k2", experiment="kept", status=S.COMPLETED),
            NewRun(id="s1", experiment="shelf", status=S.COMPLETED),
        ]
    )
    ws_store.archive_experiment("shelf")
    app = RuntuiApp(workspace, remember=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        tree = screen.run_tree
        await wait_until(pilot, lambda: tree.run_node("k2") is not None, "kept's runs")  # the only one: opened
        tree.move_cursor(tree.run_node("k2"))
        await wait_until(pilot, lambda: in_sync(screen, "k2"), "k2 shown")
        for shown in (True, False):
            await pilot.press("A")
            await wait_until(pilot, lambda s=shown: ("shelf" in tree.experiment_nodes()) == s, "the toggle")
            await wait_until(pilot, lambda: in_sync(screen, "k2"), "k2 still highlighted and shown")
            assert tree.experiment_node("kept").is_expanded  # type: ignore[union-attr]
