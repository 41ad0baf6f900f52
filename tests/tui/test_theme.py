"""Colours come from the theme: switching theme (the palette's "Change theme") recolours the status glyphs in
the tree and the details; NO_COLOR sends none and keeps failed runs bold."""

from __future__ import annotations

from typing import Any

import pytest
from rich.style import Style
from textual.color import Color
from tui_helpers import wait_until

from runtui.config import WorkspaceConfig
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.tui.app import RuntuiApp
from runtui.tui.screens.main import MainScreen

S = RunStatus
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def glyph_style(strips: Any, glyph: str) -> Style:
    for strip in strips:
        for segment in strip:
            if glyph in segment.text and segment.style is not None:
                return segment.style
    raise AssertionError(f"{glyph} not on screen")


def theme_color(app: RuntuiApp, variable: str) -> tuple[int, int, int]:
    return Color.parse(app.theme_variables[variable]).rgb


def rgb(style: Style) -> tuple[int, int, int]:
    assert style.color is not None and style.color.triplet is not None
    return tuple(style.color.triplet)  # type: ignore[return-value]


async def test_a_theme_switch_recolours_status_glyphs(workspace: WorkspaceConfig, ws_store: Store) -> None:
    """Before: the glyphs were Rich colour names in Python (green, red), the same in every theme."""
    ws_store.create_runs(
        [
            NewRun(id="ok", experiment="e", status=S.COMPLETED, display_name="done"),
            NewRun(id="bad", experiment="e", status=S.FAILED, display_name="broke"),
        ]
    )
    app = RuntuiApp(workspace, live=False, remember=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.loaded, "the first data")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await wait_until(pilot, lambda: screen.run_tree.run_node("bad") is not None, "the runs")
        screen.run_tree.move_cursor(screen.run_tree.run_node("ok"))
        await wait_until(pilot, lambda: screen.details.details is not None, "the details")
        await pilot.pause(0.1)

        for theme in ("textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause(0.2)
            strips = screen._compositor.render_strips()
            assert rgb(glyph_style(strips, "✗")) == theme_color(app, "error"), theme
            head = screen.details._parts["head"]
            assert rgb(glyph_style([head.render_line(0)], "✓")) == theme_color(app, "success"), theme
        assert theme_color(app, "error") != Color.parse(app.get_theme("textual-dark").error).rgb  # type: ignore[union-attr]


async def test_no_color_keeps_failures_bold(workspace: WorkspaceConfig, ws_store: Store, monkeypatch: Any) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    ws_store.create_runs([NewRun(id="bad", experiment="e", status=S.FAILED, display_name="broke")])
    app = RuntuiApp(workspace, live=False, remember=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.loaded, "the first data")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await wait_until(pilot, lambda: screen.run_tree.run_node("bad") is not None, "the run")
        await pilot.pause(0.1)
        assert glyph_style(screen._compositor.render_strips(), "✗").bold
