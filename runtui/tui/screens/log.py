"""The `l` screen: one run's log, full screen, following and searchable."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from runtui.terminal_text import strip_controls
from runtui.tui.formatting import STATUS_GLYPH, status_style
from runtui.tui.widgets.log_view import LogPanel

if TYPE_CHECKING:
    from runtui.store.records import RunRecord


class LogScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("l", "close", "Back", show=False),
    ]

    def __init__(self, run: RunRecord, run_dir: Path) -> None:
        super().__init__()
        self.run = run
        self.run_dir = run_dir
        self.panel = LogPanel(id="log-panel")

    def compose(self) -> ComposeResult:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(" " + STATUS_GLYPH[self.run.status] + " ", style=status_style(self.run.status, self.app.no_color))
        title.append(strip_controls(self.run.name), style="bold")
        title.append(f"  {self.run.id}", style="dim")
        yield Static(title, classes="screen-title")
        yield self.panel
        yield Footer()

    def on_mount(self) -> None:
        self.panel.follow(self.run_dir)
        self.panel.view.focus()

    def action_close(self) -> None:
        self.dismiss(None)
