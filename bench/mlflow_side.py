"""The MLflow side of each comparison: MLflow's own public API on its SQLite store, as a user would call it.

Setup that MLflow's API would make slow (10,000 runs) is done by cloning one API-made run's rows with raw
SQL; every measured call goes through MLflow's public API.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import median, percentile

TAG_GROUPS = 10  # the tag filter matches 1 run in 10: 1,000 of 10,000


def open_tracking(db_path: str | os.PathLike[str]) -> Any:
    """Point MLflow at a SQLite file (created and migrated on first use) and return a client."""
    import logging

    import mlflow
    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    url = f"sqlite:///{db_path}"
    mlflow.set_tracking_uri(url)
    return MlflowClient(tracking_uri=url)


def experiment(client: Any, name: str, artifacts: Path) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    return str(client.create_experiment(name, artifact_location=artifacts.as_uri()))


def log_metric_rate(client: Any, run_id: str, seconds: float = 2.0) -> float:
    """Points/s through `log_metric`, one call per point (each its own transaction)."""
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        client.log_metric(run_id, "loss", 1.0 / (n + 1), step=n)
        n += 1
    return n / (time.perf_counter() - t0)


def log_batch_rate(client: Any, run_id: str, batches: int = 10, per_batch: int = 1000) -> float:
    """Points/s through `log_batch` at MLflow's limit of 1,000 metrics per call, 10 metric names."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    total = 0
    t0 = time.perf_counter()
    for b in range(batches):
        metrics = [Metric(f"m{i % 10}", float(i), now, b * (per_batch // 10) + i // 10) for i in range(per_batch)]
        client.log_batch(run_id, metrics=metrics)
        total += per_batch
    return total / (time.perf_counter() - t0)


def count_metrics(db_path: str | os.PathLike[str], run_id: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM metrics WHERE run_uuid = ?", (run_id,)).fetchone()[0])


def start_end_costs(experiment_id: str, reps: int = 40) -> tuple[list[float], list[float]]:
    """`mlflow.start_run()` and `mlflow.end_run()` wall times, after a few warm-up runs."""
    import mlflow

    starts: list[float] = []
    ends: list[float] = []
    for i in range(reps + 3):
        t0 = time.perf_counter()
        mlflow.start_run(experiment_id=experiment_id)
        t1 = time.perf_counter()
        mlflow.end_run()
        t2 = time.perf_counter()
        if i >= 3:
            starts.append(t1 - t0)
            ends.append(t2 - t1)
    return starts, ends


def build_runs(db_path: str | os.PathLike[str], artifacts: Path, n_runs: int, n_experiments: int = 10) -> list[str]:
    """A store of `n_runs` runs tagged `group=g<i % 10>`: one run made through the API, cloned with raw SQL."""
    import mlflow

    client = open_tracking(db_path)
    exp_ids = [experiment(client, f"bench-{e}", artifacts) for e in range(n_experiments)]
    with mlflow.start_run(experiment_id=exp_ids[0]) as template:
        mlflow.set_tag("group", "g0")
        mlflow.log_param("lr", "0.1")
    tid = template.info.run_id
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        run_cols = [r[1] for r in conn.execute("PRAGMA table_info(runs)")]
        row = dict(conn.execute("SELECT * FROM runs WHERE run_uuid = ?", (tid,)).fetchone())
        tags = [dict(t) for t in conn.execute("SELECT * FROM tags WHERE run_uuid = ? AND key != 'group'", (tid,))]
        params = [dict(p) for p in conn.execute("SELECT * FROM params WHERE run_uuid = ?", (tid,))]
        run_rows: list[tuple[Any, ...]] = []
        tag_rows: list[tuple[Any, ...]] = []
        param_rows: list[tuple[Any, ...]] = []
        base_time = int(row["start_time"])
        for i in range(n_runs - 1):
            rid = uuid.uuid4().hex
            new = dict(row)
            new.update(
                run_uuid=rid,
                name=f"run-{i}",
                experiment_id=int(exp_ids[i % n_experiments]),
                start_time=base_time - i * 1000,
                end_time=base_time - i * 1000 + 500,
                artifact_uri=str(row["artifact_uri"]).replace(tid, rid),
            )
            run_rows.append(tuple(new[c] for c in run_cols))
            tag_rows.extend((t["key"], t["value"] if t["key"] != "mlflow.runName" else f"run-{i}", rid) for t in tags)
            tag_rows.append(("group", f"g{(i + 1) % TAG_GROUPS}", rid))
            param_rows.extend((p["key"], p["value"], rid) for p in params)
        conn.executemany(
            f"INSERT INTO runs ({', '.join(run_cols)}) VALUES ({', '.join('?' * len(run_cols))})", run_rows
        )
        conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tag_rows)
        conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", param_rows)
    return exp_ids


def search_by_tag(db_path: str | os.PathLike[str], reps: int = 5) -> tuple[list[float], int]:
    """`MlflowClient.search_runs` with a tag filter that matches 1,000 runs, across the store's experiments."""
    client = open_tracking(db_path)
    exp_ids = [e.experiment_id for e in client.search_experiments()]
    times: list[float] = []
    found = 0
    for _ in range(reps + 1):
        t0 = time.perf_counter()
        runs = client.search_runs(exp_ids, filter_string="tags.group = 'g7'", max_results=1000)
        times.append(time.perf_counter() - t0)
        found = len(runs)
    return times[1:], found


def list_all(db_path: str | os.PathLike[str], reps: int = 2) -> tuple[list[float], int]:
    """Every run of the store through `MlflowClient.search_runs`, following page tokens."""
    client = open_tracking(db_path)
    exp_ids = [e.experiment_id for e in client.search_experiments()]
    times: list[float] = []
    found = 0
    for _ in range(reps):
        t0 = time.perf_counter()
        token = None
        found = 0
        while True:
            page = client.search_runs(exp_ids, max_results=50_000, page_token=token)
            found += len(page)
            token = page.token
            if not token:
                break
        times.append(time.perf_counter() - t0)
    return times, found


def summary(values: list[float]) -> dict[str, float]:
    return {"median": median(values), "p95": percentile(values, 95), "n": float(len(values))}
