"""The log view's cost on the wire: a followed line costs about one row, not a repaint of the view."""

from __future__ import annotations

import pytest
from test_app import main_screen, select_run, started
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from tui_helpers import screen_text, wait_until
from wire import WireCounter

from runtui.config import WorkspaceConfig
from runtui.status import RunStatus as S
from runtui.store import NewRun, Store
from runtui.tui.app import RuntuiApp
from runtui.tui.logtail import TailChunk
from runtui.tui.screens.log import LogScreen
from runtui.tui.widgets.log_view import LogView

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


class OneLog(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView(id="log")


async def _settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.pause(0.05)


async def test_a_followed_line_costs_about_one_row() -> None:
    app = OneLog()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        view.append_chunk(TailChunk(lines=[f"line {i}" for i in range(40)], reset=True))
        await wait_until(pilot, lambda: "line 39" in screen_text(pilot), "the first batch")
        await pilot.pause(0.2)  # the opening frames are out
        wire = WireCounter(app)
        full = 0
        for i in range(40, 80):
            view.append_chunk(TailChunk(lines=[f"line {i} loss 0.{i:04d}"]))
            await _settle(pilot)
            text = screen_text(pilot)
            assert f"line {i} loss" in text, f"line {i} is not on screen while following"
            assert view.following
            full = max(full, len(wire.frames[-1]) if wire.frames else 0)
        per_line = wire.bytes / 40
        # a repaint of the 24 rows is ~2.5 kB here; one row ~100 B. Jumps (a repaint per half view) average in.
        assert per_line < 500, f"{per_line:.0f} bytes per appended line (a full repaint each time?)"
        wire.reset()
        await pilot.pause(0.5)
        assert wire.bytes == 0, "nothing changed, yet bytes were sent"


async def test_lines_that_fit_repaint_only_their_rows() -> None:
    app = OneLog()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        view.append_chunk(TailChunk(lines=["first"], reset=True))
        await wait_until(pilot, lambda: "first" in screen_text(pilot), "the first line")
        await pilot.pause(0.2)  # the opening frames are out
        wire = WireCounter(app)
        view.append_chunk(TailChunk(lines=["second"], partial="progress 10%"))
        await _settle(pilot)
        view.append_chunk(TailChunk(lines=[], partial="progress 99%"))
        await _settle(pilot)
        assert "progress 99%" in screen_text(pilot) and "second" in screen_text(pilot)
        assert wire.bytes < 600, f"{wire.bytes} bytes for two rows"


async def test_a_reader_who_scrolled_up_stays_put_and_comes_back_to_following() -> None:
    app = OneLog()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        view.focus()
        view.append_chunk(TailChunk(lines=[f"line {i}" for i in range(100)], reset=True))
        await wait_until(pilot, lambda: "line 99" in screen_text(pilot), "the end")
        await pilot.press("pageup")
        await wait_until(pilot, lambda: not view.following, "paused")
        top = view.scroll_y
        await pilot.pause(0.2)
        wire = WireCounter(app)
        view.append_chunk(TailChunk(lines=["newer"]))
        await _settle(pilot)
        assert view.scroll_y == top and "newer" not in screen_text(pilot)
        # nothing on screen changed but the scrollbar (a repaint of the view was ~3 kB)
        assert wire.bytes < 1000, f"{wire.bytes} bytes for a line below the rows shown"
        await pilot.press("G")
        await wait_until(pilot, lambda: view.following and "newer" in screen_text(pilot), "following again")
        view.append_chunk(TailChunk(lines=[f"more {i}" for i in range(30)]))
        await _settle(pilot)
        assert "more 29" in screen_text(pilot)


async def test_an_idle_log_screen_sends_nothing_while_the_main_screen_below_changes(
    workspace: WorkspaceConfig, ws_store: Store
) -> None:
    """Textual counts the main screen as visible under the `l` view; its changes used to repaint the view."""
    ws_store.create_runs([NewRun(id="r", experiment="e", status=S.COMPLETED)])
    log = workspace.run_dir("r") / "logs" / "output.log"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {i}\n" for i in range(50)), encoding="utf-8")
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "r")
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LogScreen), "the log screen")
        log_screen = app.screen
        assert isinstance(log_screen, LogScreen)
        await wait_until(pilot, lambda: "line 49" in screen_text(pilot), "the log's end")
        await pilot.pause(0.5)
        wire = WireCounter(app)
        main = main_screen(app)
        main.refresh(layout=True)  # what a change below does (seen ~5 s after opening `l` on a finished run)
        for widget in main.query("*"):
            widget.refresh()
        await pilot.pause(0.5)
        assert wire.bytes == 0, f"{wire.bytes} bytes sent for changes on the hidden main screen"
        log_screen.panel.view.refresh()  # the view's own repaints still go out
        await pilot.pause(0.2)
        assert wire.bytes > 0


async def test_a_line_wider_than_the_view_does_not_hide_the_first_line() -> None:
    """A progress bar wider than the view brings the horizontal scrollbar: the room kept below the last line must
    shrink with it, or the anchor scrolls by one row and the log's first line is hidden (seen with tqdm at
    80x24 in `runtui demo`)."""
    app = OneLog()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LogView)
        view.append_chunk(TailChunk(lines=["training resnet18"], reset=True))
        await wait_until(pilot, lambda: "training resnet18" in screen_text(pilot), "the first line")
        bar = "epoch 1/4:  26%|" + "█" * 40 + "| 32/120 [00:16<00:44,  2.00it/s, loss=1.986]"
        for _ in range(3):
            view.append_chunk(TailChunk(lines=[], partial=bar))
            await _settle(pilot)
        view.append_chunk(TailChunk(lines=[bar], partial="epoch 2/4:   1%|"))
        await _settle(pilot)
        await pilot.pause(0.2)
        text = screen_text(pilot)
        assert "training resnet18" in text, "the first line scrolled out of a view with rows to spare"
        assert view.scroll_y == 0 and view.following
