"""The metrics write path: `run.log()` call cost, and durable points/s into SQLite and PostgreSQL.

Durable means flushed and counted back from the store. Each figure is the median of a few repetitions.
The raw baselines insert prebuilt lean rows (series_id, step, value, time, text) with the DBAPI: on SQLite both a
one-row `executemany` and multi-row INSERTs of 100 and of 2,000 rows (the fastest is the limit runtui is judged
against), COPY
and executemany on PostgreSQL, into a table made from the runtui store's own `metric_point` DDL (same columns, same
`ix_metric_point_series_step` index), in chunks of the same size as runtui's writer: the physical limit of
this write path. They run in the same process run as runtui's figure, so their ratio holds on a loaded box.
"""

from __future__ import annotations

import gc
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import mlflow_side
from bench.common import (
    Comparison,
    Context,
    Row,
    fmt_rate,
    fmt_ratio,
    fmt_time,
    median,
    percentile,
    postgres_schema,
    sqlite_url,
)
from bench.runtui_side import LoggingRun, start_run

NAMES = [f"metric_{i}" for i in range(10)]
CHUNK = 20_000  # the same as runtui's writer: one transaction per 20,000 points
Point = tuple[str, str, int, float, None, str, float]
LeanRow = tuple[int, int, float, float, None]


def _sizes(ctx: Context) -> tuple[int, int]:
    """(points per repetition, repetitions)"""
    return (100_000, 2) if ctx.quick else (300_000, 3)


def _points(run_id: str, n: int) -> list[Point]:
    now = time.time()
    return [(run_id, NAMES[i % 10], i // 10, i * 0.5, None, "scalar", now) for i in range(n)]


def _lean_rows(first_series: int, n: int) -> list[LeanRow]:
    """The rows runtui's store writes for `_points`: 10 series, keyed by integer series id."""
    now = time.time()
    return [(first_series + i % 10, i // 10, i * 0.5, now, None) for i in range(n)]


# ---------------------------------------------------------------- runtui


def log_call_costs(home: Path, calls: int) -> tuple[list[float], float, LoggingRun]:
    """Per-call wall time of `run.log()` on the calling (training) thread, and the timer's own cost."""
    run = start_run(home)
    for i in range(2000):  # warm-up: starts the writer thread
        run.log(NAMES[i % 10], float(i))
    run.flush()
    clock = time.perf_counter_ns
    empty = []
    for _ in range(10_000):
        t0 = clock()
        empty.append(clock() - t0)
    overhead = median(empty) / 1e9
    costs = [0.0] * calls
    log = run.log_call
    for i in range(calls):
        name = NAMES[i % 10]
        t0 = clock()
        log(name, 0.5)
        costs[i] = (clock() - t0) / 1e9
    run.flush()
    return costs, overhead, run


def durable_rate(home: Path, n: int, store_url: str | None = None) -> dict[str, float]:
    """Log n points as fast as a training loop can, flush, count back: n / (first log → flushed)."""
    run = start_run(home, store_url=store_url)
    gc.collect()
    log = run.log_call
    t0 = time.perf_counter()
    for i in range(n):
        log(NAMES[i % 10], i * 0.5)
    t1 = time.perf_counter()
    run.flush()
    t2 = time.perf_counter()
    counted = run.count_points()
    if counted != n:
        raise RuntimeError(f"logged {n} points but the store holds {counted}")
    run.complete()
    return {"rate": n / (t2 - t0), "log_loop_s": t1 - t0, "flush_wait_s": t2 - t1}


def store_layer_rate(store_url: str, n: int) -> float:
    """Points/s through `Store.write_metrics` in writer-sized chunks (no SDK, no thread): the store's own cost."""
    from runtui.ids import new_run_id
    from runtui.status import RunStatus
    from runtui.store import NewRun, open_store

    store = open_store(store_url)
    rid = new_run_id("bench")
    store.create_runs([NewRun(id=rid, experiment="bench", status=RunStatus.RUNNING)])
    points: list[Any] = [(rid, p[1], None, p[3], None, "scalar", p[6]) for p in _points(rid, n)]
    gc.collect()
    t0 = time.perf_counter()
    for i in range(0, n, CHUNK):
        store.write_metrics(points[i : i + CHUNK])
    return n / (time.perf_counter() - t0)


# ---------------------------------------------------------------- raw sqlite3


def runtui_metric_ddl(scratch: Path) -> list[str]:
    """The point table's CREATE TABLE and CREATE INDEX statements, as a runtui store makes them."""
    from runtui.store import open_store

    path = scratch / "ddl-source.db"
    open_store(sqlite_url(path))
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'metric_point' AND sql IS NOT NULL"
        ).fetchall()
    return [r[0] for r in rows]


def raw_sqlite_rates(scratch: Path, n: int, reps: int) -> dict[str, float]:
    """Raw sqlite3 in each of its ways: a one-row INSERT through `executemany`, and multi-row INSERTs of 100
    rows and of 2,000 rows (what runtui's store does: 2,000-row statements, the remainder 100 rows at a time).
    The fastest is the physical limit runtui is judged against."""
    from itertools import chain

    one = "INSERT INTO metric_point (series_id, step, value, time, text) VALUES (?, ?, ?, ?, ?)"

    def many(per: int) -> str:
        return "INSERT INTO metric_point (series_id, step, value, time, text) VALUES " + ", ".join(
            ["(?, ?, ?, ?, ?)"] * per
        )

    sql = {per: many(per) for per in (100, 2000)}

    def one_row(conn: sqlite3.Connection, chunk: list[LeanRow]) -> None:
        conn.executemany(one, chunk)

    def multi(tiers: tuple[int, ...]) -> Callable[[sqlite3.Connection, list[LeanRow]], None]:
        def insert(conn: sqlite3.Connection, chunk: list[LeanRow]) -> None:
            flat = list(chain.from_iterable(chunk))
            done = 0
            for per in tiers:
                width = 5 * per
                end = done + (len(flat) - done) // width * width
                if end > done:
                    conn.executemany(sql[per], [flat[i : i + width] for i in range(done, end, width)])
                    done = end
            if done < len(flat):
                conn.executemany(one, chunk[done // 5 :])

        return insert

    out = {}
    modes = {"executemany": one_row, "multi_row": multi((100,)), "multi_row_2000": multi((2000, 100))}
    for mode, insert in modes.items():
        path = scratch / f"raw-{mode}.db"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        for ddl in runtui_metric_ddl(scratch):
            conn.execute(ddl)
        rates = []
        for rep in range(reps):
            rows = _lean_rows(rep * 10, n)
            gc.collect()
            t0 = time.perf_counter()
            for i in range(0, n, CHUNK):
                conn.execute("BEGIN IMMEDIATE")
                insert(conn, rows[i : i + CHUNK])
                conn.execute("COMMIT")
            rates.append(n / (time.perf_counter() - t0))
            counted = conn.execute(
                "SELECT count(*) FROM metric_point WHERE series_id BETWEEN ? AND ?", (rep * 10, rep * 10 + 9)
            ).fetchone()[0]
            if counted != n:
                raise RuntimeError(f"raw sqlite3 ({mode}) wrote {counted} of {n}")
        conn.close()
        out[mode] = median(rates)
    return out


# ---------------------------------------------------------------- benchmarks


def bench_sqlite_write(ctx: Context) -> list[Row]:
    scratch = Path(ctx.scratch)
    n, reps = _sizes(ctx)
    calls = 50_000 if ctx.quick else 200_000
    costs, overhead, probe = log_call_costs(scratch / "calls", calls)
    layer = probe.layer
    probe.complete()
    log_med, log_p99 = median(costs), percentile(costs, 99)

    runs = [durable_rate(scratch / f"rate{r}", n) for r in range(reps)]
    best = sorted(runs, key=lambda r: r["rate"])[len(runs) // 2]
    rate = best["rate"]
    store_rate = store_layer_rate(sqlite_url(scratch / "layer" / "runtui.db"), n)
    raws = raw_sqlite_rates(scratch, n, reps)
    raw = max(raws.values())

    ml_metric = ml_batch = ml_call = None
    if ctx.mlflow:
        db = scratch / "mlflow.db"
        client = mlflow_side.open_tracking(db)
        exp = mlflow_side.experiment(client, "bench", scratch / "mlartifacts")
        run_id = client.create_run(exp).info.run_id
        ml_metric = mlflow_side.log_metric_rate(client, run_id, seconds=1.0 if ctx.quick else 2.0)
        ml_call = 1.0 / ml_metric
        run2 = client.create_run(exp).info.run_id
        ml_batch = mlflow_side.log_batch_rate(client, run2, batches=5 if ctx.quick else 10)
        counted = mlflow_side.count_metrics(db, run2)
        if counted == 0:
            raise RuntimeError("MLflow log_batch wrote nothing")

    what = "run.log() call cost (training thread)" if layer == "sdk" else "MetricWriter.put() call cost (store layer)"
    call_row = Row(
        key="log_call",
        what=what,
        value=log_med,
        text=f"{fmt_time(log_med)} median, {fmt_time(log_p99)} p99",
        target="<= 5 µs median",
        met=log_med <= 5e-6,
        comparisons=[Comparison("MLflow log_metric (per call)", ml_call, fmt_time(ml_call))] if ml_call else [],
        ratio=f"MLflow {fmt_ratio(ml_call / log_med)} slower" if ml_call else "",
        note=f"{calls:,} calls, each timed (timer cost {fmt_time(overhead)} included); layer: {layer}",
        extra={
            "median_s": log_med,
            "p99_s": log_p99,
            "p999_s": percentile(costs, 99.9),
            "timer_s": overhead,
            "layer": layer,
        },
    )

    checks = [rate >= 300_000, raw / rate <= 2.0]
    ratio = [f"raw/runtui {raw / rate:.2f}"]
    comps = [
        Comparison("raw sqlite3 2,000-row INSERTs", raws["multi_row_2000"], fmt_rate(raws["multi_row_2000"])),
        Comparison("raw sqlite3 100-row INSERTs", raws["multi_row"], fmt_rate(raws["multi_row"])),
        Comparison("raw sqlite3 executemany", raws["executemany"], fmt_rate(raws["executemany"])),
        Comparison("Store.write_metrics alone", store_rate, fmt_rate(store_rate)),
    ]
    if ml_batch and ml_metric:
        comps += [
            Comparison("MLflow log_batch", ml_batch, fmt_rate(ml_batch)),
            Comparison("MLflow log_metric", ml_metric, fmt_rate(ml_metric)),
        ]
        ratio += [f"{fmt_ratio(rate / ml_batch)} log_batch", f"{fmt_ratio(rate / ml_metric)} log_metric"]
        checks += [rate / ml_batch >= 30, rate / ml_metric >= 1000]
    rate_row = Row(
        key="sqlite_points",
        what="durable points/s into SQLite, one process",
        value=rate,
        text=fmt_rate(rate),
        target=">= 300,000/s; within 2x raw; >= 30x log_batch; >= 1,000x log_metric",
        met=all(checks),
        comparisons=comps,
        ratio="; ".join(ratio),
        note=(
            f"{n:,} points × {reps} reps (median), 10 names; log loop {best['log_loop_s']:.2f} s + flush wait "
            f"{best['flush_wait_s']:.2f} s; layer: {layer}"
        ),
        extra={
            "runs": runs,
            "raw": raw,
            "raw_modes": raws,
            "store_layer": store_rate,
            "mlflow_log_batch": ml_batch,
            "mlflow_log_metric": ml_metric,
        },
    )
    return [call_row, rate_row]


# ---------------------------------------------------------------- PostgreSQL


def _raw_pg(url: str) -> Any:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    return engine, engine.raw_connection()


def raw_pg_rates(url: str, n: int) -> dict[str, float]:
    """psycopg executemany and COPY into a table LIKE runtui's metric_point table (same indexes)."""
    engine, raw = _raw_pg(url)
    conn = raw.driver_connection
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE raw_metric (LIKE metric_point INCLUDING ALL)")
    conn.commit()
    cols = "series_id, step, value, time, text"
    out: dict[str, float] = {}

    def timed(label: str, fn: Callable[[list[LeanRow]], None]) -> None:
        rows = _lean_rows(0 if label == "copy" else 10, n)
        t0 = time.perf_counter()
        for i in range(0, n, CHUNK):
            fn(rows[i : i + CHUNK])
            conn.commit()
        out[label] = n / (time.perf_counter() - t0)

    def executemany(rows: list[LeanRow]) -> None:
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO raw_metric ({cols}) VALUES (%s, %s, %s, %s, %s)", rows)

    def copy(rows: list[LeanRow]) -> None:
        with conn.cursor() as cur, cur.copy(f"COPY raw_metric ({cols}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row(r)

    timed("executemany", executemany)
    timed("copy", copy)
    raw.close()
    engine.dispose()
    return out


def _executemany_insert_flat(conn: Any, flat: list[Any]) -> None:
    """The store's write without COPY: psycopg executemany (kept to show what COPY buys)."""
    sql = "INSERT INTO metric_point (series_id, step, value, time, text) VALUES (%s, %s, %s, %s, %s)"
    conn.exec_driver_sql(sql, list(zip(*[iter(flat)] * 5, strict=True)))


def bench_postgres_write(ctx: Context) -> list[Row]:
    target = ">= 150,000/s"
    what = "durable points/s into PostgreSQL (local server)"
    if not ctx.postgres_url:
        return [
            Row("pg_points", what, None, "no server configured", target, None, note="set RUNTUI_BENCH_POSTGRES_URL")
        ]
    scratch = Path(ctx.scratch)
    n = 100_000 if ctx.quick else 200_000
    with postgres_schema(ctx.postgres_url) as url:
        sdk = durable_rate(scratch / "pg", n, store_url=url)
        layer_rate = store_layer_rate(url, n)
        raw = raw_pg_rates(url, n)
    from runtui.store import metrics

    original = metrics.insert_flat
    metrics.insert_flat = _executemany_insert_flat
    try:
        with postgres_schema(ctx.postgres_url) as url:
            executemany_rate = store_layer_rate(url, n)
    finally:
        metrics.insert_flat = original
    rate = sdk["rate"]
    comps = [
        Comparison("Store.write_metrics alone", layer_rate, fmt_rate(layer_rate)),
        Comparison("raw psycopg executemany", raw["executemany"], fmt_rate(raw["executemany"])),
        Comparison("raw psycopg COPY", raw["copy"], fmt_rate(raw["copy"])),
    ]
    comps.append(Comparison("Store.write_metrics, executemany", executemany_rate, fmt_rate(executemany_rate)))
    return [
        Row(
            key="pg_points",
            what=what,
            value=rate,
            text=fmt_rate(rate),
            target=target,
            met=rate >= 150_000,
            comparisons=comps,
            ratio=f"raw COPY/runtui {raw['copy'] / rate:.2f}",
            note=f"{n:,} points, 10 names; log loop {sdk['log_loop_s']:.2f} s + flush wait {sdk['flush_wait_s']:.2f} s",
            extra={"runtui": sdk, "store_layer": layer_rate, "raw": raw, "store_layer_executemany": executemany_rate},
        )
    ]
