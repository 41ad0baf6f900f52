"""Many boxes on one PostgreSQL: connections per box, memory per run, cross-host cancel, a cut of every connection.

    python -m bench.connections [--store URL] [--one-box 1,50,200] [--hosts 10] [--runs 200] [--json OUT]
                                [--no-agent N] [--cancels N] [--quick]

Sizes: the defaults are issue 14's (one box at 1/50/200 runs, 10 boxes sharing 200 runs, every run canceled
from another box): ~200 x (supervisor + script) processes, an estimated 11 GiB and 15-20 minutes on 2 cores
(extrapolated from --quick, not yet run at full size); run it on
a quiet machine. `--quick` is `--one-box 1,10 --no-agent 0 --hosts 4 --runs 20 --cancels 10`: under a minute.

"Boxes" are simulated hosts (RUNTUI_HOST and run folders of their own) on this machine. Each run is a tiny
submitted script that logs a point a second through the SDK and prints `logged N` after each.

1. One box, 1 then 50 then 200 concurrent runs (added to the same box): the connections of that box seen during a
   whole 3 s window (held) and at any single sample (peak, short-lived ones included); memory per run (USS and
   RSS of the supervisor + the script) and of the agent; how many metric batches the agent merged into how many
   transactions (the scripts' batches go through it: `RUNTUI_METRICS_VIA_AGENT`).
2. `--no-agent N`: for comparison, N runs on a box with RUNTUI_BOX_AGENT=0 (each supervisor talks to PostgreSQL
   itself and its script keeps a pool).
3. `--hosts` boxes sharing `--runs` runs: held connections per box and in total against max_connections; then a
   pg_terminate_backend of every runtui connection: points printed before the cut that are missing from the
   store, and the time until every run heart-beats again; then a cancel of every run from another box, one at a
   time, each timed from the request to Canceled (p50/p95/max).

Runs in a private schema of the store (dropped afterwards). The machine is shared: say its load with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MIN_FREE_BYTES = 3 * 2**30
SCRIPT = """
import time
from runtui.core.run import Run
run = Run.get_context()
i = 0
while True:
    run.log("i", i, step=i)
    print(f"logged {i}", flush=True)
    i += 1
    time.sleep(1.0)
"""


def _wait(predicate: Callable[[], Any], timeout: float, what: str, pause: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(pause)


@contextmanager
def private_schema(url: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text

    schema = "conn_bench_" + secrets.token_hex(4)
    # pre-ping: the bench's pg_terminate_backend also cuts this idle connection, and the DROP must still run
    admin = create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        from runtui.store.engine import dispose_all_after_fork

        dispose_all_after_fork()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


class Bench:
    def __init__(self, url: str, base: Path) -> None:
        from sqlalchemy import create_engine

        from runtui.store import open_store

        self.url = url
        self.base = base
        self.src = base / "src"
        self.src.mkdir(exist_ok=True)
        (self.src / "points.py").write_text(textwrap.dedent(SCRIPT))
        self.store = open_store(url)
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)
        self.runs: dict[str, str] = {}  # run -> host
        self.viewer = os.environ.get("RUNTUI_HOST") or "bench-viewer"

    def ws(self, host: str) -> Any:
        from runtui import config

        return config.resolve(path=self.base / host, store_url=self.url)

    def submit(self, host: str, count: int) -> list[str]:
        import psutil

        from runtui.execution.launch import submit_run

        ws = self.ws(host)
        out = []
        os.environ["RUNTUI_HOST"] = host
        try:
            for _ in range(count):
                if psutil.virtual_memory().available < MIN_FREE_BYTES:  # a shared machine: never push it into OOM
                    raise MemoryError(f"stopped at {len(self.runs)} runs: less than 3 GiB of memory left")
                rec = submit_run(
                    self.store,
                    ws,
                    experiment="connections",
                    source_directory=self.src,
                    script="points.py",
                    arguments=[],
                    environment_variables={},
                    python=None,
                    tags={},
                    display_name=None,
                    grace_period=3.0,
                )
                self.runs[rec.id] = host
                out.append(rec.id)
        finally:
            os.environ["RUNTUI_HOST"] = self.viewer
        return out

    def now(self) -> float:
        from runtui.execution.liveness import store_now

        return store_now(self.store)

    def wait_beating(self, run_ids: list[str], timeout: float = 600) -> None:
        from runtui.status import RunStatus

        def ready() -> bool:
            now = self.now()
            recs = self.store.get_runs_by_id(run_ids)
            return all(
                r.status == RunStatus.RUNNING and r.heartbeat_at is not None and now - r.heartbeat_at < 15 for r in recs
            )

        _wait(ready, timeout, f"{len(run_ids)} runs Running and heart-beating", 0.5)
        _wait(lambda: all(self.logged(r) >= 1 for r in run_ids), timeout, "every script to have logged", 0.5)

    def connections(self, host: str | None = None) -> list[tuple[str, int, Any, str]]:
        from sqlalchemy import text

        pattern = f"runtui:%@{host}" if host else "runtui:%"
        with self.admin.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT application_name, pid, backend_start, coalesce(state, '') FROM pg_stat_activity "
                    "WHERE application_name LIKE :p AND pid <> pg_backend_pid()"
                ),
                {"p": pattern},
            ).all()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def window(self, hosts: list[str], seconds: float = 3.0) -> dict[str, Any]:
        """Per host: connections held through the whole window (in any state, and idle at every sample), and the
        most seen at one sample (short-lived ones included)."""
        held: dict[str, set[Any]] = {}
        idle: dict[str, set[Any]] = {}
        peak: dict[str, int] = {h: 0 for h in hosts}
        deadline = time.monotonic() + seconds
        while True:
            rows = self.connections()
            for h in hosts:
                mine = {r[:3] for r in rows if r[0].endswith(f"@{h}")}
                quiet = {r[:3] for r in rows if r[0].endswith(f"@{h}") and r[3] == "idle"}
                held[h] = mine if h not in held else held[h] & mine
                idle[h] = quiet if h not in idle else idle[h] & quiet
                peak[h] = max(peak[h], len(mine))
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)  # a sampling interval
        return {
            h: {
                "held": len(held[h]),
                "held_idle": len(idle[h]),
                "held_roles": sorted(a.split("@")[0] for a, _, _ in held[h]),
                "peak": peak[h],
            }
            for h in hosts
        }

    def memory(self, run_ids: list[str]) -> dict[str, float]:
        import psutil

        sup: list[float] = []
        scr: list[float] = []
        rss: list[float] = []
        for rec in self.store.get_runs_by_id(run_ids):
            per_run = 0.0
            for pid, out in ((rec.owner_pid, sup), (rec.pid, scr)):
                if pid is None:
                    continue
                with suppress(psutil.Error):
                    info = psutil.Process(pid).memory_full_info()
                    out.append(info.uss / 2**20)
                    per_run += info.rss / 2**20
            rss.append(per_run)

        def mean(xs: list[float]) -> float:
            return round(statistics.mean(xs), 1) if xs else 0.0

        return {
            "supervisor_uss_mib": mean(sup),
            "script_uss_mib": mean(scr),
            "per_run_uss_mib": round(mean(sup) + mean(scr), 1),
            # RSS counts the shared pages (the interpreter, libraries) in full: an upper bound per run.
            "per_run_rss_mib": mean(rss),
        }

    def agent_stats(self, host: str) -> dict[str, Any]:
        """The agent's USS, and the metric batches and log chunks it merged into how many transactions."""
        import psutil

        from runtui.execution.box_agent import AgentLink

        link = AgentLink(self.url, host)
        try:
            seen = link.request("ping")
            return {
                "agent_uss_mib": round(psutil.Process(int(seen["pid"])).memory_full_info().uss / 2**20, 1),
                "agent_metric_batches": seen.get("metric_batches"),
                "agent_metric_transactions": seen.get("metric_transactions"),
                "agent_log_chunks": seen.get("log_chunks"),
                "agent_log_transactions": seen.get("log_transactions"),
            }
        except Exception:
            return {"agent_uss_mib": None}
        finally:
            link.close()

    def logged(self, run_id: str) -> int:
        path = self.ws(self.runs[run_id]).run_dir(run_id) / "logs" / "output.log"
        found = re.findall(r"^logged (\d+)$", path.read_text(errors="replace") if path.exists() else "", re.M)
        return int(found[-1]) if found else -1

    def steps(self, run_id: str) -> set[int]:
        return {int(v) for s in self.store.get_series(run_id, ["i"]) for v in s.values}

    def terminate_all(self) -> int:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name LIKE 'runtui:%' AND pid <> pg_backend_pid()"
                    )
                ).all()
            )

    def cancel_all(self, run_ids: list[str], hosts: list[str]) -> list[float]:
        """Cancel each run from another box, one at a time; seconds from the request to Canceled."""
        from runtui.core.run import Run
        from runtui.core.workspace import Workspace
        from runtui.status import RunStatus

        out: list[float] = []
        self.cancel_phases: list[tuple[float, float, float]] = []  # request written, script gone, Canceled
        self.cancel_steps: list[dict[str, float]] = []
        for run_id in run_ids:
            other = hosts[(hosts.index(self.runs[run_id]) + 1) % len(hosts)] if len(hosts) > 1 else self.viewer
            viewer = Workspace._from(self.ws(other))
            script = self.store.get_run(run_id).pid
            wall = time.time()
            started = time.monotonic()
            Run.get(viewer, run_id).cancel(wait=False)
            requested = time.monotonic() - started
            _wait(lambda: not _alive(script), 60, "the script to exit", 0.005)  # noqa: B023
            gone = time.monotonic() - started

            def canceled(r: str = run_id) -> bool:
                return self.store.get_run(r).status == RunStatus.CANCELED

            _wait(canceled, 60, f"{run_id} Canceled", 0.01)
            out.append(time.monotonic() - started)
            self.cancel_phases.append((round(requested, 3), round(gone, 3), round(out[-1], 3)))
            self.cancel_steps.append(self._steps(run_id, wall, requested, out[-1]))
        return out

    def _steps(self, run_id: str, wall: float, requested: float, total: float) -> dict[str, float]:
        """Where one cancel's time went, from the supervisor's log (millisecond stamps, this machine's clock):
        write (the canceler's CancelRequested), notice (until the supervisor acts on it: NOTIFY, the agent's
        status read and push, the supervisor's loop), stop (SIGTERM until the tree is gone: the script's flush
        and exit), record (the final writes: log copy, child runs, Canceled), observe (the bench seeing it)."""
        from runtui.execution.spec import SUPERVISOR_LOG

        log = self.ws(self.runs[run_id]).run_dir(run_id) / SUPERVISOR_LOG
        steps: dict[str, float] = {"write": requested}
        with suppress(OSError, RuntimeError):
            # The supervisor logs "recorded Canceled" just after the write the bench saw: wait for the line.
            def logged() -> str:
                text = log.read_text()
                return text if "recorded Canceled" in text else ""

            text = _wait(logged, 5, "the log line")
            seen = re.search(r"^(\S+ \S+) supervisor\[\d+\]: canceling", text, re.M)
            gone = re.search(r"tree gone after ([\d.]+) s", text)
            recorded = re.search(r"recorded Canceled ([\d.]+) s", text)
            if seen and gone and recorded:
                at = time.mktime(time.strptime(seen.group(1)[:19], "%Y-%m-%d %H:%M:%S")) + float(seen.group(1)[19:])
                steps["notice"] = at - wall - requested
                steps["stop"] = float(gone.group(1))
                steps["record"] = float(recorded.group(1)) - steps["stop"]
                steps["observe"] = total - (at - wall) - float(recorded.group(1))
        return {k: round(v, 3) for k, v in steps.items()}

    def stop_everything(self) -> None:
        import psutil

        from runtui.core.run import Run
        from runtui.core.workspace import Workspace

        viewer = Workspace._from(self.ws(self.viewer))
        for rec in self.store.get_runs_by_id(list(self.runs)):
            if rec.status.is_live:
                Run.get(viewer, rec.id).cancel(wait=False)
        try:
            _wait(lambda: all(not r.status.is_live for r in self.store.get_runs_by_id(list(self.runs))), 120, "ends")
        finally:
            for rec in self.store.get_runs_by_id(list(self.runs)):
                for pid in (rec.pid, rec.owner_pid):
                    if pid:
                        with suppress(psutil.Error):
                            psutil.Process(pid).kill()


def _alive(pid: int | None) -> bool:
    import psutil

    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered) + 0.999) - 1)]
    return {
        "n": len(ordered),
        "p50_s": round(statistics.median(ordered), 3),
        "p95_s": round(p95, 3),
        "max_s": round(ordered[-1], 3),
    }


def one_box(bench: Bench, steps: list[int]) -> dict[str, Any]:
    host = "bench-one-" + secrets.token_hex(2)
    out: dict[str, Any] = {}
    runs: list[str] = []
    try:
        for n in steps:
            runs += bench.submit(host, n - len(runs))
            bench.wait_beating(runs)
            conn = bench.window([host])[host]
            out[str(n)] = {**conn, **bench.memory(runs), **bench.agent_stats(host)}
            print(f"one box, {n} runs: {out[str(n)]}", flush=True)
    finally:
        bench.stop_everything()
    return out


def no_agent(bench: Bench, n: int) -> dict[str, Any]:
    host = "bench-noagent-" + secrets.token_hex(2)
    os.environ["RUNTUI_BOX_AGENT"] = "0"
    try:
        runs = bench.submit(host, n)
        bench.wait_beating(runs)
        result = {**bench.window([host])[host], **bench.memory(runs)}
        print(f"no agent, {n} runs: {result}", flush=True)
        return {str(n): result}
    finally:
        os.environ.pop("RUNTUI_BOX_AGENT", None)
        bench.stop_everything()


def many_boxes(bench: Bench, hosts_n: int, total: int, cancels: int = 0) -> dict[str, Any]:
    from sqlalchemy import text

    tag = secrets.token_hex(2)
    hosts = [f"bench-{tag}-{i}" for i in range(hosts_n)]
    runs: list[str] = []
    try:
        started = time.monotonic()
        for i in range(total):
            runs += bench.submit(hosts[i % hosts_n], 1)
        submitted_s = time.monotonic() - started
        bench.wait_beating(runs)
        ready_s = time.monotonic() - started
        with bench.admin.connect() as conn:
            max_connections = int(conn.execute(text("SHOW max_connections")).scalar_one())
        window = bench.window(hosts)
        result: dict[str, Any] = {
            "hosts": hosts_n,
            "runs": total,
            "max_connections": max_connections,
            "submit_s": round(submitted_s, 1),
            "all_beating_s": round(ready_s, 1),
            "held_per_box_max": max(w["held"] for w in window.values()),
            "held_idle_per_box_max": max(w["held_idle"] for w in window.values()),
            "held_roles_beyond_agent": sorted(
                {r for w in window.values() for r in w["held_roles"] if r not in ("runtui:agent", "runtui:listen")}
            ),
            "held_total": sum(w["held"] for w in window.values()),
            "peak_per_box_max": max(w["peak"] for w in window.values()),
            "peak_total_max_of_boxes_sum": sum(w["peak"] for w in window.values()),
            **bench.memory(runs),
        }
        print(f"{hosts_n} boxes, {total} runs: {result}", flush=True)

        printed = {r: bench.logged(r) for r in runs}
        cut = bench.now()
        result["terminated_connections"] = bench.terminate_all()
        t0 = time.monotonic()

        def all_points() -> bool:
            return all(set(range(printed[r] + 1)) <= bench.steps(r) for r in runs)

        _wait(all_points, 300, "every point printed before the cut", 0.5)
        result["points_printed_before_cut"] = sum(printed[r] + 1 for r in runs)
        result["points_lost"] = sum(len(set(range(printed[r] + 1)) - bench.steps(r)) for r in runs)
        _wait(lambda: all((r.heartbeat_at or 0) > cut for r in bench.store.get_runs_by_id(runs)), 300, "beats")
        result["recovered_s"] = round(time.monotonic() - t0, 1)
        print(f"after the cut: {result}", flush=True)

        sample = runs if cancels <= 0 or cancels >= len(runs) else random.Random(1).sample(runs, cancels)
        result["load_at_cancel"] = os.getloadavg()
        latencies = bench.cancel_all(sample, hosts)
        result["cancel"] = stats(latencies)
        slow = [p for p in bench.cancel_phases if p[2] > 1.0]
        result["cancel_over_1s_phases"] = slow  # (request written, script gone, Canceled), seconds
        names = ("write", "notice", "stop", "record", "observe")
        result["cancel_steps"] = {
            k: stats([s[k] for s in bench.cancel_steps if k in s])
            for k in names
            if any(k in s for s in bench.cancel_steps)
        }
        print(f"cross-host cancel steps: {result['cancel_steps']}", flush=True)
        print(f"cross-host cancel: {result['cancel']} (load average {result['load_at_cancel']})", flush=True)
        return result
    finally:
        bench.stop_everything()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.connections", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default=os.environ.get("RUNTUI_TEST_POSTGRES_URL") or DEFAULT_URL)
    parser.add_argument("--one-box", default="1,50,200", help="run counts on one box (comma-separated; '' skips)")
    parser.add_argument("--no-agent", type=int, default=10, help="runs on a box without the agent (0 skips)")
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--runs", type=int, default=200, help="runs over --hosts boxes (0 skips)")
    parser.add_argument("--cancels", type=int, default=0, help="cancel this many (random) runs, timed; 0: all")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quick", action="store_true", help="small sizes: 1,10 runs on one box, 20 runs on 4 boxes")
    ns = parser.parse_args(argv)
    if ns.quick:
        ns.one_box, ns.no_agent, ns.hosts, ns.runs, ns.cancels = "1,10", 0, 4, 20, 10
    os.environ.setdefault("RUNTUI_BOX_AGENT_IDLE_S", "2")
    result: dict[str, Any] = {"load_before": os.getloadavg(), "cpus": os.cpu_count()}
    with private_schema(ns.store) as url, tempfile.TemporaryDirectory(prefix="runtui-conn-") as tmp:
        bench = Bench(url, Path(tmp))
        if ns.one_box:
            result["one_box"] = one_box(bench, [int(x) for x in ns.one_box.split(",")])
        if ns.no_agent:
            result["no_agent"] = no_agent(bench, ns.no_agent)
        if ns.runs:
            result["many_boxes"] = many_boxes(bench, ns.hosts, ns.runs, ns.cancels)
        bench.admin.dispose()
    result["load_after"] = os.getloadavg()
    text_out = json.dumps(result, indent=2, default=str)
    print(text_out)
    if ns.json:
        ns.json.write_text(text_out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
