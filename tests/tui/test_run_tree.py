"""The run tree's labels: one format at every width, the metric's name always beside its value, names cut by
terminal cells (wide characters count double), never past the line."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from tui_helpers import wait_until

from runtui.config import WorkspaceConfig
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.tui.app import RuntuiApp
from runtui.tui.data import RunInfo
from runtui.tui.formatting import format_number
from runtui.tui.screens.main import MainScreen
from runtui.tui.widgets.run_tree import RunEntry

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


async def test_labels_keep_one_format_and_fit_by_cell_width(workspace: WorkspaceConfig, ws_store: Store) -> None:
    ws_store.create_runs(
        [
            NewRun(id="w", experiment="e", status=RunStatus.RUNNING, display_name="学習率スイープ実験その一番目"),
            NewRun(id="n", experiment="e", status=RunStatus.RUNNING, display_name="lr=0.1"),
        ]
    )
    app = RuntuiApp(workspace, clock=lambda: 2e9)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.loaded, "the tree")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        tree = screen.run_tree
        wide, narrow = ws_store.get_run("w"), ws_store.get_run("n")
        for width in (20, 30, 44, 60):
            for record, value in ((wide, 2.102), (narrow, 0.1382), (narrow, 123456.5)):
                label = tree._run_label(RunEntry(RunInfo(record, ("loss", value))), width)
                plain = label.plain
                assert cell_len(plain) <= width, (width, plain)
                shown = format_number(value)
                if width >= 30:
                    assert shown in plain, (width, plain)
                if shown in plain:  # never a bare value: the metric's name (or its cut) is right before it
                    before = plain[: plain.index(" " + shown)]
                    assert before.endswith(("loss", "…")), (width, plain)
        cut = tree._run_label(RunEntry(RunInfo(wide, ("loss", 2.102))), 30).plain
        assert "…" in cut and cut.startswith("● 学習")
        assert "学習率スイープ実験その一番目" in tree._run_label(RunEntry(RunInfo(wide, None)), 60).plain
