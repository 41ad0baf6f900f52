"""Two "hosts" sharing one PostgreSQL store: boxA runs the supervisors (RUNTUI_HOST=boxA, its own run folders),
this test process is boxB (RUNTUI_HOST=boxB, other run folders, no files of boxA's runs).

- a cancel from boxB is acted on by boxA's supervisor, which takes its whole process tree down;
- boxA's log is tailed on boxB through the store (boxB has no file of it), by the SDK and by `runtui logs -f`;
- a status change reaches boxB through LISTEN/NOTIFY, with the watcher's revision poll turned off;
- a run whose supervisor stops heart-beating shows NotResponding on boxB, and Running again when it is back;
- boxB never signals a process of boxA: a cancel or gc of a silent boxA run only writes the store.

Needs RUNTUI_TEST_POSTGRES_URL (the SQLite leg of the `store_url` fixture is skipped: nothing is shared there).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from exec_helpers import WAIT_S, exists, kill_leftovers, read_identities, submit, wait_status, wait_until, write_script

from runtui import config
from runtui.config import WorkspaceConfig
from runtui.core.run import Run
from runtui.core.workspace import Workspace
from runtui.execution.liveness import sweep_lost_runs
from runtui.execution.process_tree import ProcessIdentity, signal_process
from runtui.execution.run_output import wait_for_completion
from runtui.execution.spec import OUTPUT_LOG, SUPERVISOR_LOG
from runtui.status import RunStatus
from runtui.store import Store, open_store
from runtui.watch import PgListenWatcher

pytestmark = [pytest.mark.timeout(240), pytest.mark.postgres]
S = RunStatus
ROOT = Path(__file__).resolve().parents[2]

# A script with children, that writes its tree's pids, prints, and sleeps.
TREE_SCRIPT = """
import os, subprocess, sys, time
SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]
a = subprocess.Popen(SLEEP)
b = subprocess.Popen(SLEEP, start_new_session=True)
with open(sys.argv[1] + ".tmp", "w") as fh:
    fh.write("\\n".join(map(str, [os.getpid(), a.pid, b.pid])))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
print("tree up on", os.environ.get("RUNTUI_HOST"), flush=True)
time.sleep(600)
"""

# Prints lines for a while (until a go-file appears, so the tail is still running when the test writes it).
CHATTY_SCRIPT = """
import os, sys, time
for i in range(5):
    print(f"before {i} ✓", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.02)
for i in range(5):
    print(f"after {i}", flush=True)
    time.sleep(0.05)
sys.stderr.write("a line on stderr\\n")
"""


@pytest.fixture
def shared(store_url: str) -> str:
    if store_url.startswith("sqlite"):
        pytest.skip("two hosts share a PostgreSQL store")
    return store_url


@pytest.fixture
def box_a(shared: str, tmp_path: Path) -> Iterator[WorkspaceConfig]:
    cfg = config.resolve(path=tmp_path / "boxA", store_url=shared)
    yield cfg
    kill_leftovers(open_store(shared))


@pytest.fixture
def box_b(shared: str, tmp_path: Path) -> WorkspaceConfig:
    return config.resolve(path=tmp_path / "boxB", store_url=shared)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "src"
    path.mkdir()
    return path


def submit_on_a(
    monkeypatch: pytest.MonkeyPatch, store: Store, box_a: WorkspaceConfig, src: Path, body: str, *args: str
) -> str:
    """Submit as boxA (its supervisor inherits RUNTUI_HOST=boxA); afterwards this process is boxB again."""
    monkeypatch.setenv("RUNTUI_HOST", "boxA")
    try:
        rec = submit(store, box_a, src, write_script(src, body), *args, grace_period=3.0)
    finally:
        monkeypatch.setenv("RUNTUI_HOST", "boxB")
    assert rec.host == "boxA"
    return rec.id


def supervisor_of(store: Store, run_id: str) -> ProcessIdentity:
    rec = store.get_run(run_id)
    assert rec.owner_pid is not None and rec.owner_create_time is not None
    return ProcessIdentity(rec.owner_pid, rec.owner_create_time)


def test_cancel_from_b_stops_the_tree_on_a(
    monkeypatch: pytest.MonkeyPatch, box_a: WorkspaceConfig, box_b: WorkspaceConfig, src: Path, tmp_path: Path
) -> None:
    store = open_store(box_a.store_url)
    run_id = submit_on_a(monkeypatch, store, box_a, src, TREE_SCRIPT, str(tmp_path / "pids"))
    idents = read_identities(tmp_path / "pids", 3)
    wait_status(store, run_id, S.RUNNING)

    run = Run.get(Workspace._from(box_b), run_id)
    assert run.cancel(wait=True, timeout=WAIT_S) is True  # boxB writes CancelRequested and waits

    final = store.get_run(run_id)
    assert final.status == S.CANCELED
    assert [i for i in idents if exists(i)] == []
    # boxA's supervisor did it (boxB has no folder for the run, and never signals boxA's processes).
    assert "canceling (cancel requested)" in (box_a.run_dir(run_id) / SUPERVISOR_LOG).read_text()
    assert not box_b.run_dir(run_id).exists()


def test_a_log_written_on_a_is_tailed_on_b_through_the_store(
    monkeypatch: pytest.MonkeyPatch, box_a: WorkspaceConfig, box_b: WorkspaceConfig, src: Path, tmp_path: Path
) -> None:
    store = open_store(box_a.store_url)
    go = tmp_path / "go"
    run_id = submit_on_a(monkeypatch, store, box_a, src, CHATTY_SCRIPT, str(go))
    wait_status(store, run_id, S.RUNNING)

    # `runtui logs -f` as another process of boxB, started while the run is still going
    env = dict(os.environ, RUNTUI_HOST="boxB", PYTHONPATH=str(ROOT))
    follower = subprocess.Popen(
        [sys.executable, "-m", "runtui", "--home", str(box_b.home), "--store", box_b.store_url, "logs", "-f", run_id],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        wait_until(lambda: store.log_extent(run_id), what="the first chunk in the store")
        go.write_text("go")
        out = io.StringIO()
        final = wait_for_completion(store, box_b, run_id, show_output=True, out=out, timeout=WAIT_S)
        stdout, stderr = follower.communicate(timeout=WAIT_S)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert final.status == S.COMPLETED

    on_a = (box_a.run_dir(run_id) / "logs" / OUTPUT_LOG).read_text(encoding="utf-8")
    assert "before 0 ✓" in on_a and "after 4" in on_a and "a line on stderr" in on_a
    assert not box_b.run_dir(run_id).exists()  # boxB read no file: everything came through the store
    assert out.getvalue() == on_a  # the SDK's wait_for_completion(show_output=True) on boxB
    assert follower.returncode == 0, stderr
    assert stdout == on_a  # `runtui logs -f` on boxB, followed until the run ended
    # the SDK's get_details_with_logs() on boxB
    assert Run.get(Workspace._from(box_b), run_id).get_details_with_logs()["logFiles"] == {"logs/output.log": on_a}

    # and the plain `runtui logs` of the finished run
    done = subprocess.run(
        [sys.executable, "-m", "runtui", "--home", str(box_b.home), "--store", box_b.store_url, "logs", run_id],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        text=True,
        timeout=WAIT_S,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == on_a


def test_a_status_change_on_a_reaches_b_through_notify_alone(
    monkeypatch: pytest.MonkeyPatch, box_a: WorkspaceConfig, box_b: WorkspaceConfig, src: Path, tmp_path: Path
) -> None:
    store = open_store(box_b.store_url)
    with PgListenWatcher(box_b.store_url, poll_interval=None) as watcher:  # no revision poll: NOTIFY or nothing
        sub = watcher.subscribe()
        revision = store.current_revision()
        run_id = submit_on_a(monkeypatch, store, box_a, src, TREE_SCRIPT, str(tmp_path / "pids"))
        seen: list[RunStatus] = []
        deadline = time.monotonic() + WAIT_S
        while S.RUNNING not in seen and time.monotonic() < deadline:
            assert sub.wait(WAIT_S) is True
            changes = store.changes_since(revision)
            revision = changes.revision
            seen.extend(r.status for r in changes.runs if r.id == run_id)
        assert S.RUNNING in seen  # boxA's supervisor set it; boxB woke on the notification of that commit
        assert watcher.notifications >= 1
        Run.get(Workspace._from(box_b), run_id).cancel(wait=True, timeout=WAIT_S)


def test_a_silent_supervisor_shows_not_responding_on_b_and_recovers(
    monkeypatch: pytest.MonkeyPatch, box_a: WorkspaceConfig, box_b: WorkspaceConfig, src: Path, tmp_path: Path
) -> None:
    store = open_store(box_a.store_url)
    run_id = submit_on_a(monkeypatch, store, box_a, src, TREE_SCRIPT, str(tmp_path / "pids"))
    idents = read_identities(tmp_path / "pids", 3)
    wait_status(store, run_id, S.RUNNING)
    supervisor = supervisor_of(store, run_id)

    signal_process(supervisor, signal.SIGSTOP)  # boxA's supervisor stops heart-beating (a hung or cut-off host)
    try:
        changed = wait_until(
            lambda: sweep_lost_runs(store, stale_after=1.0, run_ids=[run_id]), what="the sweep to notice"
        )
        assert [(r.id, r.status) for r in changed] == [(run_id, S.NOT_RESPONDING)]
        assert all(i.is_alive() for i in idents)  # boxB judged by the heartbeat and signalled nothing
    finally:
        signal_process(supervisor, signal.SIGCONT)
    # Back: the supervisor sees NotResponding (the sweep's write woke it) and sets Running again.
    wait_status(store, run_id, S.RUNNING)
    Run.get(Workspace._from(box_b), run_id).cancel(wait=True, timeout=WAIT_S)
    assert [i for i in idents if exists(i)] == []


def test_b_never_signals_a_process_of_a(
    monkeypatch: pytest.MonkeyPatch, box_a: WorkspaceConfig, box_b: WorkspaceConfig, src: Path, tmp_path: Path
) -> None:
    """A boxA run whose heartbeat went stale is finalized from boxB in the store only; its processes (which boxB
    can see here, both "hosts" being one machine) are left to boxA."""
    store = open_store(box_a.store_url)
    first = submit_on_a(monkeypatch, store, box_a, src, TREE_SCRIPT, str(tmp_path / "pids1"))
    second = submit_on_a(monkeypatch, store, box_a, src, TREE_SCRIPT, str(tmp_path / "pids2"))
    trees = [read_identities(tmp_path / "pids1", 3), read_identities(tmp_path / "pids2", 3)]
    supervisors = []
    for run_id in (first, second):
        wait_status(store, run_id, S.RUNNING)
        supervisors.append(supervisor_of(store, run_id))
    for sup in supervisors:
        signal_process(sup, signal.SIGSTOP)
    try:
        store.heartbeat([first, second], now=time.time() - 600)  # silent for ten minutes

        # cancel from boxB (SDK, as the TUI's `c` does): nobody would act, so it is finalized directly
        assert Run.get(Workspace._from(box_b), first).cancel(wait=False) is True
        assert store.get_run(first).status == S.CANCELED
        # gc from boxB (CLI): Failed, "owner process lost"
        gc = subprocess.run(
            [sys.executable, "-m", "runtui", "--home", str(box_b.home), "--store", box_b.store_url, "gc"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=dict(os.environ, RUNTUI_HOST="boxB", PYTHONPATH=str(ROOT)),
            text=True,
            timeout=WAIT_S,
        )
        assert gc.returncode == 0, gc.stderr
        lost = store.get_run(second)
        assert lost.status == S.FAILED and lost.error == "owner process lost"
        assert "stopped" not in (lost.error or "")

        # every process of boxA is still there: boxB wrote the store and signalled nothing
        assert all(i.is_alive() for tree in trees for i in tree)
        assert all(s.is_alive() for s in supervisors)
    finally:
        for sup in supervisors:
            signal_process(sup, signal.SIGCONT)
    # boxA's supervisor of the canceled run acts once it runs again: its tree goes.
    wait_until(lambda: not any(exists(i) for i in trees[0]), what="boxA to take the canceled run's tree down")
