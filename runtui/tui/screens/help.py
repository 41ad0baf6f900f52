"""The `?` help screen: every key, the status glyphs, and the filter language in brief."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from runtui.status import RunStatus
from runtui.tui import keymap
from runtui.tui.formatting import STATUS_GLYPH
from runtui.tui.theme import Ink, component_classes, ink_of, plain_ink, status_ink

FILTER_EXAMPLES: list[tuple[str, str]] = [
    ("resnet", "name, id or experiment contains it"),
    ("status:running", "statuses: running, failed, live, finished, …"),
    ("tag:best  tag:lr=0.1", "has tag / tag has value"),
    ("prop:author=alice", "property has value"),
    ("metric:loss<0.1", "last value of a metric (< <= > >= = !=)"),
    ("host:gpu01 user:alice", "host contains / user is"),
    ("a and (b or not c)", "combine; side by side means and"),
]


def help_renderable(ink: Ink = plain_ink) -> Group:
    """The help's text; `ink` colours the status legend from the theme (none by default)."""
    keys = Table(box=None, padding=(0, 2), show_header=False)
    keys.add_column(style=ink("accent") + Style(bold=True), no_wrap=True)
    keys.add_column()
    for key, what in keymap.key_rows():
        keys.add_row(Text(key), Text(what))
    legend = Text()
    for status in RunStatus:
        if legend:
            legend.append("  ")
        legend.append(STATUS_GLYPH[status], style=status_ink(ink, status))
        legend.append(" " + status.value)
    filters = Table(box=None, padding=(0, 2), show_header=False)
    filters.add_column(style="bold", no_wrap=True)
    filters.add_column()
    for example, what in FILTER_EXAMPLES:
        filters.add_row(Text(example), Text(what))
    return Group(
        Text("Keys", style="bold underline"),
        keys,
        Text(""),
        Text("Statuses", style="bold underline"),
        legend,
        Text(""),
        Text("Filter (/)", style="bold underline"),
        filters,
    )


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = component_classes("help")
    """`help--accent` (keys), `help--success`, `help--error`, ... (the status legend, by role)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("runtui help", style="bold"), id="help-title")
            yield Static(id="help-body")
            yield Static(Text("esc / q / ?: close", style="dim"), id="help-hint")

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()
        self.query_one("#help-body", Static).update(help_renderable(ink_of(self, "help")))

    def action_close(self) -> None:
        self.dismiss(None)
