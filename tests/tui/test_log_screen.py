"""The full-screen log (`l`): its header tells the truth about the log (following, paused, ended, no log)."""

from __future__ import annotations

import pytest
from test_app import select_run, started
from tui_helpers import run_python, screen_text, wait_until

from runtui.config import WorkspaceConfig
from runtui.status import RunStatus as S
from runtui.store import NewRun, Store
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.log import LogScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

COMPLETE = (
    "import sys\nfrom runtui.store import open_store\nfrom runtui.status import RunStatus\n"
    "open_store(sys.argv[1]).set_status(sys.argv[2], RunStatus.COMPLETED)"
)
APPEND = "import sys\nwith open(sys.argv[1], 'a') as f: f.write(sys.argv[2] + '\\n')"


async def test_the_l_header_follows_pauses_and_ends(workspace: WorkspaceConfig, ws_store: Store) -> None:
    ws_store.create_runs([NewRun(id="sub", experiment="e", status=S.RUNNING, kind="submitted", script="t.py")])
    log = workspace.run_dir("sub") / "logs" / "output.log"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"epoch {i}\n" for i in range(60)), encoding="utf-8")
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "sub")
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LogScreen), "the log screen")
        log_screen = app.screen
        assert isinstance(log_screen, LogScreen)
        panel = log_screen.panel
        await wait_until(pilot, lambda: "epoch 59" in screen_text(pilot), "the log's end")
        assert "following" in panel.title_text

        run_python(APPEND, str(log), "a new line")
        await wait_until(pilot, lambda: "a new line" in screen_text(pilot), "the appended line on screen")
        assert "following" in panel.title_text

        await pilot.press("pageup")
        await wait_until(pilot, lambda: "paused" in panel.title_text, "paused when scrolled up")
        assert "a new line" not in screen_text(pilot)
        await pilot.press("G")
        await wait_until(pilot, lambda: "following" in panel.title_text, "following again")

        run_python(COMPLETE, workspace.store_url, "sub")
        await wait_until(pilot, lambda: "ended (Completed)" in panel.title_text, "ended", timeout=10)
        assert "following" not in panel.title_text
        assert "ended (Completed)" in screen_text(pilot)


async def test_the_l_header_says_why_an_interactive_run_has_no_log(workspace: WorkspaceConfig, ws_store: Store) -> None:
    ws_store.create_runs([NewRun(id="inter", experiment="e", status=S.RUNNING, kind="interactive")])
    app = RuntuiApp(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, app)
        await select_run(pilot, screen, "inter")
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LogScreen), "the log screen")
        log_screen = app.screen
        assert isinstance(log_screen, LogScreen)
        await wait_until(
            pilot, lambda: "no log for interactive runs" in log_screen.panel.title_text, "no log for this kind"
        )
