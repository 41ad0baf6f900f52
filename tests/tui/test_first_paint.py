"""The TUI's first paint of a SQLite store comes before the store layer (SQLAlchemy, SQLModel) is imported, and
the store layer loads right after it. Run in a fresh interpreter: this test process has SQLAlchemy loaded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from runtui.status import RunStatus
from runtui.store import NewRun, open_store

CHILD = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from runtui.config import resolve
    from runtui.tui.app import RuntuiApp
    from runtui.tui.widgets.run_tree import RunTree

    seen = {}
    original = RunTree.render_lines

    def render_lines(tree, crop):
        lines = original(tree, crop)
        if tree.run_count and "runs" not in seen:
            seen["runs"] = sorted(tree._runs)
            seen["sqlalchemy"] = "sqlalchemy" in sys.modules
            seen["sqlmodel"] = "sqlmodel" in sys.modules
        return lines

    RunTree.render_lines = render_lines

    async def main():
        app = RuntuiApp(resolve(path=sys.argv[1]), live=True)
        async with app.run_test(size=(100, 30)) as pilot:
            deadline = time.monotonic() + 60
            while "runs" not in seen or not app.store_opened:
                assert time.monotonic() < deadline, seen
                await asyncio.sleep(0.01)
            await pilot.pause()
            seen["after"] = "sqlalchemy" in sys.modules
        print(json.dumps(seen))

    asyncio.run(main())
    """
)


def test_first_paint_needs_no_store_layer(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    store = open_store(f"sqlite:///{home / 'runtui.db'}")
    store.create_runs(
        [
            NewRun(id="live-1", experiment="exp", status=RunStatus.RUNNING),
            NewRun(id="live-1-c", experiment="exp", status=RunStatus.RUNNING, parent_id="live-1"),
            NewRun(id="other", experiment="exp2", status=RunStatus.QUEUED),
        ]
    )
    store.write_metrics([("live-1", "loss", None, 0.5, None, "scalar", 1.0)])
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(home)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["runs"] == ["live-1", "other"]  # both experiments hold a live run: both open, children lazily
    assert seen["sqlalchemy"] is False and seen["sqlmodel"] is False
    assert seen["after"] is True  # the store layer loaded after the paint, without being asked
