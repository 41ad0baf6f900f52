"""The one registry of the TUI's actions: it generates the screens' BINDINGS, the help screen's key table, the
command palette's entries and the README's key map, so none of them can drift from the others.

Textual-free data (a key spec is Textual's: "escape,q"; `action` names `action_<name>` on the screen).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["main", "tree", "log", "views", "app"]


@dataclass(frozen=True)
class Action:
    """One thing the reader can do."""

    action: str
    """The screen method it runs (`action_<action>`); empty for keys that only a widget handles (navigation)."""
    keys: str
    """Textual key spec: the first key is the one shown."""
    title: str
    """Its name in the command palette and the footer."""
    help: str
    """One line for the help screen and the palette."""
    scope: Scope = "main"
    footer: bool = True
    """Shown in the footer (a few, so 80 columns hold them)."""
    palette: bool = True
    """Offered by the command palette."""
    shown_keys: str = ""
    """How the help writes the keys, when not simply `keys`."""
    short: str = ""
    """The footer's label, when shorter than the title."""

    @property
    def footer_label(self) -> str:
        return self.short or self.title

    @property
    def key_label(self) -> str:
        if self.shown_keys:
            return self.shown_keys
        names = {"slash": "/", "question_mark": "?", "escape": "esc", "ctrl+p": "ctrl+p"}
        return " ".join(names.get(k, k) for k in self.keys.split(","))


ACTIONS: tuple[Action, ...] = (
    Action("cancel_run", "c", "Cancel run", "cancel the run (asks first); its owner stops it", short="Cancel"),
    Action("fail_run", "f", "Fail run", "mark the run Failed (asks first, optional reason)", short="Fail"),
    Action("tag_run", "t", "Tag run", "add or change a tag: key=value, or key", short="Tag"),
    Action("untag_run", "T", "Remove tag", "remove a tag from the run", footer=False),
    Action("copy_id", "y", "Copy run id", "copy the run's id to the clipboard (OSC 52: works over SSH)", footer=False),
    Action("open_filter", "slash", "Filter runs", "filter runs with the filter language (see below)", short="Filter"),
    Action("clear_filter", "escape", "Clear filter", "clear the filter", footer=False),
    Action("toggle_finished", "a", "Toggle finished runs", "show only live runs / show all runs again", short="Live"),
    Action(
        "toggle_archived",
        "A",
        "Toggle archived experiments",
        "show / hide archived experiments (hidden by default)",
        footer=False,
    ),
    Action(
        "delete_experiment",
        "D",
        "Delete experiment",
        "delete the experiment, its runs and their files (asks first; refused while a run is live)",
        footer=False,
    ),
    Action("show_log", "l", "Show log", "full-screen log of the run", short="Log"),
    Action("show_metrics", "m", "Show metrics", "metric charts of the run", short="Metrics"),
    Action("compare", "C", "Compare runs", "charts of the marked runs (or a sweep's children) overlaid", footer=False),
    Action("mark_run", "x", "Mark run", "mark / unmark the run for comparing", footer=False),
    Action("zoom", "z", "Zoom pane", "maximise the log, then the details, then back", footer=False),
    Action("help", "question_mark", "Help", "every key, the statuses and the filter language"),
    Action("", "up,down", "", "move in the tree", scope="tree", shown_keys="↑ ↓ pgup pgdn", palette=False),
    Action("", "enter", "", "expand or collapse (load older runs on “… older runs”)", scope="tree", palette=False),
    Action(
        "", "right,left", "", "expand / collapse, or go to the parent", scope="tree", palette=False, shown_keys="→ ←"
    ),
    Action("", "tab", "", "move between the tree, details and log", scope="tree", palette=False),
    Action("", "slash", "", "in the log: search; n N next / previous match", scope="log", palette=False),
    Action("", "end,G", "", "follow the log again after scrolling up", scope="log", palette=False),
    Action("", "o", "", "the run's other log file", scope="log", palette=False),
    Action("", "ctrl+p", "", "command palette: every action, and jump to a run by name, id or tag", scope="app"),
    Action("", "q", "", "quit (or close the open view)", scope="app", palette=False),
)


def main_actions() -> list[Action]:
    """The main screen's actions (those with a method)."""
    return [a for a in ACTIONS if a.scope == "main" and a.action]


def key_rows() -> list[tuple[str, str]]:
    """(keys, what they do) for the help screen and the README, in the registry's order."""
    return [(a.key_label, a.help) for a in ACTIONS]


def markdown_key_map() -> str:
    """The README's key map table."""
    lines = ["| key | what it does |", "|---|---|"]
    for keys, what in key_rows():
        lines.append(f"| `{keys}` | {what} |")
    return "\n".join(lines)
