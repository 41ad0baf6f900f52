"""Measure `runtui import mlflow` on 1,000,000 metric points (issue 13: <= 30 s on the 2-core machine).

    python bench/mlflow_import.py [--points 1000000] [--runs 20] [--keys 5] [--dir /tmp/mlflow-bench]

MLflow creates its SQLite schema; the rows are then inserted with sqlite3 (logging 1M points through MLflow's client
takes far longer than the import being measured). Also times reading the same points with MlflowClient, the
alternative to reading the tables directly. Prints the figures; the machine's load is part of them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import time
import uuid
from pathlib import Path


def make_store(path: Path, runs: int, keys: int, per_key: int) -> list[str]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    exp = client.create_experiment("bench")
    conn = sqlite3.connect(path)
    base = 1_700_000_000_000
    ids = []
    for r in range(runs):
        rid = uuid.uuid4().hex
        ids.append(rid)
        conn.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time,"
            " end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES "
            "(?, ?, 'LOCAL', '', '', 'bench', 'FINISHED', ?, ?, '', 'active', ?, ?)",
            (rid, f"run-{r}", base, base + 10**6, str(path.parent / "artifacts" / rid), int(exp)),
        )
        conn.execute("INSERT INTO params (key, value, run_uuid) VALUES ('lr', ?, ?)", (str(0.1 / (r + 1)), rid))
        rows = ((f"m{k}", 1.0 / (s + 1 + k), base + s, rid, s, 0) for k in range(keys) for s in range(per_key))
        conn.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)", rows
        )
    conn.commit()
    conn.close()
    return ids


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--keys", type=int, default=5)
    ap.add_argument("--dir", default="/tmp/mlflow-bench")
    ap.add_argument("--client-sample", type=int, default=2, help="runs read through MlflowClient for comparison")
    args = ap.parse_args()
    root = Path(args.dir)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    db = root / "mlflow.db"
    per_key = args.points // (args.runs * args.keys)
    t0 = time.perf_counter()
    ids = make_store(db, args.runs, args.keys, per_key)
    total = per_key * args.runs * args.keys
    print(f"MLflow store: {total} points in {args.runs} runs x {args.keys} keys ({time.perf_counter() - t0:.1f} s)")

    import runtui
    from runtui.integrations.mlflow_import import import_mlflow
    from runtui.integrations.mlflow_source import open_source

    os.environ.pop("RUNTUI_STORE_URL", None)
    ws = runtui.Workspace(path=root / "runtui")
    src = open_source(f"sqlite:///{db}")
    t0 = time.perf_counter()
    report = import_mlflow(src, ws)
    wall = time.perf_counter() - t0
    print(
        f"runtui import: {report.points} points, {wall:.1f} s wall ({report.points / wall:,.0f} points/s overall); "
        f"writing {report.point_seconds:.1f} s ({report.points_per_s:,.0f} points/s)"
    )
    t0 = time.perf_counter()
    again = import_mlflow(src, ws)
    print(f"second import (nothing new): {again.points} points, {time.perf_counter() - t0:.1f} s")

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    t0 = time.perf_counter()
    n = 0
    for rid in ids[: args.client_sample]:
        for k in range(args.keys):
            n += len(client.get_metric_history(rid, f"m{k}"))
    dt = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = sum(1 for rid in ids[: args.client_sample] for _ in src.points(rid))
    dt2 = time.perf_counter() - t0
    print(f"reading {n} points: MlflowClient.get_metric_history {n / dt:,.0f} points/s; direct SQL {m / dt2:,.0f}")
    print(f"load average at the end: {os.getloadavg()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
