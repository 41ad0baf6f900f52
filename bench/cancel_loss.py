"""Points lost on cancel: a submitted script logs through `Run.get_context()` (a point every 2 ms) and prints
`logged N` after each `run.log`; it is canceled at a random moment; every N it printed must be in the store.

`python bench/cancel_loss.py [--tries 20] [--store-url URL]` (default: a fresh SQLite store in a temp folder).
Prints, per try, the points printed and the points missing, then the totals, and appends a JSON line to
bench/results/cancel_loss.json. Benchmarks measure; they never assert.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import time
from runtui import Run

run = Run.get_context()
n = 0
while True:
    n += 1
    run.log("n", n)
    print(f"logged {n}", flush=True)
    time.sleep(0.002)
"""


def _printed(log: Path) -> list[int]:
    if not log.exists():
        return []
    return [int(m) for m in re.findall(r"^logged (\d+)$", log.read_text(errors="replace"), re.M)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--store-url", default=None)
    parser.add_argument("--seed", type=int, default=14)
    ns = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from runtui import config
    from runtui.core.cancel import cancel_runs
    from runtui.execution.launch import submit_run
    from runtui.store import open_store

    folder = Path(tempfile.mkdtemp(prefix="runtui-cancel-loss-"))
    url = ns.store_url or f"sqlite:///{folder / 'runtui.db'}"
    ws = config.resolve(path=folder / "ws", store_url=url)
    store = open_store(url)
    src = folder / "src"
    src.mkdir()
    (src / "logger.py").write_text(SCRIPT)
    rng = random.Random(ns.seed)
    rows = []
    for i in range(ns.tries):
        rec = submit_run(
            store, ws, experiment="loss", source_directory=src, script="logger.py", arguments=[],
            environment_variables={}, python=None, tags={}, display_name=None, grace_period=5.0,
        )  # fmt: skip
        log = ws.run_dir(rec.id) / "logs" / "output.log"
        at = rng.randint(1, 400)
        deadline = time.monotonic() + 120
        while len(_printed(log)) < at and time.monotonic() < deadline:
            time.sleep(0.005)  # polling period
        t0 = time.monotonic()
        cancel_runs(store, rec.id)
        while not store.get_run(rec.id).status.is_terminal and time.monotonic() < deadline:
            time.sleep(0.005)
        took = time.monotonic() - t0
        printed = _printed(log)
        stored = {int(v) for s in store.get_series(rec.id, ["n"]) for v in s.values}
        missing = sorted(set(printed) - stored)
        status = store.get_run(rec.id).status.value
        rows.append({"printed": len(printed), "missing": len(missing), "status": status, "cancel_s": took})
        print(f"try {i + 1:2d}: {len(printed):4d} printed, {len(missing)} missing, {status} after {took:.2f} s")
    lost = sum(r["missing"] for r in rows)
    printed_all = sum(r["printed"] for r in rows)
    print(f"{ns.tries} cancels, {printed_all} points printed as logged, {lost} lost ({store.url.split(':')[0]})")
    out = ROOT / "bench" / "results" / "cancel_loss.json"
    out.parent.mkdir(exist_ok=True)
    with out.open("a") as fh:
        fh.write(json.dumps({"at": time.time(), "backend": url.split(":")[0], "lost": lost, "rows": rows}) + "\n")


if __name__ == "__main__":
    main()
