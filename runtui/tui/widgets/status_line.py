"""The main screen's top line: what the tree shows (how many experiments or matching runs), the filter, live-only,
or the problem that stops live updates. Reactive: the screen sets attributes, the line repaints itself when
what it says changed (an identical repaint still costs bytes on the wire), and no timer polls anything.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive

from runtui.tui.theme import ink_of
from runtui.tui.widgets.cell_lines import CellLines


class StatusLine(CellLines):
    """One line of state above the tree."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-line--brand",
        "status-line--error",
        "status-line--filter",
        "status-line--live",
        "status-line--dim",
    }
    """
    | Class | Description |
    | :- | :- |
    | `status-line--brand` | The ` runtui ` mark. |
    | `status-line--error` | A problem (the store cannot be read, live updates paused). |
    | `status-line--filter` | The filter's text. |
    | `status-line--live` | "live only" (`a`). |
    | `status-line--dim` | Labels and "loading…". |
    """

    problem: reactive[str | None] = reactive(None, layout=False, repaint=False)
    """What went wrong, shown instead of the counts (None: nothing)."""
    loaded: reactive[bool] = reactive(False, layout=False, repaint=False)
    """The tree shows its first data."""
    summary: reactive[str] = reactive("", layout=False, repaint=False)
    """What the tree holds: `3 experiments` or `12 runs shown`."""
    filter_text: reactive[str] = reactive("", layout=False, repaint=False)
    """The filter in force ("" for none)."""
    live_only: reactive[bool] = reactive(False, layout=False, repaint=False)
    """Finished runs are hidden (`a`)."""

    def text(self) -> Text:
        ink = ink_of(self, "status-line")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" runtui ", style=ink("brand"))
        if self.problem is not None:
            text.append(" " + self.problem, style=ink("error") + Style(bold=True))
        elif not self.loaded:
            text.append(" loading…", style=ink("dim"))
        else:
            text.append(" " + self.summary)
            if self.filter_text:
                text.append("  filter ", style=ink("dim"))
                text.append(self.filter_text, style=ink("filter"))
            if self.live_only:
                text.append("  live only", style=ink("live"))
        return text

    def _changed(self) -> None:
        self.update(self.text())  # only the cells that changed are sent

    def on_mount(self) -> None:
        self._changed()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self._changed()

    def watch_problem(self) -> None:
        self._changed()

    def watch_loaded(self) -> None:
        self._changed()

    def watch_summary(self) -> None:
        self._changed()

    def watch_filter_text(self) -> None:
        self._changed()

    def watch_live_only(self) -> None:
        self._changed()
