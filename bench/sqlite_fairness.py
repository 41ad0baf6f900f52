"""Fair SQLite writers: the worst wait of one writer while 15 others write, with and without the write queue.

`python bench/sqlite_fairness.py [--writers 16] [--seconds 15] [--batch 1000 | --produce RATE]`

Each writer process writes metric batches into its own run of one SQLite store, back to back (the worst
case: every writer always wants the lock), and times every `write_metrics` call (waiting for the write lock
included). Two workloads: fixed batches (`--batch`: every transaction carries the same number of points, however
long its writer waited), or a training loop's (`--produce RATE`: each writer's loop logs RATE points/s and every
transaction carries what was logged while the writer waited, at most 20,000, as the SDK's metric writer does;
a RATE above the store's share per writer keeps every writer wanting the lock). Run twice on fresh stores: with
SQLite's busy handler alone (RUNTUI_SQLITE_FAIR_LOCK=0, the old behaviour) and with runtui's first-come-first-
served queue (runtui/store/write_lock.py). Prints, per mode, the worst and p99 time of one write and the total
throughput, and writes a JSON line to bench/results/sqlite_fairness.json. Benchmarks measure; they never assert.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def worker(url: str, run_id: str, seconds: float, batch: int, go: str, interval: float, produce: float) -> None:
    from sqlalchemy import event

    from runtui.store import Store

    store = Store(url)
    store.get_run(run_id)
    points = 0
    lat: list[float] = []
    # When this process held SQLite's write lock: from BEGIN IMMEDIATE returning (this listener runs after the
    # store's own, which queue and BEGIN) to the connection's return to the pool (after COMMIT; where the fair
    # queue hands over). The parent lines the processes' holds up to find the idle time between two holders.
    holds: list[tuple[float, float]] = []
    began: list[float] = []
    timed_from = [float("inf")]  # only the timed writes count (not the set-up reads)

    @event.listens_for(store.db.engine, "begin")
    def _began(conn: object) -> None:
        began.append(time.time())

    @event.listens_for(store.db.engine, "checkin")
    def _ended(*_args: object) -> None:
        if began and (start := began.pop()) >= timed_from[0]:
            holds.append((start, time.time()))

    print("ready", flush=True)
    while not os.path.exists(go):  # every writer starts at one instant, once all are up
        time.sleep(0.001)
    start_at = float(Path(go).read_text() or 0)
    timed_from[0] = start_at
    while time.time() < start_at:
        time.sleep(0.0005)
    end = start_at + seconds
    step = 0
    tick = start_at
    logged_to = start_at  # produce mode: the points logged up to here are written
    while time.time() < end:
        if interval > 0:  # like the SDK's writer thread: one batch per flush interval
            tick += interval
            time.sleep(max(0.0, tick - time.time()))
        if produce > 0:  # what the loop logged since the last write, as the SDK writer takes it (20,000 at most)
            now = time.time()
            batch = max(1, min(20_000, int((now - logged_to) * produce)))
            logged_to += batch / produce  # a backlog stays queued, as in the SDK's buffer
        chunk = [(run_id, "loss", step + i, float(i), None, "scalar", time.time()) for i in range(batch)]
        t0 = time.perf_counter()
        store.write_metrics(chunk)
        lat.append(time.perf_counter() - t0)
        step += batch
        points += batch
    print(json.dumps({"points": points, "lat": lat, "holds": holds}), flush=True)


def one_mode(fair: bool, writers: int, seconds: float, batch: int, interval: float, produce: float) -> dict[str, Any]:
    from runtui.status import RunStatus
    from runtui.store import NewRun, Store

    folder = tempfile.mkdtemp(prefix="runtui-fairness-")
    url = f"sqlite:///{folder}/runtui.db"
    store = Store(url)
    runs = [NewRun(id=f"fair_{i}", experiment="fairness", status=RunStatus.RUNNING) for i in range(writers)]
    store.create_runs(runs)
    env = dict(os.environ, RUNTUI_SQLITE_FAIR_LOCK="1" if fair else "0", PYTHONPATH=str(ROOT))
    go = Path(folder) / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", url, r.id]
            + [str(v) for v in (seconds, batch, go, interval, produce)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for r in runs
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    tmp = go.with_suffix(".tmp")
    tmp.write_text(str(time.time() + 0.3))
    tmp.rename(go)
    results = []
    for p in procs:
        out, _ = p.communicate(timeout=seconds + 300)
        results.append(json.loads(out.strip().splitlines()[-1]))
    lat = sorted(x for r in results for x in r["lat"])
    total = sum(r["points"] for r in results)
    per_writer_worst = [max(r["lat"]) for r in results if r["lat"]]
    # Where the time goes: the write lock's holds of every process in time order; a gap between one hold's end and
    # the next hold's start is time the lock sat idle (a hand-over: the next writer being woken and scheduled).
    holds = sorted((a, b) for r in results for a, b in r["holds"])
    gaps = [max(0.0, holds[i + 1][0] - holds[i][1]) for i in range(len(holds) - 1)]
    span = holds[-1][1] - holds[0][0] if holds else 0.0
    return {
        "fair": fair,
        "writers": writers,
        "seconds": seconds,
        "batch": batch if produce <= 0 else None,
        "produce_per_s": produce if produce > 0 else None,
        "batch_median": statistics.median(r["points"] / max(1, len(r["lat"])) for r in results),
        "interval": interval,
        "writes": len(lat),
        "worst_s": lat[-1],
        "p99_s": lat[int(0.99 * (len(lat) - 1))],
        "median_s": statistics.median(lat),
        "points_per_s": total / seconds,
        "least_writes_of_a_writer": min(len(r["lat"]) for r in results),
        "most_writes_of_a_writer": max(len(r["lat"]) for r in results),
        "best_writers_worst_s": min(per_writer_worst),
        "hold_median_ms": statistics.median(b - a for a, b in holds) * 1000 if holds else None,
        "handover_median_ms": statistics.median(gaps) * 1000 if gaps else None,
        "handover_p90_ms": sorted(gaps)[int(0.9 * (len(gaps) - 1))] * 1000 if gaps else None,
        "lock_idle_share": sum(gaps) / span if span else None,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        url, run_id, seconds, batch, go, interval, produce = sys.argv[2:9]
        worker(url, run_id, float(seconds), int(batch), go, float(interval), float(produce))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--interval", type=float, default=0.0, help="seconds between a writer's batches (0: back to back)"
    )
    parser.add_argument(
        "--produce",
        type=float,
        default=0.0,
        help="points/s each writer's loop logs; a transaction carries what was logged meanwhile (0: fixed --batch)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="alternate the two modes this many times")
    ns = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    load = os.getloadavg()[0]
    rows = []
    for _ in range(ns.rounds):
        for fair in (False, True):
            row = one_mode(fair, ns.writers, ns.seconds, ns.batch, ns.interval, ns.produce)
            row["load_before"] = load
            rows.append(row)
            name = "fair queue   " if fair else "busy handler "
            print(
                f"{name} {ns.writers} writers, every {ns.interval:g} s, "
                + (f"logging {ns.produce:,.0f} points/s each: " if ns.produce > 0 else f"{ns.batch}-point batches: ")
                + f"batch median {row['batch_median']:,.0f}, "
                f"worst {row['worst_s']:.3f} s, p99 {row['p99_s']:.3f} s, "
                f"median {row['median_s'] * 1000:.1f} ms, {row['points_per_s']:,.0f} points/s, writes per writer "
                f"{row['least_writes_of_a_writer']}-{row['most_writes_of_a_writer']} (load avg {load:.1f}); "
                f"lock held {row['hold_median_ms']:.2f} ms median per write, idle between holders "
                f"{row['handover_median_ms']:.2f} ms median, {row['lock_idle_share']:.1%} of the time",
                flush=True,
            )
            load = os.getloadavg()[0]
    out = ROOT / "bench" / "results" / "sqlite_fairness.json"
    out.parent.mkdir(exist_ok=True)
    with out.open("a") as fh:
        fh.write(json.dumps({"at": time.time(), "rows": rows}) + "\n")


if __name__ == "__main__":
    main()
