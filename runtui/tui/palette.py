"""The command palette's runtui entries: every action of the main screen by name (from the one registry), and a
jump to a run or experiment by name, id prefix or tag."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from runtui.terminal_text import strip_controls
from runtui.tui import keymap
from runtui.tui.data import find_runs
from runtui.tui.formatting import STATUS_GLYPH

if TYPE_CHECKING:
    from runtui.tui.screens.main import MainScreen

MAX_RUNS = 12


class RuntuiCommands(Provider):
    """Actions and jumps for the main screen."""

    @property
    def main(self) -> MainScreen:
        return self.screen  # type: ignore[return-value]

    async def discover(self) -> Hits:
        for action in keymap.main_actions():
            if action.palette:
                yield DiscoveryHit(action.title, partial(self.main.run_action, action.action), help=action.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in keymap.main_actions():
            if not action.palette:
                continue
            score = matcher.match(action.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(action.title),
                    partial(self.main.run_action, action.action),
                    help=f"{action.key_label}: {action.help}",
                )
        tree = self.main.run_tree
        for name in list(tree.experiment_nodes()):
            score = matcher.match(name)
            if score > 0:
                label = Text("experiment ", style="dim")
                label.append(strip_controls(name))
                yield Hit(score * 0.9, label, partial(tree.reveal_experiment, name), text=f"experiment {name}")
        if len(query.strip()) < 2:
            return
        try:
            runs = await asyncio.to_thread(find_runs, self.main.runtui_app.store, query, MAX_RUNS)
        except Exception:  # a palette search never breaks the palette; the store's problems show elsewhere
            return
        for run, chain in runs:
            label = Text(STATUS_GLYPH[run.status] + " ")
            label.append(strip_controls(run.name), style="bold")
            label.append(f"  {run.id}  {strip_controls(run.experiment)}", style="dim")
            yield Hit(0.8, label, partial(tree.reveal_run, run, chain), text=f"run {run.name}", help="jump to the run")
