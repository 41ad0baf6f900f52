"""SIGKILL at the worst moments: nothing committed is lost, nothing half-written appears, no run stays Running.

Each victim confirms what it has flushed to the parent (a pipe, or a file for a submitted script) before the
parent kills it, so "nothing committed is lost" is checked against the victim's own word. Batches are
transactions: after a kill in the middle of one, it is wholly there or wholly absent.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from reliability_support import (
    METRIC_ROWS,
    ROOT,
    Terminal,
    integrity_ok,
    metrics_match_summaries,
    query,
    read_events_until,
    spawn,
    worker_env,
)

from runtui import Experiment, ScriptRunConfig, Workspace
from runtui.execution.liveness import LOST_ERROR, finalize_lost, owner_alive, sweep_lost_runs
from runtui.execution.process_tree import ProcessIdentity, signal_process
from runtui.status import RunStatus
from runtui.store import NewRun, Store

pytestmark = pytest.mark.reliability

SDK_KILLS = 4
BATCH_KILLS = 3
BATCH_SIZE = 100_000
WAIT_S = 60.0


def wait_for(predicate, what: str, timeout: float = WAIT_S):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def assert_prefix(url: str, run_id: str, name: str, at_least: int) -> int:
    """The series `name` holds exactly points 0..n-1 (value == step) with n >= `at_least`: the writer commits
    its chunks in order and each chunk atomically, so a kill can only cut the series, never punch holes in it."""
    [(count, distinct, max_step, total)] = query(
        url,
        "SELECT COUNT(*), COUNT(DISTINCT step), MAX(step), SUM(value) FROM "
        + METRIC_ROWS
        + " WHERE run_id = :r AND name = :n",
        r=run_id,
        n=name,
    )
    assert count >= at_least, f"{at_least} points were confirmed flushed, only {count} are in the store"
    assert distinct == count and max_step == count - 1, "the series has holes or duplicate steps"
    assert total == count * (count - 1) / 2, "values do not match their steps"
    return int(count)


@pytest.mark.timeout(300)
def test_sigkill_of_an_sdk_training_process_loses_nothing_flushed(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url)
    for attempt in range(SDK_KILLS):
        proc = spawn("kill_target", {"home": str(tmp_path / "ws"), "url": store_url, "block": 3000})
        events = read_events_until(proc, lambda e: e.get("points", 0) >= 15_000, timeout=WAIT_S)
        run_id = events[0]["run_id"]
        confirmed = events[-1]["points"]
        time.sleep(random.uniform(0.0, 0.3))  # land anywhere: while logging, mid-flush, mid-transaction
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=WAIT_S)
        assert proc.returncode == -signal.SIGKILL

        integrity_ok(store_url)
        metrics_match_summaries(store_url)
        assert_prefix(store_url, run_id, "loss", confirmed)

        # Nobody finalized it: it still says Running until the liveness sweep sees its owner is gone.
        rec = store.get_run(run_id)
        assert rec.status == RunStatus.RUNNING, f"attempt {attempt}"
        assert owner_alive(rec) is False
        [swept] = sweep_lost_runs(store, run_ids=[run_id])
        assert swept.status == RunStatus.NOT_RESPONDING
        final, changed = finalize_lost(store, run_id)
        assert changed and final.status == RunStatus.FAILED and final.error == LOST_ERROR


@pytest.mark.timeout(300)
def test_sigkill_in_the_middle_of_a_batch_leaves_it_wholly_there_or_wholly_absent(
    store_url: str, tmp_path: Path
) -> None:
    store = Store(store_url)
    cut_short = 0
    for attempt in range(BATCH_KILLS):
        run_id = f"batch-{attempt}"
        store.create_runs([NewRun(id=run_id, experiment="batches", status=RunStatus.RUNNING)])
        proc = spawn("batch_writer", {"url": store_url, "run_id": run_id, "size": BATCH_SIZE})
        events = read_events_until(proc, lambda e: e.get("event") == "begin" and e["batch"] == 2, timeout=WAIT_S)
        seconds = [e["seconds"] for e in events if e["event"] == "committed"]
        assert len(seconds) == 2
        # Batch 2 is being written now; aim at the middle of it (batches take about as long as batch 1 did).
        time.sleep(random.uniform(0.1, 0.6) * seconds[1])
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=WAIT_S)
        events += [json.loads(line) for line in out.splitlines()]
        committed = {e["batch"] for e in events if e["event"] == "committed"}
        begun = max(e["batch"] for e in events if e["event"] == "begin")

        integrity_ok(store_url)
        metrics_match_summaries(store_url)
        counts = dict(
            query(
                store_url,
                "SELECT name, COUNT(*) FROM " + METRIC_ROWS + " WHERE run_id = :r GROUP BY name",
                r=run_id,
            )
        )
        for k in committed:
            assert counts.get(f"b{k}") == BATCH_SIZE, f"committed batch {k} is not whole"
        assert all(n == BATCH_SIZE for n in counts.values()), f"a partial batch is visible: {counts}"
        if begun not in committed and f"b{begun}" not in counts:
            cut_short += 1  # the kill landed inside that batch's transaction, and it was rolled back whole
        # The store stays writable: the dead writer's transaction was rolled back, its lock released.
        store.write_metrics([(run_id, "after", 0, 1.0, None, "scalar", time.time())])
    assert cut_short >= 1, "no kill landed inside a batch; the test did not test what it says"


TRAIN = """\
    import os, sys
    from runtui import Run

    run = Run.get_context()
    confirm = sys.argv[1]
    i = 0
    while True:
        for _ in range(2000):
            run.log("loss", float(i))
            i += 1
        run.flush(60)
        with open(confirm + ".tmp", "w") as fh:
            fh.write(str(i))
        os.replace(confirm + ".tmp", confirm)
"""


def _submit(tmp_path: Path, store_url: str) -> tuple[Workspace, str, Path]:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "train.py").write_text(textwrap.dedent(TRAIN))
    confirm = tmp_path / f"confirmed-{time.monotonic_ns()}"
    ws = Workspace(path=tmp_path / "ws", store_url=store_url)
    run = Experiment(ws, "killed").submit(ScriptRunConfig(source_directory=src, arguments=[str(confirm)]))
    return ws, run.id, confirm


def _confirmed(confirm: Path, at_least: int) -> int:
    def read() -> int:
        try:
            n = int(confirm.read_text())
        except (OSError, ValueError):
            return 0
        return n if n >= at_least else 0

    return int(wait_for(read, f"the script to confirm {at_least} flushed points"))


@pytest.mark.timeout(300)
def test_sigkill_of_a_submitted_script_fails_its_run_and_keeps_its_points(store_url: str, tmp_path: Path) -> None:
    ws, run_id, confirm = _submit(tmp_path, store_url)
    store = ws.store
    confirmed = _confirmed(confirm, 10_000)
    rec = store.get_run(run_id)
    assert rec.status == RunStatus.RUNNING and rec.pid is not None and rec.pid_create_time is not None
    assert signal_process(ProcessIdentity(rec.pid, rec.pid_create_time), signal.SIGKILL)

    final = wait_for(lambda: (r := store.get_run(run_id)).status.is_terminal and r, "the supervisor to finalize")
    assert final.status == RunStatus.FAILED
    assert final.error is not None and final.error.startswith("killed by signal SIGKILL")
    integrity_ok(store_url)
    metrics_match_summaries(store_url)
    assert_prefix(store_url, run_id, "loss", confirmed)


@pytest.mark.timeout(300)
def test_sigkill_of_the_supervisor_is_swept_and_finalized_never_running_forever(store_url: str, tmp_path: Path) -> None:
    ws, run_id, confirm = _submit(tmp_path, store_url)
    store = ws.store
    _confirmed(confirm, 6_000)
    rec = store.get_run(run_id)
    assert rec.owner_pid is not None and rec.owner_create_time is not None and rec.pid_create_time is not None
    supervisor = ProcessIdentity(rec.owner_pid, rec.owner_create_time)
    script = ProcessIdentity(rec.pid, rec.pid_create_time)  # type: ignore[arg-type]
    assert signal_process(supervisor, signal.SIGKILL)
    wait_for(lambda: not supervisor.is_alive(), "the supervisor to die")

    # The orphaned script goes on logging; the run is swept as NotResponding, then `runtui gc` ends it.
    later = _confirmed(confirm, _confirmed(confirm, 0) + 4_000)
    [swept] = sweep_lost_runs(store, run_ids=[run_id])
    assert swept.status == RunStatus.NOT_RESPONDING
    gc = subprocess.run(
        [sys.executable, "-m", "runtui", "--home", str(tmp_path / "ws"), "--store", store_url, "gc"],
        capture_output=True,
        text=True,
        env=worker_env(),
        cwd=str(ROOT),
        timeout=WAIT_S,
    )
    assert gc.returncode == 0, gc.stderr
    assert run_id in gc.stdout
    final = store.get_run(run_id)
    assert final.status == RunStatus.FAILED and final.error is not None and final.error.startswith(LOST_ERROR)
    wait_for(lambda: not script.is_alive(), "the orphaned script to be stopped")
    integrity_ok(store_url)
    metrics_match_summaries(store_url)
    assert_prefix(store_url, run_id, "loss", later)
    assert os.path.exists(confirm)


@pytest.mark.timeout(180)
def test_an_open_tui_marks_a_killed_training_process_not_responding(tmp_path: Path) -> None:
    """No one has to run `runtui gc`: a monitor that is open sweeps lost runs by itself."""
    pytest.importorskip("pyte")
    home = tmp_path / "ws"
    proc = spawn("kill_target", {"home": str(home), "url": f"sqlite:///{home / 'runtui.db'}", "block": 1000})
    events = read_events_until(proc, lambda e: e.get("points", 0) >= 3000, timeout=WAIT_S)
    run_id = events[0]["run_id"]
    term = Terminal([sys.executable, "-m", "runtui", "--home", str(home)], worker_env(TERM="xterm-256color"))
    try:
        term.wait_for(run_id)
        term.press_until("\x1b[B", "Running")  # the run selected: its details show its status
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=WAIT_S)
        term.wait_for("NotResponding", timeout=WAIT_S)
        assert term.proc.poll() is None
    finally:
        term.close()
    assert Store(f"sqlite:///{home / 'runtui.db'}").get_run(run_id).status == RunStatus.NOT_RESPONDING
