"""Logging compared like with like (issue 12, item 6).

- The training thread's cost of one call: runtui `run.log()` (an in-memory enqueue) against MLflow's
  `log_metric(..., synchronous=False)` (MLflow's own enqueue, since 2.8) and W&B offline `run.log()` (also an
  enqueue, to its service process): three calls that return before the point is on disk.
- Durable against durable: N points logged, then each tool's "it is on disk now" call: runtui `run.flush()`,
  MLflow `flush_async_logging()` after the asynchronous calls (and MLflow's synchronous `log_metric`, where each
  call is durable on return), W&B `run.finish()` (offline: the run's `.wandb` file written and closed).

Each side logs one metric `loss` with a step, as a training loop would; every side runs in this process, on
its own store in the scratch folder, one after the other.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bench import mlflow_side, runtui_side
from bench.common import Comparison, Context, Row, fmt_rate, fmt_ratio, fmt_time, median, percentile


def wandb_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("wandb") is not None


def _per_call(log: Any, n: int) -> list[float]:
    """Seconds per call, each call timed on its own (`perf_counter_ns`, whose ~50 ns are included)."""
    clock = time.perf_counter_ns
    times = [0.0] * n
    for i in range(n):
        t0 = clock()
        log(i)
        times[i] = (clock() - t0) * 1e-9
    return times


def _runtui(scratch: Path, calls: int, durable: int) -> dict[str, Any]:
    per_call_run = runtui_side.start_run(scratch / "runtui-calls")
    handle = per_call_run.handle if per_call_run.layer == "sdk" else None
    if handle is not None:
        calls_s = _per_call(lambda i: handle.log("loss", 1.0 / (i + 1), step=i), calls)
    else:
        calls_s = _per_call(lambda i: per_call_run.log("loss", 1.0 / (i + 1)), calls)
    per_call_run.complete()

    run = runtui_side.start_run(scratch / "runtui-durable")
    t0 = time.perf_counter()
    for i in range(durable):
        run.log("loss", 1.0 / (i + 1))
    run.flush()
    elapsed = time.perf_counter() - t0
    counted = run.count_points()
    run.complete()
    return {"calls": calls_s, "durable_s": elapsed, "points": counted, "layer": per_call_run.layer}


def _mlflow(scratch: Path, calls: int, durable: int, sync_seconds: float) -> dict[str, Any]:
    import mlflow

    db = scratch / "mlflow.db"
    client = mlflow_side.open_tracking(db)
    exp_id = mlflow_side.experiment(client, "fair", scratch / "mlartifacts")

    run_id = client.create_run(exp_id).info.run_id
    calls_s = _per_call(lambda i: client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i, synchronous=False), calls)
    mlflow.flush_async_logging()
    client.set_terminated(run_id)

    run_id = client.create_run(exp_id).info.run_id
    t0 = time.perf_counter()
    for i in range(durable):
        client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i, synchronous=False)
    mlflow.flush_async_logging()
    async_s = time.perf_counter() - t0
    async_points = mlflow_side.count_metrics(db, run_id)
    client.set_terminated(run_id)

    run_id = client.create_run(exp_id).info.run_id
    sync_rate = mlflow_side.log_metric_rate(client, run_id, seconds=sync_seconds)
    client.set_terminated(run_id)
    return {"calls": calls_s, "async_s": async_s, "async_points": async_points, "sync_rate": sync_rate}


def _wandb(scratch: Path, calls: int, durable: int) -> dict[str, Any]:
    os.environ.update(WANDB_MODE="offline", WANDB_DIR=str(scratch), WANDB_SILENT="true", WANDB_DISABLE_GIT="true")
    import wandb

    run = wandb.init(project="fair", mode="offline", dir=str(scratch))
    calls_s = _per_call(lambda i: run.log({"loss": 1.0 / (i + 1)}, step=i), calls)
    run.finish()

    run = wandb.init(project="fair", mode="offline", dir=str(scratch))
    t0 = time.perf_counter()
    for i in range(durable):
        run.log({"loss": 1.0 / (i + 1)}, step=i)
    run.finish()  # offline: returns when the run's .wandb file is written and closed
    durable_s = time.perf_counter() - t0
    files = sorted(scratch.glob("wandb/offline-run-*/run-*.wandb"))
    return {"calls": calls_s, "durable_s": durable_s, "file_bytes": files[-1].stat().st_size if files else None}


def bench_fair_logging(ctx: Context) -> list[Row]:
    scratch = Path(ctx.scratch)
    calls = 20_000 if ctx.quick else 200_000
    peer_calls = 5_000 if ctx.quick else 20_000
    durable = 50_000 if ctx.quick else 300_000
    peer_durable = 5_000 if ctx.quick else 20_000

    ours = _runtui(scratch, calls, durable)
    ml = _mlflow(scratch, peer_calls, peer_durable, 1.0 if ctx.quick else 2.0) if ctx.mlflow else None
    wb = None
    wb_error = ""
    if wandb_available():
        try:
            wb = _wandb(scratch, peer_calls, peer_durable)
        except Exception as exc:  # a peer that cannot run here is a note, not a failed benchmark
            wb_error = f"W&B offline failed: {type(exc).__name__}: {exc}"[:200]

    med = median(ours["calls"])
    ml_call = median(ml.pop("calls")) if ml else None
    wb_call = median(wb.pop("calls")) if wb else None
    comps = []
    ratios = []
    if ml_call is not None:
        m = ml_call
        comps.append(Comparison("MLflow log_metric(synchronous=False)", m, f"{fmt_time(m)} median"))
        ratios.append(f"MLflow async {fmt_ratio(m / med)}")
    if wb_call is not None:
        w = wb_call
        comps.append(Comparison("W&B offline run.log()", w, f"{fmt_time(w)} median"))
        ratios.append(f"W&B {fmt_ratio(w / med)}")
    rows = [
        Row(
            key="fair_log_call",
            what="one log call on the training thread (all three enqueue)",
            value=med,
            text=f"{fmt_time(med)} median, {fmt_time(percentile(ours['calls'], 99))} p99",
            target="<= 5 µs median",
            met=med <= 5e-6,
            comparisons=comps,
            ratio="; ".join(ratios),
            note=f"runtui {calls:,} calls ({ours['layer']} layer); peers {peer_calls:,} calls each; "
            + (wb_error or ("" if wandb_available() else "wandb not installed")),
            extra={"runtui_median_s": med, "mlflow_median_s": ml_call, "wandb_median_s": wb_call},
        )
    ]

    rate = ours["points"] / ours["durable_s"]
    comps = []
    ratios = []
    if ml:
        ml_async = ml["async_points"] / ml["async_s"]
        comps.append(Comparison("MLflow async + flush_async_logging", ml_async, fmt_rate(ml_async)))
        comps.append(Comparison("MLflow log_metric (synchronous)", ml["sync_rate"], fmt_rate(ml["sync_rate"])))
        ratios.append(f"{fmt_ratio(rate / ml_async)} MLflow async")
    if wb:
        wb_rate = peer_durable / wb["durable_s"]
        comps.append(Comparison("W&B offline log + finish", wb_rate, fmt_rate(wb_rate)))
        ratios.append(f"{fmt_ratio(rate / wb_rate)} W&B offline")
    rows.append(
        Row(
            key="fair_durable",
            what="durable points/s: log N, then 'on disk now' (flush / flush_async_logging / finish)",
            value=rate,
            text=fmt_rate(rate),
            target="faster than every peer",
            met=all(rate > c.value for c in comps if c.value) if comps else None,
            comparisons=comps,
            ratio="; ".join(ratios),
            note=f"runtui {ours['points']:,} points counted back from its store; MLflow {peer_durable:,} "
            "(async, counted back) and as many as 1-2 s allow (synchronous); W&B "
            f"{peer_durable:,} (its .wandb file: {wb['file_bytes'] if wb else '-'} bytes)",
            extra={"runtui_pts_s": rate, "mlflow": ml, "wandb": wb},
        )
    )
    return rows
