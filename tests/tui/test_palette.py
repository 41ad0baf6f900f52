"""The command palette's runtui entries: actions from the one registry run, and jumps reach runs the tree has
not loaded yet (by name, id prefix or tag)."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from tui_helpers import screen_text, wait_until

from runtui.config import WorkspaceConfig
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.tui import keymap
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.main import MainScreen

S = RunStatus
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


async def palette(pilot, app: RuntuiApp, text: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
    await pilot.press(*text)
    await wait_until(pilot, lambda: shown in screen_text(pilot), f"{shown!r} offered")
    await pilot.press("enter")


async def test_jump_to_a_run_by_name_and_by_tag(workspace: WorkspaceConfig, ws_store: Store) -> None:
    ws_store.create_runs(
        [
            NewRun(id="p1", experiment="sweep", status=S.RUNNING, display_name="sweep-parent"),
            NewRun(id="k1", experiment="sweep", status=S.RUNNING, parent_id="p1", display_name="needle-child"),
            NewRun(id="o1", experiment="other", status=S.RUNNING, display_name="tagged-one", tags=(("golden", None),)),
        ]
    )
    for run_id in ("k1", "p1", "o1"):
        ws_store.set_status(run_id, S.COMPLETED)  # nothing opens by itself
    app = RuntuiApp(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.loaded, "the tree")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.run_tree.run_node("k1") is None  # a child inside a closed experiment: not loaded
        await palette(pilot, app, "needle", "needle-child")
        await wait_until(pilot, lambda: screen.run_tree.selected_run is not None, "a run selected")
        await wait_until(pilot, lambda: screen.run_tree.selected_run.id == "k1", "the child")  # type: ignore[union-attr]
        await wait_until(pilot, lambda: screen.details.run_id == "k1", "its details")
        await palette(pilot, app, "golden", "tagged-one")
        await wait_until(pilot, lambda: screen.details.run_id == "o1", "the tagged run")


def test_one_registry_feeds_bindings_help_and_readme() -> None:
    from runtui.tui.screens.help import help_renderable

    keys = {b.key for b in MainScreen.BINDINGS}  # type: ignore[union-attr]
    for action in keymap.main_actions():
        assert action.keys in keys
        assert hasattr(MainScreen, f"action_{action.action}"), action.action
    table = keymap.markdown_key_map()
    assert "| `y` | copy the run's id" in table
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(help_renderable())
    text = console.export_text()
    for action in keymap.ACTIONS:
        assert action.help in text


def test_readme_key_map_is_the_registry() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert keymap.markdown_key_map() in readme  # regenerate with scripts/screenshots.py
