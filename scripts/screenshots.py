"""Make the README's screenshots: SVGs of the TUI on a realistic demo store.

    .venv/bin/python scripts/screenshots.py [OUTPUT_DIR]      (default: screenshots/)

The store is `runtui.tui.showcase` (a learning-rate sweep with children logging loss and accuracy, a failed
run with a traceback, a long run with a tqdm progress log and CPU/RAM/GPU samples, tags and properties),
built in a temporary folder; the clock is pinned and times are shown in UTC, so the pictures only change
when the TUI does.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402

from runtui.config import WorkspaceConfig  # noqa: E402
from runtui.tui.app import RuntuiApp  # noqa: E402
from runtui.tui.screens.main import MainScreen  # noqa: E402
from runtui.tui.showcase import HOST, NOW, RESNET, SWEEP, build_showcase  # noqa: E402
from runtui.tui.widgets.run_tree import ExperimentEntry  # noqa: E402

LONG_RUN = f"{RESNET}_1700000000_00000003"
FAILED_RUN = f"{RESNET}_1700000000_00000002"
SWEEP_PARENT = f"{SWEEP}_1700000000_00000001"
SWEEP_CHILD = f"{SWEEP}_1700000000_00000003"

Step = Callable[[Pilot[None], MainScreen], Awaitable[None]]


async def until(pilot: Pilot[None], predicate: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the TUI did not get there in time")
        await pilot.pause(0.05)


def settled(screen: MainScreen) -> bool:
    """Every opened experiment has its runs (page loads finish in any order)."""
    return all(
        node.data.loaded
        for node in screen.run_tree.root.children
        if isinstance(node.data, ExperimentEntry) and node.is_expanded
    )


async def select(pilot: Pilot[None], screen: MainScreen, run_id: str) -> None:
    app = screen.runtui_app
    parent = app.store.get_run(run_id).parent_id
    if parent is not None:
        await until(pilot, lambda: screen.run_tree.run_node(parent) is not None)
        node = screen.run_tree.run_node(parent)
        if node is not None:
            node.expand()
    await until(pilot, lambda: screen.run_tree.run_node(run_id) is not None)
    target = screen.run_tree.run_node(run_id)
    screen.run_tree.move_cursor(target)
    await until(pilot, lambda: screen.run_tree.cursor_node is target)
    await until(pilot, lambda: screen.details.details is not None and screen.details.run_id == run_id)
    await until(pilot, lambda: screen.log_panel.view.line_count > 0)


def press(*keys: str, settle: float = 0.6) -> Step:
    async def step(pilot: Pilot[None], screen: MainScreen) -> None:
        await pilot.press(*keys)
        await pilot.pause(settle)

    return step


async def shoot(
    config: WorkspaceConfig, out: Path, size: tuple[int, int], run_id: str, *steps: Step, theme: str | None = None
) -> None:
    app = RuntuiApp(config, clock=lambda: NOW, live=False, local_host=HOST)
    async with app.run_test(size=size) as pilot:
        if theme is not None:
            app.theme = theme
        await until(pilot, lambda: any(isinstance(s, MainScreen) for s in app.screen_stack))
        screen = next(s for s in app.screen_stack if isinstance(s, MainScreen))
        await until(pilot, lambda: screen.loaded)
        await until(pilot, lambda: settled(screen))
        await select(pilot, screen, run_id)
        for step in steps:
            await step(pilot, screen)
        await pilot.pause(0.3)
        app.save_screenshot(filename=out.name, path=str(out.parent))
    print(f"wrote {out}")


async def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        config = build_showcase(Path(tmp) / "ws")
        big, small = (120, 40), (80, 24)
        await shoot(config, out_dir / "main.svg", big, LONG_RUN)
        await shoot(config, out_dir / "main-80x24.svg", small, LONG_RUN)
        await shoot(config, out_dir / "sweep.svg", big, SWEEP_CHILD)
        await shoot(config, out_dir / "log.svg", big, FAILED_RUN, press("l"))
        await shoot(config, out_dir / "metrics.svg", big, SWEEP_CHILD, press("m", settle=1.5))
        await shoot(config, out_dir / "help.svg", big, LONG_RUN, press("question_mark"))
        await shoot(config, out_dir / "cancel.svg", small, LONG_RUN, press("c"))
        await shoot(config, out_dir / "filter.svg", big, LONG_RUN, press("slash", *"tag:best", "enter", settle=1.0))
        await shoot(config, out_dir / "light-80x24.svg", small, LONG_RUN, theme="textual-light")
        await shoot(config, out_dir / "compare.svg", big, SWEEP_PARENT, press("C", settle=2.0))
        await shoot(config, out_dir / "zoom-80x24.svg", small, LONG_RUN, press("z"))
    write_key_map(ROOT / "README.md")


def write_key_map(readme: Path) -> None:
    """Put the key map generated from the action registry between the README's markers."""
    from runtui.tui.keymap import markdown_key_map

    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- keymap:start -->", "<!-- keymap:end -->"
    if start not in text or end not in text:
        print(f"{readme}: no {start} … {end} markers; key map not written")
        return
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{markdown_key_map()}\n{end}{tail}", encoding="utf-8")
    print(f"wrote the key map into {readme}")


if __name__ == "__main__":
    os.environ["TZ"] = "UTC"
    time.tzset()
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "screenshots"))
