"""Helpers for the TUI's Pilot tests: other processes writing, waiting on the screen, reading it back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from process_cleanup import kill_leftover_processes
from rich.style import Style
from textual.pilot import Pilot

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, *args: str, timeout: float = 60.0) -> str:
    """Run `code` in another Python process (the repo on its path); returns its stdout."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(f"subprocess failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


async def wait_until(pilot: Pilot[object], predicate: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Let the app run until `predicate()` is true (generous timeout: this waits, it does not measure)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def screen_text(pilot: Pilot[object]) -> str:
    """What the terminal shows right now, as plain text (one line per row)."""
    strips = pilot.app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def tree_lines(tree: object) -> list[str]:
    """The run tree's lines as plain text."""
    out = []
    line = 0
    while True:
        node = tree.get_node_at_line(line)  # type: ignore[attr-defined]
        if node is None:
            return out
        out.append(tree.render_label(node, Style(), Style()).plain.strip())  # type: ignore[attr-defined]
        line += 1


stop_leftover_processes = kill_leftover_processes


def record_notices(app: object) -> list[str]:
    """Every notice the app posts from now on (Textual's own list drops them when they expire)."""
    seen: list[str] = []
    original = app.notify  # type: ignore[attr-defined]

    def notify(message: object, *args: object, **kwargs: object) -> object:
        seen.append(str(message))
        return original(message, *args, **kwargs)

    app.notify = notify  # type: ignore[attr-defined]
    return seen
