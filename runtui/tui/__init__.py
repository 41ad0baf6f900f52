"""The Textual TUI. Importing this package imports nothing heavy; `run_app` loads Textual when called."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtui.config import WorkspaceConfig


def run_app(config: WorkspaceConfig) -> None:
    """Run the TUI on the workspace `config` until the user quits (what `runtui` / `runtui ui` call)."""
    from runtui.tui.app import RuntuiApp

    RuntuiApp(config).run()


__all__ = ["run_app"]
