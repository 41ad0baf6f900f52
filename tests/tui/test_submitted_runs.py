"""The TUI acting on real submitted runs: a supervisor process runs a real script, the TUI cancels or fails it."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_helpers import record_notices, screen_text, stop_leftover_processes, wait_until

from runtui.config import WorkspaceConfig
from runtui.execution.process_tree import ProcessIdentity
from runtui.status import RunStatus
from runtui.store import RunRecord, Store
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.dialogs import ConfirmDialog, PromptDialog
from runtui.tui.screens.main import MainScreen
from runtui.tui.widgets.run_tree import RunEntry

S = RunStatus
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180)]

SCRIPT = """
import time
print("hello from the script", flush=True)
for i in range(100000):
    print(f"tick {i}", flush=True)
    time.sleep(0.2)
"""


@pytest.fixture
def submitted(workspace: WorkspaceConfig, ws_store: Store, tmp_path: Path) -> Iterator[RunRecord]:
    from runtui.execution.launch import submit_run

    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text(textwrap.dedent(SCRIPT), encoding="utf-8")
    rec = submit_run(
        ws_store,
        workspace,
        experiment="real",
        source_directory=src,
        script="train.py",
        arguments=["--epochs", "3"],
        environment_variables={},
        python=None,
        tags={},
        display_name="real script",
        grace_period=3.0,
    )
    try:
        yield rec
    finally:
        stop_leftover_processes(ws_store)


async def open_run(pilot, app: RuntuiApp, run_id: str) -> MainScreen:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: any(isinstance(s, MainScreen) for s in app.screen_stack), "main screen")
    screen = next(s for s in app.screen_stack if isinstance(s, MainScreen))
    await wait_until(pilot, lambda: screen.loaded, "data")
    await wait_until(pilot, lambda: screen.run_tree.run_node(run_id) is not None, "the submitted run")
    screen.run_tree.move_cursor(screen.run_tree.run_node(run_id))
    await wait_until(pilot, lambda: screen.details.run_id == run_id and screen.details.details is not None, "details")
    return screen


def status_in_tree(screen: MainScreen, run_id: str) -> RunStatus | None:
    node = screen.run_tree.run_node(run_id)
    return node.data.run.status if node is not None and isinstance(node.data, RunEntry) else None


async def test_cancel_stops_a_real_running_script(
    workspace: WorkspaceConfig, ws_store: Store, submitted: RunRecord
) -> None:
    app = RuntuiApp(workspace)
    notices = record_notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_run(pilot, app, submitted.id)
        await wait_until(pilot, lambda: status_in_tree(screen, submitted.id) == S.RUNNING, "Running", timeout=60)
        view = screen.log_panel.view
        await wait_until(pilot, lambda: "hello from the script" in view.plain_lines(), "the script's output")
        await wait_until(pilot, lambda: any(line.startswith("tick 3") for line in view.plain_lines()), "more output")
        script = ws_store.get_run(submitted.id)
        assert script.pid is not None and script.pid_create_time is not None
        ident = ProcessIdentity(script.pid, script.pid_create_time)
        assert ident.is_alive()

        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        await pilot.press("y")
        # (CancelRequested may show only briefly: the supervisor acts within milliseconds)
        await wait_until(pilot, lambda: status_in_tree(screen, submitted.id) == S.CANCELED, "Canceled", timeout=60)
        assert ws_store.get_run(submitted.id).status == S.CANCELED
        await wait_until(pilot, lambda: not ident.is_alive(), "the script process to be gone", timeout=30)
        assert "⊘" in screen_text(pilot)
        assert any("cancel requested" in m for m in notices)
        # then the real outcome, once the owner has acted (not before: the request alone proves nothing)
        await wait_until(pilot, lambda: any("Canceled, its work stopped" in m for m in notices), "outcome", timeout=30)


async def test_fail_marks_a_real_running_script(
    workspace: WorkspaceConfig, ws_store: Store, submitted: RunRecord
) -> None:
    app = RuntuiApp(workspace)
    notices = record_notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_run(pilot, app, submitted.id)
        await wait_until(pilot, lambda: status_in_tree(screen, submitted.id) == S.RUNNING, "Running", timeout=60)
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog), "the fail dialog")
        await pilot.press(*"data is corrupt", "enter")
        await wait_until(pilot, lambda: status_in_tree(screen, submitted.id) == S.FAILED, "Failed in the tree")
        rec = ws_store.get_run(submitted.id)
        assert rec.status == S.FAILED and rec.error is not None and "data is corrupt" in rec.error
        assert any("marked Failed" in m for m in notices)
