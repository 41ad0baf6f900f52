"""Small modal dialogs: a yes/no confirmation and a one-line prompt with validation.

Texts about runs arrive as `Text` objects (shown literally); the dialogs never build markup from them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class ConfirmDialog(ModalScreen[bool]):
    """Ask a yes/no question: `y` or enter confirms, `n` or escape declines."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, title: str, body: Text, *, yes: str = "Yes") -> None:
        super().__init__(classes="dialog-screen")
        self._title = title
        self._body = body
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self._title, style="bold"), classes="dialog-title")
            yield Static(self._body, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(Text(f"{self._yes} (y)"), id="yes", variant="error")
                yield Button(Text("No (n)"), id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class PromptDialog(ModalScreen["str | None"]):
    """Ask for one line of text. `validate` returns an error message (shown, the dialog stays) or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        body: Text,
        *,
        placeholder: str = "",
        value: str = "",
        validate: Callable[[str], str | None] | None = None,
        confirm: str = "OK",
    ) -> None:
        super().__init__(classes="dialog-screen")
        self._title = title
        self._body = body
        self._placeholder = placeholder
        self._value = value
        self._validate = validate
        self._confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self._title, style="bold"), classes="dialog-title")
            yield Static(self._body, classes="dialog-body")
            yield Input(value=self._value, placeholder=self._placeholder, id="prompt-input")
            yield Static("", id="prompt-error", classes="dialog-error")
            yield Static(Text(f"enter: {self._confirm} · esc: cancel", style="dim"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self._validate(event.value) if self._validate is not None else None
        if error:
            self.query_one("#prompt-error", Static).update(Text(error))  # coloured in app.tcss
            return
        self.dismiss(event.value)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#prompt-error", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
