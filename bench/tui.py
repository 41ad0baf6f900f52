"""TUI benchmarks: runtui's Textual app headless (`bench/tui_child.py`, one fresh process per measure),
driven and timed from here. The store that another process changes is this process's store."""

from __future__ import annotations

import json
import queue
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench import fixtures
from bench.common import (
    Context,
    Row,
    bench_env,
    fmt_mb,
    fmt_ratio,
    fmt_time,
    median,
    percentile,
    sqlite_url,
    unavailable,
)

TUI_ROWS = {
    "tui_cold_start": ("TUI cold start → first full paint, 100,000 runs", "<= 1.0 s"),
    "tui_status_latency": ("TUI: status change by another process → in the tree", "<= 150 ms median, <= 300 ms p95"),
    "tui_refresh_cost": ("TUI refresh cost (one change), 1k vs 100k runs", "grows with changes, not store size"),
    "tui_rss": ("TUI memory with 100,000 runs", "<= 250 MB RSS"),
    "tui_log_open": ("log pane: open a 1 GB log, show its tail", "<= 100 ms; memory independent of size"),
    "tui_log_follow": ("log pane: follow a log growing at 20 MB/s", "<= 0.5 s behind; UI responsive"),
    "tui_metrics": ("metrics view: 20 metrics × 50,000 steps, first chart", "<= 300 ms"),
}


class Child:
    """A headless TUI process speaking JSON lines."""

    def __init__(self, mode: str, home: Path, *args: str) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.tui_child", mode, str(home), *args],
            env=bench_env(home),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[tuple[float, dict[str, Any] | None]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.lines.put((time.perf_counter(), json.loads(line)))
        self.lines.put((time.perf_counter(), None))

    def next(self, timeout: float = 120.0) -> tuple[float, dict[str, Any]]:
        at, msg = self.lines.get(timeout=timeout)
        if msg is None:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"the TUI process ended early: {err.strip()[-3000:]}")
        return at, msg

    def close(self, timeout: float = 60.0) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _row(key: str, value: float | None, text: str, met: bool | None, note: str = "", **kw: Any) -> Row:
    what, target = TUI_ROWS[key]
    return Row(key=key, what=what, value=value, text=text, target=target, met=met, note=note, **kw)


# ---------------------------------------------------------------- cold start, memory, status latency


def cold_start(home: Path, reps: int) -> tuple[list[float], dict[str, Any]]:
    times: list[float] = []
    info: dict[str, Any] = {}
    for _ in range(reps):
        child = Child("cold", home)
        at, _msg = child.next()
        times.append(at - child.started)
        _, info = child.next()
        child.close()
    return times, info


def status_latency(home: Path, rounds: int) -> list[float]:
    from runtui.status import RunStatus
    from runtui.store import open_store

    store = open_store(sqlite_url(home / "runtui.db"))
    child = Child("status", home)
    try:
        _, ready = child.next()
        candidates = [rid for rid, status in ready["ready"] if status == "Completed"]
        if not candidates:
            raise RuntimeError("no Completed run is loaded in the tree to change")
        rng = random.Random(3)
        latencies: list[float] = []
        for rid in rng.sample(candidates, min(rounds, len(candidates))):
            time.sleep(rng.uniform(0.15, 0.35))  # changes arrive at random moments, not in step with polling
            t0 = time.time()
            store.set_status(rid, RunStatus.FAILED, error="benchmark")
            while True:
                _, msg = child.next(timeout=30)
                if msg.get("seen") == rid:
                    latencies.append(msg["t"] - t0)
                    break
        return latencies
    finally:
        child.close()


# ---------------------------------------------------------------- refresh cost


def refresh_costs(home: Path, changed: int, reps: int) -> list[float]:
    """Time of one change-feed refresh (`read_feed`, what the tree's live loop reads) after `changed` runs change."""
    from runtui.store import open_store
    from runtui.tui.data import ViewFilter, read_feed

    store = open_store(sqlite_url(home / "runtui.db"))
    ids = [r.id for r in store.query_runs(limit=changed * reps)]
    times: list[float] = []
    for rep in range(reps):
        since = store.current_revision()
        for rid in ids[rep * changed : (rep + 1) * changed]:
            store.set_tags(rid, {"bench": str(rep)})
        t0 = time.perf_counter()
        batch = read_feed(store, since, ViewFilter(), 0)
        times.append(time.perf_counter() - t0)
        if batch is None or len(batch.runs) != changed:
            raise RuntimeError(f"the feed returned {0 if batch is None else len(batch.runs)} runs, not {changed}")
    return times


# ---------------------------------------------------------------- logs


def log_workspace(home: Path) -> tuple[str, Path]:
    """A workspace with one run; returns its id and its logs folder."""
    from runtui.config import resolve
    from runtui.ids import new_run_id
    from runtui.status import RunStatus
    from runtui.store import NewRun, open_store

    cfg = resolve(path=home)
    store = open_store(cfg.store_url)
    rid = new_run_id("logs")
    store.create_runs([NewRun(id=rid, experiment="logs", status=RunStatus.RUNNING)])
    logs = cfg.run_dir(rid) / "logs"
    logs.mkdir(parents=True)
    return rid, logs


def write_log(path: Path, size: int) -> None:
    line = "step 000000 loss=0.123456 acc=0.987654 lr=0.000300 " + "x" * 45 + "\n"  # 100 bytes
    block = "".join(line.replace("000000", f"{i:06d}") for i in range(10_000)).encode()
    with open(path, "wb") as f:
        written = 0
        while written < size:
            f.write(block)
            written += len(block)


def log_open(scratch: Path, size: int) -> dict[str, Any]:
    home = scratch / f"log{size}"
    rid, logs = log_workspace(home)
    write_log(logs / "output.log", size)
    child = Child("log_open", home, rid)
    try:
        _, msg = child.next()
    finally:
        child.close()
        (logs / "output.log").unlink()
    msg["size"] = size
    return msg


def log_follow(scratch: Path, seconds: float, rate: float) -> dict[str, Any]:
    home = scratch / "follow"
    rid, logs = log_workspace(home)
    path = logs / "output.log"
    write_log(path, 1_000_000)
    child = Child("log_follow", home, rid)
    try:
        child.next()  # ready
        filler = "y" * 80
        interval = 0.01
        per_tick = int(rate * interval)
        written = 0
        last = 0.0
        t_end = time.perf_counter() + seconds
        next_tick = time.perf_counter()
        with open(path, "a", encoding="utf-8") as f:
            while time.perf_counter() < t_end:
                last = time.time()
                stamp = f"{last:.6f} {filler}\n"  # each line starts with its write time
                chunk = stamp * max(1, per_tick // len(stamp))
                f.write(chunk)
                f.flush()
                written += len(chunk)
                next_tick += interval
                time.sleep(max(0.0, next_tick - time.perf_counter()))
    finally:
        if child.proc.stdin:  # the last stamp: the viewer reports how long it took to show it
            child.proc.stdin.write(f"{last:.6f}\n")
            child.proc.stdin.close()
    _, result = child.next()
    child.close()
    result["written"] = written
    result["seconds"] = seconds
    return result


# ---------------------------------------------------------------- metrics view


def metrics_first_chart(scratch: Path, names: int, steps: int) -> dict[str, Any]:
    from runtui.config import resolve
    from runtui.ids import new_run_id
    from runtui.status import RunStatus
    from runtui.store import NewRun, open_store

    home = scratch / "metrics"
    cfg = resolve(path=home)
    store = open_store(cfg.store_url)
    rid = new_run_id("metrics")
    # Running while its points go in: the store refuses points for a finished run (the probe then opened a
    # metrics view with nothing to chart and timed out); Completed once they are in, as a finished run is.
    store.create_runs([NewRun(id=rid, experiment="metrics", status=RunStatus.RUNNING)])
    now = time.time()
    points: list[Any] = []
    for n in range(names):
        points.extend((rid, f"metric_{n:02d}", s, 1.0 / (s + 1) + n, None, "scalar", now) for s in range(steps))
        if len(points) >= 100_000:
            store.write_metrics(points)
            points = []
    store.write_metrics(points)
    store.set_status(rid, RunStatus.COMPLETED)
    child = Child("metrics", home, rid)
    try:
        _, msg = child.next()
    finally:
        child.close()
    return msg


# ---------------------------------------------------------------- the rows


def bench_tui(ctx: Context) -> list[Row]:
    try:
        import runtui.tui.app  # noqa: F401
    except ImportError:
        return [unavailable(key, what, target) for key, (what, target) in TUI_ROWS.items()]
    if ctx.big_home is None:
        return [unavailable(key, what, target, "no 100,000-run store") for key, (what, target) in TUI_ROWS.items()]
    scratch = Path(ctx.scratch)
    rows: list[Row] = []
    big = Path(ctx.big_home)

    times, info = cold_start(big, 2 if ctx.quick else 3)
    cold = median(times)
    rows.append(
        _row(
            "tui_cold_start",
            cold,
            fmt_time(cold),
            cold <= 1.0,
            f"spawn → tree loaded and painted (headless run_test), median of {len(times)}; "
            f"{info.get('experiments', 0):,} experiments, {info.get('runs_loaded', 0):,} runs loaded lazily",
            extra={"times": times},
        )
    )
    mem = float(info.get("rss", 0))
    rows.append(_row("tui_rss", mem, fmt_mb(mem), mem <= 250 * 2**20, "RSS after the first paint", extra={"rss": mem}))

    # A copy: the next benchmarks write to it.
    work = scratch / "tree"
    work.mkdir()
    shutil.copy(big / "runtui.db", work / "runtui.db")
    lat = status_latency(work, 10 if ctx.quick else 30)
    med, p95 = median(lat), percentile(lat, 95)
    rows.append(
        _row(
            "tui_status_latency",
            med,
            f"{fmt_time(med)} median, {fmt_time(p95)} p95",
            med <= 0.150 and p95 <= 0.300,
            f"{len(lat)} changes (Completed → Failed) by another process, seen in the tree; max {fmt_time(max(lat))}",
            extra={"latencies": lat},
        )
    )

    small = scratch / "small"
    fixtures.build_tree_store(small, experiments=10)
    reps = 10 if ctx.quick else 20
    small_cost = median(refresh_costs(small, 1, reps))
    big_cost = median(refresh_costs(work, 1, reps))
    big_100 = median(refresh_costs(work, 100, 5))
    ratio = big_cost / small_cost
    rows.append(
        _row(
            "tui_refresh_cost",
            big_cost,
            f"{fmt_time(small_cost)} at 1k, {fmt_time(big_cost)} at 100k",
            ratio <= 2.0,
            f"one feed read (read_feed) after 1 changed run, median of {reps}; 100 changed runs at 100k: "
            f"{fmt_time(big_100)}",
            ratio=f"100k/1k {fmt_ratio(ratio)}",
            extra={"small_s": small_cost, "big_s": big_cost, "big_100_changed_s": big_100},
        )
    )

    size = 64 * 2**20 if ctx.quick else 2**30
    opened = log_open(scratch, size)
    baseline = log_open(scratch, 2**20)
    growth_big, growth_small = opened["rss_growth"], baseline["rss_growth"]
    rows.append(
        _row(
            "tui_log_open",
            opened["open_s"],
            f"{fmt_time(opened['open_s'])}; RSS +{fmt_mb(growth_big)}",
            opened["open_s"] <= 0.100 and growth_big <= growth_small + 16 * 2**20,
            f"{size / 2**20:,.0f} MB log → tail shown ({opened['lines']:,} lines); a 1 MB log: "
            f"{fmt_time(baseline['open_s'])}, RSS +{fmt_mb(growth_small)}",
            extra={"big": opened, "small": baseline},
        )
    )

    follow = log_follow(scratch, 3.0 if ctx.quick else 5.0, 20e6)
    lags = follow["lags"] or [float("inf")]
    loop = follow["loop_lags"] or [0.0]
    rate = follow["written"] / follow["seconds"]
    rows.append(
        _row(
            "tui_log_follow",
            max(lags),
            f"max {fmt_time(max(lags))} behind, p95 {fmt_time(percentile(lags, 95))}",
            max(lags) <= 0.5,
            f"writer appended {rate / 1e6:.1f} MB/s for {follow['seconds']:.0f} s, lag sampled every 50 ms; "
            f"last line shown {fmt_time(follow['catch_up'])} after the writer stopped; event loop lag "
            f"median {fmt_time(median(loop))}, max {fmt_time(max(loop))}",
            extra={"lag_max_s": max(lags), "loop_lag_max_s": max(loop), "written": follow["written"]},
        )
    )

    names, steps = (20, 5_000) if ctx.quick else (20, 50_000)
    try:
        m = metrics_first_chart(scratch, names, steps)
    except Exception as exc:  # one probe that no longer fits the view must not hide the rows above
        rows.append(_row("tui_metrics", None, "error", None, f"{type(exc).__name__}: {exc}"))
        return rows
    rows.append(
        _row(
            "tui_metrics",
            m["first_chart_s"],
            fmt_time(m["first_chart_s"]),
            m["first_chart_s"] <= 0.300,
            f"{names} × {steps:,} points; metrics view opened → first chart drawn; all {m['charts']} charts "
            f"in {fmt_time(m['all_charts_s'])}",
            comparisons=[],
            extra=m,
        )
    )
    return rows
