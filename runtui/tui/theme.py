"""Colours come from the theme: roles (a status's `success`, `error`, ...) mapped onto component classes.

`runtui.formatting.STATUS_ROLE` names each status's colour as a role; a widget that shows statuses declares
one component class per role (`run-tree--success`, `details--error`, ...), and `app.tcss` colours them from
the theme's variables (`$success`, `$error`, `$warning`, `$accent`, `$secondary`, `$text-muted`). A theme
switch (the palette's "Change theme") reaches every glyph, and NO_COLOR rules there keep attention statuses
bold. Nothing in Python names a colour.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style
from textual.widget import Widget

from runtui.formatting import STATUS_ROLE
from runtui.status import RunStatus

ROLES = ("accent", "success", "error", "warning", "muted", "secondary")

Ink = Callable[[str], Style]
"""A role (`success`, `spark`, ...) to the style the theme gives it."""


def component_classes(prefix: str, *extra: str) -> set[str]:
    """`{prefix}--{role}` for every status role, and for `extra` roles."""
    return {f"{prefix}--{role}" for role in (*ROLES, *extra)}


def ink_of(widget: Widget, prefix: str) -> Ink:
    """Resolve roles through `widget`'s component classes (at render time, so the current theme's)."""

    def ink(role: str) -> Style:
        return widget.get_component_rich_style(f"{prefix}--{role}", partial=True)

    return ink


def plain_ink(role: str) -> Style:
    """No colours at all (pure renders in tests and tools)."""
    return Style()


def status_ink(ink: Ink, status: RunStatus) -> Style:
    return ink(STATUS_ROLE[status])
