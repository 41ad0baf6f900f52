"""Status change -> visible to another process, on a PostgreSQL store: LISTEN/NOTIFY versus the revision poll.

    python -m bench.notify_latency [--rounds 50] [--store URL] [--json OUT]

A viewer process (what the TUI or a supervisor on another host does) waits on a store watcher and, on each
wake-up, reads the change feed (`changes_since`); this process changes a run's status (Running <-> NotResponding,
like a sweep) at random intervals of 100-300 ms and notes the time just before the write. The viewer reports
when it saw each change. Reported, per watcher: the median (and p90, min, max) of write start -> seen, over
`rounds` changes. Watchers: `listen` (PgListenWatcher, its revision poll off, so only NOTIFY wakes it) and
`poll` (the revision poll every 0.25 s that PostgreSQL stores used before). Wall clocks of two processes on one
host. Works in a private schema of the server (dropped afterwards).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.cancel_latency import _stats, private_store  # noqa: E402

RUN_ID = "notify_1_00000001"


def viewer(url: str, kind: str, rounds: int) -> None:
    """The viewer process: prints `ready`, then one line `<revision> <seen time>` per change it sees."""
    from runtui.store import open_store
    from runtui.watch import PgListenWatcher, PollWatcher, Watcher

    store = open_store(url)
    watcher: Watcher
    if kind == "listen":
        watcher = PgListenWatcher(url, poll_interval=None)
    else:
        watcher = PollWatcher(store.current_revision, 0.25)
    watcher.start()
    sub = watcher.subscribe()
    revision = store.current_revision()
    print("ready", flush=True)
    seen = 0
    while seen < rounds:
        if not sub.wait(10.0):
            continue
        changes = store.changes_since(revision)
        now = time.time()
        revision = changes.revision
        for run in changes.runs:
            if run.id == RUN_ID:
                print(f"{run.status.value} {now!r}", flush=True)
                seen += 1
    watcher.close()


def _round_trip(url: str, kind: str, rounds: int) -> list[float]:
    from runtui.status import RunStatus
    from runtui.store import NewRun, open_store

    store = open_store(url)
    if not store.get_runs_by_id([RUN_ID]):
        store.create_runs([NewRun(id=RUN_ID, experiment="notify", status=RunStatus.RUNNING)])
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.notify_latency", "--viewer", kind, "--store", url, "--rounds", str(rounds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    latencies = []
    status = store.get_run(RUN_ID).status
    for _ in range(rounds):
        time.sleep(random.uniform(0.1, 0.3))
        target = RunStatus.NOT_RESPONDING if status == RunStatus.RUNNING else RunStatus.RUNNING
        started = time.time()
        store.set_status(RUN_ID, target)
        status = target
        line = proc.stdout.readline().split()
        while line and line[0] != target.value:  # an older change seen late: skip to ours
            line = proc.stdout.readline().split()
        latencies.append(float(line[1]) - started)
    proc.wait(timeout=30)
    return latencies


def measure(rounds: int = 50, store_url: str | None = None) -> dict[str, Any]:
    url = store_url or os.environ.get("RUNTUI_BENCH_POSTGRES_URL") or os.environ.get("RUNTUI_TEST_POSTGRES_URL")
    if not url:
        raise SystemExit("needs a PostgreSQL URL: --store URL or $RUNTUI_TEST_POSTGRES_URL")
    result: dict[str, Any] = {"rounds": rounds}
    with private_store(url) as private:
        assert private is not None
        for kind in ("listen", "poll"):
            samples = _round_trip(private, kind, rounds)
            result[kind] = {**_stats(samples), "samples": samples}
    from runtui.store.engine import redact

    result["store"] = redact(url)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--store", default=None, help="a PostgreSQL URL (default: $RUNTUI_TEST_POSTGRES_URL)")
    parser.add_argument("--json", type=Path, default=None, help="also write the result as JSON here")
    parser.add_argument("--viewer", choices=["listen", "poll"], help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.viewer:
        viewer(ns.store, ns.viewer, ns.rounds)
        return
    result = measure(ns.rounds, ns.store)
    print(f"status change -> seen by another process, {ns.rounds} changes, store: {result['store']}")
    for kind, label in (("listen", "LISTEN/NOTIFY (poll off)"), ("poll", "revision poll every 0.25 s")):
        s = result[kind]
        print(
            f"  {label:28s} median {s['median_s'] * 1000:.1f} ms, p90 {s['p90_s'] * 1000:.1f} ms, "
            f"min {s['min_s'] * 1000:.1f} ms, max {s['max_s'] * 1000:.1f} ms"
        )
    if ns.json is not None:
        ns.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
