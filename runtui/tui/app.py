"""The runtui Textual app: thin. It holds the workspace, the store and the clock; screens do the work."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel

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
        remember: bool | None = None,
    ) -> None:
        """`clock` gives "now" for durations (tests pin it); `live=False` turns off the change feed;
        `local_host` is this box's name (runs of other boxes are marked in the tree; demo stores pin it)."""
        super().__init__()
        from runtui.tui.partial_lines import install

        install()  # a changed digit goes out as that digit, not as the line up to it (bytes on the wire)
        if self.no_color:
            # Textual's NO_COLOR maps colours to greys (still colour codes on the wire, and red on a dark
            # background nearly vanishes); NO_COLOR asks for none: keep only attributes (bold, reverse).
            from textual.filter import Monochrome, NoColor

            self._filters = [NoColor() if isinstance(f, Monochrome) else f for f in self._filters]
        self.config = config
        self.clock = clock
        self.live = live
        # Theme, filter and open experiments carry over between sessions (not for pinned, non-live pictures).
        self.remember = live if remember is None else remember
        from runtui.tui.state import TuiState, load_state

        self.saved = load_state(config.home) if self.remember else TuiState()
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
    def store_opened(self) -> bool:
        return self._store is not None

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

        if self.saved.theme is not None and self.saved.theme in self.available_themes:
            self.theme = self.saved.theme
        if self.saved.problem is not None:
            self.notify(self.saved.problem, severity="warning", markup=False)
        self.push_screen(MainScreen())

    def remember_state(self, filter_text: str, live_only: bool, open_keys: set[str] | None) -> None:
        """Save what the next session starts with (best effort: a read-only home only loses the memory)."""
        if not self.remember:
            return
        from runtui.tui.state import TuiState

        state = TuiState(self.theme, filter_text, live_only, sorted(open_keys) if open_keys is not None else None)
        try:
            state.save(self.config.home)
        except OSError as exc:
            self.log.warning(f"cannot save the TUI's state: {exc}")
