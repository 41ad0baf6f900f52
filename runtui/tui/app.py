"""The runtui Textual app: thin. It holds the workspace, the store and the clock; screens do the work."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen

from runtui.config import WorkspaceConfig
from runtui.identity import current_host

if TYPE_CHECKING:
    from runtui.store import Store


class RuntuiApp(App[None]):
    """Live tree of runs with their details, log and metrics, and keys to act on them."""

    CSS_PATH = "app.tcss"
    TITLE = "runtui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        config: WorkspaceConfig,
        *,
        clock: Callable[[], float] = time.time,
        live: bool = True,
        local_host: str | None = None,
    ) -> None:
        """`clock` gives "now" for durations (tests pin it); `live=False` turns off the change feed;
        `local_host` is this box's name (runs of other boxes are marked in the tree; demo stores pin it)."""
        super().__init__()
        self.config = config
        self.clock = clock
        self.live = live
        self.local_host = local_host if local_host is not None else current_host()
        self._store: Store | None = None
        self._store_lock = threading.Lock()

    def open_store(self) -> Store:
        """Open the store (imports SQLAlchemy: call it from a worker thread)."""
        with self._store_lock:
            if self._store is None:
                from runtui.store import open_store

                self._store = open_store(self.config.store_url)
            return self._store

    @property
    def store(self) -> Store:
        return self._store if self._store is not None else self.open_store()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is shown as plain text with control characters removed: messages carry run
        names, tags and error texts, which may hold anything."""
        from runtui.terminal_text import strip_controls

        super().notify(
            strip_controls(message), title=strip_controls(title), severity=severity, timeout=timeout, markup=markup
        )

    def on_mount(self) -> None:
        from runtui.tui.screens.main import MainScreen

        self.push_screen(MainScreen())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from runtui.tui.screens.main import MainScreen

        if isinstance(screen, MainScreen):
            yield SystemCommand("Cancel run", "Cancel the highlighted run (asks first)", screen.action_cancel_run)
            yield SystemCommand("Fail run", "Mark the highlighted run Failed (asks first)", screen.action_fail_run)
            yield SystemCommand("Tag run", "Add or change a tag: key=value or key", screen.action_tag_run)
            yield SystemCommand("Remove tag", "Remove a tag from the highlighted run", screen.action_untag_run)
            yield SystemCommand("Filter runs", "Filter with the filter language", screen.action_open_filter)
            yield SystemCommand("Clear filter", "Show every run again", screen.action_clear_filter)
            yield SystemCommand("Toggle finished runs", "Show only live runs, or all", screen.action_toggle_finished)
            yield SystemCommand("Show log", "Full-screen log of the highlighted run", screen.action_show_log)
            yield SystemCommand("Show metrics", "Charts of the highlighted run's metrics", screen.action_show_metrics)
            yield SystemCommand("Help", "Every key and the filter language", screen.action_help)
        yield from super().get_system_commands(screen)
