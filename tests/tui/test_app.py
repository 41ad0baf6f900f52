"""The TUI driven by Pilot against real stores, with other processes writing to them."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from textual.command import CommandPalette
from tui_helpers import run_python, screen_text, tree_lines, wait_until

from runtui.config import WorkspaceConfig
from runtui.identity import current_host, process_create_time
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.dialogs import ConfirmDialog, PromptDialog
from runtui.tui.screens.help import HelpScreen
from runtui.tui.screens.log import LogScreen
from runtui.tui.screens.main import MainScreen
from runtui.tui.screens.metrics import MetricsScreen
from runtui.tui.widgets.chart import LineChart
from runtui.tui.widgets.run_tree import RunEntry

S = RunStatus
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def main_screen(app: RuntuiApp) -> MainScreen:
    return next(s for s in app.screen_stack if isinstance(s, MainScreen))


async def started(pilot, app: RuntuiApp) -> MainScreen:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: any(isinstance(s, MainScreen) for s in app.screen_stack), "the main screen")
    screen = main_screen(app)
    await wait_until(pilot, lambda: screen.loaded, "the first data")
    await pilot.pause(0.1)
    return screen


async def select_run(pilot, screen: MainScreen, run_id: str) -> None:  # type: ignore[no-untyped-def]
    """Put the tree's cursor on a run (expanding its experiment and parents as needed)."""

    def node():  # type: ignore[no-untyped-def]
        return screen.run_tree.run_node(run_id)

    if node() is None:
        rec = screen.runtui_app.store.get_run(run_id)
        exp = screen.run_tree.experiment_node(rec.experiment)
        assert exp is not None
        exp.expand()
        chain = []
        parent = rec.parent_id
        while parent is not None:
            chain.append(parent)
            parent = screen.runtui_app.store.get_run(parent).parent_id
        for pid in reversed(chain):
            await wait_until(pilot, lambda pid=pid: screen.run_tree.run_node(pid) is not None, f"run {pid}")
            screen.run_tree.run_node(pid).expand()  # type: ignore[union-attr]
        await wait_until(pilot, lambda: node() is not None, f"run {run_id} in the tree")
    await pilot.pause(0.05)
    screen.run_tree.move_cursor(node())
    await wait_until(pilot, lambda: screen.details.details is not None and screen.details.run_id == run_id, "details")


def runs(store: Store, *specs: NewRun) -> None:
    store.create_runs(list(specs))


# ---------------------------------------------------------------------- empty store and first paint


async def test_empty_store_explains_how_to_start_a_run(workspace: WorkspaceConfig) -> None:
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        text = screen_text(pilot)
        assert "No runs yet" in text
        assert "runtui demo" in text and "runtui submit train.py" in text
        assert "start_logging" in text
        assert screen.empty.display and not screen.run_tree.display


async def test_tree_shows_experiments_runs_children_and_names_literally(
    workspace: WorkspaceConfig, ws_store: Store
) -> None:
    runs(
        ws_store,
        NewRun(id="p1", experiment="exp-a", status=S.RUNNING, display_name="[red]parent[/]"),
        NewRun(id="c1", experiment="exp-a", status=S.RUNNING, parent_id="p1", display_name="child one"),
        NewRun(id="g1", experiment="exp-a", status=S.RUNNING, parent_id="c1", display_name="grandchild"),
        NewRun(id="b1", experiment="exp-b", status=S.QUEUED, tags=(("[bold]k[/]", "[link=x]v[/link]"),)),
    )
    ws_store.write_metrics([("p1", "sys/cpu_percent", 0, 50.0, None, "scalar", 1.0)])
    ws_store.write_metrics([("p1", "loss", 0, 0.25, None, "scalar", 2.0)])
    app = RuntuiApp(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await started(pilot, app)
        lines = tree_lines(screen.run_tree)
        assert "exp-a" in lines[0] and lines[0].endswith("3 live · 3 runs")  # children count too
        await select_run(pilot, screen, "g1")
        lines = tree_lines(screen.run_tree)
        joined = "\n".join(lines)
        assert "[red]parent[/]" in joined  # shown as typed, not as markup
        assert "loss 0.25" in joined  # the headline skips sys/* metrics
        assert "child one" in joined and "grandchild" in joined
        await select_run(pilot, screen, "b1")
        await wait_until(pilot, lambda: "[bold]k[/]=[link=x]v[/link]" in screen_text(pilot), "the tag, literally")


# ---------------------------------------------------------------------- live updates from other processes

CREATE_RUN = """
import sys
from runtui.store import open_store, NewRun
from runtui.status import RunStatus
store = open_store(sys.argv[1])
store.create_runs([NewRun(id=sys.argv[2], experiment=sys.argv[3], status=RunStatus.RUNNING, display_name=sys.argv[4])])
"""

SET_STATUS = """
import sys
from runtui.store import open_store
from runtui.status import RunStatus
open_store(sys.argv[1]).set_status(sys.argv[2], RunStatus(sys.argv[3]))
"""


async def test_first_run_from_another_process_replaces_the_empty_state(workspace: WorkspaceConfig) -> None:
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        assert screen.empty.display
        run_python(CREATE_RUN, workspace.store_url, "r1", "fresh", "from elsewhere")
        await wait_until(pilot, lambda: screen.run_tree.experiment_node("fresh") is not None, "the new experiment")
        assert not screen.empty.display and screen.run_tree.display
        # a single experiment is opened; its run shows
        screen.run_tree.experiment_node("fresh").expand()  # type: ignore[union-attr]
        await wait_until(pilot, lambda: screen.run_tree.run_node("r1") is not None, "the new run")


async def test_runs_and_statuses_from_another_process_update_in_place(
    workspace: WorkspaceConfig, ws_store: Store
) -> None:
    runs(
        ws_store,
        NewRun(id="old", experiment="exp", status=S.RUNNING, display_name="old run"),
        NewRun(id="par", experiment="exp", status=S.RUNNING, display_name="parent"),
        NewRun(id="kid", experiment="exp", status=S.RUNNING, parent_id="par", display_name="kid"),
    )
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        tree = screen.run_tree
        await select_run(pilot, screen, "kid")  # expands exp and par
        old_node = tree.run_node("old")
        cursor = tree.cursor_node
        reads = screen.feed_reads

        run_python(CREATE_RUN, workspace.store_url, "new", "exp", "brand new")
        await wait_until(pilot, lambda: tree.run_node("new") is not None, "the run created elsewhere")
        assert tree.run_node("old") is old_node  # not rebuilt
        assert tree.cursor_node is cursor and tree.selected_run is not None and tree.selected_run.id == "kid"
        assert tree.run_node("par").is_expanded  # type: ignore[union-attr]
        assert screen.feed_reads > reads
        lines = tree_lines(tree)
        assert lines.index(next(x for x in lines if "brand new" in x)) < lines.index(
            next(x for x in lines if "old run" in x)
        )  # newest first

        run_python(SET_STATUS, workspace.store_url, "old", "Completed")
        await wait_until(
            pilot, lambda: isinstance(old_node.data, RunEntry) and old_node.data.run.status == S.COMPLETED, "Completed"
        )
        assert tree.run_node("old") is old_node
        assert any(line.startswith("✓ old run") for line in tree_lines(tree))
        assert tree.cursor_node is cursor


async def test_log_lines_appended_by_another_process_appear(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(ws_store, NewRun(id="r", experiment="exp", status=S.RUNNING))
    log = workspace.run_dir("r") / "logs" / "output.log"
    log.parent.mkdir(parents=True)
    log.write_text("\x1b]0;evil title\x07first line \x1b[32mgreen\x1b[0m\n", encoding="utf-8")
    app = RuntuiApp(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "r")
        view = screen.log_panel.view
        await wait_until(pilot, lambda: "first line green" in view.plain_lines(), "the log's first line")
        run_python(
            "import sys\nwith open(sys.argv[1], 'a') as f: f.write('appended elsewhere\\n\\r 10%\\r 99%')",
            str(log),
        )
        await wait_until(pilot, lambda: "appended elsewhere" in view.plain_lines(), "the appended line")
        await wait_until(pilot, lambda: view.partial == " 99%", "the progress bar's last state")
        assert view.following
        assert "evil title" not in screen_text(pilot)


# ---------------------------------------------------------------------- filter


async def test_filter_narrows_the_tree_and_a_bad_filter_keeps_the_old_one(
    workspace: WorkspaceConfig, ws_store: Store
) -> None:
    runs(
        ws_store,
        NewRun(id="a", experiment="e1", status=S.RUNNING, tags=(("quality", "great"),)),
        NewRun(id="b", experiment="e1", status=S.RUNNING),
        NewRun(id="c", experiment="e2", status=S.RUNNING, tags=(("quality", "poor"),)),
    )
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await pilot.press("slash", *"tag:quality=great", "enter")
        await wait_until(pilot, lambda: screen.view.text == "tag:quality=great" and screen.run_tree.run_count == 1, "a")
        assert screen.run_tree.run_node("a") is not None
        assert screen.run_tree.experiment_node("e2") is None

        await pilot.press("slash", "ctrl+u", *"tag:(oops", "enter")
        await pilot.pause(0.2)
        error = str(screen.filter_error.render())
        assert "position 5" in error and "previous filter stays" in error
        assert screen.view.text == "tag:quality=great"  # kept
        assert screen.run_tree.run_node("a") is not None and screen.run_tree.run_count == 1

        await pilot.press("escape")  # closes the filter box
        await pilot.press("escape")  # clears the filter
        await wait_until(pilot, lambda: screen.view.text == "" and not screen.view.active, "cleared")
        await wait_until(pilot, lambda: screen.run_tree.experiment_node("e2") is not None, "all experiments")


async def test_new_matching_runs_join_a_filtered_tree(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(ws_store, NewRun(id="x1", experiment="e", status=S.RUNNING, display_name="resnet-1"))
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        assert screen.apply_filter("resnet")
        await wait_until(pilot, lambda: screen.run_tree.run_node("x1") is not None, "the match")
        run_python(CREATE_RUN, workspace.store_url, "x2", "e", "resnet-2")
        run_python(CREATE_RUN, workspace.store_url, "y1", "e", "vgg-1")
        await wait_until(pilot, lambda: screen.run_tree.run_node("x2") is not None, "the new match")
        await pilot.pause(0.3)
        assert screen.run_tree.run_node("y1") is None


async def test_a_toggles_finished_runs(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(
        ws_store,
        NewRun(id="live", experiment="e", status=S.RUNNING),
        NewRun(id="done", experiment="e", status=S.RUNNING),
    )
    ws_store.set_status("done", S.COMPLETED)
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await wait_until(pilot, lambda: screen.run_tree.run_node("done") is not None, "both runs")
        await pilot.press("a")
        await wait_until(pilot, lambda: screen.view.live_only and screen.run_tree.run_node("done") is None, "live")
        assert screen.run_tree.run_node("live") is not None
        await pilot.press("a")
        await wait_until(pilot, lambda: screen.run_tree.run_node("done") is not None, "all runs again")


# ---------------------------------------------------------------------- actions


async def test_tags_round_trip_to_the_store(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(ws_store, NewRun(id="r", experiment="e", status=S.RUNNING))
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "r")
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog), "the tag dialog")
        await pilot.press("enter")  # empty: refused, the dialog stays
        assert isinstance(app.screen, PromptDialog)
        await pilot.press(*"quality=[b]great[/b]", "enter")
        await wait_until(pilot, lambda: ws_store.get_tags(["r"])["r"] == {"quality": "[b]great[/b]"}, "the tag")
        await pilot.press("t", *"best", "enter")
        await wait_until(pilot, lambda: "best" in ws_store.get_tags(["r"])["r"], "the key-only tag")
        assert ws_store.get_tags(["r"])["r"]["best"] is None
        await wait_until(pilot, lambda: "best" in (screen.details.details.tags if screen.details.details else {}), "x")
        await pilot.press("T")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog), "the untag dialog")
        await pilot.press(*"quality", "enter")
        await wait_until(pilot, lambda: ws_store.get_tags(["r"])["r"] == {"best": None}, "the tag removed")


async def test_cancel_a_run_owned_by_a_live_process(workspace: WorkspaceConfig, ws_store: Store) -> None:
    owner = subprocess.Popen(["sleep", "300"])
    try:
        created = process_create_time(owner.pid)
        runs(
            ws_store,
            NewRun(
                id="r",
                experiment="e",
                status=S.RUNNING,
                host=current_host(),
                owner_pid=owner.pid,
                owner_create_time=created,
            ),
        )
        app = RuntuiApp(workspace)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await started(pilot, app)
            await select_run(pilot, screen, "r")
            await pilot.press("c")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
            await pilot.press("n")  # declined: nothing happens
            await pilot.pause(0.3)
            assert ws_store.get_run("r").status == S.RUNNING
            await pilot.press("c")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
            await pilot.press("y")
            await wait_until(pilot, lambda: ws_store.get_run("r").status == S.CANCEL_REQUESTED, "CancelRequested")
            node = screen.run_tree.run_node("r")
            await wait_until(pilot, lambda: node.data.run.status == S.CANCEL_REQUESTED, "◍ in the tree")  # type: ignore[union-attr]
            # the owner acts on the request: stops, and finalizes the run
            owner.send_signal(signal.SIGTERM)
            owner.wait(10)
            run_python(SET_STATUS, workspace.store_url, "r", "Canceled")
            await wait_until(pilot, lambda: node.data.run.status == S.CANCELED, "Canceled in the tree")  # type: ignore[union-attr]
            # cancel again: says why it does nothing
            await pilot.press("c")
            await wait_until(
                pilot, lambda: any("nothing to cancel" in n.message for n in app._notifications), "the notice"
            )
            assert not isinstance(app.screen, ConfirmDialog)
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()


async def test_fail_marks_the_run_with_the_reason(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(ws_store, NewRun(id="r", experiment="e", status=S.RUNNING), NewRun(id="x", experiment="e", status=S.RUNNING))
    ws_store.set_status("x", S.CANCELED)
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "r")
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog), "the fail dialog")
        await pilot.press("escape")  # declined
        await pilot.pause(0.2)
        assert ws_store.get_run("r").status == S.RUNNING
        await pilot.press("f", *"diverged [red]NaN[/]", "enter")
        await wait_until(pilot, lambda: ws_store.get_run("r").status == S.FAILED, "Failed")
        assert ws_store.get_run("r").error == "diverged [red]NaN[/]"
        await wait_until(pilot, lambda: "diverged [red]NaN[/]" in screen_text(pilot), "the error in the details")
        await select_run(pilot, screen, "x")
        await pilot.press("f")
        await wait_until(
            pilot, lambda: any("cannot be marked Failed" in n.message for n in app._notifications), "the notice"
        )
        assert not isinstance(app.screen, PromptDialog)


async def test_action_errors_are_shown(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(ws_store, NewRun(id="r", experiment="e", status=S.RUNNING))
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "r")
        # Another process cancels it meanwhile: our "fail" hits a Canceled run and must say so.
        ws_store.set_status("r", S.CANCELED)
        await pilot.press("f", "enter")
        await wait_until(
            pilot,
            lambda: any(n.severity == "error" and "fail failed" in n.message for n in app._notifications),
            "the error notification",
        )
        assert ws_store.get_run("r").status == S.CANCELED


async def test_actions_need_a_run(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(ws_store, NewRun(id="r", experiment="e", status=S.RUNNING))
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        screen.run_tree.move_cursor(screen.run_tree.experiment_node("e"))
        await pilot.pause(0.1)
        # Each key says why it does nothing. Notices expire after a few seconds (a slow machine can take longer
        # than that for all six keys), so each new notice is caught as it appears rather than counted at the end.
        seen: set[str] = set()

        def new_notice() -> bool:
            fresh = {n.message for n in app._notifications if "is an experiment" in n.message} - seen
            seen.update(fresh)
            return bool(fresh)

        for key in ("c", "f", "t", "T", "l", "m"):
            await pilot.press(key)
            await wait_until(pilot, new_notice, f"the notice for {key!r}")
            assert app.screen is screen


# ---------------------------------------------------------------------- views


async def test_log_screen_and_search(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(ws_store, NewRun(id="r", experiment="e", status=S.RUNNING))
    log = workspace.run_dir("r") / "logs" / "output.log"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {i}\n" for i in range(500)) + "needle here\n" + "tail\n", encoding="utf-8")
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "r")
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LogScreen), "the log screen")
        log_screen = app.screen
        assert isinstance(log_screen, LogScreen)
        view = log_screen.panel.view
        await wait_until(pilot, lambda: view.line_count == 502, "the log")
        assert view.following
        await pilot.press("slash", *"line 250", "enter")
        assert view.search_term == "line 250"
        await wait_until(pilot, lambda: not view.following, "the jump to the match")
        assert "line 250" in screen_text(pilot)
        await pilot.press("end")
        await wait_until(pilot, lambda: view.following, "following again")
        await pilot.press("q")
        await wait_until(pilot, lambda: app.screen is screen, "back to the main screen")


async def test_metrics_screen_charts_each_series(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(ws_store, NewRun(id="r", experiment="e", status=S.RUNNING))
    now = time.time()
    points = []
    for step in range(3000):
        points.append(("r", "loss", step, 1.0 / (step + 1), None, "scalar", now))
        points.append(("r", "acc", step, step / 3000, None, "scalar", now + 0.1))
    points.append(("r", "note", 0, None, "text", "text", now))
    ws_store.write_metrics(points)
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "r")
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, MetricsScreen), "the metrics screen")
        metrics = app.screen
        assert isinstance(metrics, MetricsScreen)
        await wait_until(pilot, lambda: len(metrics.charts) == 2, "two charts (text metrics are not charted)")
        await wait_until(pilot, lambda: all(c.steps for c in metrics.charts.values()), "their series")
        assert len(metrics.charts["loss"].steps) <= 400  # down-sampled in the store
        assert isinstance(metrics.query_one(LineChart), LineChart)
        assert "3,000 points" in screen_text(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "back")


async def test_help_palette_and_quit(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(ws_store, NewRun(id="r", experiment="e", status=S.RUNNING))
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        assert "cancel the run" in screen_text(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "help closed")
        # The palette runs what is picked: "Toggle finished runs" turns the live-only view on.
        assert not screen.view.live_only
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the command palette")
        await pilot.press(*"Toggle finished")
        await wait_until(pilot, lambda: "Toggle finished runs" in screen_text(pilot), "the command offered")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen and screen.view.live_only, "the command's effect")
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, "quit")


async def test_store_that_cannot_be_opened_is_reported(tmp_path: Path) -> None:
    from runtui.config import resolve

    bad = tmp_path / "not-a-db"
    bad.mkdir()
    (bad / "runtui.db").write_bytes(b"this is not a sqlite database" * 100)
    app = RuntuiApp(resolve(path=bad))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: any(n.severity == "error" for n in app._notifications), "the error")
        assert "cannot open the store" in screen_text(pilot)


async def test_no_color_sends_no_colour(
    workspace: WorkspaceConfig, ws_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With NO_COLOR, no segment on screen carries a colour (Textual's default would send greys); the status
    glyphs and the cursor (reverse) still say what colour said."""
    monkeypatch.setenv("NO_COLOR", "1")
    runs(
        ws_store,
        NewRun(id="r", experiment="e", status=S.RUNNING),
        NewRun(id="x", experiment="e", status=S.RUNNING),
    )
    ws_store.set_status("x", S.FAILED, error="boom")
    app = RuntuiApp(workspace)
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "x")
        await wait_until(pilot, lambda: "boom" in screen_text(pilot), "the failed run's details")
        lines = tree_lines(screen.run_tree)
        assert any(line.startswith("● r") for line in lines) and any(line.startswith("✗ x") for line in lines)
        strips = app.screen._compositor.render_strips()
        styles = [seg.style for strip in strips for seg in strip if seg.style is not None and seg.text.strip()]
        assert styles
        coloured = [
            s for s in styles if (s.color and not s.color.is_default) or (s.bgcolor and not s.bgcolor.is_default)
        ]
        assert coloured == []
        assert any(s.reverse for s in styles)  # the cursor row


# ---------------------------------------------------------------------- large stores: lazy loading


async def test_tree_loads_lazily_and_pages_older_runs(
    workspace: WorkspaceConfig, ws_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtui.store.overview import set_run_times
    from runtui.tui import data

    monkeypatch.setattr(data, "PAGE_SIZE", 5)
    specs = [
        NewRun(id=f"e{e:02d}_r{r:02d}", experiment=f"e{e:02d}", status=S.QUEUED) for e in range(40) for r in range(12)
    ]
    runs(ws_store, *specs)
    for r in range(12):
        set_run_times(ws_store, f"e07_r{r:02d}", created_at=1000.0 + r)
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        tree = screen.run_tree
        assert len(tree.root.children) == 40
        assert tree.run_count <= 3 * 5  # only the auto-opened experiments hold runs
        exp = tree.experiment_node("e07")
        assert exp is not None
        exp.expand()
        await wait_until(pilot, lambda: tree.run_node("e07_r11") is not None, "the first page")
        page = [c.data for c in exp.children]
        assert [d.run.id for d in page if isinstance(d, RunEntry)] == [f"e07_r{r:02d}" for r in (11, 10, 9, 8, 7)]
        more = exp.children[-1]
        assert "older runs" in more.label.plain  # type: ignore[union-attr]
        tree.move_cursor(more)
        await pilot.pause(0.1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: tree.run_node("e07_r02") is not None, "the second page")
        last = exp.children[-1]
        tree.move_cursor(last)
        await pilot.pause(0.1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: tree.run_node("e07_r00") is not None, "the last page")
        ids = [c.data.run.id for c in exp.children if isinstance(c.data, RunEntry)]
        assert ids == [f"e07_r{r:02d}" for r in range(11, -1, -1)]
        assert not any("older runs" in c.label.plain for c in exp.children)  # type: ignore[union-attr]


async def test_durations_of_live_runs_tick(workspace: WorkspaceConfig, ws_store: Store) -> None:
    from runtui.store.overview import set_run_times

    runs(ws_store, NewRun(id="r", experiment="e", status=S.RUNNING, display_name="ticking"))
    set_run_times(ws_store, "r", created_at=1000.0, started_at=1000.0)
    now = [1005.0]
    app = RuntuiApp(workspace, clock=lambda: now[0])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await wait_until(pilot, lambda: any("ticking" in line for line in tree_lines(screen.run_tree)), "the run")
        await wait_until(pilot, lambda: "5s" in screen_text(pilot), "5s")
        now[0] = 1000.0 + 3725
        await wait_until(pilot, lambda: "1h02m" in screen_text(pilot), "the ticked duration")


async def test_slash_in_the_log_pane_searches_the_log(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(ws_store, NewRun(id="r", experiment="e", status=S.RUNNING))
    log = workspace.run_dir("r") / "logs" / "output.log"
    log.parent.mkdir(parents=True)
    log.write_text("alpha\nbeta\ngamma\n", encoding="utf-8")
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "r")
        view = screen.log_panel.view
        await wait_until(pilot, lambda: view.line_count == 3, "the log")
        view.focus()
        await pilot.press("slash")
        await pilot.pause(0.1)
        assert not screen.has_class("filtering")  # not the run filter
        await pilot.press(*"beta", "enter")
        assert view.search_term == "beta"
        assert screen.view.text == ""


async def test_enter_expands_and_collapses(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(
        ws_store,
        NewRun(id="p", experiment="e1", status=S.QUEUED),
        NewRun(id="k", experiment="e1", status=S.QUEUED, parent_id="p"),
        NewRun(id="x", experiment="e2", status=S.QUEUED),
    )
    ws_store.set_status("p", S.CANCELED)
    ws_store.set_status("k", S.CANCELED)
    ws_store.set_status("x", S.CANCELED)
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        tree = screen.run_tree
        exp = tree.experiment_node("e1")
        assert exp is not None and not exp.is_expanded  # nothing live: everything starts closed
        tree.move_cursor(exp)
        await pilot.pause(0.1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: tree.run_node("p") is not None, "e1's runs")
        parent = tree.run_node("p")
        assert parent is not None and parent.allow_expand
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: tree.run_node("k") is not None, "the child run")
        await pilot.press("left")  # collapse p
        assert not parent.is_expanded
        await pilot.press("left")  # to the experiment
        assert tree.cursor_node is exp
        await pilot.press("enter")
        assert not exp.is_expanded


async def test_hostile_names_cannot_reach_the_terminal(workspace: WorkspaceConfig, ws_store: Store) -> None:
    # Written straight into the store (the SDK would refuse these), as a hostile or broken writer could.
    runs(
        ws_store,
        NewRun(
            id="r",
            experiment="e",
            status=S.RUNNING,
            display_name="evil\x1b]0;pwned\x07name\x1b[2J",
            tags=(("k\x1b[31m", "v\x9b2J"),),
            properties=(("p", "\x1b]52;c;aGk=\x07x"),),
        ),
    )
    ws_store.write_metrics([("r", "m\x1b[1A", 0, 1.0, None, "scalar", 1.0)])
    app = RuntuiApp(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "r")
        await wait_until(pilot, lambda: "evilname" in screen_text(pilot), "the name, cleaned")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the dialog")
        text = screen_text(pilot)
        assert "evilname" in text
        for bad in ("\x1b", "\x9b", "\x07"):
            assert bad not in text
        await pilot.press("n")
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, MetricsScreen), "metrics")
        metrics = app.screen
        assert isinstance(metrics, MetricsScreen)
        await wait_until(pilot, lambda: len(metrics.charts) == 1 and metrics.charts["m\x1b[1A"].steps, "the chart")
        chart = metrics.charts["m\x1b[1A"]
        assert str(chart.border_title) == "m"  # the name is shown, its escape sequence removed
        await wait_until(pilot, lambda: "╭─\xa0m\xa0─" in screen_text(pilot) or "╭─ m ─" in screen_text(pilot), "title")
        assert "\x1b" not in screen_text(pilot)


async def test_scrolling_to_the_top_of_a_tail_loads_older_output(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(ws_store, NewRun(id="r", experiment="e", status=S.RUNNING))
    log = workspace.run_dir("r") / "logs" / "output.log"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {i:06d} {'x' * 40}\n" for i in range(12_000)), encoding="utf-8")  # ~630 KB
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "r")
        view = screen.log_panel.view
        await wait_until(pilot, lambda: view.line_count > 1000, "the tail")
        held = view.line_count
        assert held < 12_000 and view.has_older
        assert view.raw_line(view.line_count - 1) == f"line 011999 {'x' * 40}"
        view.focus()
        for _ in range(3):
            await pilot.press("home")
            await pilot.pause(0.3)
        await wait_until(pilot, lambda: view.line_count == 12_000, "every older line")
        assert view.raw_line(0) == f"line 000000 {'x' * 40}"
        assert not view.has_older
        lines = view.plain_lines()
        assert lines == [f"line {i:06d} {'x' * 40}" for i in range(12_000)]  # nothing lost or doubled


async def test_runs_of_other_boxes_show_their_host(workspace: WorkspaceConfig, ws_store: Store) -> None:
    runs(
        ws_store,
        NewRun(id="here", experiment="hosts", status=S.RUNNING, display_name="local run", host="this-box"),
        NewRun(id="there", experiment="hosts", status=S.RUNNING, display_name="remote run", host="gpu-box-07"),
    )
    app = RuntuiApp(workspace, local_host="this-box")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "there")
        lines = tree_lines(screen.run_tree)
        remote = next(line for line in lines if "remote run" in line)
        local = next(line for line in lines if "local run" in line)
        assert "@gpu-box-07" in remote
        assert "@" not in local
