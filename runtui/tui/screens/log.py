"""The `l` screen: one run's log, full screen, following and searchable."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, Static

from runtui.terminal_text import strip_controls
from runtui.tui.formatting import STATUS_GLYPH, status_style
from runtui.tui.screens.opaque import OpaqueScreen
from runtui.tui.widgets.log_view import LogPanel

if TYPE_CHECKING:
    from runtui.store.records import RunRecord

STATUS_S = 2.0  # how often the status of a live run is re-read (the header says when its log ended)


class LogScreen(OpaqueScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("l", "close", "Back", show=False),
    ]

    class StatusRead(Message):
        def __init__(self, run: RunRecord) -> None:
            super().__init__()
            self.run = run

    def __init__(self, run: RunRecord, run_dir: Path) -> None:
        super().__init__()
        self.run = run
        self.run_dir = run_dir
        self.panel = LogPanel(id="log-panel")
        self._title = Static("", classes="screen-title")
        self._status_timer: Timer | None = None

    def _title_text(self) -> Text:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(" " + STATUS_GLYPH[self.run.status] + " ", style=status_style(self.run.status, self.app.no_color))
        title.append(strip_controls(self.run.name), style="bold")
        title.append(f"  {self.run.id}", style="dim")
        return title

    def compose(self) -> ComposeResult:
        self._title.update(self._title_text())
        yield self._title
        yield self.panel
        yield Footer()

    def on_mount(self) -> None:
        self.panel.follow(self.run_dir, self.run)
        self.panel.view.focus()
        if self.run.status.is_live:
            self._status_timer = self.set_interval(STATUS_S, self._read_status)

    def _read_status(self) -> None:
        if self.app.screen is self:  # not `is_current`: true under another screen too (Textual's rule)
            self._read()

    @work(thread=True, exclusive=True, group="log-status", exit_on_error=False)
    def _read(self) -> None:
        with contextlib.suppress(Exception):  # the status word is a nicety; the log itself reports its errors
            self.post_message(self.StatusRead(self.app.store.get_run(self.run.id)))  # type: ignore[attr-defined]

    def on_log_screen_status_read(self, message: LogScreen.StatusRead) -> None:
        if message.run.status != self.run.status:
            self.run = message.run
            self._title.update(self._title_text(), layout=False)
            self.panel.set_run(message.run)
            if self.run.status.is_terminal and self._status_timer is not None:
                self._status_timer.stop()

    def action_close(self) -> None:
        self.dismiss(None)
