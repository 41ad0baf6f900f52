"""Big stores for the read-side benchmarks, built fast.

Setup is not what is measured, so it takes the quickest honest path: the store's public bulk insert
`Store.create_runs` (one SQLAlchemy Core `executemany` per table) for runs, tags and properties, and a raw
`executemany` through the store's engine for the headline metric summaries and for spreading the runs'
times and statuses (the create path stamps them all "now"). Every measured read goes through the public
API (SDK, CLI or TUI).
"""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.common import sqlite_url

EXPERIMENTS = 1_000
TOP_PER_EXPERIMENT = 50  # each with one child run: 100 runs per experiment, 100,000 in all
TAG_GROUPS = 100  # `group=g<i % 100>`: a tag filter that matches 1,000 of 100,000 runs
CHUNK = 10_000


def _run_id(experiment: str, n: int) -> str:
    return f"{experiment}_{1_700_000_000 + n}_{n:08x}"


def _insert_runs(store: Any, runs: list[Any]) -> None:
    for i in range(0, len(runs), CHUNK):
        store.create_runs(runs[i : i + CHUNK])


def _finish(store: Any, statuses: list[tuple[str, str, float, float, float | None, int]]) -> None:
    """Spread times and end states: (status, created, started, ended, exit_code) per run id, raw UPDATE."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE run SET status = ?, created_at = ?, started_at = ?, ended_at = ?, exit_code = ? WHERE id = ?",
            [(s, c, st, e, x, rid) for rid, s, c, st, e, x in statuses],
        )


def build_tree_store(home: Path, experiments: int = EXPERIMENTS, top: int = TOP_PER_EXPERIMENT) -> dict[str, Any]:
    """A workspace like a year of work: `experiments` experiments, `top` runs each with one child, a headline
    metric summary per run; a few runs are Running, most Completed, some Failed or Canceled."""
    from runtui.status import RunStatus
    from runtui.store import NewRun, open_store

    t0 = time.perf_counter()
    url = sqlite_url(home / "runtui.db")
    store = open_store(url)
    rng = random.Random(7)
    now = time.time()
    runs: list[Any] = []
    finals: list[tuple[str, str, float, float, float | None, int]] = []
    summaries: list[tuple[Any, ...]] = []
    n = 0
    for e in range(experiments):
        exp = f"exp-{e:04d}"
        for r in range(top):
            parent = _run_id(exp, n)
            child = _run_id(exp, n + 1)
            for rid, par, kind in ((parent, None, "interactive"), (child, parent, "child")):
                tags = (("group", f"g{n % TAG_GROUPS}"),) + ((("quality", "great"),) if n % 17 == 0 else ())
                runs.append(
                    NewRun(id=rid, experiment=exp, status=RunStatus.RUNNING, parent_id=par, kind=kind, tags=tags)
                )
                created = now - (experiments - e) * 3600 - (top - r) * 60
                live = e >= experiments - 2 and r >= top - 3  # a handful of live runs in the newest experiments
                status = "Running" if live else rng.choice(["Completed"] * 8 + ["Failed", "Canceled"])
                ended = None if live else created + 50
                finals.append((rid, status, created, created + 1, ended, 0 if status == "Completed" else 1))
                loss = rng.random()
                summaries.append((rid, "loss", "scalar", loss, None, loss, 1.0, 100, 99, created, ""))
                n += 1
    _insert_runs(store, runs)
    _finish(store, finals)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO metric_series (run_id, name, kind, last, last_text, min, max, count, last_step, first_time,"
            " description, last_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*s, s[9]) for s in summaries],
        )
    # Fold the WAL into the database file, as a store at rest would be (outside SQLAlchemy's transaction).
    with sqlite3.connect(home / "runtui.db") as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"url": url, "runs": n, "experiments": experiments, "build_s": time.perf_counter() - t0}


def build_sweep_store(home: Path, runs: int = 100_000) -> dict[str, Any]:
    """One experiment `sweep` with `runs` top-level runs tagged `group=g<i % 100>` (for get_runs(tags=...))."""
    from runtui.status import RunStatus
    from runtui.store import NewRun, open_store

    t0 = time.perf_counter()
    url = sqlite_url(home / "runtui.db")
    store = open_store(url)
    batch = [
        NewRun(
            id=_run_id("sweep", i),
            experiment="sweep",
            status=RunStatus.RUNNING,
            tags=(("group", f"g{i % TAG_GROUPS}"),),
        )
        for i in range(runs)
    ]
    _insert_runs(store, batch)
    now = time.time()
    _finish(store, [(r.id, "Completed", now - i, now - i, now - i + 1, 0) for i, r in enumerate(batch)])
    return {"url": url, "runs": runs, "build_s": time.perf_counter() - t0}
