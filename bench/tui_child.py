"""The TUI side of the TUI benchmarks: runs runtui's app headless (`App.run_test`) and reports JSON lines.

    python -m bench.tui_child MODE HOME [ARG]

Modes:
- `cold`: print {"painted": ...} once the tree shows its first data and one refresh has run (the parent times
  from spawn to this line), then the RSS.
- `status`: print {"ready": [[run_id, status], ...]} for the runs loaded in the tree, then one
  {"seen": run_id, "status": ..., "t": epoch} line whenever a loaded run's status changes in the tree,
  until stdin closes.
- `log_open RUN_ID`: open the run's log screen; print the time to the first lines shown and the RSS growth.
- `log_follow RUN_ID`: open the run's log screen and, until stdin closes, print how far behind the writer the
  newest shown line is (each line the writer appends starts with its write time) and the event loop's lag.
- `metrics RUN_ID`: open the run's metrics view; print the time until the first chart has its series.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

SIZE = (160, 50)


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


async def until(predicate: Callable[[], bool], timeout: float = 60.0, step: float = 0.002) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the TUI did not get there in time")
        await asyncio.sleep(step)


class PaintProbe:
    """When a widget class first produced its lines (was painted) while `ready()` held.

    Wraps the class's `render_lines` in this benchmark process only: the compositor calls it when it
    paints the widget, so this is the moment the data is on the (headless) screen.
    """

    def __init__(self, widget_class: type, ready: Callable[[Any], bool], method: str = "render_lines") -> None:
        self.at: float | None = None
        original = getattr(widget_class, method)
        probe = self

        def wrapped(widget: Any, *args: Any) -> Any:
            out = original(widget, *args)
            if probe.at is None and ready(widget):
                probe.at = time.perf_counter()
            return out

        setattr(widget_class, method, wrapped)

    async def wait(self, timeout: float = 60.0) -> float:
        await until(lambda: self.at is not None, timeout, step=0.001)
        assert self.at is not None
        return self.at


def stdin_closed() -> threading.Event:
    done = threading.Event()

    def watch() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=watch, daemon=True).start()
    return done


def make_app(home: str, live: bool = True) -> Any:
    from runtui.config import resolve
    from runtui.tui.app import RuntuiApp

    return RuntuiApp(resolve(path=home), live=live)


def main_screen(app: Any) -> Any:
    from runtui.tui.screens.main import MainScreen

    screen = app.screen
    return screen if isinstance(screen, MainScreen) else None


async def cold(home: str) -> None:
    from runtui.tui.widgets.run_tree import RunTree

    # painted: the tree drew itself holding the loaded runs of the auto-expanded experiments
    probe = PaintProbe(RunTree, lambda tree: tree.run_count > 0)
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await probe.wait()
        emit(painted=time.time())
        await pilot.pause()
        screen = main_screen(app)
        emit(rss=rss(), experiments=len(screen.run_tree._experiments), runs_loaded=screen.run_tree.run_count)


async def status(home: str) -> None:
    app = make_app(home)
    done = stdin_closed()
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: (s := main_screen(app)) is not None and s.loaded and s.run_tree.run_count > 0)
        await pilot.pause()
        tree = main_screen(app).run_tree
        await asyncio.sleep(0.5)  # let the auto-expanded experiments' pages settle
        known = {rid: node.data.run.status.value for rid, node in tree._runs.items()}
        emit(ready=sorted(known.items()))
        while not done.is_set():
            for rid, node in list(tree._runs.items()):
                value = node.data.run.status.value
                if known.get(rid) != value:
                    known[rid] = value
                    emit(seen=rid, status=value, t=time.time())
            await asyncio.sleep(0.001)


async def open_log_screen(app: Any, record: Any) -> Any:
    from runtui.tui.screens.log import LogScreen

    screen = LogScreen(record, app.config.run_dir(record.id))
    await app.push_screen(screen)
    return screen


async def log_open(home: str, run_id: str) -> None:
    from runtui.tui.widgets.log_view import LogView

    probe = PaintProbe(LogView, lambda view: view.line_count > 0)
    app = make_app(home, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: (s := main_screen(app)) is not None and s.loaded)
        await pilot.pause()
        record = app.open_store().get_run(run_id)
        before = rss()
        t0 = time.perf_counter()
        screen = await open_log_screen(app, record)
        elapsed = await probe.wait() - t0
        await pilot.pause()
        emit(open_s=elapsed, rss_growth=rss() - before, lines=screen.panel.view.line_count, rss=rss())


async def log_follow(home: str, run_id: str) -> None:
    """Lag samples while the writer writes; then, given the writer's last stamp on stdin, the catch-up time."""
    app = make_app(home, live=False)
    final: list[float] = []
    ended = threading.Event()

    def read_end() -> None:
        line = sys.stdin.readline()  # the writer's last line stamp, once it stopped
        with contextlib.suppress(ValueError):
            final.append(float(line))
        ended.set()

    threading.Thread(target=read_end, daemon=True).start()

    def newest(view: Any) -> float | None:
        n = view.line_count
        line = view.raw_line(n - 1) if n else None
        if line and line[:1].isdigit():
            with contextlib.suppress(ValueError):
                return float(line.split(" ", 1)[0])
        return None

    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: (s := main_screen(app)) is not None and s.loaded)
        await pilot.pause()
        screen = await open_log_screen(app, app.open_store().get_run(run_id))
        view = screen.panel.view
        emit(ready=True)
        lags: list[float] = []
        loop_lags: list[float] = []
        while not ended.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.05)
            loop_lags.append(time.perf_counter() - t0 - 0.05)
            stamp = newest(view)
            if stamp is not None:
                lags.append(time.time() - stamp)
        catch_up = None
        if final:
            await until(lambda: (newest(view) or 0.0) >= final[0], timeout=30)
            catch_up = time.time() - final[0]
        emit(lags=lags, loop_lags=loop_lags, lines=view.line_count, catch_up=catch_up)


async def metrics(home: str, run_id: str) -> None:
    from runtui.tui.screens.metrics import MetricsScreen
    from runtui.tui.widgets.chart import LineChart

    # The chart paints through `render()` (its cells diffed in `set_series`), not through a line API.
    probe = PaintProbe(LineChart, lambda chart: bool(chart.values), method="render")
    app = make_app(home, live=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: (s := main_screen(app)) is not None and s.loaded)
        await pilot.pause()
        record = app.open_store().get_run(run_id)
        t0 = time.perf_counter()
        screen = MetricsScreen(record)
        await app.push_screen(screen)
        first = await probe.wait() - t0
        await until(lambda: len(screen.charts) > 0 and all(c.values for c in screen.charts.values()), timeout=120)
        await pilot.pause()
        emit(first_chart_s=first, all_charts_s=time.perf_counter() - t0, charts=len(screen.charts))


MODES = {"cold": cold, "status": status, "log_open": log_open, "log_follow": log_follow, "metrics": metrics}

if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    asyncio.run(MODES[mode](*args))
