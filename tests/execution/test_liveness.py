"""Lost owners: judging liveness by pid + create time on this host and by heartbeat elsewhere."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from runtui.errors import RuntuiError
from runtui.execution.liveness import LOST_ERROR, finalize_lost, owner_alive, sweep_lost_runs
from runtui.execution.process_tree import ProcessIdentity, identity_of, self_identity
from runtui.identity import current_host
from runtui.status import RunStatus
from runtui.store import NewRun, RunRecord, Store

S = RunStatus
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


@pytest.fixture
def dead() -> ProcessIdentity:
    """The identity of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(SLEEPER)
    ident = identity_of(proc.pid)
    proc.kill()
    proc.wait(timeout=30)
    assert ident is not None
    return ident


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(SLEEPER)
    yield proc
    proc.kill()
    proc.wait(timeout=30)


def _run(
    store: Store,
    run_id: str,
    owner: ProcessIdentity | None,
    status: RunStatus = S.RUNNING,
    host: str | None = None,
    kind: str = "interactive",
    pid: ProcessIdentity | None = None,
) -> RunRecord:
    [rec] = store.create_runs(
        [
            NewRun(
                id=run_id,
                experiment="live",
                status=status,
                kind=kind,
                host=current_host() if host is None else host,
                owner_pid=owner.pid if owner else None,
                owner_create_time=owner.create_time if owner else None,
                pid=pid.pid if pid else None,
                pid_create_time=pid.create_time if pid else None,
            )
        ]
    )
    return rec


def test_owner_alive_on_this_host(store: Store, dead: ProcessIdentity) -> None:
    me = self_identity()
    assert owner_alive(_run(store, "live_1_00000001", me)) is True
    assert owner_alive(_run(store, "live_1_00000002", dead)) is False
    # A pid reused by another process (here: our own pid with another start time) is not the owner.
    reused = ProcessIdentity(me.pid, me.create_time - 100.0)
    assert owner_alive(_run(store, "live_1_00000003", reused)) is False


def test_owner_alive_elsewhere_by_heartbeat(store: Store, dead: ProcessIdentity) -> None:
    rec = _run(store, "live_1_00000004", dead, host="another-box")
    assert owner_alive(rec) is True  # it heart-beat just now (at creation); its pid means nothing here
    assert owner_alive(rec, now=time.time() + 3600) is False
    assert owner_alive(rec, stale_after=1e9, now=time.time() + 3600) is True
    assert owner_alive(dataclasses.replace(rec, heartbeat_at=None)) is None


def test_sweep_marks_lost_runs_and_recovers_returning_ones(store: Store, dead: ProcessIdentity) -> None:
    me = self_identity()
    lost = _run(store, "live_1_00000010", dead)
    alive = _run(store, "live_1_00000011", me)
    queued = _run(store, "live_1_00000012", dead, status=S.QUEUED)
    remote = _run(store, "live_1_00000013", dead, host="another-box")
    done = _run(store, "live_1_00000014", dead)
    store.set_status(done.id, S.COMPLETED)
    store.heartbeat([remote.id], now=time.time() - 3600)

    changed = sweep_lost_runs(store)
    assert {r.id for r in changed} == {lost.id, remote.id}
    assert all(r.status == S.NOT_RESPONDING for r in changed)
    assert store.get_run(alive.id).status == S.RUNNING
    assert store.get_run(queued.id).status == S.QUEUED  # Queued cannot be NotResponding; finalize_lost can end it
    assert store.get_run(done.id).status == S.COMPLETED
    assert sweep_lost_runs(store) == []

    # The remote owner heart-beats again: back to Running.
    store.heartbeat([remote.id])
    [back] = sweep_lost_runs(store, run_ids=[remote.id, lost.id])
    assert back.id == remote.id and back.status == S.RUNNING


def test_finalize_lost(store: Store, dead: ProcessIdentity) -> None:
    me = self_identity()
    lost = _run(store, "live_1_00000020", dead)
    final, changed = finalize_lost(store, lost.id)
    assert changed and final.status == S.FAILED and final.error == LOST_ERROR
    assert finalize_lost(store, lost.id)[1] is False

    queued = _run(store, "live_1_00000021", None, status=S.QUEUED, host="another-box")
    store.heartbeat([queued.id], now=time.time() - 3600)
    assert finalize_lost(store, queued.id)[0].status == S.FAILED

    owned = _run(store, "live_1_00000022", me)
    with pytest.raises(RuntuiError, match="still has a live owner"):
        finalize_lost(store, owned.id)
    assert store.get_run(owned.id).status == S.RUNNING
    assert finalize_lost(store, owned.id, force=True)[0].status == S.FAILED


def test_finalize_never_signals_a_recycled_pid(
    store: Store, dead: ProcessIdentity, sleeper: subprocess.Popen[bytes]
) -> None:
    """A submitted run whose recorded script pid now belongs to an unrelated process: that process lives on."""
    live = identity_of(sleeper.pid)
    assert live is not None
    recycled = ProcessIdentity(live.pid, live.create_time - 50.0)
    rec = _run(store, "live_1_00000030", dead, kind="submitted", pid=recycled)
    final, changed = finalize_lost(store, rec.id, grace=0.5)
    assert changed and final.error == LOST_ERROR  # nothing was stopped
    with pytest.raises(subprocess.TimeoutExpired):
        sleeper.wait(timeout=0.5)
    assert live.is_alive()


def test_finalize_stops_an_orphaned_script(
    store: Store, dead: ProcessIdentity, sleeper: subprocess.Popen[bytes]
) -> None:
    live = identity_of(sleeper.pid)
    rec = _run(store, "live_1_00000031", dead, kind="submitted", pid=live)
    final, _ = finalize_lost(store, rec.id, grace=5.0)
    assert final.error is not None and final.error.startswith(LOST_ERROR) and "stopped (1 processes)" in final.error
    assert sleeper.wait(timeout=30) == -15


def test_a_pending_cancel_survives_a_lost_owner(store: Store) -> None:
    """A sweep must not turn CancelRequested into NotResponding: a recovering owner would then go back to
    Running and the cancel would be lost. The run keeps its request; cancel (or gc) finalizes it."""
    from runtui.core.cancel import cancel_runs
    from runtui.identity import current_host

    store.create_runs(
        [
            NewRun(
                id="pending",
                experiment="e",
                status=RunStatus.RUNNING,
                host=current_host(),
                owner_pid=os.getpid(),
                owner_create_time=1.0,  # not this process's create time: the recorded owner is gone
            )
        ]
    )
    store.set_status("pending", RunStatus.CANCEL_REQUESTED)
    assert sweep_lost_runs(store) == []
    assert store.get_run("pending").status == RunStatus.CANCEL_REQUESTED
    assert cancel_runs(store, "pending") is True
    assert store.get_run("pending").status == RunStatus.CANCELED
