"""Runs through the public API: start/complete cost, a tag query over 100,000 runs, listing every run."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench import fixtures, mlflow_side
from bench.common import (
    Comparison,
    Context,
    Row,
    bench_env,
    fmt_ratio,
    fmt_time,
    median,
    percentile,
)


def bench_run_lifecycle(ctx: Context) -> list[Row]:
    """`exp.start_logging()` and `run.complete()` on a warm store (its engine open, its schema made)."""
    import runtui

    scratch = Path(ctx.scratch)
    reps = 50 if ctx.quick else 200
    ws = runtui.Workspace(str(scratch / "ws"))
    exp = runtui.Experiment(workspace=ws, name="lifecycle")
    starts: list[float] = []
    ends: list[float] = []
    for i in range(reps + 10):
        t0 = time.perf_counter()
        run = exp.start_logging()
        t1 = time.perf_counter()
        run.complete()
        t2 = time.perf_counter()
        if i >= 10:  # the first few pay for imports and the owner's threads
            starts.append(t1 - t0)
            ends.append(t2 - t1)
    ml_start = ml_end = None
    if ctx.mlflow:
        client = mlflow_side.open_tracking(scratch / "mlflow.db")
        exp_id = mlflow_side.experiment(client, "lifecycle", scratch / "mlartifacts")
        s, e = mlflow_side.start_end_costs(exp_id, reps=20 if ctx.quick else 40)
        ml_start, ml_end = median(s), median(e)
    rows = []
    for key, what, values, ml, ml_label in (
        ("start_logging", "start_logging() on a warm store", starts, ml_start, "MLflow start_run"),
        ("complete", "complete() on a warm store", ends, ml_end, "MLflow end_run"),
    ):
        med = median(values)
        rows.append(
            Row(
                key=key,
                what=what,
                value=med,
                text=f"{fmt_time(med)} median, {fmt_time(percentile(values, 95))} p95",
                target="<= 1 ms",
                met=med <= 1e-3,
                comparisons=[Comparison(ml_label, ml, fmt_time(ml))] if ml else [],
                ratio=f"MLflow {fmt_ratio(ml / med)} slower" if ml else "",
                note=f"{reps} runs on a SQLite workspace",
                extra={"median_s": med, "p95_s": percentile(values, 95)},
            )
        )
    return rows


def bench_query(ctx: Context) -> list[Row]:
    """`exp.get_runs(tags=...)` returning 1,000 of 100,000 runs vs MLflow search_runs 1,000 of 10,000;
    `runtui ls --all --json` over the 100,000-run tree store vs MLflow listing 10,000 runs."""
    import runtui

    scratch = Path(ctx.scratch)
    n_runs = 20_000 if ctx.quick else 100_000
    built = fixtures.build_sweep_store(scratch / "sweep", runs=n_runs)
    ws = runtui.Workspace(str(scratch / "sweep"))
    # The store was built in this process, whose store was opened empty; a user's query runs in a process that
    # opens the full store, which refreshes the planner statistics on open. Do what that open does.
    from runtui.store.schema import refresh_statistics

    refresh_statistics(ws.store.engine)
    exp = runtui.Experiment(workspace=ws, name="sweep")
    times: list[float] = []
    found = 0
    for i in range(6):
        t0 = time.perf_counter()
        found = len(list(exp.get_runs(tags={"group": "g7"})))
        if i:  # the first call pays for compiling the statement and warming the page cache
            times.append(time.perf_counter() - t0)
    q = median(times)

    ml_q = ml_list = None
    ml_found = ml_listed = 0
    if ctx.mlflow:
        db = scratch / "mlflow.db"
        mlflow_side.build_runs(db, scratch / "mlartifacts", 10_000, n_experiments=1)
        ml_times, ml_found = mlflow_side.search_by_tag(db, reps=3 if ctx.quick else 5)
        ml_q = median(ml_times)
        list_times, ml_listed = mlflow_side.list_all(db, reps=1 if ctx.quick else 2)
        ml_list = median(list_times)

    rows = [
        Row(
            key="get_runs_tags",
            what=f"get_runs(tags=...) → {found:,} of {n_runs:,} runs",
            value=q,
            text=fmt_time(q),
            target="<= 40 ms",
            met=q <= 0.040 and n_runs == 100_000,
            comparisons=[Comparison(f"MLflow search_runs {ml_found:,} of 10,000", ml_q, fmt_time(ml_q))]
            if ml_q
            else [],
            ratio=f"MLflow {fmt_ratio(ml_q / q)} slower on 10x fewer runs" if ml_q else "",
            note=f"median of 5 after one warm-up; store built in {built['build_s']:.1f} s",
            extra={"median_s": q, "times": times},
        )
    ]

    if ctx.big_home is None:
        rows.append(Row("ls_all", "runtui ls --all --json, 100,000 runs", None, "no big store", "<= 1.5 s", None))
        return rows
    env = bench_env(ctx.big_home)
    argv = [sys.executable, "-m", "runtui", "ls", "--all", "--json"]
    ls_times = [time_subprocess_to_null(argv, env, scratch) for _ in range(2 if ctx.quick else 3)]
    ls = median(ls_times)
    comps = [Comparison(f"MLflow search_runs all {ml_listed:,}", ml_list, fmt_time(ml_list))] if ml_list else []
    rows.append(
        Row(
            key="ls_all",
            what="runtui ls --all --json > /dev/null, 100,000 runs",
            value=ls,
            text=fmt_time(ls),
            target="<= 1.5 s",
            met=ls <= 1.5,
            comparisons=comps,
            ratio=f"MLflow lists 10x fewer runs in {fmt_ratio(ml_list / ls)} the time" if ml_list else "",
            note="fresh interpreter each time (wall, median of 3); the tree store: 1,000 experiments, children",
            extra={"median_s": ls, "times": ls_times},
        )
    )
    return rows


def time_subprocess_to_null(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall time of a command whose stdout goes to /dev/null (as `> /dev/null` in a shell)."""
    t0 = time.perf_counter()
    with open("/dev/null", "w") as null:
        proc = subprocess.run(argv, env=env, cwd=cwd, stdout=null, stderr=subprocess.PIPE, text=True, timeout=300)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{argv!r} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return elapsed
