"""Processes the reliability suite starts: real training-like writers, a TUI-like reader, a batch writer.

Run as `python reliability_worker.py <mode> <json arguments>` with the repository root on PYTHONPATH. Every mode reports
on stdout in JSON lines (so the parent can read progress through the pipe before it kills us) and writes
errors to stderr (the parent asserts there are none where none are expected).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any


def emit(**fields: Any) -> None:
    """One JSON line to the parent, flushed at once (it may SIGKILL us right after reading it)."""
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def point_value(writer: int, i: int) -> float:
    """The value of point `i` of writer `writer`: multiples of 0.5, so sums are exact in binary floating point."""
    return writer * 1000 + (i % 1000) * 0.5


def writer(args: dict[str, Any]) -> None:
    """A training process: its own run, `points` metric points over a few names, tags, a child run, completion."""
    from runtui import Experiment, Workspace

    ws = Workspace(path=args["home"], store_url=args["url"])
    exp = Experiment(ws, args.get("experiment", "concurrency"))
    index = int(args["index"])
    names = list(args["names"])
    n = int(args["points"])
    flush_every = int(args["flush_every"])
    run = exp.start_logging(display_name=f"writer {index}")
    emit(event="started", run_id=run.id)
    run.add_properties({"writer": str(index)})
    max_flush = max_sync = max_log = 0.0
    for i in range(n):
        t = time.monotonic()
        run.log(names[i % len(names)], point_value(index, i))
        max_log = max(max_log, time.monotonic() - t)
        if (i + 1) % flush_every == 0:
            t = time.monotonic()
            if not run.flush(timeout=300):
                print(f"flush timed out at point {i + 1}", file=sys.stderr)
            max_flush = max(max_flush, time.monotonic() - t)
            t = time.monotonic()
            run.tag("progress", str(i + 1))  # a synchronous write: waits for the write lock like any other
            max_sync = max(max_sync, time.monotonic() - t)
    child = run.child_run(name=f"eval {index}")
    child.log("acc", 0.5)
    child.fail("planned failure")  # a status change: Running -> Failed
    run.tag("done")
    run.complete()
    emit(event="done", run_id=run.id, child_id=child.id, max_flush=max_flush, max_sync=max_sync, max_log=max_log)


def reader(args: dict[str, Any]) -> None:
    """What the TUI does on every refresh: the change feed, the summaries of what changed, a run listing."""
    from runtui.store import open_store

    store = open_store(args["url"])
    stop = args["stop_file"]
    rev = 0
    refreshes = 0
    max_refresh = 0.0
    seen: set[str] = set()
    while not os.path.exists(stop):
        t = time.monotonic()
        changes = store.changes_since(rev)
        rev = changes.revision
        ids = [r.id for r in changes.runs]
        seen.update(ids)
        store.get_summaries(ids)
        store.get_tags(ids)
        listed = list(store.query_runs(top_level_only=True, limit=100))
        max_refresh = max(max_refresh, time.monotonic() - t)
        refreshes += 1
        if not listed and not ids:
            time.sleep(0.01)
    emit(event="done", refreshes=refreshes, max_refresh=max_refresh, runs_seen=len(seen), revision=rev)


def threads(args: dict[str, Any]) -> None:
    """Many threads of one process logging to one shared run (as data-loader or rank threads might)."""
    from runtui import Experiment, Workspace

    ws = Workspace(path=args["home"], store_url=args["url"])
    run = Experiment(ws, "threads").start_logging()
    n = int(args["points"])
    count = int(args["threads"])
    barrier = threading.Barrier(count)
    errors: list[str] = []

    def work(k: int) -> None:
        try:
            barrier.wait()
            for i in range(n):
                run.log(f"t{k}", point_value(k, i))
                if i % 10 == 0:
                    run.log("shared", 1.0)  # one series written by every thread: steps must not collide
                if i % 10_000 == 0:
                    run.tag(f"thread{k}", str(i))
        except Exception as exc:
            errors.append(repr(exc))

    pool = [threading.Thread(target=work, args=(k,)) for k in range(count)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    run.complete()
    emit(event="done", run_id=run.id, errors=errors)


def kill_target(args: dict[str, Any]) -> None:
    """An SDK training loop that confirms each flushed block to the parent, to be SIGKILLed at some point."""
    from runtui import Experiment, Workspace

    ws = Workspace(path=args["home"], store_url=args["url"])
    run = Experiment(ws, "killed").start_logging()
    emit(event="started", run_id=run.id)
    block = int(args["block"])
    i = 0
    while True:
        for _ in range(block):
            run.log("loss", float(i))
            i += 1
        run.flush(timeout=60)
        emit(event="flushed", points=i)


def batch_writer(args: dict[str, Any]) -> None:
    """Large metric batches straight through the store, one transaction each: the kill lands mid-batch.

    Every point of batch k is named `b<k>`, so afterwards each batch is either wholly there or wholly absent.
    """
    from runtui.store import open_store

    store = open_store(args["url"])
    run_id = args["run_id"]
    size = int(args["size"])
    k = 0
    while True:
        now = time.time()
        points = [(run_id, f"b{k}", i, float(i), None, "scalar", now) for i in range(size)]
        emit(event="begin", batch=k)
        t = time.monotonic()
        store.write_metrics(points)
        emit(event="committed", batch=k, seconds=time.monotonic() - t)
        k += 1


def full_disk(args: dict[str, Any]) -> None:
    """A training loop that logs steadily while the parent fills and frees the disk under the store."""
    from runtui import Experiment, Workspace

    ws = Workspace(path=args["home"], store_url=args["url"])
    run = Experiment(ws, "disk").start_logging()
    emit(event="started", run_id=run.id)
    go = args["go_file"]
    i = 0
    # Phase 1 and 2: log until the parent says it freed the space, reporting progress as we go.
    while not os.path.exists(go):
        for _ in range(int(args["block"])):
            run.log("loss", float(i))
            i += 1
        emit(event="step", points=i)
        time.sleep(0.02)
    ok = run.flush(timeout=120)
    run.complete()
    emit(event="done", run_id=run.id, points=i, flushed=ok)


def race(args: dict[str, Any]) -> None:
    """One of N processes racing through get-or-create, trial after trial, released together by the parent.

    Before trial t the worker reports `ready` and blocks reading pipe `fds[t]`; the parent closes that pipe's
    write end once every worker is ready, which wakes them all at one instant. Each then creates the trial's
    new experiment (ensure_experiment), a run in it, a child of the trial's hub run (numbers in one experiment
    race too), a tag and a property on the hub, and a point in the hub's `loss` series; it reports the series
    id it reads back, and any exception as text.
    """
    from sqlalchemy import select

    from runtui.status import RunStatus
    from runtui.store import Store
    from runtui.store.db import series_t
    from runtui.store.store import NewRun

    store = Store(args["url"])
    store.get_experiment("warm-up")  # connect (and check the schema) before the first release
    index = int(args["index"])
    for t, fd in enumerate(args["fds"]):
        emit(event="ready", trial=t)
        os.read(fd, 1)  # b"" once the parent closes the write end: every worker wakes together
        os.close(fd)
        exp, hub = f"race-{t}", f"hub-{t}"
        series_id = None
        errors: list[str] = []
        try:
            store.ensure_experiment(exp)
            store.create_runs([NewRun(id=f"{exp}-{index}", experiment=exp, status=RunStatus.RUNNING)])
            store.create_runs(
                [NewRun(id=f"{hub}-child-{index}", experiment="hubs", status=RunStatus.RUNNING, parent_id=hub)]
            )
            store.set_tags(hub, {"last": str(index)})
            store.add_properties(hub, {"same": "value"})
            store.write_metrics([(hub, "loss", None, float(index), None, "scalar", time.time())])
            with store.db.read() as conn:
                series_id = conn.execute(
                    select(series_t.c.id).where(series_t.c.run_id == hub, series_t.c.name == "loss")
                ).scalar_one()
        except Exception as exc:  # reported to the parent, which asserts there is none
            errors.append(f"{type(exc).__name__}: {exc}")
        emit(event="result", trial=t, series_id=series_id, errors=errors)


MODES = {
    "writer": writer,
    "reader": reader,
    "threads": threads,
    "kill_target": kill_target,
    "batch_writer": batch_writer,
    "full_disk": full_disk,
    "race": race,
}

if __name__ == "__main__":
    MODES[sys.argv[1]](json.loads(sys.argv[2]))
