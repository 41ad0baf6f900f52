"""The `?` help screen: every key, the status glyphs, and the filter language in brief."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from runtui.status import RunStatus
from runtui.tui import keymap
from runtui.tui.formatting import STATUS_GLYPH, status_style

FILTER_EXAMPLES: list[tuple[str, str]] = [
    ("resnet", "name, id or experiment contains it"),
    ("status:running", "statuses: running, failed, live, finished, …"),
    ("tag:best  tag:lr=0.1", "has tag / tag has value"),
    ("prop:author=alice", "property has value"),
    ("metric:loss<0.1", "last value of a metric (< <= > >= = !=)"),
    ("host:gpu01 user:alice", "host contains / user is"),
    ("a and (b or not c)", "combine; side by side means and"),
]


def help_renderable() -> Group:
    keys = Table(box=None, padding=(0, 2), show_header=False)
    keys.add_column(style="bold cyan", no_wrap=True)
    keys.add_column()
    for key, what in keymap.key_rows():
        keys.add_row(Text(key), Text(what))
    legend = Text()
    for status in RunStatus:
        if legend:
            legend.append("  ")
        legend.append(STATUS_GLYPH[status], style=status_style(status))
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

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("runtui help", style="bold"), id="help-title")
            yield Static(help_renderable(), id="help-body")
            yield Static(Text("esc / q / ?: close", style="dim"), id="help-hint")

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    def action_close(self) -> None:
        self.dismiss(None)
