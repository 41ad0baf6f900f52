"""Cancel latency: from writing CancelRequested to the run's whole process tree being gone.

    python -m bench.cancel_latency [--runs 20] [--store URL] [--json OUT]

Each round submits a script that starts 4 more processes (one of them in a new session, one a grandchild),
all of which exit on SIGTERM; once the run is Running and all 5 processes are up, the benchmark writes
CancelRequested to the store (what `Run.cancel()` does) and then watches, from outside, until no process
of the tree exists any more (not even as a zombie), and until the run shows Canceled.

Reported: the median (and p90, min, max) over the rounds of
- `gone`: write -> last process of the tree gone,
- `canceled`: write -> status Canceled visible in the store,
- `supervisor`: the supervisor's own measure from its first SIGTERM to the tree reaped (its log).
Runs on a private SQLite workspace in a temporary folder unless --store names another store.
`measure()` is importable for the benchmark suite.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TREE_SCRIPT = """
import os, subprocess, sys, time
import psutil
SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]
NESTED = [sys.executable, "-c",
          "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']);"
          " time.sleep(600)"]
kids = [subprocess.Popen(SLEEP), subprocess.Popen(SLEEP, start_new_session=True), subprocess.Popen(NESTED)]
me = psutil.Process()
while len(me.children(recursive=True)) < 4:
    time.sleep(0.01)
procs = [me, *me.children(recursive=True)]
with open(sys.argv[1] + ".tmp", "w") as fh:
    fh.write("\\n".join(f"{p.pid} {p.create_time()!r}" for p in procs))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
"""


def _wait(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.005)


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * len(ordered) + 0.5) - 1)]
    return {
        "median_s": statistics.median(ordered),
        "p90_s": p90,
        "min_s": ordered[0],
        "max_s": ordered[-1],
    }


@contextmanager
def private_store(url: str | None) -> Iterator[str | None]:
    """A PostgreSQL URL becomes a private schema on that server (dropped afterwards), so the benchmark never
    writes into a shared database's tables; other URLs are used as given."""
    if url is None or not url.startswith("postgresql"):
        yield url
        return
    from sqlalchemy import create_engine, text

    schema = "cancel_bench_" + secrets.token_hex(4)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def measure(runs: int = 20, store_url: str | None = None, folder: Path | None = None) -> dict[str, Any]:
    with private_store(store_url) as url:
        result = _measure(runs, url, folder)
    if store_url:
        from runtui.store.engine import redact

        result["store"] = redact(store_url)
    return result


def _measure(runs: int, store_url: str | None, folder: Path | None) -> dict[str, Any]:
    from runtui import config
    from runtui.execution.launch import submit_run
    from runtui.execution.process_tree import ProcessIdentity
    from runtui.status import RunStatus
    from runtui.store import open_store

    with tempfile.TemporaryDirectory(prefix="runtui-cancel-") as tmp:
        base = folder or Path(tmp)
        ws = config.resolve(path=base / "ws", store_url=store_url)
        store = open_store(ws.store_url)
        src = base / "src"
        src.mkdir(exist_ok=True)
        (src / "tree.py").write_text(textwrap.dedent(TREE_SCRIPT))
        gone: list[float] = []
        canceled: list[float] = []
        supervisor: list[float] = []
        for i in range(runs):
            pids_file = base / f"pids-{i}"
            rec = submit_run(
                store,
                ws,
                experiment="cancel-bench",
                source_directory=src,
                script="tree.py",
                arguments=[str(pids_file)],
                environment_variables={},
                python=None,
                tags={},
                display_name=None,
                grace_period=10.0,
                sample_interval=60.0,
            )
            _wait(pids_file.exists, 60, "the tree to start")
            idents = [
                ProcessIdentity(int(pid), float(ct))
                for pid, ct in (line.split() for line in pids_file.read_text().splitlines())
            ]
            assert len(idents) == 5, idents
            _wait(lambda rid=rec.id: store.get_run(rid).status == RunStatus.RUNNING, 60, "Running")
            time.sleep(0.2)  # let the supervisor settle into its wait

            import psutil

            def exists(ident: ProcessIdentity) -> bool:
                try:
                    return ident.matches(psutil.Process(ident.pid).create_time())
                except psutil.NoSuchProcess:
                    return False

            t0 = time.perf_counter()
            store.set_status(rec.id, RunStatus.CANCEL_REQUESTED)
            t_gone = t_canceled = None
            deadline = t0 + 60
            while t_gone is None or t_canceled is None:
                now = time.perf_counter()
                if now > deadline:
                    raise RuntimeError(f"run {rec.id}: the tree or the status did not change within 60 s")
                if t_gone is None and not any(exists(x) for x in idents):
                    t_gone = now - t0
                if t_canceled is None and store.get_run(rec.id).status == RunStatus.CANCELED:
                    t_canceled = time.perf_counter() - t0
                time.sleep(0.001)
            gone.append(t_gone)
            canceled.append(t_canceled)
            log = (ws.run_dir(rec.id) / "supervisor.log").read_text()
            found = re.search(r"tree gone after ([0-9.]+) s", log)
            if found:
                supervisor.append(float(found.group(1)))
    from runtui.store.engine import dispose_engine

    dispose_engine(ws.store_url)
    return {
        "runs": runs,
        "store": "sqlite (temporary)",
        "tree_processes": 5,
        "gone": _stats(gone),
        "canceled": _stats(canceled),
        "supervisor": _stats(supervisor) if supervisor else None,
        "samples_gone_s": gone,
        "samples_canceled_s": canceled,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--store", default=None, help="a store URL (default: a temporary SQLite workspace)")
    parser.add_argument("--json", type=Path, default=None, help="also write the result as JSON here")
    ns = parser.parse_args(argv)
    result = measure(ns.runs, ns.store)

    def ms(x: float) -> str:
        return f"{x * 1e3:.1f} ms"

    print(f"cancel latency, {result['runs']} rounds, 5-process tree, store: {result['store']}")
    for key, label in (
        ("gone", "CancelRequested written -> tree gone"),
        ("canceled", "CancelRequested written -> Canceled"),
        ("supervisor", "first SIGTERM -> tree reaped (supervisor)"),
    ):
        s = result[key]
        if s:
            print(
                f"  {label:44s} median {ms(s['median_s'])}, p90 {ms(s['p90_s'])}, "
                f"min {ms(s['min_s'])}, max {ms(s['max_s'])}"
            )
    if ns.json:
        ns.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
