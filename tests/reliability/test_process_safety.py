"""Process safety: a recycled pid is never signalled, another user's process is never signalled, and a cancel
never touches a process outside the run's tree.

The recycled pid is real: the kernel is asked (as root, through /proc/sys/kernel/ns_last_pid) to hand the
dead owner's pid to a new, unrelated process. Another user is `nobody`, through `setpriv`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from reliability_support import ROOT, worker_env

from runtui import Experiment, ScriptRunConfig, Workspace
from runtui.core.cancel import cancel_runs
from runtui.execution.liveness import finalize_lost, owner_alive, sweep_lost_runs
from runtui.identity import ProcessIdentity, current_host, identity_of
from runtui.status import RunStatus
from runtui.store import NewRun, Store

pytestmark = pytest.mark.reliability

WAIT_S = 60.0
NS_LAST_PID = Path("/proc/sys/kernel/ns_last_pid")


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "600"], start_new_session=True)


def _gone(ident: ProcessIdentity) -> bool:
    return not ident.is_alive()


def _wait(predicate, what: str, timeout: float = WAIT_S):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


@pytest.fixture
def recycled() -> Iterator[tuple[ProcessIdentity, subprocess.Popen[bytes]]]:
    """(identity of a dead process, a live stranger that got the same pid from the kernel)."""
    if os.geteuid() != 0 or not os.access(NS_LAST_PID, os.W_OK):
        pytest.skip("reusing a pid on purpose needs root and a writable /proc/sys/kernel/ns_last_pid")
    for _ in range(50):
        first = _sleeper()
        dead = identity_of(first.pid)
        assert dead is not None
        first.kill()
        first.wait()
        # Create times count clock ticks (10 ms): a pid reused within the same tick cannot be told apart by
        # any means (reuse in real life needs the whole pid space to wrap first). Start the stranger later.
        time.sleep(0.03)
        try:
            NS_LAST_PID.write_text(str(dead.pid - 1))
        except OSError as exc:
            pytest.skip(f"cannot set ns_last_pid here: {exc}")
        stranger = _sleeper()
        if stranger.pid == dead.pid:
            break
        stranger.kill()
        stranger.wait()
    else:
        pytest.skip("another process took the pid first every time; the machine is too busy forking")
    now = identity_of(stranger.pid)
    assert now is not None and not now.matches(dead.create_time), "same pid, a different process"
    try:
        yield dead, stranger
    finally:
        stranger.kill()
        stranger.wait()


def test_regression_create_times_one_clock_tick_apart_are_different_processes() -> None:
    # With a tolerance of 0.01 s, 1795950639.19 and 1795950639.2 (one tick apart, seen in this suite with a
    # really reused pid) compared as the same process: 0.2 - 0.19 is 0.00999... in binary floating point.
    ident = ProcessIdentity(4242, 1795950639.19)
    assert not ident.matches(1795950639.2)
    assert not ident.matches(1795950639.18)
    assert ident.matches(1795950639.19)


def test_a_recycled_pid_is_never_signalled_by_cancel_sweep_or_finalize(
    store_url: str, recycled: tuple[ProcessIdentity, subprocess.Popen[bytes]]
) -> None:
    dead, stranger = recycled
    store = Store(store_url)
    here = current_host()
    # An interactive run whose owner was the dead process, and a submitted run whose supervisor and script were.
    store.create_runs(
        [
            NewRun(
                id=name,
                experiment="recycled",
                status=RunStatus.RUNNING,
                kind=kind,
                host=here,
                owner_pid=dead.pid,
                owner_create_time=dead.create_time,
                pid=dead.pid,
                pid_create_time=dead.create_time,
            )
            for name, kind in (("interactive", "interactive"), ("submitted", "submitted"), ("swept", "submitted"))
        ]
    )
    # The owner's pid is alive again, but it is not the owner: the run is seen as lost, not as alive.
    assert owner_alive(store.get_run("interactive")) is False
    assert [r.id for r in sweep_lost_runs(store, run_ids=["swept"])] == ["swept"]
    assert store.get_run("swept").status == RunStatus.NOT_RESPONDING

    assert cancel_runs(store, "interactive")
    assert store.get_run("interactive").status == RunStatus.CANCELED  # finalized directly: nobody to ask
    final, changed = finalize_lost(store, "submitted", grace=0.5)
    assert changed and final.status == RunStatus.FAILED
    assert final.error is not None and "stopped" not in final.error  # nothing was stopped: the pid is a stranger's
    finalize_lost(store, "swept", grace=0.5)

    time.sleep(0.3)  # a signal, had one been sent, would have landed by now
    assert stranger.poll() is None, "the process that reused the pid was signalled"


NOBODY_GC = """
import sys
sys.path.insert(0, sys.argv[1])
from runtui.cli import main
sys.exit(main(["--home", sys.argv[2], "gc"]))
"""

NOBODY_SETUP = """
import sys
sys.path.insert(0, sys.argv[1])
from runtui.identity import current_host
from runtui.status import RunStatus
from runtui.store import NewRun, Store
from runtui.config import resolve
store = Store(resolve(sys.argv[2]).store_url)
dead_pid, dead_ct, pid, ct = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
store.create_runs([NewRun(id="orphan", experiment="users", status=RunStatus.RUNNING, kind="submitted",
    host=current_host(), owner_pid=dead_pid, owner_create_time=dead_ct, pid=pid, pid_create_time=ct)])
from runtui.execution.process_tree import ProcessIdentity, signal_process
import signal
try:
    signal_process(ProcessIdentity(pid, ct), signal.SIGTERM)
    print("signalled")
except PermissionError as exc:
    print(type(exc).__name__ + ": " + str(exc))
"""


def _as_nobody(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=worker_env(),
        cwd="/",
        timeout=WAIT_S,
    )


@pytest.mark.timeout(120)
def test_a_process_of_another_user_is_never_signalled() -> None:
    """`nobody` finds a lost run whose orphaned script is root's process: it must not (and cannot) stop it."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to act as another user (nobody)")
    probe = _as_nobody("import sys; sys.path.insert(0, sys.argv[1]); import runtui.store", str(ROOT))
    if probe.returncode != 0:
        pytest.skip(f"user nobody cannot run this Python with runtui: {probe.stderr.strip()[-300:]}")
    top = Path(tempfile.mkdtemp(prefix="runtui-users-"))
    bystander = _sleeper()
    try:
        os.chmod(top, 0o711)
        home = top / "nobody-ws"
        home.mkdir()
        os.chown(home, 65534, 65534)
        theirs = identity_of(bystander.pid)
        gone = subprocess.Popen(["true"])
        gone.wait()
        assert theirs is not None
        setup = _as_nobody(
            NOBODY_SETUP, str(ROOT), str(home), str(gone.pid), "1.0", str(theirs.pid), repr(theirs.create_time)
        )
        assert setup.returncode == 0, setup.stderr
        assert setup.stdout.strip() == (
            f"PermissionDeniedError: not allowed to send SIGTERM to process {theirs.pid} (it belongs to another user)"
        )
        gc = _as_nobody(NOBODY_GC, str(ROOT), str(home))
        assert "Traceback" not in gc.stderr, gc.stderr
        assert bystander.poll() is None, "root's process was signalled on behalf of nobody"
        assert theirs.is_alive()
        # The run is lost (its supervisor is gone), so it ends Failed; but nothing was stopped, and gc must not
        # say it was (it said "its script was still running and was stopped (1 processes)").
        assert gc.returncode == 0 and "orphan" in gc.stdout, gc.stdout + gc.stderr
        assert "stopped" not in gc.stdout, gc.stdout
    finally:
        bystander.kill()
        bystander.wait()
        shutil.rmtree(top, ignore_errors=True)


TREE = """\
    import os, subprocess, sys, time
    from runtui import Run
    run = Run.get_context()
    kids = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]) for _ in range(2)]
    # A grandchild that escapes into its own session (a double fork): still the run's, via the subreaper.
    subprocess.Popen([sys.executable, "-c", "import os, time\\nif os.fork() == 0:\\n    os.setsid(); time.sleep(600)"])
    open(sys.argv[1], "w").write("up")
    run.log("alive", 1.0)
    time.sleep(600)
"""


@pytest.mark.timeout(180)
def test_cancel_takes_down_the_run_tree_and_nothing_else(store_url: str, tmp_path: Path) -> None:
    bystanders = [_sleeper() for _ in range(2)]
    bystanders.append(subprocess.Popen(["sleep", "600"]))  # same session and process group as this test
    try:
        src = tmp_path / "src"
        src.mkdir()
        (src / "train.py").write_text(textwrap.dedent(TREE))
        up = tmp_path / "up"
        ws = Workspace(path=tmp_path / "ws", store_url=store_url)
        run = Experiment(ws, "cancel").submit(
            ScriptRunConfig(
                source_directory=src, arguments=[str(up)], environment_variables={"RUNTUI_CANCEL_GRACE": "2"}
            )
        )
        _wait(up.exists, "the script and its processes to start")
        rec = ws.store.get_run(run.id)
        supervisor = psutil.Process(rec.owner_pid)  # type: ignore[arg-type]
        tree = [ProcessIdentity(p.pid, p.create_time()) for p in supervisor.children(recursive=True)]
        assert len(tree) >= 4  # the script, two children, the escaped grandchild
        # The interactive side: a run in this very test process, canceled too (its owner is us).
        mine = Experiment(ws, "cancel").start_logging()

        assert run.cancel(wait=True, timeout=WAIT_S)
        assert run.get_status() == RunStatus.CANCELED.value
        for ident in tree:
            _wait(lambda ident=ident: _gone(ident), f"process {ident.pid} of the run to end")
        for b in bystanders:
            assert b.poll() is None, "a process outside the run's tree was signalled"
        assert mine.get_status() == RunStatus.RUNNING.value  # another run of the same experiment: untouched
        mine.complete()
    finally:
        for b in bystanders:
            b.kill()
            b.wait()
    os.kill(os.getpid(), 0)  # and this test process is still here, obviously, but say it
    assert signal.getsignal(signal.SIGINT) is not None
