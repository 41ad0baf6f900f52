"""The TUI on a store shared by several hosts: the log pane of another host's run reads the store's copy (the
run's files are not on this host), and the monitor marks a run whose host stopped heart-beating NotResponding."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tui_helpers import wait_until

from runtui import config
from runtui.status import RunStatus
from runtui.store import NewRun, open_store
from runtui.tui.app import RuntuiApp
from runtui.tui.screens import main as main_module
from runtui.tui.screens.main import MainScreen

S = RunStatus
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


async def _started(pilot, app: RuntuiApp) -> MainScreen:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: any(isinstance(s, MainScreen) for s in app.screen_stack), "the main screen")
    screen = next(s for s in app.screen_stack if isinstance(s, MainScreen))
    await wait_until(pilot, lambda: screen.loaded, "the first data")
    return screen


async def test_log_pane_of_another_hosts_run_reads_the_store(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if store_url.startswith("sqlite"):
        pytest.skip("log copies live in a shared (PostgreSQL) store")
    monkeypatch.setenv("RUNTUI_HOST", "boxB")
    ws = config.resolve(path=tmp_path / "boxB", store_url=store_url)
    store = open_store(store_url)
    run_id = "remote_1_00000001"
    store.create_runs([NewRun(id=run_id, experiment="remote", status=S.RUNNING, host="boxA", kind="submitted")])
    store.append_log(run_id, "epoch 1 from boxA\nepoch 2 ", 0)
    store.append_log(run_id, "done\n", len(b"epoch 1 from boxA\nepoch 2 "))

    app = RuntuiApp(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _started(pilot, app)
        exp = screen.run_tree.experiment_node("remote")
        assert exp is not None
        exp.expand()
        await wait_until(pilot, lambda: screen.run_tree.run_node(run_id) is not None, "the run")
        screen.run_tree.move_cursor(screen.run_tree.run_node(run_id))
        view = screen.log_panel.view
        await wait_until(pilot, lambda: "epoch 2 done" in view.plain_lines(), "the store's copy of the log")
        assert view.plain_lines()[:2] == ["epoch 1 from boxA", "epoch 2 done"]
        assert screen.log_panel.path is not None and screen.log_panel.path.name == "boxA:output.log"

        store.append_log(run_id, "epoch 3 arrives later\n", store.log_extent(run_id) or 0)
        await wait_until(pilot, lambda: "epoch 3 arrives later" in view.plain_lines(), "the new chunk")
    assert not ws.run_dir(run_id).exists()


async def test_the_monitor_marks_a_silent_host_not_responding(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTUI_HOST", "boxB")
    monkeypatch.setattr(main_module, "SWEEP_S", 0.2)
    ws = config.resolve(path=tmp_path / "boxB", store_url=store_url)
    store = open_store(store_url)
    silent, alive = "silent_1_00000001", "alive_1_00000002"
    store.create_runs(
        [
            NewRun(id=silent, experiment="hosts", status=S.RUNNING, host="boxA", owner_pid=1, owner_create_time=1.0),
            NewRun(id=alive, experiment="hosts", status=S.RUNNING, host="boxC", owner_pid=1, owner_create_time=1.0),
        ]
    )
    store.heartbeat([silent], now=time.time() - 600)  # boxA went quiet ten minutes ago; boxC beat just now

    app = RuntuiApp(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _started(pilot, app)
        await wait_until(
            pilot, lambda: store.get_run(silent).status == S.NOT_RESPONDING, "the sweep to mark the silent run"
        )
        exp = screen.run_tree.experiment_node("hosts")
        assert exp is not None
        exp.expand()
        await wait_until(
            pilot,
            lambda: (node := screen.run_tree.run_node(silent)) is not None and node.data.run.status == S.NOT_RESPONDING,  # type: ignore[union-attr]
            "the tree to show it",
        )
        assert store.get_run(alive).status == S.RUNNING
